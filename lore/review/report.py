"""The context of a change as one report: every hunk of every repo's diff with the sections of
`lore.review.sections`, ranked (what breaks others first, then edited workarounds, deprecated calls,
owners, contracts, notes, markers, decisions), deduplicated (a fact is shown once, at its most important
hunk) and, with `fit`, cut to a size budget by dropping the least important notes first, saying what was cut.

`build_report` is the one entry point for `lore context --diff`, `lore review` and the MCP `lore_diff` tool;
the views render it (`text.py`, `markdown.py`, JSON through `to_plain`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from indexers import git
from indexers.diff import Hunk, resolve
from indexers.model import Note, Section
from indexers.snapshot import Snapshot
from indexers.workspace import RepoSpec, Workspace
from lore.check.baseline import BaselineError, resolve_base
from lore.check.compare import check_repo
from lore.check.findings import Finding
from lore.check.suppress import ConfigError, parse_config
from lore.query.changes import diff_context
from lore.query.context import lower_bound
from lore.review.sections import REVIEW_SECTIONS, TITLES

log = logging.getLogger(__name__)

# Most important first; a hunk ranks by its most important section. "summary" is the owners list on top.
PRIORITY = ("breaking", "urgent", "history", "deprecated", "summary", "owners", "contract", "notes", "markers", "decisions")


class ReviewError(ValueError):
    """A base that cannot be used (unknown ref, a range whose head is not checked out)."""


@dataclass(frozen=True)
class HunkReport:
    repo: str
    path: str  # in the working tree ('' when the file was deleted)
    old_path: str  # at the base ('' when the file is new)
    hunk: Hunk
    sections: tuple[Section, ...]

    @property
    def line(self) -> int:
        """The first working-tree line (1-based) the hunk writes, or the line after which it deletes."""
        return self.hunk.new_start if self.hunk.new_count else max(self.hunk.new_start, 1)

    @property
    def what(self) -> str:
        h = self.hunk
        if h.old_count and h.new_count:
            return f"rewrites {_n(h.old_count, 'line')} as {_n(h.new_count, 'line')}" if h.old_count != h.new_count else f"rewrites {_n(h.old_count, 'line')}"
        if h.new_count:
            return f"adds {_n(h.new_count, 'line')}"
        return f"deletes {_n(h.old_count, 'line')} ({h.old_start}" + (f"-{h.old_start + h.old_count - 1}" if h.old_count > 1 else "") + " at the base)"

    @property
    def where(self) -> str:
        name = self.path or self.old_path
        h = self.hunk
        if h.new_count > 1:
            return f"{self.repo}/{name}:{h.new_start}-{h.new_start + h.new_count - 1}"
        return f"{self.repo}/{name}:{self.line}"


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'s' if k != 1 else ''}"


@dataclass(frozen=True)
class Cut:
    max_chars: int
    notes: int  # notes left out
    hunks: int  # hunks left out entirely
    by_section: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeReport:
    base: str  # as asked
    repos: tuple[tuple[str, str], ...]  # (repo, base commit) per repo compared
    hunks: tuple[HunkReport, ...]  # ranked; only hunks with something to say
    total: int  # hunks in the diff
    files: int  # files changed
    owners: tuple[Note, ...] = ()  # whom to notify, one note per owner
    folded: int = 0  # facts repeated by later hunks, shown once
    lower_bound: str = ""  # provider/consumer lists may be incomplete: what was not read
    problems: tuple[str, ...] = ()
    cut: Cut | None = None

    @property
    def quiet(self) -> int:
        return self.total - len(self.hunks) - (self.cut.hunks if self.cut else 0)

    @property
    def bound(self) -> str:
        """The lower-bound warning when the report shows lists it applies to (consumers, providers)."""
        shown = any(s.name in ("breaking", "contract") for h in self.hunks for s in h.sections)
        return self.lower_bound if shown else ""

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for h in self.hunks:
            for s in h.sections:
                out[s.name] = out.get(s.name, 0) + len(s.notes)
        return out


# -- building ----------------------------------------------------------------------------------------
def base_of(root: Path, base: str) -> tuple[str, str]:
    """(commit to diff the working tree against, note) for BASE, `BASE...` (the merge base of BASE and
    HEAD: what a pull request changes), `BASE..` / `BASE..HEAD` (the same as BASE), or '' (the merge base
    with the default branch, as `lore check`). Lore reads the working tree: a range whose head is another
    commit is refused (check it out first)."""
    spec = base.strip()
    if not spec:
        try:
            return resolve_base(root, None), "the merge base with the default branch"
        except BaselineError as exc:
            raise ReviewError(str(exc)) from exc
    head = ""
    triple = "..." in spec
    if triple or ".." in spec:
        spec, _, head = spec.partition("..." if triple else "..")
        if head not in ("", "HEAD"):
            raise ReviewError(f"{base!r}: Lore compares the working tree with a base; check out {head} first and pass "
                              f"{spec + ('...' if triple else '')!r}")
        if not spec:
            raise ReviewError(f"{base!r}: no base before the dots")
    try:
        if triple:
            sha = resolve_base(root, spec)
            return sha, (f"the merge base of {spec} and HEAD" if sha != resolve(root, spec) else "")
        return resolve(root, spec), ""
    except (BaselineError, git.GitError) as exc:
        raise ReviewError(str(exc)) from exc


def base_label(base: str) -> str:
    """How a report names its base: 'HEAD', 'the merge base with main', 'the merge base with the default branch'."""
    spec = base.strip()
    if not spec:
        return "the merge base with the default branch"
    if spec.endswith("...") or spec.endswith("...HEAD"):
        return f"the merge base with {spec.split('...', 1)[0]}"
    return spec.split("..", 1)[0]


def build_report(snap: Snapshot, ws: Workspace, scopes: Sequence[tuple[RepoSpec, tuple[str, ...]]], base: str = "HEAD") -> ChangeReport:
    """The ranked, deduplicated context of the working tree's change against `base` in each scope (a repo
    and optional paths in it). ReviewError for a base that names no commit."""
    try:
        ignore = parse_config(ws.check, str(ws.config_path or "lore.toml"))
    except ConfigError as exc:
        ignore = []
        problems: list[str] = [f"lore.toml: {exc}; breaking changes are judged without its ignore list"]
    else:
        problems = []
    repos: list[tuple[str, str]] = []
    hunks: list[HunkReport] = []
    total = files = 0
    for spec, paths in scopes:
        sha, note = base_of(spec.root, base)
        repos.append((spec.name, sha))
        if note:
            problems.append(f"{spec.name}: compared with {note} ({sha[:12]})")
        shared: dict[str, Any] = {"findings": _findings(snap, ws, spec, sha, ignore, problems)}
        try:
            ctx = diff_context(snap, spec.name, spec.root, sha, paths, sections=REVIEW_SECTIONS, shared=shared)
        except git.GitError as exc:
            raise ReviewError(f"{spec.name}: {exc}") from exc
        problems += shared.get("problems", [])
        for f in ctx.files:
            files += 1
            for hc in f.hunks:
                total += 1
                sections = tuple(s for s in hc.sections if s.notes)
                if sections:
                    hunks.append(HunkReport(spec.name, f.path, f.old_path, hc.hunk, sections))
    ranked = sorted(hunks, key=_rank)
    kept, folded = _dedup(ranked)
    listed = any(s.name in ("breaking", "contract", "owners") for h in kept for s in h.sections)
    return ChangeReport(base, tuple(repos), tuple(kept), total, files, _summary(kept), folded,
                        lower_bound(snap) if listed else "", tuple(problems))


def _findings(snap: Snapshot, ws: Workspace, spec: RepoSpec, sha: str, ignore: Any, problems: list[str]) -> Callable[[str], list[Finding]]:
    def run(_repo: str) -> list[Finding]:
        try:
            res = check_repo(snap, spec.name, spec.root, base=sha, ignore=ignore, exclude=ws.exclude, max_file_size=ws.max_file_size)
        except (BaselineError, git.GitError) as exc:
            problems.append(f"{spec.name}: breaking changes not checked: {exc}")
            return []
        judged = res.base.split("@", 1)[-1]
        if judged and judged != sha:
            problems.append(f"{spec.name}: breaking changes are judged against the merge base {judged[:12]} of the base and "
                            "HEAD (as lore check does)")
        problems.extend(f"{spec.name}: {n}" for n in res.notes if "lower bound" not in n)
        return res.findings
    return run


def section_priority(s: Section) -> int:
    if s.name == "notes" and any(n.data.get("urgent") for n in s.notes):
        return PRIORITY.index("urgent")
    return PRIORITY.index(s.name) if s.name in PRIORITY else len(PRIORITY)


def _rank(h: HunkReport) -> tuple[Any, ...]:
    top = min(section_priority(s) for s in h.sections)
    weight = -sum(len(s.notes) for s in h.sections if section_priority(s) == top)
    return (top, weight, h.repo, h.path or h.old_path, h.hunk.new_start)


def _key(n: Note) -> str | None:
    key = n.data.get("key")
    return "\0".join(map(str, key)) if key else None


def _dedup(ranked: list[HunkReport]) -> tuple[list[HunkReport], int]:
    seen: set[str] = set()
    out: list[HunkReport] = []
    folded = 0
    for h in ranked:
        sections = []
        for s in h.sections:
            notes = []
            for n in s.notes:
                k = _key(n)
                if k is not None and k in seen:
                    folded += 1
                    continue
                if k is not None:
                    seen.add(k)
                notes.append(n)
            if notes:
                sections.append(Section(s.name, s.title, tuple(notes), s.empty))
        if sections:
            out.append(replace(h, sections=tuple(sections)))
    return out, folded


def _summary(hunks: Sequence[HunkReport]) -> tuple[Note, ...]:
    """One note per owner: every reason, in the order of the hunks, citing the first evidence."""
    by_owner: dict[str, list[tuple[Note, int]]] = {}
    for i, h in enumerate(hunks, 1):
        for s in h.sections:
            if s.name == "owners":
                for n in s.notes:
                    by_owner.setdefault(str(n.data["owner"]), []).append((n, i))
    out = []
    for owner, items in by_owner.items():
        reasons: list[str] = []
        for n, _i in items:
            why = n.text.split(": ", 1)[-1]
            if why not in reasons:
                reasons.append(why)
        refs = sorted({i for _n, i in items})
        out.append(Note(f"{owner}: {'; '.join(reasons)}", items[0][0].source, "owner", items[0][0].location,
                        {"owner": owner, "reasons": sorted({str(n.data.get('reason', '')) for n, _ in items}), "hunks": refs}))
    return tuple(out)


# -- the size budget ---------------------------------------------------------------------------------
def fit(report: ChangeReport, render: Callable[[ChangeReport], str], max_chars: int | None) -> ChangeReport:
    """The report with the least important notes left out until `render` of it fits in `max_chars` (the
    owners' summary counts as important; a hunk whose notes are all left out is left out), `cut` saying
    what. The same report when it fits already."""
    if max_chars is None or len(render(report)) <= max_chars:
        return report
    units: list[tuple[int, int, int, int]] = []  # (priority, hunk, section, note); hunk -1: the summary
    for j, _n in enumerate(report.owners):
        units.append((PRIORITY.index("summary"), -1, 0, j))
    for i, h in enumerate(report.hunks):
        for si, s in enumerate(h.sections):
            for ni, _ in enumerate(s.notes):
                units.append((section_priority(s), i, si, ni))
    units.sort()

    def keep(k: int) -> ChangeReport:
        chosen = set(units[:k])
        hunks = []
        dropped: dict[str, int] = {}
        gone = 0
        for i, h in enumerate(report.hunks):
            sections = []
            for si, s in enumerate(h.sections):
                notes = tuple(n for ni, n in enumerate(s.notes) if (section_priority(s), i, si, ni) in chosen)
                if len(notes) < len(s.notes):
                    dropped[s.name] = dropped.get(s.name, 0) + len(s.notes) - len(notes)
                if notes:
                    sections.append(Section(s.name, s.title, notes, s.empty))
            if sections:
                hunks.append(replace(h, sections=tuple(sections)))
            else:
                gone += 1
        owners = tuple(n for j, n in enumerate(report.owners) if (PRIORITY.index("summary"), -1, 0, j) in chosen)
        if len(owners) < len(report.owners):
            dropped["summary"] = len(report.owners) - len(owners)
        cut = Cut(max_chars, len(units) - k, gone, dropped)
        return replace(report, hunks=tuple(hunks), owners=owners, cut=cut)

    lo, hi = 0, len(units)  # the largest k whose rendering fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(keep(mid))) <= max_chars:
            lo = mid
        else:
            hi = mid - 1
    return keep(lo)


__all__ = ["PRIORITY", "TITLES", "ChangeReport", "Cut", "HunkReport", "ReviewError", "base_of", "build_report", "fit"]
