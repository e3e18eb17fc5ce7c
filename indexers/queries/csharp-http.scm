; Attributes (ASP.NET routing) on classes and methods; routes are derived in indexers/sources/code/http.py.
(attribute name: (_) @name (attribute_argument_list)? @args) @annotation
