"""Code lenses on contract declarations: "3 consumers in 2 repos"; clicking shows the consumers."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import navigation
from lsp_server.convert import to_range
from lsp_server.state import Doc, locate

SHOW_CONSUMERS = "lore.showConsumers"


def code_lenses(snap: Snapshot, doc: Doc) -> list[t.CodeLens]:
    key = locate(snap, doc)
    if key is None:
        return []
    out: list[t.CodeLens] = []
    for lens in navigation.code_lenses(snap, key[0], key[1]):
        rng = to_range(lens.range)
        # A lens with no consumers but providers ("0 consumers · 2 providers") opens the providers.
        role = "consumes" if lens.consumers or not lens.providers else "provides"
        out.append(t.CodeLens(range=rng, command=t.Command(
            title=lens.title, command=SHOW_CONSUMERS, arguments=[doc.uri, rng.start.line, rng.start.character, lens.entity, role])))
    return out
