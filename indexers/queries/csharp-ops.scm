; Operational facts of a C# file (indexers/sources/ops/code): invocations, attributed methods and classes
; (controller actions and their [Authorize]), string constants, usings.
(invocation_expression function: (_) @fn arguments: (argument_list) @args) @call
(method_declaration name: (identifier) @name) @method
(class_declaration name: (identifier) @name) @class
(variable_declarator name: (identifier) @left (string_literal) @right) @const
(using_directive (_) @name) @import
