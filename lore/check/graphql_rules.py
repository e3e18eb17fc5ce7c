"""GraphQL breaking-change rules (graphql-inspector's change types): removed types, fields, enum values,
union members and arguments; field and argument types changed incompatibly; required arguments and
required input fields added. Output positions may tighten nullability but not loosen it; input positions
(arguments, input fields) may loosen it but not tighten it.
"""

from __future__ import annotations

from typing import Any

from indexers.model import Entity
from lore.check.findings import Change
from lore.check.view import View

Type = tuple[str, Any]  # ('nonnull', inner) | ('list', inner) | ('named', name)


def parse_type(text: str) -> Type | None:
    text = "".join(text.split())

    def go(i: int) -> tuple[Type, int] | None:
        if i < len(text) and text[i] == "[":
            inner = go(i + 1)
            if inner is None or inner[1] >= len(text) or text[inner[1]] != "]":
                return None
            t: Type = ("list", inner[0])
            i = inner[1] + 1
        else:
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if j == i:
                return None
            t, i = ("named", text[i:j]), j
        if i < len(text) and text[i] == "!":
            return ("nonnull", t), i + 1
        return t, i

    r = go(0)
    return r[0] if r is not None and r[1] == len(text) else None


def safe_output(old: Type, new: Type) -> bool:
    if new[0] == "nonnull":
        return safe_output(old[1] if old[0] == "nonnull" else old, new[1])
    if old[0] == "nonnull":
        return False
    if old[0] == "list" and new[0] == "list":
        return safe_output(old[1], new[1])
    return old[0] == new[0] == "named" and old[1] == new[1]


def safe_input(old: Type, new: Type) -> bool:
    if old[0] == "nonnull":
        return safe_input(old[1], new[1] if new[0] == "nonnull" else new)
    if new[0] == "nonnull":
        return False
    if old[0] == "list" and new[0] == "list":
        return safe_input(old[1], new[1])
    return old[0] == new[0] == "named" and old[1] == new[1]


def _compatible(old: Any, new: Any, is_input: bool) -> bool | None:
    if not isinstance(old, str) or not isinstance(new, str):
        return None
    a, b = parse_type(old), parse_type(new)
    if a is None or b is None:
        return None
    return safe_input(a, b) if is_input else safe_output(a, b)


def _required_arg(arg: dict[str, Any]) -> bool:
    t = arg.get("type")
    return isinstance(t, str) and t.rstrip().endswith("!") and arg.get("default") is None


def compare(base: View, head: View) -> list[Change]:
    out: list[Change] = []
    for old in base.by_id.values():
        new = head.get(old.id)
        parent_gone = old.parent is not None and old.parent not in head
        if new is None:
            if parent_gone:
                continue
            if old.kind == "graphql.type":
                out.append(Change("TYPE_REMOVED", f"type {old.name} was removed", old.id, old, fixes=("restore",)))
            elif old.kind == "graphql.field":
                out.append(Change("FIELD_REMOVED", f"field {old.id[8:]} was removed", old.id, old, anchor=head.get(old.parent),
                                  fixes=("deprecate", "restore")))
            elif old.kind == "graphql.enum_value":
                out.append(Change("ENUM_VALUE_REMOVED", f"enum value {old.id[8:]} was removed", old.id, old,
                                  anchor=head.get(old.parent), fixes=("deprecate", "restore")))
            continue
        if old.kind == "graphql.type":
            out += _type_changes(old, new)
        elif old.kind == "graphql.field":
            out += _field_changes(old, new, head)
    for new in head.of_kind("graphql.field"):
        parent = head.get(new.parent)
        if new.id in base or new.parent not in base or parent is None or parent.attrs.get("kind") != "input":
            continue
        t = new.attrs.get("type")
        if isinstance(t, str) and t.endswith("!") and new.attrs.get("default") is None:
            out.append(Change("REQUIRED_INPUT_FIELD_ADDED", f"required input field {new.id[8:]} was added", new.id, None, new))
    return out


def _type_changes(old: Entity, new: Entity) -> list[Change]:
    out: list[Change] = []
    ka, kb = old.attrs.get("kind"), new.attrs.get("kind")
    if ka and kb and ka != kb:
        out.append(Change("TYPE_KIND_CHANGED", f"type {old.name} changed kind from {ka} to {kb}", old.id, old, new))
        return out
    gone = [m for m in old.attrs.get("members") or [] if m not in (new.attrs.get("members") or [])]
    if gone and ka == "union":
        out.append(Change("UNION_MEMBER_REMOVED", f"union {old.name} no longer includes {', '.join(gone)}", old.id, old, new))
    return out


def _field_changes(old: Entity, new: Entity, head: View) -> list[Change]:
    out: list[Change] = []
    is_input = bool(old.attrs.get("input") or new.attrs.get("input"))
    name = old.id[8:]
    if _compatible(old.attrs.get("type"), new.attrs.get("type"), is_input) is False:
        out.append(Change("FIELD_TYPE_CHANGED", f"{'input ' if is_input else ''}field {name} changed type from "
                          f"{old.attrs.get('type')} to {new.attrs.get('type')}", old.id, old, new))
    args_old = {a.get("name"): a for a in old.attrs.get("arguments") or [] if isinstance(a, dict)}
    args_new = {a.get("name"): a for a in new.attrs.get("arguments") or [] if isinstance(a, dict)}
    for n, a in args_old.items():
        b = args_new.get(n)
        if b is None:
            out.append(Change("ARGUMENT_REMOVED", f"argument {n!r} of {name} was removed", old.id, old, new))
        elif _compatible(a.get("type"), b.get("type"), True) is False:
            out.append(Change("ARGUMENT_TYPE_CHANGED", f"argument {n!r} of {name} changed type from {a.get('type')} to "
                              f"{b.get('type')}", old.id, old, new))
    for n, b in args_new.items():
        if n not in args_old and _required_arg(b):
            out.append(Change("REQUIRED_ARGUMENT_ADDED", f"required argument {n!r} was added to {name}", old.id, old, new))
    return out
