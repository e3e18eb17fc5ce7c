"""What the usage passes of C++, Rust, Kotlin, Ruby and PHP share: string values and templates in
these grammars, the parts of a call (receiver, method, arguments), receivers bound to clients within a
file, import paths, and the usages they emit (the same kinds and attrs as the other languages', so
linking reads them alike).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import UNKNOWN, Binding, Bindings, Ctx
from indexers.sources.code.facts import MAX_FLAT, Call, key_of
from indexers.sources.code.strings import DYN, url_path

MAX_DEPTH = 40
_STRINGS = frozenset({"string_literal", "raw_string_literal", "string", "encapsed_string", "concatenated_string",
                      "interpreted_string_literal", "line_string_literal", "multi_line_string_literal",
                      "nowdoc", "heredoc", "heredoc_body"})
_CONTENT = frozenset({"string_content", "raw_string_content", "string_fragment", "string_value", "heredoc_content",
                      "nowdoc_string"})
_QUIET = frozenset({"heredoc_start", "heredoc_end", "comment"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "/": "/", "0": "\0", "$": "$"}
_HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


def text(node: Any) -> str:
    return ts.text(node)


def name_text(node: Any) -> str:
    """The text of a node that names something (a type, a base, a callee), without whitespace; "" when
    the node is longer than MAX_FLAT bytes (no name is; reading each link of a long chain whole would be
    quadratic, and the name patterns are only ever given bounded text)."""
    if node is None or node.end_byte - node.start_byte > MAX_FLAT:
        return ""
    return "".join(ts.text(node).split())


def lit(node: Any) -> str | None:
    """The value of a string literal (DYN for each interpolation); None if `node` is not a string."""
    if node is None:
        return None
    if node.type == "concatenated_string":  # C++ "a" "b"
        parts = [lit(c) for c in node.named_children]
        return "".join(p for p in parts if p is not None)
    if node.type not in _STRINGS:
        return None
    out: list[str] = []
    for child in node.named_children:
        t = child.type
        if t in _CONTENT:
            out.append(text(child))
        elif t == "escape_sequence":
            raw = text(child)
            out.append(_ESCAPES.get(raw[1:2], raw[1:]) if len(raw) == 2 else raw)
        elif t == "heredoc_body":
            out.append(lit(child) or "")
        elif t not in _QUIET:
            out.append(DYN)
    return "".join(out)


def unwrap(node: Any) -> Any:
    """Through parentheses, `await`, `?`, `!!` and argument wrappers to the expression itself."""
    for _ in range(8):
        if node is None:
            return None
        if node.type in ("parenthesized_expression", "argument", "value_argument", "await_expression",
                         "try_expression", "postfix_expression", "reference_expression") and node.named_child_count:
            node = node.named_children[-1] if node.type in ("argument", "value_argument") else node.named_children[0]
            continue
        return node
    return node


def template(node: Any, depth: int = 0) -> str:
    """An expression as a string template: literal parts kept, everything dynamic as DYN. Reads string
    concatenation (`+`, PHP `.`, C++ adjacent literals), Rust `format!`, `sprintf`/`String.format`/`%`,
    Ruby `URI(...)`/`URI.parse`, C++ `std::string(...)` and `cpr::Url{...}`."""
    node = unwrap(node)
    if node is None or depth > MAX_DEPTH:
        return DYN
    s = lit(node)
    if s is not None:
        return s
    t = node.type
    if t in ("binary_expression", "binary", "additive_expression"):
        op = node.child_by_field_name("operator")
        kids = node.named_children
        opt = text(op) if op is not None else (text(node.children[1]) if node.child_count == 3 else "")
        if opt in ("+", ".") and len(kids) >= 2:
            return template(kids[0], depth + 1) + template(kids[-1], depth + 1)
        if opt == "%" and len(kids) >= 2:  # ruby "…%s…" % [x]
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]", DYN, template(kids[0], depth + 1))
        return DYN
    if t == "macro_invocation":  # rust format!("{}/x", a)
        name = text(node.child_by_field_name("macro") or node.named_children[0]) if node.named_child_count else ""
        tree = node.named_children[-1] if node.named_child_count else None
        if name.rsplit("::", 1)[-1] == "format" and tree is not None and tree.named_child_count:
            return _format(tree)
        return DYN
    if t in ("call_expression", "call", "function_call_expression", "compound_literal_expression",
             "scoped_call_expression", "member_call_expression"):
        name, args = _callee_and_args(node)
        last = re.split(r"::|\.|->", name)[-1]
        if last in ("sprintf", "format", "Format", "vsprintf") and args:
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]|\{\d*\}", DYN, template(args[0], depth + 1))
        if last in ("URI", "parse", "Url", "string", "to_string", "to_owned", "into", "String", "toString") and args \
                and name not in ("parse",):
            return template(args[0], depth + 1)
        if last in ("URI", "Url") and not args and node.named_child_count:
            inner = node.named_children[-1]
            if inner.type == "initializer_list" and inner.named_child_count:  # cpr::Url{"..."}
                return template(inner.named_children[0], depth + 1)
        if last in ("to_string", "to_owned", "into", "toString", "trimIndent", "trimMargin") and not args:
            obj = _receiver(node)
            if obj is not None:
                return template(obj, depth + 1)
        return DYN
    if t == "initializer_list" and node.named_child_count == 1:
        return template(node.named_children[0], depth + 1)
    return DYN


def _format(tree: Any) -> str:
    """A `format!` token tree as a template: `{}`/`{0}` placeholders take the literal arguments they
    name (`format!("{}{}", base, "/getquote")` -> DYN + "/getquote"), anything else is DYN."""
    groups: list[list[Any]] = [[]]
    for c in tree.children[1:-1]:  # inside the parentheses
        if not c.is_named and c.type == ",":
            groups.append([])
        else:
            groups[-1].append(c)
    fmt = lit(groups[0][0]) if len(groups[0]) == 1 else None
    if fmt is None:
        return DYN
    args = [lit(g[0]) if len(g) == 1 and lit(g[0]) is not None and DYN not in (lit(g[0]) or DYN) else None
            for g in groups[1:]]
    pos = iter(range(len(args)))

    def fill(m: re.Match[str]) -> str:
        spec = m.group(1).split(":", 1)[0]
        i = int(spec) if spec.isdigit() else next(pos, -1) if spec == "" else -1
        val = args[i] if 0 <= i < len(args) else None
        return val if val is not None else DYN

    return re.sub(r"\{([^{}]*)\}", fill, fmt.replace("{{", "\x01").replace("}}", "\x02")) \
        .replace("\x01", "{").replace("\x02", "}")


def _receiver(node: Any) -> Any:
    fn = node.child_by_field_name("function")
    if fn is not None:
        return fn.child_by_field_name("value") or fn.child_by_field_name("argument")
    return node.child_by_field_name("receiver") or node.child_by_field_name("object")


def _callee_and_args(node: Any) -> tuple[str, list[Any]]:
    """Callee text and argument expressions of a call node in any of the five grammars."""
    fn = node.child_by_field_name("function")
    if node.type == "compound_literal_expression":
        return text(node.child_by_field_name("type") or node.named_children[0]), []
    if fn is not None:
        return text(fn), args_of(node.child_by_field_name("arguments"))
    if node.type == "call" and node.child_by_field_name("method") is not None:  # ruby
        recv = node.child_by_field_name("receiver")
        name = (text(recv) + "." if recv is not None else "") + text(node.child_by_field_name("method"))
        return name, args_of(node.child_by_field_name("arguments"))
    if node.type in ("function_call_expression",):
        return text(node.child_by_field_name("function") or node.named_children[0]), args_of(
            node.child_by_field_name("arguments"))
    if node.type in ("scoped_call_expression", "member_call_expression"):
        scope = node.child_by_field_name("scope") or node.child_by_field_name("object")
        return text(scope) + "." + text(node.child_by_field_name("name")), args_of(node.child_by_field_name("arguments"))
    if node.type == "call_expression" and node.named_child_count:  # kotlin: callee, call_suffix
        suffix = node.named_children[-1]
        return text(node.named_children[0]), args_of(suffix) if suffix.type == "call_suffix" else []
    return "", []


def args_of(node: Any) -> list[Any]:
    """The argument expressions of an argument list (Kotlin: a call suffix), comments and a trailing
    lambda left out; named arguments kept as their pair/argument node."""
    if node is None:
        return []
    if node.type == "call_suffix":
        va = next((c for c in node.named_children if c.type == "value_arguments"), None)
        return args_of(va) if va is not None else []
    out = []
    for child in node.named_children:
        if child.type in ("comment", "line_comment", "block_comment", "annotated_lambda", "block_argument"):
            continue
        if child.type in ("argument", "value_argument") and child.named_child_count:
            named = child.child_by_field_name("name") is not None or (
                child.type == "value_argument" and any(c.type == "=" for c in child.children))
            out.append(child if named else child.named_children[-1])
            continue
        out.append(child)
    return out


def named_arg(args: list[Any], key: str) -> Any:
    """The value of a named argument (`methods: [...]`, `to: 'x#y'`, `url = "..."`), or None."""
    for a in args:
        if a.type in ("pair",):
            k = a.child_by_field_name("key")
            if k is not None and text(k).strip(":'\"") == key:
                return a.child_by_field_name("value")
        elif a.type == "argument" and a.child_by_field_name("name") is not None:
            if text(a.child_by_field_name("name")) == key:
                return a.named_children[-1]
        elif a.type == "value_argument" and a.named_child_count >= 2:
            if text(a.named_children[0]) == key:
                return a.named_children[-1]
        elif a.type in ("hash", "array_creation_expression"):
            for p in a.named_children:
                if p.type == "pair" or p.type == "array_element_initializer" and p.named_child_count == 2:
                    k = p.child_by_field_name("key") if p.type == "pair" else p.named_children[0]
                    if k is not None and (lit(k) if lit(k) is not None else text(k).strip(":")) == key:
                        return p.child_by_field_name("value") if p.type == "pair" else p.named_children[1]
    return None


def methods_in(node: Any) -> list[str]:
    """HTTP methods named in an expression (`['GET', 'POST']`, `methods: :post`, `RequestMethod.GET`)."""
    if node is None:
        return []
    found = re.findall(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\b", text(node).upper())
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------------------------------------------
# Calls


class Parts:
    """A call read the same way in every grammar: the receiver expression (None for a plain function
    call), the method name and its node, the argument expressions."""

    __slots__ = ("call", "recv", "meth", "at", "args")

    def __init__(self, call: Any, recv: Any, meth: str, at: Any, args: list[Any]):
        self.call, self.recv, self.meth, self.at, self.args = call, recv, meth, at, args


def parts(fam: str, c: Call) -> Parts | None:
    node = c.node
    if fam in ("ruby", "php"):
        obj = node.child_by_field_name("receiver") or node.child_by_field_name("object") or \
            node.child_by_field_name("scope")
        name = node.child_by_field_name("method") or node.child_by_field_name("name") or \
            node.child_by_field_name("function")
        if name is None:
            return None
        return Parts(node, obj, text(name), name, args_of(node.child_by_field_name("arguments")))
    if fam == "kotlin":
        fn = node.named_children[0] if node.named_child_count else None
        suffix = node.named_children[-1] if node.named_child_count else None
        args = args_of(suffix) if suffix is not None and suffix.type == "call_suffix" else []
        if fn is None:
            return None
        if fn.type == "navigation_expression" and fn.named_child_count >= 2:
            nav = fn.named_children[-1]
            name = nav.named_children[-1] if nav.named_child_count else None
            if name is None or name.type != "simple_identifier":
                return None
            return Parts(node, fn.named_children[0], text(name), name, args)
        if fn.type == "simple_identifier":
            return Parts(node, None, text(fn), fn, args)
        return None
    fn = node.child_by_field_name("function")  # rust, cpp
    if fn is None:
        return None
    args = args_of(node.child_by_field_name("arguments"))
    if fn.type == "field_expression":
        name = fn.child_by_field_name("field")
        obj = fn.child_by_field_name("value") or fn.child_by_field_name("argument")
        return Parts(node, obj, text(name), name, args) if name is not None else None
    if fn.type in ("scoped_identifier", "qualified_identifier"):
        # rust nests paths on the left (`a::b` is the path of `a::b::c`), C++ on the right: the receiver
        # is the path (rust) or the innermost scope (C++: `Svc` of `pkg::Svc::NewStub`)
        recv = fn.child_by_field_name("path") or fn.child_by_field_name("scope")
        name = fn.child_by_field_name("name")
        while name is not None and name.type in ("qualified_identifier", "scoped_identifier"):
            recv = name.child_by_field_name("scope") or recv
            name = name.child_by_field_name("name")
        if name is None:
            return None
        return Parts(node, recv, text(name), name, args)
    if fn.type == "identifier":
        return Parts(node, None, text(fn), fn, args)
    if fn.type == "template_function":
        name = fn.child_by_field_name("name")
        return Parts(node, None, text(name), name, args) if name is not None else None
    return None


def all_parts(ctx: Ctx) -> list[Parts]:
    """`parts` of every call of the file, computed once."""
    got = ctx.memo.get(("parts",))
    if got is None:
        got = ctx.memo[("parts",)] = [p for c in ctx.f.calls if (p := parts(ctx.family, c)) is not None]
    return got  # type: ignore[no-any-return]


def key(node: Any) -> str:
    """The tracking key of a receiver expression (`facts.key_of`): its last simple name (`self.client`,
    `@stub`, `$this->client`, `stub_` -> client, stub, client, stub_; a PHP variable keeps its `$`)."""
    return key_of(node) if node is not None else ""


def member(node: Any) -> bool:
    """Whether a receiver names a field or attribute (bound file-wide) rather than a local variable."""
    t = text(node)
    return node.type in ("field_expression", "navigation_expression", "instance_variable", "member_access_expression",
                         "field_identifier", "this_expression") or t.startswith(("@", "$this", "this.", "self."))


# ------------------------------------------------------------------------------------------------------
# Receivers bound within a file


_FUNCS = {
    "cpp": frozenset({"function_definition", "lambda_expression"}),
    "rust": frozenset({"function_item", "closure_expression"}),
    "kotlin": frozenset({"function_declaration", "lambda_literal", "anonymous_function", "getter", "setter"}),
    "ruby": frozenset({"method", "singleton_method", "lambda", "do_block", "block"}),
    "php": frozenset({"method_declaration", "function_definition", "anonymous_function", "arrow_function"}),
}


class Receivers(Bindings):
    """`Bindings` with the function node types of one of these grammars, and ordered local bindings:
    a variable is what it was last bound to before the call, within the call's function (so
    `let client = hyper::Client::new(); let client = EchoClient::with_origin(client, uri);` ends as the
    stub); fields and attributes are bound file-wide, ambiguous when bound two ways."""

    def __init__(self, fam: str) -> None:
        super().__init__()
        self.funcs = _FUNCS.get(fam, frozenset())
        self.locals: dict[tuple[str, int], list[tuple[int, Binding]]] = {}

    def function_of(self, node: Any) -> Any:
        passed = []
        p = node.parent if node is not None else None
        found = None
        while p is not None:
            if p.id in self._fn:
                found = self._fn[p.id]
                break
            if p.type in self.funcs:
                found = p
                break
            passed.append(p.id)
            p = p.parent
        for i in passed:
            self._fn[i] = found
        return found

    def bind(self, k: str, left: Any, value: Binding, local: bool) -> None:
        """Bind `k`: in its function when `local` (a variable), else file-wide (a field or attribute)."""
        if not k or k == "_":
            return
        fn = self.function_of(left) if local else None
        if fn is None:
            self.by.setdefault((k, 0), set()).add(value)
        else:
            self.locals.setdefault((k, fn.id), []).append((left.start_byte, value))
        self.keys.add(k)

    def lookup(self, node: Any, at: Any) -> Binding | None:
        """What the receiver `node` of a call at `at` is bound to: a field or attribute (`self.client`,
        `$this->client`, `@stub`) by its file-wide binding, a plain name by the last binding before the
        call in the innermost function that binds it (else the file's)."""
        k = key(node)
        if not k or k not in self.keys:
            return None
        if not member(node):
            fn = self.function_of(at)
            while fn is not None:
                before = [(pos, v) for pos, v in self.locals.get((k, fn.id), []) if pos < at.start_byte]
                if before:
                    got = max(before, key=lambda pv: pv[0])[1]
                    return got if got != UNKNOWN else None
                fn = self.function_of(fn)
        return self.field(k)

    def field(self, k: str) -> Binding | None:
        """The file-wide binding of `k` (a field or attribute), if it is bound one way only."""
        found = self.by.get((k, 0), set())
        got = next(iter(found)) if len(found) == 1 else None
        return got if got != UNKNOWN else None


_LOCAL_DECLS = frozenset({"parameter", "let_declaration", "declaration", "parameter_declaration", "simple_parameter",
                          "variable_declaration"})


def bind_all(ctx: Ctx, recv: Receivers, of_value: Callable[[Any], Binding | None],
             of_type: Callable[[str], Binding | None] | None = None) -> None:
    """Bind every assigned name whose value `of_value` recognises, and every name declared with a type
    `of_type` recognises. A local variable assigned or declared as something else is bound to UNKNOWN
    in its function, so it shadows a field of the same name (`let client = Wrapper::new()` is not the
    struct's `client` stub)."""
    typed_decls: set[int] = set()
    if of_type is not None:
        for k, t, node in ctx.f.typed:
            local = node.type in _LOCAL_DECLS
            typed_decls.add(node.id)
            if node.parent is not None:
                typed_decls.add(node.parent.id)
            got = of_type(t)
            if got is not None:
                recv.bind(k, node, got, local=local)
            elif local:
                recv.bind(k, node, UNKNOWN, local=True)
    for k, left, right in ctx.f.assigns:
        got = of_value(right)
        if got is not None:
            recv.bind(k, left, got, local=not member(left))
        elif not member(left) and not _declared(left, typed_decls):
            recv.bind(k, left, UNKNOWN, local=True)


def _declared(left: Any, typed_decls: set[int]) -> bool:
    """Whether an assigned name is also declared with a type (read by `of_type` instead)."""
    p = left
    for _ in range(3):
        p = p.parent if p is not None else None
        if p is None:
            return False
        if p.id in typed_decls:
            return True
    return False


# ------------------------------------------------------------------------------------------------------
# Emitting


def route(ctx: Ctx, at: Any, method: str, raw: str, kind: str = "http.route") -> None:
    """An HTTP route (provides) or call (consumes) at `at`, as the other languages emit them."""
    path = url_path(raw)
    if path is None:
        return
    method = method.upper() if method.upper() in _HTTP_METHODS else ""
    role = "provides" if kind == "http.route" else "consumes"
    ctx.emit(kind, at, path, method, role, method=method, path=path, raw=raw.replace(DYN, "{}"))


def join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def snake_to_pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)


def pascal_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
