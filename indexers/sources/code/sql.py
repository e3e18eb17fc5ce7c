"""SQL in string literals: statements parsed with sqlglot (default, Postgres, then MySQL dialect), their
tables and columns as consumed usages, placed on the word inside the literal. Only literals that start
like a statement (`SELECT ... FROM`, `INSERT INTO`, `UPDATE ... SET`, `DELETE FROM`, `WITH x AS (`) are
parsed; a string that only looks like SQL and does not parse yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from indexers import ts
from indexers.model import Span
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.strings import DYN, string_text

MAX_SQL = 20_000
_KEYWORDS = re.compile(r"(?i)\b(select|insert|update|delete)\b")
_ASCII_KEYWORDS = re.compile(rb"\b(select|insert|update|delete)\b")
_WORDS = (b"select", b"insert", b"update", b"delete")
_SQL_START = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\()",
                        re.IGNORECASE | re.DOTALL)


def sql_hint(text: str, lowered: bytes) -> bool:
    """Whether a file's text names a statement keyword at all (no literal is read in a file without one).
    `lowered` is the file's bytes in lower case: for ASCII text the test runs on it, substrings first."""
    if text.isascii():
        return any(w in lowered for w in _WORDS) and _ASCII_KEYWORDS.search(lowered) is not None
    return _KEYWORDS.search(text) is not None


# (operation, tables in order, alias -> table pairs, sorted (table, column) pairs)
Statement = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def sql(ctx: Ctx) -> None:
    """Statements in the string literals collected for a file that passed `sql_hint`."""
    for node in ctx.f.strings:
        text = string_text(node)
        if text is None or len(text) > MAX_SQL or not _SQL_START.match(text):
            continue
        found = statement(re.sub(r"%\(\w+\)s|%[sd]", "?", text).replace(DYN, "?"))
        if found is None:
            continue
        op, names, aliases, cols = found
        for name in names:
            ctx.emit_at("sql.statement", _word_span(ctx, node, name), name, "", "consumes", op=op)
        for table, col_name in cols:
            quals = [a for a, t in aliases if t == table]
            ctx.emit_at("sql.column", _word_span(ctx, node, col_name, quals), col_name, table, "consumes", op=op)


@lru_cache(maxsize=4096)
def statement(text: str) -> Statement | None:
    """What a statement touches, or None if no dialect parses it. Pure, so cached: code repeats queries."""
    import sqlglot
    from sqlglot import exp

    tree = None
    for dialect in (None, "postgres", "mysql"):
        try:
            tree = sqlglot.parse_one(text, read=dialect)
            break
        except Exception:  # noqa: BLE001 - sqlglot raises many kinds; not SQL after all
            continue
    if tree is None:
        return None
    op = tree.key.upper()
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name and t.name not in ctes]
    aliases = {t.alias_or_name: t.name for t in tables}
    names = list(dict.fromkeys(t.name for t in tables))
    cols: set[tuple[str, str]] = set()
    for col in tree.find_all(exp.Column):
        table = aliases.get(col.table, "") if col.table else (names[0] if len(names) == 1 else "")
        if table and re.fullmatch(r"[A-Za-z_]\w*", col.name):
            cols.add((table, col.name))
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema) and len(names) >= 1:
        for ident in tree.this.expressions:
            cols.add((tree.this.this.name, ident.name))
    return op, tuple(names), tuple(aliases.items()), tuple(sorted(cols))


def _word_span(ctx: Ctx, node: Any, word: str, quals: Sequence[str] = ()) -> Span:
    """The first whole-word occurrence of `word` inside a literal node (`qual.word` first when the
    qualifiers are given, then unqualified, then any), else the node's own span."""
    text = ts.text(node)
    w = re.escape(word)
    m = next((m for q in quals if (m := re.search(rf"(?<![\w$]){re.escape(q)}\.({w})(?!\w)", text, re.I))), None)
    m = m or re.search(rf"(?<![\w$.])({w})(?!\w)", text, re.I) or re.search(rf"(?<![\w$])({w})(?!\w)", text, re.I)
    if m is None:
        return ctx.src.node_span(node)
    row0, bcol0 = node.start_point
    before = text[: m.start(1)]
    row = row0 + before.count("\n")
    if row == row0:
        col = len(ctx.src.line_bytes[row0][:bcol0].decode("utf-8", errors="replace")) + len(before)
    else:
        col = len(before) - before.rfind("\n") - 1
    return ctx.src.span_from_chars(row, col, row, col + len(word))
