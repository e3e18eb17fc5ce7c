;; Comment nodes, for TODO/FIXME/HACK markers (indexers/sources/markers.py).
(comment) @comment
