; Structural facts of a PHP file that usage extraction interprets (indexers/sources/code/facts.py,
; read by indexers/sources/code/langs/php.py).
(namespace_use_declaration (namespace_use_clause . [(qualified_name) (name)] @path alias: (name)? @alias)) @import
; `use A\B\{C, D as E};`: the prefix arrives as `from` (joined with a dot, read back in langs/php.py).
(namespace_use_declaration (namespace_name) @from
  body: (namespace_use_group (namespace_use_clause . [(qualified_name) (name)] @path alias: (name)? @alias))) @import

(class_declaration name: (name) @name) @class

(method_declaration name: (name) @name) @method
(function_definition name: (name) @name) @method

(member_call_expression object: (_) @obj name: (_) @fname arguments: (arguments) @args) @call
(nullsafe_member_call_expression object: (_) @obj name: (_) @fname arguments: (arguments) @args) @call
(scoped_call_expression scope: (_) @obj name: (_) @fname arguments: (arguments) @args) @call
(function_call_expression function: (_) @fname arguments: (arguments) @args) @call

(object_creation_expression [(name) (qualified_name)] @type (arguments)? @args) @new

(assignment_expression left: [(variable_name) (member_access_expression)] @left right: (_) @right) @assign
(property_element name: (variable_name (name) @left) default_value: (_) @right) @assign

; Typed names: only gRPC and HTTP clients are read from types, so the @type predicate drops every other declaration.
; A property (declared or promoted) is read as `$this->name`: its key is the bare name.
((property_promotion_parameter type: (_) @type name: (variable_name (name) @left)) @typed (#match? @type "Client|App"))
((simple_parameter type: (_) @type name: (variable_name) @left) @typed (#match? @type "Client|App|RouteCollector"))
((property_declaration type: (_) @type (property_element name: (variable_name (name) @left))) @typed (#match? @type "Client|App"))

; Attributes (Symfony #[Route]) on classes and methods; routes are derived in langs/php.py.
(attribute [(name) (qualified_name)] @name parameters: (arguments)? @args) @annotation
