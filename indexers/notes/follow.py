"""Following renamed files through git, from the commit a note was anchored at to the working tree.

The renames of every commit since the anchor's commit (git's rename detection, commit by commit, so that
a file renamed and then rewritten little by little is still followed), then those between HEAD and the
working tree (a `git mv` not yet committed). Through `indexers.git`, so hardened and never fetching; a
commit the clone does not have (a note written on a branch that was rebased away) follows nothing, and
the caller falls back to looking for the code by content. Cached per repository, commit and HEAD.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from indexers import git

log = logging.getLogger(__name__)

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[str, str, str, int], dict[str, str]] = OrderedDict()
_lock = threading.Lock()


def _parse_renames(out: bytes) -> list[tuple[str, str]]:
    """(old, new) pairs of `--name-status -z` output (any commit headers between them are skipped)."""
    pairs: list[tuple[str, str]] = []
    fields = [f.strip(b"\n") for f in out.split(b"\0")]
    i = 0
    while i < len(fields):
        f = fields[i]
        if f[:1] in (b"R", b"C") and f[1:].isdigit() and i + 2 < len(fields):
            if f[:1] == b"R":
                pairs.append((fields[i + 1].decode("utf-8", "surrogateescape"), fields[i + 2].decode("utf-8", "surrogateescape")))
            i += 3
            continue
        i += 1
    return pairs


def index_stamp(root: Path) -> int:
    """When the repository's index last changed (a `git mv`, an `add`): part of every cache key here."""
    try:
        return os.stat(root / ".git" / "index").st_mtime_ns
    except OSError:
        return 0


def renames(root: Path | str, commit: str, rev: str = "HEAD", worktree: bool = True) -> dict[str, str]:
    """{path at `commit`: path now} for files git sees renamed since `commit` (up to `rev`, then the
    working tree when `worktree`). Empty when the commit is unknown or git fails."""
    if not commit:
        return {}
    root = Path(root)
    head = git.head(root) if rev == "HEAD" else rev
    key = (str(root), commit, head or "", index_stamp(root) if worktree else 0)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    found = _walk(root, commit, head, worktree)
    with _lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def _walk(root: Path, commit: str, head: str | None, worktree: bool) -> dict[str, str]:
    steps: list[tuple[str, str]] = []
    try:
        if head and head != commit:
            out = git.run(root, "log", "-M", "--name-status", "--diff-filter=R", "-z", "--format=%x01%H", "--reverse",
                          f"{commit}..{head}", "--", timeout=120)
            steps += _parse_renames(out)
    except git.GitError as exc:
        log.info("renames since %s not followed in %s: %s", commit[:12], root, exc)
        return {}
    if worktree and head:
        try:
            steps += _parse_renames(git.run(root, "diff", "-M", "--name-status", "-z", head, "--", timeout=60))
        except git.GitError as exc:  # a bare repository, a damaged index: the committed renames still hold
            log.info("uncommitted renames not followed in %s: %s", root, exc)
    # chain them: a -> b then b -> c is a -> c; a path renamed away and another renamed onto it stay apart
    now: dict[str, str] = {}
    for old, new in steps:
        sources = [k for k, v in now.items() if v == old]
        for k in sources:
            now[k] = new
        if not sources:
            now.setdefault(old, new)
    return {k: v for k, v in now.items() if k != v}


def files_with(root: Path | str, needles: list[str], rev: str | None = None, limit: int = 20) -> list[str]:
    """Tracked files (at `rev`, else in the working tree) holding any of `needles` as a fixed string: where
    the code of a note whose file is gone may have gone. At most `limit`; empty when git fails."""
    needles = [n for n in needles if n and "\n" not in n and "\0" not in n]
    if not needles:
        return []
    args = ["grep", "-F", "-l", "-z", "-I", "--no-color", "--full-name"]
    for n in needles:
        args += ["-e", n]
    if rev:
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", rev):
            return []  # a commit sha only: nothing that could read as an option
        args.append(rev)
    try:
        out = git.run(root, *args, "--", check=False, timeout=60)
    except git.GitError as exc:
        log.info("grep for moved code failed in %s: %s", root, exc)
        return []
    paths = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]
    if rev:
        paths = [p.split(":", 1)[1] if p.startswith(rev + ":") else p for p in paths]
    return paths[:limit]
