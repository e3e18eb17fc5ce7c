"""Context sections about history for a line range: pure functions over mined commits, blame, markers,
decisions and coupling.

Few notes, most relevant first: a reader wants to know that the lines are a workaround, a hotfix or were
restored by a revert before they want to know who touched them last. Every note cites its evidence (a
commit sha or `repo/path:line`) and, for a commit's kind, the words or trailer that decided it ("Revert:
... — 'This reverts commit 1a2b3c4d'"); texts are plain repository text (the renderer escapes).

When history is missing rather than absent (a shallow clone's cut, a partial clone's missing file versions,
unreadable objects) the notes say what is missing and how to get it, never "no history".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from indexers.history.blame import BlameLine
from indexers.history.churn import ChurnRegion
from indexers.history.coupling import FilePair
from indexers.model import Commit, Decision, HistoryGaps, Location, Marker, Note, Section, Span

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
_MENTION_LABEL = {"incident": "an incident fix", "hotfix": "a hotfix", "security": "a security fix",
                  "regression_fix": "a regression fix", "workaround": "a workaround", "temporary": "a temporary change"}
BACKFILL = "run `git backfill` (git 2.49 and later) or fetch the missing blobs"
REPAIR = "restore the missing objects (`git fsck` names them; fetching again or a fresh clone brings them back)"
_MARKER_ORDER = ("do_not_remove", "hack", "workaround", "fixme", "xxx", "todo", "note")


def _who(sha: str, date: str, author: str) -> str:
    return ", ".join(p for p in (sha[:8], date[:10], author) if p)


def _refs_suffix(c: Commit) -> str:
    extra = [r for r in c.refs if r not in c.subject]
    return f" (refs {', '.join(extra[:3])})" if extra else ""


def _said(c: Commit, kind: str) -> str:
    """ — 'the words that decided `kind`', unless the subject already shows them."""
    said = dict(c.evidence).get(kind, "")
    return f" — '{said}'" if said and said not in c.subject else ""


def commit_note(c: Commit, kind: str, commits_by_sha: Mapping[str, Commit], *, scope: str = "",
                location: Location | None = None) -> Note:
    """One note for a notable commit: its kind, subject, references, who and when, and its evidence
    (`location`: where in the file blame shows the commit, for views that link the citation)."""
    label = _LABEL[kind]
    if scope:
        label = f"{label} ({scope})"
    # "Hotfix: Hotfix: ..." says nothing twice: drop the label when the subject already starts with it.
    head = c.subject if not scope and c.subject.lower().startswith(label.lower()) else f"{label}: {c.subject}"
    text = f"{head}{_refs_suffix(c)} ({_who(c.sha, c.date, c.author)}){_said(c, kind)}"
    if kind in ("revert", "reapply"):
        undone = ""
        if c.reverts:
            target = commits_by_sha.get(c.reverts)
            undone = f"; undoes {c.reverts[:8]} {target.subject}" if target else f"; undoes {c.reverts[:8]}"
        text = f"{label}: {c.subject} ({_who(c.sha, c.date, c.author)}{undone}){_said(c, 'revert')}"
    data = {"sha": c.sha, "kinds": list(c.kinds), "refs": list(c.refs), "reverts": c.reverts,
            "evidence": dict(c.evidence), "label": label, "subject": c.subject, "author": c.author, "date": c.date}
    said = _said(c, "revert" if kind in ("revert", "reapply") else kind)
    if said:
        data["said"] = said.removeprefix(" — ")
    if scope:
        data["scope"] = "file"
    return Note(text=text, source=c.sha, kind=kind, location=location, data=data)


def _mention_note(c: Commit) -> Note | None:
    kind, said = next(((k, v) for k, v in c.mentions if k in _MENTION_LABEL), ("", ""))
    if not kind:
        return None
    return Note(text=f"Mentions {_MENTION_LABEL[kind]} in one item of a squashed change: {c.subject} "
                     f"({_who(c.sha, c.date, c.author)}) — '{said}'", source=c.sha, kind="mention",
                data={"sha": c.sha, "mentions": dict(c.mentions)})


def history_section(commits_by_sha: Mapping[str, Commit], blame_lines: Sequence[BlameLine], first_line: int,
                    last_line: int, *, churn: Iterable[ChurnRegion] = (), limit: int = 4, repo: str = "",
                    path: str = "") -> Section:
    """Notable commits behind lines first_line..last_line (0-based, inclusive), fix-on-fix regions, and
    the last change. With `repo` and `path`, each commit note is located at the first of these lines the
    commit last changed (where blame shows it), so a view can link the citation."""
    here = [b for b in blame_lines if first_line <= b.line <= last_line]
    first_at: dict[str, int] = {}
    for b in sorted(here, key=lambda b: b.line):
        first_at.setdefault(b.sha, b.line)

    def where(sha: str) -> Location | None:
        line = first_at.get(sha)
        return Location(repo, path, Span.line(line)) if repo and path and line is not None else None

    if not here:
        return Section("history", "History", empty="no committed history for these lines")
    latest: dict[str, BlameLine] = {}
    for b in here:
        latest.setdefault(b.sha, b)
    by_recency = sorted(latest.values(), key=lambda b: b.date, reverse=True)
    notable: list[tuple[int, str, Commit]] = []
    mentioned: list[Commit] = []
    for b in by_recency:
        c = commits_by_sha.get(b.sha)
        if c is None or b.boundary:
            continue
        ranked = [k for k in _PRIORITY if k in c.kinds]
        if ranked:
            notable.append((_PRIORITY.index(ranked[0]), ranked[0], c))
        elif c.mentions:
            mentioned.append(c)
    notable.sort(key=lambda t: t[0])  # stable: recency kept within a kind
    notes: list[Note] = [commit_note(c, kind, commits_by_sha, location=where(c.sha))
                         for _rank, kind, c in notable[: max(1, limit - 1)]]
    for c in mentioned:
        note = _mention_note(c) if len(notes) < limit - 1 else None
        if note is not None:
            notes.append(note)
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
        data = {"sha": last.sha, "date": last.date, "author": last.author}
        if not last.boundary:
            data.update(label="Last change", subject=subject)
        notes.append(Note(text=text, source=last.sha, kind="last_change", location=where(last.sha), data=data))
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


def file_history_section(commits: Sequence[Commit], commits_by_sha: Mapping[str, Commit], reason: str, *,
                         partial: bool = True, limit: int = 4) -> Section:
    """When line attribution is impossible (blame needs file versions the clone lacks): the notable commits
    that changed the file (`commits`, newest first), marked file-level, and what is missing."""
    notes: list[Note] = []
    for c in commits:
        ranked = [k for k in _PRIORITY if k in c.kinds]
        if ranked:
            notes.append(commit_note(c, ranked[0], commits_by_sha, scope="file-level"))
        if len(notes) >= limit - 1:
            break
    if not notes and commits:
        c = commits[0]
        notes.append(Note(text=f"Last change to the file (file-level): {_who(c.sha, c.date, c.author)}: {c.subject}",
                          source=c.sha, kind="last_change", data={"sha": c.sha, "scope": "file"}))
    shown = "The notes above are file-level: commits that changed this file, maybe not these lines. " if notes else ""
    advice = BACKFILL if partial else REPAIR
    notes.append(Note(text=f"Line-level history unavailable: {reason}. {shown}For line-level history, {advice}.",
                      source="", kind="history_gap", data={"reason": reason}))
    return Section("history", "History", tuple(notes))


def gap_messages(gaps: HistoryGaps | None) -> list[str]:
    """What a repository's history lacks, each a sentence the caller prefixes with the repository."""
    if not gaps:
        return []
    out: list[str] = []
    if gaps.unreadable or gaps.no_files or (gaps.reason and not gaps.partial):
        lost = []
        if gaps.unreadable:
            sample = ", ".join(s[:10] for s in gaps.unreadable_sample)
            lost.append(f"{gaps.unreadable} commit(s) could not be read (objects missing: {sample}), so the history "
                        "behind them is unknown")
        if gaps.no_files:
            lost.append(f"{gaps.no_files} commit(s) kept without their file lists (trees missing)")
        said = f"; git said: {gaps.reason}" if gaps.reason else ""
        out.append(f"incomplete: {'; '.join(lost) or 'git could not read everything'}{said}. Every readable commit "
                   "was kept; nothing was fetched")
    if gaps.shallow:
        since = f" at {gaps.boundary[:10]} ({gaps.boundary_date[:10]})" if gaps.boundary else ""
        out.append(f"shallow clone: history starts{since}; older commits, reverts and co-changes are not in the "
                   "clone (`git fetch --unshallow` adds them)")
    if gaps.partial:
        out.append("partial clone: Lore never fetches missing objects; where line history needs file versions the "
                   f"clone lacks, notes are file-level. For line-level history, {BACKFILL}")
    return out


def coupling_section(pairs: Sequence[FilePair], *, repo: str, limit: int = 3, gaps: HistoryGaps | None = None) -> Section:
    """Files that usually change with this one."""
    if not pairs:
        missing = []
        if gaps is not None and gaps.shallow:
            since = f" before {gaps.boundary_date[:10]}" if gaps.boundary_date else ""
            missing.append(f"history{since} is not in this shallow clone")
        if gaps is not None and (gaps.no_files or gaps.unreadable):
            missing.append(f"{gaps.no_files + gaps.unreadable} commit(s) unreadable or without file lists")
        if missing:
            return Section("coupling", "Changes with", empty="no file usually changes with this one in the commits "
                                                             f"available ({'; '.join(missing)})")
        return Section("coupling", "Changes with", empty="no file usually changes with this one")
    notes = [Note(text=f"Usually changes with {p.other} ({p.support} of {p.total} commits)", source=f"{repo}/{p.other}",
                  kind="coupling", location=Location(repo, p.other, Span(0, 0, 0, 0)),
                  data={"support": p.support, "total": p.total, "confidence": round(p.confidence, 3)})
             for p in pairs[:limit]]
    return Section("coupling", "Changes with", tuple(notes))
