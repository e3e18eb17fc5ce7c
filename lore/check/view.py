"""An indexed view of one side (base or working tree) of a repository's contract entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from indexers.model import Entity


class View:
    """Entities by id (the first declaration wins, as in the Snapshot) and children by parent id."""

    def __init__(self, entities: Iterable[Entity]):
        self.by_id: dict[str, Entity] = {}
        self.children: dict[str, list[Entity]] = defaultdict(list)
        for e in entities:
            if e.id in self.by_id:
                continue
            self.by_id[e.id] = e
            if e.parent:
                self.children[e.parent].append(e)

    def get(self, ident: str | None) -> Entity | None:
        return self.by_id.get(ident) if ident else None

    def of_kind(self, *kinds: str) -> list[Entity]:
        return [e for e in self.by_id.values() if e.kind in kinds]

    def kids(self, ident: str, *kinds: str) -> list[Entity]:
        return [e for e in self.children.get(ident, []) if not kinds or e.kind in kinds]

    def __contains__(self, ident: object) -> bool:
        return ident in self.by_id
