; Structural facts of a Java file that usage extraction interprets (indexers/sources/code/facts.py).
(import_declaration (scoped_identifier) @path) @import

(class_declaration name: (identifier) @name superclass: (superclass (_) @base)) @class

(method_declaration name: (identifier) @name) @method

(method_invocation object: (_)? @obj name: (identifier) @fname arguments: (argument_list) @args) @call
(object_creation_expression type: (_) @type arguments: (argument_list) @args) @new

(variable_declarator name: (identifier) @left value: (_) @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign

; Typed names: only gRPC stubs, HTTP clients and generated API clients are read from types, so the @type predicate drops every other declaration.
((field_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @left)) @typed (#match? @type "Stub|RestTemplate|Client|Api|API"))
((local_variable_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @left)) @typed (#match? @type "Stub|RestTemplate|Client|Api|API"))
((formal_parameter type: (_) @type name: (identifier) @left) @typed (#match? @type "Stub|RestTemplate|Client|Api|API"))
