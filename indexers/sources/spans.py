"""Many positions to LSP spans, fast: for extractors that emit tens of thousands of entities per file.

`positions.SourceFile` converts one position at a time and re-examines its line on every call (`isascii`,
slicing, UTF-16 counting; offsets are found by counting newlines from the start of the text). That is
right for a few spans, but on large contract files it was a fifth of the extraction time. These helpers
give exactly the same `Span`s with per-file tables: whether each row is ASCII (then a byte or code-point
column is already the UTF-16 column) and, for code-point offsets, one line-start table. Rows that are not
ASCII go through `SourceFile` as before.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from indexers.model import Span
from indexers.positions import SourceFile


class PointSpans:
    """Tree-sitter points (row, byte column) -> `Span`, as `SourceFile.span_from_points` / `node_span`."""

    __slots__ = ("src", "rows", "ascii")

    def __init__(self, src: SourceFile):
        self.src = src
        self.rows = src.line_bytes
        self.ascii = None if src.data.isascii() else [row.isascii() for row in self.rows]

    def col(self, row: int, byte_col: int) -> int:
        rows = self.rows
        if row >= len(rows):
            return 0
        if self.ascii is None or self.ascii[row]:
            size = len(rows[row])
            return byte_col if byte_col < size else size
        return self.src.col_from_byte(row, byte_col)

    def span(self, start: tuple[int, int], end: tuple[int, int]) -> Span:
        return Span(start[0], self.col(start[0], start[1]), end[0], self.col(end[0], end[1]))

    def node(self, node: Any) -> Span:
        """Span of a tree-sitter node."""
        (r0, b0), (r1, b1) = node.start_point, node.end_point
        return Span(r0, self.col(r0, b0), r1, self.col(r1, b1))


class OffsetSpans:
    """Code-point offsets into `src.text` -> rows, points and `Span`s, as `SourceFile.span_of_offset`."""

    __slots__ = ("src", "starts", "lines", "ascii")

    def __init__(self, src: SourceFile):
        self.src = src
        text = src.text
        starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self.starts = starts
        self.lines = src.lines
        self.ascii = None if text.isascii() else [line.isascii() for line in self.lines]

    def line(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def point(self, offset: int) -> tuple[int, int]:
        """(row, code-point column) of an offset."""
        row = bisect_right(self.starts, offset) - 1
        return row, offset - self.starts[row]

    def col(self, row: int, char_col: int) -> int:
        """The UTF-16 column of a code-point column, as `SourceFile.col_from_char`."""
        lines = self.lines
        if row >= len(lines):
            return 0
        if self.ascii is None or self.ascii[row]:
            size = len(lines[row])
            return char_col if char_col < size else size
        return self.src.col_from_char(row, char_col)

    def span(self, start: int, end: int) -> Span:
        starts = self.starts
        l0 = bisect_right(starts, start) - 1
        l1 = bisect_right(starts, end) - 1
        return Span(l0, self.col(l0, start - starts[l0]), l1, self.col(l1, end - starts[l1]))
