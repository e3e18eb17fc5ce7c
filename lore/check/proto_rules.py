"""Protobuf breaking-change rules: buf's WIRE_JSON category plus the deletions of messages, enums,
services and rpcs that break generated code (buf's FILE/PACKAGE rules), under buf's rule IDs.

Fields are matched by number within a message and enum values by number within an enum, as buf does; a
deleted field or value is fine when both its number and its name are reserved. Types are compared by
fully qualified name when the workspace resolves them (`type_fqn`), else by the name as written.
"""

from __future__ import annotations

from typing import Any

from indexers.model import Entity
from lore.check.findings import Change
from lore.check.view import View

# Scalars whose wire AND JSON encodings agree (protobuf's language guide; JSON: 64-bit ints are strings).
_SAME_WIRE_JSON = [{"int32", "uint32"}, {"int64", "uint64"}, {"fixed32", "sfixed32"}, {"fixed64", "sfixed64"}]
SCALARS = frozenset("double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes".split())


def _covered(ranges: list[list[int]], lo: int, hi: int) -> bool:
    """Whether [lo, hi] lies inside the union of `ranges`."""
    need = lo
    for a, b in sorted((int(r[0]), int(r[1])) for r in ranges if isinstance(r, list) and len(r) == 2):
        if a > need:
            break
        need = max(need, b + 1)
        if need > hi:
            return True
    return need > hi


def _reserved(parent: Entity | None, number: Any, name: str) -> bool:
    if parent is None or not isinstance(number, int):
        return False
    return _covered(parent.attrs.get("reserved_numbers") or [], number, number) and name in (parent.attrs.get("reserved_names") or [])


def _type(e: Entity, key: str = "type") -> str:
    fqn = e.attrs.get(f"{key}_fqn")
    if isinstance(fqn, str) and fqn:
        return fqn
    t = e.attrs.get(key)
    return t.lstrip(".") if isinstance(t, str) else ""


def _kind_of(view: View, fqn: str) -> str:
    e = view.get("proto:" + fqn)
    return e.kind if e is not None else ""


def _same_type(old: Entity, new: Entity, key: str, base: View, head: View) -> bool | None:
    """True/False when known; None when the names cannot be compared with confidence."""
    a, b = _type(old, key), _type(new, key)
    if a == b:
        return True
    if a in SCALARS and b in SCALARS:
        return any(a in g and b in g for g in _SAME_WIRE_JSON)
    resolved = bool(old.attrs.get(f"{key}_fqn")) and bool(new.attrs.get(f"{key}_fqn"))
    if resolved or a in SCALARS or b in SCALARS:
        return False
    # Unresolved names (imports outside the workspace): equal last parts may be the same type, written
    # differently (`Foo` vs `pkg.Foo`); different last parts are different types.
    return None if a.rsplit(".", 1)[-1] == b.rsplit(".", 1)[-1] else False


def _type_text(e: Entity) -> str:
    t = e.attrs.get("type")
    return t if isinstance(t, str) else "?"


def _field_changes(old: Entity, new: Entity, base: View, head: View) -> list[Change]:
    out: list[Change] = []
    num = old.attrs.get("number")
    where = f"field {num} of {old.parent[6:] if old.parent else '?'}"
    if old.name != new.name:
        out.append(Change("FIELD_SAME_NAME", f"{where} changed name from {old.name!r} to {new.name!r}", old.id, old, new))
    elif old.attrs.get("json_name") != new.attrs.get("json_name"):
        out.append(Change("FIELD_SAME_JSON_NAME", f"{where} {old.name!r} changed JSON name from "
                          f"{old.attrs.get('json_name')!r} to {new.attrs.get('json_name')!r}", old.id, old, new))
    if "key_type" in old.attrs or "key_type" in new.attrs:
        same = ("key_type" in old.attrs and "key_type" in new.attrs and old.attrs["key_type"] == new.attrs["key_type"]
                and _same_type(old, new, "value_type", base, head) is not False)
        if not same:
            out.append(Change("FIELD_SAME_TYPE", f"{where} {old.name!r} changed type from {_type_text(old)} to "
                              f"{_type_text(new)}", old.id, old, new))
    elif _same_type(old, new, "type", base, head) is False:
        ok = old.attrs.get("type") in SCALARS and new.attrs.get("type") in SCALARS
        why = " (wire or JSON incompatible)" if ok else ""
        out.append(Change("FIELD_SAME_TYPE", f"{where} {old.name!r} changed type from {_type_text(old)} to {_type_text(new)}{why}",
                          old.id, old, new))
    la, lb = old.attrs.get("label", ""), new.attrs.get("label", "")
    if (la == "repeated") != (lb == "repeated") or (la == "required") != (lb == "required"):
        out.append(Change("FIELD_SAME_CARDINALITY", f"{where} {old.name!r} changed cardinality from "
                          f"{la or 'singular'} to {lb or 'singular'}", old.id, old, new))
    oa, ob = old.attrs.get("oneof"), new.attrs.get("oneof")
    if oa != ob:
        what = f"moved from oneof {oa!r} to oneof {ob!r}" if oa and ob else f"moved into oneof {ob!r}" if ob else f"moved out of oneof {oa!r}"
        out.append(Change("FIELD_SAME_ONEOF", f"{where} {old.name!r} {what}", old.id, old, new))
    return out


def _reserved_changes(old: Entity, new: Entity, rule: str) -> list[Change]:
    out: list[Change] = []
    new_nums = new.attrs.get("reserved_numbers") or []
    for r in old.attrs.get("reserved_numbers") or []:
        if isinstance(r, list) and len(r) == 2 and not _covered(new_nums, int(r[0]), int(r[1])):
            shown = str(r[0]) if r[0] == r[1] else f"{r[0]} to {r[1]}"
            out.append(Change(rule, f"reserved number range {shown} of {old.id[6:]} was removed", old.id, old, new))
    new_names = set(new.attrs.get("reserved_names") or [])
    for n in old.attrs.get("reserved_names") or []:
        if n not in new_names:
            out.append(Change(rule, f"reserved name {n!r} of {old.id[6:]} was removed", old.id, old, new))
    return out


def _outermost_gone(e: Entity, base: View, head: View) -> bool:
    """Whether no ancestor of `e` is also gone (only the outermost deletion is reported)."""
    p = base.get(e.parent)
    while p is not None and p.kind in ("proto.message", "proto.enum", "proto.service"):
        if p.id not in head:
            return False
        p = base.get(p.parent)
    return True


def compare(base: View, head: View) -> list[Change]:
    out: list[Change] = []
    packages_gone = set()
    head_packages = {e.id for e in head.of_kind("proto.package")}
    for pkg in base.of_kind("proto.package"):
        if pkg.id not in head_packages:
            packages_gone.add(pkg.id)
            out.append(Change("PACKAGE_NO_DELETE", f"package {pkg.name!r} was deleted (or renamed)", pkg.id, pkg,
                              fixes=("restore",)))
    for old in base.by_id.values():
        if old.kind not in ("proto.message", "proto.enum", "proto.service", "proto.rpc"):
            continue
        new = head.get(old.id)
        if new is None:
            if old.parent in packages_gone or not _outermost_gone(old, base, head):
                continue
            rule = {"proto.message": "MESSAGE_NO_DELETE", "proto.enum": "ENUM_NO_DELETE",
                    "proto.service": "SERVICE_NO_DELETE", "proto.rpc": "RPC_NO_DELETE"}[old.kind]
            word = old.kind.split(".")[1]
            out.append(Change(rule, f"{word} {old.id[6:]} was deleted", old.id, old, anchor=head.get(old.parent),
                              fixes=("deprecate", "restore")))
            continue
        if old.kind == "proto.message":
            out += _reserved_changes(old, new, "RESERVED_MESSAGE_NO_DELETE")
            out += _numbered(old, new, base, head, "proto.field", "FIELD_NO_DELETE", "field")
        elif old.kind == "proto.enum":
            out += _reserved_changes(old, new, "RESERVED_ENUM_NO_DELETE")
            out += _numbered(old, new, base, head, "proto.enum_value", "ENUM_VALUE_NO_DELETE", "enum value")
        elif old.kind == "proto.rpc":
            for key, rule in (("request", "RPC_SAME_REQUEST_TYPE"), ("response", "RPC_SAME_RESPONSE_TYPE")):
                if _same_type(old, new, key, base, head) is False:
                    out.append(Change(rule, f"rpc {old.id[6:]} changed {key} type from {old.attrs.get(key)} to "
                                      f"{new.attrs.get(key)}", old.id, old, new))
            for key, rule in (("client_streaming", "RPC_SAME_CLIENT_STREAMING"), ("server_streaming", "RPC_SAME_SERVER_STREAMING")):
                if bool(old.attrs.get(key)) != bool(new.attrs.get(key)):
                    side = key.split("_")[0]
                    how = "became" if new.attrs.get(key) else "is no longer"
                    out.append(Change(rule, f"rpc {old.id[6:]} {how} {side} streaming", old.id, old, new))
    return out


def _numbered(old_parent: Entity, new_parent: Entity, base: View, head: View, kind: str, rule: str, word: str) -> list[Change]:
    """Fields of a message / values of an enum, matched by number."""
    out: list[Change] = []
    olds = base.kids(old_parent.id, kind)
    news = head.kids(new_parent.id, kind)
    new_by_num: dict[Any, list[Entity]] = {}
    for e in news:
        new_by_num.setdefault(e.attrs.get("number"), []).append(e)
    old_by_num: dict[Any, list[Entity]] = {}
    for e in olds:
        old_by_num.setdefault(e.attrs.get("number"), []).append(e)
    for num, group in old_by_num.items():
        if num is None:
            continue
        matches = new_by_num.get(num)
        if not matches:
            for old in group:
                if _reserved(new_parent, num, old.name):
                    continue
                out.append(Change(rule, f"{word} {num} {old.name!r} of {old_parent.id[6:]} was deleted without reserving "
                                  f"its number and name", old.id, old, anchor=new_parent, fixes=("reserve", "deprecate", "restore")))
            continue
        if kind == "proto.enum_value":
            names = {e.name for e in matches}
            for old in group:
                if old.name not in names:
                    out.append(Change("ENUM_VALUE_SAME_NAME", f"enum value {num} of {old_parent.id[6:]} changed name from "
                                      f"{old.name!r} to {matches[0].name!r}", old.id, old, matches[0]))
        else:
            out += _field_changes(group[0], matches[0], base, head)
    return out
