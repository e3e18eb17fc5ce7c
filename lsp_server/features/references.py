"""Find references: every provider and consumer site of the contract entity at the position, across
repos, plus its declarations when the client asks for them."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import navigation
from lsp_server.convert import clamp, to_location
from lsp_server.state import Doc, locate


def references(snap: Snapshot, doc: Doc, position: t.Position, include_declaration: bool) -> list[t.Location]:
    key = locate(snap, doc)
    if key is None:
        return []
    line, col = clamp(position.line, position.character, doc.lines)
    found = navigation.references(snap, key[0], key[1], line, col, include_declaration=include_declaration)
    return [loc for loc in (to_location(snap, f) for f in found) if loc is not None]


def entity_locations(snap: Snapshot, ident: str, role: str | None) -> list[t.Location]:
    found = navigation.entity_references(snap, ident, include_declaration=False, role=role)
    return [loc for loc in (to_location(snap, f) for f in found) if loc is not None]
