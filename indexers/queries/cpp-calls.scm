; Structural facts of a C++ file that usage extraction interprets (indexers/sources/code/facts.py,
; read by indexers/sources/code/langs/cpp.py).
(preproc_include path: (_) @path) @import
(using_declaration (_) @path) @import
(namespace_alias_definition name: (_) @alias (_) @path) @import

; Classes and structs with their base clause (bases are read from it).
(class_specifier name: (_) @name (base_class_clause) @base) @class
(struct_specifier name: (_) @name (base_class_clause) @base) @class

; Member functions defined or declared in a class body, and definitions outside it (`Cls::Method`).
(function_definition declarator: (function_declarator declarator: (_) @name)) @method
(field_declaration declarator: (function_declarator declarator: (_) @name)) @method

(call_expression function: (_) @fn arguments: (argument_list) @args) @call

(init_declarator declarator: (_) @left value: (_) @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign
(field_initializer (field_identifier) @left (argument_list (_) @right)) @assign
(field_initializer (field_identifier) @left (initializer_list (_) @right)) @assign

; Typed names: only gRPC stubs and HTTP clients and servers are read from types, so the @type predicate
; drops every other declaration.
((field_declaration type: (_) @type declarator: [(field_identifier) @left (pointer_declarator declarator: (field_identifier) @left)]) @typed
  (#match? @type "Stub|Client|Server"))
((declaration type: (_) @type declarator: [(identifier) @left (init_declarator declarator: (identifier) @left) (pointer_declarator declarator: (identifier) @left) (function_declarator declarator: (identifier) @left)]) @typed
  (#match? @type "Stub|Client|Server"))
((parameter_declaration type: (_) @type declarator: [(identifier) @left (pointer_declarator declarator: (identifier) @left) (reference_declarator (identifier) @left)]) @typed
  (#match? @type "Stub|Client|Server"))
