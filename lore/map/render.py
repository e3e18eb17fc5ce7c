"""One entry point for the views (CLI, LSP server): build the map of a Snapshot and render it."""

from __future__ import annotations

from collections.abc import Sequence

from indexers.snapshot import Snapshot
from lore.map.dot import render_dot
from lore.map.html import LinkError, link_maker, render_html
from lore.map.mermaid import render_mermaid
from lore.query.system_map import Break, MapError, build_map

FORMATS = ("dot", "mermaid", "html")


class MapOptionError(ValueError):
    """A focus, depth, grouping or link option the map cannot honour (a usage error)."""


def check_links(links: str) -> None:
    try:
        link_maker(links, {})
    except LinkError as exc:
        raise MapOptionError(str(exc)) from exc


def render_map(snap: Snapshot, fmt: str, *, focus: str | None = None, depth: int | None = None,
               group_by: str = "repo", links: str = "file", center: str | None = None,
               breaking: Sequence[Break] = ()) -> str:
    if fmt not in FORMATS:
        raise MapOptionError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    check_links(links)
    try:
        m = build_map(snap, group_by=group_by, focus=focus, depth=depth, breaking=breaking)
    except MapError as exc:
        raise MapOptionError(str(exc)) from exc
    if fmt == "dot":
        return render_dot(m)
    if fmt == "mermaid":
        return render_mermaid(m)
    return render_html(m, links=links, center=center)
