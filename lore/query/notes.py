"""Team notes in the query layer: which notes are on some lines, where each note is now, which are
orphaned. One pure entry point per question, shared by `lore context`, the hover, diagnostics, the
editor's note-file diagnostics, MCP and `lore context --diff`:

- `notes_for(snap, repo, path, first, last)`: the notes on lines first..last of a file as it is now (the
  working tree, or an editor buffer passed as `text`);
- `notes_in_text(snap, repo, path, text, ranges)`: the notes on some line ranges of any version of a file
  (the base of a diff, HEAD), the question "which notes do these changed lines touch";
- `placed_notes(snap, repo)`: every note of a repo with its placement; `orphans` those whose code is gone.

Placement (re-attachment, renames) is `indexers.notes.place`, cached by content, so a hover pays for it
once per file version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexers.model import Location, Note, Section, Span, TeamNote
from indexers.notes.attach import Placement
from indexers.notes.place import place, place_in_text
from indexers.snapshot import Snapshot

log = logging.getLogger(__name__)

URGENT = ("incident", "warning")  # shown first in the hover; editing their lines is a diagnostic
_ORDER = ("incident", "warning", "decision", "tip")
LABEL = {"incident": "Incident", "warning": "Warning", "decision": "Decision", "tip": "Tip"}


@dataclass(frozen=True, slots=True)
class Placed:
    note: TeamNote
    at: Placement


def _root(snap: Snapshot, repo: str) -> Path | None:
    return snap.repo_root(repo)


def _gone(snap: Snapshot, repo: str, root: Path | None, path: str) -> bool:
    """Whether a note's anchored file is no longer where it was (so it may have been renamed)."""
    if root is None or (repo, path) in snap.files:
        return False
    return not (root / path).is_file()


def candidates(snap: Snapshot, repo: str, path: str) -> list[TeamNote]:
    """Notes that may be on `path` now: anchored to it, or anchored to a file that is gone (renamed)."""
    root = _root(snap, repo)
    out: list[TeamNote] = []
    for n in snap.team_notes(repo):
        if n.anchor.path == path:
            out.append(n)
        elif _gone(snap, repo, root, n.anchor.path):
            try:
                if place(n, root, head=_head(snap, repo)).path == path:
                    out.append(n)
            except Exception:  # noqa: BLE001 - one note never hides the others
                log.exception("placing note %s failed", n.id)
    return out


def _head(snap: Snapshot, repo: str) -> str | None:
    info = snap.repos.get(repo)
    return info.head if info is not None else None


def place_safely(snap: Snapshot, note: TeamNote, texts: Mapping[str, str] | None = None) -> Placement:
    try:
        return place(note, _root(snap, note.repo), texts, head=_head(snap, note.repo))
    except Exception as exc:  # noqa: BLE001 - a note that cannot be placed is reported, never raised
        log.exception("placing note %s failed", note.id)
        a = note.anchor
        return Placement("orphaned", a.path, a.start_line, a.end_line, a.symbol, 0.0, f"could not be placed: {exc}")


def notes_for(snap: Snapshot, repo: str, path: str, first: int | None = None, last: int | None = None, *,
              text: str | None = None) -> list[Placed]:
    """The notes on lines first..last (0-based, inclusive; every line of the file when None) of a file as
    it is now: the working tree, or `text` (an editor buffer). Orphans are not on any line."""
    texts = {path: text} if text is not None else None
    out = []
    for n in candidates(snap, repo, path):
        at = place_safely(snap, n, texts)
        if not at.attached or at.path != path:
            continue
        if first is not None and (at.end_line < first or at.start_line > (last if last is not None else first)):
            continue
        out.append(Placed(n, at))
    return ordered(out)


def notes_in_text(snap: Snapshot, repo: str, path: str, text: str, ranges: Sequence[tuple[int, int]],
                  also: Iterable[str] = ()) -> list[Placed]:
    """The notes on any of `ranges` (0-based, inclusive) in `text`, one version of `path` (a diff's base,
    HEAD): notes anchored to `path` or to the paths in `also` (its other names), or placed on it now."""
    names = {path, *also}
    seen: dict[str, TeamNote] = {n.id: n for n in candidates(snap, repo, path)}
    for n in snap.team_notes(repo):
        if n.anchor.path in names:
            seen.setdefault(n.id, n)
    out = []
    for n in seen.values():
        try:
            at = place_in_text(n.anchor, path, text)
        except Exception:  # noqa: BLE001
            log.exception("placing note %s failed", n.id)
            continue
        if at.attached and any(not (at.end_line < lo or at.start_line > hi) for lo, hi in ranges):
            out.append(Placed(n, at))
    return ordered(out)


def placed_notes(snap: Snapshot, repo: str, texts: Mapping[str, str] | None = None) -> list[Placed]:
    """Every note of a repo where it is now (orphans at their last known lines)."""
    return [Placed(n, place_safely(snap, n, texts)) for n in snap.team_notes(repo)]


def orphans(snap: Snapshot, repo: str) -> list[Placed]:
    return [p for p in placed_notes(snap, repo) if not p.at.attached]


def find(snap: Snapshot, ident: str) -> list[TeamNote]:
    """Notes whose id is `ident` or starts with it, in every repo."""
    return [n for repo in sorted(snap.repos) for n in snap.team_notes(repo) if n.id == ident or n.id.startswith(ident)]


def ordered(items: Iterable[Placed]) -> list[Placed]:
    return sorted(items, key=lambda p: (_ORDER.index(p.note.kind) if p.note.kind in _ORDER else 9, p.at.start_line, p.note.id))


# -- as context --------------------------------------------------------------------------------------
def who(note: TeamNote) -> str:
    """'Ada Lovelace, 2024-05-01' / 'agent claude-code for Ada Lovelace, 2024-05-01'."""
    name = note.author.split(" <", 1)[0].strip()
    by = f"agent {note.agent}" + (f" for {name}" if name else "") if note.agent else name
    return ", ".join(x for x in (by, note.created[:10]) if x)


def to_note(p: Placed) -> Note:
    """One line of context: the note's text, who wrote it and when, its references, and what happened to
    its code since (when it was re-attached). Cites the note file."""
    n, at = p.note, p.at
    extra = [who(n)] + ([f"refs {', '.join(n.refs)}"] if n.refs else [])
    if at.reattached:
        extra.append(("note re-attached after edits" if at.status == "edited" else "note re-attached")
                     + (f": {at.how}" if at.how else ""))
    text = f"{LABEL.get(n.kind, n.kind)}: {n.text} ({'; '.join(x for x in extra if x)})"
    data = {"id": n.id, "kind": n.kind, "text": n.text, "author": n.author, "agent": n.agent, "created": n.created,
            "refs": list(n.refs), "note_file": n.path, "path": at.path, "lines": [at.start_line + 1, at.end_line + 1],
            "symbol": at.symbol, "status": at.status, "how": at.how, "score": at.score}
    return Note(text, f"{n.repo}/{n.path}:{n.line + 1}", f"team_{n.kind}", Location(n.repo, n.path, Span.line(n.line)), data)


def notes_section(snap: Snapshot, repo: str, path: str, first: int, last: int, text: str | None = None) -> Section:
    try:
        found = notes_for(snap, repo, path, first, last, text=text)
    except Exception as exc:  # noqa: BLE001 - notes must never break the rest of the context
        log.exception("notes failed for %s/%s", repo, path)
        return Section("notes", "Team notes", (), f"Team notes unavailable: {exc}")
    return Section("notes", "Team notes", tuple(to_note(p) for p in found),
                   "No team notes on these lines (lore note add FILE:LINE \"text\" writes one).")


def urgent(section: Section) -> bool:
    return any(n.data.get("kind") in URGENT for n in section.notes)
