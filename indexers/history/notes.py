"""Context sections about history for a line range: pure functions over mined commits, blame, markers,
decisions and coupling.

Few notes, most relevant first: a reader wants to know that the lines are a workaround, a hotfix or were
restored by a revert before they want to know who touched them last. Every note cites its evidence (a
commit sha or `repo/path:line`); texts are plain repository text (the renderer escapes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from indexers.history.blame import BlameLine
from indexers.history.churn import ChurnRegion
from indexers.history.coupling import FilePair
from indexers.model import Commit, Decision, Location, Marker, Note, Section, Span

# Most telling first.
_PRIORITY = ("incident", "hotfix", "security", "regression_fix", "workaround", "temporary", "reapply", "revert")
_LABEL = {
    "incident": "Incident fix",
    "hotfix": "Hotfix",
    "security": "Security fix",
    "regression_fix": "Regression fix",
    "workaround": "Workaround",
    "temporary": "Temporary change",
    "reapply": "Re-applied after a revert",
    "revert": "Restored by a revert",
}
_MARKER_ORDER = ("do_not_remove", "hack", "workaround", "fixme", "xxx", "todo", "note")


def _who(sha: str, date: str, author: str) -> str:
    return ", ".join(p for p in (sha[:8], date[:10], author) if p)


def _refs_suffix(c: Commit) -> str:
    extra = [r for r in c.refs if r not in c.subject]
    return f" (refs {', '.join(extra[:3])})" if extra else ""


def history_section(commits_by_sha: Mapping[str, Commit], blame_lines: Sequence[BlameLine], first_line: int,
                    last_line: int, *, churn: Iterable[ChurnRegion] = (), limit: int = 4) -> Section:
    """Notable commits behind lines first_line..last_line (0-based, inclusive), fix-on-fix regions, and
    the last change."""
    here = [b for b in blame_lines if first_line <= b.line <= last_line]
    if not here:
        return Section("history", "History", empty="no committed history for these lines")
    latest: dict[str, BlameLine] = {}
    for b in here:
        latest.setdefault(b.sha, b)
    by_recency = sorted(latest.values(), key=lambda b: b.date, reverse=True)
    notable: list[tuple[int, str, Commit]] = []
    for b in by_recency:
        c = commits_by_sha.get(b.sha)
        if c is None or b.boundary:
            continue
        ranked = [k for k in _PRIORITY if k in c.kinds]
        if ranked:
            notable.append((_PRIORITY.index(ranked[0]), ranked[0], c))
    notable.sort(key=lambda t: t[0])  # stable: recency kept within a kind
    notes: list[Note] = []
    for _rank, kind, c in notable[: max(1, limit - 1)]:
        label = _LABEL[kind]
        # "Hotfix: Hotfix: ..." says nothing twice: drop the label when the subject already starts with it.
        head = c.subject if c.subject.lower().startswith(label.lower()) else f"{label}: {c.subject}"
        text = f"{head}{_refs_suffix(c)} ({_who(c.sha, c.date, c.author)})"
        if kind in ("revert", "reapply") and c.reverts:
            target = commits_by_sha.get(c.reverts)
            undone = f"{c.reverts[:8]} {target.subject}" if target else c.reverts[:8]
            text = f"{_LABEL[kind]}: {c.subject} ({_who(c.sha, c.date, c.author)}; undoes {undone})"
        notes.append(Note(text=text, source=c.sha, kind=kind,
                          data={"sha": c.sha, "kinds": list(c.kinds), "refs": list(c.refs), "reverts": c.reverts}))
    for region in churn:
        if region.last < first_line or region.first > last_line or len(notes) >= limit - 1:
            continue
        subjects = "; ".join(
            f"{s[:8]} {commits_by_sha[s].subject}" if s in commits_by_sha else s[:8] for s in region.shas[:3])
        notes.append(Note(text=f"Fixed {len(region.shas)} times: {subjects}", source=region.shas[0], kind="churn",
                          data={"shas": list(region.shas), "first": region.first, "last": region.last}))
    last = by_recency[0]
    shown = {n.source for n in notes}
    if last.sha not in shown:
        if last.boundary:
            text = f"Unchanged since {_who(last.sha, last.date, '')}, the start of the available (shallow) history"
        else:
            c = commits_by_sha.get(last.sha)
            subject = c.subject if c else last.summary
            text = f"Last change: {_who(last.sha, last.date, last.author)}: {subject}"
        notes.append(Note(text=text, source=last.sha, kind="last_change",
                          data={"sha": last.sha, "date": last.date, "author": last.author}))
    return Section("history", "History", tuple(notes[:limit]))


def markers_section(markers: Sequence[Marker], first_line: int, last_line: int, *,
                    blame_lines: Sequence[BlameLine] = (), above: int = 3, limit: int = 3) -> Section:
    """TODO/FIXME/HACK/... comments in the range or just above it, with who added them when blame is given."""
    near = [m for m in markers if first_line - above <= m.range.start_line <= last_line]
    if not near:
        return Section("markers", "Markers", empty="no TODO/FIXME/HACK comments here")
    by_line = {b.line: b for b in blame_lines}

    def rank(m: Marker) -> tuple[int, int]:
        order = _MARKER_ORDER.index(m.kind) if m.kind in _MARKER_ORDER else len(_MARKER_ORDER)
        inside = 0 if first_line <= m.range.start_line <= last_line else 1
        return (order, inside)

    notes: list[Note] = []
    for m in sorted(near, key=rank)[:limit]:
        text = m.text
        b = by_line.get(m.range.start_line)
        if b is not None and not b.boundary:
            text = f"{text} (added {b.date[:10]} by {b.author}, {b.sha[:8]})"
        notes.append(Note(text=text, source=f"{m.repo}/{m.path}:{m.range.start_line + 1}", kind="marker",
                          location=Location(m.repo, m.path, m.range),
                          data={"marker": m.kind, "ref": m.ref, "sha": b.sha if b else ""}))
    return Section("markers", "Markers", tuple(notes))


def _mentions_path(mention: str, path: str) -> bool:
    if mention == path:
        return True
    if "/" in mention and mention.endswith("/"):
        return path.startswith(mention)
    return "/" in mention and path.startswith(mention.rstrip("/") + "/")


_STATUS_ORDER = ("accepted", "proposed", "draft", "amended", "deprecated", "superseded", "rejected")


def decisions_section(decisions: Sequence[Decision], *, path: str = "", names: Iterable[str] = (),
                      limit: int = 3) -> Section:
    """ADRs that name this file (or a folder holding it), or one of `names` (service names, entity IDs)."""
    wanted = {n for n in names if n}
    hits: list[tuple[Decision, str]] = []
    for d in decisions:
        why = next((m for m in d.mentions if (path and _mentions_path(m, path)) or m in wanted), None)
        if why is not None:
            hits.append((d, why))
    if not hits:
        return Section("decisions", "Decisions", empty="no architecture decision names this code")

    def status_rank(item: tuple[Decision, str]) -> int:
        status = item[0].status
        return _STATUS_ORDER.index(status) if status in _STATUS_ORDER else len(_STATUS_ORDER)

    hits.sort(key=lambda item: item[0].date, reverse=True)  # newest first within a status (stable sort)
    hits.sort(key=status_rank)
    notes = []
    for d, why in hits[:limit]:
        meta = ", ".join(p for p in (d.status, d.date) if p)
        notes.append(Note(text=f"{d.title} ({meta})" if meta else d.title, source=f"{d.repo}/{d.path}",
                          kind="decision", location=Location(d.repo, d.path, Span(0, 0, 0, 0)),
                          data={"id": d.id, "status": d.status, "mentions": why}))
    return Section("decisions", "Decisions", tuple(notes))


def coupling_section(pairs: Sequence[FilePair], *, repo: str, limit: int = 3) -> Section:
    """Files that usually change with this one."""
    if not pairs:
        return Section("coupling", "Changes with", empty="no file usually changes with this one")
    notes = [Note(text=f"Usually changes with {p.other} ({p.support} of {p.total} commits)", source=f"{repo}/{p.other}",
                  kind="coupling", location=Location(repo, p.other, Span(0, 0, 0, 0)),
                  data={"support": p.support, "total": p.total, "confidence": round(p.confidence, 3)})
             for p in pairs[:limit]]
    return Section("coupling", "Changes with", tuple(notes))
