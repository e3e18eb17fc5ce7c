"""Source text and position conversion.

Extractors see a `SourceFile`: the file's bytes normalised so that every parser agrees with LSP on where
lines start (a UTF-8 BOM removed; a lone CR, which LSP counts as a line break but tree-sitter does not,
turned into LF — same length, so byte offsets stay valid; bytes that are not UTF-8 turned into '?', one
for one, for the same reason), its decoded text, and converters from tree-sitter points (row, byte
column) or text positions (row, code-point column) to `Span`s whose columns are UTF-16 code units, as
LSP counts them.
"""

from __future__ import annotations

import codecs
import re
from functools import cached_property
from typing import Any

from indexers.model import Span

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")


def _same_length_replace(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return "?" * (err.end - err.start), err.end


codecs.register_error("lore-same-length", _same_length_replace)


def normalise(data: bytes) -> bytes:
    if data.startswith(_BOM):
        data = data[3:]
    if b"\r" in data:
        data = _LONE_CR.sub(b"\n", data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Bytes that are not UTF-8 (a Latin-1 comment, a stray binary byte) become '?', one per byte, so
        # byte offsets stay valid and no parser or query ever meets undecodable text.
        data = data.decode("utf-8", "lore-same-length").encode("utf-8")
    return data


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_to_char_col(line_text: str, utf16_col: int) -> int:
    """The code-point index in `line_text` of a UTF-16 column (clamped to the line)."""
    if line_text.isascii():
        return min(max(utf16_col, 0), len(line_text))
    units = 0
    for i, ch in enumerate(line_text):
        if units >= utf16_col:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text)


class SourceFile:
    """One file as extractors see it. Cheap to build; text and line tables are computed on demand."""

    def __init__(self, repo: str, path: str, data: bytes):
        self.repo = repo
        self.path = path
        self.data = normalise(data)

    def tree(self, lang: str) -> Any:
        """The tree-sitter tree of this file in grammar `lang`, parsed once and shared by every extractor
        that reads the file (code usages, comment markers)."""
        trees = self.__dict__.setdefault("_trees", {})
        if lang not in trees:
            from indexers import ts

            trees[lang] = ts.parse(lang, self.data)
        return trees[lang]

    @cached_property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    @cached_property
    def line_bytes(self) -> list[bytes]:
        return self.data.split(b"\n")

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    # -- conversions -------------------------------------------------------------------------------
    def col_from_byte(self, row: int, byte_col: int) -> int:
        lines = self.line_bytes
        if row >= len(lines):
            return 0
        raw = lines[row]
        if raw.isascii():
            return min(byte_col, len(raw))
        return utf16_len(raw[:byte_col].decode("utf-8", errors="replace"))

    def col_from_char(self, row: int, char_col: int) -> int:
        lines = self.lines
        if row >= len(lines):
            return 0
        return utf16_len(lines[row][:char_col])

    def span_from_points(self, start: tuple[int, int], end: tuple[int, int]) -> Span:
        """From tree-sitter points (row, byte column)."""
        return Span(start[0], self.col_from_byte(*start), end[0], self.col_from_byte(*end))

    def node_span(self, node: Any) -> Span:
        """Span of a tree-sitter node."""
        return self.span_from_points(tuple(node.start_point), tuple(node.end_point))

    def span_from_chars(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        """From text positions (row, code-point column), as YAML/GraphQL/SQL libraries report them."""
        return Span(line, self.col_from_char(line, col), end_line, self.col_from_char(end_line, end_col))

    def span_of_offset(self, start: int, end: int) -> Span:
        """From code-point offsets into `text`."""
        text = self.text
        l0 = text.count("\n", 0, start)
        c0 = start - (text.rfind("\n", 0, start) + 1)
        l1 = text.count("\n", 0, end)
        c1 = end - (text.rfind("\n", 0, end) + 1)
        return self.span_from_chars(l0, c0, l1, c1)

    def find_in_line(self, row: int, needle: str, start_char: int = 0) -> Span | None:
        """Span of the first `needle` on line `row` at or after code-point column `start_char`."""
        if row >= len(self.lines):
            return None
        idx = self.lines[row].find(needle, start_char)
        if idx < 0:
            return None
        return self.span_from_chars(row, idx, row, idx + len(needle))
