;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/notes/markers.py).
(line_comment) @comment
(block_comment) @comment
