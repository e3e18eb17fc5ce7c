; String literals that may hold SQL (filtered and parsed in indexers/sources/code.py).
[(interpreted_string_literal) (raw_string_literal)] @string
