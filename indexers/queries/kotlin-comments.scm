;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/markers.py).
(line_comment) @comment
(multiline_comment) @comment
