; Declarations that name a scope (indexers/notes/symbols.py).
(function_declaration name: (identifier) @name) @function
(generator_function_declaration name: (identifier) @name) @function
(class_declaration name: (_) @name) @class
(method_definition name: (_) @name) @method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression) (generator_function) (class)]) @function
(field_definition property: (_) @name value: [(arrow_function) (function_expression)]) @method
