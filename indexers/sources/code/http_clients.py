"""HTTP calls that name no URL at the call site: generated API clients, Kiota request builders, thin helpers.

- Calls on generated API clients by operation (`ordersApi.createOrder(...)`: openapi-generator's `<Tag>Api`
  classes in TS/JS/Java/Python/C#, Go's `client.OrdersAPI.CreateOrder(ctx)`, NSwag's `<Name>Client`):
  `http.op_call` with the class and where it was imported from. Linking finds the generated method's
  HTTP method and path in the generated code (`http.generated` evidence), or, when the client comes from a
  package, follows openapi-generator's naming (class = tag + `Api`, method = operationId).
- Kiota fluent request builders (`client.catalog().products().byId(id).get()`, `client.Users["id"].GetAsync()`,
  `client.carts.by_cart_id(id).get()`): the chain is the path (`byX(...)`/indexers are parameters) and the
  last call the method, read as an `http.call` whose segments compare loosely (Kiota's camelCase names).
- Thin helpers taking the path as an argument (`_requestProvider.GetAsync<T>(uri)`, `SendRequestAsync("/ready")`):
  `http.helper_call` with the argument's URL; linking needs the helper's definition (`http.helper`,
  written where the helper sends its parameter with an HTTP client).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list, unwrap
from indexers.sources.code.http_emit import emit_route, function_id, url_of, values
from indexers.sources.code.http_prefix import resolve_module
from indexers.sources.code.strings import DYN, url_path

# openapi-generator (`OrdersApi`, Go `OrdersAPIService`), NSwag/Kiota/typed clients (`OrdersClient`)
_CLIENT_CLASS = re.compile(r"(Api|API|Apis|APIService|ApiService|Client)$")
_KIOTA_VERBS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE",
                "getasync": "GET", "postasync": "POST", "putasync": "PUT", "patchasync": "PATCH", "deleteasync": "DELETE"}
_OBJECT_METHODS = frozenset({"then", "catch", "finally", "toString", "equals", "hashCode", "close", "dispose", "Dispose",
                             "execute", "Execute", "build", "subscribe", "block", "map", "get", "set", "apply", "call",
                             "bind", "setBasePath", "setApiKey", "setDefaultAuthentication", "withUrl"})
_URL_NAME = re.compile(r"(url|uri|path|endpoint|route|link|href)$", re.IGNORECASE)
# Names a request helper has (`GetAsync`, `SendRequestAsync`, `apiGet`, `fetchJson`, `doRequest`, `callApi`)
_HELPER_NAME = re.compile(r"get|post|put|patch|delete|send|request|fetch|call|invoke|http|api|exchange", re.IGNORECASE)
_CALL_TYPES = ("call_expression", "invocation_expression", "method_invocation", "call")
_MEMBER_TYPES = ("member_expression", "member_access_expression", "field_access", "attribute", "selector_expression")


def clients(ctx: Ctx, handled: set[int]) -> None:
    """Operation calls, Kiota chains and helper calls of the file; `handled`: call nodes already read as
    plain HTTP calls. A call another pass read (a gRPC stub call, a GraphQL operation) is left alone."""
    bound: dict[str, tuple[str, str, str] | None] = {}
    taken = {(u.range.start_line, u.range.start_col) for u in ctx.usages}

    def free(c: Any) -> bool:  # no other pass read this call (its span is computed only for candidates)
        span = ctx.src.node_span(c.name)
        return (span.start_line, span.start_col) not in taken

    for c in ctx.f.calls:
        if c.node.id in handled:
            continue
        recv, _, meth = c.callee.rpartition(".")
        meth = re.sub(r"<.*>$", "", meth)
        if not recv or not meth:
            _helper_call(ctx, c, "", meth)
            continue
        if ("(" in recv or "[" in recv) and meth.lower() in _KIOTA_VERBS and free(c) and _kiota(ctx, c, meth):
            continue
        head = recv.split("(", 1)[0]
        rkey = head.rsplit(".", 1)[-1]
        if ctx.family == "go" and "." in head:  # client.OrdersAPI.CreateOrder(ctx): the service field names it
            rkey = head.split(".")[-2]
        if head not in bound:
            bound[head] = _client_class(ctx, rkey, head)
        cls = bound[head]
        if cls is not None and meth not in _OBJECT_METHODS and "(" not in recv and free(c):
            name, module, symbol = cls
            qualifier = head.rsplit(".", 1)[-1] if ctx.family == "go" and name else name
            ctx.emit("http.op_call", c.name, meth, qualifier, "consumes", module=module, symbol=symbol)
            continue
        _helper_call(ctx, c, recv, meth)


def _client_class(ctx: Ctx, key: str, head: str) -> tuple[str, str, str] | None:
    """(class name, module it comes from, imported symbol) of a receiver bound to a generated API client."""
    fam = ctx.family
    if fam == "go":  # apiClient := openapi.NewAPIClient(cfg); apiClient.OrdersAPI.CreateOrder(ctx)
        parts = head.split(".")
        # oapi-codegen: `client, _ := api.NewClientWithResponses(server)` or a field `client *api.ClientWithResponses`
        for t in ctx.types.get(parts[-1], []):
            pkg, _, typ = t.lstrip("*").partition(".")
            if typ in ("Client", "ClientWithResponses") and pkg in ctx.imports:
                return "", ctx.imports[pkg]["path"], ""
        if len(parts) == 1:
            for right in ctx.assigned.get(parts[0], []):
                callee, _ = ctx.callee_of(right)
                pkg, _, fn = callee.partition(".")
                if fn in ("NewClient", "NewClientWithResponses") and pkg in ctx.imports:
                    return "", ctx.imports[pkg]["path"], ""
            return None
        if not _CLIENT_CLASS.search(parts[-1]):
            return None
        for right in ctx.assigned.get(parts[-2], []):
            callee, _ = ctx.callee_of(right)
            pkg, _, fn = callee.partition(".")
            if fn.startswith("New") and fn.endswith("Client") and pkg in ctx.imports:
                return parts[-1], ctx.imports[pkg]["path"], parts[-1]
        return None
    types = list(ctx.types.get(key, []))
    for right in ctx.assigned.get(key, []):
        callee, node = ctx.callee_of(right)
        if callee.startswith("new "):
            types.append(callee[4:])
        elif fam == "python" and node is not None and callee.rsplit(".", 1)[-1][:1].isupper():
            types.append(callee)
        elif right is not None and unwrap(right).type == "identifier":  # this.api = api (a typed parameter)
            types += ctx.types.get(ts.text(unwrap(right)), [])
    names = {re.sub(r"<.*>$", "", t).strip("?*&") for t in types}
    if len(names) != 1:
        return None
    name = names.pop()
    simple = name.rsplit(".", 1)[-1]
    if not _CLIENT_CLASS.search(simple):
        return None
    first = name.split(".", 1)[0]
    imp = ctx.imports.get(first) or next((i for i in ctx.f.imports if i.get("name") == simple), None)
    if imp is None and fam == "java":
        imp = next((i for i in ctx.f.imports if i["path"].endswith("." + simple)), None)
    if imp is None:
        if fam == "csharp":  # namespaces only: the class is found by name in the workspace
            return simple, "", simple
        return None
    if fam == "javascript":
        symbol = imp.get("name") or ("default" if imp.get("alias") == first else first)
        if imp.get("path", "").startswith(".") or imp.get("path", "").startswith("/"):
            return simple, resolve_module(ctx, imp["path"]), symbol or "default"
        return simple, imp["path"], symbol or "default"
    if fam == "python":
        module = imp.get("module") or imp["path"]
        return simple, resolve_module(ctx, module) if module.startswith(".") else module, imp.get("name") or simple
    return simple, imp["path"], simple


def _kiota(ctx: Ctx, c: Any, meth: str) -> bool:
    """A Kiota request-builder chain ending in an HTTP verb; True when emitted."""
    verb = _KIOTA_VERBS.get(meth.lower())
    if verb is None:
        return False
    segs: list[str] = []
    node = unwrap(_receiver(c.node))
    root = None
    for _ in range(32):
        if node is None:
            return False
        t = node.type
        if t in _CALL_TYPES:
            name = ts.text(_member_name(node))
            args = arg_list(node.child_by_field_name("arguments"))
            if re.match(r"^(by|By)[A-Z]|^by_", name) and len(args) == 1:  # a path parameter: byId(id)
                segs.append("{}")
            elif not args and name[:1].isalpha():
                segs.append(name)
            else:
                return False
            node = unwrap(_receiver(node))
        elif t == "element_access_expression":  # C# indexer: client.Users["id"]
            segs.append("{}")
            node = unwrap(node.child_by_field_name("expression"))
        elif t in _MEMBER_TYPES:
            inner = _object(node)
            prop = ts.text(_member_name(node))
            if inner is not None and ts.text(inner) in ("this", "self"):
                root = prop
                break
            segs.append(prop)
            node = unwrap(inner)
        elif t == "identifier":
            root = ts.text(node)
            break
        else:
            return False
    if root is None or not segs:
        return False
    cls = _root_type(ctx, root)
    if cls is None or not cls.endswith("Client"):
        return False
    segs.reverse()
    emit_route(ctx, c.name, verb, "/" + "/".join(segs), "http.call", loose=True, base=cls)
    return True


def _object(node: Any) -> Any:
    return node.child_by_field_name("object") or node.child_by_field_name("expression") or \
        node.child_by_field_name("operand")


def _member_name(node: Any) -> Any:
    """The name of a member access, or of the method a call calls."""
    fn = node.child_by_field_name("function") if node.type in _CALL_TYPES else node
    if fn is None:  # Java method_invocation
        return node.child_by_field_name("name")
    return fn.child_by_field_name("property") or fn.child_by_field_name("name") or fn.child_by_field_name("field") \
        or fn.child_by_field_name("attribute") or fn


def _receiver(call: Any) -> Any:
    """The expression a method is called on."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return call.child_by_field_name("object")
    return _object(fn) if fn.type in _MEMBER_TYPES else None


def _root_type(ctx: Ctx, key: str) -> str | None:
    types = list(ctx.types.get(key, []))
    for right in ctx.assigned.get(key, []):
        callee, _ = ctx.callee_of(right)
        if callee.startswith("new "):
            types.append(callee[4:])
        elif right is not None and unwrap(right).type == "identifier":
            types += ctx.types.get(ts.text(unwrap(right)), [])
        elif callee and callee.rsplit(".", 1)[-1][:1].isupper():
            types.append(callee)
    names = {re.sub(r"<.*>$", "", t).rsplit(".", 1)[-1].strip("?*&") for t in types}
    return names.pop() if len(names) == 1 else None


def _helper_call(ctx: Ctx, c: Any, recv: str, meth: str) -> None:
    """A call passing a URL to a method that may be an HTTP helper: `http.helper_call` (linking keeps it
    only when a helper definition of that name sends that argument)."""
    if not meth or not meth.lstrip("_")[:1].isalpha() or not _HELPER_NAME.search(meth):
        return
    for i, a in enumerate(c.args[:4]):
        t = a.type
        named = t == "identifier" and _URL_NAME.search(ts.text(a))
        literal = ("string" in t or "template" in t or t in ("binary_expression", "binary_operator")) and \
            b"/" in (a.text or b"")
        if not (named or literal):
            continue
        tmpl = url_of(ctx, a)
        path = url_path(tmpl, relative=True)
        if path is None or path == "/" or "/" not in tmpl or re.search(r"\s", tmpl) or (tmpl.startswith(DYN) and not named):
            continue
        emit_route(ctx, a, "", tmpl, "http.helper_call", relative=True, name=meth, qualifier=recv, arg=i,
                   base=values(ctx).base_hint(a))
        return


# Handlers of generated server interfaces: Go methods with a handler signature (net/http, echo, gin, fiber,
# oapi-codegen strict servers), Java/TypeScript methods of a class implementing a generated `*Api`
# interface (openapi-generator's Spring `interfaceOnly` / delegate, NestJS server stubs). Linking keeps the
# ones whose generated interface names them (`http.generated`).
_GO_HANDLER = re.compile(r"ResponseWriter|echo\.Context|gin\.Context|fiber\.Ctx|iris\.Context|RequestObject")
_GENERATED_IFACE = re.compile(r"(Api|API|ApiDelegate|Controller|Interface|Service)$")


def handlers(ctx: Ctx) -> None:
    fam = ctx.family
    if fam == "go":
        imports = sorted(i["path"] for i in ctx.f.imports if "." in i["path"].split("/", 1)[0] or "/" in i["path"])
        for mnode, nnode in ctx.f.methods:
            owner = ctx.f.owners.get(mnode.id)
            params = mnode.child_by_field_name("parameters")
            if owner and nnode is not None and params is not None and _GO_HANDLER.search(ts.text(params)):
                ctx.emit("http.handler", nnode, ts.text(nnode), owner, "provides", imports=imports)
        return
    if fam not in ("java", "javascript"):
        return
    for mnode, nnode in ctx.f.methods:
        if nnode is None or ts.text(nnode) == "constructor":
            continue
        cls = mnode.parent
        while cls is not None and cls.type not in ("class_declaration", "class"):
            cls = cls.parent
        if cls is None:
            continue
        ifaces = _interfaces(cls)
        if ifaces and (fam == "javascript" or "@Override" in ts.text(mnode)[:400]):
            ctx.emit("http.handler", nnode, ts.text(nnode), ts.text(cls.child_by_field_name("name")), "provides",
                     implements=ifaces)


def _interfaces(cls: Any) -> list[str]:
    for child in cls.named_children:
        if child.type in ("super_interfaces", "class_heritage"):
            text = ts.text(child)
            if child.type == "class_heritage":
                m = re.search(r"\bimplements\b(.*)", text, re.S)
                text = m.group(1) if m else ""
            names = [re.sub(r"<.*", "", n).rsplit(".", 1)[-1] for n in re.findall(r"[A-Za-z_][\w.]*(?:<[^>]*>)?", text)]
            return [n for n in names if n != "implements" and _GENERATED_IFACE.search(n)]
    return []


# URL references: an address built from a base and a path (`$"{BffHost}api/catalog/items/{id}/pic"`,
# `Path.Combine(settings.CatalogBase, "api/catalog/items")`, `` `${API_URL}/orders/${id}` ``,
# `f"{base}/orders/{id}"`, `urljoin(base, "/orders")`) that no HTTP call in the file sends: an image source, a
# link, a redirect target. Read as `http.url` (method unknown; linking prefers GET).
URL_STRING = {
    "csharp": re.compile(rb'\$@?"\{[^}"]+\}/?[A-Za-z][\w.-]*/|(?:Combine|CombineUri)\s*\('),
    "javascript": re.compile(rb"`\$\{[^}`]+\}/?[A-Za-z][\w.-]*/|\burljoin\s*\("),
    "python": re.compile(rb"""\bf["']\{[^}"']+\}/?[A-Za-z][\w.-]*/|\burljoin\s*\("""),
}
_URL_NODES = frozenset({"interpolated_string_expression", "template_string", "string", "invocation_expression",
                        "call_expression", "call"})


def urls(ctx: Ctx) -> None:
    pattern = URL_STRING.get(ctx.family)
    if pattern is None:
        return
    found = list(pattern.finditer(ctx.src.data))
    if not found:
        return
    taken = [(u.range.start_line, u.range.start_col, u.range.end_line, u.range.end_col) for u in ctx.usages
             if u.kind.startswith("http.")]
    root = ctx.src.tree(ctx.lang).root_node
    seen: set[int] = set()
    for m in found[:200]:
        node = root.descendant_for_byte_range(m.start(), m.start() + 1)
        while node is not None and node.type not in _URL_NODES:
            node = node.parent
        if node is None or node.id in seen:
            continue
        seen.add(node.id)
        holder = node.parent
        if holder is not None and holder.type in ("variable_declarator", "assignment_expression", "assignment",
                                                  "short_var_declaration", "expression_list", "equals_value_clause"):
            named = holder.child_by_field_name("name") or holder.child_by_field_name("left")
            if named is not None and (function_id(node), ts.text(named)) in ctx.memo.get(("http_url_vars",), set()):
                continue  # the URL a call sends: that call is the link
        span = ctx.src.node_span(node)
        if any((a, b) <= (span.start_line, span.start_col) and (span.end_line, span.end_col) <= (c, d)
               or (span.start_line, span.start_col) <= (a, b) and (c, d) <= (span.end_line, span.end_col)
               for a, b, c, d in taken):
            continue  # the URL of a call read already
        tmpl = url_of(ctx, node)
        if not tmpl.startswith(DYN):
            continue
        tmpl = re.sub(rf"^{DYN}+(?=[A-Za-z])", DYN + "/", tmpl)  # a base address ends with its slash
        path = url_path(tmpl)
        if path is None or re.search(r"\s", tmpl) or sum(1 for s in path.split("/") if s and s != "{}") < 2:
            continue
        emit_route(ctx, node, "", tmpl, "http.url", base=values(ctx).base_hint(node))
