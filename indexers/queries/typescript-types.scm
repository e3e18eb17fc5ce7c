; TypeScript-only structural facts: typed class fields and parameters, and field initialisers.
; Typed names: only gRPC and HTTP clients are read from types, so the @type predicate drops every other declaration.
((public_field_definition name: (_) @left type: (type_annotation (_) @type)) @typed (#match? @type "Client|AxiosInstance|Api|API"))
(public_field_definition name: (_) @left value: (_) @right) @assign
((required_parameter pattern: (identifier) @left type: (type_annotation (_) @type)) @typed (#match? @type "Client|AxiosInstance|Api|API"))
((variable_declarator name: (identifier) @left type: (type_annotation (_) @type)) @typed (#match? @type "Client|AxiosInstance|Api|API"))
