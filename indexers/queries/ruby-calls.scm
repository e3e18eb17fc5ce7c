; Structural facts of a Ruby file that usage extraction interprets (indexers/sources/code/facts.py,
; read by indexers/sources/code/langs/ruby.py).
((call method: (identifier) @req arguments: (argument_list . (string) @path)) @import
  (#match? @req "^(require|require_relative)$"))

(class name: (_) @name superclass: (superclass (_) @base)) @class
(class name: (_) @name !superclass) @class

(method name: (_) @name) @method
(singleton_method name: (_) @name) @method

(call receiver: (_)? @obj method: (_) @fname arguments: (argument_list)? @args) @call

(assignment left: [(identifier) (instance_variable) (class_variable) (constant)] @left right: (_) @right) @assign
(operator_assignment left: [(identifier) (instance_variable) (class_variable)] @left right: (_) @right) @assign
