"""gRPC in code: servers (generated base classes and registrations), their methods, clients and stubs
(constructed, assigned or declared with a client type), and calls made through them.

Every usage carries the import it came through (a generated package or module), which linking checks
against the proto package. Each check starts with a plain substring test on the callee or type text
(`Client`, `Stub`, `Register`, ...), so the common call that is not gRPC costs no regex and no tree walk.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Bindings, Ctx, evidence, go_external, pb_module, pb_symbol
from indexers.sources.code.facts import Call, flat, key_of, name_node
from indexers.sources.code.grpcgo import emit_factories, emit_fields, emit_handlers, field_call, impl_of
from indexers.sources.code.grpcjs import client as js_client
from indexers.sources.code.grpcjs import client_type as js_client_type
from indexers.sources.code.grpcjs import grpc_file, namespace_evidence, promisified

# A file with none of these bytes can hold no gRPC usage of its language (see `grpc_hint`).
_HINT = {"go": (b"Server", b"Client", b"context.Context"), "python": (b"Servicer", b"Stub", b"request, context"),
         "java": (b"Grpc", b"StreamObserver"), "csharp": (b"Base", b"Client", b"ServerCallContext"),
         "javascript": (b"Client", b"grpc", b"addService")}
# The text every client-creating callee of a language contains (JavaScript: unless the file imports gRPC).
_CLIENT_TOKEN = {"go": "Client", "python": "Stub", "java": "Stub", "csharp": "Client", "javascript": "Client"}

_OBJECT_METHODS = {"toString", "equals", "hashCode", "ToString", "Equals", "GetHashCode", "Dispose", "finalize"}
_NOT_RPC = re.compile(r"^(with\w*|close|Close|getChannel|shutdown\w*|awaitTermination|Dispose|toString|equals|hashCode)$")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_WITH = re.compile(r"\.with\w+$")

_GO_SERVER = re.compile(r"(\w+)\.(?:Unimplemented|Unsafe)(\w+)Server")
_PY_SERVER = re.compile(r"(?:([\w.]+)\.)?(\w+)Servicer")
_JAVA_SERVER = re.compile(r"(?:[\w.]+\.)?(\w+)Grpc\.(\w+)ImplBase")
_CS_SERVER = re.compile(r"(?:[\w.]+\.)?(\w+)\.(\w+)Base")
_GO_NEW_CLIENT = re.compile(r"(\w+)\.New(\w+)Client")
_PY_STUB = re.compile(r"(?:([\w.]+)\.)?(\w+)Stub")
_JAVA_NEW_STUB = re.compile(r"(?:[\w.]+\.)?(\w+)Grpc\.new(?:Blocking|Future)?Stub")
_CS_NEW_CLIENT = re.compile(r"new (?:[\w.]+\.)?(\w+)\.(\w+)Client")
_GO_CLIENT_TYPE = re.compile(r"(\w+)\.(\w+)Client")
_JAVA_STUB_TYPE = re.compile(r"(?:[\w.]+\.)?(\w+)Grpc\.(\w+?)(?:Blocking|Future)?Stub")
_CS_CLIENT_TYPE = re.compile(r"(?:[\w.]+\.)?(\w+)\.(\w+)Client")
_GO_REGISTER = re.compile(r"(\w+)\.Register(\w+)Server")
_PY_REGISTER = re.compile(r"(?:([\w.]+)\.)?add_(\w+)Servicer_to_server")
_JS_SERVICE = re.compile(r"(?:((?:[\w$]+\.)*)([\w$]+)\.service|([\w$]+)Service)")

Hit = tuple[str, list[str]]  # (service, import evidence)


def grpc_hint(family: str, data: bytes) -> bool:
    """Whether the file's bytes could hold a gRPC usage at all (a necessary condition, never sufficient)."""
    return any(tok in data for tok in _HINT.get(family, ()))


def server_base(ctx: Ctx, base: str) -> Hit | None:
    fam = ctx.family
    if fam == "go":
        m = _GO_SERVER.fullmatch(base)
        if m and m.group(1) in ctx.imports:
            return m.group(2), evidence(ctx, m.group(1))
    elif fam == "python":
        m = _PY_SERVER.fullmatch(base)
        if m:
            ev = pb_module(ctx, m.group(1), r"_pb2_grpc$") if m.group(1) else pb_symbol(ctx, base, r"_pb2_grpc$")
            if ev:
                return m.group(2), ev
    elif fam == "java":
        m = _JAVA_SERVER.fullmatch(base)
        if m and m.group(1) == m.group(2):
            return m.group(1), evidence(ctx, m.group(1) + "Grpc") or evidence(ctx)
    elif fam == "csharp":
        m = _CS_SERVER.fullmatch(base)
        if m and m.group(1) == m.group(2):
            return m.group(1), evidence(ctx)
    return None


def client_of(ctx: Ctx, node: Any) -> Hit | None:
    """The gRPC service whose client/stub `node` creates, with its import evidence."""
    callee, n = ctx.callee_of(node)
    return _client_from(ctx, callee, n) if callee else None


def _js_grpc_file(ctx: Ctx) -> bool:
    return grpc_file(ctx)


_RETURNS = ("returns", "type", "return_type", "result")
_SELF = re.compile(r"(?:this\.|self\.)?([A-Za-z_$][\w$]*)")


def returned_clients(ctx: Ctx) -> dict[str, Hit]:
    """{function or method name: the client it returns} for the file's functions and methods whose declared
    return type is a gRPC client or stub (`private Basket.BasketClient GetBasketClient()`, `def stub() ->
    cart_pb2_grpc.CartStub`, `function client(): CartServiceClient`): a call of one holds that client."""
    got = ctx.memo.get(("returned_clients",))
    if got is not None:
        return got  # type: ignore[no-any-return]
    found: dict[str, list[Hit]] = {}
    token = _CLIENT_TOKEN[ctx.family]
    decls = [(m, n) for m, n in ctx.f.methods]
    if ctx.family in ("go", "javascript"):  # functions are not among the methods there
        root = ctx.src.tree(ctx.lang).root_node
        for node in root.named_children:
            node = node.child_by_field_name("declaration") or node if node.type == "export_statement" else node
            if node.type == "function_declaration":
                decls.append((node, node.child_by_field_name("name")))
    for mnode, nnode in decls:
        tnode = next((t for t in (mnode.child_by_field_name(f) for f in _RETURNS) if t is not None), None)
        if tnode is None or nnode is None:
            continue
        if tnode.type in ("type_annotation", "type") and tnode.named_child_count:
            tnode = tnode.named_children[0]
        text = flat(tnode).lstrip("*")
        if ctx.family == "go" and tnode.type == "parameter_list":
            first = tnode.named_children[0] if tnode.named_child_count else None
            text = flat(first.child_by_field_name("type")).lstrip("*") if first is not None else ""
        hit = client_type(ctx, text) if token in text else None
        if hit:
            found.setdefault(ts.text(nnode), []).append(hit)
    got = ctx.memo[("returned_clients",)] = {k: v[0] for k, v in found.items() if len({h[0] for h in v}) == 1}
    return got


def _client_from(ctx: Ctx, callee: str, n: Any) -> Hit | None:
    """`client_of` for a callee already read (`n` is the call or construction node)."""
    fam = ctx.family
    returned = returned_clients(ctx)
    if returned and not callee.startswith("new "):
        m = _SELF.fullmatch(callee)
        if m and m.group(1) in returned:
            return returned[m.group(1)]
    if fam == "go":
        if "Client" not in callee:
            return None
        m = _GO_NEW_CLIENT.fullmatch(callee)
        if m and m.group(1) in ctx.imports and go_external(ctx.imports[m.group(1)]["path"]):
            return m.group(2), evidence(ctx, m.group(1))
    elif fam == "python":
        if "Stub" not in callee:
            return None
        m = _PY_STUB.fullmatch(callee)
        if m:
            ev = pb_module(ctx, m.group(1), r"_pb2_grpc$") if m.group(1) else pb_symbol(ctx, callee, r"_pb2_grpc$")
            if ev:
                return m.group(2), ev
    elif fam == "java":
        if "Stub" not in callee:
            return None
        m = _JAVA_NEW_STUB.fullmatch(callee)
        if m:
            return m.group(1), evidence(ctx, m.group(1) + "Grpc") or evidence(ctx)
    elif fam == "csharp":
        if "Client" not in callee:
            return None
        m = _CS_NEW_CLIENT.fullmatch(callee)
        if m and m.group(1) == m.group(2):
            return m.group(1), evidence(ctx)
    elif fam == "javascript":
        return js_client(ctx, callee, n)
    return None


def client_type(ctx: Ctx, type_text: str) -> Hit | None:
    fam = ctx.family
    if fam == "csharp" and type_text in ctx.imports:  # `using GrpcBasketClient = X.Basket.BasketClient;`
        type_text = ctx.imports[type_text]["path"]
    if _CLIENT_TOKEN[fam] not in type_text:
        return None
    if fam == "go":
        m = _GO_CLIENT_TYPE.fullmatch(type_text)
        if m and m.group(1) in ctx.imports and go_external(ctx.imports[m.group(1)]["path"]):
            return m.group(2), evidence(ctx, m.group(1))
    elif fam == "java":
        m = _JAVA_STUB_TYPE.fullmatch(type_text)
        if m and m.group(1) == m.group(2):
            return m.group(1), evidence(ctx, m.group(1) + "Grpc") or evidence(ctx)
    elif fam == "csharp":
        m = _CS_CLIENT_TYPE.fullmatch(type_text)
        if m and m.group(1) == m.group(2):
            return m.group(1), evidence(ctx)
    elif fam == "python":
        m = _PY_STUB.fullmatch(type_text)
        if m:
            ev = pb_module(ctx, m.group(1), r"_pb2_grpc$") if m.group(1) else pb_symbol(ctx, type_text, r"_pb2_grpc$")
            if ev:
                return m.group(2), ev
    elif fam == "javascript":
        return js_client_type(ctx, type_text)
    return None


def receivers(ctx: Ctx) -> Bindings:
    """Names (variables, fields, attributes) bound to a gRPC client or stub (computed once per file)."""
    got = ctx.memo.get(("grpc_receivers",))
    if got is None:
        got = ctx.memo[("grpc_receivers",)] = _receivers(ctx)
    return got  # type: ignore[no-any-return]


def rpc_call(ctx: Ctx, call: Any) -> tuple[str, str, list[str]] | None:
    """(service, method, import evidence) if `call` calls an RPC through a bound client or stub."""
    callee, node = ctx.callee_of(call)
    if node is None or "." not in callee:
        return None
    meth = callee.rsplit(".", 1)[1]
    if not _IDENT.fullmatch(meth) or _NOT_RPC.match(meth):
        return None
    hit = _receiver_of(ctx, node, receivers(ctx))
    return (hit[0], meth, hit[1]) if hit else None


def _receivers(ctx: Ctx) -> Bindings:
    out = Bindings()
    for k, left, right in ctx.f.assigns:
        hit = client_of(ctx, right)
        if hit:
            out.add(k, left, (hit[0], tuple(hit[1])))
    for k, t, node in ctx.f.typed:
        hit = client_type(ctx, t)
        if hit:
            out.add(k, None, (hit[0], tuple(hit[1])), typed=node)
    return out


def grpc(ctx: Ctx) -> None:
    fam = ctx.family
    _servers(ctx)
    recv = receivers(ctx)
    token = None if fam == "javascript" and _js_grpc_file(ctx) else _CLIENT_TOKEN[fam]
    keys = (*recv.keys, *returned_clients(ctx))
    creates = fam in ("go", "python", "java", "javascript")  # C# clients are `new` expressions
    for c in ctx.f.calls:
        callee = c.callee
        _registration(ctx, c)
        if creates:
            created = _client_from(ctx, callee, c.node)
            if created:  # JavaScript: a factory call, `createClient(CartService, transport)`
                at = c.args[0] if fam == "javascript" and c.args else c.name
                ctx.emit("grpc.client", at, "", created[0], "consumes", **{"import": created[1]})
        if fam == "javascript" and (wrapped := promisified(callee, c.node, c.args)) is not None:
            hit = _receiver_of(ctx, wrapped, recv, member=True)
            if hit:
                prop = wrapped.child_by_field_name("property")
                ctx.emit("grpc.call", prop, ts.text(prop), hit[0], "consumes", **{"import": hit[1]})
            continue
        if "." not in callee:
            continue
        # The receiver's text is part of the callee text: it can name a bound receiver or create a client
        # only if the callee text holds that receiver's name or the client token.
        if token is not None and token not in callee and not any(k in callee for k in keys):
            if fam == "go" and callee.count(".") >= 2:
                _go_field_call(ctx, c)
            continue
        meth = callee.rsplit(".", 1)[1]
        if not _IDENT.fullmatch(meth) or _NOT_RPC.match(meth):
            continue
        hit = _receiver_of(ctx, c.node, recv)
        if hit:
            ctx.emit("grpc.call", c.name, meth, hit[0], "consumes", **{"import": hit[1]})
        elif fam == "go" and callee.count(".") >= 2:
            _go_field_call(ctx, c)
    if fam in ("csharp", "javascript"):
        for node, _t, tnode in ctx.f.news:
            created = client_of(ctx, node)
            if created:
                ctx.emit("grpc.client", name_node(tnode), "", created[0], "consumes", **{"import": created[1]})


def _go_field_call(ctx: Ctx, c: Call) -> None:
    """A call on a field whose struct is declared in another file of the package (`grpcgo.field_call`)."""
    meth = c.callee.rsplit(".", 1)[1]
    if _NOT_RPC.match(meth):
        return
    got = field_call(ctx, c.node)
    if got is not None:
        ctx.emit("grpc.field_call", c.name, meth, "", "consumes", struct=got[0], field=got[1])


def _servers(ctx: Ctx) -> None:
    """Classes (Go: structs) extending a generated server base, and their RPC methods."""
    by_class: dict[int, Hit] = {}
    go_structs: dict[str, Hit] = {}
    for name, node, bases in ctx.f.classes:
        for b in bases:
            hit = server_base(ctx, flat(b).split("<", 1)[0])
            if not hit:
                continue
            by_class[node.id] = hit
            go_structs[name] = hit
            at = name_node(b) if ctx.family == "go" else node.child_by_field_name("name")
            impl = {"impl_type": name, "impl_pkg": ""} if ctx.family == "go" else {"impl_class": name}
            ctx.emit("grpc.server", at or node, "", hit[0], "provides", **{"import": hit[1]}, **impl)
    if ctx.family == "go":
        emit_handlers(ctx, set(go_structs))
        emit_factories(ctx, client_type)
        emit_fields(ctx, client_type)
    else:
        _subclass_handlers(ctx, by_class)
    if not by_class:
        return
    for mnode, nnode in ctx.f.methods:
        name = ts.text(nnode)
        if ctx.family == "go":
            owner = go_structs.get(ctx.f.owners.get(mnode.id, ""))
            if owner and name[:1].isupper() and not name.startswith("mustEmbed"):
                ctx.emit("grpc.server_method", nnode, name, owner[0], "provides", **{"import": owner[1]})
            continue
        cls = ctx.enclosing(mnode, ("class_definition", "class_declaration"))
        if cls is None or cls.id not in by_class:
            continue
        mods = " ".join(ts.text(c) for c in mnode.children if c.type in ("modifiers", "modifier"))
        if ctx.family == "python" and (name.startswith("_") or ctx.enclosing(mnode, ("function_definition",))):
            continue
        if ctx.family == "java" and "@Override" not in mods:
            continue
        if ctx.family == "csharp" and "override" not in mods.split() or name in _OBJECT_METHODS:
            continue
        svc, ev = by_class[cls.id]
        ctx.emit("grpc.server_method", nnode, name, svc, "provides", **{"import": ev})


def _handler_shape(ctx: Ctx, mnode: Any, mods: str) -> bool:
    """Whether a method has the signature generated servers give their rpcs: Python `(self, request,
    context)` (`request_iterator` for client streaming), Java an `@Override` taking a `StreamObserver`, C# an
    `override` taking a `ServerCallContext`."""
    params = mnode.child_by_field_name("parameters")
    if params is None:
        return False
    if ctx.family == "python":
        names = [ts.text(p) for p in params.named_children]
        return len(names) == 3 and names[0] == "self" and names[1] in ("request", "request_iterator") \
            and names[2] == "context"
    text = ts.text(params)
    if ctx.family == "java":
        return "@Override" in mods and "StreamObserver" in text
    if ctx.family == "csharp":
        return "override" in mods.split() and "ServerCallContext" in text
    return False


def _subclass_handlers(ctx: Ctx, servers: dict[int, Hit]) -> None:
    """Handler-shaped methods of classes that extend something other than a generated server base (an
    intermediate base class, here or in another file): `grpc.impl_method` with the class's bases, which
    linking follows to a class that does extend the generated base."""
    derived = {node.id: (name, [flat(b).split("<", 1)[0].rsplit(".", 1)[-1] for b in bases])
               for name, node, bases in ctx.f.classes if node.id not in servers and bases}
    if not derived:
        return
    for mnode, nnode in ctx.f.methods:
        cls = ctx.enclosing(mnode, ("class_definition", "class_declaration"))
        if cls is None or cls.id not in derived:
            continue
        mods = " ".join(ts.text(c) for c in mnode.children if c.type in ("modifiers", "modifier"))
        if ctx.family == "python" and mnode.parent is not None and mnode.parent.type == "decorated_definition":
            mods = ts.text(mnode.parent)
        if not _handler_shape(ctx, mnode, mods):
            continue
        name, bases = derived[cls.id]
        ctx.emit("grpc.impl_method", nnode, ts.text(nnode), name, "provides", bases=bases,
                 **{"import": evidence(ctx) if ctx.family != "python" else []})


def _py_library_impl(ctx: Ctx, node: Any) -> dict[str, str]:
    """A servicer constructed from an installed library (`health.HealthServicer()` of `grpc_health.v1`):
    {impl_ctor, impl_pkg} with the library's module, so linking can tell a standard implementation."""
    callee, n = ctx.callee_of(node)
    mod, _, ctor = callee.rpartition(".")
    imp = ctx.imports.get(mod) if n is not None and mod else None
    return {"impl_ctor": ctor, "impl_pkg": imp["path"]} if imp is not None else {}


def _object_of(call: Any) -> Any:
    fn = call.child_by_field_name("function")
    if fn is None:
        return call.child_by_field_name("object")
    return next((fn.child_by_field_name(f) for f in ("operand", "object", "expression") if fn.child_by_field_name(f)),
                None)


def _receiver_of(ctx: Ctx, call: Any, recv: Bindings, member: bool = False) -> Hit | None:
    """The client a call is made through (with `member`, `call` is a member expression naming a method)."""
    obj = call.child_by_field_name("object") if member else _object_of(call)
    for _ in range(4):  # java/csharp: stub.withDeadlineAfter(...).getCart(...)
        if obj is None:
            return None
        c, inner = ctx.callee_of(obj)
        if inner is None or not _WITH.search(c):
            break
        obj = _object_of(inner)
    if obj is None:
        return None
    if ctx.callee_of(obj)[1] is not None:
        return client_of(ctx, obj)
    k = key_of(obj)
    hit = recv.get(k, call, obj.type != "identifier") if k else None
    return (hit[0], list(hit[1])) if hit else None


def _registration(ctx: Ctx, c: Call) -> None:
    fam, callee = ctx.family, c.callee
    if fam == "go":
        m = _GO_REGISTER.fullmatch(callee) if "Register" in callee else None
        if m and m.group(1) in ctx.imports and go_external(ctx.imports[m.group(1)]["path"]):
            impl = impl_of(ctx, c.args[1]) if len(c.args) >= 2 else {}
            ctx.emit("grpc.server", c.name, "", m.group(2), "provides", **{"import": evidence(ctx, m.group(1))}, **impl)
    elif fam == "python":
        m = _PY_REGISTER.fullmatch(callee) if "_to_server" in callee else None
        if m:
            ev = pb_module(ctx, m.group(1), r"_pb2_grpc$") if m.group(1) else pb_symbol(ctx, callee, r"_pb2_grpc$")
            if ev:
                impl = _py_library_impl(ctx, c.args[0]) if c.args else {}
                ctx.emit("grpc.server", c.name, "", m.group(2), "provides", **{"import": ev}, **impl)
    elif fam == "javascript" and callee.endswith(".addService") and len(c.args) >= 2:
        args = c.args
        m = _JS_SERVICE.fullmatch(flat(args[0]))
        if not m or args[1].type != "object":
            return
        svc = m.group(2) or m.group(3)
        ev = namespace_evidence(ctx, m.group(1).rstrip(".")) if m.group(1) else pb_symbol(ctx, flat(args[0]), r".") or []
        ctx.emit("grpc.server", c.name, "", svc, "provides", **{"import": ev})
        for prop in args[1].named_children:
            key = prop.child_by_field_name("key") or prop.child_by_field_name("name") or (
                prop if prop.type == "shorthand_property_identifier" else None)
            if key is not None:
                ctx.emit("grpc.server_method", key, ts.text(key).strip("'\""), svc, "provides", **{"import": ev})
