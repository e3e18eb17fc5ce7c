; Operational facts of a JavaScript/TypeScript file (indexers/sources/ops/code; javascript, typescript and
; tsx grammars): calls and constructions, string constants, imports.
(call_expression function: (_) @fn arguments: (arguments) @args) @call
(new_expression constructor: (_) @fn arguments: (arguments) @args) @call
(variable_declarator name: (identifier) @left value: (string) @right) @const
(import_statement source: (string) @name) @import
(call_expression function: (identifier) @req arguments: (arguments . (string) @name) (#eq? @req "require")) @import
