"""Conversions between Lore facts and LSP values: URIs <-> paths, Spans <-> Ranges, Locations.

Facts already use LSP units (0-based lines, UTF-16 columns), so ranges convert field by field; only
out-of-range positions from clients are clamped.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from lsprotocol import types as t

from indexers.model import Location, Span
from indexers.snapshot import Snapshot

MAX_LINE = 10_000_000


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a `file:` URI, or None for any other scheme or a malformed URI."""
    try:
        parsed = urlparse(uri)
    except ValueError:
        return None
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    path = unquote(parsed.path)
    return Path(path) if path.startswith("/") else None


def path_to_uri(path: Path) -> str:
    return "file://" + quote(str(path.absolute()), safe="/")


def to_range(span: Span) -> t.Range:
    return t.Range(t.Position(max(span.start_line, 0), max(span.start_col, 0)),
                   t.Position(max(span.end_line, 0), max(span.end_col, 0)))


def to_span(rng: t.Range) -> Span:
    return Span(rng.start.line, rng.start.character, rng.end.line, rng.end.character)


def clamp(line: int, col: int, lines: list[str] | None) -> tuple[int, int]:
    """A client position clamped into the document (when its text is known) and into sane bounds."""
    line = min(max(line, 0), MAX_LINE)
    col = max(col, 0)
    if lines is not None:
        if not lines:
            return 0, 0
        line = min(line, len(lines) - 1)
        col = min(col, len(lines[line].encode("utf-16-le")) // 2)
    return line, col


def file_of(snap: Snapshot, loc: Location) -> Path | None:
    root = snap.repo_root(loc.repo)
    return root / loc.path if root is not None else None


def to_location(snap: Snapshot, loc: Location) -> t.Location | None:
    path = file_of(snap, loc)
    if path is None:
        return None
    return t.Location(path_to_uri(path), to_range(loc.range))


def hover_link(snap: Snapshot, loc: Location) -> str | None:
    """A `file://...#L<line>` link for a hover citation (render.file_uri encodes the path)."""
    from lore.query.render import file_uri

    path = file_of(snap, loc)
    return file_uri(path, loc.range.start_line) if path is not None else None


def converter_location(loc: t.Location) -> dict[str, object]:
    """An LSP Location as the JSON a command returns."""
    from lsprotocol import converters

    return converters.get_converter().unstructure(loc)  # type: ignore[no-any-return]
