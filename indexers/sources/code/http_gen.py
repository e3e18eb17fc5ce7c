"""Generated HTTP code read as evidence (`http.generated` usages), never as a provider or consumer.

Generated code says what hand-written code cannot: which method of a generated client sends which HTTP
method and path, and which method of a generated server interface serves which operation. Linking uses it
to resolve `ordersApi.createOrder(...)` (an `http.op_call`) and a handler implementing the interface (an
`http.handler`) to the operation.

- oapi-codegen server interfaces (Go): `type ServerInterface interface { // (GET /path) \n Name(...) }`, the
  comment oapi-codegen writes above every method (chi, echo, gin, gorilla, fiber and strict servers).
- Generated clients and server interfaces of openapi-generator (JS, TS, Java, Python, C#, Go), NSwag and
  swagger-codegen: per method of a generated class, the one path literal (`'/orders/{orderId}'`) and the one
  HTTP method (`'POST'`, `RequestMethod.POST`, `http.MethodPost`, `HttpMethod.Post`, `.PostAsync<`) its body
  holds. A method with none, or several, is not evidence.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.model import Usage
from indexers.positions import SourceFile
from indexers.sources.code.facts import collect, family

_HINTS = (b"openapi", b"swagger", b"nswag", b"autorest", b"oapi-codegen", b"serverinterface")
_GO_IFACE = re.compile(rb"type\s+(\w*ServerInterface)\s+interface\s*\{(.*?)\n\}", re.S)
_GO_OP = re.compile(rb"//\s*\((GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|TRACE)\s+(\S+)\)\s*\n\s*(\w+)\(")
_VERSION_ARG = re.compile(r"""["']api-version["'][^\n]{0,80}?["'](\d+(?:\.\d+)*)["']""")
_APPEND = re.compile(r"urlBuilder_\.Append\(((?:[^()]|\([^()]*(?:\([^()]*\))?[^()]*\))*)\)")
_GO_REQUEST = re.compile(rb"^func New(\w+?)Request(?:WithBody|With\w+Body)?\(", re.M)
_GO_OP_PATH = re.compile(r"operationPath\s*:?=\s*([^\n]+)")
_PATH = re.compile(r"""(["'`])(/[^"'`\s]*)\1""")
_VERB = r"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)"
_METHOD = re.compile(rf"""(["']){_VERB}\1|\b(?:RequestMethod|HttpMethod|Method|RestSharp\.Method)\.(\w+)\b|"""
                     rf"""\bhttp\.Method(\w+)\b|new\s+(?:System\.Net\.Http\.)?HttpMethod\s*\(\s*"(\w+)"\s*\)|"""
                     r"""\.(Get|Post|Put|Delete|Patch|Head|Options)(?:Async)?\s*<""", re.IGNORECASE)
# A generated file that sends requests names an HTTP method somewhere (a literal, an enum member, a verb call).
_OPERATIONS = re.compile(rb"""["'](?:GET|POST|PUT|DELETE|PATCH)["']|Method\.?(?:Get|Post|Put|Delete|Patch|GET|POST|PUT"""
                         rb"""|DELETE|PATCH)\b|HttpMethod\s*\(|\.(?:Get|Post|Put|Delete|Patch)(?:Async)?\s*<""")
_CLASSES = ("class_declaration", "class_definition", "class", "interface_declaration", "abstract_class_declaration")
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def generated_hint(data: bytes) -> bool:
    low = data[:65536].lower()
    return any(h in low for h in _HINTS)


def generated_evidence(src: SourceFile, lang: str) -> list[Usage]:
    """Evidence usages of a generated file (empty when it is not generated HTTP code)."""
    if not generated_hint(src.data):
        return []
    if family(lang) == "go":
        return _go(src, lang)
    return _classes(src, lang)


def _go(src: SourceFile, lang: str) -> list[Usage]:
    out: list[Usage] = []
    for m in _GO_IFACE.finditer(src.data):
        iface = m.group(1).decode()
        for op in _GO_OP.finditer(m.group(2)):
            start = m.start(2) + op.start(3)
            line = src.data.count(b"\n", 0, start)
            col = start - (src.data.rfind(b"\n", 0, start) + 1)
            name = op.group(3).decode()
            span = src.span_from_points((line, col), (line, col + len(name)))
            out.append(Usage(src.repo, src.path, span, "http.generated", name, iface, "", lang,
                             {"method": op.group(1).decode(), "path": op.group(2).decode(), "side": "server"}))
    if out:
        return out
    out = _go_requests(src, lang)
    # openapi-generator Go clients: `func (a *OrdersAPIService) CreateOrderExecute(r ...)`
    return out + _classes(src, lang)


def _go_requests(src: SourceFile, lang: str) -> list[Usage]:
    """oapi-codegen clients: `func NewAddPetRequestWithBody(server string, ...)` builds the request of
    operation AddPet (`operationPath := "/pets"`, `http.NewRequest("POST", ...)`)."""
    out: list[Usage] = []
    data = src.data
    if b"operationPath" not in data:
        return out
    for m in _GO_REQUEST.finditer(data):
        end = data.find(b"\nfunc ", m.end())
        body = data[m.end(): end if end >= 0 else len(data)].decode("utf-8", "replace")
        paths = {p for p in (_go_path(x) for x in _GO_OP_PATH.findall(body)) if p}
        methods = {_verb(x) for x in _METHOD.finditer(body)} - {""}
        if len(paths) != 1 or len(methods) != 1:
            continue
        start = m.start(1)
        line = data.count(b"\n", 0, start)
        col = start - (data.rfind(b"\n", 0, start) + 1)
        name = m.group(1).decode()
        span = src.span_from_points((line, col), (line, col + len(m.group(0)) - 6))
        out.append(Usage(src.repo, src.path, span, "http.generated", name, "", "", lang,
                         {"method": methods.pop(), "path": paths.pop(), "side": "client"}))
    return out


def _classes(src: SourceFile, lang: str) -> list[Usage]:
    if not _OPERATIONS.search(src.data):  # models, configuration: no method sends a request
        return []
    tree = src.tree(lang)
    try:
        facts = collect(lang, tree.root_node, {"method"})
    except OverflowError:
        return []
    out: list[Usage] = []
    for mnode, nnode in facts.methods:
        cls, default = _class_of(mnode, facts.owners.get(mnode.id, ""))
        if not cls or nnode is None:
            continue
        body = ts.text(mnode)
        if len(body) > 200_000:
            continue
        paths = {p for _q, p in _PATH.findall(body) if p != "/" and not p.startswith("//")}
        built = _nswag_path(body) if "urlBuilder_" in body else ""
        if built:  # NSwag: the path appended piece by piece, parameters escaped in between
            paths = {built}
        methods = {_verb(m) for m in _METHOD.finditer(body)} - {""}
        if len(paths) != 1 or len(methods) != 1:
            continue
        attrs: dict[str, Any] = {"method": methods.pop(), "path": paths.pop(), "side": "client", "default": default}
        version = _VERSION_ARG.search(body)  # a client generated for one API version sends it on every call
        if version:
            attrs["api_version"] = [version.group(1)]
        out.append(Usage(src.repo, src.path, src.node_span(nnode), "http.generated", ts.text(nnode), cls, "", lang,
                         attrs))
    return out


def _nswag_path(body: str) -> str:
    """NSwag C# clients: `urlBuilder_.Append("api/orders/"); urlBuilder_.Append(Uri.EscapeDataString(id));
    urlBuilder_.Append("/items");` -> `/api/orders/{}/items` (up to the query string)."""
    out = ""
    for arg in _APPEND.findall(body):
        char = re.fullmatch(r"'(.)'", arg.strip())
        if char is not None:
            if char.group(1) in "?&#":
                break
            out += char.group(1)
            continue
        lit = re.fullmatch(r'"([^"]*)"', arg.strip())
        if lit is None:
            if "BaseUrl" in arg:
                continue
            out += "{}"
            continue
        text = lit.group(1)
        if "?" in text or "&" in text or "=" in text:
            break
        out += text
    return "/" + out.lstrip("/") if out and not out.startswith("{}") else ""


def _go_path(expr: str) -> str:
    """`"/pets/" + pathParam0`, `fmt.Sprintf("/pets/%s", id)` -> `/pets/{}`; '' when it is no path."""
    m = re.match(r'fmt\.Sprintf\(\s*"([^"]*)"', expr)
    if m:
        return re.sub(r"%[-+ #0-9.]*[sdvqx]", "{}", m.group(1)) if m.group(1).startswith("/") else ""
    parts = [p.strip() for p in expr.split("+")]
    out = "".join(p[1:-1] if len(p) >= 2 and p[0] == p[-1] == '"' else "{}" for p in parts)
    return out if out.startswith("/") else ""


def _verb(m: re.Match[str]) -> str:
    for g in (m.group(2), m.group(3), m.group(4), m.group(5), m.group(6)):
        if g and g.upper() in _METHODS:
            return g.upper()
    return ""


def _class_of(method: Any, owner: str) -> tuple[str, bool]:
    """(enclosing class or interface name, whether it is a JS/TS default export); Go: the receiver type."""
    if owner:
        return owner, False
    p = method.parent
    while p is not None and p.type not in _CLASSES:
        p = p.parent
    if p is None:
        return "", False
    name = p.child_by_field_name("name")
    default = p.parent is not None and p.parent.type == "export_statement" and \
        any(c.type == "default" for c in p.parent.children)
    return ts.text(name), default
