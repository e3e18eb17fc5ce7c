"""What an index run has to read, per repo: the listed files compared with the stored manifest by size,
modification time and version key. Unchanged files are carried over (not read), the rest become jobs.

Kept apart from `indexer.py` (which imports the extractors and the worker pool) so that the check that
nothing changed since the last run (`indexers.summary`) runs the very same comparison while importing
nothing heavy.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import Counter, deque
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from indexers import discover, git
from indexers.sources.registry import USAGES
from indexers.store import FileState
from indexers.workspace import RepoSpec

Job = tuple[str, str, str, int, int, str]  # repo, root, path, size, mtime_ns, vkey
Listed = tuple[list[str], "str | None", bool] | str  # (files, HEAD, shallow) from git, or why not readable


@dataclass
class IndexReport:
    repos: list[dict[str, Any]] = field(default_factory=list)
    indexed: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[dict[str, Any]] = field(default_factory=list)
    facts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # losses a user must see (history a clone cannot give)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (repo, path) whose facts changed
    removed: list[tuple[str, str]] = field(default_factory=list)  # (repo, path) gone since last run
    rejected_shards: list[str] = field(default_factory=list)  # "<shard path>: <reason>", also in messages
    # repo -> {path: version key} of listed files that are in no manifest (no extractor wants them: "", or
    # skipped by stat): what a later no-op check needs to decide them without asking the extractors
    outside: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "repos": self.repos,
            "files": {
                "indexed": self.indexed,
                "unchanged": self.unchanged,
                "skipped": dict(sorted(self.skipped.items())),
                "failed": self.failed,
            },
            "facts": dict(sorted(self.facts.items())),
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "messages": self.messages,
            "warnings": self.warnings,
        }


def manifest_digest(manifest: dict[str, FileState]) -> str:
    """What a manifest says about every file's content and status (not its stat data)."""
    h = hashlib.sha256()
    for path in sorted(manifest):
        st = manifest[path]
        h.update(f"{path}\0{st.sha256}\0{st.vkey}\0{st.status}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def keep(manifest: dict[str, FileState], repo: str, path: str, state: FileState, report: IndexReport) -> None:
    """Carry a file's previous state into the new manifest (it did not change) and count it."""
    manifest[path] = state
    if state.status.startswith("skipped:"):
        report.skipped[state.status.split(":", 1)[1]] += 1
        return
    report.unchanged += 1
    if state.status == "failed":
        report.failed.append({"repo": repo, "path": path, "reason": state.reason})


def list_repo(repo: RepoSpec, paths: list[str] | None = None) -> Listed:
    """(files, HEAD, shallow) of one repo from git (only `paths`, when given), or why it cannot be read."""
    if not repo.root.is_dir():
        return "not found"
    try:
        files = git.list_files(repo.root, paths)
    except git.GitError as exc:
        return str(exc)
    head, shallow = git.head_and_shallow(repo.root)
    return files, head, shallow


def list_repos(repos: list[RepoSpec], one: Callable[[RepoSpec], Listed] = list_repo) -> dict[str, Listed]:
    """`one(repo)` for every repo. The git calls of all repos run concurrently: with dozens of repos,
    process start-up dominates a no-op run."""
    if len(repos) <= 1:
        return {r.name: one(r) for r in repos}
    with ThreadPoolExecutor(max_workers=min(8, len(repos))) as pool:
        return dict(zip((r.name for r in repos), pool.map(one, repos), strict=True))


def start_listing(repo: RepoSpec) -> Callable[[], Listed]:
    """`list_repo(repo)`, started: git runs while the caller goes on (stats the files it knows, say);
    calling the result waits for it."""
    if not repo.root.is_dir():
        return lambda: "not found"
    try:
        files, head = git.start_listing(repo.root)
    except git.GitError as exc:
        why = str(exc)
        return lambda: why

    def done() -> Listed:
        try:
            paths = git.parse_listing(files.result())
        except git.GitError as exc:
            head.result(check=False)
            return str(exc)
        try:
            sha, shallow = git.parse_head(head.result(check=False))
        except git.GitError:  # timed out
            sha, shallow = None, False
        return paths, sha, shallow

    return done


def listings(repos: list[RepoSpec], width: int = 8) -> Generator[tuple[RepoSpec, Callable[[], Listed]], None, None]:
    """(repo, its started listing) for every repo in order, at most `width` running at once: the next one
    starts as an earlier one is handed out, so asking in order keeps `width` at work.
    Closing the iterator early waits for the ones already started."""
    started: deque[tuple[RepoSpec, Callable[[], Listed]]] = deque()
    todo = deque(repos)
    try:
        while todo or started:
            while todo and len(started) < width:
                r = todo.popleft()
                started.append((r, start_listing(r)))
            yield started.popleft()
    finally:
        for _r, pending in started:
            pending()


Stat = tuple[int, int] | None  # (size, mtime_ns) of a regular file; None when it is not one or is gone


def stat_known(root: str, old: dict[str, FileState]) -> dict[str, Stat]:
    """The size and modification time of every file the manifest holds as read (see `plan_repo(stats=)`)."""
    prefix = root.rstrip(os.sep) + os.sep
    return {path: _stat(prefix + path) for path, prev in old.items() if not prev.status.startswith("skipped:")}


@dataclass
class RepoPlan:
    repo: RepoSpec
    old: dict[str, FileState]  # the previous manifest
    manifest: dict[str, FileState]  # files carried over unchanged
    jobs: list[Job]  # files to read
    outside: dict[str, str]  # listed files with a known version key that are in no manifest


VKeyFor = Callable[[str, "FileState | None"], str]  # (path, previous state) -> version key ("" = no extractor)


def plan_repo(repo: RepoSpec, report: IndexReport, listed: Listed, old: dict[str, FileState], vkey_for: VKeyFor, *,
              exclude: tuple[str, ...], max_file_size: int, targets: list[str] | None = None,
              kept_unindexed: dict[str, int] | None = None, same_config: bool = False,
              stats: dict[str, Stat] | None = None, languages: bool = True) -> RepoPlan | None:
    """Compare one repo's listed files with its previous manifest (see the module doc). Appends the repo's
    info to `report.repos` and counts what is skipped and unchanged; None when the repo cannot be read.
    With `targets`, only those paths are looked at and every other file stays as it was. With
    `same_config` (the caller knows the manifest was written under this configuration and extractor set),
    a file the manifest holds as read, with the size and modification time it has now, is kept after one
    lstat: the name, size and extractor checks it passed then give the same answers now; `stats`
    (`stat_known`, taken while git listed the files) stand for those lstats. Without `languages`, the
    source files Lore reads no usages from are not counted (`info["unindexed"]`: a report no one reads)."""
    info: dict[str, Any] = {"name": repo.name, "path": str(repo.root)}
    report.repos.append(info)
    if listed == "not found":
        info["error"] = "not found"
        report.messages.append(f"{repo.name}: {repo.root}: no such folder; skipped")
        return None
    if isinstance(listed, str):
        info["error"] = listed
        report.messages.append(f"{repo.name}: not a readable git repository ({listed}); skipped")
        return None
    paths, info["head"], shallow = listed
    if shallow:
        info["shallow"] = True
    manifest: dict[str, FileState] = {}
    jobs: list[Job] = []
    outside: dict[str, str] = {}
    root = str(repo.root)
    if targets is not None:  # targeted run: everything but the targets stays as it was
        wanted_now = set(targets)
        for path, prev_state in old.items():
            if path not in wanted_now:
                keep(manifest, repo.name, path, prev_state, report)
    unindexed: Counter[str] = Counter()  # source files in languages Lore reads no usages from
    for path in paths:
        prev = old.get(path)
        if same_config and prev is not None and not prev.status.startswith("skipped:"):
            now = stats.get(path) if stats is not None and path in stats else _stat(os.path.join(root, path))
            if now is not None and now[0] == prev.size and now[1] == prev.mtime_ns:
                if languages and USAGES not in prev.vkey and (lang := discover.code_language(path)):
                    unindexed[lang] += 1
                keep(manifest, repo.name, path, prev, report)
                continue
        reason = discover.skip_reason_by_name(path, exclude)
        if reason is not None:
            report.skipped[reason] += 1
            continue
        vkey = vkey_for(path, prev)
        if USAGES not in vkey and (lang := discover.code_language(path)):
            unindexed[lang] += 1
        if not vkey:
            report.skipped["unsupported"] += 1
            outside[path] = vkey
            continue
        cand, why = discover.stat_file(root, path, max_file_size)
        if cand is None:
            outside[path] = vkey
            if why != "deleted":
                report.skipped[why or "unknown"] += 1
            continue
        if prev is not None and prev.size == cand.size and prev.mtime_ns == cand.mtime_ns and prev.vkey == vkey:
            keep(manifest, repo.name, path, prev, report)
            continue
        jobs.append((repo.name, root, path, cand.size, cand.mtime_ns, vkey))
    info["files"] = len(paths) if targets is None else len(manifest) + len(jobs)
    info["unindexed"] = dict(unindexed) if targets is None or kept_unindexed is None else dict(kept_unindexed)
    return RepoPlan(repo, old, manifest, jobs, outside)


def _stat(full: str) -> Stat:
    try:
        st = os.lstat(full)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None
