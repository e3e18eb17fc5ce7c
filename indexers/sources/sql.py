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
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ..model import Entity, FileError, FileFacts, Partial, Span
from ..positions import SourceFile
from .base import Extractor, Resolution, basename, suffix

MAX_BYTES = 32 * 1024 * 1024
MAX_STATEMENT_TOKENS = 200_000

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*.*?\*/)
    |(?P<dollar>\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$)
    |(?P<string>[Ee]'(?:[^'\\]|\\.|'')*'|(?:[NnBbXxUu]&?)?'(?:[^']|'')*')
    |(?P<qident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    |(?P<word>[A-Za-z_\u00c0-\U0010ffff][\w$\u00c0-\U0010ffff]*)
    |(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
    |(?P<bracket>\[[A-Za-z_][^\]\n]*\])
    |(?P<bad>/\*|'|"|`|\$(?:[A-Za-z_]\w*)?\$)
    |(?P<op>::|<>|<=|>=|!=|\|\||.)""",
    re.S | re.X,
)
# MySQL (and files that look like it) escape quotes in strings with a backslash.
_TOKEN_MYSQL = re.compile(
    _TOKEN.pattern.replace("|(?:[NnBbXxUu]&?)?'(?:[^']|'')*')", "|(?:[NnBbXx])?'(?:[^'\\\\]|\\\\.|'')*')")
    .replace("(?P<comment>--[^\\n]*|", "(?P<comment>--[^\\n]*|\\#[^\\n]*|"),
    re.S | re.X,
)
# Skips the body of a statement that is not table DDL up to its ';', a GO line, a migration marker comment,
# or a quote that does not close (left for the tokenizer to report), in one C-level match.
_SKIP_BODY = r"""(?:[^;'"`$/\-\n]+|'{string}'|"(?:[^"]|"")*"|`(?:[^`]|``)*`
    |\$(?P<t>[A-Za-z_]\w*|)\$.*?\$(?P=t)\$|--(?!\s*(?:\+goose|\+migrate|migrate:))[^\n]*|/\*.*?\*/
    |\n(?![ \t]*GO[ \t]*(?:\n|\Z))|[$/\-])*"""
_SKIP = re.compile(_SKIP_BODY.replace("{string}", "(?:[^']|'')*"), re.S | re.X | re.I)
_SKIP_MYSQL = re.compile(_SKIP_BODY.replace("{string}", "(?:[^'\\\\]|\\\\.|'')*").replace("|/\\*", "|\\#[^\\n]*|/\\*")
                         .replace("\\-\\n]+", "\\-\\n\\#]+"),
                         re.S | re.X | re.I)
_MYSQLISH = re.compile(r"`|\bENGINE\s*=|\bAUTO_INCREMENT\b", re.I)
_BAD = {"/*": "comment", "'": "string", '"': "quoted identifier", "`": "quoted identifier"}
_MARKER = re.compile(r"--\s*(?:\+goose|\+migrate|migrate:)\s*(up|down|statementbegin|statementend)\b", re.I)
_ROUTINE = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}


class Tok:
    __slots__ = ("kind", "text", "start", "end", "up")

    def __init__(self, kind: str, text: str, start: int, end: int):
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.up = text.upper() if kind == "word" else text


class SqlSyntaxError(Exception):
    def __init__(self, tok: Tok | None, reason: str):
        super().__init__(reason)
        self.tok = tok
        self.reason = reason


_DDL_START = {"CREATE", "ALTER", "DROP", "RENAME"}


def statements(text: str, errors: list[tuple[int, str]]) -> list[list[Tok]]:
    """Split into statements of significant tokens, keeping only those that may be table DDL (others are
    scanned for their end, never materialised); down sections and custom-DELIMITER blocks skipped.
    Unterminated strings or comments are reported as (offset, reason) in `errors`."""
    out: list[list[Tok]] = []
    cur: list[Tok] = []
    started = False  # the current statement has a token (kept in `cur` or ignored)
    skipping = False  # inside a down section
    whole = False  # goose StatementBegin..End: one statement regardless of ';'
    custom_delim = False  # MySQL DELIMITER block: routine bodies, skipped
    depth = 0  # BEGIN/CASE..END nesting inside a routine body
    routine = False
    last: Tok | None = None

    def flush() -> None:
        nonlocal cur, depth, routine, started
        if cur and not skipping:
            out.append(cur)
        cur, depth, routine, started = [], 0, False, False

    mysql = bool(_MYSQLISH.search(text, 0, 200_000))
    tokens, skip = (_TOKEN_MYSQL, _SKIP_MYSQL) if mysql else (_TOKEN, _SKIP)
    pos, n = 0, len(text)
    while pos < n:
        m = tokens.match(text, pos)
        if m is None:  # pragma: no cover - the last alternative matches any character
            break
        pos = m.end()
        kind = m.lastgroup or "op"
        if kind == "ws":
            if last is not None and last.up == "GO" and "\n" in m.group() and _is_go(text, last):
                if cur and cur[-1] is last:
                    cur.pop()  # SQL Server batch separator
                flush()
                last = None
            continue
        s = m.group()
        if kind == "comment":
            mk = _MARKER.match(s)
            if mk:
                what = mk.group(1).lower()
                if what in ("up", "down"):
                    flush()
                    skipping = what == "down"
                elif what == "statementbegin":
                    flush()
                    whole = True
                else:
                    whole = False
                    flush()
            continue
        if kind == "bad":
            errors.append((m.start(), f"unterminated {_BAD.get(s, 'dollar-quoted string')}; the rest of the file is skipped"))
            break
        if started and not cur and not custom_delim:  # an ignored statement: look for its end only
            if s == ";" and not whole:
                flush()
                continue  # the next statement starts after this ';'
            if kind == "word" and len(s) == 2 and s.upper() == "GO":
                last = Tok(kind, s, m.start(), m.end())
                continue  # maybe a batch separator: decided at the end of its line
            last = None
            sk = skip.match(text, pos)
            if sk is not None and sk.end() > pos:
                pos = sk.end()
            continue
        tok = Tok(kind, s, m.start(), m.end())
        last = tok
        if custom_delim:
            if tok.up == "DELIMITER" and text.startswith(";", _skip_space(text, m.end())):
                custom_delim = False
                started = True  # ends at the ';'
            continue
        if not started and tok.up == "DELIMITER":
            line_end = text.find("\n", m.end())
            rest = text[m.end(): len(text) if line_end < 0 else line_end].strip()
            custom_delim = bool(rest) and rest != ";"
            started = not custom_delim
            continue
        if s == ";" and kind == "op" and not whole and depth <= 0:
            flush()
            continue
        if not started:
            started = True
            if tok.up not in _DDL_START and tok.up != "GO":
                sk = skip.match(text, pos)  # not table DDL: ignored to its end
                if sk is not None and sk.end() > pos:
                    pos = sk.end()
                    last = None
                continue
        cur.append(tok)
        if len(cur) <= 8 and cur[0].up == "CREATE" and tok.up in _ROUTINE:
            routine = True
        if routine and kind == "word":
            if tok.up in ("BEGIN", "CASE"):
                depth += 1
            elif tok.up == "END":
                depth -= 1
        if routine and len(cur) >= 2 and cur[-2].up == "END" and tok.up in ("IF", "LOOP", "WHILE", "REPEAT"):
            depth += 1  # `END IF` closes an IF, not a BEGIN
    if cur and _is_go(text, cur[-1]):
        cur.pop()
    flush()
    return out


def _is_go(text: str, tok: Tok) -> bool:
    return tok.up == "GO" and tok.kind == "word" and not text[text.rfind("\n", 0, tok.start) + 1: tok.start].strip()


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


# -- DDL parsing -----------------------------------------------------------------------------------------

_NAMES = ("word", "qident", "bracket")
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
_FULL = ("type", "nullable", "default", "primary_key", "references", "unique")


def ident(tok: Tok) -> str:
    """An identifier's value: unquoted names fold to lower case; quoted ones keep theirs."""
    if tok.kind == "word":
        return tok.text.lower()
    if tok.kind == "qident":
        q = tok.text[0]
        return tok.text[1:-1].replace(q + q, q)
    if tok.kind == "bracket":
        return tok.text[1:-1]
    raise SqlSyntaxError(tok, f"expected a name, found {tok.text!r}")


def _close(toks: list[Tok], i: int) -> int:
    """Index of the ')' matching the '(' at i."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j].text if toks[j].kind == "op" else ""
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return j
    raise SqlSyntaxError(toks[i], "unclosed '('")


def _split(toks: list[Tok]) -> list[list[Tok]]:
    """Split on commas outside parentheses."""
    out: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "op":
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            elif t.text == "," and depth == 0:
                out.append([])
                continue
        out[-1].append(t)
    return out


class Cursor:
    def __init__(self, toks: list[Tok]):
        self.t = toks
        self.i = 0

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def up(self, k: int = 0) -> str:
        tok = self.peek(k)
        return tok.up if tok is not None and tok.kind in ("word", "op") else ""

    def at_end(self) -> bool:
        return self.i >= len(self.t)

    def next(self) -> Tok:
        if self.i >= len(self.t):
            raise SqlSyntaxError(self.t[-1] if self.t else None, "unexpected end of statement")
        self.i += 1
        return self.t[self.i - 1]

    def accept(self, *words: str) -> bool:
        if self.up() != words[0]:
            return False
        if all(self.up(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            tok = self.peek()
            raise SqlSyntaxError(tok or (self.t[-1] if self.t else None),
                                 f"expected {word}, found {tok.text if tok else 'end of statement'!r}")

    def group(self) -> list[Tok]:
        """Consume a parenthesised group (the cursor is on '('); return its tokens with the parens."""
        end = _close(self.t, self.i)
        out = self.t[self.i: end + 1]
        self.i = end + 1
        return out

    def name(self) -> tuple[list[str], Tok, Tok]:
        first = self.next()
        parts = [ident(first)]
        last = first
        while self.up() == "." and self.peek(1) is not None:
            self.next()
            last = self.next()
            parts.append(ident(last))
        if len(parts) > 1 and parts[0] == "public":
            parts = parts[1:]  # PostgreSQL's default schema: `public.t` is `t`
        return parts, first, last


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
        for el in _split(body[1:-1]):
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
        for act in _split(c.t[c.i:]):
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
            defs = [a.t[a.i:]] if a.up() != "(" else _split(a.group()[1:-1])
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
        if prev_drop and len(act) == 1 and act[0].kind in _NAMES:
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
            if not toks and tok.kind not in _NAMES:
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
        return [f"{target}.{ident(el[0])}" for el in _split(c.group()[1:-1]) if el]

    def column_list(self, c: Cursor) -> list[Tok]:
        if c.up() != "(" and c.peek() is not None and c.peek().kind in _NAMES:  # type: ignore[union-attr]
            c.next()  # an index or constraint name
        if c.up() != "(":
            raise SqlSyntaxError(c.peek() or c.t[-1], "expected a column list")
        cols = [el[0] for el in _split(c.group()[1:-1]) if el]
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
        return second.kind in _NAMES and third is not None and (
            (third.text == "(" and second.up not in _PAREN_TYPES) or third.up == "USING")
    if first.up == "PERIOD":
        return second is not None and second.up == "FOR"
    if first.up == "EXCLUDE":
        return second is not None and (second.text == "(" or second.up == "USING")
    return True


# -- migration layout --------------------------------------------------------------------------------

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


# -- the extractor --------------------------------------------------------------------------------------


class SqlExtractor(Extractor):
    name = "sql"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) == ".sql" and not is_down(path)

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"file too large ({len(src.data)} bytes)")],
                           language="sql")
        text = src.text
        starts = [0] + [m.end() for m in re.finditer("\n", text)]

        def span(a: int, b: int) -> Span:
            l0 = bisect_right(starts, a) - 1
            l1 = bisect_right(starts, b) - 1
            return src.span_from_chars(l0, a - starts[l0], l1, b - starts[l1])

        def line(offset: int) -> int:
            return bisect_right(starts, offset) - 1

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
