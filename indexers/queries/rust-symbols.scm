; Declarations that name a scope (indexers/notes/symbols.py). An impl block is named by its type.
(function_item name: (identifier) @name) @function
(impl_item type: (_) @name) @impl
(trait_item name: (type_identifier) @name) @trait
(struct_item name: (type_identifier) @name) @struct
(enum_item name: (type_identifier) @name) @enum
(mod_item name: (identifier) @name) @module
