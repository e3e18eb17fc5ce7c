; Structural facts of a C# file that usage extraction interprets (indexers/sources/code_facts.py).
(using_directive [(identifier) (qualified_name)] @path) @import

(class_declaration name: (identifier) @name (base_list (_) @base)) @class

(method_declaration name: (identifier) @name) @method

(invocation_expression function: (_) @fn arguments: (argument_list) @args) @call
(object_creation_expression type: (_) @type arguments: (argument_list)? @args) @new

(variable_declarator name: (identifier) @left [(object_creation_expression) (invocation_expression) (await_expression)] @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign

(variable_declaration type: (_) @type (variable_declarator name: (identifier) @left)) @typed
(parameter type: (_) @type name: (identifier) @left) @typed
(property_declaration type: (_) @type name: (identifier) @left) @typed
