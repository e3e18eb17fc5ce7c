"""The per-document pipeline: re-extract an open buffer into an overlay Snapshot and publish its
diagnostics, debounced per document and computed on the document thread (never on the event loop, and
never ahead of a hover on the request pool).

A result is used only if the document is still at the version it was computed for and the base
Snapshot has not been replaced meanwhile; otherwise a newer run is already on its way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from indexers.persist import MissingRecord
from indexers.snapshot import Snapshot
from lore.check.suppress import ConfigError, IgnoreRule, parse_config
from lsp_server.features import breaking
from lsp_server.features import diagnostics as diag_feature
from lsp_server.features import notes as notes_feature
from lsp_server.state import BreakingRun, Doc, Overlay, locate, overlay

if TYPE_CHECKING:
    from lsp_server.server import LoreServer

log = logging.getLogger(__name__)

CHANGE_DEBOUNCE = 0.3


def schedule(server: LoreServer, uri: str, delay: float = 0.0) -> None:
    """(Re)start the pipeline for one document; a pending run for it is cancelled (debounce)."""
    pending = _pending(server)
    old = pending.pop(uri, None)
    if old is not None and not old.done():
        old.cancel()
    task = server.spawn(_run(server, uri, delay), f"lore-doc {uri}")
    pending[uri] = task
    task.add_done_callback(lambda done: pending.pop(uri, None) if pending.get(uri) is done else None)


def refresh_all(server: LoreServer) -> None:
    for uri in list(server.session.buffers):
        schedule(server, uri)


def clear(server: LoreServer, uri: str) -> None:
    old = _pending(server).pop(uri, None)
    if old is not None:
        old.cancel()
    server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _pending(server: LoreServer) -> dict[str, asyncio.Task[Any]]:
    return server.pending_docs


async def _run(server: LoreServer, uri: str, delay: float) -> None:
    if delay:
        await asyncio.sleep(delay)
    session = server.session
    doc = session.buffers.get(uri)
    if doc is None:
        return
    base = session.snapshot
    snap, problem = await server.run_document(overlay, base, doc, session.sandbox, session.file_budget)
    if session.buffers.get(uri) is not doc or session.snapshot is not base:
        return
    if problem is not None:  # not read (over budget, or failed): nothing else runs on this text
        log.warning("%s: %s", uri, problem)
        server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=[
            t.Diagnostic(t.Range(t.Position(0, 0), t.Position(0, 0)), f"Lore: {problem}", t.DiagnosticSeverity.Information,
                         source="lore")]))
        return
    session.overlays[uri] = Overlay(doc.version or 0, base, snap)
    if not session.settings.features.diagnostics:
        server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        return
    reading = server.prefetch.request(snap, doc.path)
    if reading is not None:  # history diagnostics need the line history: read on the history thread
        await asyncio.wrap_future(reading)
        if session.buffers.get(uri) is not doc or session.snapshot is not base:
            return
    diags = await server.run_document(_diagnostics, server, snap, doc)
    found = await server.run_document(breaking_result, server, base, snap, doc)
    if session.buffers.get(uri) is not doc:
        return
    if found is not None and session.snapshot is base:
        session.breaking[uri] = BreakingRun(base, found)
        diags += await server.run_document(_breaking_diagnostics, snap, found)
    server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diags))


def _diagnostics(server: LoreServer, snap: Snapshot, doc: Doc) -> list[t.Diagnostic]:
    try:
        head = None
        if diag_feature.wants_head(snap) and (key := locate(snap, doc)) is not None:
            head = server.session.head_lines(snap, key)
        return diag_feature.diagnostics(snap, doc, head) + notes_feature.for_document(snap, doc)
    except MissingRecord as exc:  # the saved index it served from was rewritten: index again
        log.info("diagnostics for %s: %s", doc.uri, exc)
        if server.background is not None:
            server.background.records_gone()
        return []
    except Exception:  # noqa: BLE001 - a failing check publishes nothing rather than stopping the server
        log.exception("diagnostics failed for %s", doc.uri)
        return []


async def publish_note_files(server: LoreServer) -> None:
    """Diagnostics of the note files (`.lore/notes/`) that are not open: orphaned notes, files that are not
    notes; cleared for files that no longer have any. Open note files get them from their own pipeline."""
    session = server.session
    snap = session.snapshot
    if not session.settings.features.diagnostics:
        return
    try:
        found = await server.run_document(notes_feature.note_file_diagnostics, snap)
    except Exception:  # noqa: BLE001
        log.exception("note-file diagnostics failed")
        return
    if session.snapshot is not snap:
        return  # a newer index will publish its own
    published = session.note_file_uris
    for uri in sorted(published - set(found)):
        if uri not in session.buffers:
            server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    for uri, diags in sorted(found.items()):
        if uri not in session.buffers:
            server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=diags))
    session.note_file_uris = set(found)



def breaking_result(server: LoreServer, base: Snapshot, snap: Snapshot, doc: Doc) -> breaking.Result | None:
    """The breaking changes of an open contract file against its baseline (worker thread): the last
    result when the buffer text and the base Snapshot are unchanged, else a new comparison."""
    try:
        key = locate(snap, doc)
        if key is None or doc.text is None or not breaking.wants(key[1]):
            return None
        last = server.session.breaking.get(doc.uri)
        if last is not None and last.base is base and last.result.text == doc.text:
            return last.result  # type: ignore[no-any-return]
        got = server.session.baselines.text(snap, key[0], key[1])
        if got is None:
            return None
        sha, base_text = got
        return breaking.analyse(snap, key[0], key[1], doc.text, base_text, sha, _ignore(server))
    except Exception:  # noqa: BLE001 - a failing comparison publishes nothing rather than stopping the server
        log.exception("breaking-change check failed for %s", doc.uri)
        return None


def _breaking_diagnostics(snap: Snapshot, found: breaking.Result) -> list[t.Diagnostic]:
    try:
        return breaking.diagnostics(snap, found)
    except Exception:  # noqa: BLE001
        log.exception("breaking-change diagnostics failed for %s/%s", found.repo, found.path)
        return []


def _ignore(server: LoreServer) -> list[IgnoreRule]:
    """The accepted breaking changes of lore.toml's [check] table (none when it is invalid)."""
    engine = getattr(server.background, "engine", None)
    check = getattr(getattr(engine, "ws", None), "check", None)
    if not check:
        return []
    try:
        return parse_config(check)
    except ConfigError as exc:
        log.warning("ignoring [check] in lore.toml: %s", exc)
        return []
