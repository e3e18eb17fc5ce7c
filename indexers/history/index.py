"""The history view a Snapshot carries: mined commits per repo plus lazy, cached line attribution.

Blame runs on first request for a file and is cached by blob in the knowledge cache, so a warm hover
costs a cache read. `sections()` builds the history, markers, decisions and coupling sections of
`lore context`; `flagged_lines()` tells the editor which lines a workaround, hotfix, revert or incident
commit last wrote (for the "you are editing a workaround" diagnostic). `problems()` says what the history
lacks (`HistoryGaps` from mining, and a file whose blame needs objects the clone does not have): then the
sections show file-level notes and say what is missing instead of "no history".
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexers import git
from indexers.history.blame import BlameLine, BlameUnavailable, blame
from indexers.history.churn import fix_regions
from indexers.history.coupling import FileCoupling, ServicePair, service_pairs
from indexers.history.notes import (
    coupling_section,
    decisions_section,
    file_history_section,
    gap_messages,
    history_section,
    markers_section,
)
from indexers.model import Commit, HistoryGaps, Note, Section

log = logging.getLogger(__name__)

FLAG_KINDS = ("incident", "hotfix", "security", "regression_fix", "workaround", "temporary", "reapply", "revert")


@dataclass(frozen=True, slots=True)
class FlaggedLine:
    line: int  # 0-based, in the file at HEAD
    sha: str
    kinds: tuple[str, ...]
    subject: str
    refs: tuple[str, ...]
    date: str
    author: str


class HistoryIndex:
    def __init__(self, roots: Mapping[str, Path], commits: Mapping[str, Mapping[str, Commit]],
                 cache: MutableMapping[Any, Any] | None, gaps: Mapping[str, HistoryGaps] | None = None):
        self.roots = dict(roots)
        self.commits = {repo: dict(c) for repo, c in commits.items()}
        self.cache = cache
        self.gaps = dict(gaps or {})
        self._unblamable: dict[tuple[str, str, str], BlameUnavailable] = {}  # (repo, path, blob): why not
        self._tree_problem: dict[str, str] = {}  # repo -> why HEAD's file list could not be read
        self._by_path: dict[str, dict[str, list[Commit]]] = {}
        self._coupling: dict[str, FileCoupling] = {}
        self._service_pairs: list[ServicePair] | None = None
        self._blobs: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def blob(self, repo: str, path: str) -> str | None:
        """The blob sha of `path` at HEAD, from one `git ls-tree` per repo (not one git call per hover)."""
        root = self.roots.get(repo)
        if root is None:
            return None
        with self._lock:
            table = self._blobs.get(repo)
        if table is None:
            table = {}
            try:
                out = git.run(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", timeout=120)
            except git.GitError as exc:
                out = b""
                if git.head(root) is not None:  # a repository without commits has no files at HEAD: no loss
                    with self._lock:
                        self._tree_problem[repo] = str(exc)
            for rec in out.split(b"\0"):
                meta, _, name = rec.partition(b"\t")
                parts = meta.split()
                if len(parts) == 3 and parts[1] == b"blob":
                    # interned: the same path strings the manifests and commit file lists hold
                    table[sys.intern(name.decode("utf-8", "surrogateescape"))] = parts[2].decode()
            with self._lock:
                self._blobs[repo] = table
        return table.get(path)

    def blame(self, repo: str, path: str) -> list[BlameLine]:
        """Per-line attribution at HEAD; empty when the file is not committed or cannot be blamed (then
        `unavailable()` says why)."""
        try:
            return self._blame(repo, path)
        except BlameUnavailable:
            return []

    def _blame(self, repo: str, path: str) -> list[BlameLine]:
        root = self.roots.get(repo)
        blob = self.blob(repo, path)
        if root is None or blob is None:
            return []
        key = (repo, path, blob)
        with self._lock:
            known = self._unblamable.get(key)
        if known is not None:
            raise known  # blame failed on this blob before: not a git process per hover
        try:
            return blame(root, path, self.cache, blob=blob)
        except BlameUnavailable as exc:
            log.info("blame unavailable for %s/%s: %s", repo, path, exc.reason)
            with self._lock:
                self._unblamable[key] = exc
            raise

    def unavailable(self, repo: str, path: str) -> str | None:
        """Why the lines of `path` have no attribution although the file is committed, or None."""
        try:
            self._blame(repo, path)
        except BlameUnavailable as exc:
            gaps = self.gaps.get(repo)
            if exc.missing or (gaps is not None and gaps.partial):
                kind = "partial" if gaps is not None and gaps.partial else "damaged"
                return f"the clone lacks past versions of this file ({kind} clone; Lore never fetches)"
            return f"git blame failed ({exc.reason})"
        if self.blob(repo, path) is None and repo in self._tree_problem:
            return f"the file list at HEAD could not be read ({self._tree_problem[repo]})"
        return None

    def problems(self, repo: str, path: str) -> list[str]:
        """What the history behind `path` lacks: the repository's gaps, then this file's line attribution."""
        gaps = self.gaps.get(repo)
        out = [f"history: {m}" for m in gap_messages(gaps)]
        with self._lock:
            failed = any(key[:2] == (repo, path) for key in self._unblamable)
        # Asking costs a blame cache read: only where blame failed before or the clone is known to lack objects.
        lacks = gaps is not None and (gaps.partial or gaps.unreadable or gaps.no_files)  # not a shallow cut: blame works
        why = self.unavailable(repo, path) if repo in self.roots and (failed or lacks) else None
        if why:
            out.append(f"history: line-level history of {path} unavailable: {why}; notes are file-level")
        return out

    def commits_touching(self, repo: str, path: str) -> list[Commit]:
        """Commits that changed `path`, newest first (an index built on first use per repo)."""
        with self._lock:
            table = self._by_path.get(repo)
        if table is None:
            table = {}
            for c in self.commits.get(repo, {}).values():
                for f in c.files:
                    table.setdefault(f, []).append(c)
            with self._lock:
                self._by_path[repo] = table
        return table.get(path, [])

    def coupling(self, repo: str) -> FileCoupling:
        with self._lock:
            if repo not in self._coupling:
                self._coupling[repo] = FileCoupling(list(self.commits.get(repo, {}).values()))
            return self._coupling[repo]

    def warm(self, snap: Any) -> None:
        """Compute the per-repo tables the first hovers would otherwise pay for (blob shas, file coupling,
        service coupling). Meant for a background thread right after a new Snapshot is published."""
        for repo in sorted(self.roots):
            self.blob(repo, "")
            self.coupling(repo)
        self.service_pairs(snap)

    def service_pairs(self, snap: Any) -> list[ServicePair]:
        """Services (across repos) that change together: shared issue references, or the same author
        within a short window. Computed once per snapshot's history."""
        with self._lock:
            if self._service_pairs is None:
                def service_of(repo: str, path: str) -> str | None:
                    svc = snap.service_for(repo, path)
                    return svc.name if svc is not None else None

                commits = {repo: list(c.values()) for repo, c in self.commits.items()}
                self._service_pairs = service_pairs(commits, service_of)
            return self._service_pairs

    def flagged_lines(self, repo: str, path: str) -> list[FlaggedLine]:
        commits = self.commits.get(repo, {})
        out: list[FlaggedLine] = []
        for b in self.blame(repo, path):
            c = commits.get(b.sha)
            if c is None or b.boundary:
                continue
            kinds = tuple(k for k in FLAG_KINDS if k in c.kinds)
            if kinds:
                out.append(FlaggedLine(b.line, c.sha, kinds, c.subject, c.refs, c.date, c.author))
        return out

    def sections(self, snap: Any, repo: str, path: str, first: int, last: int) -> list[Section]:
        commits = self.commits.get(repo, {})
        root = self.roots.get(repo)
        if root is None:
            hist = Section("history", "History", empty="history is not available for a repo known only from a shard")
            lines: Sequence[BlameLine] = ()
        else:
            lines = self.blame(repo, path)
            why = self.unavailable(repo, path) if not lines else None
            if why:
                gaps = self.gaps.get(repo)
                hist = file_history_section(self.commits_touching(repo, path), commits, why,
                                            partial=gaps is not None and gaps.partial)
            else:
                try:
                    blob = self.blob(repo, path)
                    churn = fix_regions(root, path, list(commits.values()), self.cache, blob=blob) if blob else []
                except Exception:  # noqa: BLE001 - churn is a refinement; never lose the rest
                    log.exception("churn failed for %s/%s", repo, path)
                    churn = []
                hist = history_section(commits, lines, first, last, churn=churn, repo=repo, path=path)
        markers = markers_section(snap.markers_by_file.get((repo, path), []), first, last, blame_lines=lines)
        decisions = decisions_section(snap.decisions, path=path, names=self._names(snap, repo, path, first))
        files = snap.files
        pairs = self.coupling(repo).with_file(path, exists=lambda other: (repo, other) in files)
        coupling = coupling_section(pairs, repo=repo, gaps=self.gaps.get(repo))
        svc = snap.service_for(repo, path)
        if svc is not None:
            extra = [self._service_note(p, svc.name) for p in self.service_pairs(snap) if svc.name in (p.a, p.b)][:2]
            if extra:
                coupling = Section(coupling.name, coupling.title, coupling.notes + tuple(extra), coupling.empty)
        return [hist, markers, decisions, coupling]

    @staticmethod
    def _service_note(pair: ServicePair, mine: str) -> Note:
        other = pair.b if pair.a == mine else pair.a
        how, sha, _other_sha = pair.evidence[0] if pair.evidence else ("", "", "")
        why = f": {how}" if how else ""
        return Note(text=f"Service {mine} usually changes with {other} ({pair.support} times{why})", source=sha,
                    kind="service_coupling", data={"service": other, "support": pair.support,
                                                   "evidence": [list(e) for e in pair.evidence]})

    @staticmethod
    def _names(snap: Any, repo: str, path: str, line: int) -> set[str]:
        """Names an ADR may use for this place: the service, entity IDs declared or used here and their
        parents."""
        names: set[str] = set()
        svc = snap.service_for(repo, path)
        if svc is not None:
            names.add(svc.name)
        ids = [e.id for e in snap.entities_at(repo, path, line)] + [lk.entity for lk in snap.links_at(repo, path, line)]
        for ident in ids:
            while ident:
                names.add(ident)
                ent = snap.entity(ident)
                ident = ent.parent if ent is not None and ent.parent else ""
        return names
