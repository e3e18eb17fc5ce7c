; Declarations that name a scope (indexers/notes/symbols.py: the symbol a team note is anchored to).
; The capture on the declaration names its kind; @name its name.
(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class
