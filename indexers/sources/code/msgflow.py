"""Local type inference for generated messages, inside one file: which names hold a message, and which
message a chain of field reads reaches.

A name is typed by what the file shows of it: a constructor, a declared type (Go parameter, field or
variable; Python annotation), the response of an RPC called through a bound client (assigned, awaited or
a callback's second parameter), the annotated result of a function of the same file, or a field read on a
name already typed (`item := req.GetItem()`, `for item in cart.items`). Extraction cannot see the
contracts, so a type is written as a path — a message (or `@Service.Rpc` for an RPC's response) and the
fields read from it — that linking follows through the fields' declared types. A field read is emitted
with that path (`qualifier` + attrs `via`/`response_of`); linking keeps it only if every step names a
message field of the contract.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.sources.code.ctx import UNKNOWN, Binding, Bindings, Ctx
from indexers.sources.code.facts import flat, unwrap

MAX_CHAIN = 8
_ACCESSOR = re.compile(r"(?:get|set|has|clear|add)([A-Z]\w*)")
_JS_GETTER = re.compile(r"get([A-Z]\w*)")
_GO_GETTER = re.compile(r"Get([A-Z]\w*)")


def response(service: str, rpc: str, ev: list[str]) -> Binding:
    """The binding of a name holding the response of an RPC."""
    return f"@{service}.{rpc}", tuple(ev)


def extend(b: Binding, fields: list[str]) -> Binding:
    return "/".join([b[0], *fields]), b[1]


def emit_field(ctx: Ctx, node: Any, name: str, b: Binding, more: list[str] | tuple[str, ...] = ()) -> None:
    head, *via = b[0].split("/")
    via.extend(more)
    attrs: dict[str, Any] = {"import": list(b[1])}
    if via:
        attrs["via"] = via
    if head.startswith("@"):
        attrs["response_of"] = head[1:]
        head = ""
    ctx.emit("proto.field_access", node, name, head, "", **attrs)


def js_field(name: str) -> str:
    name = re.sub(r"(List|Map)$", "", name)
    return name[:1].lower() + name[1:]


def _getter(fam: str, call: Any, fn: Any, name: str) -> str | None:
    """The field a no-argument getter call reads (`GetItem()` -> Item, `getItemsList()` -> items)."""
    args = call.child_by_field_name("arguments")
    if args is not None and args.named_child_count:
        return None
    m = (_GO_GETTER if fam == "go" else _JS_GETTER).fullmatch(name)
    if not m:
        return None
    return m.group(1) if fam == "go" else js_field(m.group(1))


def chain_of(ctx: Ctx, expr: Any) -> tuple[Any, list[str]] | None:
    """(base identifier, fields read in order) if `expr` is a chain of field reads on a plain name:
    `req.GetItem()`, `cart.items`, `cart.getItemsList()`."""
    fam = ctx.family
    node = unwrap(expr)
    fields: list[str] = []
    for _ in range(MAX_CHAIN):
        if node is None:
            return None
        t = node.type
        if t == "identifier":
            return (node, fields[::-1]) if fields else None
        if fam in ("go", "javascript") and t == "call_expression":
            fn = node.child_by_field_name("function")
            if fn is None or fn.type not in ("selector_expression", "member_expression"):
                return None
            prop = fn.child_by_field_name("field" if fam == "go" else "property")
            got = _getter(fam, node, fn, prop.text.decode() if prop is not None and prop.text else "")
            if got is None:
                return None
            fields.append(got)
            node = fn.child_by_field_name("operand" if fam == "go" else "object")
        elif fam == "go" and t == "selector_expression":
            f = node.child_by_field_name("field")
            name = f.text.decode() if f is not None and f.text else ""
            if not name[:1].isupper():
                return None
            fields.append(name)
            node = node.child_by_field_name("operand")
        elif fam == "python" and t == "attribute":
            f = node.child_by_field_name("attribute")
            name = f.text.decode() if f is not None and f.text else ""
            if not name[:1].islower():
                return None
            fields.append(name)
            node = node.child_by_field_name("object")
        else:
            return None
    return None


def walk_up(ctx: Ctx, current: Any, b: Binding, via: list[str]) -> None:
    """Field reads chained on `current` (which reads the last of `via` from `b`): `.GetProductId()` on
    `req.GetItem()`, `.product_id` on `req.item`."""
    fam = ctx.family
    via = list(via)
    for _ in range(MAX_CHAIN):
        parent = current.parent
        if parent is None:
            return
        if fam == "go" and parent.type == "selector_expression" and parent.child_by_field_name("operand") == current:
            f = parent.child_by_field_name("field")
            name = f.text.decode() if f is not None and f.text else ""
            gp = parent.parent
            if gp is not None and gp.type == "call_expression" and gp.child_by_field_name("function") == parent:
                got = _getter(fam, gp, parent, name)
                if got is None:
                    return
                name, nxt = got, gp
            elif name[:1].isupper():
                nxt = parent
            else:
                return
        elif fam == "python" and parent.type == "attribute" and parent.child_by_field_name("object") == current:
            f = parent.child_by_field_name("attribute")
            name = f.text.decode() if f is not None and f.text else ""
            gp = parent.parent
            if not name[:1].islower() or (gp is not None and gp.type == "call"
                                           and gp.child_by_field_name("function") == parent):
                return
            nxt = parent
        elif fam == "javascript" and parent.type == "member_expression" and \
                parent.child_by_field_name("object") == current:
            f = parent.child_by_field_name("property")
            gp = parent.parent
            if gp is None or gp.type != "call_expression" or gp.child_by_field_name("function") != parent:
                return
            got = _getter(fam, gp, parent, f.text.decode() if f is not None and f.text else "")
            if got is None:
                return
            name, nxt = got, gp
        else:
            return
        emit_field(ctx, f, name, b, via)
        via.append(name)
        current = nxt


_CHAIN_TYPES = frozenset({"call", "call_expression", "selector_expression", "attribute", "member_expression",
                          "await_expression", "parenthesized_expression"})
Derivation = tuple[str, Any, str, list[str]]  # name, its node, the typed name read, fields read from it


def derivations(ctx: Ctx, typed: Bindings, returns: dict[str, Binding | None]) -> list[Derivation]:
    """Names assigned or looped over a chain of field reads on a plain name (read once per file; which
    of them are typed depends on the bindings), or (Python) the result of a same-file annotated function,
    written as a read of the function's key with no fields."""
    out: list[Derivation] = []
    cands = [(k, left, right) for k, left, right in [*ctx.f.assigns, *ctx.f.loops]
             if k != "_" and left is not None and right is not None and left.type == "identifier"
             and right.type in _CHAIN_TYPES]
    names = typed.keys | {k for k, _l, _r in cands}  # what a chain's base must be to be typed at all
    for k, left, right in cands:
        callee, call = ctx.callee_of(right)
        text = callee if call is not None else flat(right)
        if text.split(".", 1)[0] not in names and text not in returns:
            continue
        if ctx.family == "go" and left.parent is not None and left.parent.type == "literal_element":
            continue  # a key of a composite literal (`{CartId: req.CartId}`) names a field, not a variable
        got = chain_of(ctx, right)
        if got is not None:
            out.append((k, left, got[0].text.decode() if got[0].text else "", got[1]))
        elif call is not None and callee in returns:
            out.append((k, left, "()" + callee, []))
    return out


def derive(typed: Bindings, found: list[Derivation], returns: dict[str, Binding | None]) -> None:
    """Bind the derivations whose base is typed; two rounds, so one derived name may type another."""
    for _ in range(2):
        added = False
        for k, left, base, fields in found:
            if base.startswith("()"):
                b = returns.get(base[2:])
            elif base in typed.keys:
                b = typed.get(base, left, False)
                b = extend(b, fields) if b else None
            else:
                continue
            if b is not None and left.id not in typed.lefts:
                typed.add(k, left, b)
                added = True
        if not added:
            return


def unbound(ctx: Ctx, typed: Bindings, skip: set[int]) -> list[tuple[str, Any]]:
    """Plain names of the file's typed names also assigned (or looped over) something untyped (their
    binding nodes, except those in `skip`)."""
    return [(k, left) for k, left, _right in [*ctx.f.assigns, *ctx.f.loops]
            if k in typed.keys and left is not None and left.type == "identifier" and left.id not in typed.lefts
            and left.id not in skip]


def infer(ctx: Ctx, typed: Bindings, returns: dict[str, Binding | None]) -> Bindings:
    """`typed` (the names typed by what they were built from) with the names derived from them. A name
    also assigned something untyped in the same function is ambiguous there (`item := req.GetItem();
    item = lookup(id); item.GetProductId()` reads no message field), and so is what was derived from it."""
    found = derivations(ctx, typed, returns) if typed.keys or returns else []
    if found:  # names derived from others are ambiguous only if the derivation fails: decided below
        typed.keys.update(k for k, *_ in found)
    for k, left in unbound(ctx, typed, {left.id for _k, left, *_ in found}):
        typed.add(k, left, UNKNOWN)
    if not found:
        return typed
    before = typed.copy()
    derive(typed, found, returns)
    failed = unbound(ctx, typed, set())  # derivations whose base is untyped
    if not failed:
        return typed
    if {k for k, _ in failed} & {base for _k, left, base, _f in found if left.id in typed.lefts}:
        typed = before  # a name something was derived from is ambiguous after all: derive again
        for k, left in failed:
            typed.add(k, left, UNKNOWN)
        derive(typed, found, returns)
        failed = unbound(ctx, typed, set())
    for k, left in failed:
        typed.add(k, left, UNKNOWN)
    return typed
