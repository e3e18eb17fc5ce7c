"""SQL DDL parser: CREATE / ALTER / DROP / RENAME TABLE statements into per-file table and column entities.

A permissive recursive-descent parser over the tokens of `sql_tokens`, covering the DDL subset of the
common dialects (PostgreSQL, MySQL, SQLite, SQL Server). Each entity carries `op` (create, add, alter,
rename, redefine, drop) and its `migration_order`; folding them into the current schema is `sql_fold`'s
job. A statement that does not parse yields (token, reason) so the extractor can report its line.
"""

from __future__ import annotations

from typing import Any

from indexers.model import Entity
from indexers.positions import SourceFile
from indexers.sources.contracts.sql.tokens import NAMES, Cursor, SqlSyntaxError, Tok, ident, split_commas

_COL_STOP = {"NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "CONSTRAINT", "GENERATED",
             "AUTO_INCREMENT", "AUTOINCREMENT", "COLLATE", "COMMENT", "CHARSET", "CHARACTER", "ON", "AS", "KEY",
             "IDENTITY", "ENCODE", "STORAGE", "COMPRESSION", "VISIBLE", "INVISIBLE", "SPARSE", "ROWGUIDCOL", "USING"}
_DEFAULT_STOP = {"NOT", "NULL", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "CONSTRAINT", "GENERATED", "COLLATE",
                 "COMMENT", "ON", "AUTO_INCREMENT", "AUTOINCREMENT", "USING"}
_CONSTRAINT_START = {"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "INDEX", "KEY", "FULLTEXT",
                     "SPATIAL", "LIKE", "PERIOD"}
_PAREN_TYPES = {"VARCHAR", "CHAR", "CHARACTER", "NUMERIC", "DECIMAL", "NVARCHAR", "NCHAR", "VARBINARY", "BINARY",
                "BIT", "FLOAT", "DOUBLE", "TIME", "TIMESTAMP", "DATETIME", "DATETIME2", "INT", "INTEGER", "TINYINT",
                "SMALLINT", "MEDIUMINT", "BIGINT", "ENUM", "SET", "VARCHAR2", "NUMBER"}
_TABLE_PREFIX = {"GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED", "VIRTUAL", "EXTERNAL", "TRANSIENT", "VOLATILE"}


class Parser:
    """Turns statements into per-file entities; one instance per file."""

    def __init__(self, src: SourceFile, span: Any, order: dict[str, Any]):
        self.src = src
        self.span = span
        self.order = order
        self.entities: list[Entity] = []
        self.stmt = 0

    # -- helpers ----------------------------------------------------------------------------------------
    def text(self, toks: list[Tok]) -> str:
        return " ".join(self.src.text[toks[0].start: toks[-1].end].split())

    def attrs(self, op: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {"op": op, **extra, "migration_order": {**self.order, "statement": self.stmt}}

    def table(self, key: str, first: Tok, last: Tok, op: str, extent: list[Tok], extra: dict[str, Any]) -> None:
        self.entities.append(Entity(f"sql:{key}", "sql.table", key, self.src.repo, self.src.path,
                                    self.span(first.start, last.end), self.attrs(op, extra), None,
                                    self.span(extent[0].start, extent[-1].end)))

    def column(self, table: str, tok: Tok, op: str, extra: dict[str, Any], extent: list[Tok]) -> None:
        name = ident(tok)
        self.entities.append(Entity(f"sql:{table}.{name}", "sql.column", name, self.src.repo, self.src.path,
                                    self.span(tok.start, tok.end), self.attrs(op, extra), f"sql:{table}",
                                    self.span(extent[0].start, extent[-1].end)))

    # -- statements -------------------------------------------------------------------------------------
    def statement(self, index: int, toks: list[Tok]) -> list[tuple[Tok | None, str]]:
        self.stmt = index
        c = Cursor(toks)
        try:
            if c.up() == "CREATE":
                return self.create(c, toks)
            if c.up() == "ALTER" and c.up(1) == "TABLE":
                return self.alter(c, toks)
            if c.up() == "DROP" and c.up(1) == "TABLE":
                c.i = 2
                c.accept("IF", "EXISTS")
                while True:
                    parts, first, last = c.name()
                    self.table(".".join(parts), first, last, "drop", toks, {})
                    if not c.accept(","):
                        return []
            if c.up() == "RENAME" and c.up(1) == "TABLE":
                c.i = 2
                while True:
                    old, _f, _l = c.name()
                    c.expect("TO")
                    new, first, last = c.name()
                    self.table(".".join(new), first, last, "rename", toks, {"renamed_from": ".".join(old)})
                    if not c.accept(","):
                        return []
        except SqlSyntaxError as exc:
            return [(exc.tok, exc.reason)]
        return []

    def create(self, c: Cursor, toks: list[Tok]) -> list[tuple[Tok | None, str]]:
        c.next()
        c.accept("OR", "REPLACE")
        temporary = virtual = False
        while c.up() in _TABLE_PREFIX:
            temporary = temporary or c.up() in ("TEMPORARY", "TEMP", "GLOBAL", "LOCAL", "VOLATILE")
            virtual = virtual or c.up() in ("VIRTUAL", "EXTERNAL")
            c.next()
        if not c.accept("TABLE") or temporary:
            return []
        if_not_exists = c.accept("IF", "NOT", "EXISTS")
        parts, first, last = c.name()
        key = ".".join(parts)
        body = c.group() if c.up() == "(" and not virtual else []  # before any entity: unclosed => nothing
        self.table(key, first, last, "create", toks, {"if_not_exists": True} if if_not_exists else {})
        if not body:
            return []  # AS SELECT, PARTITION OF, LIKE, module arguments
        errors: list[tuple[Tok | None, str]] = []
        columns: dict[str, tuple[Tok, dict[str, Any], list[Tok]]] = {}
        effects: list[tuple[str, Tok, dict[str, Any]]] = []
        for el in split_commas(body[1:-1]):
            if not el:
                errors.append((body[0], "empty element in column list"))
                continue
            try:
                if _is_constraint(el):
                    effects.extend(self.constraint(Cursor(el)))
                else:
                    tok, attrs = self.column_def(Cursor(el))
                    columns[ident(tok)] = (tok, attrs, el)
            except SqlSyntaxError as exc:
                errors.append((exc.tok, exc.reason))
        for name, _tok, change in effects:
            if name in columns:
                columns[name][1].update(change)
        for _name, (tok, attrs, el) in columns.items():
            self.column(key, tok, "create", attrs, el)
        return errors

    def alter(self, c: Cursor, toks: list[Tok]) -> list[tuple[Tok | None, str]]:
        c.i = 2
        c.accept("IF", "EXISTS")
        c.accept("ONLY")
        parts, first, last = c.name()
        key = ".".join(parts)
        c.accept("*")
        errors: list[tuple[Tok | None, str]] = []
        prev_drop = False
        for act in split_commas(c.t[c.i:]):
            if not act:
                errors.append((last, "empty ALTER TABLE action"))
                continue
            try:
                prev_drop = self.action(key, Cursor(act), act, prev_drop, first, last, toks)
            except SqlSyntaxError as exc:
                errors.append((exc.tok, exc.reason))
        return errors

    def action(self, key: str, a: Cursor, act: list[Tok], prev_drop: bool, first: Tok, last: Tok,
               toks: list[Tok]) -> bool:
        """One ALTER TABLE action; returns whether it was a DROP COLUMN (SQL Server lists several)."""
        u = a.up()
        if u == "ADD":
            a.next()
            if a.up() in _CONSTRAINT_START and _is_constraint(act[1:]):
                for _name, tok, effect in self.constraint(a):
                    self.column(key, tok, "constraint", effect, act)
                return False
            a.accept("COLUMN")
            guarded = a.accept("IF", "NOT", "EXISTS")
            defs = [a.t[a.i:]] if a.up() != "(" else split_commas(a.group()[1:-1])
            for d in defs:
                tok, attrs = self.column_def(Cursor(d))
                if guarded:
                    attrs["if_not_exists"] = True
                self.column(key, tok, "add", attrs, act)
            return False
        if u == "DROP":
            a.next()
            has_col = a.accept("COLUMN")
            if not has_col and (a.peek() is None or a.peek().kind != "word" or a.up() in _NOT_COLUMN):  # type: ignore[union-attr]
                return False
            a.accept("IF", "EXISTS")
            self.column(key, a.next(), "drop", {}, act)
            return True
        if u == "RENAME":
            a.next()
            if a.accept("COLUMN") or (a.up(1) == "TO" and a.up() not in ("TO", "AS") and a.up() not in _NOT_COLUMN):
                old = ident(a.next())
                a.expect("TO")
                self.column(key, a.next(), "rename", {"renamed_from": old}, act)
            elif a.up() in ("TO", "AS"):
                a.next()
                parts, f, la = a.name()
                self.table(".".join(parts), f, la, "rename", toks, {"renamed_from": key})
            return False
        if u == "ALTER":
            a.next()
            a.accept("COLUMN")
            if a.up() in _NOT_COLUMN:
                return False
            col = a.next()
            change: dict[str, Any] = {}
            if a.accept("SET", "DATA", "TYPE") or a.accept("TYPE"):
                change["type"] = self.type_text(a)
                if change["type"] is None:
                    raise SqlSyntaxError(col, "expected a column type")
            elif a.accept("SET", "NOT", "NULL"):
                change["nullable"] = False
            elif a.accept("DROP", "NOT", "NULL"):
                change["nullable"] = True
            elif a.accept("SET", "DEFAULT"):
                change["default"] = self.expr(a)
            elif a.accept("DROP", "DEFAULT"):
                change["default"] = None
            elif a.up() in ("SET", "DROP", "ADD", "RESET", "RESTART", "OPTIONS") or a.at_end():
                return False
            else:  # SQL Server: ALTER COLUMN c <type> [NULL | NOT NULL]
                change["type"] = self.type_text(a)
                if a.accept("NOT", "NULL"):
                    change["nullable"] = False
                elif a.accept("NULL"):
                    change["nullable"] = True
            self.column(key, col, "alter", change, act)
            return False
        if u in ("MODIFY", "CHANGE"):
            a.next()
            a.accept("COLUMN")
            was = ident(a.next()) if u == "CHANGE" else None
            tok, attrs = self.column_def(a)
            if was is not None and was != ident(tok):
                attrs["renamed_from"] = was
            self.column(key, tok, "redefine", attrs, act)
            return False
        if prev_drop and len(act) == 1 and act[0].kind in NAMES:
            self.column(key, act[0], "drop", {}, act)
            return True
        return False

    # -- pieces -----------------------------------------------------------------------------------------
    def type_text(self, c: Cursor) -> str | None:
        toks: list[Tok] = []
        while not c.at_end():
            tok = c.peek()
            assert tok is not None
            if tok.kind == "word" and tok.up in _COL_STOP and not (tok.up == "CHARACTER" and not toks):
                break
            if tok.kind == "op" and tok.text == "(":
                toks.extend(c.group())
                continue
            if not toks and tok.kind not in NAMES:
                raise SqlSyntaxError(tok, f"expected a column type, found {tok.text!r}")
            toks.append(c.next())
        return self.text(toks) if toks else None

    def expr(self, c: Cursor) -> str:
        toks: list[Tok] = c.group() if c.up() == "(" else [c.next()]
        while not c.at_end() and not (c.up() in _DEFAULT_STOP and c.peek().kind == "word"):  # type: ignore[union-attr]
            toks.extend(c.group() if c.up() == "(" else [c.next()])
        return self.text(toks)

    def column_def(self, c: Cursor) -> tuple[Tok, dict[str, Any]]:
        tok = c.next()
        ident(tok)
        attrs: dict[str, Any] = {"type": self.type_text(c), "nullable": True, "default": None,
                                 "primary_key": False, "references": None, "unique": False}
        while not c.at_end():
            if c.accept("CONSTRAINT"):
                c.next()
            elif c.accept("NOT", "NULL"):
                attrs["nullable"] = False
            elif c.accept("NULL"):
                attrs["nullable"] = True
            elif c.accept("DEFAULT"):
                attrs["default"] = self.expr(c)
            elif c.accept("PRIMARY", "KEY"):
                attrs["primary_key"] = True
                attrs["nullable"] = False
            elif c.accept("UNIQUE"):
                attrs["unique"] = True
            elif c.accept("GENERATED"):  # GENERATED {ALWAYS | BY DEFAULT} AS {IDENTITY | (expr)} [STORED]
                while c.up() in ("ALWAYS", "BY", "DEFAULT", "AS", "IDENTITY", "STORED", "VIRTUAL", "("):
                    _ = c.group() if c.up() == "(" else c.next()
            elif c.accept("REFERENCES"):
                attrs["references"] = self.reference(c)[0]
            elif c.up() == "(":
                c.group()
            else:
                c.next()
        return tok, attrs

    def reference(self, c: Cursor) -> list[str]:
        parts, _f, _l = c.name()
        target = ".".join(parts)
        if c.up() != "(":
            return [target]
        return [f"{target}.{ident(el[0])}" for el in split_commas(c.group()[1:-1]) if el]

    def column_list(self, c: Cursor) -> list[Tok]:
        if c.up() != "(" and c.peek() is not None and c.peek().kind in NAMES:  # type: ignore[union-attr]
            c.next()  # an index or constraint name
        if c.up() != "(":
            raise SqlSyntaxError(c.peek() or c.t[-1], "expected a column list")
        cols = [el[0] for el in split_commas(c.group()[1:-1]) if el]
        for tok in cols:
            ident(tok)
        return cols

    def constraint(self, c: Cursor) -> list[tuple[str, Tok, dict[str, Any]]]:
        """Effects of a table constraint on its columns: [(column, token, attrs)]."""
        if c.accept("CONSTRAINT"):
            c.next()
        if c.accept("PRIMARY", "KEY"):
            return [(ident(t), t, {"primary_key": True, "nullable": False}) for t in self.column_list(c)]
        if c.accept("FOREIGN", "KEY"):
            cols = self.column_list(c)
            c.expect("REFERENCES")
            refs = self.reference(c)
            if len(refs) == 1 and len(cols) > 1:
                return []
            targets = refs if len(refs) == len(cols) else [refs[0]] * len(cols)
            return [(ident(t), t, {"references": r}) for t, r in zip(cols, targets, strict=False)]
        if c.accept("UNIQUE"):
            _ = c.accept("KEY") or c.accept("INDEX")
            cols = self.column_list(c)
            return [(ident(cols[0]), cols[0], {"unique": True})] if len(cols) == 1 else []
        return []


_NOT_COLUMN = {"CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "PARTITION", "UNIQUE", "DEFAULT",
               "TRIGGER", "PERIOD", "SYSTEM", "FULLTEXT", "SPATIAL", "ROW", "TO", "AS"}


def _is_constraint(el: list[Tok]) -> bool:
    first = el[0]
    if first.kind != "word" or first.up not in _CONSTRAINT_START:
        return False
    second = el[1] if len(el) > 1 else None
    third = el[2] if len(el) > 2 else None
    if first.up in ("KEY", "INDEX"):
        if second is None or second.text == "(":
            return True
        return second.kind in NAMES and third is not None and (
            (third.text == "(" and second.up not in _PAREN_TYPES) or third.up == "USING")
    if first.up == "PERIOD":
        return second is not None and second.up == "FOR"
    if first.up == "EXCLUDE":
        return second is not None and (second.text == "(" or second.up == "USING")
    return True
