; TypeScript-only structural facts: typed class fields and parameters, and field initialisers.
(public_field_definition name: (_) @left type: (type_annotation (_) @type)) @typed
(public_field_definition name: (_) @left value: (_) @right) @assign
(required_parameter pattern: (identifier) @left type: (type_annotation (_) @type)) @typed
(variable_declarator name: (identifier) @left type: (type_annotation (_) @type)) @typed
