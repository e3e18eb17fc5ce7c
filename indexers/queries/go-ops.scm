; Operational facts of a Go file (indexers/sources/ops/code): calls, string constants, imports.
(call_expression function: (_) @fn arguments: (argument_list) @args) @call
(const_spec name: (identifier) @left value: (expression_list . (interpreted_string_literal) @right)) @const
(var_spec name: (identifier) @left value: (expression_list . (interpreted_string_literal) @right)) @const
(import_spec path: (_) @name) @import
