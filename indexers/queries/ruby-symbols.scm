; Declarations that name a scope (indexers/notes/symbols.py).
(method name: (_) @name) @method
(singleton_method name: (_) @name) @method
(class name: (_) @name) @class
(module name: (_) @name) @module
