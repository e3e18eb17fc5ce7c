"""Line attribution: which commit last changed each line of a committed file (`git blame --porcelain`).

Blame is the slowest git operation Lore runs, so results are cached by the file's blob sha (the same
content at HEAD has the same blame) in any mapping the caller passes: the indexer passes a diskcache,
tests a dict. Files that are not committed (new, untracked, outside a repository) have no blame: the
result is empty, never an error. Lines of the working copy that differ from HEAD are the caller's
concern; blame describes the committed file.

Blame needs every past version of the file. A partial (blob-less) or damaged clone may lack some, and Lore
never fetches them: `BlameUnavailable` then says why, for the caller to fall back to file-level notes
instead of claiming the lines have no history. Failures are not cached (a later fetch makes blame work).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from indexers import git

CACHE_VERSION = 1
_MISSING = re.compile(r"could not fetch|unable to read|missing (?:blob|tree|object)|bad object|lazy fetch|"
                      r"promisor|not a valid object", re.IGNORECASE)


class BlameUnavailable(git.GitError):
    """`git blame` failed on a committed file; `missing` when objects the clone lacks are the reason."""

    def __init__(self, reason: str, missing: bool):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


@dataclass(frozen=True, slots=True)
class BlameLine:
    line: int  # 0-based line in the file at `rev`
    sha: str
    orig_line: int  # 0-based line in the commit that introduced it
    author: str
    date: str  # ISO 8601 author date
    summary: str
    boundary: bool = False  # attributed to a shallow clone's cut-off (or root) commit: not its real author


def blob_sha(repo: str | Path, path: str, rev: str = "HEAD") -> str | None:
    """The blob sha of `path` at `rev`, or None when it is not committed there."""
    if not path or "\n" in path:
        return None
    try:
        out = git.run(repo, "rev-parse", "--verify", "-q", f"{rev}:{path}", timeout=30)
    except git.GitError:
        return None
    sha = out.decode().strip()
    return sha or None


def _iso(epoch: str, tz: str) -> str:
    try:
        sign = -1 if tz.startswith("-") else 1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
        return datetime.fromtimestamp(int(epoch), timezone(offset)).isoformat()
    except (ValueError, IndexError, OverflowError):
        return ""


def parse_porcelain(data: bytes) -> list[BlameLine]:
    """Parse `git blame --porcelain` output into one entry per final line."""
    info: dict[str, dict[str, str]] = {}
    out: list[BlameLine] = []
    current: dict[str, str] | None = None
    sha = ""
    orig = final = 0
    for raw in data.split(b"\n"):
        if raw.startswith(b"\t"):
            if current is not None:
                author = current.setdefault("_author", current.get("author", ""))
                date = current.setdefault("_date", _iso(current.get("author-time", ""), current.get("author-tz", "")))
                out.append(BlameLine(final - 1, sha, orig - 1, author, date, current.get("summary", ""),
                                     "boundary" in current))
            continue
        text = raw.decode("utf-8", "replace")
        head = text.split(" ")
        if len(head) >= 3 and len(head[0]) in (40, 64) and head[1].isdigit() and head[2].isdigit():
            sha, orig, final = head[0], int(head[1]), int(head[2])
            current = info.setdefault(sha, {})
            continue
        if current is not None and text:
            key, _, value = text.partition(" ")
            if key in ("author", "author-time", "author-tz", "summary", "boundary"):
                current.setdefault(key, value)
    return out


def _to_cache(lines: list[BlameLine]) -> list[tuple[Any, ...]]:
    return [(b.line, b.sha, b.orig_line, b.author, b.date, b.summary, b.boundary) for b in lines]


def blame(repo: str | Path, path: str, cache: MutableMapping[str, Any] | None = None, *, rev: str = "HEAD",
          blob: str | None = None) -> list[BlameLine]:
    """Per-line attribution of `path` at `rev` (empty when the file is not committed there). Raises
    `BlameUnavailable` when git cannot blame a committed file (missing objects, a timeout)."""
    blob = blob or blob_sha(repo, path, rev)
    if blob is None:
        return []
    key = f"blame:{CACHE_VERSION}:{blob}:{path}"
    if cache is not None:
        try:
            hit = cache.get(key)
        except Exception:  # noqa: BLE001 - a broken cache must not break a hover
            hit = None
        if hit is not None:
            try:
                return [BlameLine(*row) for row in hit]
            except TypeError:  # a damaged record: blame again
                pass
    try:
        data = git.run(repo, "blame", "--porcelain", "--no-textconv", "-M", "--root", rev, "--", path, timeout=120,
                       background=True)
    except git.GitError as exc:
        reason = str(exc)
        raise BlameUnavailable(reason, bool(_MISSING.search(reason)) or git.is_partial(repo)) from exc
    lines = parse_porcelain(data)
    cut = git.shallow_commits(repo)
    if cut:
        lines = [BlameLine(b.line, b.sha, b.orig_line, b.author, b.date, b.summary, True) if b.sha in cut else b
                 for b in lines]
    if cache is not None:
        try:
            cache[key] = _to_cache(lines)
        except Exception:  # noqa: BLE001 - cache full/readonly: still answer
            pass
    return lines


def lines_in(blame_lines: list[BlameLine], first: int, last: int) -> list[BlameLine]:
    """The entries for 0-based lines first..last inclusive."""
    return [b for b in blame_lines if first <= b.line <= last]
