"""HTTP in C#: ASP.NET minimal APIs (`MapGet`, groups with their API versions, `WithName` as the
operationId), `HttpClient` calls, `new HttpRequestMessage(HttpMethod.Get, url)`, typed-client registrations
(`AddHttpClient<T>(...).AddApiVersion(2.0)`), and reverse-proxy routes: YARP direct forwarding
(`MapForwarder`) and Aspire's YARP resource (`AddRoute(...).WithTransformPathRemovePrefix(...)`).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list
from indexers.sources.code.http_emit import (
    class_name,
    emit_route,
    helper_definition,
    is_http_client,
    literal_method,
    methods_of,
    outer_chain,
    url_of,
    values,
)
from indexers.sources.code.http_prefix import Group, version_of
from indexers.sources.code.strings import DYN, join_paths, string_text

CS_MAP = re.compile(r"Map(Get|Post|Put|Delete|Patch|Methods)")
CS_CALL = re.compile(r"(Get|Post|Put|Delete|Patch)(?:Async|AsJsonAsync|FromJsonAsync|StringAsync|StreamAsync"
                     r"|ByteArrayAsync)")


def cs_http(ctx: Ctx, c: Any, recv: str, rkey: str, meth: str, pos: list[Any], g: Group) -> None:
    first = pos[0] if pos else None
    node = c.node
    m = CS_MAP.fullmatch(meth)
    if m and first is not None and len(pos) >= 2:
        chain = outer_chain(node)
        versions = list(g.versions)
        opid = None
        for name, args in chain:
            if name == "WithName" and args:
                opid = string_text(args[0])
            elif name in ("MapToApiVersion", "HasApiVersion") and version_of(args):
                versions = [version_of(args)]
        raw = url_of(ctx, first)
        methods = [m.group(1).upper()] if m.group(1) != "Methods" else methods_of(pos[1]) if len(pos) >= 3 else []
        for method in methods:
            emit_route(ctx, first, method, join_paths(g.prefix, raw) if g.prefix else raw, relative=True,
                       api_version=versions or None, operation_id=opid)
        return
    if meth == "MapForwarder" and first is not None and len(pos) >= 2:  # YARP direct forwarding
        target = pos[2] if len(pos) >= 3 else first
        tmpl = url_of(ctx, target)
        if "**" not in tmpl and "{*" not in tmpl:
            emit_route(ctx, first, "", tmpl, "http.call", relative=True, proxy=True,
                       base=string_text(pos[1]) or values(ctx).base_hint(pos[1]))
        return
    if meth == "AddRoute" and first is not None and any("Yarp" in i["path"] for i in ctx.f.imports):
        _yarp_route(ctx, c.node, first)
        return
    if meth == "AddHttpClient":
        _typed_client(ctx, c)
        return
    if recv and first is not None:
        m2 = CS_CALL.fullmatch(meth)
        if m2 and is_http_client(ctx, rkey, ("HttpClient",)):
            tmpl = url_of(ctx, first)
            emit_route(ctx, first, m2.group(1).upper(), tmpl, "http.call", relative=True,
                       base=values(ctx).base_hint(first), client_class=class_name(node), client_ns=_cs_namespace(ctx))
            helper_definition(ctx, node, first, m2.group(1).upper())


def _yarp_route(ctx: Ctx, node: Any, first: Any) -> None:
    """Aspire's YARP resource (`yarp.AddRoute("/svc/api/x", cluster).WithTransformPathRemovePrefix("/svc")
    .WithMatchRouteQueryParameter(...)`): the path the backend receives, every method, and the API versions
    an `api-version` query match admits. Catch-all routes name no operation."""
    tmpl = url_of(ctx, first)
    if DYN in tmpl or "{*" in tmpl:
        return
    path = tmpl
    versions: list[str] = []
    for name, args in outer_chain(node):
        s = string_text(args[0]) if args else None
        if name == "WithTransformPathRemovePrefix" and s and path.startswith(s):
            path = path[len(s):] or "/"
        elif name == "WithTransformPathPrefix" and s:
            path = join_paths(s, path)
        elif name == "WithTransformPathSet" and s:
            path = s
        elif name == "WithMatchRouteQueryParameter" and args and "api-version" in ts.text(args[0]).lower():
            body = ts.text(args[0])
            values_part = re.search(r"Values\s*=\s*\[([^\]]*)\]|Values\s*=\s*new[^{]*\{([^}]*)\}", body)
            if values_part:
                versions = re.findall(r"\"([\w.]+)\"", values_part.group(1) or values_part.group(2) or "")
    emit_route(ctx, first, "", path, "http.call", proxy=True, api_version=versions or None)


def _typed_client(ctx: Ctx, c: Any) -> None:
    """`services.AddHttpClient<CatalogService>(o => o.BaseAddress = new("http://catalog-api")).AddApiVersion(2.0)`:
    evidence for the calls the typed client class makes (ASP.NET typed clients; Asp.Versioning.Http)."""
    m = re.search(r"AddHttpClient<\s*(?:[\w.]+\s*,\s*)?([\w.]+)\s*>", c.callee)
    if not m:
        return
    versions = [version_of(args) for name, args in outer_chain(c.node) if name == "AddApiVersion" and version_of(args)]
    body = " ".join(ts.text(a) for a in c.args)
    base = re.search(r"BaseAddress\s*=\s*new(?:\s+Uri)?\s*\(\s*\"([^\"]+)\"", body)
    name = m.group(1).rsplit(".", 1)[-1]
    visible = [m.group(1).rsplit(".", 1)[0]] if "." in m.group(1) else [_cs_namespace(ctx), *(i["path"] for i in ctx.f.imports)]
    ctx.emit("http.client_config", c.node, name, name, "", api_version=versions, base=base.group(1) if base else "",
             namespaces=[n for n in visible if n])


def _cs_namespace(ctx: Ctx) -> str:
    """The file's (first) namespace: `namespace A.B;` or `namespace A.B {`."""
    key = ("cs_namespace",)
    if key not in ctx.memo:
        m = re.search(rb"^\s*namespace\s+([\w.]+)", ctx.src.data, re.M)
        ctx.memo[key] = m.group(1).decode() if m else ""
    got: str = ctx.memo[key]
    return got


def cs_requests(ctx: Ctx) -> None:
    """`new HttpRequestMessage(HttpMethod.Get, url)`."""
    for node, typ, _t in ctx.f.news:
        if typ.rsplit(".", 1)[-1] != "HttpRequestMessage":
            continue
        args = arg_list(node.child_by_field_name("arguments"))
        if len(args) >= 2:
            method = literal_method(args[0])
            emit_route(ctx, args[1], method, url_of(ctx, args[1]), "http.call", relative=True,
                       base=values(ctx).base_hint(args[1]), client_class=class_name(node), client_ns=_cs_namespace(ctx))
            helper_definition(ctx, node, args[1], method)



