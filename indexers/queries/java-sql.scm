; String literals that may hold SQL (filtered and parsed in indexers/sources/code.py).
(string_literal) @string
