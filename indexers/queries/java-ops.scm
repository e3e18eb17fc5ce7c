; Operational facts of a Java file (indexers/sources/ops/code): method calls, annotated methods and
; classes (route mappings and their guards), string constants, imports.
(method_invocation name: (identifier) @name arguments: (argument_list) @args) @call
(method_declaration (modifiers) name: (identifier) @name) @method
(class_declaration name: (identifier) @name) @class
(field_declaration declarator: (variable_declarator name: (identifier) @left value: (string_literal) @right)) @const
(import_declaration (_) @name) @import
