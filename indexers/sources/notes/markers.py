"""Comment markers: TODO, FIXME, HACK, XXX, WORKAROUND, NOTE and "do not remove" comments in source files.

Only tree-sitter comment nodes are read (queries `indexers/queries/<lang>-comments.scm`), so a
`todo_list` identifier or a "TODO" inside a string is never a marker. Uppercase TODO/FIXME/HACK/WORKAROUND
count anywhere in a comment; XXX and NOTE (which also appear as placeholders and prose) only at the
start of a comment line or followed by `:`/`(`; lowercase forms only as `todo:` at the start of a line.
Each marker covers its comment line, from the keyword to the end of the line; its text continues over
the following lines of the same block comment, or over line comments indented past the marker's, until a
blank line or another marker. Author and age come from blame at
query time.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from tree_sitter import Query, QueryCursor

from indexers import ts
from indexers.model import FileError, Marker, Partial, Span
from indexers.positions import SourceFile
from indexers.refs import find_refs
from indexers.sources.base import Extractor, basename, suffix

LANGUAGES = {
    ".go": "go", ".py": "python", ".pyi": "python", ".ts": "typescript", ".mts": "typescript",
    ".cts": "typescript", ".tsx": "tsx", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".java": "java", ".cs": "csharp", ".kt": "kotlin", ".kts": "kotlin", ".rb": "ruby",
    ".rs": "rust", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".h": "cpp", ".c": "c", ".proto": "proto", ".sql": "sql", ".scala": "scala", ".php": "php",
    ".swift": "swift", ".sh": "bash", ".bash": "bash", ".lua": "lua", ".tf": "hcl", ".hcl": "hcl",
}
_SKIP_DIRS = {"node_modules", "vendor", "third_party", "third-party", ".git", "dist", "build", "__pycache__"}
MAX_BYTES = 2_000_000
MAX_MARKERS = 500
MAX_TEXT = 300
_CONTINUATION_LINES = 3

_WORDS = rb"todo|fixme|hack|xxx|workaround|note|remove|delete"
_PREFILTER = re.compile(_WORDS, re.IGNORECASE)
# The same words searched in the lowered bytes: the same matches (ASCII letters only fold either way), 4-5x
# faster than an IGNORECASE search over a file of comments.
_PREFILTER_LOWER = re.compile(_WORDS)
_LEAD = re.compile(r"^\s*(?:/{2,}!?|/\*+!?|\*+(?!/)|#+!?|--+(?:\[=*\[)?|<!--|;+)?\s*")
_ANYWHERE = re.compile(r"(?<![\w-])(TODO|FIXME|HACK|WORKAROUND)(?![\w-])")
_LEADING = re.compile(r"^(XXX|NOTE|todo|fixme|hack|workaround|note|Todo|Fixme|Hack|Workaround|Note)(?=\s*[:(!])"
                      r"|^(XXX|NOTE)(?=\s)")
_STRICT = re.compile(r"(?<![\w-])(XXX|NOTE)(?=[:(])")
_KEEP = re.compile(r"\b(?:do\s+not|don'?t|never)\s+(?:remove|delete)\b", re.IGNORECASE)


@cache
def _query(lang: str) -> Query:
    filename = f"{lang}-comments.scm"
    try:
        return ts.query(lang, filename)
    except (OSError, NotADirectoryError, ValueError):  # namespace-package resources: read beside ts.py
        return Query(ts.language(lang), (Path(ts.__file__).with_name("queries") / filename).read_text("utf-8"))


def _trail(text: str) -> str:
    """`text` without trailing space and a comment closer (`*/`, `]]`/`]==]`, `-->`) at its end. By hand:
    as one regex (whitespace, optional closer, whitespace, end), a long run of spaces took cubic time."""
    text = text.rstrip()
    if text.endswith("*/"):
        text = text[:-1].rstrip("*")
    elif text.endswith("-->"):
        text = text[:-3]
    elif text.endswith("]"):
        inner = text[:-1].rstrip("=")
        if inner.endswith("]"):
            text = inner[:-1]
    return text.rstrip()


def _find(body: str) -> tuple[int, str] | None:
    """(offset in `body`, kind) of the first marker on a stripped comment line."""
    hits: list[tuple[int, str]] = []
    m = _LEADING.match(body)
    if m:
        hits.append((0, (m.group(1) or m.group(2)).lower()))
    for rx in (_ANYWHERE, _STRICT):
        m = rx.search(body)
        if m:
            hits.append((m.start(), m.group(1).lower()))
    m = _KEEP.search(body)
    if m:
        hits.append((0, "do_not_remove"))  # the phrase is often mid-sentence: keep the whole line
    return min(hits) if hits else None


class _Line:
    __slots__ = ("row", "col", "start", "body")

    def __init__(self, row: int, col: int, start: int, body: str):
        # col: char column where the comment starts on this line; start: char column of `body`
        self.row, self.col, self.start, self.body = row, col, start, body


Segment = tuple[int, int, int]  # one line of a comment: row, byte columns [a, b)


def _segments(src: SourceFile, node: Any) -> list[Segment]:
    (r0, c0), (r1, c1) = tuple(node.start_point), tuple(node.end_point)
    lines = src.line_bytes
    return [(row, c0 if row == r0 else 0, c1 if row == r1 else len(lines[row]))
            for row in range(r0, min(r1, len(lines) - 1) + 1)]


def _line(src: SourceFile, seg: Segment) -> _Line:
    """A comment line's text without its comment leader and closer, and where it starts."""
    row, a, b = seg
    raw = src.line_bytes[row]
    text = raw[a:b].decode("utf-8", "replace")
    lead = _LEAD.match(text)
    start = lead.end() if lead else 0
    body = _trail(text[start:])
    col = len(raw[:a].decode("utf-8", "replace"))
    return _Line(row, col, col + start, body)


class MarkersExtractor(Extractor):
    name = "markers"
    version = 1

    def wants(self, path: str) -> bool:
        if suffix(path) not in LANGUAGES or basename(path).endswith((".min.js", ".bundle.js")):
            return False
        return not any(part in _SKIP_DIRS for part in path.split("/")[:-1])

    def extract(self, src: SourceFile) -> Partial:
        lang = LANGUAGES.get(suffix(src.path))
        if lang is None:
            return Partial()
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"markers: not scanned, larger than {MAX_BYTES} bytes")])
        hits = [m.span() for m in _PREFILTER_LOWER.finditer(src.data.lower())]
        if not hits:
            return Partial(language=lang)
        try:
            tree = src.tree(lang)
            nodes = [n for ns in QueryCursor(_query(lang)).captures(tree.root_node).values() for n in ns]
        except Exception as exc:  # noqa: BLE001 - a grammar problem must not lose the file's other facts
            return Partial(errors=[FileError(src.repo, src.path, f"markers: cannot parse comments ({exc})")])
        ordered = sorted(nodes, key=attrgetter("start_byte"))
        data = src.data
        worded = _worded(ordered, hits, data)
        segs: dict[int, list[Segment]] = {}  # the lines of the i-th comment, computed where they are read
        read: dict[tuple[int, int], _Line] = {}

        def segments(i: int) -> list[Segment]:
            got = segs.get(i)
            if got is None:
                got = segs[i] = _segments(src, ordered[i])
            return got

        def line_at(i: int, j: int) -> _Line:
            got = read.get((i, j))
            if got is None:
                got = read[(i, j)] = _line(src, segments(i)[j])
            return got

        def following(i: int, j: int) -> Iterator[tuple[int, _Line]]:
            """The comment lines after line j of comment i, in file order (across comments)."""
            while i < len(ordered):
                for k in range(j + 1, len(segments(i))):
                    yield i, line_at(i, k)
                i, j = i + 1, -1

        markers: list[Marker] = []
        # Every marker names a `_PREFILTER` word in ASCII letters: a comment, or a line of it, without one
        # holds no marker (and is read only as another marker's continuation).
        for block in sorted(worded):
            for j, (row, a, b) in enumerate(segments(block)):
                if not _PREFILTER.search(src.line_bytes[row], a, b):
                    continue
                line = line_at(block, j)
                found = _find(line.body)
                if found is None:
                    continue
                markers.append(_marker(src, line, found, block, following(block, j)))
                if len(markers) >= MAX_MARKERS:
                    break
            if len(markers) >= MAX_MARKERS:
                break
        return Partial(markers=markers, language=lang)


def _worded(ordered: list[Any], hits: list[tuple[int, int]], data: bytes) -> set[int]:
    """The indexes of the comments (in file order, none overlapping) that hold a `_PREFILTER` word, from
    the words' spans in the whole file: a comment holds one when a span lies inside it. Where a span
    crosses a comment's start or end (a word running into or out of it, which comment leaders and
    closers make impossible in practice), that comment is searched on its own, as it always was."""
    starts = [n.start_byte for n in ordered]
    ends = [n.end_byte for n in ordered]
    if any(e > s for e, s in zip(ends, starts[1:], strict=False)):  # overlapping captures: each on its own
        return {i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if _PREFILTER.search(data, s, e)}
    out: set[int] = set()
    for a, b in hits:
        i = bisect.bisect_right(starts, a) - 1  # the comment starting at or before the word
        if i >= 0 and a < ends[i]:
            if b <= ends[i] or _PREFILTER.search(data, starts[i], ends[i]):
                out.add(i)
        j = i + 1  # comments starting inside the word
        while j < len(ordered) and starts[j] < b:
            if _PREFILTER.search(data, starts[j], ends[j]):
                out.add(j)
            j += 1
    return out


def _marker(src: SourceFile, line: _Line, found: tuple[int, str], block: int,
            following: Iterator[tuple[int, _Line]]) -> Marker:
    """The marker found on `line` (comment `block`), its text continued over the lines that follow."""
    offset, kind = found
    text = line.body[offset:].strip()
    prev_row, prev_block = line.row, block
    for nblock, nxt in itertools.islice(following, _CONTINUATION_LINES):
        # a continuation: the same block comment, or the next line comment indented past the marker's
        indented = nxt.col == line.col and nxt.start - nxt.col > line.start - line.col
        adjacent = nxt.row == prev_row + 1 and (nblock == prev_block or indented)
        if not adjacent or not nxt.body.strip() or _find(nxt.body) is not None:
            break
        text = f"{text} {nxt.body.strip()}"
        prev_row, prev_block = nxt.row, nblock
    text = text[:MAX_TEXT]
    start = line.start + offset
    end = line.start + len(line.body)
    refs = find_refs(text, limit=1)
    return Marker(kind=kind, text=text, repo=src.repo, path=src.path,
                  range=Span(line.row, src.col_from_char(line.row, start), line.row, src.col_from_char(line.row, end)),
                  ref=refs[0] if refs else "")


EXTRACTORS: list[Extractor] = [MarkersExtractor()]
