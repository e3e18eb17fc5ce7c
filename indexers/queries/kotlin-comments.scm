;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/notes/markers.py).
(line_comment) @comment
(multiline_comment) @comment
