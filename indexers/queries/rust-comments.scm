;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/markers.py).
(line_comment) @comment
(block_comment) @comment
