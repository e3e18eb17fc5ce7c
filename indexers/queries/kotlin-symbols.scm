; Declarations that name a scope (indexers/notes/symbols.py). This grammar has no field names.
(class_declaration (type_identifier) @name) @class
(object_declaration (type_identifier) @name) @class
(function_declaration (simple_identifier) @name) @function
