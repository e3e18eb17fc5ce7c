"""The last run's summary, kept beside the manifests, and the check that nothing changed since.

After every full index run the engine stores one small record per workspace, `("summary", <workspace
root>)`: what the run's report said that needs the facts or the snapshot to compute (fact and link
counts, files with errors, drift and conflict messages, history warnings, commits per repo), and what it
was computed from (each repo's HEAD and manifest digest, the extractor fingerprint, the indexing code and
the workspace configuration, the version keys of listed files that are in no manifest).

`unchanged(ws, store)` answers a no-op run from it: it lists each repo through git, reads the repo's
manifest and fingerprint records and stats the files, with the very comparison a full run makes
(`indexers.plan.plan_repo`). When every file, HEAD, the configuration and the code are as the summary
says, it returns the report a full run would print, having read no fact record, no history record and
built no snapshot. Anything else (a changed, added or removed file, another HEAD, another lore.toml or
shard, a repo that cannot be read, a shard store, another Lore) returns None: the caller runs the
normal path. `stale_files(ws, store)` is the same comparison for queries that answer from the cache;
`stale_check` starts it beside the caller (in a child process) and gives the answer when asked.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexers.store import FileState, Store, manifest_of
from indexers.workspace import RepoSpec, Workspace

if TYPE_CHECKING:
    from indexers.plan import IndexReport, Listed, RepoPlan

# indexers.plan (with the extractor registry and the name rules) is imported by the functions that plan:
# `lore context` checks staleness in a child process, and the parent that answers never needs it.

VERSION = 1
TIMINGS = ("discover", "extract", "store", "history", "link")  # the keys a full run reports


def key(ws: Workspace) -> tuple[str, str]:
    return ("summary", str(ws.root))


@functools.cache
def code_stamp() -> str:
    """The indexing code as installed: name, size and modification time of every module and query file
    of the `indexers` package. Another Lore (or an edited one) never takes the fast path."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".scm")):
                full = os.path.join(dirpath, name)
                st = os.stat(full)
                h.update(f"{os.path.relpath(full, root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def workspace_stamp(ws: Workspace) -> str:
    """Everything of the workspace configuration an index run depends on, with the shard files' stats."""
    shards = []
    for p in ws.shards:
        try:
            st = p.stat()
            shards.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            shards.append((str(p), -1, -1))
    parts = (str(ws.root), [(r.name, str(r.root)) for r in ws.repos], shards, ws.max_file_size, ws.exclude,
             ws.file_budget, ws.warnings, repr(ws.shard_source), ws.absent, str(ws.config_path or ""))
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def record(ws: Workspace, report: IndexReport, *, fingerprint: str, digests: dict[str, str], load_errors: list[str],
           tail: list[str], run: str) -> dict[str, Any]:
    """The summary of a full run whose manifests (with `digests`) are in the cache. `tail`: the report's
    messages that came after indexing (shards, drift, conflicts); `run`: the id the run's query records
    (indexers.persist) carry."""
    repos: dict[str, Any] = {}
    for info in report.repos:
        name = info["name"]
        if name not in digests or ws.repo(name) is None:
            continue
        repos[name] = {"head": info.get("head"), "shallow": bool(info.get("shallow")), "digest": digests[name],
                       "outside": dict(report.outside.get(name, {})),
                       "extra": {k: info[k] for k in ("commits", "history_gaps") if k in info}}
    return {"version": VERSION, "run": run, "code": code_stamp(), "workspace": workspace_stamp(ws), "fingerprint": fingerprint,
            "repos": repos, "shard_repos": [i for i in report.repos if i["name"] not in repos],
            "failed": list(report.failed), "facts": dict(report.facts), "load_errors": list(load_errors),
            "tail": list(tail), "warnings": list(report.warnings)}


def _valid(value: Any, ws: Workspace) -> bool:
    return (isinstance(value, dict) and value.get("version") == VERSION and value.get("code") == code_stamp()
            and value.get("workspace") == workspace_stamp(ws) and isinstance(value.get("repos"), dict)
            and set(value["repos"]) == {r.name for r in ws.repos} and ws.shard_source is None)


def saved(ws: Workspace, store: Store) -> dict[str, Any] | None:
    """The summary of the last full run of this workspace, configuration and Lore, or None."""
    value = store.get(key(ws))
    return value if _valid(value, ws) and isinstance(value.get("run"), str) else None  # type: ignore[no-any-return]


def last_run(ws: Workspace, store: Store) -> str | None:
    """The id of the last full run of this workspace, configuration and Lore, or None."""
    value = saved(ws, store)
    return value["run"] if value is not None else None


class _Unknown(Exception):
    """A listed file the summary knows nothing of (new since the last run)."""


Stored = Callable[[str], tuple[str, dict[str, FileState]]]  # repo -> (its fingerprint, its manifest)


def _stored(store: Store) -> Stored:
    return lambda name: (store.fingerprint(name), store.manifest(name))


def _plans(ws: Workspace, stored: Stored, summary: dict[str, Any], report: IndexReport,
           new: list[tuple[str, str]] | None = None, *, languages: bool = True) -> dict[str, RepoPlan] | None:
    """Each repo's plan against its stored manifest, or None when a repo cannot be compared (not
    readable, another HEAD or extractor set, a manifest the summary was not written with) or, without
    `new`, when a file is new since the last run (with `new`, new files are added to it and skipped).
    The summary vouches for the configuration and extractors the manifests were written with, so a file
    whose stat data match its manifest entry is kept after one lstat (`plan_repo(same_config=True)`)."""
    from indexers.plan import listings

    with contextlib.closing(listings(list(ws.repos))) as listed:
        return _compare(ws, stored, summary, report, new, listed, languages)


def _compare(ws: Workspace, stored: Stored, summary: dict[str, Any], report: IndexReport,
             new: list[tuple[str, str]] | None, listed: Iterator[tuple[RepoSpec, Callable[[], Listed]]],
             languages: bool) -> dict[str, RepoPlan] | None:
    from indexers.plan import manifest_digest, plan_repo, stat_known

    plans: dict[str, RepoPlan] = {}
    for repo, started in listed:
        # while git lists the repo's files: its records, and a stat of every file its manifest holds
        mine = summary["repos"][repo.name]
        fingerprint, old = stored(repo.name)
        stats = stat_known(str(repo.root), old)
        got = started()
        if isinstance(got, str) or (got[1], got[2]) != (mine["head"], mine["shallow"]):
            return None
        if fingerprint != summary["fingerprint"]:
            return None
        if manifest_digest(old) != mine["digest"]:
            return None
        outside: dict[str, str] = mine["outside"]

        def vkey_for(path: str, prev: FileState | None, outside: dict[str, str] = outside, name: str = repo.name) -> str:
            if prev is not None:
                return prev.vkey
            if path not in outside:
                if new is None:
                    raise _Unknown(path)
                new.append((name, path))
                return ""  # not known: reported as new, never read here
            return outside[path]

        try:
            plan = plan_repo(repo, report, got, old, vkey_for, exclude=ws.exclude, max_file_size=ws.max_file_size,
                             same_config=True, stats=stats, languages=languages)
        except _Unknown:
            return None
        if plan is None:
            return None
        plans[repo.name] = plan
    return plans


Planned = tuple["IndexReport", dict[str, "RepoPlan"], float]  # a run's plans made by `unchanged`, and its start


def unchanged(ws: Workspace, store: Store, planned: list[Planned] | None = None) -> IndexReport | None:
    """The report of a full run when nothing changed since the last one, from manifests and stats only;
    None when anything changed (see the module doc). Then, when every repo could be compared, its plans
    are appended to `planned` for the run that follows (they hold what a run's planning would find)."""
    from indexers.plan import IndexReport

    t0 = time.perf_counter()
    summary = store.get(key(ws))
    if not _valid(summary, ws):
        return None
    report = IndexReport(messages=list(store.messages) + list(summary["load_errors"]))
    plans = _plans(ws, _stored(store), summary, report)
    if plans is None:
        return None
    for plan in plans.values():
        if plan.jobs or len(plan.manifest) != len(plan.old):
            if planned is not None:
                planned.append((report, plans, t0))
            return None  # a file to read, or one gone
    for info in report.repos:
        info.update(summary["repos"][info["name"]]["extra"])
    report.repos.extend(summary["shard_repos"])
    report.failed = list(summary["failed"])
    report.facts = Counter(summary["facts"])
    report.messages.extend(ws.warnings)
    report.messages.extend(summary["tail"])
    report.warnings = list(summary["warnings"])
    report.seconds = time.perf_counter() - t0
    report.timings = {name: 0.0 for name in TIMINGS}
    report.timings["discover"] = report.seconds
    return report


def stale_files(ws: Workspace, store: Store) -> list[tuple[str, str]] | None:
    """(repo, path) of the files that changed, appeared or went away since the last full run (empty when
    none did), or None when that cannot be told from the summary (no summary yet, another HEAD,
    configuration or Lore: the index is stale as a whole). Reads what `unchanged` reads."""
    return stale_check(ws, store, beside=False)()


def stale_check(ws: Workspace, store: Store, *, beside: bool = True) -> Callable[[], list[tuple[str, str]] | None]:
    """`stale_files`, started now; calling the result gives its answer. The cache's records are fetched
    here; with `beside`, verifying them, git's listing and the stat of every file run in a child process
    (`indexers.forked`, which never touches the database) while the caller goes on (a batch command
    answering from the cache)."""
    summary = store.get(key(ws))
    if not _valid(summary, ws):
        return lambda: None
    # the records' bytes are fetched here; verifying and unpickling them is the check's (in the child)
    fk, mk = Store.fingerprint_key, Store.manifest_key
    raws = {r.name: (store.raw(fk(r.name)), store.raw(mk(r.name))) for r in ws.repos}

    def check() -> list[tuple[str, str]] | None:
        from indexers.plan import IndexReport

        records: dict[str, tuple[str, dict[str, FileState]]] = {}
        for name, (fp, manifest) in raws.items():
            value = store.opened(fk(name), fp, "")
            records[name] = (value if isinstance(value, str) else "", manifest_of(store.opened(mk(name), manifest, {})))
        new: list[tuple[str, str]] = []
        plans = _plans(ws, records.__getitem__, summary, IndexReport(), new, languages=False)
        if plans is None:
            return None
        out = set(new)
        for name, plan in plans.items():
            out.update((name, job[2]) for job in plan.jobs)
            out.update((name, p) for p in plan.old if p not in plan.manifest)
        return sorted(out)

    if not beside:
        return check
    from indexers import forked

    got = forked.start(check)
    return lambda: None if (value := got()) is None else [(str(r), str(p)) for r, p in value]
