"""Salvage the readable history of a damaged or partial clone after the one streaming `git log` failed.

A clone may lack objects: a partial clone (`--filter=tree:0`, `--filter=blob:none`) on purpose, a damaged
one by accident. Lore never fetches them (see `indexers.git`), so one missing object makes the streaming
`git log` stop. Instead of losing the whole history, this module

1. walks the commit graph itself from HEAD through one `git cat-file --batch`, reading each commit object
   and following its parents; a missing commit object ends that line of history and is counted;
2. checks which root trees are present (one `git cat-file --batch-check`);
3. asks `git log --no-walk --stdin` for the file lists of the commits whose trees are there, starting again
   after the commit where git stops (a missing subtree), a bounded number of times.

Every readable commit is kept, with its file list when its trees could be read; what was skipped is
counted in `Salvage` for the caller to report. Costs one git process per step plus one per failure, so it
is meant for the rare clone the streaming log cannot read.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from indexers import git
from indexers.history.log import log

MAX_RESTARTS = 50  # file-list runs restarted after a commit git could not diff; the rest go without files


@dataclass
class WalkedCommit:
    sha: str
    tree: str
    parents: list[str]
    author: str
    date: str  # ISO 8601 author date
    when: int  # committer epoch, for the newest-first order
    subject: str
    body: str


@dataclass
class Salvage:
    commits: list[WalkedCommit] = field(default_factory=list)  # newest first
    files: dict[str, list[str]] = field(default_factory=dict)  # sha -> file list, for the commits git could diff
    unreadable: list[str] = field(default_factory=list)  # commits named by the history whose objects are missing
    no_files: list[str] = field(default_factory=list)  # readable non-merge commits whose file list is unknown


def _iso(epoch: str, tz: str) -> str:
    try:
        sign = -1 if tz.startswith("-") else 1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
        return datetime.fromtimestamp(int(epoch), timezone(offset)).isoformat()
    except (ValueError, IndexError, OverflowError):
        return ""


def parse_commit(sha: str, raw: bytes) -> WalkedCommit:
    """A commit object's headers and message, as `git log` would show %an, %aI, %s and %b."""
    head, _, message = raw.partition(b"\n\n")
    tree, parents, author, date, when, encoding = "", [], "", "", 0, "utf-8"
    for line in head.split(b"\n"):
        if line.startswith(b" "):
            continue  # continuation of a multi-line header (gpgsig, mergetag)
        key, _, value = line.partition(b" ")
        text = value.decode("utf-8", "replace")
        if key == b"tree":
            tree = text.strip()
        elif key == b"parent":
            parents.append(text.strip())
        elif key in (b"author", b"committer"):
            name, _, rest = text.rpartition("> ")
            epoch, _, tz = rest.partition(" ")
            if key == b"author":
                author, date = name.partition(" <")[0].strip(), _iso(epoch, tz)
            else:
                when = int(epoch) if epoch.isdigit() else 0
        elif key == b"encoding":
            encoding = text.strip() or "utf-8"
    try:
        msg = message.decode(encoding, "replace")
    except LookupError:
        msg = message.decode("utf-8", "replace")
    title, _, body = msg.strip("\n").partition("\n\n")
    return WalkedCommit(sha, tree, parents, author, date, when, " ".join(title.split("\n")).strip(), body.strip("\n"))


def walk(repo: str | Path, head: str, shallow: set[str]) -> tuple[list[WalkedCommit], list[str]]:
    """Every commit reachable from `head` whose object can be read (newest first by committer date), and the
    commits the history names but the object store lacks."""
    seen: set[str] = set()
    found: list[WalkedCommit] = []
    missing: list[str] = []
    stack = [head]
    with git.BlobReader(repo) as reader:
        while stack:
            sha = stack.pop()
            if sha in seen:
                continue
            seen.add(sha)
            raw = reader.read(sha)
            if raw is None:
                missing.append(sha)
                continue
            c = parse_commit(sha, raw)
            if sha in shallow:
                c.parents = []  # a shallow clone's cut: git shows it as a root
            found.append(c)
            stack.extend(p for p in reversed(c.parents) if p not in seen)
    found.sort(key=lambda c: c.when, reverse=True)
    return found, missing


def salvage(repo: str | Path, head: str) -> Salvage:
    """What can be read of the history reachable from `head`."""
    commits, missing = walk(repo, head, git.shallow_commits(repo))
    out = Salvage(commits=commits, unreadable=missing)
    by_sha = {c.sha: c for c in commits}
    absent_trees = git.missing_objects(repo, (c.tree for c in commits))

    def diffable(c: WalkedCommit) -> bool:
        if c.tree in absent_trees:
            return False
        if len(c.parents) > 1:
            return True  # merges show no file list: nothing to read but the commit
        return not c.parents or (c.parents[0] in by_sha and by_sha[c.parents[0]].tree not in absent_trees)

    pending = [c.sha for c in commits if diffable(c)]
    out.no_files = [c.sha for c in commits if not diffable(c) and len(c.parents) <= 1]
    restarts = 0
    while pending:
        with tempfile.TemporaryFile() as feed:
            feed.write("\n".join(pending).encode() + b"\n")
            feed.seek(0)
            records, failed = log(repo, "--no-walk=unsorted", "--stdin", "--", stdin=feed)
        for r in records:
            out.files[r.sha] = r.files
        if failed is None:
            break
        done = {r.sha for r in records}
        at = next((i for i, sha in enumerate(pending) if sha not in done), len(pending))
        if at == len(pending):
            break
        out.no_files.append(pending[at])  # git stopped at this commit: a subtree it needs is missing
        pending = pending[at + 1:]
        restarts += 1
        if restarts >= MAX_RESTARTS:
            out.no_files.extend(pending)
            break
    return out
