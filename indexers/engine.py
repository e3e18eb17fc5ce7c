"""The engine ties a workspace, its cache and the indexer together and produces Snapshots.

It is what the CLI, the LSP server and the benchmark harness call: `Engine(ws, store).refresh()` indexes
incrementally (files, then history) and links everything into a new immutable Snapshot. Shards listed
in lore.toml are loaded here and merged as repos without a local checkout.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexers import git, summary
from indexers.model import Commit, FileFacts, HistoryGaps, to_plain
from indexers.snapshot import RepoInfo, Snapshot, build
from indexers.store import CacheError, Store
from indexers.workspace import Workspace

if TYPE_CHECKING:  # the indexer (extraction, workers) is imported by runs, not by what reads the cache
    from indexers.indexer import Extract, RepoMemory
    from indexers.plan import IndexReport

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, ws: Workspace, store: Store, *, jobs: int | None = None, progress: bool = False,
                 isolate: bool = False, extract: Extract | None = None, share: bool = True, save: bool = False):
        self.ws = ws
        self.share = share  # share strings among facts (a long-lived process's memory; a one-shot run skips it)
        # after each full run, store its summary and query records (the CLI: what the next no-op `lore index`
        # and `lore context` answer from); a long-lived process keeps its Snapshot in memory instead
        self.save = save
        self.store = store
        self.jobs = jobs
        self.isolate = isolate  # extract in worker processes even with one job (see Indexer)
        self.extract = extract  # a few files off the main thread: extracted through this (see Indexer)
        self.progress = progress
        self._generation = 0
        self._lock = threading.Lock()
        self.last_report: IndexReport | None = None
        # Kept between refreshes so that a re-index in a long-lived process (the server) reads nothing it
        # already has: per-repo manifests and facts, mined history, and the last Snapshot.
        self._memory: dict[str, RepoMemory] = {}
        self._history_mem: dict[str, dict[str, Any]] = {}
        self._snapshot: Snapshot | None = None
        self._shards: dict[Path, tuple[tuple[int, int], Any]] = {}
        self.last_pull = float("-inf")  # time.monotonic() of the last pull_shards()
        self._history_ok = True  # every repo's history was mined up to its HEAD in the last refresh
        self._saved_run: str | None = None  # the run whose records saved_snapshot() loaded

    def refresh(self, force: bool = False, on_progress: Callable[[int, int], None] | None = None,
                only: Mapping[str, Iterable[str]] | None = None) -> tuple[Snapshot, IndexReport]:
        """Index (incrementally) and link. Safe to call from a worker thread; one refresh at a time.
        `on_progress(done, total)` is called from this thread as files are read. `only` ({repo: paths})
        limits the look to paths a watcher reported (falls back to a full look when no earlier run is
        in memory)."""
        with self._lock:
            if force:
                self._memory.clear()
                self._history_mem.clear()
                self._snapshot = None
            from indexers.indexer import Indexer

            mined: dict[str, dict[str, Commit]] = {}
            said: list[str] = []  # what mining had to say, put after the indexing messages as before

            def mine(report: IndexReport) -> None:
                # History is mined before extraction rather than after it: the same work, but in a process
                # that holds no facts yet, so the classifier's forked helper copies a small process and the
                # commits are built into a small heap (googleapis: 1.04 s after extraction, 0.8 s before).
                t0 = time.perf_counter()
                self._history_ok = True
                before = len(report.messages)
                mined.update(self._mine_history(report, force))
                said.extend(report.messages[before:])
                del report.messages[before:]
                report.timings["history"] = time.perf_counter() - t0

            indexer = Indexer(self.ws, self.store, jobs=self.jobs, progress=self.progress, on_progress=on_progress,
                              memory=self._memory, isolate=self.isolate, extract=self.extract, share=self.share,
                              after_plan=mine)
            report, facts_by_repo = indexer.run(force=force, only=only)
            if "history" not in report.timings:  # a run that never reached its plan: mine now, as before
                mine(report)
            report.messages.extend(self.ws.warnings)
            mark = len(report.messages)
            report.messages.extend(said)
            commits = mined
            t1 = time.perf_counter()
            repo_infos: dict[str, RepoInfo] = {}
            for info in report.repos:
                spec = self.ws.repo(info["name"])
                repo_infos[info["name"]] = RepoInfo(info["name"], spec.root if spec else None, info.get("head"),
                                                    unindexed=tuple(sorted((info.get("unindexed") or {}).items())))
            snap = self._update_snapshot(report, repo_infos, commits)
            if snap is None:
                all_facts: list[FileFacts] = [ff for flist in facts_by_repo.values() for ff in flist]
                shard_commits = self._load_shards(report, repo_infos, all_facts)
                commits.update(shard_commits)
                self._generation += 1
                history = self._history_index(repo_infos, commits)
                snap = build(repo_infos, all_facts, commits=commits, history=history, generation=self._generation)
            snap, report = self._finish(snap, report, commits, t1, repo_infos)
            if self.save and only is None and indexer.wrote and self._history_ok:
                self._save(snap, report, mark)
            return snap, report

    def patch_saved(self, planned: Any = None) -> IndexReport | None:
        """A run in a new process where a few files changed that declare what they declared before: the
        saved run patched (`indexers.patch`), or None when it takes a full `refresh()`. `planned`: the
        plans `indexers.summary.unchanged` made."""
        from indexers.indexer import Indexer
        from indexers.patch import patch_saved

        with self._lock:
            indexer = Indexer(self.ws, self.store, jobs=self.jobs, progress=self.progress, isolate=self.isolate,
                              extract=self.extract, share=False)
            report = patch_saved(self.ws, self.store, indexer, planned)
            if report is not None:
                log.info("%d file(s) changed, declaring what they declared: the last run patched", len(report.changed))
                self.last_report = report
            return report

    def _save(self, snap: Snapshot, report: IndexReport, mark: int) -> None:
        """The run's Snapshot as query records (`indexers.persist`: what `lore context` answers from),
        then its summary (`indexers.summary`: what a no-op run answers from), both for one run id."""
        from indexers import persist
        from indexers.sources import registry

        t0 = time.perf_counter()
        run = secrets.token_hex(8)
        readable = {i["name"] for i in report.repos if not i.get("error")}
        manifests = {name: mem.manifest for name, mem in self._memory.items() if name in readable}
        from indexers.plan import manifest_digest

        digests = {name: manifest_digest(m) for name, m in manifests.items()}
        value = summary.record(self.ws, report, fingerprint=registry.fingerprint(), digests=digests,
                               load_errors=list(registry.load_errors), tail=report.messages[mark:], run=run)
        try:
            persist.save(self.store, self.ws, snap, run, manifests)
            self.store.set(summary.key(self.ws), value)
        except CacheError as exc:
            log.info("summary not stored: %s", exc)
        report.timings["store"] = report.timings.get("store", 0.0) + time.perf_counter() - t0
        report.seconds += time.perf_counter() - t0  # the run is not over before its records are

    def saved_snapshot(self, *, lasting: bool = False, loaded: Callable[[], None] | None = None) -> Snapshot | None:
        """The Snapshot of the last full run, loaded from the cache without indexing (facts read per file
        on first use; `indexers.persist.MissingRecord` when one is gone), or None when there is none for
        this workspace, configuration and Lore. Its history view is for one question, or with `lasting`
        for a long-lived process (HEAD's file list in one table, kept answers). `loaded()` runs after each
        record read on demand (see `indexers.persist.load`)."""
        from indexers import persist

        run = summary.last_run(self.ws, self.store)
        if run is None or self.ws.shards:
            return None

        def history(repos: dict[str, RepoInfo], commits: dict[str, dict[str, Commit]], gaps: dict[str, HistoryGaps]) -> Any:
            from indexers.history.index import HistoryIndex

            roots = {name: info.root for name, info in repos.items() if info.root is not None}
            view = HistoryIndex(roots, commits, self.store.namespace("blame"), gaps, one_shot=not lasting)
            persist.seed_history(self.store, self.ws, run, view)
            return view

        snap = persist.load(self.store, self.ws, run, history, loaded)
        if snap is not None:
            self._saved_run = run
        return snap

    def saved_current(self, loaded: Callable[[], None] | None = None,
                      min_facts: int = 0) -> tuple[Snapshot, IndexReport] | None:
        """For a long-lived process's first index: when nothing changed since the last full run
        (`summary.unchanged`: manifests and stats only), its Snapshot served from the saved records (tables
        read from their buckets as asked, a file's facts on first use, history from its path index) with
        the report a no-op run prints; else None. The process then holds a few records instead of every
        file's facts, until a change takes a `refresh` (which reads what it needs from the cache).
        `loaded`: see `saved_snapshot`. None as well when the run holds fewer than `min_facts` facts
        (commits not counted): a small index is as well built in memory."""
        from indexers.persist import MissingRecord

        with self._lock:
            if self._snapshot is not None or self._memory or self.ws.shards:
                return None
            report = summary.unchanged(self.ws, self.store)
            if report is None or sum(n for kind, n in report.facts.items() if kind != "commit") < min_facts:
                return None
            try:
                snap = self.saved_snapshot(lasting=True, loaded=loaded)
            except MissingRecord:
                return None
            if snap is None:
                return None
            self._generation += 1
            snap.generation = self._generation
            self.last_report = report
            return snap, report

    def serving_last_run(self) -> bool:
        """Whether the run `saved_snapshot()` loaded is still the last one saved (one summary read)."""
        try:
            return self._saved_run is not None and summary.last_run(self.ws, self.store) == self._saved_run
        except CacheError:
            return False

    def keep_derived(self, snap: Snapshot) -> None:
        """After queries on a Snapshot from `saved_snapshot()`: keep what they derived from the whole
        history for the next load (see `indexers.persist.keep_history`)."""
        from indexers import persist

        if self._saved_run is not None and snap.history is not None:
            persist.keep_history(self.store, self.ws, self._saved_run, snap.history)

    def shard_paths(self) -> list[Path]:
        """`[[shard]]` files, then the local mirror of the `[shards]` store (pulled by `lore shards pull`
        or the server)."""
        paths = list(self.ws.shards)
        src = self.ws.shard_source
        if src is not None:
            from indexers.shardstore.mirror import mirror_dir, mirrored_shards

            paths += mirrored_shards(mirror_dir(self.store.root, src.url), src.repos)
        return paths

    def _load_shards(self, report: IndexReport, repo_infos: dict[str, RepoInfo],
                     all_facts: list[FileFacts]) -> dict[str, dict[str, Commit]]:
        """Import every shard that can be used; each one that cannot is a message naming its path and the
        reason, and the rest goes on. A repo checked out here always wins over its shard, and the first
        shard of a repo wins over later ones. Parsed shards are kept in memory by file identity."""
        from indexers.shard import Shard, ShardError, read_shard

        out: dict[str, dict[str, Commit]] = {}
        seen: dict[str, str] = {}
        cache: dict[Path, tuple[tuple[int, int], Shard]] = {}
        for shard_path in self.shard_paths():
            try:
                st = shard_path.stat()
                ident = (st.st_size, st.st_mtime_ns)
                hit = self._shards.get(shard_path)
                shard = hit[1] if hit is not None and hit[0] == ident else read_shard(shard_path)
                cache[shard_path] = (ident, shard)
            except FileNotFoundError:
                self._reject(report, f"{shard_path}: shard not found")
                continue
            except ShardError as exc:
                self._reject(report, str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - a shard is untrusted input: never stop indexing for one
                log.exception("reading shard %s failed", shard_path)
                self._reject(report, f"{shard_path}: unreadable shard ({exc.__class__.__name__}: {exc})")
                continue
            if shard.repo in repo_infos and repo_infos[shard.repo].root is not None:
                report.messages.append(f"{shard_path}: shard of {shard.repo!r} ignored: that repo is checked out in this workspace")
                continue
            if shard.repo in seen:
                report.messages.append(f"{shard_path}: shard of {shard.repo!r} ignored: already imported from {seen[shard.repo]}")
                continue
            seen[shard.repo] = str(shard_path)
            repo_infos[shard.repo] = RepoInfo(shard.repo, None, shard.commit, str(shard_path))
            all_facts.extend(shard.files)
            out[shard.repo] = {c.sha: c for c in shard.commits}
            report.repos.append({"name": shard.repo, "shard": str(shard_path), "head": shard.commit})
        self._shards = cache
        return out

    @staticmethod
    def _reject(report: IndexReport, message: str) -> None:
        report.messages.append(message)
        report.rejected_shards.append(message)

    def pull_shards(self) -> Any:
        """Bring the local mirror of the `[shards]` store up to date (a `PullReport`), or None without one.
        Network I/O: callers choose when (`lore shards pull`, the server's periodic pull)."""
        src = self.ws.shard_source
        if src is None:
            return None
        self.last_pull = time.monotonic()
        from indexers.shardstore.layout import StoreError
        from indexers.shardstore.mirror import PullReport, mirror_dir, pull
        from indexers.shardstore.s3 import open_store

        try:
            store = open_store(src.url, src.endpoint_url, src.region)
        except StoreError as exc:
            return PullReport(src.url, offline=str(exc))
        return pull(store, mirror_dir(self.store.root, src.url), src.repos)

    def _finish(self, snap: Snapshot, report: IndexReport, commits: dict[str, dict[str, Commit]], t1: float,
                repos: dict[str, RepoInfo]) -> tuple[Snapshot, IndexReport]:
        missing = tuple([f"{i['name']}: {i['error']}" for i in report.repos if i.get("error")] + list(self.ws.warnings))
        if snap.repos != repos or snap.missing != missing:  # what was read, and what could not be, changed
            snap = dataclasses.replace(snap, repos=dict(repos), missing=missing)
        report.timings["link"] = time.perf_counter() - t1
        report.facts["link"] = len(snap.links)
        report.facts["service"] = len(snap.services.services) if snap.services is not None else 0
        report.facts["commit"] = sum(len(c) for c in commits.values())
        report.facts["conflict"] = len(snap.conflicts)
        report.facts["copied"] = len(snap.copies)
        drifted = sorted({(dr.copy.repo, dr.copy.path, dr.canonical.repo, dr.canonical.path)
                          for g in snap.copies.values() if not g.conflict for dr in g.drift})
        for repo, path, crepo, cpath in drifted[:10]:
            report.messages.append(f"{repo}/{path}: a copy of {crepo}/{cpath} that has drifted from it (lore check names the differences)")
        if len(drifted) > 10:
            report.messages.append(f"... and {len(drifted) - 10} more drifted copies (lore graph --json: copies)")
        for c in snap.conflicts[:10]:
            where = ", ".join(f"{d.repo}/{d.path}:{d.range.start_line + 1}" for d in c.declarations[:3])
            report.messages.append(f"conflict {c.id}: declared differently in {where} and none can be preferred; "
                                   f"to resolve: {c.what_to_do}")
        if len(snap.conflicts) > 10:
            report.messages.append(f"... and {len(snap.conflicts) - 10} more conflicts (lore graph --json: conflicts)")
        report.seconds += report.timings["history"] + report.timings["link"]
        self.last_report = report
        self._snapshot = snap
        return snap, report

    QUICK_LIMIT = 64  # changed files up to which the previous Snapshot is patched instead of rebuilt

    def _update_snapshot(self, report: IndexReport, repos: dict[str, RepoInfo],
                         commits: dict[str, dict[str, Commit]]) -> Snapshot | None:
        """Patch the previous Snapshot when only a few code files changed (no contract, service or ADR
        facts before or after, nothing removed, no shards): their links are recomputed alone, and a moved
        HEAD swaps in the new history. Otherwise None: the caller rebuilds."""
        prev = self._snapshot
        if prev is None or self.ws.shards or self.ws.shard_source or report.removed or len(report.changed) > self.QUICK_LIMIT:
            return None
        if set(prev.repos) != set(repos):
            return None
        fresh = []
        for repo, path in report.changed:
            ff = self._memory[repo].facts.get(path) if repo in self._memory else None
            old = prev.files.get((repo, path))
            if ff is None or any(x is not None and (x.entities or x.services or x.decisions) for x in (ff, old)):
                return None
            fresh.append(ff)
        snap = prev
        for ff in fresh:
            snap = snap.with_file(ff)
        if any(prev.repos[name].head != info.head for name, info in repos.items()):
            snap = dataclasses.replace(snap, repos=dict(repos), commits={k: dict(v) for k, v in commits.items()},
                                       history=self._history_index(repos, commits))
        if snap is not prev:
            self._generation += 1
            snap = dataclasses.replace(snap, generation=self._generation)
        return snap

    # -- history ---------------------------------------------------------------------------------------
    def _mine_history(self, report: IndexReport, force: bool) -> dict[str, dict[str, Commit]]:
        """Mine each repo's commits since the last indexed HEAD; returns repo -> sha -> Commit. What a
        repo's history lacks (shallow cut, missing objects) is kept with it and reported on every run."""
        from indexers.history.mine import mine_history
        from indexers.history.notes import gap_messages

        out: dict[str, dict[str, Commit]] = {}
        for info in report.repos:
            spec = self.ws.repo(info["name"])
            if spec is None or info.get("error"):
                continue
            key = ("h", spec.name)
            state = None if force else self._history_mem.get(spec.name)
            if state is None and not force:
                state = self.store.get(key)
                if self.share and isinstance(state, dict) and isinstance(state.get("commits"), list):
                    state["commits"] = share_commit_strings(state["commits"])
            if not (isinstance(state, dict) and isinstance(state.get("commits"), list)
                    and isinstance(state.get("head"), (str, type(None)))
                    and all(isinstance(c, Commit) for c in state["commits"])):
                state = {"head": None, "commits": []}  # missing or damaged: mine again from scratch
            old_gaps = state.get("gaps")
            if isinstance(old_gaps, HistoryGaps) and old_gaps.shallow != bool(info.get("shallow")):
                state = {"head": None, "commits": []}  # deepened (or made shallow): what is there changed
            head = info.get("head")
            if head and state["head"] != head or (not head and state["commits"]):
                try:
                    new, complete, gaps = mine_history(spec.root, state["head"])
                except git.GitError as exc:
                    self._history_ok = False
                    report.warnings.append(f"history of {spec.name}: not mined: {exc}")
                else:
                    commits = new if complete else new + state["commits"]
                    if not complete and isinstance(state.get("gaps"), HistoryGaps):
                        gaps = _merge_gaps(state["gaps"], gaps)
                    state = {"head": head, "commits": commits, "gaps": gaps}
                    try:
                        self.store.set(key, state)
                    except CacheError as exc:
                        report.messages.append(str(exc))
            self._history_mem[spec.name] = state
            out[spec.name] = {c.sha: c for c in state["commits"]}
            info["commits"] = len(state["commits"])
            kept = state.get("gaps")
            if isinstance(kept, HistoryGaps) and kept:
                info["history_gaps"] = to_plain(kept)
                report.warnings.extend(f"history of {spec.name}: {m}" for m in gap_messages(kept))
        return out

    def _history_index(self, repos: dict[str, RepoInfo], commits: dict[str, dict[str, Commit]]) -> Any:
        from indexers.history.index import HistoryIndex

        roots = {name: info.root for name, info in repos.items() if info.root is not None}
        gaps = {name: st["gaps"] for name, st in self._history_mem.items() if isinstance(st.get("gaps"), HistoryGaps)}
        return HistoryIndex(roots, commits, self.store.namespace("blame"), gaps)


def _merge_gaps(old: HistoryGaps, new: HistoryGaps) -> HistoryGaps:
    """Gaps of an incremental run added to what the earlier history lacked (shallow and partial are the
    clone's current state)."""
    return HistoryGaps(shallow=new.shallow, boundary=old.boundary if new.shallow else "",
                       boundary_date=old.boundary_date if new.shallow else "", partial=new.partial,
                       unreadable=old.unreadable + new.unreadable,
                       unreadable_sample=(old.unreadable_sample + new.unreadable_sample)[:3],
                       no_files=old.no_files + new.no_files, reason=new.reason or old.reason)


def share_commit_strings(commits: list[Any]) -> list[Any]:
    """Commits loaded from the cache with one object per distinct author, file path (interned, so shared
    with the manifests) and kinds/refs tuple: each repo's history record is unpickled on its own, and at
    tens of thousands of commits the copies add up. Values are unchanged; anything that is not a Commit
    is passed through for the caller's validation."""
    tuples: dict[tuple[str, ...], tuple[str, ...]] = {(): ()}
    out: list[Any] = []
    for c in commits:
        if not isinstance(c, Commit) or not all(isinstance(x, str) for x in (c.author, *c.files, *c.kinds, *c.refs)):
            out.append(c)
            continue
        kinds = tuples.setdefault(c.kinds, tuple(sys.intern(k) for k in c.kinds))
        refs = tuples.setdefault(c.refs, c.refs)
        out.append(Commit(c.sha, c.date, sys.intern(c.author), c.subject, kinds, refs, c.reverts, c.body,
                          tuple(map(sys.intern, c.files)), c.evidence, c.mentions))
    return out
