"""Making an anchor: the enclosing symbol, a fingerprint of the anchored lines and the lines themselves
with a little context, so that `indexers.notes.attach` can find the place again after edits.

A note written on the line that declares a function, method or class (its name, or its first decorator)
is about the whole declaration: its anchor covers the declaration and follows it wherever it moves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from indexers.model import Anchor
from indexers.notes.symbols import Symbol, innermost, starting_at, symbols
from indexers.sources.notes.teamnotes import MAX_CODE, MAX_LINE_CHARS

CONTEXT = 2  # lines of context kept above and below


def split_lines(text: str) -> list[str]:
    """Lines as the editor counts them (LF, CRLF or CR ends a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def norm(line: str) -> str:
    """A line for comparison: cut to the stored length, whitespace runs collapsed."""
    return " ".join(line[:MAX_LINE_CHARS].split())


def fingerprint(lines: Sequence[str]) -> str:
    """A hash of the non-blank lines, whitespace-normalised (re-indenting or adding blank lines keeps it)."""
    body = "\n".join(n for n in map(norm, lines) if n)
    return "sha256:" + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def make_anchor(path: str, text: str, first: int, last: int, commit: str = "",
                syms: Sequence[Symbol] | None = None) -> Anchor:
    """The anchor for lines first..last (0-based, inclusive) of a file's text. A single line that
    declares a symbol anchors the whole declaration."""
    lines = split_lines(text)
    top = max(len(lines) - 1, 0)
    first = min(max(first, 0), top)
    last = min(max(last, first), top)
    found = tuple(syms) if syms is not None else symbols(path, text)
    whole = False
    sym = starting_at(found, first) if first == last else None
    if sym is not None:
        first, last, whole = sym.start_line, sym.end_line, True
    else:
        sym = innermost(found, first, last)
        whole = sym is not None and first <= max(sym.start_line, sym.name_line) and last == sym.end_line
        if whole and sym is not None:
            first = sym.start_line
    block = lines[first:last + 1]
    return Anchor(path, first, last, symbol=sym.name if sym else "", symbol_kind=sym.kind if sym else "",
                  symbol_start=sym.start_line if sym else None, whole_symbol=whole, fingerprint=fingerprint(block),
                  code=tuple(x[:MAX_LINE_CHARS] for x in block[:MAX_CODE]),
                  before=tuple(x[:MAX_LINE_CHARS] for x in lines[max(0, first - CONTEXT):first]),
                  after=tuple(x[:MAX_LINE_CHARS] for x in lines[last + 1:last + 1 + CONTEXT]), commit=commit)
