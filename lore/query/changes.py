"""Context for a change: `lore context --diff [BASE]`. The working tree's hunks against BASE
(`indexers.diff`), and for each hunk the context sections that concern it.

Deliberately small: one list of per-hunk section builders (`HUNK_SECTIONS`), each
`(ChangeInput, Hunk) -> Section | None`. Here it holds the team notes the hunk touches (on the lines it
rewrites in the base, or on the lines it writes in the working tree); `lore.review.sections` adds the
others (breaking changes, edited workaround lines, deprecated calls, contracts, owners, markers, decisions)
by passing its own list as `sections`, with `shared` holding what is computed once per repo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers import git
from indexers.diff import FileDiff, Hunk, diff
from indexers.model import Note, Section
from indexers.notes.place import read_text
from indexers.positions import SourceFile
from indexers.snapshot import Snapshot
from lore.query.notes import Placed, notes_in_text, to_note

log = logging.getLogger(__name__)

MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class HunkContext:
    hunk: Hunk
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class FileContext:
    path: str  # in the working tree ('' when deleted)
    old_path: str  # in the base ('' when new)
    hunks: tuple[HunkContext, ...]


@dataclass(frozen=True)
class DiffContext:
    repo: str
    base: str  # the base commit sha
    files: tuple[FileContext, ...]


@dataclass
class ChangeInput:
    """One changed file, with both versions read at most once."""

    snap: Snapshot
    repo: str
    root: Path
    base: str
    file: FileDiff
    reader: git.BlobReader
    shared: dict[str, Any] = field(default_factory=dict)  # per diff: what section builders compute once per repo
    _texts: dict[str, str | None] = field(default_factory=dict)

    def base_text(self) -> str | None:
        if "base" not in self._texts:
            self._texts["base"] = _blob(self.reader, self.base, self.file.old_path) if self.file.old_path else None
        return self._texts["base"]

    def new_text(self) -> str | None:
        if "new" not in self._texts:
            self._texts["new"] = read_text(self.root, self.file.new_path) if self.file.new_path else None
        return self._texts["new"]


def _blob(reader: git.BlobReader, sha: str, path: str) -> str | None:
    data = reader.read(f"{sha}:{path}")
    if data is None or len(data) > MAX_BYTES or b"\0" in data[:8192]:
        return None
    return SourceFile("", path, data).text


def notes_touched(inp: ChangeInput, hunk: Hunk) -> Section | None:
    """The team notes on the lines a hunk rewrites (in the base) or writes (in the working tree)."""
    found: dict[str, tuple[Placed, str]] = {}
    f = inp.file
    if f.new_path and (text := inp.new_text()) is not None:
        # lines written, or for a deletion the two lines around the gap: a note spanning the gap is touched
        gap = hunk.new_lines is None
        span = hunk.new_lines or (hunk.new_start - 1, hunk.new_start)
        for p in notes_in_text(inp.snap, inp.repo, f.new_path, text, [span], also=[f.old_path] if f.old_path else []):
            if not gap or (p.at.start_line <= span[0] and p.at.end_line >= span[1]):
                found[p.note.id] = (p, "working tree")
    if hunk.old_lines is not None and f.old_path and (text := inp.base_text()) is not None:
        for p in notes_in_text(inp.snap, inp.repo, f.old_path, text, [hunk.old_lines]):
            found.setdefault(p.note.id, (p, "base"))
    if not found:
        return None
    notes: list[Note] = []
    for p, side in found.values():
        n = to_note(p)
        if side == "base":
            n = Note(n.text + " (this change rewrites or deletes those lines)", n.source, n.kind, n.location,
                     {**n.data, "side": side})
        else:
            n = Note(n.text, n.source, n.kind, n.location, {**n.data, "side": side})
        notes.append(n)
    return Section("notes", "Team notes on the changed lines", tuple(notes), "")


HunkSection = Callable[[ChangeInput, Hunk], Section | None]
HUNK_SECTIONS: tuple[HunkSection, ...] = (notes_touched,)


def diff_context(snap: Snapshot, repo: str, root: Path, base: str = "HEAD", paths: tuple[str, ...] = (), *,
                 sections: tuple[HunkSection, ...] = HUNK_SECTIONS, shared: dict[str, Any] | None = None) -> DiffContext:
    """Every hunk of the working tree against `base` in one repo, with its sections (`sections`: the
    builders to run, in order; `shared`: handed to every builder as `ChangeInput.shared`). GitError when
    the base names no commit."""
    sha, files = diff(root, base, paths)
    memo = shared if shared is not None else {}
    with git.BlobReader(root) as reader:
        return DiffContext(repo, sha, tuple(_file(snap, repo, root, sha, f, reader, sections, memo) for f in files))


def _file(snap: Snapshot, repo: str, root: Path, sha: str, f: FileDiff, reader: git.BlobReader,
          builders: tuple[HunkSection, ...] = HUNK_SECTIONS, shared: dict[str, Any] | None = None) -> FileContext:
    inp = ChangeInput(snap, repo, root, sha, f, reader, shared if shared is not None else {})
    hunks: list[HunkContext] = []
    for h in f.hunks:
        sections: list[Section] = []
        for build in builders:
            try:
                sec = build(inp, h)
            except Exception:  # noqa: BLE001 - one section never hides the others
                log.exception("%s failed for %s/%s", getattr(build, "__name__", "section"), repo, f.path)
                continue
            if sec is not None:
                sections.append(sec)
        hunks.append(HunkContext(h, tuple(sections)))
    return FileContext(f.new_path or "", f.old_path or "", tuple(hunks))
