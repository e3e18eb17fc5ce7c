; String literals that may hold SQL (read and parsed in indexers/sources/code/sql.py). The predicate
; keeps only literals whose source text could spell a statement keyword (or holds an escape or a
; non-ASCII character, which could decode to one), so most literals never reach Python.
([(string_literal) (raw_string_literal)] @string
  (#match? @string "(?i)select|insert|update|delete|with|[^ -~\\s]|\\\\"))
