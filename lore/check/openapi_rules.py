"""OpenAPI / Swagger breaking-change rules, after oasdiff's breaking checks (its rule IDs).

Operations are matched by `METHOD /path`, parameters by (in, name), properties of component schemas by
ID. Whether a schema's change breaks requests or responses depends on where the operations use it:
schemas reachable from request bodies/parameters get the request rules, those reachable from responses
the response rules, and schemas no operation reaches (fragments used elsewhere) both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from indexers.model import Entity
from lore.check.findings import Change
from lore.check.view import View

_WIDER_FORMAT = {("int32", "int64"), ("float", "double")}


def _refs(value: Any) -> Iterable[str]:
    """Every resolved schema id inside attrs (`ref_id`, `schema_id`, `items_id`, nested)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith("_id") and k != "operationId" and isinstance(v, str) and v.startswith("openapi:"):
                yield v
            elif isinstance(v, (dict, list)):
                yield from _refs(v)
    elif isinstance(value, list):
        for x in value:
            yield from _refs(x)


def _reach(view: View, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        ident = todo.pop()
        if ident in seen:
            continue
        seen.add(ident)
        e = view.get(ident)
        if e is None:
            continue
        todo.extend(_refs(e.attrs))
        todo.extend(k.id for k in view.kids(ident, "openapi.property"))
    return seen


def directions(view: View) -> tuple[set[str], set[str]]:
    req: list[str] = []
    resp: list[str] = []
    for op in view.of_kind("openapi.operation"):
        req += _refs(op.attrs.get("parameters"))
        req += _refs(op.attrs.get("request_body"))
        resp += _refs(op.attrs.get("responses"))
    return _reach(view, req), _reach(view, resp)


def _type(attrs: dict[str, Any], prefix: str = "") -> tuple[Any, Any]:
    p = f"{prefix}_" if prefix else ""
    return attrs.get(f"{p}type"), attrs.get(f"{p}format")


def type_change(old: dict[str, Any], new: dict[str, Any], request: bool, prefix: str = "") -> str:
    """A description of a breaking type change of a schema ('' when compatible) in this direction."""
    (ot, of), (nt, nf) = _type(old, prefix), _type(new, prefix)
    if ot is None or nt is None:
        return ""  # untyped or a $ref: not compared structurally
    if ot != nt:
        if request and (ot, nt) == ("integer", "number") or not request and (ot, nt) == ("number", "integer"):
            return ""
        return f"type changed from {ot} to {nt}"
    if of == nf:
        it = type_change(old, new, request, "items") if not prefix and ot == "array" else ""
        return f"items {it}" if it else ""
    if of and nf:
        wider = (of, nf) in _WIDER_FORMAT
        if wider == request:
            return ""
        return f"format changed from {of} to {nf}"
    if request and nf and not of:
        return f"format narrowed to {nf}"
    return ""


def _enum_removed(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[Any]:
    out: list[Any] = []
    for p in ([prefix] if prefix else ["", "items"]):
        key = f"{p}_enum" if p else "enum"
        a, b = old.get(key), new.get(key)
        if isinstance(a, list) and isinstance(b, list):
            out += [v for v in a if v not in b]
    return out


def _fmt(values: list[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def compare(base: View, head: View) -> list[Change]:
    out: list[Change] = []
    b_req, b_resp = directions(base)
    h_req, h_resp = directions(head)
    req, resp = b_req | h_req, b_resp | h_resp
    for old in base.by_id.values():
        new = head.get(old.id)
        if old.kind == "openapi.operation":
            if new is None:
                if not old.attrs.get("deprecated"):
                    out.append(Change("api-removed-without-deprecation", f"{old.name} was removed without being deprecated first",
                                      old.id, old, anchor=head.get(old.parent), fixes=("deprecate", "restore")))
            else:
                out += _operation(old, new)
        elif old.kind == "openapi.property":
            if old.parent not in head:
                continue  # the whole schema went: what breaks shows on the operations that used it
            both = old.id not in req and old.id not in resp and (old.parent or "") not in req | resp
            in_req, in_resp = both or old.id in req, both or old.id in resp
            out += _property(old, new, head.get(old.parent), in_req, in_resp)
    for new in head.of_kind("openapi.property"):
        if new.id in base or new.parent not in base:
            continue
        both = new.parent not in req and new.parent not in resp
        if (both or new.parent in req) and new.attrs.get("required") and not new.attrs.get("readOnly"):
            out.append(Change("new-required-request-property", f"new required property {new.name!r} in "
                              f"{new.parent.split(':schema:', 1)[-1] if new.parent else '?'}", new.id, None, new))
    return out


def _property(old: Entity, new: Entity | None, parent: Entity | None, in_req: bool, in_resp: bool) -> list[Change]:
    out: list[Change] = []
    name = old.id.split(":schema:", 1)[-1]
    if new is None:
        if in_resp and old.attrs.get("required") and not old.attrs.get("writeOnly"):
            out.append(Change("response-required-property-removed", f"required property {name} was removed from a response schema",
                              old.id, old, anchor=parent, fixes=("deprecate", "restore")))
        return out
    a, b = old.attrs, new.attrs
    if in_req and not a.get("required") and b.get("required") and not b.get("readOnly"):
        out.append(Change("request-property-became-required", f"request property {name} became required", old.id, old, new))
    if in_resp and a.get("required") and not b.get("required") and not b.get("writeOnly"):
        out.append(Change("response-property-became-optional", f"response property {name} became optional", old.id, old, new))
    if in_req and a.get("nullable") and not b.get("nullable"):
        out.append(Change("request-property-became-not-nullable", f"request property {name} is no longer nullable", old.id, old, new))
    if in_resp and not a.get("nullable") and b.get("nullable"):
        out.append(Change("response-property-became-nullable", f"response property {name} became nullable", old.id, old, new))
    for request, on in ((True, in_req), (False, in_resp)):
        why = type_change(a, b, request) if on else ""
        if why:
            side = "request" if request else "response"
            out.append(Change(f"{side}-property-type-changed", f"{side} property {name}: {why}", old.id, old, new))
    gone = _enum_removed(a, b) if in_req else []
    if gone:
        out.append(Change("request-property-enum-value-removed", f"request property {name}: enum value(s) {_fmt(gone)} removed",
                          old.id, old, new))
    return out


def _params(op: Entity) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p.get("in", ""), p.get("name", "")): p for p in op.attrs.get("parameters") or []
            if isinstance(p, dict) and isinstance(p.get("name"), str)}


def _operation(old: Entity, new: Entity) -> list[Change]:
    out: list[Change] = []
    op = old.name
    po, pn = _params(old), _params(new)
    for key, p in pn.items():
        where = f"{key[0]} parameter {key[1]!r} of {op}"
        q = po.get(key)
        pid = f"{old.id}:param:{key[0]}.{key[1]}"
        if q is None:
            if p.get("required"):
                out.append(Change("new-required-request-parameter", f"new required {where}", pid, None, new))
            continue
        if p.get("required") and not q.get("required"):
            out.append(Change("request-parameter-became-required", f"{where} became required", pid, old, new))
        why = type_change(q, p, True, "schema")
        if why:
            out.append(Change("request-parameter-type-changed", f"{where}: {why}", pid, old, new))
        gone = _enum_removed(q, p, "schema") + _enum_removed(q, p, "items")
        if gone:
            out.append(Change("request-parameter-enum-value-removed", f"{where}: enum value(s) {_fmt(gone)} removed", pid, old, new))
    bo, bn = old.attrs.get("request_body"), new.attrs.get("request_body")
    if isinstance(bn, dict) and bn.get("required") and not (isinstance(bo, dict) and bo.get("required")):
        rule = "request-body-became-required" if isinstance(bo, dict) else "new-required-request-body"
        out.append(Change(rule, f"the request body of {op} became required", old.id, old, new))
    if isinstance(bo, dict) and isinstance(bn, dict):
        gone = [m for m in bo.get("media_types") or [] if m not in (bn.get("media_types") or [])]
        if gone and bn.get("media_types") is not None:
            out.append(Change("request-body-media-type-removed", f"{op} no longer accepts {', '.join(gone)}", old.id, old, new))
        why = type_change(bo, bn, True, "schema")
        if why:
            out.append(Change("request-body-type-changed", f"request body of {op}: {why}", old.id, old, new))
    ro, rn = old.attrs.get("responses") or {}, new.attrs.get("responses") or {}
    for status, r in ro.items():
        if not isinstance(r, dict):
            continue
        s = rn.get(status)
        if s is None:
            if status.startswith("2") or status.upper() == "2XX":
                out.append(Change("response-success-status-removed", f"{op} no longer returns status {status}", old.id, old, new))
            continue
        if not isinstance(s, dict):
            continue
        gone = [m for m in r.get("media_types") or [] if m not in (s.get("media_types") or [])]
        if gone:
            out.append(Change("response-media-type-removed", f"response {status} of {op} no longer has {', '.join(gone)}", old.id, old, new))
        why = type_change(r, s, False, "schema")
        if why:
            out.append(Change("response-body-type-changed", f"response {status} of {op}: {why}", old.id, old, new))
        hn = s.get("headers") or {}
        for h, hv in (r.get("headers") or {}).items():
            if isinstance(hv, dict) and hv.get("required") and h not in hn:
                out.append(Change("response-required-header-removed", f"required header {h!r} was removed from response {status} "
                                  f"of {op}", old.id, old, new))
    return out
