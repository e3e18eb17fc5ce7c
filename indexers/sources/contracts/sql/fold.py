"""SQL migrations: which folder and unit a file belongs to, the order units run in, and the fold that
replays per-file table/column entities in that order into the current schema.

Layouts: Flyway (`V1_1__`, undo `U…__`, repeatable `R__`), numbered or timestamped files, and per-migration
folders holding `up.sql` / `migration.sql`. Down migrations are recognised by name so they never fold.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import Entity, Span
from indexers.sources.base import basename

_FULL = ("type", "nullable", "default", "primary_key", "references", "unique")
_FLYWAY = re.compile(r"^([VvUuRr])(\d+(?:[._]\d+)*)?__")
_UNIT_FILES = {"up.sql", "migration.sql"}


def is_down(path: str) -> bool:
    name = basename(path).lower()
    if name.endswith(".down.sql") or name in ("down.sql", "downgrade.sql") or name.endswith("_down.sql"):
        return True
    m = _FLYWAY.match(basename(path))
    return bool(m and m.group(1) in "Uu" and m.group(2))


def layout(path: str) -> tuple[str, str]:
    """(folder, unit): the migrations folder a file belongs to and the name that orders it there."""
    parts = path.split("/")
    if parts[-1].lower() in _UNIT_FILES and len(parts) >= 2:
        return "/".join(parts[:-2]), parts[-2]
    return "/".join(parts[:-1]), parts[-1]


def order_key(unit: str) -> tuple[Any, ...]:
    m = _FLYWAY.match(unit)
    if m and m.group(1) in "Rr" and not m.group(2):
        return (1, (), unit)  # repeatable migrations run after all versioned ones
    if m and m.group(2):
        return (0, tuple((0, int(p), "") for p in re.split(r"[._]", m.group(2))), unit)
    chunks = re.findall(r"\d+|\D+", unit.lower())
    return (0, tuple((0, int(c), "") if c.isdigit() else (1, 0, c) for c in chunks), unit)


# -- folding migrations into the current schema ------------------------------------------------------------


class _State:
    """The current definition of a table or column: its latest defining entity, attrs and history."""

    def __init__(self, ent: Entity, attrs: dict[str, Any], history: list[dict[str, Any]]):
        self.ent = ent
        self.attrs = attrs
        self.history = history
        self.cols: dict[str, _State] = {}

    def touch(self, ent: Entity, op: str, move: bool = True, **extra: Any) -> None:
        """Record a change; `move` makes `ent` the definition readers are sent to."""
        if move:
            self.ent = ent
        self.history.append({"path": ent.path, "line": ent.range.start_line, "op": op, **extra})


def _hist(ent: Entity, op: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"path": ent.path, "line": ent.range.start_line, "op": op, **extra}]


def fold(entities: list[Entity]) -> list[Entity]:
    """Replay per-file table and column entities in migration order; return the resulting schema."""
    tables: dict[str, _State] = {}
    for e in entities:
        op = e.attrs.get("op", "")
        if e.kind == "sql.table":
            if op == "create":
                if e.name in tables and e.attrs.get("if_not_exists"):
                    continue
                tables[e.name] = _State(e, {}, _hist(e, op))
            elif op == "drop":
                tables.pop(e.name, None)
            elif op == "rename":
                old = e.attrs.get("renamed_from", "")
                t = tables.pop(old, None) or _State(e, {"implicit": True}, [])
                t.touch(e, op, **{"from": old})
                tables[e.name] = t
            continue
        tkey = (e.parent or "sql:")[4:]
        if tkey not in tables:  # altered here, created elsewhere (or never in SQL)
            tables[tkey] = _State(e, {"implicit": True}, [])
        t = tables[tkey]
        col = e.name
        change = {k: e.attrs[k] for k in _FULL if k in e.attrs}
        if op == "add" and e.attrs.get("if_not_exists") and col in t.cols:
            continue  # ADD COLUMN IF NOT EXISTS of a column that exists: a no-op
        if op in ("create", "add", "redefine"):
            old = e.attrs.get("renamed_from", col)
            prev = t.cols.get(old)
            state = _State(e, change, (prev.history if prev else []) + _hist(e, op))
            if old != col and old in t.cols:  # MySQL CHANGE: renamed in place
                t.cols = {(col if k == old else k): v for k, v in t.cols.items() if k != col}
            t.cols[col] = state
        elif op in ("alter", "constraint"):
            c = t.cols.get(col)
            if c is None:
                c = t.cols[col] = _State(e, {}, [])
            c.attrs.update(change)
            # A new type or nullability redefines the column; a default or a constraint only annotates it.
            c.touch(e, op, move=op == "alter" and ("type" in change or "nullable" in change))
        elif op == "rename":
            old = e.attrs.get("renamed_from", "")
            c = t.cols.get(old) or _State(e, {}, [])
            c.touch(e, op, **{"from": old})
            t.cols = {k: v for k, v in t.cols.items() if k != col}
            t.cols = {(col if k == old else k): v for k, v in t.cols.items()} if old in t.cols else {**t.cols, col: c}
        elif op == "drop":
            t.cols.pop(col, None)
    out: list[Entity] = []
    for key, t in tables.items():
        te = t.ent
        tid = f"sql:{key}"
        trange = te.range if te.kind == "sql.table" else Span(te.range.start_line, 0, te.range.start_line, 0)
        out.append(Entity(tid, "sql.table", key, te.repo, te.path, trange,
                          {**t.attrs, "columns": list(t.cols), "history": t.history}, None,
                          te.extent if te.kind == "sql.table" else None))
        for name, c in t.cols.items():
            ce = c.ent
            out.append(Entity(f"{tid}.{name}", "sql.column", name, ce.repo, ce.path, ce.range,
                              {**c.attrs, "history": c.history}, tid, ce.extent))
    return out
