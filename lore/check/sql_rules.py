"""SQL schema breaking-change rules over the current schema folded from each side's migrations: tables or
columns dropped or renamed, column types narrowed or changed, NOT NULL added to a column (or a NOT NULL
column added) without a default. Widening (int -> bigint, varchar(20) -> varchar(64) or text) is fine.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import Entity
from lore.check.findings import Change
from lore.check.view import View

# Families ordered narrow -> wide; a move to an earlier member narrows.
_FAMILIES = [
    ["tinyint", "int1", "smallint", "int2", "mediumint", "int", "integer", "int4", "serial", "bigint", "int8", "bigserial"],
    ["real", "float4", "float", "double", "double precision", "float8"],
    ["char", "character", "nchar", "varchar", "character varying", "nvarchar", "varchar2", "text", "tinytext",
     "mediumtext", "longtext", "ntext", "clob"],
]
_RANK: dict[str, tuple[int, int]] = {}
for fi, fam in enumerate(_FAMILIES):
    for ri, name in enumerate(fam):
        _RANK[name] = (fi, ri)
for same in (("int", "integer", "int4", "serial"), ("smallint", "int2"), ("bigint", "int8", "bigserial"),
             ("tinyint", "int1"), ("real", "float4"), ("double", "double precision", "float8"),
             ("char", "character", "nchar"), ("varchar", "character varying", "nvarchar", "varchar2"),
             ("text", "clob", "ntext", "longtext")):
    for name in same[1:]:
        _RANK[name] = _RANK[same[0]]
_UNBOUNDED = {"text", "clob", "ntext", "longtext", "mediumtext"}
_TYPE = re.compile(r"^\s*([a-z][a-z0-9_ ]*?)\s*(?:\(\s*(\d+|max)\s*(?:,\s*(\d+)\s*)?\))?\s*(unsigned)?\s*(?:\[\])?\s*$")


def _parse(t: str) -> tuple[str, int | None, int | None, bool] | None:
    m = _TYPE.match(t.lower())
    if m is None:
        return None
    n = None if m.group(2) in (None, "max") else int(m.group(2))
    return " ".join(m.group(1).split()), n, int(m.group(3)) if m.group(3) else None, bool(m.group(4))


def type_change(old: Any, new: Any) -> str:
    """'narrowed' / 'changed' / '' for two column types as written; types it cannot parse are not compared."""
    if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
        return ""
    if " ".join(old.lower().split()) == " ".join(new.lower().split()):
        return ""
    a, b = _parse(old), _parse(new)
    if a is None or b is None:
        return ""
    if a[3] != b[3]:
        return "changed"  # signed <-> unsigned
    ra, rb = _RANK.get(a[0]), _RANK.get(b[0])
    if ra is None or rb is None:
        if a[0] != b[0]:
            return "changed"
    elif ra[0] != rb[0]:
        return "changed"
    elif rb[1] < ra[1]:
        return "narrowed"
    elif rb[1] > ra[1] and (b[0] in _UNBOUNDED or b[1] is None):
        return ""
    if ra is not None and ra[0] == 0:
        return ""  # integer lengths are MySQL display widths
    if a[1] is not None and b[1] is not None and (b[1] < a[1] or (a[2] or 0) > (b[2] or 0)):
        return "narrowed"
    if a[1] is None and b[1] is not None and a[0] not in ("int", "integer", "bigint", "smallint", "tinyint", "mediumint"):
        return "narrowed"  # varchar -> varchar(20), numeric -> numeric(10,2)
    return ""


def _renamed_from(e: Entity) -> set[str]:
    return {str(h.get("from")) for h in e.attrs.get("history") or [] if isinstance(h, dict) and h.get("op") == "rename" and h.get("from")}


def compare(base: View, head: View) -> list[Change]:
    out: list[Change] = []
    table_map: dict[str, Entity] = {}  # base table id -> head table
    for old in base.of_kind("sql.table"):
        new = head.get(old.id)
        if new is None:
            moved = [t for t in head.of_kind("sql.table") if old.name in _renamed_from(t) and t.id not in base]
            if moved:
                table_map[old.id] = moved[0]
                out.append(Change("SQL_TABLE_RENAMED", f"table {old.name} was renamed to {moved[0].name}", old.id, old, moved[0]))
            else:
                out.append(Change("SQL_TABLE_DROPPED", f"table {old.name} was dropped", old.id, old))
            continue
        table_map[old.id] = new
    for old in base.of_kind("sql.column"):
        table = table_map.get(old.parent or "")
        if table is None:
            continue  # the table went: reported once
        new = head.get(f"{table.id}.{old.name}")
        if new is None:
            moved = [c for c in head.kids(table.id, "sql.column") if old.name in _renamed_from(c) and c.name != old.name]
            if moved:
                out.append(Change("SQL_COLUMN_RENAMED", f"column {old.id[4:]} was renamed to {moved[0].name}", old.id, old, moved[0]))
            else:
                out.append(Change("SQL_COLUMN_DROPPED", f"column {old.id[4:]} was dropped", old.id, old, anchor=table))
            continue
        how = type_change(old.attrs.get("type"), new.attrs.get("type"))
        if how:
            rule = "SQL_COLUMN_TYPE_NARROWED" if how == "narrowed" else "SQL_COLUMN_TYPE_CHANGED"
            out.append(Change(rule, f"column {old.id[4:]} type {how} from {old.attrs.get('type')} to {new.attrs.get('type')}",
                              old.id, old, new))
        if old.attrs.get("nullable") is True and new.attrs.get("nullable") is False and new.attrs.get("default") is None \
                and not new.attrs.get("primary_key"):
            out.append(Change("SQL_NOT_NULL_ADDED", f"column {old.id[4:]} became NOT NULL without a default", old.id, old, new))
    base_tables = {t.id for t in base.of_kind("sql.table")}
    mapped = {t.id: tid for tid, t in table_map.items()}
    for new in head.of_kind("sql.column"):
        if new.parent not in mapped or mapped[new.parent] not in base_tables:
            continue
        old_id = f"{mapped[new.parent]}.{new.name}"
        if old_id in base or _renamed_from(new):
            continue
        if new.attrs.get("nullable") is False and new.attrs.get("default") is None and not new.attrs.get("primary_key") \
                and "serial" not in str(new.attrs.get("type", "")).lower():
            out.append(Change("SQL_NOT_NULL_COLUMN_ADDED", f"NOT NULL column {new.id[4:]} without a default was added to an "
                              "existing table", new.id, None, new))
    return out
