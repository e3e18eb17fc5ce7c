"""Go to definition: from a usage site to the contract declaration it is linked to (any repo)."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import navigation
from lsp_server.convert import clamp, to_location
from lsp_server.state import Doc, locate


def definition(snap: Snapshot, doc: Doc, position: t.Position) -> list[t.Location]:
    key = locate(snap, doc)
    if key is None:
        return []
    line, col = clamp(position.line, position.character, doc.lines)
    locs = (to_location(snap, loc) for loc in navigation.definition(snap, key[0], key[1], line, col))
    return [loc for loc in locs if loc is not None]
