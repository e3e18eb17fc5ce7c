; String literals that may hold SQL (shared by the javascript, typescript and tsx grammars).
[(string) (template_string)] @string
