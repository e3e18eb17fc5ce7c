"""HTTP client instances (JavaScript/TypeScript): `axios.create({baseURL})` bound to a name, used in its own
module or exported and imported by others (a front end's `src/api/index.js` instance and the `src/api/*.js`
wrappers calling `service.get('/v1/x')`).

- Where it is created: `http.instance` evidence for each module-level instance, under the name it is
  exported as (`default` for `export default service` / `module.exports = service`, else its own name),
  with the path prefix of its `baseURL` (`/api` of `'https://host/api'`; '' for a host alone; calls are
  relative to it) and the base address it names.
- Where a name is imported from a module of the workspace (a relative path, or `@/`/`~/` for the source
  root): `X.get|post|put|patch|delete|head(url)`, `X.request({url, method})` and `X({url, method})` are
  `http.instance_call`s with the module and symbol; linking keeps one only when that module exports an
  instance under that symbol (`indexers.httplinks`), else reads `x.get(url)` as a thin helper's call (an
  imported object whose method sends the path it is given).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import unwrap
from indexers.sources.code.http_emit import (
    LOWER,
    emit_route,
    function_id,
    kwarg,
    literal_method,
    url_of,
    values,
)
from indexers.sources.code.http_prefix import resolve_module
from indexers.sources.code.strings import DYN, join_paths, string_text

_ORIGIN = re.compile(r"^(?:[a-zA-Z][\w+.-]*:)?//[^/?#]*")
_VERBS = {**LOWER, "head": "HEAD"}
_SRC_ROOT = ("@/", "~/")  # bundler aliases of the source root (Vue CLI, Vite, Nuxt, CRA with craco)


def _is_create(ctx: Ctx, node: Any) -> bool:
    callee, n = ctx.callee_of(node)
    if n is None or not callee.endswith(".create"):
        return False
    head = callee[: -len(".create")]
    imp = ctx.imports.get(head)
    return imp["path"] == "axios" if imp is not None else head == "axios"


def _literals(ctx: Ctx, node: Any, depth: int = 0) -> list[str] | None:
    """The literal strings an expression can be (both arms of a conditional, a name assigned once), or None
    when one is not a literal."""
    node = unwrap(node)
    if node is None or depth > 4:
        return None
    if node.type == "ternary_expression":
        a = _literals(ctx, node.child_by_field_name("consequence"), depth + 1)
        b = _literals(ctx, node.child_by_field_name("alternative"), depth + 1)
        return a + b if a is not None and b is not None else None
    if node.type == "identifier":
        assigned = ctx.assigned.get(ts.text(node), [])
        return _literals(ctx, assigned[0], depth + 1) if len(assigned) == 1 else None
    text = string_text(node)
    return [text] if text is not None else None


def instance_of(ctx: Ctx, right: Any) -> tuple[str | None, str] | None:
    """(path prefix, base address) of an `axios.create(...)` expression, or None when `right` is not one.
    The prefix is None when the base URL's alternatives disagree on it; '' when it is not a literal (an
    environment variable: a host, as far as anything says)."""
    right = unwrap(right)
    if right is None or right.type != "call_expression" or not _is_create(ctx, right):
        return None
    args = right.child_by_field_name("arguments")
    opts = args.named_children[0] if args is not None and args.named_child_count else None
    base_node = kwarg([opts], "baseURL") if opts is not None and opts.type == "object" else None
    if base_node is None:
        return "", ""
    found = _literals(ctx, base_node)
    if found is None:
        return "", values(ctx).base_hint(base_node)
    prefixes = {_ORIGIN.sub("", s).split("?", 1)[0].rstrip("/") for s in found}
    hosts = {m.group(0).rsplit("/", 1)[-1] for s in found if (m := _ORIGIN.match(s))}
    prefix = prefixes.pop() if len(prefixes) == 1 else None
    return (prefix if prefix is None or prefix.startswith("/") or not prefix else None), \
        (hosts.pop() if len(hosts) == 1 else "")


def local_prefix(ctx: Ctx, key: str) -> str | None:
    """The base URL path prefix of the instance a name of this file holds ('' if none or not an instance;
    None when it cannot be told)."""
    found = {got[0] for r in ctx.assigned.get(key, []) if (got := instance_of(ctx, r)) is not None}
    return found.pop() if len(found) == 1 else ("" if not found else None)


def _exports(ctx: Ctx) -> dict[str, set[str]]:
    """{local name: the names it is exported as} for the module's exports of plain names."""
    out: dict[str, set[str]] = {}
    root = ctx.src.tree(ctx.lang).root_node
    for node in root.named_children:
        if node.type == "export_statement":
            decl = node.child_by_field_name("declaration")
            value = node.child_by_field_name("value")
            if decl is not None:
                for d in decl.named_children:
                    if d.type == "variable_declarator" and (n := d.child_by_field_name("name")) is not None:
                        out.setdefault(ts.text(n), set()).add(ts.text(n))
            elif value is not None and value.type == "identifier" and ts.text(node).startswith("export default"):
                out.setdefault(ts.text(value), set()).add("default")
            for clause in (c for c in node.named_children if c.type == "export_clause"):
                for spec in clause.named_children:
                    name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                    if name is not None:
                        out.setdefault(ts.text(name), set()).add(ts.text(alias or name))
        elif node.type == "expression_statement" and node.named_child_count:
            e = node.named_children[0]
            if e.type == "assignment_expression" and ts.text(e.child_by_field_name("left")) == "module.exports":
                r = unwrap(e.child_by_field_name("right"))
                if r is not None and r.type == "identifier":
                    out.setdefault(ts.text(r), set()).add("default")
    return out


def emit_instances(ctx: Ctx) -> None:
    """`http.instance` evidence for the module's exported instances."""
    if ctx.family != "javascript" or b".create" not in ctx.src.data:
        return
    exports: dict[str, set[str]] | None = None
    for key, left, right in ctx.f.assigns:
        if left is None or left.type != "identifier" or function_id(left):
            continue
        got = instance_of(ctx, right)
        if got is None or got[0] is None:
            continue
        exports = _exports(ctx) if exports is None else exports
        for symbol in sorted(exports.get(key, ())):
            ctx.emit("http.instance", left, symbol, "", "", prefix=got[0], base=got[1])


def imported_names(ctx: Ctx) -> dict[str, tuple[str, str]]:
    """{local name: (module, symbol)} of the names imported from modules of the workspace."""
    key = ("http_imported_names",)
    got = ctx.memo.get(key)
    if got is None:
        got = {}
        for imp in ctx.f.imports:
            path, alias = str(imp.get("path", "")), str(imp.get("alias") or "")
            if not alias or not (path.startswith(".") or path.startswith(_SRC_ROOT)):
                continue
            module = resolve_module(ctx, path) if path.startswith(".") else re.sub(r"\.(js|mjs|cjs|ts|tsx|jsx)$", "",
                                                                                   path)
            got[alias] = (module, str(imp.get("name") or "default"))
        ctx.memo[key] = got
    return got  # type: ignore[no-any-return]


def instance_call(ctx: Ctx, callee: str, recv: str, meth: str, pos: list[Any]) -> bool:
    """An `http.instance_call` for a call on (or of) an imported name; whether one was emitted."""
    first = pos[0] if pos else None
    if first is None:
        return False
    got = imported_names(ctx).get(recv if recv else callee)
    if got is None or (recv and meth not in _VERBS and meth != "request"):
        return False
    helper: dict[str, Any] = {}
    if recv and meth in _VERBS:
        url, method = first, _VERBS[meth]
        helper = {"helper": meth, "recv": recv}  # or a wrapper object's method: a thin helper (linking decides)
    elif first.type == "object" and (url := kwarg([first], "url")) is not None:
        m = kwarg([first], "method")
        method = literal_method(m) if m is not None else "GET"
    else:
        return False
    raw = url_of(ctx, url)
    before = len(ctx.usages)
    emit_route(ctx, url, method, raw, "http.instance_call", relative=True, module=got[0], symbol=got[1],
               base=values(ctx).base_hint(url), absolute=_own_base(raw), **helper)
    return len(ctx.usages) > before


def _own_base(raw: str) -> bool:
    """Whether a URL names its own base (absolute, or starting with a value: the instance's is not used)."""
    return bool(_ORIGIN.match(raw)) or raw.startswith(DYN)


def instance_path(prefix: str, raw: str) -> str:
    """A call's URL relative to an instance's base URL path (an absolute URL ignores it)."""
    return raw if _own_base(raw) or not prefix else join_paths(prefix, raw)
