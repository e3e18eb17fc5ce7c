; Structural facts of a Go file that usage extraction interprets (indexers/sources/code/facts.py):
; imports, structs and their embedded types, methods, calls, assignments, typed names, literals.
(import_spec name: (_)? @alias path: (interpreted_string_literal) @path) @import

(type_spec
  name: (type_identifier) @name
  type: (struct_type (field_declaration_list (field_declaration !name type: (_) @base)))) @class

(method_declaration
  receiver: (parameter_list (parameter_declaration type: [(pointer_type (type_identifier) @owner) (type_identifier) @owner]))
  name: (field_identifier) @name) @method

(call_expression function: (_) @fn arguments: (argument_list) @args) @call

(short_var_declaration left: (expression_list . (_) @left) right: (expression_list . (_) @right)) @assign
(assignment_statement left: (expression_list . (_) @left) right: (expression_list . (_) @right)) @assign
(var_spec name: (identifier) @left value: (expression_list . (_) @right)) @assign
(keyed_element key: (literal_element (identifier) @left) value: (literal_element (_) @right)) @assign

; Typed names: the type names a package member (pkg.Client, pkg.Message), so the @type predicate drops every other declaration.
((field_declaration name: (field_identifier) @left type: (_) @type) @typed (#match? @type "\\."))
((parameter_declaration name: (identifier) @left type: (_) @type) @typed (#match? @type "\\."))
((var_spec name: (identifier) @left type: (_) @type) @typed (#match? @type "\\."))

(composite_literal type: (_) @type body: (literal_value) @body) @new

(selector_expression operand: (identifier) @obj field: (field_identifier) @field) @select

; Result types of functions and methods (generated messages a handler returns), and `range` loop values.
(method_declaration result: (_) @type) @sig
(function_declaration result: (_) @type) @sig
(range_clause left: (expression_list . (_) . (identifier) @left) right: (_) @right) @loop
