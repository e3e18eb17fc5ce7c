"""Change coupling: files that change together in one repository, and services that change together
across repositories.

File pairs come straight from mined commits (support = commits touching both, confidence = support /
commits touching the file asked about). Commits touching many files (mass renames, formatting, vendoring)
say nothing about coupling and are skipped, as are merges (they carry no file list).

Services across repositories are paired by evidence that one change spanned them: the same commit
touching both (monorepos), commits in different repositories naming the same issue (a Jira key, a URL,
`owner/repo#N`; a bare `#123` is local to its repository, so it never pairs across repositories), or the
same author committing to both within a short window.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from indexers.model import Commit

MAX_FILES = 50


@dataclass(frozen=True, slots=True)
class FilePair:
    path: str
    other: str
    support: int  # commits touching both
    total: int  # commits touching `path`
    confidence: float


class FileCoupling:
    """Co-change counts for one repository's commits."""

    def __init__(self, commits: Sequence[Commit], max_files: int = MAX_FILES):
        self.touches: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.commits = 0
        for c in commits:
            files = sorted(set(c.files))
            if not files or len(files) > max_files:
                continue
            self.commits += 1
            self.touches.update(files)
            self.pairs.update(itertools.combinations(files, 2))
        self._partners: dict[str, list[tuple[str, int]]] = {}
        for (a, b), n in self.pairs.items():
            self._partners.setdefault(a, []).append((b, n))
            self._partners.setdefault(b, []).append((a, n))

    def with_file(self, path: str, *, min_support: int = 2, min_confidence: float = 0.3, limit: int = 5,
                  exists: Callable[[str], bool] | None = None) -> list[FilePair]:
        """The files that most often change with `path`, strongest first."""
        total = self.touches.get(path, 0)
        if not total:
            return []
        out = [FilePair(path, other, n, total, n / total) for other, n in self._partners.get(path, ())
               if n >= min_support and n / total >= min_confidence and (exists is None or exists(other))]
        out.sort(key=lambda p: (-p.support, -p.confidence, p.other))
        return out[:limit]


def coupled_files(path: str, touching: Iterable[Commit], *, max_files: int = MAX_FILES, min_support: int = 2,
                  min_confidence: float = 0.3) -> list[FilePair]:
    """`FileCoupling(every commit).with_file(path)` without a limit nor an existence filter, computed from
    the commits that touched `path` alone (the per-path table of the history index gives them): no table
    of every pair of files of the repository, which costs hundreds of MB on a long history."""
    total = 0
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for c in touching:
        files = set(c.files)
        if c.sha in seen or path not in files or len(files) > max_files:
            continue
        seen.add(c.sha)
        total += 1
        files.discard(path)
        counts.update(files)
    out = [FilePair(path, other, n, total, n / total) for other, n in counts.items()
           if n >= min_support and n / total >= min_confidence]
    out.sort(key=lambda p: (-p.support, -p.confidence, p.other))
    return out


@dataclass(frozen=True, slots=True)
class ServicePair:
    a: str
    b: str
    support: int
    evidence: tuple[tuple[str, str, str], ...]  # (how, sha, sha), a few examples


def _when(c: Commit) -> datetime | None:
    try:
        return datetime.fromisoformat(c.date)
    except ValueError:
        return None


def _shared_refs(c: Commit) -> set[str]:
    """References that name the same thing whichever repository mentions them."""
    return {r for r in c.refs if not r.startswith("#")}


def service_pairs(commits_by_repo: Mapping[str, Sequence[Commit]], service_of: Callable[[str, str], str | None], *,
                  window: timedelta = timedelta(hours=2), max_files: int = MAX_FILES,
                  min_support: int = 2) -> list[ServicePair]:
    """Pairs of services that change together, strongest first."""
    touched: list[tuple[str, Commit, frozenset[str]]] = []
    for repo, commits in commits_by_repo.items():
        for c in commits:
            if not c.files or len(c.files) > max_files:
                continue
            services = frozenset(s for s in (service_of(repo, f) for f in c.files) if s)
            if services:
                touched.append((repo, c, services))
    support: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[tuple[str, str, str]]] = {}

    def add(how: str, x: tuple[str, Commit, frozenset[str]], y: tuple[str, Commit, frozenset[str]]) -> None:
        for sa in x[2]:
            for sb in y[2]:
                if sa == sb:
                    continue
                key = (sa, sb) if sa < sb else (sb, sa)
                support[key] += 1
                ex = examples.setdefault(key, [])
                if len(ex) < 3:
                    ex.append((how, x[1].sha, y[1].sha))

    seen: set[tuple[str, ...]] = set()
    for item in touched:
        for sa, sb in itertools.combinations(sorted(item[2]), 2):
            key = (sa, sb)
            support[key] += 1
            ex = examples.setdefault(key, [])
            if len(ex) < 3:
                ex.append(("same commit", item[1].sha, item[1].sha))
    by_ref: dict[str, list[tuple[str, Commit, frozenset[str]]]] = {}
    for item in touched:
        for ref in _shared_refs(item[1]):
            by_ref.setdefault(ref, []).append(item)
    for ref, items in by_ref.items():
        for x, y in itertools.combinations(items[:20], 2):
            pair = tuple(sorted((x[1].sha, y[1].sha)))
            if x[0] != y[0] and pair not in seen:
                seen.add(pair)
                add(f"both name {ref}", x, y)
    by_author: dict[str, list[tuple[datetime, tuple[str, Commit, frozenset[str]]]]] = {}
    for item in touched:
        when = _when(item[1])
        if when is not None and item[1].author:
            by_author.setdefault(item[1].author, []).append((when, item))
    for timeline in by_author.values():
        timeline.sort(key=lambda p: p[0])
        for i, (t0, x) in enumerate(timeline):
            for t1, y in timeline[i + 1:]:
                if t1 - t0 > window:
                    break
                pair = tuple(sorted((x[1].sha, y[1].sha)))
                if x[0] != y[0] and pair not in seen:
                    seen.add(pair)
                    add(f"same author within {int((t1 - t0).total_seconds() // 60)} min", x, y)
    out = [ServicePair(a, b, n, tuple(examples.get((a, b), ()))) for (a, b), n in support.items() if n >= min_support]
    out.sort(key=lambda p: (-p.support, p.a, p.b))
    return out
