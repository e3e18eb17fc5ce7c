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

import re
from functools import cache
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

_PREFILTER = re.compile(rb"todo|fixme|hack|xxx|workaround|note|remove|delete", re.IGNORECASE)
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


def _comment_lines(src: SourceFile, node: Any) -> list[_Line]:
    (r0, c0), (r1, c1) = tuple(node.start_point), tuple(node.end_point)
    out: list[_Line] = []
    lines = src.line_bytes
    for row in range(r0, min(r1, len(lines) - 1) + 1):
        raw = lines[row]
        a = c0 if row == r0 else 0
        b = c1 if row == r1 else len(raw)
        seg = raw[a:b].decode("utf-8", "replace")
        lead = _LEAD.match(seg)
        start = lead.end() if lead else 0
        body = _trail(seg[start:])
        col = len(raw[:a].decode("utf-8", "replace"))
        out.append(_Line(row, col, col + start, body))
    return out


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
        if not _PREFILTER.search(src.data):
            return Partial(language=lang)
        try:
            tree = src.tree(lang)
            nodes = [n for ns in QueryCursor(_query(lang)).captures(tree.root_node).values() for n in ns]
        except Exception as exc:  # noqa: BLE001 - a grammar problem must not lose the file's other facts
            return Partial(errors=[FileError(src.repo, src.path, f"markers: cannot parse comments ({exc})")])
        comment_lines: list[list[_Line]] = [_comment_lines(src, n) for n in sorted(nodes, key=lambda n: n.start_byte)]
        flat = [(i, ln) for i, block in enumerate(comment_lines) for ln in block]
        markers: list[Marker] = []
        for pos, (block, line) in enumerate(flat):
            found = _find(line.body)
            if found is None:
                continue
            offset, kind = found
            text = line.body[offset:].strip()
            prev_row, prev_block = line.row, block
            for nblock, nxt in flat[pos + 1: pos + 1 + _CONTINUATION_LINES]:
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
            markers.append(Marker(kind=kind, text=text, repo=src.repo, path=src.path,
                                  range=Span(line.row, src.col_from_char(line.row, start), line.row,
                                             src.col_from_char(line.row, end)), ref=refs[0] if refs else ""))
            if len(markers) >= MAX_MARKERS:
                break
        return Partial(markers=markers, language=lang)


EXTRACTORS: list[Extractor] = [MarkersExtractor()]
