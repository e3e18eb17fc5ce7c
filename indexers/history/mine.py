"""Mine a repository's history into `Commit` facts with one streaming `git log`, incrementally.

Revert and `Fixes:` trailers are resolved against the history itself: a revert counts only when the
commit it names is reachable from HEAD (squash-merge bodies quote shas that never reached the main
line). A revert whose target is itself a revert is a re-apply: the original change is back.

Incremental: with `since` (the HEAD of the previous run) only `since..HEAD` is read; when `since` is no
longer an ancestor of HEAD (force-push, branch switch) everything is mined again.
"""

from __future__ import annotations

import bisect
import dataclasses
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from indexers import git
from indexers.history.classify import KINDS, classify
from indexers.model import Commit

# Header fields per commit; the record starts with \x1e so a commit boundary is unmistakable.
_FORMAT = "%x1e%H%x00%P%x00%aI%x00%an%x00%s%x00%b%x00"
_HEADER_FIELDS = 6
_MAX_FILES = 5000  # per commit: a vendoring commit's file list is not worth keeping


def _tokens(stream: Iterator[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in stream:
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _chunks(proc_stdout: object, size: int = 1 << 20) -> Iterator[bytes]:
    read = proc_stdout.read  # type: ignore[attr-defined]
    while True:
        chunk = read(size)
        if not chunk:
            return
        yield chunk


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _Raw:
    __slots__ = ("sha", "parents", "date", "author", "subject", "body", "files")

    def __init__(self, header: list[bytes]):
        self.sha = _text(header[0][1:])
        self.parents = _text(header[1]).split()
        self.date = _text(header[2])
        self.author = sys.intern(_text(header[3]))  # interned: a repo's authors repeat thousands of times
        self.subject = _text(header[4])
        self.body = _text(header[5]).strip("\n")
        self.files: list[str] = []


def _parse(tokens: Iterator[bytes]) -> Iterator[_Raw]:
    """Records: header fields, an empty terminator, then status/path tokens (two paths for R/C)."""
    current: _Raw | None = None
    header: list[bytes] = []
    pending_paths = 0
    for tok in tokens:
        if pending_paths:
            if current is not None and len(current.files) < _MAX_FILES:
                current.files.append(sys.intern(_path(tok)))  # shared with other commits and the manifest
            pending_paths -= 1
            continue
        if tok.startswith(b"\x1e") and not header:
            if current is not None:
                yield current
                current = None
            header = [tok]
            continue
        if header:
            if len(header) < _HEADER_FIELDS:
                header.append(tok)
                continue
            current = _Raw(header)  # this token is the empty terminator after the body
            header = []
            continue
        status = tok.lstrip(b"\n")
        if not status:
            continue
        pending_paths = 2 if status[:1] in (b"R", b"C") else 1
    if header and len(header) >= _HEADER_FIELDS:
        current = _Raw(header)
    if current is not None:
        yield current


def _is_ancestor(repo: str | Path, sha: str, head: str) -> bool:
    try:
        git.run(repo, "merge-base", "--is-ancestor", sha, head, timeout=60)
        return True
    except git.GitError:
        return False


def _log(repo: str | Path, rev_range: str) -> list[_Raw]:
    proc = git.popen(repo, "log", "-z", "--encoding=UTF-8", "--no-textconv", "--no-ext-diff", "--no-color",
                     "-M", "--name-status", f"--format={_FORMAT}", rev_range, "--")
    try:
        assert proc.stdout is not None
        raws = list(_parse(_tokens(_chunks(proc.stdout))))
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        code = proc.wait()
    if code != 0:
        raise git.GitError(f"{repo}: git log {rev_range} failed ({code})")
    return raws


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


def mine(repo_path: str | Path, since: str | None = None) -> list[Commit]:
    """Commits reachable from HEAD (newest first), or only those after `since` when it is an ancestor."""
    return mine_update(repo_path, since)[0]


def mine_update(repo_path: str | Path, since: str | None = None) -> tuple[list[Commit], bool]:
    """(commits, complete): `complete` is True when the list is the whole history (first run, or `since`
    is no longer an ancestor of HEAD after a force-push) and replaces what the caller kept; False when it
    only holds the commits after `since`, to put in front of the caller's list."""
    head = git.head(repo_path)
    if head is None:
        return [], True
    if since and since == head:
        return [], False
    incremental = bool(since) and _is_ancestor(repo_path, str(since), head)
    raws = _log(repo_path, f"{since}..{head}" if incremental else head)
    index = _Index(repo_path, head, [r.sha for r in raws], complete=not incremental)
    by_subject: dict[str, list[int]] = {}
    for pos, r in enumerate(raws):
        by_subject.setdefault(r.subject, []).append(pos)
    out: list[Commit] = []
    for pos, r in enumerate(raws):

        def earlier_with_subject(subject: str, pos: int = pos) -> str | None:
            later = [p for p in by_subject.get(subject, ()) if p > pos]  # log order: newest first
            if later:
                return raws[later[0]].sha
            return index.by_subject(subject, f"{since}") if incremental else None

        c = classify(r.subject, r.body, r.files, merge=len(r.parents) > 1, resolve=index,
                     find_subject=earlier_with_subject)
        out.append(Commit(sha=r.sha, date=r.date, author=r.author, subject=r.subject, kinds=c.kinds,
                          refs=c.refs, reverts=c.reverts, body=r.body, files=tuple(r.files)))
    return _mark_reapplies(out), not incremental


def _mark_reapplies(commits: list[Commit]) -> list[Commit]:
    """A revert whose target is a revert re-applies the original change: say so in its kinds."""
    kinds_of = {c.sha: c.kinds for c in commits}
    out = []
    for c in commits:
        target = kinds_of.get(c.reverts, ())
        if c.reverts and "revert" in target and "reapply" not in c.kinds:
            have = (set(c.kinds) | {"reapply"}) - {"workaround_removed"}
            c = dataclasses.replace(c, kinds=tuple(k for k in KINDS if k in have))
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
