; Annotations (Spring, JAX-RS) on classes and methods; routes are derived in indexers/sources/code/http.py.
(annotation name: (_) @name arguments: (annotation_argument_list) @args) @annotation
(marker_annotation name: (_) @name) @annotation
