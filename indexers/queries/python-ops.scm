; Operational facts of a Python file (indexers/sources/ops/code): calls (metrics, spans, flags, routes),
; decorated functions (route decorators and their guards), module-level string constants, imports.
(call function: (_) @fn arguments: (argument_list) @args) @call
(decorated_definition definition: (function_definition)) @decorated
(module (assignment left: (identifier) @left right: (string) @right) @const)
(class_definition name: (identifier) @name body: (block (assignment left: (identifier) @left right: (_) @right))) @field
(import_from_statement module_name: (_) @from name: [(dotted_name) @name (aliased_import name: (dotted_name) @name alias: (identifier) @alias)]) @import
(import_statement name: [(dotted_name) @name (aliased_import name: (dotted_name) @name alias: (identifier) @alias)]) @import
