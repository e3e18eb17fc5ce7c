;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/notes/markers.py).
(comment) @comment
(multiline_comment) @comment
