; Structural facts of a C# file that usage extraction interprets (indexers/sources/code/facts.py).
(using_directive !name [(identifier) (qualified_name)] @path) @import
(using_directive name: (identifier) @alias [(identifier) (qualified_name)] @path) @import

(class_declaration name: (identifier) @name (base_list (_) @base)) @class

(method_declaration name: (identifier) @name) @method

(invocation_expression function: (_) @fn arguments: (argument_list) @args) @call
(object_creation_expression type: (_) @type arguments: (argument_list)? @args) @new

(variable_declarator name: (identifier) @left [(object_creation_expression) (invocation_expression) (await_expression)] @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign

; Typed names: only gRPC and HTTP clients are read from types, so the @type predicate drops every other declaration.
((variable_declaration type: (_) @type (variable_declarator name: (identifier) @left)) @typed (#match? @type "Client|Api|API"))
((parameter type: (_) @type name: (identifier) @left) @typed (#match? @type "Client|Api|API"))
((property_declaration type: (_) @type name: (identifier) @left) @typed (#match? @type "Client|Api|API"))
