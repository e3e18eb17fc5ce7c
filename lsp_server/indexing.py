"""Background indexing and file watching for the server.

Indexing runs `Engine.refresh` (incremental) on a dedicated worker thread, never on the event loop, with
window/workDoneProgress when the client supports it; requests keep answering from the previous
Snapshot meanwhile. Re-index requests (save, watched-file events, `lore.reindex`, the polling watcher)
are debounced and coalesced: at most one run at a time, and one more after it if anything asked.
File changes come from the client (workspace/didChangeWatchedFiles, registered dynamically) when it
can send them, else from a small mtime poll over the git-listed files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from indexers import git
from indexers.engine import Engine
from indexers.extract import wanted
from indexers.store import CacheError, Store, folder_problem
from indexers.workspace import RepoSpec, Workspace, WorkspaceError, discover
from lsp_server import documents, memory
from lsp_server.convert import uri_to_path

if TYPE_CHECKING:
    from lsp_server.server import LoreServer

log = logging.getLogger(__name__)
# `lore.serveSaved: auto` serves the first index from saved records when the last run holds at least this
# many facts (declarations, usages, links, markers; commits not counted): about where a server holding
# every file's facts passes 300 MB (measured: 112k facts, 275 MB; 278k, 600-700 MB). Below it the server
# builds its index in memory, and every first hover in a file answers from memory.
SERVE_SAVED_FACTS = 150_000

DEBOUNCE = 0.4
POLL_SECONDS = 3.0
SHARD_PULL_SECONDS = float(os.environ.get("LORE_SHARD_PULL_SECONDS", "300"))  # how often the server pulls [shards]


def build_workspace(roots: list[Path], repos: tuple[str, ...]) -> tuple[Workspace | None, list[str]]:
    """The workspace from the `lore.repos` setting, else discovered from the editor's folders."""
    problems: list[str] = []
    if not roots and not repos:
        log.info("no workspace folder and no lore.repos: nothing to index")
        return None, problems
    base = roots[0] if roots else Path.cwd()
    if repos:
        specs: list[RepoSpec] = []
        for raw in repos:
            p = Path(os.path.expanduser(raw))
            p = (base / p) if not p.is_absolute() else p
            try:
                top = git.toplevel(p) if p.exists() else None
            except git.UntrustedRepo as exc:
                problems.append(f"lore.repos: {exc}")
                continue
            if top is None:
                problems.append(f"lore.repos: {raw!r} is not a git repository; ignored")
            elif any(s.name == top.name for s in specs):
                problems.append(f"lore.repos: two repositories named {top.name!r}; {raw!r} ignored")
            else:
                specs.append(RepoSpec(top.name, top.resolve()))
        return (Workspace(base, tuple(specs)) if specs else None), problems
    found: list[Workspace] = []
    for root in roots or [base]:
        try:
            found.append(discover(root))
        except WorkspaceError as exc:
            problems.append(str(exc))
    if len(found) <= 1:
        return (found[0] if found else None), problems
    merged: dict[Path, RepoSpec] = {}
    for ws in found:
        for spec in ws.repos:
            if spec.root in merged:
                continue
            if any(s.name == spec.name for s in merged.values()):
                problems.append(f"two repositories named {spec.name!r}; {spec.root} ignored (use lore.toml to name them)")
                continue
            merged[spec.root] = spec
    shards = tuple(s for ws in found for s in ws.shards)
    sources = {ws.shard_source for ws in found if ws.shard_source is not None}
    if len(sources) > 1:
        problems.append(f"several [shards] stores in the workspace folders; using {sorted(s.url for s in sources)[0]}")
    source = min(sources, key=lambda s: s.url) if sources else None
    return Workspace(base, tuple(merged.values()), shards, shard_source=source), problems


class Background:
    def __init__(self, server: LoreServer, roots: list[Path]):
        self.server = server
        self.roots = roots
        self.engine: Engine | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._pending = False
        self._force = False
        self._paths: dict[str, set[str]] | None = None  # changed paths to look at; None: look at everything
        self.runs = 0
        self._poller: asyncio.Task[Any] | None = None
        self.idle = asyncio.Event()
        self.idle.set()
        self._told: set[str] = set()
        self.last_error = ""  # why the last run or the configuration failed ("" when it did not)
        self.last_summary = ""  # what the last good run did
        # The published Snapshot is the last `lore index`'s, served from its saved records (`Engine.
        # saved_current`): the first run found nothing changed since. Any change takes a full run.
        self.served_saved = False

    # -- configuration -------------------------------------------------------------------------------
    def configure(self) -> None:
        settings = self.server.session.settings
        ws, problems = build_workspace(self.roots, settings.repos)
        for msg in problems:
            self.server.warn(msg)
        self.last_error = problems[-1] if problems else ""
        if ws is None:
            self.engine = None
            self.last_error = self.last_error or "no repository to index: no lore.toml, git repository or lore.repos"
            return
        cache_dir = settings.cache_dir
        problem = folder_problem(Path(cache_dir), private=True) if cache_dir else None
        if problem:
            # A client chose this folder: a cache another account prepared must not be loaded.
            self.server.warn(f"lore.cacheDir {cache_dir}: {problem}; using the default cache instead "
                             "(a client-chosen cache folder must be your own, mode 700)")
            cache_dir = None
        for msg in ws.absent:
            self.server.warn(msg)
            self.last_error = msg
        try:
            store = Store(cache_dir)
        except (OSError, CacheError) as exc:
            self.server.warn(f"cache {settings.cache_dir or 'default'} unusable: {exc}")
            self.last_error = f"cache {settings.cache_dir or 'default'} unusable: {exc}"
            self.engine = None
            return
        for msg in store.messages:
            self.server.warn(msg)
        store.messages.clear()
        # Extraction always in worker processes (isolate), even with one job: what parsing leaves behind
        # (parser libraries, a fragmented heap) goes away with the workers instead of staying resident.
        # A few changed files (a save) are extracted in the session's sandbox process, which is killed if
        # one runs past the budget; more go to a worker pool.
        self.engine = Engine(ws, store, jobs=max(1, min(4, (os.cpu_count() or 2) - 1)), isolate=True,
                             extract=self.server.session.sandbox.extract)
        self.server.session.file_budget = ws.file_budget

    # -- re-indexing ---------------------------------------------------------------------------------
    def schedule(self, delay: float = DEBOUNCE, force: bool = False, paths: dict[str, set[str]] | None = None) -> None:
        """Ask for a re-index; requests within `delay` of each other become one run. With `paths`
        ({repo: paths}) the run looks only at those files, unless a full run is already pending."""
        self._force = self._force or force
        pending_full = self._timer is not None and self._paths is None
        if paths is None or force or pending_full:
            self._paths = None
        else:
            merged = self._paths if self._paths is not None else {}
            for repo, ps in paths.items():
                merged.setdefault(repo, set()).update(ps)
            self._paths = merged
        self.idle.clear()
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._running:
            self._pending = True
            return
        self.server.spawn(self._run(), "lore-index")

    async def _run(self) -> None:
        self._running = True
        try:
            while True:
                self._pending = False
                force, self._force = self._force, False
                only, self._paths = self._paths, None
                await self._index_once(force, only)
                if not self._pending:
                    break
        finally:
            self._running = False
            if self._timer is None:
                self.idle.set()

    async def _index_once(self, force: bool, only: dict[str, set[str]] | None = None) -> None:
        engine = self.engine
        if engine is None:
            return
        progress = await self._begin()
        loop = asyncio.get_running_loop()
        try:
            report_progress = self._reporter(progress, loop)
            snap, report = await loop.run_in_executor(
                self.server.index_pool, lambda: self._pull_then_refresh(engine, force, report_progress, only))
        except (CacheError, OSError, git.GitError) as exc:
            self.server.warn(f"indexing failed: {exc}")
            self.last_error = f"indexing failed: {exc}"
            self._end(progress, f"failed: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - the server outlives a failed run
            log.exception("indexing failed")
            self.server.warn(f"indexing failed: {exc.__class__.__name__}: {exc}")
            self.last_error = f"indexing failed: {exc.__class__.__name__}: {exc}"
            self._end(progress, "failed")
            return
        self.runs += 1
        if self.last_error.startswith("indexing failed"):
            self.last_error = ""
        self.server.session.set_snapshot(snap)
        memory.after_publish()
        if snap.history is not None and hasattr(snap.history, "warm"):
            # history tables the first hovers would otherwise build: in the background, never awaited
            fut = self.server.index_pool.submit(self.server.requests.yielding(snap.history.warm), snap)
            fut.add_done_callback(_log_failure)
        for doc in self.server.session.buffers.values():  # the open files' line history, for their hovers
            self.server.prefetch.request(snap, doc.path)
        files = report.as_json().get("files", {})
        self.last_summary = (f"{files.get('indexed', 0)} indexed, {files.get('unchanged', 0)} unchanged, "
                             f"{len(snap.links)} links")
        self._end(progress, self.last_summary)
        for msg in report.messages:
            log.info("index: %s", msg)
        # A rejected shard, and what a repository's history lacks: shown once, not on every re-index.
        for msg in [*report.rejected_shards, *report.warnings]:
            if msg not in self._told:
                self._told.add(msg)
                self.server.warn(msg)
        documents.refresh_all(self.server)
        self.server.spawn(documents.publish_note_files(self.server), "lore-note-files")
        self._refresh_lenses()

    def check_served(self) -> None:
        """When the Snapshot is served from saved records and another `lore index` has since saved a new
        run (one summary read), a full run replaces it (`records_gone`)."""
        if self.served_saved and self.engine is not None and not self.engine.serving_last_run():
            self.records_gone()

    def records_gone(self) -> None:
        """A saved record the published Snapshot reads on demand is gone (another `lore index` rewrote
        them): a full run replaces it."""
        if self.served_saved:
            self.served_saved = False
            log.info("the saved index this session served from was rewritten: indexing")
            self.schedule(delay=0)

    def _pull_then_refresh(self, engine: Engine, force: bool, on_progress: Any, only: Any) -> Any:
        """On the indexing thread: pull the `[shards]` store when the last pull is older than
        SHARD_PULL_SECONDS (a store that cannot be reached leaves the mirror as it is), then refresh.
        The first run serves the last `lore index` from its saved records when nothing changed since
        (`Engine.saved_current`): a few records held instead of every file's facts."""
        if engine.ws.shard_source is not None and time.monotonic() - engine.last_pull > SHARD_PULL_SECONDS:
            try:
                pulled = engine.pull_shards()
            except Exception:  # noqa: BLE001 - the mirror from the last pull still serves
                log.exception("shard pull failed")
            else:
                if pulled is not None:
                    log.info("shards: %s", pulled.as_json())
                    for f in pulled.failed:
                        self.server.warn(f"{f['reason']}; {f['kept']}")
        policy = self.server.session.settings.serve_saved
        got = None
        if not (force or only is not None or self.runs or policy == "never"):
            got = engine.saved_current(memory.after_publish, min_facts=0 if policy == "always" else SERVE_SAVED_FACTS)
        if got is not None:  # nothing changed since the last `lore index`: served from its records
            self.served_saved = True
            memory.before_publish()
            return got
        self.served_saved = False
        snap, report = engine.refresh(force=force, on_progress=on_progress, only=only)
        previous = self.server.session.snapshot.history
        if snap.history is not previous and hasattr(snap.history, "adopt"):
            snap.history.adopt(previous)  # line history already read stays, where no new commit touched it
        memory.before_publish()
        return snap, report

    async def _begin(self) -> str | None:
        caps = self.server.client_capabilities
        if not (caps and caps.window and caps.window.work_done_progress):
            return None
        token = f"lore-index-{uuid.uuid4().hex[:8]}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # noqa: BLE001 - progress is decoration: index anyway
            log.info("progress not created: %s", exc)
            return None
        self.server.work_done_progress.begin(token, t.WorkDoneProgressBegin(title="Lore: indexing", cancellable=False))
        return token

    def _reporter(self, token: str | None, loop: asyncio.AbstractEventLoop) -> Any:
        """A progress callback for the indexing thread: at most two reports a second, sent from the loop."""
        if token is None:
            return None
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if total <= 0 or (now - last[0] < 0.5 and done < total):
                return
            last[0] = now
            pct = int(100 * done / total)
            msg = t.WorkDoneProgressReport(percentage=pct, message=f"{done}/{total} files")
            loop.call_soon_threadsafe(self.server.work_done_progress.report, token, msg)

        return report

    def _end(self, token: str | None, message: str) -> None:
        if token is not None:
            self.server.work_done_progress.end(token, t.WorkDoneProgressEnd(message=message))

    def _refresh_lenses(self) -> None:
        caps = self.server.client_capabilities
        ws = caps.workspace if caps else None
        if ws and ws.code_lens and ws.code_lens.refresh_support:
            self.server.workspace_code_lens_refresh(None)

    def status(self) -> dict[str, Any]:
        """What `:checkhealth lore` and the editors' status show: the workspace, the cache, the last run."""
        engine = self.engine
        snap = self.server.session.snapshot
        repos = []
        if engine is not None:
            for spec in engine.ws.repos:
                info = snap.repos.get(spec.name)
                files = sum(1 for (r, _p) in snap.files if r == spec.name)
                repos.append({"name": spec.name, "root": str(spec.root), "files": files,
                              "head": (info.head or "")[:12] if info is not None else ""})
        return {"workspace": str(engine.ws.root) if engine is not None else None,
                "config": str(engine.ws.config_path) if engine is not None and engine.ws.config_path else None,
                "cache": str(engine.store.root) if engine is not None else None,
                "repos": repos, "not_indexed": list(snap.missing), "indexing": not self.idle.is_set(),
                "runs": self.runs, "files": len(snap.files), "entities": len(snap.entities), "links": len(snap.links),
                "last_index": self.last_summary, "last_error": self.last_error,
                # answering from the last `lore index`'s saved records (nothing changed since it)
                "served_from_index": self.served_saved,
                # line history read so far (files of the current index), and reads handed to the history thread
                "history": {"files_read": getattr(snap.history, "reads", 0),
                            "prefetched": self.server.prefetch.submitted}}

    # -- watching ------------------------------------------------------------------------------------
    async def watch(self) -> None:
        caps = self.server.client_capabilities
        ws = caps.workspace if caps else None
        dyn = ws.did_change_watched_files if ws else None
        if dyn is not None and dyn.dynamic_registration:
            try:
                await self.server.client_register_capability_async(t.RegistrationParams(registrations=[
                    t.Registration(id="lore-watch", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                   register_options=t.DidChangeWatchedFilesRegistrationOptions(
                                       watchers=[t.FileSystemWatcher(glob_pattern="**/*")]))]))
                return
            except Exception as exc:  # noqa: BLE001 - fall back to polling
                log.info("watch registration refused (%s); polling instead", exc)
        if self._poller is None:
            self._poller = self.server.spawn(self._poll(), "lore-poll")

    def on_watched(self, uris: list[str]) -> None:
        """Re-index when a file an extractor reads (or lore.toml) changed; ignore build output and .git.
        Changed files inside known repos are looked at alone; anything else asks for a full look."""
        engine = self.engine
        paths: dict[str, set[str]] = {}
        full = False
        for u in uris:
            path = uri_to_path(u)
            if path is None or ".git" in path.parts:
                continue
            if path.name == "lore.toml":
                full = True
                continue
            if not wanted(path.as_posix()):
                continue
            found = engine.ws.locate(path) if engine is not None else None
            if found is None:
                full = True
            else:
                paths.setdefault(found[0].name, set()).add(found[1])
        if full:
            self.schedule()
        elif paths:
            self.schedule(paths=paths)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        last: dict[str, dict[str, int]] | None = None
        while True:
            engine = self.engine
            if engine is not None:
                scan = await loop.run_in_executor(self.server.pool, _scan, engine.ws)
                if last is not None and scan != last:
                    changed = [os.path.join(base, name) for base in scan.keys() | last.keys()
                               for name in _differ(scan.get(base, {}), last.get(base, {}))]
                    if any(p.endswith("/.git/HEAD") for p in changed):
                        self.schedule()  # a commit or a branch switch: look at everything
                    else:
                        self.on_watched([Path(p).as_uri() for p in changed])
                last = scan
            await asyncio.sleep(POLL_SECONDS)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._poller is not None:
            self._poller.cancel()


def _log_failure(fut: Any) -> None:
    exc = fut.exception() if not fut.cancelled() else None
    if exc is not None:
        log.warning("history warm-up failed: %s", exc)


def _scan(ws: Workspace) -> dict[str, dict[str, int]]:
    """mtime (ns) and size of every git-listed file of the workspace, of each repo's .git/HEAD and of
    lore.toml, as {folder: {relative path: stamp}}. The relative paths are interned (the indexer's
    manifests hold the same strings), so the two scans a poll compares cost little more than an int per
    file instead of a fresh absolute path each."""
    groups: list[tuple[str, list[str]]] = []
    if ws.config_path:
        groups.append((str(ws.config_path.parent), [ws.config_path.name]))
    for repo in ws.repos:
        try:
            names = git.list_files(repo.root)
        except git.GitError:
            continue
        names.append(".git/HEAD")
        groups.append((str(repo.root), names))
    out: dict[str, dict[str, int]] = {}
    for base, names in groups:
        stamps = out.setdefault(base, {})
        for name in names:
            try:
                st = os.stat(os.path.join(base, name))
            except OSError:
                continue
            stamps[sys.intern(name)] = st.st_mtime_ns ^ (st.st_size << 1)
    return out


def _differ(new: dict[str, int], old: dict[str, int]) -> list[str]:
    return [name for name in new.keys() | old.keys() if new.get(name) != old.get(name)]
