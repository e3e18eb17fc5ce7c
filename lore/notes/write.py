"""Writing team notes into a repository: `.lore/notes/<id>.toml`, one file per note (so two branches adding
notes never touch the same file), added, moved (re-anchored) and removed only on an explicit request (`lore
note`, the editor's "Add a note" action, an agent's `add_note`). The only place Lore writes into a
repository.

Every file written is read back with the same parser the indexer uses: Lore never writes a note it could
not read. Writes never leave the repository (a `.lore` or `.lore/notes` that is a symlink is refused) and
never replace another note (ids are random, files created exclusively).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from indexers import git
from indexers.discover import skip_reason_by_name
from indexers.model import TeamNote
from indexers.notes.anchor import make_anchor
from indexers.notes.place import read_text
from indexers.sources.notes import teamnotes
from indexers.sources.notes.teamnotes import (
    FOLDER,
    KINDS,
    MAX_REFS,
    MAX_TEXT,
    clean_text,
    dump,
    note_path,
    parse,
)


class NoteError(ValueError):
    """A note that cannot be written; the message says why."""


def identity(root: Path) -> str:
    """'Name <email>' from git config (the repository's, then the user's), or ''."""
    def get(key: str) -> str:
        try:
            return git.run(root, "config", "--get", key, check=False, timeout=30).decode("utf-8", "replace").strip()
        except git.GitError:
            return ""

    name, email = get("user.name"), get("user.email")
    return f"{name} <{email}>" if name and email else name or email


def _folder(root: Path) -> Path:
    """`.lore/notes/` of the repository, created when missing; never a symlink, never outside `root`."""
    folder = root / FOLDER.rstrip("/")
    for part in (root / ".lore", folder):
        if part.is_symlink():
            raise NoteError(f"{part} is a symlink: notes are written only inside the repository")
        if part.exists() and not part.is_dir():
            raise NoteError(f"{part} is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    real, top = folder.resolve(), root.resolve()
    if top not in real.parents:
        raise NoteError(f"{folder} resolves outside the repository")
    return folder


def _check(kind: str, text: str, refs: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    if kind not in KINDS:
        raise NoteError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    body = clean_text(text)
    if not body:
        raise NoteError("the note's text is empty: write what the reader of these lines must know")
    if len(body) > MAX_TEXT:
        raise NoteError(f"the note's text is longer than {MAX_TEXT} characters")
    cleaned = tuple(r.strip() for r in refs if r.strip())
    if len(cleaned) > MAX_REFS or any(len(r) > 300 for r in cleaned):
        raise NoteError(f"at most {MAX_REFS} references, each at most 300 characters")
    return body, cleaned


def _source(root: Path, path: str, text: str | None) -> str:
    if not teamnotes.safe_relpath(path):
        raise NoteError(f"{path}: not a path inside the repository")
    if path.startswith(FOLDER):
        raise NoteError("a note is about code, not about another note")
    if skip_reason_by_name(path) == "secret" or (root / path).is_symlink():
        raise NoteError(f"{path}: a file that may hold secrets, or a symlink: Lore does not note it (nor copy its lines)")
    if text is None:
        text = read_text(root, path)
    if text is None:
        raise NoteError(f"{path}: not a readable text file of the repository (missing, a symlink, a secret, binary or too large)")
    return text


def add_note(root: Path, path: str, first: int, last: int, text: str, *, kind: str = "tip", refs: Sequence[str] = (),
             author: str | None = None, agent: str = "", source_text: str | None = None,
             allow_empty: bool = False) -> tuple[TeamNote, Path]:
    """Write a new note on lines first..last (0-based, inclusive) of `path` (repo-relative). `source_text`:
    the file as the editor shows it, when it differs from the working tree. `allow_empty`: write a note
    whose text is still to be written (the editor opens it; until then it is reported as not a note)."""
    if allow_empty and not clean_text(text):
        body, cleaned = "", tuple(refs)
        if kind not in KINDS:
            raise NoteError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    else:
        body, cleaned = _check(kind, text, refs)
    code = _source(root, path, source_text)
    anchor = make_anchor(path, code, first, last, commit=git.head(root) or "")
    folder = _folder(root)
    for _ in range(20):
        ident = secrets.token_hex(4)
        target = folder / f"{ident}.toml"
        if not target.exists():
            break
    else:  # pragma: no cover - 20 collisions of 32 random bits
        raise NoteError("could not choose a new note id")
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    note = TeamNote(ident, "", note_path(ident), kind, body, anchor, author=identity(root) if author is None else author,
                    agent=agent.strip()[:100], created=when, refs=cleaned)
    content = dump(note)
    if body:
        _verify(note.path, content)
    _write_new(target, content)
    return note, target


def _verify(path: str, content: str) -> None:
    back, err = parse("", path, content)
    if back is None:
        raise NoteError(f"the note would not read back ({err.reason if err else 'unknown'}); nothing written")


def _write_new(target: Path, content: str) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(content)


def _replace(target: Path, content: str) -> None:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    _write_new(tmp, content)
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def note_file(root: Path, note: TeamNote) -> Path:
    target = _folder(root) / f"{note.id}.toml"
    if target.is_symlink() or not target.is_file():
        raise NoteError(f"{note.path}: no such note file in {root}")
    return target


def remove_note(root: Path, note: TeamNote) -> Path:
    target = note_file(root, note)
    target.unlink()
    return target


def move_note(root: Path, note: TeamNote, path: str, first: int, last: int, source_text: str | None = None) -> tuple[TeamNote, Path]:
    """Re-anchor a note on lines first..last of `path`; its text, author and date stay."""
    code = _source(root, path, source_text)
    target = note_file(root, note)
    moved = TeamNote(note.id, note.repo, note.path, note.kind, note.text,
                     make_anchor(path, code, first, last, commit=git.head(root) or ""), note.author, note.agent,
                     note.created, note.refs)
    content = dump(moved)
    _verify(note.path, content)
    _replace(target, content)
    return moved, target
