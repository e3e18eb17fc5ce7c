"""Values of names in URL expressions, within one file: what `uri` in `client.GetAsync(uri)` is.

A URL is rarely a literal at the call: it is a local variable assigned once (`var uri = $"{Base}items/{id}"`),
a constant or field (`private const string ApiUrlBase = "api/catalog"`, `this.baseUrl`, `self.url`), a
module-level constant, or the return value of a small helper in the same file
(`GetAllCatalogItemsUri(remoteServiceBaseUrl, page)`, whose parameters take the call's arguments). `Values`
reads the file's declarations once (one walk of the tree, only for files whose HTTP calls need it) and
resolves such names into the string template `strings.template` builds, `DYN` for what only run time knows.
A name assigned different values in its scope, or updated in place (`+=`), stays dynamic.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from indexers import ts
from indexers.sources.code.strings import DYN, MAX_DEPTH, template

_FUNCS = frozenset({"function_declaration", "method_declaration", "func_literal", "function_definition", "lambda",
                    "method_definition", "arrow_function", "function_expression", "function", "constructor_declaration",
                    "local_function_statement", "lambda_expression", "generator_function_declaration"})
_CLASSES = frozenset({"class_declaration", "class_definition", "class", "record_declaration", "struct_declaration",
                      "interface_declaration", "object_declaration"})
_SELF = frozenset({"this", "self", "base"})
_MEMBER = frozenset({"member_expression", "attribute", "field_access", "member_access_expression", "selector_expression"})
_DECLS = frozenset({"variable_declarator", "public_field_definition", "field_definition", "assignment_expression",
                    "assignment", "short_var_declaration", "assignment_statement", "var_spec", "const_spec",
                    "property_declaration", "augmented_assignment"})
_RETURNS = frozenset({"return_statement", "arrow_expression_clause"})
MAX_NODES = 400_000


class _Decl:
    __slots__ = ("fn", "cls", "member", "value", "start", "dynamic")

    def __init__(self, fn: Any, cls: Any, member: bool, value: Any, start: int, dynamic: bool):
        self.fn, self.cls, self.member, self.value, self.start, self.dynamic = fn, cls, member, value, start, dynamic


class _Func:
    __slots__ = ("node", "cls", "params", "returns")

    def __init__(self, node: Any, cls: Any, params: list[str], returns: list[Any]):
        self.node, self.cls, self.params, self.returns = node, cls, params, returns


def _scope(node: Any) -> tuple[Any, Any]:
    """(innermost function, innermost class) enclosing a node, strictly."""
    fn = cls = None
    p = node.parent
    while p is not None:
        if fn is None and p.type in _FUNCS:
            fn = p
        if p.type in _CLASSES:
            cls = p
            break
        p = p.parent
    return fn, cls


def _name_of(left: Any) -> tuple[str, bool] | None:
    """(name, is a member of this/self) of an assigned expression, or None for other targets."""
    if left is None:
        return None
    if left.type in ("identifier", "property_identifier", "field_identifier"):
        return ts.text(left), False
    if left.type in _MEMBER:
        obj = left.child_by_field_name("object") or left.child_by_field_name("expression") or \
            left.child_by_field_name("operand")
        name = left.child_by_field_name("property") or left.child_by_field_name("attribute") or \
            left.child_by_field_name("field") or left.child_by_field_name("name")
        if obj is not None and name is not None and ts.text(obj) in _SELF:
            return ts.text(name), True
    return None


def _pairs(node: Any) -> list[tuple[Any, Any, bool]]:
    """(target, value, updated in place) pairs a declaration or assignment node binds."""
    t = node.type
    if t in ("short_var_declaration", "assignment_statement"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        lefts = left.named_children if left is not None else []
        rights = right.named_children if right is not None else []
        op = ts.text(node.child_by_field_name("operator")) if node.child_by_field_name("operator") else "="
        return [(lv, rv, op not in ("=", ":=")) for lv, rv in zip(lefts, rights, strict=False)]
    if t in ("var_spec", "const_spec"):
        names = [c for c in node.children_by_field_name("name")]
        value = node.child_by_field_name("value")
        vals = value.named_children if value is not None else []
        return [(n, v, False) for n, v in zip(names, vals, strict=False)]
    if t in ("assignment_expression", "assignment", "augmented_assignment"):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        op = node.child_by_field_name("operator")
        optext = ts.text(op) if op is not None else next((ts.text(c) for c in node.children if not c.is_named), "=")
        return [(left, right, t == "augmented_assignment" or optext != "=")]
    name = node.child_by_field_name("name") or node.child_by_field_name("property")
    value = node.child_by_field_name("value")
    if value is None and t == "variable_declarator" and name is not None:  # C#: the value follows the name
        after = [c for c in node.named_children if c.start_byte > name.end_byte]
        value = after[-1] if after else None
    if value is not None and value.type == "arrow_expression_clause" and value.named_child_count:
        value = value.named_children[0]
    return [(name, value, False)] if name is not None and value is not None else []


def _params(fn: Any) -> list[str]:
    plist = fn.child_by_field_name("parameters")
    out: list[str] = []
    for p in plist.named_children if plist is not None else []:
        if p.type in ("identifier",):
            out.append(ts.text(p))
            continue
        n = p.child_by_field_name("name") or p.child_by_field_name("pattern")
        if n is None and p.named_child_count:
            n = next((c for c in p.named_children if c.type == "identifier"), None)
        if n is not None:
            out.append(ts.text(n))
    return [p for p in out if p not in ("self", "cls")]


class Values:
    """Declarations and small functions of one file, read on first use."""

    def __init__(self, root: Any, family: str):
        self.root = root
        self.family = family
        self._decls: dict[str, list[_Decl]] | None = None
        self._funcs: dict[str, list[_Func]] = defaultdict(list)
        self._busy: set[int] = set()

    def _read(self) -> dict[str, list[_Decl]]:
        if self._decls is not None:
            return self._decls
        decls: dict[str, list[_Decl]] = defaultdict(list)
        stack = [self.root]
        seen = 0
        while stack and seen < MAX_NODES:
            node = stack.pop()
            seen += 1
            t = node.type
            if t in _DECLS:
                for left, value, dynamic in _pairs(node):
                    named = _name_of(left)
                    if named is None:
                        continue
                    fn, cls = _scope(node)
                    member = named[1] or (fn is None and cls is not None)
                    decls[named[0]].append(_Decl(None if member else fn, cls, member, value, node.start_byte, dynamic))
            elif t in _FUNCS and node.child_by_field_name("name") is not None:
                returns = self._returns(node)
                if returns:
                    _fn, cls = _scope(node)
                    self._funcs[ts.text(node.child_by_field_name("name"))].append(
                        _Func(node, cls, _params(node), returns))
            stack.extend(reversed(node.named_children))
        self._decls = decls
        return decls

    @staticmethod
    def _returns(fn: Any) -> list[Any]:
        body = fn.child_by_field_name("body")
        if body is not None and body.type not in ("block", "statement_block", "compound_statement"):
            return [body] if body.type != "arrow_expression_clause" else body.named_children[:1]
        out: list[Any] = []
        arrow = next((c for c in fn.named_children if c.type == "arrow_expression_clause"), None)
        if arrow is not None and arrow.named_child_count:
            return [arrow.named_children[0]]
        stack = list(body.named_children) if body is not None else []
        while stack and len(out) < 8:
            n = stack.pop()
            if n.type in _FUNCS:
                continue
            if n.type in _RETURNS and n.named_child_count:
                out.append(n.named_children[0])
                continue
            stack.extend(n.named_children)
        return out

    # -- templates ----------------------------------------------------------------------------------------

    def template(self, node: Any, env: dict[str, str] | None = None, depth: int = 0) -> str:
        """`strings.template`, with names resolved to the values this file gives them."""
        return template(node, depth, lambda n, d: self._resolve(n, env or {}, d))

    def _resolve(self, node: Any, env: dict[str, str], depth: int) -> str | None:
        t = node.type
        if depth > MAX_DEPTH:
            return DYN
        if t in ("identifier", "simple_identifier") or t in _MEMBER:
            return self._name(node, env, depth)
        if t in ("invocation_expression", "call_expression", "call", "method_invocation"):
            return self._call(node, env, depth)
        if t in ("object_creation_expression", "new_expression"):
            return self._new(node, env, depth)
        return None

    def _name(self, node: Any, env: dict[str, str], depth: int) -> str | None:
        if node.type in _MEMBER:
            named = _name_of(node)
            static = None
            if named is None:  # `Constants.Base`: a static member of a class in this file
                obj = node.child_by_field_name("object") or node.child_by_field_name("expression")
                prop = node.child_by_field_name("property") or node.child_by_field_name("name") or \
                    node.child_by_field_name("field") or node.child_by_field_name("attribute")
                if obj is None or prop is None or obj.type != "identifier" or not ts.text(obj)[:1].isupper():
                    return None
                static = ts.text(obj)
                named = (ts.text(prop), True)
            name, member = named
        else:
            name, member, static = ts.text(node), False, None
        if not member and name in env:
            return env[name]
        pool = self._pool(node, name, member, static)
        if not pool or any(d.dynamic for d in pool):
            return None
        key = id(pool[0].value)
        if key in self._busy:
            return DYN
        self._busy.add(key)
        try:
            got = {self.template(d.value, None, depth + 1) for d in pool}
        finally:
            self._busy.discard(key)
        return got.pop() if len(got) == 1 else None

    def _pool(self, node: Any, name: str, member: bool, static: str | None) -> list[_Decl]:
        """The declarations a use of `name` at `node` can see: the innermost function's (then enclosing
        functions'), else the class's fields, else the file's top level; a static `Class.Name`: that class's."""
        decls = self._read().get(name)
        if not decls:
            return []
        fn, cls = _scope(node)
        pool: list[_Decl] = []
        if static is not None:
            pool = [d for d in decls if d.member and d.cls is not None and
                    ts.text(d.cls.child_by_field_name("name")) == static]
        elif member:
            pool = [d for d in decls if d.member and (d.cls is None or cls is None or d.cls.id == cls.id)]
        else:
            scope = fn
            while scope is not None and not pool:
                pool = [d for d in decls if d.fn is not None and d.fn.id == scope.id and not d.member]
                scope = _scope(scope)[0]
            if not pool:
                pool = [d for d in decls if d.member and (d.cls is None or cls is None or d.cls.id == cls.id)]
            if not pool:
                pool = [d for d in decls if d.fn is None and d.cls is None]
        return pool

    def _call(self, node: Any, env: dict[str, str], depth: int) -> str | None:
        fn = node.child_by_field_name("function")
        name_node = node.child_by_field_name("name")
        callee = ts.text(fn) if fn is not None else ts.text(name_node)
        args_node = node.child_by_field_name("arguments")
        args = [a.named_children[-1] if a.type == "argument" and a.named_child_count else a
                for a in (args_node.named_children if args_node is not None else []) if a.type != "comment"]
        last = re.sub(r"<.*>$", "", callee.rsplit(".", 1)[-1])
        if _joins(callee, last) and args:
            return join_urls([self.template(a, env, depth + 1) for a in args])
        if last in ("ToString", "toString", "String", "str") and fn is not None:
            obj = fn.child_by_field_name("expression") or fn.child_by_field_name("object")
            if obj is not None:
                return self.template(obj, env, depth + 1)
        if "." in callee and callee.split(".", 1)[0] not in _SELF:
            return None
        funcs = [f for f in self._funcs.get(last, []) if len(f.params) >= len(args)] if self._read() is not None else []
        if len(funcs) != 1 or funcs[0].node.id in self._busy:
            return None
        f = funcs[0]
        inner = {p: self.template(a, env, depth + 1) for p, a in zip(f.params, args, strict=False)}
        self._busy.add(f.node.id)
        try:
            got = {self.template(r, inner, depth + 1) for r in f.returns}
        finally:
            self._busy.discard(f.node.id)
        return got.pop() if len(got) == 1 else None

    def _new(self, node: Any, env: dict[str, str], depth: int) -> str | None:
        """`new Uri(base, relative)` / `new URL(path, base)`: the joined URL; `new Uri(x)`: x."""
        typ = node.child_by_field_name("type") or node.child_by_field_name("constructor")
        name = ts.text(typ).rsplit(".", 1)[-1] if typ is not None else ""
        args_node = node.child_by_field_name("arguments")
        args = [a.named_children[-1] if a.type == "argument" and a.named_child_count else a
                for a in (args_node.named_children if args_node is not None else [])]
        if name == "Uri" and args:  # new Uri(base, relative); new Uri(x, UriKind.Relative) is x
            if len(args) >= 2 and not ts.text(args[1]).startswith("UriKind"):
                return join_urls([self.template(a, env, depth + 1) for a in args[:2]])
            return self.template(args[0], env, depth + 1)
        if name == "URL" and args:
            path = self.template(args[0], env, depth + 1)
            if len(args) >= 2 and not path.startswith("/") and "://" not in path:
                return join_urls([self.template(args[1], env, depth + 1), path])
            return path
        return None

    def base_hint(self, node: Any, depth: int = 0) -> str:
        """The text naming where a URL goes, when its start is not a literal: the expression at its head
        (`_settings.CatalogEndpointBase`, `process.env.USERS_URL`), or the host of an absolute URL."""
        if node is None or depth > 8:
            return ""
        t = node.type
        lit = template(node)
        m = re.match(r"^[a-z][\w+.-]*://([^/?#]+)", lit)
        if m and DYN not in m.group(1):
            return m.group(1)
        if "string" in t or "template" in t:
            first = next((c for c in node.named_children if c.type not in ("string_start", "interpolation_start")), None)
            if first is not None and first.type in ("interpolation", "template_substitution"):
                inner = [c for c in first.named_children if c.type not in ("interpolation_brace",)]
                return self.base_hint(inner[0], depth + 1) if inner else ""
            return ""
        if t in ("binary_expression", "binary_operator"):
            return self.base_hint(node.child_by_field_name("left"), depth + 1)
        if t in ("invocation_expression", "call_expression", "call", "method_invocation", "object_creation_expression",
                 "new_expression"):
            args_node = node.child_by_field_name("arguments")
            args = [a.named_children[-1] if a.type == "argument" and a.named_child_count else a
                    for a in (args_node.named_children if args_node is not None else [])]
            return self.base_hint(args[0], depth + 1) if args else ""
        if t in ("identifier",) or t in _MEMBER:
            named = _name_of(node)
            name, member = named if named is not None else (ts.text(node).rsplit(".", 1)[-1], True)
            pool = self._pool(node, name, member, None)
            if len(pool) == 1 and not pool[0].dynamic:  # a literal URL start has no base of its own
                return self.base_hint(pool[0].value, depth + 1)
            return ts.text(node)
        return ""


def _joins(callee: str, last: str) -> bool:
    """Calls that join URL parts (.NET Path.Combine / Flurl Url.Combine / *CombineUri helpers, Go path.Join and
    url.JoinPath, Node path.join, Python urljoin / posixpath.join)."""
    return last.endswith(("Combine", "CombineUri")) or last in ("JoinPath", "urljoin") or \
        callee in ("path.Join", "url.JoinPath", "path.join", "path.posix.join", "posixpath.join", "os.path.join")


def join_urls(parts: list[str]) -> str:
    out = ""
    for p in parts:
        if not out:
            out = p
        elif p.startswith(("http://", "https://")):
            out = p
        else:
            out = out.rstrip("/") + "/" + p.lstrip("/")
    return out
