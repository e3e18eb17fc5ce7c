"""The history view a Snapshot carries: mined commits per repo plus lazy, cached line attribution.

What line-level history needs of one file (its blame and its fix-on-fix regions, a `FileHistory`) is read
once per file version: `git blame` and the churn diffs run on first request, their results are cached by
blob in the knowledge cache (across processes) and kept in memory (a bounded LRU, `MEMO_FILES` and
`MEMO_LINES`), so a warm hover is a dictionary lookup; so are the files that usually change with it
(`coupled`). The tables behind them are indexed once per repo: the commits that touched each path (fix
history and coupling are counted there, never by scanning every commit) and HEAD's blob per path. A caller
that must not wait for git (the editor's hover) passes `wait=False`: what is not in memory yet is reported
as pending, and `prepare()` (a background thread) reads it. `adopt()` carries over what the previous index
read of files no new commit touched. `sections()` builds the history, markers, decisions and coupling
sections of `lore context`; `flagged_lines()` tells the editor which lines a workaround, hotfix, revert or
incident commit last wrote (for the "you are editing a workaround" diagnostic). `problems()` says what the
history lacks (`HistoryGaps` from mining, and a file whose blame needs objects the clone does not have):
then the sections show file-level notes and say what is missing instead of "no history".
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexers import git
from indexers.history.blame import BlameLine, BlameUnavailable, blame
from indexers.history.churn import ChurnRegion, fix_regions
from indexers.history.coupling import FilePair, ServicePair, coupled_files, service_pairs
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
MEMO_FILES = 256  # files whose history stays in memory (open and recently hovered ones) ...
MEMO_LINES = 200_000  # ... and at most this many blamed lines among them (about 130 bytes each)
PENDING = "line history is being read; hover again in a moment"
COUPLING_PENDING = "co-changes are being counted in the background"
COUPLED_SHOWN = 5  # files that change with this one, at most


@dataclass(frozen=True, slots=True)
class FileHistory:
    """What line-level history needs of one file at HEAD, read once per blob: the blame, the fix-on-fix
    regions, and why the lines have no attribution when git could not blame a committed file."""

    lines: tuple[BlameLine, ...]
    churn: tuple[ChurnRegion, ...] = ()
    unavailable: BlameUnavailable | None = None


_NOTHING = FileHistory(())  # not committed, or no repository root: nothing to read


def _compact(lines: Sequence[BlameLine]) -> tuple[BlameLine, ...]:
    """The lines with one string object per distinct sha, author, date and summary (blame repeats them on
    every line of a commit's hunk; kept in memory, the copies would cost several hundred bytes a line)."""
    one: dict[str, str] = {}
    return tuple(BlameLine(b.line, one.setdefault(b.sha, b.sha), b.orig_line, one.setdefault(b.author, b.author),
                           one.setdefault(b.date, b.date), one.setdefault(b.summary, b.summary), b.boundary)
                 for b in lines)


@dataclass(frozen=True, slots=True)
class FlaggedLine:
    line: int  # 0-based, in the file at HEAD
    sha: str
    kinds: tuple[str, ...]
    subject: str
    refs: tuple[str, ...]
    date: str
    author: str


def _blobs(ls_tree: bytes) -> dict[str, str]:
    """path -> blob sha from `git ls-tree -r -z` output (trees and gitlinks left out)."""
    table: dict[str, str] = {}
    for rec in ls_tree.split(b"\0"):
        meta, _, name = rec.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            # interned: the same path strings the manifests and commit file lists hold
            table[sys.intern(name.decode("utf-8", "surrogateescape"))] = parts[2].decode()
    return table


class HistoryIndex:
    def __init__(self, roots: Mapping[str, Path], commits: Mapping[str, Mapping[str, Commit]],
                 cache: MutableMapping[Any, Any] | None, gaps: Mapping[str, HistoryGaps] | None = None,
                 *, one_shot: bool = False):
        # `one_shot`: a view for one or two questions (`lore context` from the cache): a file's blob and
        # commits are looked up for that file alone instead of tabulating the whole tree and history.
        self.one_shot = one_shot
        self.roots = dict(roots)
        # a one-shot view keeps the mappings it is given, and so does any view of saved commits (see
        # indexers.persist.SavedCommits: Commits made on first use, `touching` from the saved path index);
        # otherwise plain dicts
        self.commits = {repo: c if one_shot or hasattr(c, "touching") else dict(c) for repo, c in commits.items()}
        self.cache = cache
        self.gaps = dict(gaps or {})
        self._unblamable: dict[tuple[str, str, str], BlameUnavailable] = {}  # (repo, path, blob): why not
        self._tree_problem: dict[str, str] = {}  # repo -> why HEAD's file list could not be read
        self._by_path: dict[str, dict[str, list[Commit]]] = {}
        self._coupled: OrderedDict[tuple[str, str], tuple[FilePair, ...]] = OrderedDict()  # (repo, path)
        self._service_pairs: list[ServicePair] | None = None
        self._blobs: dict[str, dict[str, str]] = {}
        self._one: dict[tuple[str, str], str | None] = {}  # (repo, path) -> blob, in a one-shot view
        self._memo: OrderedDict[tuple[str, str, str], FileHistory] = OrderedDict()  # (repo, path, blob)
        self._reading: dict[tuple[str, str, str], threading.Event] = {}  # files being read now
        self._lines = 0  # blamed lines held in _memo
        self._lock = threading.Lock()  # held only for dictionary updates, never while computing
        self._pairs_lock = threading.Lock()
        self.reads = 0  # file histories read (cache or git) into memory, for tests and the status

    def blob(self, repo: str, path: str) -> str | None:
        """The blob sha of `path` at HEAD, from one `git ls-tree` per repo (not one git call per hover)."""
        root = self.roots.get(repo)
        if root is None:
            return None
        with self._lock:
            table = self._blobs.get(repo)
        if table is None and self.one_shot:
            return self._one_blob(root, repo, path)
        if table is None:
            table = self._ls_tree(root, repo, "-r")
            with self._lock:
                self._blobs[repo] = table
        return table.get(path)

    def _ls_tree(self, root: Path, repo: str, *args: str) -> dict[str, str]:
        """path -> blob of `git ls-tree HEAD <args>`; when git fails, empty, and why is kept for
        `unavailable()`."""
        try:
            out = git.run(root, "--literal-pathspecs", "ls-tree", "-z", "--full-tree", "HEAD", *args, timeout=120)
        except git.GitError as exc:
            if git.head(root) is not None:  # a repository without commits has no files at HEAD: no loss
                with self._lock:
                    self._tree_problem[repo] = str(exc)
            return {}
        return _blobs(out)

    def _one_blob(self, root: Path, repo: str, path: str) -> str | None:
        """The blob of one path at HEAD (`one_shot`), kept like the table's entries."""
        with self._lock:
            known = self._one.get((repo, path), False)
        if known is not False:
            return known  # type: ignore[return-value]
        found = self._ls_tree(root, repo, "--", path).get(path)
        with self._lock:
            self._one[(repo, path)] = found
        return found

    def file_history(self, repo: str, path: str, *, wait: bool = True) -> FileHistory | None:
        """Blame and fix-on-fix regions of `path` at HEAD, read once per blob and kept in memory. Without
        `wait`, only what is in memory already: None when it still has to be read (see `prepare`)."""
        root = self.roots.get(repo)
        if root is None:
            return _NOTHING
        if not wait:
            with self._lock:
                table = self._blobs.get(repo)
                if table is not None:
                    blob = table.get(path)
                elif self.one_shot and (repo, path) in self._one:
                    blob = self._one[(repo, path)]
                else:
                    return None  # HEAD's file list is not read yet
                if blob is None:
                    return _NOTHING
                return self._hit((repo, path, blob))
        blob = self.blob(repo, path)
        if blob is None:
            return _NOTHING
        key = (repo, path, blob)
        while True:
            with self._lock:
                found = self._hit(key)
                if found is not None:
                    return found
                busy = self._reading.get(key)
                if busy is None:
                    self._reading[key] = threading.Event()
                    break
            busy.wait()  # another thread reads this file: use its result
        try:
            got = self._read(root, repo, path, blob)
            with self._lock:
                self._memo[key] = got
                self._lines += len(got.lines)
                self.reads += 1
                while len(self._memo) > 1 and (len(self._memo) > MEMO_FILES or self._lines > MEMO_LINES):
                    self._lines -= len(self._memo.popitem(last=False)[1].lines)
            return got
        finally:
            with self._lock:
                self._reading.pop(key).set()

    def _hit(self, key: tuple[str, str, str]) -> FileHistory | None:
        """The memory's entry, marked most recently used (lock held)."""
        got = self._memo.get(key)
        if got is not None:
            self._memo.move_to_end(key)
        return got

    def _read(self, root: Path, repo: str, path: str, blob: str) -> FileHistory:
        try:
            lines = _compact(blame(root, path, self.cache, blob=blob))
        except BlameUnavailable as exc:
            log.info("blame unavailable for %s/%s: %s", repo, path, exc.reason)
            return FileHistory((), (), exc)
        if not lines:
            return FileHistory(())
        try:
            # the fix commits of this file, from the per-path table: never a scan of every commit
            churn = tuple(fix_regions(root, path, self.commits_touching(repo, path), self.cache, blob=blob))
        except Exception:  # noqa: BLE001 - churn is a refinement; never lose the rest
            log.exception("churn failed for %s/%s", repo, path)
            churn = ()
        return FileHistory(lines, churn)

    def ready(self, repo: str, path: str) -> bool:
        """Whether `file_history(repo, path, wait=False)` answers from memory (no git to run)."""
        return self.file_history(repo, path, wait=False) is not None and self.coupled(repo, path, wait=False) is not None

    def prepare(self, repo: str, path: str) -> None:
        """Read a file's history into memory (a background thread: on open, after an edit, on a hover
        that found it missing)."""
        try:
            self.file_history(repo, path)
            self.coupled(repo, path)
        except Exception:  # noqa: BLE001 - a hover will say what is missing
            log.exception("reading the history of %s/%s failed", repo, path)

    def adopt(self, previous: Any) -> int:
        """Keep what `previous` (the history of the index before this one) read of each file no new commit
        touched, in repos whose root is the same and whose earlier commits are all still there (blame and
        fix regions of a file depend on the commits that touched it, and the blob keys each entry).
        Returns how many files were kept."""
        if not isinstance(previous, HistoryIndex) or previous is self:
            return 0
        touched: dict[str, set[str]] = {}
        for repo, root in self.roots.items():
            old, new = previous.commits.get(repo), self.commits.get(repo, {})
            if previous.roots.get(repo) != root or old is None or not old.keys() <= new.keys():
                continue
            touched[repo] = {f for sha in new.keys() - old.keys() for f in new[sha].files}
        with previous._lock:
            kept = [(k, v) for k, v in previous._memo.items() if k[0] in touched and k[1] not in touched[k[0]]]
            pairs = [(k, v) for k, v in previous._coupled.items() if k[0] in touched and k[1] not in touched[k[0]]]
            blobs = {repo: t for repo, t in previous._blobs.items() if repo in touched and not touched[repo]}
        with self._lock:
            for repo, table in blobs.items():  # HEAD's file list: only where no commit came
                self._blobs.setdefault(repo, table)
            for ck, cv in pairs:
                self._coupled.setdefault(ck, cv)
            for k, v in kept:
                if k not in self._memo:
                    self._memo[k] = v
                    self._lines += len(v.lines)
        return len(kept)

    def blame(self, repo: str, path: str) -> Sequence[BlameLine]:
        """Per-line attribution at HEAD; empty when the file is not committed or cannot be blamed (then
        `unavailable()` says why)."""
        got = self.file_history(repo, path)
        return got.lines if got is not None else ()

    def unavailable(self, repo: str, path: str, *, wait: bool = True) -> str | None:
        """Why the lines of `path` have no attribution although the file is committed, or None."""
        got = self.file_history(repo, path, wait=wait)
        exc = got.unavailable if got is not None else None
        if exc is not None:
            gaps = self.gaps.get(repo)
            if exc.missing or (gaps is not None and gaps.partial):
                kind = "partial" if gaps is not None and gaps.partial else "damaged"
                return f"the clone lacks past versions of this file ({kind} clone; Lore never fetches)"
            return f"git blame failed ({exc.reason})"
        if got is not None and self.blob(repo, path) is None and repo in self._tree_problem:
            return f"the file list at HEAD could not be read ({self._tree_problem[repo]})"
        return None

    def problems(self, repo: str, path: str, *, wait: bool = True) -> list[str]:
        """What the history behind `path` lacks: the repository's gaps, then this file's line attribution."""
        gaps = self.gaps.get(repo)
        out = [f"history: {m}" for m in gap_messages(gaps)]
        known = self.file_history(repo, path, wait=False)
        failed = known is not None and known.unavailable is not None
        # Asking costs a blame: only where blame failed before or the clone is known to lack objects.
        lacks = gaps is not None and (gaps.partial or gaps.unreadable or gaps.no_files)  # not a shallow cut: blame works
        why = self.unavailable(repo, path, wait=wait) if repo in self.roots and (failed or lacks) else None
        if why:
            out.append(f"history: line-level history of {path} unavailable: {why}; notes are file-level")
        return out

    def commits_touching(self, repo: str, path: str) -> list[Commit]:
        """Commits that changed `path`, newest first (an index built on first use per repo)."""
        with self._lock:
            table = self._by_path.get(repo)
        commits = self.commits.get(repo, {})
        touching = getattr(commits, "touching", None)
        if table is None and touching is not None:  # saved commits: their own path index
            return touching(path)  # type: ignore[no-any-return]
        if table is None and self.one_shot:  # one file: a scan, not a table of every path
            return [c for c in commits.values() if path in c.files]
        if table is None:
            table = {}
            for c in commits.values():
                for f in c.files:
                    found = table.setdefault(f, [])
                    if not found or found[-1] is not c:  # a path listed twice in one commit counts once
                        found.append(c)
            with self._lock:
                self._by_path[repo] = table
        return table.get(path, [])

    def coupled(self, repo: str, path: str, *, wait: bool = True) -> tuple[FilePair, ...] | None:
        """Files that usually change with `path`, strongest first (from the commits that touched it; kept
        in memory like the line history); without `wait`, None until they are counted."""
        key = (repo, path)
        with self._lock:
            got = self._coupled.get(key)
            if got is not None:
                self._coupled.move_to_end(key)
                return got
        if not wait:
            return None
        got = tuple(coupled_files(path, self.commits_touching(repo, path)))
        with self._lock:
            self._coupled[key] = got
            while len(self._coupled) > MEMO_FILES:
                self._coupled.popitem(last=False)
        return got

    def warm(self, snap: Any) -> None:
        """Compute the per-repo tables the first hovers would otherwise pay for (blob shas, the commits
        touching each path, service coupling). Meant for a background thread right after a new Snapshot is
        published."""
        for repo in sorted(self.roots):
            self.blob(repo, "")
        for repo in sorted(self.commits):
            self.commits_touching(repo, "")
        self.service_pairs(snap)

    def service_pairs(self, snap: Any, *, wait: bool = True) -> list[ServicePair]:
        """Services (across repos) that change together: shared issue references, or the same author
        within a short window. Computed once per snapshot's history (without `wait`: [] until then)."""
        found = self._service_pairs
        if found is not None or not wait:
            return found or []
        with self._pairs_lock:  # one computation; never under the lock hovers take
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

    def sections(self, snap: Any, repo: str, path: str, first: int, last: int, *, wait: bool = True) -> list[Section]:
        """History, markers, decisions and coupling of lines first..last. Without `wait`, nothing runs git
        or scans all commits: what is not in memory yet is reported as pending."""
        commits = self.commits.get(repo, {})
        root = self.roots.get(repo)
        lines: Sequence[BlameLine] = ()
        if root is None:
            hist = Section("history", "History", empty="history is not available for a repo known only from a shard")
        elif (got := self.file_history(repo, path, wait=wait)) is None:
            hist = Section("history", "History", (Note(PENDING, "", "history_pending"),), empty=PENDING)
        else:
            lines = got.lines
            why = self.unavailable(repo, path) if not lines else None
            if why:
                gaps = self.gaps.get(repo)
                hist = file_history_section(self.commits_touching(repo, path), commits, why,
                                            partial=gaps is not None and gaps.partial)
            else:
                hist = history_section(commits, lines, first, last, churn=got.churn, repo=repo, path=path)
        markers = markers_section(snap.markers_by_file.get((repo, path), []), first, last, blame_lines=lines)
        decisions = decisions_section(snap.decisions, path=path, names=self._names(snap, repo, path, first))
        files = snap.files
        found = self.coupled(repo, path, wait=wait)
        if found is None:
            coupling = Section("coupling", "Changes with", empty=COUPLING_PENDING)
        else:
            pairs = [p for p in found if (repo, p.other) in files][:COUPLED_SHOWN]
            coupling = coupling_section(pairs, repo=repo, gaps=self.gaps.get(repo))
        svc = snap.service_for(repo, path)
        if svc is not None:
            extra = [self._service_note(p, svc.name) for p in self.service_pairs(snap, wait=wait)
                     if svc.name in (p.a, p.b)][:2]
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
