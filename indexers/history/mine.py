"""Mine a repository's history into `Commit` facts with one streaming `git log`, incrementally.

Revert and `Fixes:` trailers are resolved against the history itself: a revert's target is the commit it
names when that is reachable from HEAD (squash-merge bodies quote shas that never reached the main line),
else unknown. A revert whose target is itself a revert is a re-apply: the original change is back. The
commits a security-advisory merge brings in are part of the security fix.

Nothing is ever fetched. A clone that lacks objects (partial, damaged) keeps every commit that can be read
(`salvage`); a shallow clone's cut-off commit keeps its message but not its file list. What was lost is
returned as `HistoryGaps` for the caller to report.

Incremental: with `since` (the HEAD of the previous run) only `since..HEAD` is read; when `since` is no
longer an ancestor of HEAD (force-push, branch switch) everything is mined again.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from indexers import git
from indexers.history.classify import KINDS, Classification, classify, is_advisory
from indexers.history.log import LogRecord, log
from indexers.history.merges import bring_in
from indexers.history.salvage import salvage
from indexers.model import Commit, HistoryGaps
from indexers.sources.gcpause import paused_gc


def _is_ancestor(repo: str | Path, sha: str, head: str) -> bool:
    try:
        git.run(repo, "merge-base", "--is-ancestor", sha, head, timeout=60)
        return True
    except git.GitError:
        return False


def _read(repo: str | Path, head: str, since: str | None, each: Callable[[LogRecord], None] | None = None,
          idle: Callable[[], bool] | None = None) -> tuple[list[LogRecord], bool, HistoryGaps]:
    """The log records of `since..head` (or all of `head`), whether that is the whole history, and what
    could not be read. One streaming `git log`; when git stops at a missing object, the readable history is
    salvaged commit by commit (always whole then: a damaged clone is not trusted for an increment).
    `each(record)` sees every record git writes as it is read (a shallow cut-off commit without files);
    `idle()` runs whenever git has written nothing new (see `indexers.history.log.log`)."""
    shallow_cut = git.shallow_commits(repo)
    partial = git.is_partial(repo)

    def seen(r: LogRecord) -> None:
        if r.sha in shallow_cut:
            r.files = []  # as below
        if each is not None:
            each(r)

    records, failed = log(repo, f"{since}..{head}" if since else head, each=seen if each is not None else None,
                          idle=idle)
    gaps = HistoryGaps(shallow=bool(shallow_cut), partial=partial)
    complete = not since
    if failed is not None:
        saved = salvage(repo, head)
        records = []
        for c in saved.commits:
            files = saved.files.get(c.sha, [])
            records.append(LogRecord(c.sha, c.parents, c.date, c.author, c.subject, c.body, files))
        gaps = dataclasses.replace(gaps, unreadable=len(saved.unreadable), unreadable_sample=tuple(saved.unreadable[:3]),
                                   no_files=len(saved.no_files), reason=failed)
        complete = True
    if shallow_cut:
        cut = [r for r in records if r.sha in shallow_cut]
        for r in cut:
            r.files = []  # a cut-off commit shows every file as added: its real change is unknown
        oldest = min(cut, key=lambda r: r.date, default=None)
        if oldest is not None:
            gaps = dataclasses.replace(gaps, boundary=oldest.sha, boundary_date=oldest.date)
    return records, complete, gaps


class _Later(Exception):
    """Raised by the resolvers given to a commit classified while the history is still being read: what
    another commit is cannot be known yet, so that commit is classified once everything is read."""


def _later(_text: str) -> str | None:
    raise _Later


def _classify_alone(r: LogRecord) -> Classification | None:
    """A commit's classification from its own message and files; None when it names another commit
    (then it needs the whole history: see `_mine_history`)."""
    try:
        return classify(r.subject, r.body, r.files, merge=len(r.parents) > 1, resolve=_later, find_subject=_later)
    except _Later:
        return None


_IDLE_BATCH = 16  # commits classified each time git has nothing new (a few ms: then the pipe is read again)
_SPLIT_FROM = 2000  # commits left once git is done from which a child process classifies half of them

Plain = list[Any] | None  # a Classification as JSON (`indexers.forked` carries JSON)


def _classify_rest(records: list[LogRecord]) -> list[Classification | None]:
    """`_classify_alone` of each record; with many, the second half in a child process (`indexers.forked`,
    on the other core) while this one classifies the first. Classifications are plain strings and tuples,
    so they come back through JSON unchanged."""
    if len(records) < _SPLIT_FROM:
        return [_classify_alone(r) for r in records]
    from indexers import forked

    half = len(records) // 2
    theirs = records[half:]
    started = forked.start(lambda: [_plain(_classify_alone(r)) for r in theirs])
    mine = [_classify_alone(r) for r in records[:half]]
    return mine + [_unplain(c) for c in started()]


def _plain(c: Classification | None) -> Plain:
    return None if c is None else [list(c.kinds), list(c.refs), c.reverts, c.fixes, [list(e) for e in c.evidence],
                                   [list(e) for e in c.mentions]]


def _unplain(c: Plain) -> Classification | None:
    if c is None:
        return None
    kinds, refs, reverts, fixes, evidence, mentions = c
    return Classification(kinds=tuple(kinds), refs=tuple(refs), reverts=reverts, fixes=fixes,
                          evidence=tuple((k, t) for k, t in evidence), mentions=tuple((k, t) for k, t in mentions))


class _Index:
    """Resolves abbreviated shas: first among the mined commits, then (for incremental runs) in git."""

    def __init__(self, repo: str | Path, head: str, shas: Sequence[str], complete: bool):
        self.repo, self.head, self.complete = repo, head, complete
        self.sorted = sorted(shas)
        self.extra: dict[str, str | None] = {}

    def __call__(self, prefix: str) -> str | None:
        prefix = prefix.lower()
        i = bisect.bisect_left(self.sorted, prefix)
        hits = [s for s in self.sorted[i:i + 2] if s.startswith(prefix)]
        if len(hits) == 1:
            return hits[0]
        if hits or self.complete:
            return None  # ambiguous, or not reachable from HEAD
        if prefix not in self.extra:
            self.extra[prefix] = self._lookup(prefix)
        return self.extra[prefix]

    def by_subject(self, subject: str, before: str) -> str | None:
        """The newest commit before `before` whose subject is exactly `subject` (incremental runs only)."""
        if self.complete or "\n" in subject or not subject.strip():
            return None
        try:
            out = git.run(self.repo, "log", "--encoding=UTF-8", "--format=%H%x00%s", "-F", f"--grep={subject}",
                          "-n", "50", before, "--", timeout=60)
        except git.GitError:
            return None
        for line in out.decode("utf-8", "replace").splitlines():
            sha, _, subj = line.partition("\0")
            if subj == subject:
                return sha
        return None

    def _lookup(self, prefix: str) -> str | None:
        try:
            full = git.run(self.repo, "rev-parse", "--verify", "-q", f"{prefix}^{{commit}}", timeout=30)
        except git.GitError:
            return None
        sha = full.decode().strip()
        return sha if sha and _is_ancestor(self.repo, sha, self.head) else None


def mine(repo_path: str | Path, since: str | None = None, *, rev: str = "HEAD") -> list[Commit]:
    """Commits reachable from `rev` (newest first), or only those after `since` when it is an ancestor."""
    return mine_history(repo_path, since, rev=rev)[0]


def mine_update(repo_path: str | Path, since: str | None = None, *, rev: str = "HEAD") -> tuple[list[Commit], bool]:
    """(commits, complete): `complete` is True when the list is the whole history (first run, or `since`
    is no longer an ancestor of HEAD after a force-push) and replaces what the caller kept; False when it
    only holds the commits after `since`, to put in front of the caller's list."""
    commits, complete, _gaps = mine_history(repo_path, since, rev=rev)
    return commits, complete


def mine_history(repo_path: str | Path, since: str | None = None, *,
                 rev: str = "HEAD") -> tuple[list[Commit], bool, HistoryGaps]:
    """`mine_update` plus what could not be read (shallow cut, missing objects), never fetched. The cyclic
    collector is paused meanwhile: tens of thousands of commits are built (nothing cyclic) beside what
    the process already holds, which each allocation burst would make it rescan."""
    with paused_gc():
        return _mine_history(repo_path, since, rev)


def _mine_history(repo_path: str | Path, since: str | None, rev: str) -> tuple[list[Commit], bool, HistoryGaps]:
    head = git.head(repo_path, rev)
    if head is None:
        return [], True, HistoryGaps()
    if since and since == head:
        return [], False, HistoryGaps()
    incremental = bool(since) and _is_ancestor(repo_path, str(since), head)
    # Classified while git is still writing, whenever it has written nothing new (git never waits for
    # Python), the rest split with a child process once git is done (`_classify_rest`): all but the few
    # commits whose message names another commit (those need the whole history, and are classified below).
    early: dict[str, tuple[LogRecord, Classification]] = {}
    pending: deque[LogRecord] = deque()

    def classify_early(r: LogRecord) -> None:
        alone = _classify_alone(r)
        if alone is not None:
            early[r.sha] = (r, alone)

    def idle() -> bool:
        n = min(len(pending), _IDLE_BATCH)
        for _ in range(n):
            classify_early(pending.popleft())
        return n > 0

    raws, complete, gaps = _read(repo_path, head, str(since) if incremental else None, pending.append, idle)
    for r, rest in zip(pending, _classify_rest(list(pending)), strict=True):
        if rest is not None:
            early[r.sha] = (r, rest)
    incremental = not complete
    index = _Index(repo_path, head, [r.sha for r in raws], complete=complete)
    by_subject: dict[str, list[int]] = {}
    for pos, r in enumerate(raws):
        by_subject.setdefault(r.subject, []).append(pos)
    out: list[Commit] = []
    fixes: dict[str, str] = {}  # sha -> the commit its `Fixes:` trailer names
    for pos, r in enumerate(raws):

        def earlier_with_subject(subject: str, pos: int = pos) -> str | None:
            later = [p for p in by_subject.get(subject, ()) if p > pos]  # log order: newest first
            if later:
                return raws[later[0]].sha
            return index.by_subject(subject, f"{since}") if incremental else None

        got = early.get(r.sha)
        if got is not None and got[0] is r:  # the same record (not one salvaged after git stopped)
            c = got[1]
        else:
            c = classify(r.subject, r.body, r.files, merge=len(r.parents) > 1, resolve=index,
                         find_subject=earlier_with_subject)
        if c.fixes:
            fixes[r.sha] = c.fixes
        out.append(Commit(sha=r.sha, date=r.date, author=r.author, subject=r.subject, kinds=c.kinds,
                          refs=c.refs, reverts=c.reverts, body=r.body, files=tuple(r.files), evidence=c.evidence,
                          mentions=c.mentions))
    out = _mark_advisory_branches(repo_path, raws, out)
    return _mark_reapplies(bring_in(raws, out, fixes)), complete, gaps


_MAX_BROUGHT_IN = 50  # an advisory branch is a handful of commits; a merge bringing in more is not one


def _mark_advisory_branches(repo: str | Path, raws: Sequence[LogRecord], commits: list[Commit]) -> list[Commit]:
    """The commits a two-parent security-advisory merge brings in (`P1..P2`: the fix, its tests, changelog
    and credits) are part of the security fix. One `git rev-list` per advisory merge (they are rare)."""
    pos = {c.sha: i for i, c in enumerate(commits)}
    for r, c in zip(raws, commits, strict=True):
        if len(r.parents) < 2 or "security" not in c.kinds or not is_advisory(c.subject, dict(c.evidence)["security"]):
            continue
        try:
            out = git.run(repo, "rev-list", f"--max-count={_MAX_BROUGHT_IN + 1}", *r.parents[1:], "--not", r.parents[0],
                          "--", timeout=60)
        except git.GitError:
            continue
        brought = out.decode("ascii", "replace").split()
        if len(brought) > _MAX_BROUGHT_IN:
            continue
        said = f"brought in by advisory merge {c.sha[:10]}: {c.subject}"
        for sha in brought:
            i = pos.get(sha)
            if i is None or "security" in commits[i].kinds:
                continue
            old = commits[i]
            kinds = tuple(k for k in KINDS if k in {*old.kinds, "security"})
            evidence = dict(old.evidence)
            evidence["security"] = said
            commits[i] = dataclasses.replace(old, kinds=kinds, evidence=tuple((k, evidence.get(k, "")) for k in kinds))
    return commits


def _mark_reapplies(commits: list[Commit]) -> list[Commit]:
    """A revert whose target is a revert re-applies the original change: say so in its kinds."""
    kinds_of = {c.sha: c.kinds for c in commits}
    out = []
    for c in commits:
        target = kinds_of.get(c.reverts, ())
        if c.reverts and "revert" in target and "reapply" not in c.kinds:
            have = (set(c.kinds) | {"reapply"}) - {"workaround_removed"}
            said = dict(c.evidence)
            said["reapply"] = f"undoes {c.reverts[:10]}, itself a revert"
            kinds = tuple(k for k in KINDS if k in have)
            c = dataclasses.replace(c, kinds=kinds, evidence=tuple((k, said.get(k, "")) for k in kinds))
        out.append(c)
    return out


def reverted_now(commits: Sequence[Commit]) -> dict[str, str]:
    """Original sha -> the revert that currently undoes it (a later re-apply cancels the revert).

    Follows chains: A reverted by B, B reverted by C (A is back), C reverted by D (A undone again)."""
    reverted_by: dict[str, str] = {}
    for c in commits:
        if c.reverts and "revert" in c.kinds:
            reverted_by.setdefault(c.reverts, c.sha)  # newest first: keep the latest revert
    out: dict[str, str] = {}
    for original, rev in reverted_by.items():
        if original in reverted_by.values():
            continue  # `original` is itself a revert: its own chain is judged from the start of the chain
        state, last, seen = True, rev, {original}
        while last in reverted_by and last not in seen:
            seen.add(last)
            last = reverted_by[last]
            state = not state
        if state:
            out[original] = last
    return out
