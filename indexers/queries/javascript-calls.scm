; Structural facts of a JavaScript/TypeScript file (also used for the typescript and tsx grammars, so
; only nodes the three grammars share) that usage extraction interprets (indexers/sources/code/facts.py).
(import_statement
  (import_clause (named_imports (import_specifier name: (identifier) @name alias: (identifier)? @alias)))
  source: (string) @path) @import
(import_statement (import_clause (namespace_import (identifier) @alias)) source: (string) @path) @import
(import_statement (import_clause . (identifier) @alias) source: (string) @path) @import
(variable_declarator
  name: (identifier) @alias
  value: (call_expression function: (identifier) @req arguments: (arguments . (string) @path))
  (#eq? @req "require")) @import
(variable_declarator
  name: (object_pattern [(shorthand_property_identifier_pattern) @name (pair_pattern key: (_) @name value: (identifier) @alias)])
  value: (call_expression function: (identifier) @req arguments: (arguments . (string) @path))
  (#eq? @req "require")) @import

(method_definition name: (_) @name) @method

(call_expression function: (_) @fn arguments: (_) @args) @call
(new_expression constructor: (_) @type arguments: (arguments)? @args) @new

(variable_declarator name: (identifier) @left value: (_) @right) @assign
(assignment_expression left: (_) @left right: (_) @right) @assign

(pair key: (_) @key value: (object) @value) @map
(variable_declarator name: (identifier) @key value: (object) @value) @map


(for_in_statement left: (identifier) @left right: (_) @right) @loop

; Decorators (NestJS, routing-controllers, tsoa): routes are derived in indexers/sources/code/http.py.
(decorator (call_expression function: (identifier) @name arguments: (arguments) @args)) @annotation
