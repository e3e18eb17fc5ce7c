"""The one module that registers handlers. Each handler is a short adapter: pick the document and the
Snapshot, run the pure feature function on the worker pool, return its result. Every feature call is
guarded: an exception is logged and answered with an empty result, and the server stays up.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from indexers.persist import MissingRecord
from lore import version as lore_version
from lsp_server import documents, settings
from lsp_server.convert import uri_to_path
from lsp_server.features import (
    code_actions,
    code_lens,
    commands,
    definition,
    hover,
    references,
    symbols,
    system_map,
)
from lsp_server.features import notes as team_notes
from lsp_server.indexing import Background
from lsp_server.server import LoreServer

log = logging.getLogger(__name__)
R = TypeVar("R")
CONTEXT_METHOD = "lore/context"
SYSTEM_MAP = "lore.systemMap"
STATUS_METHOD = "lore/status"  # version, interpreter, workspace, cache, repos, last index and its error


def guarded(default: Any) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    def wrap(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def inner(ls: LoreServer, *args: Any) -> Any:
            try:
                return await fn(ls, *args)
            except JsonRpcInvalidParams:
                raise
            except MissingRecord as exc:  # the saved index it served from was rewritten: index again
                log.info("%s: %s", fn.__name__, exc)
                if ls.background is not None:
                    ls.background.records_gone()
                return default
            except Exception:  # noqa: BLE001 - one failing feature never takes the server down
                log.exception("%s failed", fn.__name__)
                return default

        return inner

    return wrap


def command(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Bad arguments answer InvalidParams; anything else is logged and answered as an internal error."""

    @functools.wraps(fn)
    async def inner(ls: LoreServer, *args: Any) -> Any:
        try:
            return await fn(ls, *args)
        except commands.BadArguments as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except JsonRpcInvalidParams:
            raise
        except Exception as exc:
            log.exception("command %s failed", fn.__name__)
            raise JsonRpcInternalError(f"{fn.__name__} failed: {exc.__class__.__name__}: {exc}") from exc

    return inner


def _roots(params: t.InitializeParams) -> list[Path]:
    uris = [f.uri for f in params.workspace_folders or []] or ([params.root_uri] if params.root_uri else [])
    paths = [p for u in uris if (p := uri_to_path(u)) is not None]
    if not paths and params.root_path:
        paths = [Path(params.root_path)]
    return paths


def _apply_settings(ls: LoreServer, raw: Any) -> None:
    parsed, problems = settings.parse(settings.plain(raw))
    ls.session.settings = parsed
    logging.getLogger("lsp_server").setLevel(parsed.logging_level)
    logging.getLogger("indexers").setLevel(parsed.logging_level)
    for msg in problems:
        ls.warn(f"{msg}; using the default")


async def _pull_configuration(ls: LoreServer) -> Any:
    caps = ls.client_capabilities
    if not (caps and caps.workspace and caps.workspace.configuration):
        return None
    try:
        result = await ls.workspace_configuration_async(t.ConfigurationParams(items=[t.ConfigurationItem(section="lore")]))
    except Exception as exc:  # noqa: BLE001 - a client that fails configuration keeps initializationOptions
        log.info("workspace/configuration failed: %s", exc)
        return None
    return result[0] if result else None


def register(server: LoreServer) -> None:
    init_options: dict[str, Any] = {}

    @server.feature(t.INITIALIZE)
    def on_initialize(ls: LoreServer, params: t.InitializeParams) -> None:
        init_options["raw"] = params.initialization_options
        ls.background = Background(ls, _roots(params))

    @server.feature(t.INITIALIZED)
    async def on_initialized(ls: LoreServer, params: t.InitializedParams) -> None:
        init_options["raw"] = settings.plain(init_options.get("raw"))
        pulled = settings.plain(await _pull_configuration(ls))
        _apply_settings(ls, settings.merged(init_options["raw"], pulled))
        ls.background.configure()
        ls.background.schedule(delay=0)
        await ls.background.watch()

    @server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(ls: LoreServer, params: t.DidChangeConfigurationParams) -> None:
        old = ls.session.settings
        raw = settings.plain(await _pull_configuration(ls))
        if raw is None:
            raw = settings.plain(params.settings)
        _apply_settings(ls, settings.merged(init_options.get("raw"), raw))
        new = ls.session.settings
        if (new.repos, new.cache_dir) != (old.repos, old.cache_dir):
            ls.background.configure()
            ls.background.schedule(delay=0)
        documents.refresh_all(ls)

    @server.feature(t.SHUTDOWN)
    def on_shutdown(ls: LoreServer, params: Any) -> None:
        ls.close()

    # -- document sync ---------------------------------------------------------------------------
    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: LoreServer, params: t.DidOpenTextDocumentParams) -> None:
        d = params.text_document
        doc = ls.session.open(d.uri, d.version, d.text)
        if ls.background is not None:
            ls.background.check_served()  # another `lore index` may have replaced the records it serves
        ls.prefetch.request(ls.session.snapshot, doc.path)  # its line history, before the first hover
        documents.schedule(ls, d.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: LoreServer, params: t.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source  # copied on the loop; pygls edits it in place
        ls.session.open(uri, params.text_document.version, text)
        documents.schedule(ls, uri, documents.CHANGE_DEBOUNCE)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def on_save(ls: LoreServer, params: t.DidSaveTextDocumentParams) -> None:
        documents.schedule(ls, params.text_document.uri)
        ls.background.on_watched([params.text_document.uri])

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: LoreServer, params: t.DidCloseTextDocumentParams) -> None:
        ls.session.close(params.text_document.uri)
        documents.clear(ls, params.text_document.uri)

    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched(ls: LoreServer, params: t.DidChangeWatchedFilesParams) -> None:
        ls.background.on_watched([c.uri for c in params.changes])

    # -- requests --------------------------------------------------------------------------------
    @server.feature(t.TEXT_DOCUMENT_HOVER)
    @guarded(None)
    async def on_hover(ls: LoreServer, params: t.HoverParams) -> t.Hover | None:
        if not ls.session.settings.features.hover:
            return None
        doc = ls.session.doc(params.text_document.uri)
        snap = ls.session.snapshot_for(doc.uri)
        ls.prefetch.request(snap, doc.path)  # line history not in memory yet: read for the next hover
        return await ls.run_sync(hover.hover, snap, doc, params.position, ls.session.settings)

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    @guarded([])
    async def on_definition(ls: LoreServer, params: t.DefinitionParams) -> list[t.Location]:
        if not ls.session.settings.features.navigation:
            return []
        doc = ls.session.doc(params.text_document.uri)
        return await ls.run_sync(definition.definition, ls.session.snapshot_for(doc.uri), doc, params.position)

    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    @guarded([])
    async def on_references(ls: LoreServer, params: t.ReferenceParams) -> list[t.Location]:
        if not ls.session.settings.features.navigation:
            return []
        doc = ls.session.doc(params.text_document.uri)
        include = bool(params.context and params.context.include_declaration)
        return await ls.run_sync(references.references, ls.session.snapshot_for(doc.uri), doc, params.position, include)

    @server.feature(t.WORKSPACE_SYMBOL)
    @guarded([])
    async def on_symbols(ls: LoreServer, params: t.WorkspaceSymbolParams) -> list[t.SymbolInformation]:
        if not ls.session.settings.features.navigation:
            return []
        return await ls.run_sync(symbols.workspace_symbols, ls.session.snapshot, params.query or "")

    @server.feature(t.TEXT_DOCUMENT_CODE_LENS)
    @guarded([])
    async def on_code_lens(ls: LoreServer, params: t.CodeLensParams) -> list[t.CodeLens]:
        if not ls.session.settings.features.code_lens:
            return []
        doc = ls.session.doc(params.text_document.uri)
        return await ls.run_sync(code_lens.code_lenses, ls.session.snapshot_for(doc.uri), doc)

    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(
        code_action_kinds=[t.CodeActionKind.QuickFix, t.CodeActionKind.Empty]))
    @guarded([])
    async def on_code_action(ls: LoreServer, params: t.CodeActionParams) -> list[t.CodeAction]:
        if not ls.session.settings.features.code_actions:
            return []
        doc = ls.session.doc(params.text_document.uri)
        snap = ls.session.snapshot_for(doc.uri)
        texts = {u: d.text for u, d in ls.session.buffers.items() if d.text is not None}
        found = await ls.run_sync(documents.breaking_result, ls, ls.session.snapshot, snap, doc)
        context = params.context.diagnostics if params.context else []
        caps = ls.client_capabilities.workspace
        versioned = bool(caps and caps.workspace_edit and caps.workspace_edit.document_changes)
        invoked = bool(params.context and params.context.trigger_kind == t.CodeActionTriggerKind.Invoked)
        return await ls.run_sync(code_actions.code_actions, snap, doc, params.range, texts, found, context, versioned,
                                 invoked)

    # -- commands and the agent request ---------------------------------------------------------
    @server.command("lore.reindex")
    @command
    async def cmd_reindex(ls: LoreServer, *args: Any) -> dict[str, Any]:
        force = bool(args and isinstance(args[0], dict) and args[0].get("force"))
        if ls.background.engine is None:
            ls.background.configure()
        ls.background.schedule(delay=0, force=force)
        await ls.background.idle.wait()
        snap = ls.session.snapshot
        return {"generation": snap.generation, "files": len(snap.files), "links": len(snap.links),
                "entities": len(snap.entities), "repos": sorted(snap.repos)}

    @server.command(code_actions.SHOW_CONSUMERS)
    @command
    async def cmd_show_consumers(ls: LoreServer, *args: Any) -> list[dict[str, Any]]:
        plain_args = settings.plain(list(args))
        uri = plain_args[0] if plain_args and isinstance(plain_args[0], str) else ""
        return await ls.run_sync(commands.show_consumers, ls.session.snapshot_for(uri), plain_args)

    @server.command(code_actions.SHOW_HISTORY)
    @command
    async def cmd_show_history(ls: LoreServer, *args: Any) -> str:
        doc, plain_args = _command_doc(ls, args)
        return await ls.run_sync(commands.show_history, ls.session.snapshot_for(doc.uri), doc, plain_args)

    @server.command(code_actions.COPY_CONTEXT)
    @command
    async def cmd_copy_context(ls: LoreServer, *args: Any) -> str:
        doc, plain_args = _command_doc(ls, args)
        return await ls.run_sync(commands.copy_context, ls.session.snapshot_for(doc.uri), doc, plain_args)

    @server.command(SYSTEM_MAP)
    @command
    async def cmd_system_map(ls: LoreServer, *args: Any) -> dict[str, Any]:
        return await ls.run_sync(system_map.system_map, ls.session.snapshot, settings.plain(list(args)))

    @server.command(team_notes.ADD_NOTE)
    @command
    async def cmd_add_note(ls: LoreServer, *args: Any) -> dict[str, Any]:
        doc, plain_args = _command_doc(ls, args)
        try:
            made = await ls.run_sync(team_notes.add_note, ls.session.snapshot_for(doc.uri), doc, plain_args)
        except team_notes.BadNote as exc:
            raise commands.BadArguments(str(exc)) from exc
        ls.background.on_watched([made["uri"]])
        caps = ls.client_capabilities.window
        if caps and caps.show_document and caps.show_document.support:
            ls.spawn(ls.window_show_document_async(team_notes.show_note(made)), "lore-show-note")
        return made

    @server.feature(STATUS_METHOD)
    async def on_status(ls: LoreServer, params: Any) -> dict[str, Any]:
        return {"version": lore_version(), "python": sys.executable, **ls.background.status()}

    @server.feature(CONTEXT_METHOD)
    async def on_context(ls: LoreServer, params: Any) -> dict[str, Any] | None:
        uri, line, col, end = _context_params(settings.plain(params))
        doc = ls.session.doc(uri)
        try:
            return await ls.run_sync(commands.context, ls.session.snapshot_for(uri), doc, line, col, end)
        except Exception:  # noqa: BLE001
            log.exception("lore/context failed")
            return None


def _command_doc(ls: LoreServer, args: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    plain_args = settings.plain(list(args))
    if not plain_args or not isinstance(plain_args[0], str):
        raise commands.BadArguments("expected a document URI as the first argument")
    return ls.session.doc(plain_args[0]), plain_args


def _pos(obj: Any, what: str) -> tuple[int, int]:
    if not isinstance(obj, dict):
        raise JsonRpcInvalidParams(f"lore/context: {what} must be an object with line and character")
    line, char = obj.get("line"), obj.get("character")
    for v in (line, char):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise JsonRpcInvalidParams(f"lore/context: {what} needs non-negative integer line and character")
    return line, char  # type: ignore[return-value]


def _context_params(p: Any) -> tuple[str, int, int | None, int | None]:
    """(uri, line, col or None, end line or None) from {textDocument, position} or {textDocument, range}."""
    if not isinstance(p, dict) or not isinstance(p.get("textDocument"), dict) or not isinstance(p["textDocument"].get("uri"), str):
        raise JsonRpcInvalidParams("lore/context expects {textDocument: {uri}, position | range}")
    uri = p["textDocument"]["uri"]
    if "range" in p:
        rng = p["range"]
        if not isinstance(rng, dict):
            raise JsonRpcInvalidParams("lore/context: range must be {start, end}")
        (line, _c), (end, _e) = _pos(rng.get("start"), "range.start"), _pos(rng.get("end"), "range.end")
        return uri, line, None, max(end, line)
    line, col = _pos(p.get("position"), "position")
    return uri, line, col, None


def build_server() -> LoreServer:
    server = LoreServer()
    register(server)
    return server
