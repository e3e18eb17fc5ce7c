"""Generated protobuf message types and their fields in code (Go, Python, JavaScript/TypeScript): a
message constructed from a generated package or module or named by a declared type (Go parameters,
results, fields and variables; Python annotations), its initialiser keys, and fields read through a name
typed as such a message (`req.CartId`, `req.GetCartId()`, `request.cart_id`, `req.getCartId()`) or read
in a chain (`req.GetItem().GetProductId()`), each with the import it came through. Which names hold
which message is worked out by `code_msgflow`.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Binding, Bindings, Ctx, evidence, go_external, pb_module, pb_symbol
from indexers.sources.code.facts import flat, name_node, unwrap
from indexers.sources.code.grpc import grpc_hint, receivers, rpc_call
from indexers.sources.code.msgflow import emit_field, infer, js_field, response, walk_up

_JS_PB = r"(?<!_grpc)(?<!_grpc_web)_pb(\.js)?$"
_PY_CTOR = re.compile(r"(?:([\w.]+)\.)?([A-Z]\w*)")
_ACCESSOR = re.compile(r"(?:get|set|has|clear|add)([A-Z]\w*)")
# Generated gRPC types, not messages: clients, `<Svc>ServiceServer` interfaces, stream types
# (`Svc_ListServer`), `Unimplemented`/`Unsafe` servers. A message may well be named `GameServer`.
_GO_UNIMPLEMENTED = re.compile(r"(?:Unimplemented|Unsafe)\w*Server")
_WORD = re.compile(r"\w*")


def _go_stub_type(name: str) -> bool:
    """`Client$|ServiceServer$|_\\w*Server$|^(Unimplemented|Unsafe)\\w*Server$`, in linear time: as a search,
    `_\\w*Server$` scanned the rest of the name from every `_` (a name of underscores: quadratic). The last
    `_` before the `Server` suffix is the only one to try: an earlier one has it, or a non-word character,
    in between."""
    if name.endswith(("Client", "ServiceServer")) or _GO_UNIMPLEMENTED.fullmatch(name):
        return True
    if not name.endswith("Server"):
        return False
    cut = name.rfind("_", 0, len(name) - 6)
    return cut >= 0 and _WORD.fullmatch(name, cut + 1, len(name) - 6) is not None
_GO_TYPE = re.compile(r"((?:\[\w*\])?)\*?(\w+)\.([A-Z]\w*)")  # [ ]*pkg.Name


def messages_hint(family: str, data: bytes) -> bool:
    """Whether the file could use generated messages: Python and JavaScript name the generated module."""
    if family == "python":
        return b"_pb2" in data
    if family == "javascript":
        return b"_pb" in data
    return family == "go"


def _message_of(ctx: Ctx, node: Any) -> tuple[str, list[str], Any] | None:
    """(message name, import evidence, name node) if `node` constructs a generated message."""
    node = unwrap(node)
    if node is None:
        return None
    fam = ctx.family
    if fam == "go" and node.type == "composite_literal":
        t = node.child_by_field_name("type")
        m = re.fullmatch(r"(\w+)\.([A-Z]\w*)", flat(t))
        if m and m.group(1) in ctx.imports and go_external(ctx.imports[m.group(1)]["path"]) \
                and not _go_stub_type(m.group(2)):
            return m.group(2), evidence(ctx, m.group(1)), name_node(t)
    elif fam == "python" and node.type == "call":
        callee = flat(node.child_by_field_name("function"))
        m = re.fullmatch(r"(?:([\w.]+)\.)?([A-Z]\w*)", callee)
        if m:
            ev = pb_module(ctx, m.group(1), r"_pb2$") if m.group(1) else pb_symbol(ctx, callee, r"_pb2$")
            if ev:
                return m.group(2), ev, name_node(node.child_by_field_name("function"))
    elif fam == "javascript" and node.type == "new_expression":
        t = node.child_by_field_name("constructor")
        m = re.fullmatch(r"(?:([\w$]+)\.)?([A-Z][\w$]*)", flat(t))
        if m:
            ev = pb_module(ctx, m.group(1), _JS_PB) if m.group(1) else pb_symbol(ctx, m.group(2), _JS_PB)
            if ev:
                return m.group(2), ev, name_node(t)
    return None


def _type_message(ctx: Ctx, tnode: Any, elements: bool) -> tuple[str, list[str], Any] | None:
    """(message, import evidence, name node) if a declared type names a generated message: Go
    `pb.Cart`/`*pb.Cart` (`[]*pb.Cart` too when `elements`), Python `cart_pb2.Cart` or an imported `Cart`."""
    node = tnode
    if ctx.family == "go":
        m = _GO_TYPE.fullmatch(flat(tnode))
        if not m or m.group(1) and not elements or not _go_message(ctx, m.group(2), m.group(3)):
            return None
        for _ in range(4):
            if node is None or node.type == "qualified_type":
                break
            node = node.child_by_field_name("element") if node.type != "pointer_type" else (
                node.named_children[0] if node.named_child_count else None)
        if node is None or node.type != "qualified_type":
            return None
        return m.group(3), evidence(ctx, m.group(2)), node.child_by_field_name("name")
    if ctx.family == "python" and node is not None:
        if node.type == "type" and node.named_child_count == 1:
            node = node.named_children[0]
        m = _PY_CTOR.fullmatch(flat(node))
        if not m or node.type not in ("attribute", "identifier"):
            return None
        ev = pb_module(ctx, m.group(1), r"_pb2$") if m.group(1) else pb_symbol(ctx, m.group(2), r"_pb2$")
        if ev:
            return m.group(2), ev, name_node(node)
    return None


def _go_message(ctx: Ctx, alias: str, name: str) -> bool:
    """Whether `alias.name` may be a generated message: a non-standard package's type, not a client or server."""
    imp = ctx.imports.get(alias)
    return imp is not None and go_external(imp["path"]) and not _go_stub_type(name)


def _results(ctx: Ctx, tnode: Any) -> list[Any]:
    """The type nodes of a signature's result: Go `(*pb.Cart, error)` or `*pb.Cart`, Python `-> pb.Cart`."""
    if tnode is not None and tnode.type == "parameter_list":
        return [p.child_by_field_name("type") for p in tnode.named_children if p.type == "parameter_declaration"]
    return [tnode]


def _declared(ctx: Ctx, typed: Bindings) -> dict[str, Binding | None]:
    """Emit the messages declared types name (Go parameters, fields, variables and results; Python
    annotations), bind the names declared with them, and return Python functions annotated with a message."""
    returns: dict[str, Binding | None] = {}
    if ctx.family == "go":
        for k, _t, node in ctx.f.typed:
            tnode = node.child_by_field_name("type")
            hit = _type_message(ctx, tnode, elements=True) if tnode is not None else None
            if hit:
                ctx.emit("proto.message_type", hit[2], hit[0], "", "", **{"import": hit[1]})
                # a struct field is read as `x.field`, never as a bare name: it types no variable
                if tnode.type not in ("slice_type", "array_type") and node.type != "field_declaration":
                    typed.add(k, None, (hit[0], tuple(hit[1])), typed=node)
    names: dict[str, int] = {}  # Python: how often the file defines each function (`f`) or method (`self.f`)
    if ctx.family == "python":
        annotated = {ts.text(node.child_by_field_name("name")) for k, _t, node in ctx.f.sigs if not k}
        for mnode, nnode in ctx.f.methods if annotated else ():
            if ts.text(nnode) in annotated:
                names[_callable_key(mnode)] = names.get(_callable_key(mnode), 0) + 1
    for k, tnode, node in ctx.f.sigs:
        for t in _results(ctx, tnode) if not k else [tnode]:
            hit = _type_message(ctx, t, elements=not k)
            if not hit:
                continue
            ctx.emit("proto.message_type", hit[2], hit[0], "", "", **{"import": hit[1]})
            if k:
                typed.add(k, None, (hit[0], tuple(hit[1])), typed=node)
            elif ctx.family == "python":
                fname = _callable_key(node)
                if names.get(fname) == 1:
                    returns[fname] = (hit[0], tuple(hit[1]))
    return returns


def _callable_key(fdef: Any) -> str:
    """How the file calls a Python function: `name`, or `self.name` for a method of a class."""
    name = ts.text(fdef.child_by_field_name("name"))
    parent = fdef.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    owner = parent.parent if parent is not None and parent.type == "block" else None
    return f"self.{name}" if owner is not None and owner.type == "class_definition" else name


def _responses(ctx: Ctx, typed: Bindings) -> None:
    """Bind names holding the response of an RPC called through a bound client: assigned (JavaScript:
    awaited) or a callback's second parameter (`client.getCart(req, (err, cart) => ...)`)."""
    if not grpc_hint(ctx.family, ctx.src.data) or not receivers(ctx).keys:
        return
    js = ctx.family == "javascript"
    keys = receivers(ctx).keys
    for k, left, right in ctx.f.assigns:
        if left is None or left.type != "identifier" or right is None:
            continue
        if js and right.type != "await_expression":
            continue  # a grpc-js call returns the call object, not the response
        if not _through(ctx.callee_of(right)[0], keys):
            continue
        hit = rpc_call(ctx, right)
        if hit:
            typed.add(k, left, response(*hit))
    if not js:
        return
    for c in ctx.f.calls:
        if not _through(c.callee, keys):
            continue
        args = c.args
        cb = args[-1] if len(args) >= 2 else None
        if cb is None or cb.type not in ("arrow_function", "function_expression", "function"):
            continue
        params = cb.child_by_field_name("parameters")
        ps = [p.child_by_field_name("pattern") or p for p in (params.named_children if params is not None else [])]
        if len(ps) < 2 or ps[1].type != "identifier":
            continue
        hit = rpc_call(ctx, c.node)
        if hit:
            typed.add(ts.text(ps[1]), ps[1], response(*hit))


def _through(callee: str, keys: set[str]) -> bool:
    """Whether a callee's receiver (`self._stub` in `self._stub.GetCart`) is a name bound to a client."""
    obj = callee.rpartition(".")[0]
    return bool(obj) and obj.rsplit(".", 1)[-1].lstrip("&*") in keys


def messages(ctx: Ctx) -> None:
    if ctx.family not in ("go", "python", "javascript"):
        return
    if ctx.family == "go" and not any(go_external(i["path"]) for i in ctx.f.imports):
        return  # Go messages come from an imported non-standard package
    typed = Bindings()
    for k, left, right in ctx.f.assigns:
        hit = _message_of(ctx, right)
        if hit:
            typed.add(k, left, (hit[0], tuple(hit[1])))
    returns = _declared(ctx, typed)
    _responses(ctx, typed)
    if ctx.family == "python":  # a constructor call names a class: `pb.CartRequest(...)`, `CartRequest(...)`
        ctors = [c.node for c in ctx.f.calls if _PY_CTOR.fullmatch(c.callee)]
    else:
        ctors = [n for n, *_ in ctx.f.news]
    for node in ctors:
        hit = _message_of(ctx, node)
        if not hit:
            continue
        msg, ev, at = hit
        ctx.emit("proto.message_type", at, msg, "", "", **{"import": ev})
        for key in _init_keys(ctx, node):
            ctx.emit("proto.field_access", key, ts.text(key), msg, "", **{"import": ev})
    if not typed.keys and not returns:
        return
    typed = infer(ctx, typed, returns)
    if not typed.keys:
        return
    if ctx.family == "javascript":
        for c in ctx.f.calls:
            obj, _, meth = c.callee.rpartition(".")
            m = _ACCESSOR.fullmatch(meth)
            var = typed.get(obj.rsplit(".", 1)[-1], c.node, "." in obj) if obj and m else None
            if m and var and obj.split(".", 1)[0] in ("this", obj.rsplit(".", 1)[-1]):
                name = js_field(m.group(1))
                emit_field(ctx, c.name, name, var)
                if meth.startswith("get"):
                    walk_up(ctx, c.node, var, [name])
        return
    for node, obj_node, fnode in ctx.f.late_selects():
        var = typed.get(ts.text(obj_node), node, False)
        if not var:
            continue
        name = ts.text(fnode)
        parent = node.parent
        is_call = parent is not None and parent.type in ("call_expression", "call") and \
            parent.child_by_field_name("function") == node
        if ctx.family == "go":
            if is_call:
                if not re.fullmatch(r"Get[A-Z]\w*", name):
                    continue
                name = name[3:]
            elif not name[:1].isupper():
                continue
        elif is_call or not name[:1].islower():
            continue
        emit_field(ctx, fnode, name, var)
        walk_up(ctx, parent if is_call else node, var, [name])


def _init_keys(ctx: Ctx, node: Any) -> list[Any]:
    if ctx.family == "go":
        body = node.child_by_field_name("body")
        keys = []
        for el in body.named_children if body is not None else []:
            key = el.child_by_field_name("key") if el.type == "keyed_element" else None
            if key is not None and key.named_child_count and key.named_children[0].type in ("identifier",
                                                                                             "field_identifier"):
                keys.append(key.named_children[0])
        return keys
    if ctx.family == "python":
        args = node.child_by_field_name("arguments")
        return [a.child_by_field_name("name") for a in (args.named_children if args else [])
                if a.type == "keyword_argument"]
    return []
