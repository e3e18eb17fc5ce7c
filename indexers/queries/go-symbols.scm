; Declarations that name a scope (indexers/notes/symbols.py). A method's @receiver gives its type.
(function_declaration name: (identifier) @name) @function
(method_declaration receiver: (parameter_list) @receiver name: (field_identifier) @name) @method
(type_declaration (type_spec name: (type_identifier) @name)) @type
