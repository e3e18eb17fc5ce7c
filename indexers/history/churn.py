"""Churn: regions of a file that more than one fix-classified commit changed (fix on fix is a smell).

Computed lazily for one file at query time. The hunks of each fix commit (`git log -p -U0` restricted to
those commits and the file) are carried forward to HEAD through `git diff -U0 <fix> HEAD`: a line the
fix wrote counts only while it still stands unchanged at HEAD, so regions are exact, not approximations
from line numbers in old versions. Cached by the file's blob and the set of fix commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexers import git
from indexers.history.blame import blob_sha
from indexers.history.kinds import FIX_KINDS
from indexers.model import Commit

CACHE_VERSION = 2
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ChurnRegion:
    first: int  # 0-based, inclusive, at HEAD
    last: int
    shas: tuple[str, ...]  # the fix commits that wrote lines of the region, newest first


def _hunks(diff: bytes) -> list[tuple[int, int, int, int]]:
    return [(int(a), int(b) if b is not None else 1, int(c), int(d) if d is not None else 1)
            for a, b, c, d in ((m.group(1), m.group(2), m.group(3), m.group(4)) for m in _HUNK.finditer(diff))]


def _written_lines(patch: bytes) -> list[int]:
    """1-based lines of the post-image that a patch added or changed (pure deletions write nothing)."""
    out: list[int] = []
    for _a, _b, c, d in _hunks(patch):
        out.extend(range(c, c + d))
    return out


def _carry(lines: Iterable[int], diff_to_head: bytes) -> set[int]:
    """Map 1-based lines of an old version to HEAD through a -U0 diff. A line that was changed since
    lands on the lines that replaced it (the region is still the one the fix touched); a deleted line
    lands nowhere."""
    hunks = _hunks(diff_to_head)
    out: set[int] = set()
    for line in lines:
        shift = 0
        replaced: range | None = None
        for a, b, c, d in hunks:
            if b == 0:
                if line > a:
                    shift += d
            elif a <= line < a + b:
                replaced = range(c, c + d)
                break
            elif line >= a + b:
                shift += d - b
        if replaced is not None:
            out.update(replaced)
        else:
            out.add(line + shift)
    return out


def fix_regions(repo: str | Path, path: str, commits: Sequence[Commit],
                cache: MutableMapping[str, Any] | None = None, *, limit: int = 20, min_fixes: int = 2,
                rev: str = "HEAD", blob: str | None = None) -> list[ChurnRegion]:
    """Regions of `path` at `rev` that at least `min_fixes` distinct fix commits changed."""
    fixes = [c.sha for c in commits if path in c.files and FIX_KINDS.intersection(c.kinds)][:limit]
    if len(fixes) < min_fixes:
        return []
    blob = blob or blob_sha(repo, path, rev)
    if blob is None:
        return []
    key = f"churn:{CACHE_VERSION}:{blob}:{path}:{','.join(sorted(fixes))}"
    owners: dict[int, list[str]] | None = cache.get(key) if cache is not None else None
    if not (isinstance(owners, dict) and all(isinstance(v, list) for v in owners.values())):  # missing or damaged
        owners = _owners(repo, path, fixes, rev)
        if owners is None:
            return []
        if cache is not None:
            cache[key] = owners
    return _regions(owners, fixes, min_fixes)


def _owners(repo: str | Path, path: str, fixes: list[str], rev: str) -> dict[int, list[str]] | None:
    """0-based line at `rev` -> the fix commits whose changed lines map onto it."""
    try:
        log = git.run(repo, "log", "--no-walk=unsorted", "-p", "-U0", "--no-textconv", "--no-ext-diff",
                      "--no-color", "--format=%x1e%H", *fixes, "--", path, timeout=120, background=True)
    except git.GitError:
        return None
    owners: dict[int, list[str]] = {}
    for record in log.split(b"\x1e")[1:]:
        sha = record.split(b"\n", 1)[0].strip().decode("ascii", "replace")
        written = _written_lines(record)
        if not written:
            continue
        try:
            diff = git.run(repo, "diff", "-U0", "--no-textconv", "--no-ext-diff", "--no-color", sha, rev, "--", path,
                           timeout=60, background=True)
        except git.GitError:
            continue
        for line in _carry(written, diff):
            owners.setdefault(line - 1, []).append(sha)
    return owners


def _regions(owners: dict[int, list[str]], fixes: list[str], min_fixes: int) -> list[ChurnRegion]:
    order = {sha: i for i, sha in enumerate(fixes)}  # newest first, as mined

    def rank(sha: str) -> int:
        return order.get(sha, len(order))

    regions: list[ChurnRegion] = []
    for line in sorted(owners):
        shas = tuple(sorted(set(owners[line]), key=rank))
        if len(shas) < min_fixes:
            continue
        if regions and regions[-1].last == line - 1:
            prev = regions[-1]
            regions[-1] = ChurnRegion(prev.first, line, tuple(sorted({*prev.shas, *shas}, key=rank)))
        else:
            regions.append(ChurnRegion(line, line, shas))
    return regions
