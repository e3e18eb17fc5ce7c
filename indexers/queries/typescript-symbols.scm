; Declarations that name a scope (indexers/notes/symbols.py).
(function_declaration name: (identifier) @name) @function
(generator_function_declaration name: (identifier) @name) @function
(class_declaration name: (_) @name) @class
(abstract_class_declaration name: (_) @name) @class
(interface_declaration name: (_) @name) @interface
(enum_declaration name: (_) @name) @enum
(internal_module name: (_) @name) @namespace
(method_definition name: (_) @name) @method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression) (generator_function) (class)]) @function
(public_field_definition name: (_) @name value: [(arrow_function) (function_expression)]) @method
; a callback given to a call whose first argument names it: test('closes', () => ...), describe("pool", ...)
(call_expression
  function: [(identifier) (member_expression)] @callee
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])) @function
