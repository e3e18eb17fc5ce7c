"""Per-file extraction: run every extractor that wants a file and merge their partial facts.

Pure (bytes in, FileFacts out) and guarded: an extractor that raises is recorded as a per-file error
naming the extractor and the reason; the other extractors' facts for the file are kept. With a budget
(seconds), a file whose extraction runs longer is stopped and has no facts but one error saying so
(`indexers.budget`; enforced where the caller runs in a process's main thread).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from indexers.budget import Overtime, deadline, overtime_reason
from indexers.model import FileError, FileFacts, Partial
from indexers.positions import SourceFile
from indexers.sources import registry
from indexers.sources.gcpause import paused_gc

log = logging.getLogger(__name__)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wanted(path: str) -> bool:
    return bool(registry.for_path(path))


def extract_file(repo: str, path: str, data: bytes, digest: str | None = None, budget: float | None = None) -> FileFacts:
    extractors = registry.for_path(path)  # imports the extractor modules: not counted in the budget
    try:
        # Extraction allocates many small acyclic objects (nodes, facts): the cyclic collector is paused
        # meanwhile rather than rescanning what the process holds after every burst (see gcpause).
        with deadline(budget), paused_gc():
            return _extract(repo, path, data, digest, extractors)
    except Overtime:
        log.warning("%s/%s: %s", repo, path, overtime_reason(budget or 0))
        return FileFacts(repo=repo, path=path, sha256=digest or sha256(data),
                         errors=(FileError(repo, path, overtime_reason(budget or 0)),))


def _extract(repo: str, path: str, data: bytes, digest: str | None, extractors: list[Any]) -> FileFacts:
    src = SourceFile(repo, path, data)
    entities, usages, services, markers, decisions, errors, notes = [], [], [], [], [], [], []
    language = ""
    generated = False
    for ex in extractors:
        try:
            part: Partial = ex.extract(src)
        except RecursionError:
            errors.append(FileError(repo, path, f"{ex.name}: input nested too deeply"))
            continue
        except Exception as exc:  # noqa: BLE001 - one extractor never stops the file or the run
            log.exception("extractor %s failed on %s/%s", ex.name, repo, path)
            errors.append(FileError(repo, path, f"{ex.name} extractor failed: {exc.__class__.__name__}: {exc}"))
            continue
        entities += part.entities
        usages += part.usages
        services += part.services
        markers += part.markers
        decisions += part.decisions
        errors += part.errors
        notes += part.notes
        language = language or part.language
        generated = generated or part.generated
    return FileFacts(
        repo=repo, path=path, sha256=digest or sha256(data), language=language, generated=generated,
        # generated code is never a provider or consumer of record; what it says of HTTP operations is evidence
        entities=tuple(entities), usages=tuple(u for u in usages if not generated or u.kind == "http.generated"),
        services=tuple(services), markers=tuple(markers), decisions=tuple(decisions), errors=tuple(errors),
        notes=tuple(notes),
    )
