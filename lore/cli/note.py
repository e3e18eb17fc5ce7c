"""`lore note`: team notes kept with the code (`.lore/notes/<id>.toml`, one file per note, reviewed and
merged like code). `add` writes one on some lines, `list` shows where each note is now (and which are
orphaned: their code is gone), `move` re-anchors one, `rm` removes one, `refresh` re-anchors the notes
whose code moved or changed so that their files describe the code as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from indexers.model import TeamNote
from indexers.notes.place import read_text
from indexers.sources.notes.teamnotes import FOLDER, KINDS, note_path, parse, valid_id
from indexers.workspace import RepoSpec, Workspace, WorkspaceError, discover
from lore.cli.errors import friendly
from lore.cli.output import echo, echo_json
from lore.notes.write import NoteError, add_note, move_note, remove_note
from lore.query import notes as query_notes
from lore.query.render import clean

_RANGE = re.compile(r"^(?P<path>.+):(?P<first>\d+)(?:-(?P<last>\d+))?$")


def parse_range(spec: str) -> tuple[Path, int, int]:
    """FILE:LINE or FILE:FIRST-LAST (1-based) -> (path, first, last) 0-based inclusive."""
    m = _RANGE.match(spec)
    if not m:
        raise click.UsageError(f"expected FILE:LINE or FILE:FIRST-LAST, got {spec!r}")
    first = int(m.group("first"))
    last = int(m.group("last")) if m.group("last") else first
    if first < 1 or last < first:
        raise click.UsageError(f"{spec!r}: lines are 1-based and FIRST <= LAST")
    return Path(m.group("path")), first - 1, last - 1


def _locate(path: Path) -> tuple[RepoSpec, str, str]:
    """(repo, repo-relative path, file text) of an existing file inside a repository."""
    if not path.is_file():
        raise WorkspaceError(f"{path}: no such file")
    ws = discover(path)
    found = ws.locate(path.absolute())
    if found is None or not found[1] or found[1].startswith("../"):
        raise WorkspaceError(f"{path}: not inside any repo of the workspace at {ws.root}")
    repo, rel = found
    text = read_text(repo.root, rel)
    if text is None:
        raise WorkspaceError(f"{path}: not a readable text file (a symlink, a secret, binary or larger than 2 MB)")
    return repo, rel, text


def _lines_of(text: str, first: int, last: int, spec: str) -> None:
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if last >= max(count, 1):
        raise click.UsageError(f"{spec}: the file has {count} lines")


def _where(rel: str, note: TeamNote) -> str:
    a = note.anchor
    what = f" ({a.symbol}, the whole {a.symbol_kind})" if a.whole_symbol else (f" (in {a.symbol})" if a.symbol else "")
    return f"{rel}:{a.start_line + 1}-{a.end_line + 1}{what}"


@click.group("note", context_settings={"help_option_names": ["-h", "--help"]})
def note() -> None:
    """Team notes anchored to code: what you learned, kept with the code, shown at the line.

    Notes live in the repository (.lore/notes/<id>.toml, one file per note): commit them with the code
    they are about. A note follows its code through edits, moves and file renames; when the code is gone
    the note is orphaned (lore note list --orphaned)."""


@note.command("add")
@click.argument("location")
@click.argument("text")
@click.option("--kind", type=click.Choice(KINDS), default="tip", show_default=True, help="What the note is.")
@click.option("--ref", "refs", multiple=True, metavar="URL|ISSUE", help="A reference (issue key or URL); repeatable.")
@click.option("--author", default=None, help="Who writes it, 'Name <email>' (default: git config user.name/email).")
@click.option("--agent", default="", help="The AI agent writing it (the note says an agent wrote it).")
@friendly
def add(location: str, text: str, kind: str, refs: tuple[str, ...], author: str | None, agent: str) -> None:
    """Write a note on FILE:LINE or FILE:FIRST-LAST (1-based). A single line that declares a function,
    method or class notes the whole declaration."""
    path, first, last = parse_range(location)
    repo, rel, code = _locate(path)
    _lines_of(code, first, last, location)
    try:
        made, target = add_note(repo.root, rel, first, last, text, kind=kind, refs=refs, author=author, agent=agent,
                                source_text=code)
    except NoteError as exc:
        raise WorkspaceError(str(exc)) from exc
    echo(f"Added {kind} note {made.id} on {clean(repo.name)}/{clean(_where(rel, made))}")
    echo(f"  {target} (commit it with the code)")


def _notes_dir(repo: RepoSpec) -> Path:
    return repo.root / FOLDER.rstrip("/")


def _find(ident: str, root: Path | None = None) -> tuple[RepoSpec, TeamNote]:
    """The note whose id is `ident` (or the only one starting with it) in the workspace at the current
    folder, read straight from its file."""
    if not ident or not valid_id(ident):
        raise click.UsageError(f"{ident!r} is not a note id")
    ws = discover(root or Path.cwd())
    hits: list[tuple[RepoSpec, Path]] = []
    for repo in ws.repos:
        folder = _notes_dir(repo)
        if folder.is_dir() and not folder.is_symlink():
            hits += [(repo, p) for p in sorted(folder.glob("*.toml")) if p.stem == ident or p.stem.startswith(ident)]
    exact = [(r, p) for r, p in hits if p.stem == ident]
    hits = exact or hits
    if not hits:
        raise WorkspaceError(f"no note {ident!r} in {', '.join(r.name for r in ws.repos) or ws.root}")
    if len(hits) > 1:
        raise WorkspaceError(f"{ident!r} names {len(hits)} notes ({', '.join(p.stem for _r, p in hits[:5])}); give more of the id")
    repo, p = hits[0]
    made, err = parse(repo.name, note_path(p.stem), p.read_text(encoding="utf-8", errors="replace"))
    if made is None:
        where = f":{err.line + 1}" if err and err.line is not None else ""
        raise WorkspaceError(f"{p}{where}: not a readable note: {err.reason if err else 'unknown'}")
    return repo, made


@note.command("rm")
@click.argument("ident", metavar="ID")
@friendly
def rm(ident: str) -> None:
    """Remove the note ID (its file under .lore/notes/)."""
    repo, found = _find(ident)
    try:
        target = remove_note(repo.root, found)
    except NoteError as exc:
        raise WorkspaceError(str(exc)) from exc
    echo(f"Removed note {found.id} ({target})")


@note.command("move")
@click.argument("ident", metavar="ID")
@click.argument("location")
@friendly
def move(ident: str, location: str) -> None:
    """Re-anchor the note ID on FILE:LINE or FILE:FIRST-LAST (1-based)."""
    path, first, last = parse_range(location)
    repo, rel, code = _locate(path)
    _lines_of(code, first, last, location)
    owner, found = _find(ident, path.parent)
    if owner.root != repo.root:
        raise WorkspaceError(f"note {found.id} belongs to {owner.name}; a note moves within its repository")
    try:
        moved, target = move_note(repo.root, found, rel, first, last, source_text=code)
    except NoteError as exc:
        raise WorkspaceError(str(exc)) from exc
    echo(f"Moved note {moved.id} to {clean(repo.name)}/{clean(_where(rel, moved))} ({target})")


def _snapshot(path: Path, cache_dir: Path | None) -> tuple[Workspace, Any]:
    from lore.cli.main import open_engine

    ws, engine = open_engine(path, cache_dir)
    snap, report = engine.refresh()
    for msg in report.messages:
        echo(f"lore: {msg}", err=True)
    return ws, snap


def _scope(ws: Workspace, path: Path) -> tuple[list[RepoSpec], str]:
    """The repos a PATH argument covers, and the repo-relative prefix inside one ('' for all of it)."""
    target = path.absolute()
    found = ws.locate(target)
    if found is not None and found[1] and not found[1].startswith("../") and found[1] != ".":
        return [found[0]], found[1]
    if found is not None and found[1] in ("", "."):
        return [found[0]], ""
    return list(ws.repos), ""


def _row(repo: str, p: query_notes.Placed) -> dict[str, Any]:
    n, at = p.note, p.at
    return {"id": n.id, "repo": repo, "kind": n.kind, "text": n.text, "author": n.author, "agent": n.agent,
            "created": n.created, "refs": list(n.refs), "note_file": n.path, "status": at.status, "path": at.path,
            "lines": [at.start_line + 1, at.end_line + 1], "symbol": at.symbol, "how": at.how,
            "anchored": {"path": n.anchor.path, "lines": [n.anchor.start_line + 1, n.anchor.end_line + 1],
                         "symbol": n.anchor.symbol}}


@note.command("list")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--orphaned", is_flag=True, help="Only the notes whose code is gone, at their last known location.")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: {"line_base": 1, "notes": [...]} (lines in it are 1-based, as `line_base` says).')
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
@friendly
def list_notes(path: Path, orphaned: bool, as_json: bool, cache_dir: Path | None) -> None:
    """The notes of the workspace (or of PATH: a repo, folder or file), where each is now. Files under
    .lore/notes/ that are not notes are named on stderr with the reason."""
    if not path.exists():
        raise WorkspaceError(f"{path}: no such file or folder")
    ws, snap = _snapshot(path, cache_dir)
    repos, prefix = _scope(ws, path)
    found: list[tuple[str, query_notes.Placed]] = []
    for repo in repos:
        for p in query_notes.placed_notes(snap, repo.name):
            if orphaned and p.at.attached:
                continue
            if prefix and not any(x == prefix or x.startswith(prefix.rstrip("/") + "/") for x in (p.at.path, p.note.anchor.path)):
                continue
            found.append((repo.name, p))
        for (r, fpath), ff in sorted(snap.files.items()):
            if r == repo.name and fpath.startswith(FOLDER) and not ff.notes:
                for e in ff.errors:
                    where = f":{e.line + 1}" if e.line is not None else ""
                    echo(f"lore: {clean(f'{r}/{fpath}{where}: not a note: {e.reason}', 600)}", err=True)
    found.sort(key=lambda rp: (rp[0], rp[1].at.path, rp[1].at.start_line, rp[1].note.id))
    if as_json:
        echo_json({"line_base": 1, "notes": [_row(r, p) for r, p in found]})  # lines as people read them
        return
    if not found:
        echo("No orphaned notes." if orphaned else "No notes. `lore note add FILE:LINE \"text\"` writes one.")
        return
    for repo_name, p in found:
        n, at = p.note, p.at
        where = f"{repo_name}/{at.path}:{at.start_line + 1}-{at.end_line + 1}" + (f" ({at.symbol})" if at.symbol else "")
        state = {"exact": "", "unverified": " [unverified]"}.get(at.status, f" [{at.status}]")
        label = "last seen at " if at.status == "orphaned" else ""
        echo(f"{n.id}  {n.kind:8} {clean(label + where, 600)}{state}")  # id and kind are validated
        echo(f"    {clean(n.text, 300)}")
        echo(f"    {clean(query_notes.who(n))}" + (f"; refs {clean(', '.join(n.refs))}" if n.refs else ""))
        if at.how and at.status != "exact":
            echo(f"    {clean(at.how)}")


@note.command("refresh")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--dry-run", is_flag=True, help="Say what would be re-anchored; write nothing.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
@friendly
def refresh(path: Path, dry_run: bool, cache_dir: Path | None) -> None:
    """Re-anchor the notes whose code moved, changed or was renamed (so that each note file describes the
    code as it is now; commit the result). Orphans are left as they are."""
    if not path.exists():
        raise WorkspaceError(f"{path}: no such file or folder")
    ws, snap = _snapshot(path, cache_dir)
    repos, _prefix = _scope(ws, path)
    changed = 0
    for repo in repos:
        for p in query_notes.placed_notes(snap, repo.name):
            if not p.at.attached or p.at.status in ("exact", "unverified"):
                continue
            changed += 1
            if dry_run:
                echo(clean(f"would re-anchor {p.note.id}: {p.note.anchor.path}:{p.note.anchor.start_line + 1} -> "
                                 f"{p.at.path}:{p.at.start_line + 1}-{p.at.end_line + 1} ({p.at.how})", 600))
                continue
            try:
                move_note(repo.root, p.note, p.at.path, p.at.start_line, p.at.end_line)
            except NoteError as exc:
                echo(f"lore: note {p.note.id}: {exc}", err=True)
                continue
            echo(clean(f"re-anchored {p.note.id} on {p.at.path}:{p.at.start_line + 1}-{p.at.end_line + 1} ({p.at.how})", 600))
    if not changed:
        echo("Every attached note is anchored where its code is.")
