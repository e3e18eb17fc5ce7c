; Structural facts of a Python file that usage extraction interprets (indexers/sources/code/facts.py).
(import_statement name: [(dotted_name) @path (aliased_import name: (dotted_name) @path alias: (identifier) @alias)]) @import
(import_from_statement
  module_name: (_) @from
  name: [(dotted_name) @path (aliased_import name: (dotted_name) @path alias: (identifier) @alias)]) @import

(class_definition name: (identifier) @name superclasses: (argument_list (_) @base)) @class

(function_definition name: (identifier) @name) @method

(call function: (_) @fn arguments: (argument_list) @args) @call

(assignment left: (_) @left right: (_) @right) @assign
; Typed names: only gRPC stub types are read from annotations, so the @type predicate drops every other declaration.
((assignment left: (_) @left type: (_) @type) @typed (#match? @type "Stub"))
((typed_parameter (identifier) @left type: (_) @type) @typed (#match? @type "Stub"))
; Signature annotations that may name a generated message (`req: cart_pb2.GetCartRequest`, `-> Cart`).
((typed_parameter (identifier) @left type: (type) @type) @sig (#match? @type "^([A-Za-z_][\\w.]*_pb2\\.)?[A-Z]\\w*$"))
((typed_default_parameter name: (identifier) @left type: (type) @type) @sig (#match? @type "^([A-Za-z_][\\w.]*_pb2\\.)?[A-Z]\\w*$"))
((function_definition return_type: (type) @type) @sig (#match? @type "^([A-Za-z_][\\w.]*_pb2\\.)?[A-Z]\\w*$"))
(for_statement left: (identifier) @left right: (_) @right) @loop
(for_in_clause left: (identifier) @left right: (_) @right) @loop

(attribute object: (identifier) @obj attribute: (identifier) @field) @select
