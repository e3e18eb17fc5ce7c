"""Generated protobuf message types and their fields in code (Go, Python, JavaScript/TypeScript): a
message constructed from a generated package or module, its initialiser keys, and fields read through a
name bound to such a message (`req.CartId`, `req.GetCartId()`, `request.cart_id`, `req.getCartId()`),
each with the import it came through.
"""

from __future__ import annotations

import re
from typing import Any

from .. import ts
from .code_ctx import Bindings, Ctx, evidence, go_external, pb_module, pb_symbol
from .code_facts import flat, name_node, unwrap

_JS_PB = r"(?<!_grpc)(?<!_grpc_web)_pb(\.js)?$"
_PY_CTOR = re.compile(r"(?:([\w.]+)\.)?([A-Z]\w*)")
_ACCESSOR = re.compile(r"(?:get|set|has|clear|add)([A-Z]\w*)")


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
                and not re.search(r"(Client|Server)$", m.group(2)):
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
    if ctx.family == "go":
        for k, t, tnode in ctx.f.typed:
            m = re.fullmatch(r"(\w+)\.([A-Z]\w*)", t)
            if m and m.group(1) in ctx.imports and go_external(ctx.imports[m.group(1)]["path"]) \
                    and not re.search(r"(Client|Server)$", m.group(2)):
                typed.add(k, None, (m.group(2), tuple(evidence(ctx, m.group(1)))), typed=tnode)
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
    if not typed.keys:
        return
    if ctx.family == "javascript":
        for c in ctx.f.calls:
            obj, _, meth = c.callee.rpartition(".")
            m = _ACCESSOR.fullmatch(meth)
            var = typed.get(obj.rsplit(".", 1)[-1], c.node, "." in obj) if obj and m else None
            if m and var and obj.split(".", 1)[0] in ("this", obj.rsplit(".", 1)[-1]):
                name = re.sub(r"(List|Map)$", "", m.group(1))
                ctx.emit("proto.field_access", c.name, name[:1].lower() + name[1:], var[0], "",
                         **{"import": list(var[1])})
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
        ctx.emit("proto.field_access", fnode, name, var[0], "", **{"import": list(var[1])})


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
