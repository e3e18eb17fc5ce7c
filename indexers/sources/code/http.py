"""HTTP in code: routes a service provides (decorators, router calls, Spring/JAX-RS annotations, ASP.NET
attributes and minimal APIs, NestJS decorators) and the calls it makes (requests/httpx/aiohttp,
fetch/axios/HttpClient, net/http, RestTemplate/WebClient, HttpClient in C#, reverse-proxy forwarders),
each as a method and a normalised path.

A call is looked at only when its method name could be an HTTP verb or a routing call for its language,
so the receiver checks (is this a router, an HTTP client?) run for a handful of calls per file. URLs are
read through `values.Values`: a URL held in a local, a field, a constant or built by a helper of the same
file is followed to its literal parts. Route prefixes and mounts are `http_prefix`; calls on generated API
clients, Kiota request builders and thin helpers are `http_clients`.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.http_annotations import (
    NEST_VERBS,
    ROUTE_ANNOTATIONS,
    annotated_routes,
    nest_routes,
)
from indexers.sources.code.http_dotnet import CS_CALL, cs_http, cs_requests
from indexers.sources.code.http_emit import (
    HTTP_METHODS,
    LOWER,
    emit_route,
    helper_definition,
    is_http_client,
    kwarg,
    literal_method,
    methods_of,
    positional,
    url_of,
    values,
)
from indexers.sources.code.http_instances import (
    emit_instances,
    imported_names,
    instance_call,
    instance_of,
    instance_path,
    local_prefix,
)
from indexers.sources.code.http_prefix import Group, chi_prefix, groups, mounts
from indexers.sources.code.strings import join_paths, string_text

_JS_APP = re.compile(r"(express|express\.Router|Router|fastify|Fastify|newHono|newRouter|newKoaRouter|newElysia)$")
_PY_CLIENT = re.compile(r"(requests\.Session|requests\.session|httpx\.Client|httpx\.AsyncClient|aiohttp\.ClientSession"
                        r"|Session|Client|AsyncClient|ClientSession)$")


# Method names that can make a call an HTTP route or client call, per language (checked before anything else).
_PY_METHODS = frozenset({*LOWER, "route", "api_route", "request"})
_JS_METHODS = frozenset({*LOWER, "all"})
_GO_METHODS = frozenset({"HandleFunc", "Handle", "PostForm", "NewRequest", "NewRequestWithContext"})
_JS_CALLEES = frozenset({"fetch", "axios", "axios.request"})
_JAVA_CALL = re.compile(r"(get|post|put|delete|patch)(?:ForObject|ForEntity|ForLocation)?")
_JAVA_URI = re.compile(r"\.(get|post|put|delete|patch)\(\)\.uri$")


def _candidate(fam: str, callee: str, recv: str, meth: str) -> bool:
    """Whether a call could be an HTTP route or call at all, from its callee text alone."""
    if fam == "python":
        return bool(recv) and meth in _PY_METHODS
    if fam == "javascript":
        return callee in _JS_CALLEES or (bool(recv) and meth in _JS_METHODS)
    if fam == "go":
        return bool(recv) and (meth in _GO_METHODS or meth.upper() in HTTP_METHODS)
    if fam == "csharp":
        return meth.startswith("Map") or meth in ("AddRoute", "AddHttpClient") or \
            (bool(recv) and CS_CALL.fullmatch(meth) is not None)
    if fam == "java":
        return meth in ("exchange", "uri") or _JAVA_CALL.fullmatch(meth) is not None
    return False


def http(ctx: Ctx) -> None:
    fam = ctx.family
    grp = groups(ctx)
    mounted = mounts(ctx, ctx.f.calls) if fam in ("javascript", "python") else {}
    handled: set[int] = ctx.memo.setdefault(("http_handled",), set())  # calls read here (not as helper calls)
    for c in ctx.f.calls:
        before = len(ctx.usages)
        callee = c.callee
        recv, _, meth = callee.rpartition(".")
        meth = re.sub(r"<.*>$", "", meth)  # C# generic methods: GetFromJsonAsync<T>
        if not _candidate(fam, callee, recv, meth):
            if fam == "javascript" and (recv or callee) in imported_names(ctx) and instance_call(ctx, callee, recv, meth,
                                                                                               positional(c.args)):
                handled.add(c.node.id)  # `request({url, method})`, `api.request({...})` on an imported instance
            continue
        node, args = c.node, c.args
        rkey = recv.rsplit(".", 1)[-1]
        pos = positional(args)
        first = pos[0] if pos else None
        g = grp.get(rkey, Group())
        if fam == "python":
            _python_http(ctx, node, recv, rkey, meth, args, pos, g, mounted.get(rkey, ""))
        elif fam == "javascript":
            _js_http(ctx, callee, recv, rkey, meth, pos, g, mounted.get(rkey, ""))
            if len(ctx.usages) == before and (recv or callee) in imported_names(ctx):
                instance_call(ctx, callee, recv, meth, pos)
        elif fam == "go":
            _go_http(ctx, node, recv, rkey, meth, pos, g)
        elif fam == "csharp":
            cs_http(ctx, c, recv, rkey, meth, pos, g)
        elif fam == "java" and first is not None:
            m = _JAVA_CALL.fullmatch(meth)
            method = ""
            if m and is_http_client(ctx, rkey, ("RestTemplate",)):
                method = m.group(1).upper()
            elif meth == "exchange" and is_http_client(ctx, rkey, ("RestTemplate",)) and len(pos) >= 2:
                method = literal_method(pos[1]) or "*"
            elif (m := _JAVA_URI.search(callee)) is not None:
                method = m.group(1).upper()
            if method:
                emit_route(ctx, first, method.strip("*"), url_of(ctx, first), "http.call",
                           base=values(ctx).base_hint(first))
                helper_definition(ctx, node, first, method.strip("*"))
        if len(ctx.usages) > before:
            handled.add(node.id)
    if fam == "csharp":
        cs_requests(ctx)
    names = {n for n, _a, _n in ctx.f.annotations}
    if fam in ("java", "csharp") and names & ROUTE_ANNOTATIONS:
        annotated_routes(ctx)
    if fam == "javascript" and names & NEST_VERBS.keys():
        nest_routes(ctx)
    if fam == "javascript":
        emit_instances(ctx)


# -- Python ------------------------------------------------------------------------------------------

def _python_http(ctx: Ctx, node: Any, recv: str, rkey: str, meth: str, args: list[Any], pos: list[Any],
                 g: Group, mounted: str) -> None:
    first = pos[0] if pos else kwarg(args, "url")
    if node.parent is not None and node.parent.type == "decorator" and recv and first is not None:
        if meth in ("route", "api_route"):
            methods = methods_of(kwarg(args, "methods")) or ["GET"]
        elif meth in LOWER:
            methods = [LOWER[meth]]
        else:
            return
        raw = url_of(ctx, first)
        prefix = join_paths(mounted, g.prefix) if mounted else g.prefix
        opid = string_text(kwarg(args, "operation_id")) if kwarg(args, "operation_id") is not None else None
        for method in methods:
            emit_route(ctx, first, method, join_paths(prefix, raw) if raw.startswith("/") or not raw else raw,
                       mountable=g.router and not mounted, operation_id=opid)
        return
    client = recv in ("requests", "httpx") or any(_PY_CLIENT.search(ctx.callee_of(r)[0]) and
                                                  ctx.callee_of(r)[0].split(".", 1)[0] in ("requests", "httpx",
                                                                                           "aiohttp")
                                                  for r in ctx.assigned.get(rkey, []))
    if not client or first is None:
        return
    if meth in LOWER:
        emit_route(ctx, first, LOWER[meth], url_of(ctx, first), "http.call", base=values(ctx).base_hint(first))
        helper_definition(ctx, node, first, LOWER[meth])
    elif meth == "request" and len(pos) >= 2:
        emit_route(ctx, pos[1], literal_method(pos[0]), url_of(ctx, pos[1]), "http.call",
                   base=values(ctx).base_hint(pos[1]))
        helper_definition(ctx, node, pos[1], literal_method(pos[0]))


# -- JavaScript / TypeScript -------------------------------------------------------------------------------

def _js_http(ctx: Ctx, callee: str, recv: str, rkey: str, meth: str, pos: list[Any], g: Group,
             mounted: str) -> None:
    first = pos[0] if pos else None
    if first is None:
        return
    if recv and meth in LOWER | {"all": "", "delete": "DELETE"} and len(pos) >= 2 and string_text(first) is not None:
        app = rkey in ("app", "router", "server", "api") or rkey in groups(ctx) or any(
            _JS_APP.search(ctx.callee_of(r)[0].replace(" ", "")) for r in ctx.assigned.get(rkey, []))
        if app:
            prefix = join_paths(mounted, g.prefix) if mounted else g.prefix
            router = g.router or (rkey == "router" and not mounted)
            emit_route(ctx, first, LOWER.get(meth, ""), join_paths(prefix, url_of(ctx, first)),
                       mountable=router and not mounted)
            return
    base = values(ctx).base_hint(first) if callee in _JS_CALLEES or meth in LOWER else ""
    if callee == "fetch":
        opts = pos[1] if len(pos) > 1 and pos[1].type == "object" else None
        method = literal_method(kwarg([opts], "method")) if opts is not None else "GET"
        if opts is not None and kwarg([opts], "method") is None:
            method = "GET"
        emit_route(ctx, first, method, url_of(ctx, first), "http.call", base=base)
        helper_definition(ctx, first.parent, first, method)
    elif callee in ("axios", "axios.request") and first.type == "object":
        url = kwarg([first], "url")
        if url is not None:
            m = kwarg([first], "method")
            emit_route(ctx, url, literal_method(m) if m is not None else "GET", url_of(ctx, url), "http.call",
                       base=values(ctx).base_hint(url))
    elif recv and meth in LOWER:
        base_path = local_prefix(ctx, rkey)
        axios = recv == "axios" or any(instance_of(ctx, r) is not None for r in ctx.assigned.get(rkey, [])) \
            or is_http_client(ctx, rkey, ("HttpClient", "AxiosInstance"))
        if axios and base_path is not None:  # relative to the instance's baseURL path
            emit_route(ctx, first, LOWER[meth], instance_path(base_path, url_of(ctx, first)), "http.call", base=base)
            helper_definition(ctx, first.parent, first, LOWER[meth])


# -- Go ------------------------------------------------------------------------------------------------

_GO_ROUTERS = r"(go-chi/chi|gin-gonic/gin|labstack/echo|gorilla/mux|gofiber/fiber|julienschmidt/httprouter)"


def _go_imports(ctx: Ctx) -> tuple[bool, bool]:
    """Whether the file imports net/http, and whether it imports a known router."""
    key = ("go_http_imports",)
    if key not in ctx.memo:
        ctx.memo[key] = (any(i["path"] == "net/http" for i in ctx.f.imports),
                         any(re.search(_GO_ROUTERS, i["path"]) for i in ctx.f.imports))
    got: tuple[bool, bool] = ctx.memo[key]
    return got


def _go_http(ctx: Ctx, node: Any, recv: str, rkey: str, meth: str, pos: list[Any], g: Group) -> None:
    first = pos[0] if pos else None
    if first is None:
        return
    lit = string_text(first)
    std, routers = _go_imports(ctx)
    if recv and meth in ("HandleFunc", "Handle") and lit is not None and len(pos) >= 2 and (std or routers):
        m = re.fullmatch(r"(?:([A-Z]+)\s+)?(\S*)", lit.strip())
        if m:
            method = m.group(1) or _gorilla_methods(node)
            prefix = join_paths(chi_prefix(ctx, node, recv), g.prefix) if routers else ""
            emit_route(ctx, first, method if method in HTTP_METHODS else "", join_paths(prefix, m.group(2)))
        return
    if recv and lit is not None and len(pos) >= 2 and routers and string_text(pos[1]) is None and (
            meth in HTTP_METHODS or (meth[:1].isupper() and meth.upper() in HTTP_METHODS)):
        prefix = join_paths(chi_prefix(ctx, node, recv), g.prefix)
        emit_route(ctx, first, meth.upper(), join_paths(prefix, lit))
        return
    if recv == "http" and "http" in ctx.imports and ctx.imports["http"]["path"] == "net/http":
        if meth in ("Get", "Head", "Post", "PostForm"):
            emit_route(ctx, first, "POST" if meth == "PostForm" else meth.upper(), url_of(ctx, first), "http.call",
                       base=values(ctx).base_hint(first))
        elif meth == "NewRequest" and len(pos) >= 2:
            emit_route(ctx, pos[1], literal_method(pos[0]), url_of(ctx, pos[1]), "http.call",
                       base=values(ctx).base_hint(pos[1]))
            helper_definition(ctx, node, pos[1], literal_method(pos[0]))
        elif meth == "NewRequestWithContext" and len(pos) >= 3:
            emit_route(ctx, pos[2], literal_method(pos[1]), url_of(ctx, pos[2]), "http.call",
                       base=values(ctx).base_hint(pos[2]))


def _gorilla_methods(node: Any) -> str:
    """gorilla/mux: r.HandleFunc("/x", h).Methods("GET") -> GET (only when exactly one method)."""
    sel = node.parent
    call = sel.parent if sel is not None else None
    if sel is not None and sel.type == "selector_expression" and call is not None and call.type == "call_expression" \
            and ts.text(sel.child_by_field_name("field")) == "Methods":
        found = methods_of(call.child_by_field_name("arguments"))
        return found[0] if len(found) == 1 else ""
    return ""


