; String literals that may hold SQL (filtered and parsed in indexers/sources/code.py).
[(string_literal) (verbatim_string_literal) (raw_string_literal) (interpolated_string_expression)] @string
