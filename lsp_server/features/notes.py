"""Team notes in the editor: the "Add a note to these lines" action and its command, and the diagnostics
of the note files themselves (`.lore/notes/`): a note whose code is gone (orphaned), a file that is not a
note. Hover and the edited-lines diagnostic come through `lore.query` like everything else.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from indexers.sources.notes.teamnotes import FOLDER
from lore.notes.write import NoteError
from lore.notes.write import add_note as write_note
from lore.query import notes as query_notes
from lsp_server.convert import clamp, path_to_uri
from lsp_server.state import Doc, locate

ADD_NOTE = "lore.addNote"
SOURCE = "lore"


class BadNote(ValueError):
    """Arguments or a place a note cannot be written for; the message says why."""


def add_note_action(uri: str, first: int, last: int) -> t.CodeAction:
    return t.CodeAction(title="Lore: add a note to these lines", kind=t.CodeActionKind.Empty,
                        command=t.Command(title="Add a note", command=ADD_NOTE, arguments=[uri, first, last]))


def add_note(snap: Snapshot, doc: Doc, args: list[Any]) -> dict[str, Any]:
    """args: [uri, startLine, endLine?, text?, kind?]. Writes `.lore/notes/<id>.toml` anchored to the lines
    as the buffer shows them. Without a text, the note is written with an empty text for the user to fill
    in (the editor opens it; until then it is reported as not yet a note). Returns {id, uri, line}: the
    note file and the 0-based line to type the text on."""
    if len(args) < 2 or any(isinstance(a, bool) or not isinstance(a, int) or a < 0 for a in args[1:3] if a is not None):
        raise BadNote(f"{ADD_NOTE} expects [uri, startLine, endLine?, text?, kind?]")
    key = locate(snap, doc)
    root = snap.repo_root(key[0]) if key is not None else None
    if key is None or root is None:
        raise BadNote("this file is not in an indexed repository")
    first, _ = clamp(args[1], 0, doc.lines)
    last, _ = clamp(args[2] if len(args) > 2 and args[2] is not None else first, 0, doc.lines)
    text = args[3] if len(args) > 3 and isinstance(args[3], str) else ""
    kind = args[4] if len(args) > 4 and isinstance(args[4], str) else "tip"
    try:
        made, target = write_note(root, key[1], first, max(first, last), text, kind=kind, source_text=doc.text,
                                  allow_empty=not text.strip())
    except NoteError as exc:
        raise BadNote(str(exc)) from exc
    line = next((i for i, s in enumerate(target.read_text(encoding="utf-8").split("\n")) if s.startswith("text = ")), 1)
    return {"id": made.id, "uri": path_to_uri(target), "line": line + 1, "path": made.path,
            "lines": [made.anchor.start_line + 1, made.anchor.end_line + 1], "symbol": made.anchor.symbol}


def show_note(result: dict[str, Any]) -> t.ShowDocumentParams:
    pos = t.Position(int(result.get("line", 0)), 0)
    return t.ShowDocumentParams(uri=str(result["uri"]), take_focus=True, selection=t.Range(pos, pos))


# -- the note files' own diagnostics -------------------------------------------------------------------
def _diag(line: int, message: str, code: str, severity: t.DiagnosticSeverity, data: dict[str, Any] | None = None) -> t.Diagnostic:
    pos = max(line, 0)
    return t.Diagnostic(range=t.Range(t.Position(pos, 0), t.Position(pos, 0)), message=message, severity=severity,
                        code=code, source=SOURCE, data=data)


def note_file_diagnostics(snap: Snapshot) -> dict[str, list[t.Diagnostic]]:
    """URI of every note file with something to say -> its diagnostics: orphaned notes (warning: their
    code is gone; the message says where it was last seen) and files that are not notes (error)."""
    out: dict[str, list[t.Diagnostic]] = {}
    for repo, info in sorted(snap.repos.items()):
        if info.root is None:
            continue
        for p in query_notes.orphans(snap, repo):
            a = p.at
            where = f"{a.path}:{a.start_line + 1}-{a.end_line + 1}" + (f" ({a.symbol})" if a.symbol else "")
            msg = (f"orphaned note: the code it is about is gone (last seen at {where}; {a.how}). "
                   f"Move it (lore note move {p.note.id} FILE:LINE) or remove it (lore note rm {p.note.id}).")
            out.setdefault(path_to_uri(info.root / p.note.path), []).append(
                _diag(p.note.line, msg, "orphaned-note", t.DiagnosticSeverity.Warning,
                      {"note": p.note.id, "path": a.path, "lines": [a.start_line + 1, a.end_line + 1]}))
        for r, path in snap.files:  # the note folder's files only are read (a served index reads on demand)
            if r != repo or not path.startswith(FOLDER):
                continue
            ff = snap.files[(r, path)]
            if ff.notes:
                continue
            for e in ff.errors:
                out.setdefault(path_to_uri(info.root / path), []).append(
                    _diag(e.line or 0, f"not a team note: {e.reason}", "invalid-note", t.DiagnosticSeverity.Error))
    return out


def for_document(snap: Snapshot, doc: Doc) -> list[t.Diagnostic]:
    """The note-file diagnostics of one open document (its pipeline publishes them with the rest)."""
    key = locate(snap, doc)
    root = snap.repo_root(key[0]) if key is not None else None
    if key is None or root is None or not key[1].startswith(FOLDER):
        return []
    return note_file_diagnostics(snap).get(path_to_uri(root / key[1]), [])
