"""`lore.systemMap` (workspace/executeCommand): the system map page for the editors — VS Code shows it in
a webview, `:LoreMap` writes it to a file and opens it. The same page as `lore graph --format html`,
centred on the service of the given document."""

from __future__ import annotations

from typing import Any

from indexers.snapshot import Snapshot
from lore.map.html import render_html
from lore.query.system_map import MapError, build_map, file_node
from lsp_server.convert import uri_to_path
from lsp_server.features.commands import BadArguments


def center_for(snap: Snapshot, uri: str | None) -> str | None:
    """The map node of the file at `uri`: its service, else its repo's files in no service."""
    path = uri_to_path(uri) if uri else None
    key = snap.locate(path) if path is not None else None
    return file_node(snap, *key) if key is not None else None


def system_map(snap: Snapshot, args: list[Any]) -> dict[str, Any]:
    """args: [{uri?, focus?, depth?, groupBy?}] -> {html, center, nodes, edges, repos (name -> root)}."""
    opts = args[0] if args else {}
    if not isinstance(opts, dict):
        raise BadArguments("lore.systemMap expects [{uri?, focus?, depth?, groupBy?}]")
    uri, focus, depth, group_by = opts.get("uri"), opts.get("focus"), opts.get("depth"), opts.get("groupBy", "repo")
    if uri is not None and not isinstance(uri, str) or focus is not None and not isinstance(focus, str):
        raise BadArguments("lore.systemMap: uri and focus must be strings")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)):
        raise BadArguments(f"lore.systemMap: depth must be an integer, got {depth!r}")
    try:
        m = build_map(snap, group_by=str(group_by), focus=focus, depth=depth)
    except MapError as exc:
        raise BadArguments(str(exc)) from exc
    center = center_for(snap, uri)
    center = center if center is not None and m.node(center) is not None else None
    title = "System map" + (f": {m.node(center).name}" if center and m.node(center) else "")  # type: ignore[union-attr]
    return {"html": render_html(m, links="file", center=center, title=title), "center": center,
            "nodes": len(m.nodes), "edges": len(m.edges), "repos": m.repos}
