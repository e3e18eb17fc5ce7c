"""Shared pieces of HTTP usage extraction: URL templates read through the file's values, the one way a
route or call is emitted (with the API version its URL names), HTTP methods named by literals or
constants, HTTP client receivers (declared, constructed, aliased, returned by a helper), helpers that send
their parameter as the URL (`http.helper` evidence), and calls chained on a call's result.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list, flat
from indexers.sources.code.strings import DYN, string_text, template, url_path
from indexers.sources.code.values import Values

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
LOWER = {m.lower(): m for m in HTTP_METHODS}
_JS_APP = re.compile(r"(express|express\.Router|Router|fastify|Fastify|newHono|newRouter|newKoaRouter|newElysia)$")
_PY_CLIENT = re.compile(r"(requests\.Session|requests\.session|httpx\.Client|httpx\.AsyncClient|aiohttp\.ClientSession"
                        r"|Session|Client|AsyncClient|ClientSession)$")
_API_VERSION = re.compile(r"(?:^|[?&])api-version=([\w.]+)", re.IGNORECASE)


def values(ctx: Ctx) -> Values:
    """The file's `Values`, built on first use."""
    key = ("values",)
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = Values(ctx.src.tree(ctx.lang).root_node, ctx.family)
    return got  # type: ignore[no-any-return]


def url_of(ctx: Ctx, node: Any) -> str:
    """A URL expression as a template, names resolved within the file."""
    return values(ctx).template(node)


def emit_route(ctx: Ctx, at: Any, method: str, raw: str, kind: str = "http.route", relative: bool = False,
               name: str | None = None, qualifier: str | None = None, **extra: Any) -> None:
    """One route (provides) or call (consumes) at `at`, with the normalised path and what the URL says of the
    API version. The usage's name is the path and its qualifier the method unless given."""
    path = url_path(raw, relative=relative)
    if path is None:
        return
    role = "provides" if kind == "http.route" else "consumes"
    if kind != "http.route" and at is not None and at.type == "identifier":  # a URL held in a variable
        ctx.memo.setdefault(("http_url_vars",), set()).add((function_id(at), ts.text(at)))
    versions = sorted(set(_API_VERSION.findall(raw)))
    if versions and not extra.get("api_version"):
        extra["api_version"] = versions
    ctx.emit(kind, at, path if name is None else name, method if qualifier is None else qualifier, role,
             method=method, path=path, raw=raw.replace(DYN, "{}"),
             **{k: v for k, v in extra.items() if v not in (None, "", [], False)})


def function_id(node: Any) -> int:
    p = node.parent
    while p is not None and p.type not in _FUNCTION_NODES:
        p = p.parent
    return p.id if p is not None else 0


_FUNCTION_NODES = frozenset({"method_declaration", "function_declaration", "function_definition", "method_definition",
                             "arrow_function", "function_expression", "local_function_statement", "func_literal",
                             "constructor_declaration", "lambda_expression"})


def kwarg(args: list[Any], name: str) -> Any:
    for a in args:
        if a.type == "keyword_argument" and ts.text(a.child_by_field_name("name")) == name:
            return a.child_by_field_name("value")
        if a.type == "object":
            for p in a.named_children:
                k = p.child_by_field_name("key")
                if k is not None and ts.text(k).strip("'\"") == name:
                    return p.child_by_field_name("value")
    return None


def positional(args: list[Any]) -> list[Any]:
    return [a for a in args if a.type not in ("keyword_argument", "list_splat", "dictionary_splat")]


def methods_of(node: Any) -> list[str]:
    if node is None:
        return []
    found = re.findall(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\b", ts.text(node).upper())
    return list(dict.fromkeys(found))


def literal_method(node: Any) -> str:
    """An HTTP method named by a literal or a constant (`"POST"`, `http.MethodPost`, `HttpMethod.POST`)."""
    if node is None:
        return ""
    s = string_text(node)
    if s is not None:
        return s.upper() if s.upper() in HTTP_METHODS else ""
    m = re.fullmatch(r"(?:[\w.]+\.)?(?:Method)?([A-Za-z]+)", flat(node))
    return m.group(1).upper() if m and m.group(1).upper() in HTTP_METHODS else ""


def outer_chain(node: Any) -> list[tuple[str, list[Any]]]:
    """Calls chained on a call's result: `x.MapGet(...).WithName("A").HasApiVersion(1)` from MapGet ->
    [("WithName", args), ("HasApiVersion", args)]."""
    out: list[tuple[str, list[Any]]] = []
    cur = node
    while len(out) < 32:
        acc = cur.parent
        if acc is None or acc.type not in ("member_access_expression", "member_expression", "field_access",
                                           "selector_expression") or acc.named_children[0].id != cur.id:
            break
        call = acc.parent
        if call is None or call.type not in ("invocation_expression", "call_expression", "method_invocation"):
            break
        name = acc.child_by_field_name("name") or acc.child_by_field_name("property") or acc.child_by_field_name("field")
        out.append((re.sub(r"<.*>$", "", ts.text(name)), arg_list(call.child_by_field_name("arguments"))))
        cur = call
    return out


def class_name(node: Any) -> str:
    p = node.parent
    while p is not None and p.type not in ("class_declaration", "record_declaration", "struct_declaration"):
        p = p.parent
    return ts.text(p.child_by_field_name("name")) if p is not None else ""


def helper_definition(ctx: Ctx, call: Any, url: Any, method: str) -> None:
    """A function that sends its own parameter as the URL, alone or after a base address
    (`GetAsync<T>(string uri) => http.GetAsync(uri)`, `def get(self, path): return s.get(self.base + path)`,
    `` const api = (path) => fetch(`${BASE}${path}`) ``): `http.helper` evidence, so calls of the helper
    with a path are read as HTTP calls."""
    name = _tail_name(url)
    if not name:
        return
    fn = call.parent
    while fn is not None and fn.type not in _FUNCTION_NODES:
        fn = fn.parent
    fname = _function_name(fn) if fn is not None else None
    if fname is None:
        return
    plist = fn.child_by_field_name("parameters")
    params = [p for p in (plist.named_children if plist is not None else []) if p.type not in ("comment",)
              and ts.text(p) not in ("self", "cls")]
    index = next((i for i, p in enumerate(params) if _param_name(p) == name), None)
    if index is None:
        return
    cls = fn.parent
    while cls is not None and cls.type not in ("class_declaration", "class_definition", "class", "record_declaration"):
        cls = cls.parent
    bases: list[str] = []
    if cls is not None:
        for child in cls.named_children:
            if child.type in ("base_list", "super_interfaces", "class_heritage", "superclass", "argument_list"):
                bases += [re.sub(r"<.*>$", "", b) for b in re.findall(r"[A-Za-z_][\w.<>]*", ts.text(child))
                          if b not in ("implements", "extends")]
    ctx.emit("http.helper", fname, ts.text(fname), ts.text(cls.child_by_field_name("name")) if cls is not None else "",
             "", method=method, param=index, bases=[b.rsplit(".", 1)[-1] for b in bases])


def _param_name(p: Any) -> str:
    """The name a parameter node declares (C#/Java `name`, TS `pattern`, Python typed/default parameters)."""
    if p.type == "identifier":
        return ts.text(p)
    named = p.child_by_field_name("name") or p.child_by_field_name("pattern")
    if named is None:
        named = next((c for c in p.named_children if c.type == "identifier"), None)
    return ts.text(named) if named is not None else ""


def _tail_name(url: Any) -> str:
    """The identifier a URL expression ends with: `uri`, `base + path`, `` `${BASE}${path}` ``,
    `f"{self.base}{path}"`, `$"{_base}{path}"`; '' for anything else."""
    node = url
    for _ in range(4):
        if node is None:
            return ""
        if node.type == "identifier":
            return ts.text(node)
        if node.type in ("binary_expression", "binary_operator"):
            left = node.child_by_field_name("left")
            if left is not None and "/" in template(left):  # `base + "/items/" + id`: id is a value, not the path
                return ""
            node = node.child_by_field_name("right")
        elif "string" in node.type or node.type == "template_string":
            parts = [c for c in node.named_children if c.type not in ("string_start", "string_end", "interpolation_start")]
            last = parts[-1] if parts else None
            if last is None or last.type not in ("interpolation", "template_substitution") or \
                    any(c.type not in ("interpolation", "template_substitution") for c in parts):
                return ""  # literal text around it: the parameter fills a path, it is not the path
            inner = [c for c in last.named_children if c.type not in ("interpolation_brace",)]
            node = inner[0] if len(inner) == 1 else None
        elif node.type in ("parenthesized_expression", "argument") and node.named_child_count:
            node = node.named_children[-1]
        else:
            return ""
    return ""


def _function_name(fn: Any) -> Any:
    """The name node of a function: its own, or the variable an arrow function / lambda is assigned to."""
    name = fn.child_by_field_name("name")
    if name is not None:
        return name
    holder = fn.parent
    if holder is not None and holder.type in ("variable_declarator", "assignment", "assignment_expression"):
        return holder.child_by_field_name("name") or holder.child_by_field_name("left")
    return None


def is_http_client(ctx: Ctx, key: str, types: tuple[str, ...]) -> bool:
    memo = ("http_client", key, types)
    got = ctx.memo.get(memo)
    if got is None:
        got = ctx.memo[memo] = _http_client(ctx, key, types)
    return bool(got)


def _aliases(ctx: Ctx) -> dict[str, str]:
    """C# `using Http = System.Net.Http.HttpClient;`: alias -> type's last name."""
    key = ("using_aliases",)
    if key not in ctx.memo:
        found: dict[str, str] = {}
        if ctx.family == "csharp" and b"using" in ctx.src.data:
            for m in re.finditer(rb"^\s*using\s+(\w+)\s*=\s*([\w.]+)\s*;", ctx.src.data, re.M):
                found[m.group(1).decode()] = m.group(2).decode().rsplit(".", 1)[-1]
        ctx.memo[key] = found
    got: dict[str, str] = ctx.memo[key]
    return got


def _returns_client(ctx: Ctx, name: str, types: tuple[str, ...]) -> bool:
    """A method of this file declared to return one of the client types (`HttpClient GetClient() => ...`)."""
    for mnode, nnode in ctx.f.methods:
        if ts.text(nnode) == name:
            ret = mnode.child_by_field_name("returns") or mnode.child_by_field_name("type") or \
                mnode.child_by_field_name("result") or mnode.child_by_field_name("return_type")
            if ret is not None and re.sub(r"<.*>$", "", ts.text(ret)).rsplit(".", 1)[-1].lstrip("*") in types:
                return True
    return False


def _declared_type(ctx: Ctx, key: str) -> list[str]:
    """The type a C# field, property or parameter is declared with, read from the source when the typed-name
    query did not keep it (a using-alias type such as `Http _http;`)."""
    m = re.search(rb"([A-Za-z_][\w.]*(?:<[^<>;=()]*>)?)\??\s+" + re.escape(key.encode()) + rb"\s*[;=,)]", ctx.src.data)
    return [m.group(1).decode()] if m else []


def _http_client(ctx: Ctx, key: str, types: tuple[str, ...]) -> bool:
    aliases = _aliases(ctx)
    declared = ctx.types.get(key) or (_declared_type(ctx, key) if aliases else [])
    for t in declared:
        last = t.split("<", 1)[0].rsplit(".", 1)[-1]
        if last in types or aliases.get(last) in types or (last == "Lazy" and any(x in t for x in types)):
            return True
    for right in ctx.assigned.get(key, []):
        callee, _ = ctx.callee_of(right)
        last = re.sub(r"<.*>$", "", callee.removeprefix("new ").rsplit(".", 1)[-1])
        if last in types or aliases.get(last) in types or callee.endswith("CreateClient") or \
                ("." not in callee and _returns_client(ctx, last, types)):
            return True
    return False


