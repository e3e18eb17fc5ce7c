"""HTTP in code: routes a service provides (decorators, router calls, Spring/JAX-RS annotations, ASP.NET
attributes and minimal APIs) and the calls it makes (requests/httpx/aiohttp, fetch/axios/HttpClient,
net/http, RestTemplate/WebClient, HttpClient in C#), each as a method and a normalised path.

A call is looked at only when its method name could be an HTTP verb or a routing call for its language,
so the receiver checks (is this a router, an HTTP client?) run for a handful of calls per file.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list, flat
from indexers.sources.code.strings import DYN, join_paths, string_text, template, url_path

_HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_LOWER = {m.lower(): m for m in _HTTP_METHODS}
_JS_APP = re.compile(r"(express|express\.Router|Router|fastify|Fastify|newHono|newRouter|newKoaRouter|newElysia)$")
_PY_CLIENT = re.compile(r"(requests\.Session|requests\.session|httpx\.Client|httpx\.AsyncClient|aiohttp\.ClientSession"
                        r"|Session|Client|AsyncClient|ClientSession)$")


def _route(ctx: Ctx, at: Any, method: str, raw: str, kind: str = "http.route") -> None:
    path = url_path(raw)
    if path is None:
        return
    role = "provides" if kind == "http.route" else "consumes"
    ctx.emit(kind, at, path, method, role, method=method, path=path, raw=raw.replace(DYN, "{}"))


def _kwarg(args: list[Any], name: str) -> Any:
    for a in args:
        if a.type == "keyword_argument" and ts.text(a.child_by_field_name("name")) == name:
            return a.child_by_field_name("value")
        if a.type == "object":
            for p in a.named_children:
                k = p.child_by_field_name("key")
                if k is not None and ts.text(k).strip("'\"") == name:
                    return p.child_by_field_name("value")
    return None


def _positional(args: list[Any]) -> list[Any]:
    return [a for a in args if a.type not in ("keyword_argument", "list_splat", "dictionary_splat")]


def _methods_of(node: Any) -> list[str]:
    if node is None:
        return []
    found = re.findall(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\b", ts.text(node).upper())
    return list(dict.fromkeys(found))


def _literal_method(node: Any) -> str:
    """An HTTP method named by a literal or a constant (`"POST"`, `http.MethodPost`, `HttpMethod.POST`)."""
    if node is None:
        return ""
    s = string_text(node)
    if s is not None:
        return s.upper() if s.upper() in _HTTP_METHODS else ""
    m = re.fullmatch(r"(?:[\w.]+\.)?(?:Method)?([A-Za-z]+)", flat(node))
    return m.group(1).upper() if m and m.group(1).upper() in _HTTP_METHODS else ""


# Method names that can make a call an HTTP route or client call, per language (checked before anything else).
_PY_METHODS = frozenset({*_LOWER, "route", "api_route", "request"})
_JS_METHODS = frozenset({*_LOWER, "all"})
_GO_METHODS = frozenset({"HandleFunc", "Handle", "PostForm", "NewRequest", "NewRequestWithContext"})
_JS_CALLEES = frozenset({"fetch", "axios", "axios.request"})
_CS_MAP = re.compile(r"Map(Get|Post|Put|Delete|Patch)")
_CS_CALL = re.compile(r"(Get|Post|Put|Delete|Patch)(?:Async|AsJsonAsync|FromJsonAsync|StringAsync|StreamAsync"
                      r"|ByteArrayAsync)")
_JAVA_CALL = re.compile(r"(get|post|put|delete|patch)(?:ForObject|ForEntity|ForLocation)?")
_JAVA_URI = re.compile(r"\.(get|post|put|delete|patch)\(\)\.uri$")


def _candidate(fam: str, callee: str, recv: str, meth: str) -> bool:
    """Whether a call could be an HTTP route or call at all, from its callee text alone."""
    if fam == "python":
        return bool(recv) and meth in _PY_METHODS
    if fam == "javascript":
        return callee in _JS_CALLEES or (bool(recv) and meth in _JS_METHODS)
    if fam == "go":
        return bool(recv) and (meth in _GO_METHODS or meth.upper() in _HTTP_METHODS)
    if fam == "csharp":
        return meth.startswith("Map") or (bool(recv) and _CS_CALL.fullmatch(meth) is not None)
    if fam == "java":
        return meth in ("exchange", "uri") or _JAVA_CALL.fullmatch(meth) is not None
    return False


def http(ctx: Ctx) -> None:
    fam = ctx.family
    prefixes = _prefixes(ctx)
    for c in ctx.f.calls:
        callee = c.callee
        recv, _, meth = callee.rpartition(".")
        if not _candidate(fam, callee, recv, meth):
            continue
        node, args = c.node, c.args
        rkey = recv.rsplit(".", 1)[-1]
        pos = _positional(args)
        first = pos[0] if pos else None
        if fam == "python":
            _python_http(ctx, node, callee, recv, rkey, meth, args, pos, prefixes)
        elif fam == "javascript":
            _js_http(ctx, node, callee, recv, rkey, meth, args, pos)
        elif fam == "go":
            _go_http(ctx, node, callee, recv, meth, pos)
        elif fam == "csharp":
            if _CS_MAP.fullmatch(meth) and first is not None and len(pos) >= 2:
                _route(ctx, first, meth[3:].upper(), join_paths(prefixes.get(rkey, ""), template(first)))
            elif recv and first is not None:
                m = _CS_CALL.fullmatch(meth)
                if m and _is_http_client(ctx, rkey, ("HttpClient",)):
                    _route(ctx, first, m.group(1).upper(), template(first), "http.call")
        elif fam == "java" and first is not None:
            m = _JAVA_CALL.fullmatch(meth)
            if m and _is_http_client(ctx, rkey, ("RestTemplate",)):
                _route(ctx, first, m.group(1).upper(), template(first), "http.call")
            elif meth == "exchange" and _is_http_client(ctx, rkey, ("RestTemplate",)) and len(pos) >= 2:
                _route(ctx, first, _literal_method(pos[1]), template(first), "http.call")
            else:
                m = _JAVA_URI.search(callee)
                if m:
                    _route(ctx, first, m.group(1).upper(), template(first), "http.call")
    if fam in ("java", "csharp") and any(n in _ROUTE_ANNOTATIONS for n, _a, _n in ctx.f.annotations):
        _annotated_routes(ctx)


def _prefixes(ctx: Ctx) -> dict[str, str]:
    """Router variables created with a path prefix (FastAPI APIRouter, Flask Blueprint, ASP.NET MapGroup)."""
    out: dict[str, str] = {}
    for k, _left, right in ctx.f.assigns:
        callee, node = ctx.callee_of(right)
        if node is None:
            continue
        args = arg_list(node.child_by_field_name("arguments"))
        last = callee.rsplit(".", 1)[-1]
        value = None
        if last == "APIRouter":
            value = _kwarg(args, "prefix")
        elif last == "Blueprint":
            value = _kwarg(args, "url_prefix")
        elif last == "MapGroup" and args:
            value = args[0]
        s = string_text(value) if value is not None else None
        if s is not None and DYN not in s:
            out[k] = s
    return out


def _is_http_client(ctx: Ctx, key: str, types: tuple[str, ...]) -> bool:
    memo = ("http_client", key, types)
    got = ctx.memo.get(memo)
    if got is None:
        got = ctx.memo[memo] = _http_client(ctx, key, types)
    return bool(got)


def _http_client(ctx: Ctx, key: str, types: tuple[str, ...]) -> bool:
    if any(t.split("<", 1)[0].rsplit(".", 1)[-1] in types for t in ctx.types.get(key, [])):
        return True
    for right in ctx.assigned.get(key, []):
        callee, _ = ctx.callee_of(right)
        if callee.removeprefix("new ").rsplit(".", 1)[-1] in types or callee.endswith("CreateClient"):
            return True
    return False


def _python_http(ctx: Ctx, node: Any, callee: str, recv: str, rkey: str, meth: str, args: list[Any],
                 pos: list[Any], prefixes: dict[str, str]) -> None:
    first = pos[0] if pos else _kwarg(args, "url")
    if node.parent is not None and node.parent.type == "decorator" and recv and first is not None:
        if meth in ("route", "api_route"):
            methods = _methods_of(_kwarg(args, "methods")) or ["GET"]
        elif meth in _LOWER:
            methods = [_LOWER[meth]]
        else:
            return
        raw = template(first)
        for method in methods:
            _route(ctx, first, method, join_paths(prefixes.get(rkey, ""), raw) if raw.startswith("/") or not raw
                   else raw)
        return
    client = recv in ("requests", "httpx") or any(_PY_CLIENT.search(ctx.callee_of(r)[0]) and
                                                  ctx.callee_of(r)[0].split(".", 1)[0] in ("requests", "httpx",
                                                                                           "aiohttp")
                                                  for r in ctx.assigned.get(rkey, []))
    if not client or first is None:
        return
    if meth in _LOWER:
        _route(ctx, first, _LOWER[meth], template(first), "http.call")
    elif meth == "request" and len(pos) >= 2:
        _route(ctx, pos[1], _literal_method(pos[0]), template(pos[1]), "http.call")


def _js_http(ctx: Ctx, node: Any, callee: str, recv: str, rkey: str, meth: str, args: list[Any],
             pos: list[Any]) -> None:
    first = pos[0] if pos else None
    if first is None:
        return
    if recv and meth in _LOWER | {"all": "", "delete": "DELETE"} and len(pos) >= 2 and string_text(first) is not None:
        app = rkey in ("app", "router", "server", "api") or any(
            _JS_APP.search(ctx.callee_of(r)[0].replace(" ", "")) for r in ctx.assigned.get(rkey, []))
        if app:
            _route(ctx, first, _LOWER.get(meth, ""), template(first))
            return
    if callee == "fetch":
        opts = pos[1] if len(pos) > 1 and pos[1].type == "object" else None
        method = _literal_method(_kwarg([opts], "method")) if opts is not None else "GET"
        if opts is not None and _kwarg([opts], "method") is None:
            method = "GET"
        _route(ctx, first, method, template(first), "http.call")
    elif callee in ("axios", "axios.request") and first.type == "object":
        url = _kwarg([first], "url")
        if url is not None:
            m = _kwarg([first], "method")
            _route(ctx, url, _literal_method(m) if m is not None else "GET", template(url), "http.call")
    elif recv and meth in _LOWER:
        axios = recv == "axios" or any(ctx.callee_of(r)[0] == "axios.create" for r in ctx.assigned.get(rkey, [])) \
            or _is_http_client(ctx, rkey, ("HttpClient", "AxiosInstance"))
        if axios:
            _route(ctx, first, _LOWER[meth], template(first), "http.call")


_GO_ROUTERS = r"(go-chi/chi|gin-gonic/gin|labstack/echo|gorilla/mux|gofiber/fiber|julienschmidt/httprouter)"


def _go_imports(ctx: Ctx) -> tuple[bool, bool]:
    """Whether the file imports net/http, and whether it imports a known router."""
    key = ("go_http_imports",)
    if key not in ctx.memo:
        ctx.memo[key] = (any(i["path"] == "net/http" for i in ctx.f.imports),
                         any(re.search(_GO_ROUTERS, i["path"]) for i in ctx.f.imports))
    got: tuple[bool, bool] = ctx.memo[key]
    return got


def _go_http(ctx: Ctx, node: Any, callee: str, recv: str, meth: str, pos: list[Any]) -> None:
    first = pos[0] if pos else None
    if first is None:
        return
    lit = string_text(first)
    std, routers = _go_imports(ctx)
    if recv and meth in ("HandleFunc", "Handle") and lit is not None and len(pos) >= 2 and (std or routers):
        m = re.fullmatch(r"(?:([A-Z]+)\s+)?(\S*)", lit.strip())
        if m:
            method = m.group(1) or _gorilla_methods(node)
            _route(ctx, first, method if method in _HTTP_METHODS else "", m.group(2))
        return
    if recv and lit is not None and len(pos) >= 2 and routers and string_text(pos[1]) is None and (
            meth in _HTTP_METHODS or (meth[:1].isupper() and meth.upper() in _HTTP_METHODS)):
        _route(ctx, first, meth.upper(), lit)
        return
    if recv == "http" and "http" in ctx.imports and ctx.imports["http"]["path"] == "net/http":
        if meth in ("Get", "Head", "Post", "PostForm"):
            _route(ctx, first, "POST" if meth == "PostForm" else meth.upper(), template(first), "http.call")
        elif meth == "NewRequest" and len(pos) >= 2:
            _route(ctx, pos[1], _literal_method(pos[0]), template(pos[1]), "http.call")
        elif meth == "NewRequestWithContext" and len(pos) >= 3:
            _route(ctx, pos[2], _literal_method(pos[1]), template(pos[2]), "http.call")


def _gorilla_methods(node: Any) -> str:
    """gorilla/mux: r.HandleFunc("/x", h).Methods("GET") -> GET (only when exactly one method)."""
    sel = node.parent
    call = sel.parent if sel is not None else None
    if sel is not None and sel.type == "selector_expression" and call is not None and call.type == "call_expression" \
            and ts.text(sel.child_by_field_name("field")) == "Methods":
        found = _methods_of(call.child_by_field_name("arguments"))
        return found[0] if len(found) == 1 else ""
    return ""


_ROUTE_ANNOTATIONS = frozenset({"GetMapping", "PostMapping", "PutMapping", "DeleteMapping", "PatchMapping",
                                "RequestMapping", "HttpGet", "HttpPost", "HttpPut", "HttpDelete", "HttpPatch",
                                "HttpHead", "HttpOptions", "Route", "Path"})
_JAVA_MAPPING = {"GetMapping": "GET", "PostMapping": "POST", "PutMapping": "PUT", "DeleteMapping": "DELETE",
                 "PatchMapping": "PATCH", "RequestMapping": ""}
_CS_VERB = {"HttpGet": "GET", "HttpPost": "POST", "HttpPut": "PUT", "HttpDelete": "DELETE", "HttpPatch": "PATCH",
            "HttpHead": "HEAD", "HttpOptions": "OPTIONS"}


def _ann_paths(args: Any) -> list[tuple[Any, str]]:
    """(node, text) of the path values of an annotation/attribute: the first positional argument, or
    value=/path= (Java), or Template= (C#); arrays give several."""
    if args is None:
        return []
    vals: list[Any] = []
    for a in args.named_children:
        if a.type == "element_value_pair":
            if ts.text(a.child_by_field_name("key")) in ("value", "path"):
                vals.append(a.child_by_field_name("value"))
        elif a.type == "attribute_argument":
            if a.named_child_count == 1 or "Template" in ts.text(a).split("=", 1)[0]:
                vals.append(a.named_children[-1])
        else:
            vals.append(a)
        if vals and a.type not in ("element_value_pair",):
            break
    out = []
    for v in vals:
        items = v.named_children if v.type == "element_value_array_initializer" else [v]
        for it in items:
            s = string_text(it)
            if s is not None:
                out.append((it, s))
    return out


def _annotated_routes(ctx: Ctx) -> None:
    by_decl: dict[int, list[tuple[str, Any, Any]]] = {}
    for name, args, node in ctx.f.annotations:
        decl = ctx.enclosing(node, ("method_declaration", "class_declaration"))
        if decl is not None:
            by_decl.setdefault(decl.id, []).append((name, args, node))
    for mnode, nnode in ctx.f.methods:
        anns = by_decl.get(mnode.id, [])
        cls = ctx.enclosing(mnode, ("class_declaration",))
        prefixes = [""]
        if cls is not None:
            prefixes = [p for n, a, _ in by_decl.get(cls.id, []) if n in ("RequestMapping", "Route", "Path")
                        for _, p in _ann_paths(a)] or [""]
            cname = ts.text(cls.child_by_field_name("name")).removesuffix("Controller").lower()
            prefixes = [re.sub(r"\[controller\]", cname, p, flags=re.I) for p in prefixes]
        verbs = [_CS_VERB[n] for n, _, _ in anns if n in _CS_VERB] + [n for n, _, _ in anns if n in _HTTP_METHODS]
        for name, args, node in anns:
            if ctx.family == "java" and name in _JAVA_MAPPING:
                method = _JAVA_MAPPING[name] or (_methods_of(_ann_value(args, "method")) or [""])[0]
            elif ctx.family == "csharp" and name in _CS_VERB:
                if not _ann_paths(args) and any(n == "Route" for n, _, _ in anns):
                    continue  # [HttpPost] + [Route("x")]: the Route attribute carries the template
                method = _CS_VERB[name]
            elif name in ("Route", "Path") and (ctx.family == "csharp" or verbs):
                method = verbs[0] if len(verbs) == 1 else ""
            else:
                continue
            paths = _ann_paths(args) or [(node, "")]
            for at, p in paths:
                for pre in prefixes:
                    full = p if p.startswith(("/", "~/")) and ctx.family == "csharp" else join_paths(pre, p)
                    full = "/" + full.lstrip("~/") if not full.startswith("/") else full
                    _route(ctx, at, method, re.sub(r"\[action\]", ts.text(nnode), full, flags=re.I))


def _ann_value(args: Any, key: str) -> Any:
    for a in args.named_children if args is not None else []:
        if a.type == "element_value_pair" and ts.text(a.child_by_field_name("key")) == key:
            return a.child_by_field_name("value")
    return None
