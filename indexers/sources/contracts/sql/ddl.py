"""SQL schema extractor: tables and columns from DDL, folded across migrations into the current schema.

Per file, each CREATE TABLE / ALTER TABLE / DROP TABLE / RENAME TABLE statement becomes entities at the
exact name it touches, with attrs `op` (create, add, alter, rename, redefine, drop) and `migration_order`
(folder, unit, statement). `resolve()` replays every file of a migrations folder in natural order
(Flyway `V1_1__`, `0001_`, timestamps, `up.sql` in per-migration folders) and returns the current schema;
the per-file entities are replaced by it.

A small tokenizer and a permissive recursive-descent parser cover the DDL subset of the common dialects
(PostgreSQL, MySQL, SQLite, SQL Server) with exact character offsets, which general SQL parsers do not
keep for identifiers. Anything that is not DDL on tables is skipped; a statement that does not parse is
reported with its line and the rest of the file is kept. Down migrations are ignored: `*.down.sql`,
`down.sql`, Flyway `U…__` undo files, and goose / sql-migrate / dbmate down sections.

This module is the extractor; the pieces live next to it: `sql_tokens` (tokenizer and token cursor),
`sql_parse` (statement parser) and `sql_fold` (migration layout and ordering, and the fold).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from indexers.model import Entity, FileError, FileFacts, Partial
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, Resolution, suffix
from indexers.sources.contracts.sql.fold import fold, is_down, layout, order_key
from indexers.sources.contracts.sql.parse import Parser
from indexers.sources.contracts.sql.tokens import statements
from indexers.sources.gcpause import paused_gc
from indexers.sources.spans import OffsetSpans

__all__ = ["EXTRACTORS", "MAX_BYTES", "MAX_STATEMENT_TOKENS", "SqlExtractor", "fold", "is_down", "layout",
           "order_key", "statements"]

MAX_BYTES = 32 * 1024 * 1024
MAX_STATEMENT_TOKENS = 200_000


class SqlExtractor(Extractor):
    name = "sql"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) == ".sql" and not is_down(path)

    def extract(self, src: SourceFile) -> Partial:
        with paused_gc():
            return self._extract(src)

    def _extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"file too large ({len(src.data)} bytes)")],
                           language="sql")
        text = src.text
        offsets = OffsetSpans(src)
        span, line = offsets.span, offsets.line

        tok_errors: list[tuple[int, str]] = []
        stmts = statements(text, tok_errors)
        folder, unit = layout(src.path)
        parser = Parser(src, span, {"folder": folder, "unit": unit})
        errors = [FileError(src.repo, src.path, reason, line(off)) for off, reason in tok_errors]
        for i, stmt in enumerate(stmts):
            if len(stmt) > MAX_STATEMENT_TOKENS:
                errors.append(FileError(src.repo, src.path, "statement too long", line(stmt[0].start)))
                continue
            for tok, reason in parser.statement(i, stmt):
                errors.append(FileError(src.repo, src.path, f"SQL: {reason}", line(tok.start if tok else stmt[0].start)))
        return Partial(entities=parser.entities, errors=errors, language="sql")

    def resolve(self, facts: Sequence[FileFacts]) -> Resolution | None:
        groups: dict[tuple[str, str], list[tuple[tuple[Any, ...], str, list[Entity]]]] = {}
        replaces: set[str] = set()
        for ff in facts:
            ents = [e for e in ff.entities if e.kind in ("sql.table", "sql.column") and "migration_order" in e.attrs]
            if not ents or is_down(ff.path):
                continue
            replaces.update(e.id for e in ents)
            folder, unit = layout(ff.path)
            groups.setdefault((ff.repo, folder), []).append((order_key(unit), ff.path, ents))
        if not groups:
            return None
        out: list[Entity] = []
        for key in sorted(groups):
            files = sorted(groups[key], key=lambda g: (g[0], g[1]))
            out.extend(fold([e for _k, _p, ents in files for e in ents]))
        return Resolution(entities=out, replaces=replaces)


EXTRACTORS = [SqlExtractor()]
