; Structural facts of a Rust file that usage extraction interprets (indexers/sources/code/facts.py,
; read by indexers/sources/code/langs/rust.py). `use` trees are expanded in Python.
(use_declaration argument: (_) @path) @import
; `mod pb { tonic::include_proto!("shop.v1"); }`: the module that holds a proto package's generated code.
((mod_item
  name: (identifier) @alias
  body: (declaration_list (macro_invocation macro: (_) @macro (token_tree . (string_literal) @path))))
  @import (#match? @macro "include_proto$"))

; Trait implementations (a tonic server implements the generated service trait) and `impl T` blocks.
(impl_item trait: (_) @base type: (_) @name) @class
(impl_item !trait type: (_) @name) @class

(function_item name: (identifier) @name) @method

(call_expression function: (_) @fn arguments: (arguments) @args) @call
; Struct literals (a generated message built field by field: `pb::GetCartRequest { user_id }`).
(struct_expression name: (_) @type body: (field_initializer_list) @args) @new

(let_declaration pattern: (_) @left value: (_) @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign
(field_initializer field: (field_identifier) @left value: (_) @right) @assign

; Typed names: only gRPC and HTTP clients are read from types (a tonic client is generic over its `Channel`),
; so the @type predicate drops every other declaration.
((let_declaration pattern: (identifier) @left type: (_) @type) @typed (#match? @type "Client|<Channel>"))
((parameter pattern: (identifier) @left type: (_) @type) @typed (#match? @type "Client|<Channel>"))
((field_declaration name: (field_identifier) @left type: (_) @type) @typed (#match? @type "Client|<Channel>"))

; Attributes (actix-web/Rocket route macros, async-graphql/juniper objects), read in langs/rust.py.
(attribute_item (attribute [(identifier) (scoped_identifier)] @name arguments: (token_tree)? @args)) @annotation
