"""The extractor protocol.

An extractor says which files it wants (`wants(path)`, cheap, by name only) and turns one `SourceFile`
into a `Partial`. Its `version` is part of the cache key: bump it whenever its output changes, and files
it handles are re-extracted on the next run. It must never raise for bad input: report a `FileError`
with the line and the reason and return what parsed. (The indexer still guards every call, and records
an unexpected exception as a per-file failure.)

`resolve(facts)` is optional and runs at link time over every `FileFacts` of the workspace; it returns
extra entities (or errors) that need several files: cross-file `$ref`, SQL migration order, ...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from indexers.model import Entity, FileError, FileFacts, Partial
from indexers.positions import SourceFile


@dataclass
class Resolution:
    entities: list[Entity] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    # Entity IDs (from per-file facts) to drop because the resolved view replaces them.
    replaces: set[str] = field(default_factory=set)


class Extractor:
    name: str = "base"
    version: int = 1

    def wants(self, path: str) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def extract(self, src: SourceFile) -> Partial:  # pragma: no cover - interface
        raise NotImplementedError

    def resolve(self, facts: Sequence[FileFacts]) -> Resolution | None:
        return None


def suffix(path: str) -> str:
    dot = path.rfind(".")
    slash = path.rfind("/")
    return path[dot:].lower() if dot > slash else ""


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def any_part(path: str, names: Iterable[str]) -> bool:
    parts = path.split("/")
    return any(n in parts for n in names)
