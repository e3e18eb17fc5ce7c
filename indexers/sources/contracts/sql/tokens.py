"""SQL tokens: the tokenizer that cuts a file into table-DDL statements, and the cursor the parser reads
them with.

Kept apart from the parser because it is the hot loop: one C-level regex match per token, and statements
that cannot be table DDL (INSERT, CREATE INDEX, routines, down sections) are skipped to their end in one
further match, never materialised as tokens. Offsets are code-point offsets into the decoded text, so
identifiers keep exact positions, which general SQL parsers do not report.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*.*?\*/)
    |(?P<dollar>\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$)
    |(?P<string>[Ee]'(?:[^'\\]|\\.|'')*'|(?:[NnBbXxUu]&?)?'(?:[^']|'')*')
    |(?P<qident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    |(?P<word>[A-Za-z_\u00c0-\U0010ffff][\w$\u00c0-\U0010ffff]*)
    |(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
    |(?P<bracket>\[[A-Za-z_][^\]\n]{0,255}\])  # bounded: a run of `[` on one long line would rescan it
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
    match = tokens.match
    pos, n = 0, len(text)
    while pos < n:
        m = match(text, pos)
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


NAMES = ("word", "qident", "bracket")


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


def split_commas(toks: list[Tok]) -> list[list[Tok]]:
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
        j = self.i + k
        if j < len(self.t):
            tok = self.t[j]
            if tok.kind == "word" or tok.kind == "op":
                return tok.up
        return ""

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
        for k in range(1, len(words)):
            if self.up(k) != words[k]:
                return False
        self.i += len(words)
        return True

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
