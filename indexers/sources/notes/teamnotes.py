"""Team notes: `.lore/notes/<id>.toml`, one file per note, written by `lore note add` (or an agent through
MCP, or the editor) and reviewed and merged like any other file of the repository.

One file per note, named by its id, so that two branches adding notes never touch the same file. TOML,
read with the standard library's `tomllib`; written by `dump` in a fixed layout (the text first, then
who wrote it, then the anchor: the code it is about, with enough of that code to find it again after
edits, see `indexers.notes`).

A note file is repository content another party may have written: it is validated on read, and a file
that is not a note (bad TOML, a missing or wrong field, a path leaving the repository, too large) is a
`FileError` naming the line and the reason, never an exception and never a half-read note.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from indexers.model import Anchor, FileError, Partial, TeamNote
from indexers.positions import SourceFile
from indexers.sources.base import Extractor

FOLDER = ".lore/notes/"
KINDS = ("warning", "incident", "decision", "tip")
MAX_BYTES = 64_000
MAX_TEXT = 4000
MAX_CODE = 80  # anchored lines kept in the file (the fingerprint covers them all)
MAX_CONTEXT = 3  # lines of context above and below
MAX_LINE_CHARS = 1000
MAX_REFS = 20
MAX_LINES = 1_000_000

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_NAME = re.compile(r"^\.lore/notes/([^/]+)\.toml$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})?$")
_AT_LINE = re.compile(r"at line (\d+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # controls, bidi overrides


class Invalid(ValueError):
    def __init__(self, reason: str, key: str = ""):
        super().__init__(reason)
        self.key = key


def note_id(path: str) -> str | None:
    """The id of a note file path (`.lore/notes/<id>.toml`), or None when the path is not one."""
    m = _NAME.match(path)
    return m.group(1) if m and _ID.match(m.group(1)) else None


def note_path(ident: str) -> str:
    return f"{FOLDER}{ident}.toml"


def valid_id(ident: str) -> bool:
    return bool(_ID.match(ident))


def safe_relpath(path: str) -> bool:
    """A repo-relative POSIX path that stays inside the repository."""
    if not path or len(path) > 1000 or path.startswith("/") or "\\" in path or _CONTROL.search(path):
        return False
    parts = path.split("/")
    return all(p not in ("", ".", "..") for p in parts) and ".git" not in parts


# -- reading -----------------------------------------------------------------------------------------
def parse(repo: str, path: str, text: str) -> tuple[TeamNote | None, FileError | None]:
    """The note in a note file, or the error that makes it not one (with the line when known)."""
    ident = note_id(path)
    if ident is None:
        where = "at the repository's root: " if not path.startswith(FOLDER) else ""
        return None, FileError(repo, path, f"a note file is {where}.lore/notes/<id>.toml, the id of letters, digits, '-' and '_'")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _AT_LINE.search(str(exc))
        return None, FileError(repo, path, f"not valid TOML: {exc}", int(m.group(1)) - 1 if m else None)
    try:
        note = _note(repo, path, ident, doc, text)
    except Invalid as exc:
        return None, FileError(repo, path, str(exc), _line_of(text, exc.key))
    return note, None


def _line_of(text: str, key: str) -> int | None:
    if not key:
        return None
    m = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) if m else None


def _str(doc: dict[str, Any], key: str, limit: int, *, required: bool = False, where: str = "") -> str:
    value = doc.get(key, None)
    if value is None:
        if required:
            raise Invalid(f"{where}{key} is missing", key)
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{where}{key} must be a string", key)
    if len(value) > limit:
        raise Invalid(f"{where}{key} is longer than {limit} characters", key)
    return value


def _lines(doc: dict[str, Any], key: str, limit: int) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise Invalid(f"anchor.{key} must be a list of strings (lines of code)", key)
    if len(value) > limit:
        raise Invalid(f"anchor.{key} holds more than {limit} lines", key)
    if any(len(x) > MAX_LINE_CHARS or "\n" in x for x in value):
        raise Invalid(f"anchor.{key}: a line is longer than {MAX_LINE_CHARS} characters or holds a line break", key)
    return tuple(value)


def _note(repo: str, path: str, ident: str, doc: dict[str, Any], text: str) -> TeamNote:
    kind = _str(doc, "kind", 20, required=True)
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", "kind")
    body = clean_text(_str(doc, "text", MAX_TEXT, required=True))
    if not body:
        raise Invalid("text is empty: write what the reader of these lines must know", "text")
    refs = doc.get("refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) and 0 < len(r) <= 300 for r in refs) or len(refs) > MAX_REFS:
        raise Invalid(f"refs must be a list of at most {MAX_REFS} strings (issue keys or URLs)", "refs")
    raw = doc.get("anchor")
    if not isinstance(raw, dict):
        raise Invalid("the [anchor] table is missing", "anchor")
    return TeamNote(ident, repo, path, kind, body, _anchor(raw), author=_str(doc, "author", 200),
                    agent=_str(doc, "agent", 100), created=_str(doc, "created", 40), refs=tuple(refs),
                    line=_line_of(text, "text") or 0)


def _anchor(raw: dict[str, Any]) -> Anchor:
    where = "anchor."
    target = _str(raw, "path", 1000, required=True, where=where)
    if not safe_relpath(target):
        raise Invalid(f"anchor.path must be a path inside the repository, not {target!r}", "path")
    lines = raw.get("lines")
    if (not isinstance(lines, list) or len(lines) != 2 or not all(type(x) is int for x in lines)
            or not 1 <= lines[0] <= lines[1] <= MAX_LINES):
        raise Invalid("anchor.lines must be [first, last], 1-based line numbers with first <= last", "lines")
    symbol_line = raw.get("symbol_line")
    if symbol_line is not None and (type(symbol_line) is not int or not 1 <= symbol_line <= MAX_LINES):
        raise Invalid("anchor.symbol_line must be a 1-based line number", "symbol_line")
    whole = raw.get("whole_symbol", False)
    if not isinstance(whole, bool):
        raise Invalid("anchor.whole_symbol must be true or false", "whole_symbol")
    commit = _str(raw, "commit", 64, where=where)
    if not _SHA.match(commit):
        raise Invalid("anchor.commit must be a full commit sha", "commit")
    return Anchor(target, lines[0] - 1, lines[1] - 1, symbol=_str(raw, "symbol", 300, where=where),
                  symbol_kind=_str(raw, "symbol_kind", 40, where=where),
                  symbol_start=symbol_line - 1 if symbol_line is not None else None, whole_symbol=whole,
                  fingerprint=_str(raw, "fingerprint", 100, where=where), code=_lines(raw, "code", MAX_CODE),
                  before=_lines(raw, "before", MAX_CONTEXT), after=_lines(raw, "after", MAX_CONTEXT), commit=commit)


# -- writing -----------------------------------------------------------------------------------------
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _esc(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch


def toml_string(value: str) -> str:
    """A TOML basic string (one line) holding exactly `value`."""
    return '"' + "".join(_esc(ch) for ch in value) + '"'


def _multiline(value: str) -> str:
    """A TOML multi-line basic string: line breaks and lone quotes kept as they are (readable), a quote
    followed by another escaped (so no run of three closes the string), everything else escaped."""
    body = "".join("\n" if ch == "\n" else '"' if ch == '"' and value[i + 1:i + 2] != '"' else _esc(ch)
                   for i, ch in enumerate(value))
    return '"""\n' + body + '\n"""'


def _array(values: tuple[str, ...]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f"    {toml_string(v)},\n" for v in values) + "]"


def clean_text(text: str) -> str:
    """A note's text as stored and read: control and bidi-override characters (but line breaks and tabs)
    dropped, trimmed."""
    return _UNSAFE_TEXT.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def dump(note: TeamNote) -> str:
    """The file for a note: the text first (what a reviewer reads), then who, then where."""
    a = note.anchor
    out = ["# A Lore team note: review it like code. `lore note --help` tells how to add, move or remove notes.",
           f"kind = {toml_string(note.kind)}",
           f"text = {_multiline(clean_text(note.text))}"]
    if note.refs:
        out.append("refs = [" + ", ".join(toml_string(r) for r in note.refs) + "]")
    out.append(f"author = {toml_string(note.author)}")
    if note.agent:
        out.append(f"agent = {toml_string(note.agent)}  # written by an AI agent")
    out.append(f"created = {toml_string(note.created)}")
    out += ["", "[anchor]  # the code the note is about; Lore finds it again after edits and renames",
            f"path = {toml_string(a.path)}",
            f"lines = [{a.start_line + 1}, {a.end_line + 1}]"]
    if a.symbol:
        out.append(f"symbol = {toml_string(a.symbol)}")
        out.append(f"symbol_kind = {toml_string(a.symbol_kind)}")
        if a.symbol_start is not None:
            out.append(f"symbol_line = {a.symbol_start + 1}")
    out.append(f"whole_symbol = {'true' if a.whole_symbol else 'false'}")
    if a.commit:
        out.append(f"commit = {toml_string(a.commit)}")
    out.append(f"fingerprint = {toml_string(a.fingerprint)}")
    out.append(f"before = {_array(a.before)}")
    out.append(f"code = {_array(a.code)}")
    out.append(f"after = {_array(a.after)}")
    return "\n".join(out) + "\n"


class TeamNotesExtractor(Extractor):
    name = "teamnotes"
    version = 1

    def wants(self, path: str) -> bool:
        """`.lore/notes/*.toml` (a watcher's absolute path too; a folder elsewhere is reported, not read)."""
        if not path.endswith(".toml"):
            return False
        cut = path.rfind("/" + FOLDER)
        name = path[len(FOLDER):] if path.startswith(FOLDER) else path[cut + 1 + len(FOLDER):] if cut >= 0 else "/"
        return "/" not in name

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"note file larger than {MAX_BYTES} bytes: not read")])
        note, err = parse(src.repo, src.path, src.text)
        return Partial(notes=[note] if note else [], errors=[err] if err else [])


EXTRACTORS = [TeamNotesExtractor()]
