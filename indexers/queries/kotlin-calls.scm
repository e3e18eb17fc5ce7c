; Structural facts of a Kotlin file that usage extraction interprets (indexers/sources/code/facts.py,
; read by indexers/sources/code/langs/kotlin.py). The grammar names few fields, so patterns go by position.
(import_header (identifier) @path (import_alias (type_identifier) @alias)?) @import

; Classes, objects and interfaces (bases are read from the node). A top-level class after some
; annotations and comments can come out of the grammar as `class Name { ... }` read as an infix
; expression with a lambda body: matched too, so its members are not lost.
(class_declaration (type_identifier) @name) @class
(object_declaration (type_identifier) @name) @class
(object_literal (delegation_specifier)) @class
((infix_expression . (simple_identifier) @kw . (simple_identifier) @name . (lambda_literal)) @class
  (#eq? @kw "class"))

(function_declaration (simple_identifier) @name) @method

(call_expression . (_) @fn . (call_suffix) @args) @call

(property_declaration (variable_declaration (simple_identifier) @left) . [(call_expression) (property_delegate) (navigation_expression)] @right) @assign
(assignment (directly_assignable_expression) @left . (_) @right) @assign

; Typed names: only gRPC stubs and HTTP clients are read from types, so the @type predicate drops every other declaration.
((variable_declaration (simple_identifier) @left . [(user_type) (nullable_type)] @type) @typed (#match? @type "Stub|Client|RestTemplate"))
((class_parameter (simple_identifier) @left . [(user_type) (nullable_type)] @type) @typed (#match? @type "Stub|Client|RestTemplate"))
((parameter (simple_identifier) @left . [(user_type) (nullable_type)] @type) @typed (#match? @type "Stub|Client|RestTemplate"))

; Annotations on functions (Spring, Retrofit, DGS, Spring GraphQL); routes and resolvers are derived in langs/kotlin.py.
(annotation [(user_type) @name (constructor_invocation (user_type) @name (value_arguments) @args)]) @annotation
