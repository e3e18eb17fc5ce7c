"""The list of extractors. Each module in `MODULES` exposes `EXTRACTORS: list[Extractor]`.

An extractor module that fails to import is reported (`load_errors`, surfaced in the index report) and
left out, so one broken extractor never takes indexing down.
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache

from indexers.sources.base import Extractor

log = logging.getLogger(__name__)

# By family: contract formats, system descriptions (catalog, deploy, modules), code usages, notes
# written in the code (markers, ADRs) or beside it (team notes, `.lore/notes/`), and operational context
# (rules, dashboards, SLOs, flags, pipelines; metrics, spans, flag evaluations and route guards in code).
# Paths relative to this package.
MODULES = ("contracts.proto", "contracts.openapi.spec", "contracts.graphql.sdl", "contracts.sql.ddl",
           "systems.catalog", "code.extract", "code.documents", "notes.markers", "notes.adr", "notes.teamnotes",
           "ops.rules", "ops.grafana", "ops.slo", "ops.flagdefs", "ops.pipelines", "ops.rego", "ops.code.extract")

load_errors: list[str] = []

# The extractor that reads contract usages from code: a file whose version key lacks it is code Lore did
# not read for providers and consumers (see `indexers.discover.code_language`).
USAGES = "code@"


@lru_cache(maxsize=1)
def extractors() -> tuple[Extractor, ...]:
    found: list[Extractor] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__package__}.{name}")
            found.extend(mod.EXTRACTORS)
        except Exception as exc:  # noqa: BLE001
            msg = f"extractor module {name!r} not loaded: {exc.__class__.__name__}: {exc}"
            log.debug(msg)
            load_errors.append(msg)
    return tuple(found)


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Names and versions of every extractor: while it is unchanged, which extractors want a given path
    (and so the path's version key) is unchanged too, and the indexer reuses the manifest's keys."""
    return ",".join(f"{e.name}@{e.version}" for e in extractors())


def for_path(path: str) -> list[Extractor]:
    return [e for e in extractors() if e.wants(path)]


def version_key(path: str) -> str:
    """The extractor-version part of a file's cache key: only the extractors that handle this file."""
    return ",".join(f"{e.name}@{e.version}" for e in for_path(path))
