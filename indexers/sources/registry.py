"""The list of extractors. Each module in `MODULES` exposes `EXTRACTORS: list[Extractor]`."""

from __future__ import annotations

import importlib
from functools import lru_cache

from .base import Extractor

MODULES = ("proto", "openapi", "graphql", "sql", "services", "code", "markers", "adr")


@lru_cache(maxsize=1)
def extractors() -> tuple[Extractor, ...]:
    found: list[Extractor] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:  # a module not written yet during development
            if exc.name == f"{__package__}.{name}":
                continue
            raise
        found.extend(mod.EXTRACTORS)
    return tuple(found)


def for_path(path: str) -> list[Extractor]:
    return [e for e in extractors() if e.wants(path)]


def version_key(path: str) -> str:
    """The extractor-version part of a file's cache key: only the extractors that handle this file."""
    return ",".join(f"{e.name}@{e.version}" for e in for_path(path))
