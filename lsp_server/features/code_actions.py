"""Code actions on a selection: show consumers/providers of the contract there, show the history of the
selected lines, copy the system context for an AI prompt, add a team note to the lines, and quick fixes: add a missing dependency to
the caller's catalog-info.yaml; reserve, deprecate or restore a contract element whose deletion breaks
consumers (`breaking`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import context as query
from lore.query import diagnostics as problems_mod
from lore.query import navigation
from lsp_server.convert import clamp, file_of, path_to_uri
from lsp_server.features import breaking, catalog_edit, notes
from lsp_server.state import Doc, locate

log = logging.getLogger(__name__)

SHOW_CONSUMERS = "lore.showConsumers"
SHOW_HISTORY = "lore.showHistory"
COPY_CONTEXT = "lore.copyContext"


def _selection(doc: Doc, rng: t.Range) -> tuple[int, int, int]:
    line, col = clamp(rng.start.line, rng.start.character, doc.lines)
    end, _ = clamp(rng.end.line, rng.end.character, doc.lines)
    return line, col, max(end, line)


# History notes that are a reason to look at the lines' history (a routine last change is not).
ROUTINE_HISTORY = frozenset({"last_change", "coupling", "service_coupling", "decision", "history_pending"})


def code_actions(snap: Snapshot, doc: Doc, rng: t.Range, read_text: dict[str, str] | None = None,
                 found: breaking.Result | None = None, context: Sequence[t.Diagnostic] = (),
                 versioned: bool = False, invoked: bool = False) -> list[t.CodeAction]:
    """`read_text` maps file URIs to open buffer text, so an edit targets what the editor shows; `found`
    is the document's breaking-change result (for the buffer text `doc.text`), `context` the client's
    diagnostics in the range; `versioned`: the client takes versioned edits (documentChanges).

    Actions only where they have a subject (no light bulb on every line): consumers/providers where a
    contract entity is, the history where the lines carry a workaround, hotfix, revert or marker; the AI
    context there too, or for a selection the user asked actions for (`invoked`)."""
    key = locate(snap, doc)
    if key is None:
        return []
    line, col, end = _selection(doc, rng)
    out: list[t.CodeAction] = breaking_fixes(snap, doc, rng, found, context, versioned)
    ids = navigation.entity_ids_at(snap, key[0], key[1], line, col if end == line else None)[:3]
    for ident in ids:
        for role, label in (("consumes", "consumer"), ("provides", "provider")):
            n = len(navigation.entity_references(snap, ident, include_declaration=False, role=role))
            if n:
                out.append(t.CodeAction(title=f"Lore: show {plural(n, label)} of {ident}", kind=t.CodeActionKind.Empty,
                                        command=t.Command(title=f"Show {label}s", command=SHOW_CONSUMERS,
                                                          arguments=[doc.uri, line, col, ident, role])))
    notable = notable_history(snap, key, line, end)
    if notable:
        out.append(t.CodeAction(title="Lore: show history of the selected lines", kind=t.CodeActionKind.Empty,
                                command=t.Command(title="Show history", command=SHOW_HISTORY, arguments=[doc.uri, line, end])))
    selection = rng.start != rng.end
    if ids or notable or (invoked and selection):
        out.append(t.CodeAction(title="Lore: copy system context for an AI prompt", kind=t.CodeActionKind.Empty,
                                command=t.Command(title="Copy context", command=COPY_CONTEXT, arguments=[doc.uri, line, end])))
    if ids or notable or invoked:  # a note is about lines the user chose: asked for, or lines with a subject
        out.append(notes.add_note_action(doc.uri, line, end))
    out.extend(dependency_fixes(snap, key, line, end, read_text or {}))
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def notable_history(snap: Snapshot, key: tuple[str, str], first: int, last: int) -> bool:
    """Whether the lines carry history worth a look: a workaround, hotfix, revert, ... or a marker."""
    sections = query.history_sections(snap, key[0], key[1], first, last, wait=False)  # never waits for git blame
    return any(n.kind not in ROUTINE_HISTORY for sec in sections if sec.name in ("history", "markers") for n in sec.notes)


def breaking_fixes(snap: Snapshot, doc: Doc, rng: t.Range, found: breaking.Result | None,
                   context: Sequence[t.Diagnostic], versioned: bool = False) -> list[t.CodeAction]:
    if found is None or doc.text is None or found.text != doc.text:
        return []  # edits are exact: only for the text they were computed on
    try:
        return breaking.code_actions(snap, doc.uri, found, rng, context, doc.version if versioned else None)
    except Exception:  # noqa: BLE001 - the other actions still answer
        log.exception("breaking-change fixes failed for %s", doc.uri)
        return []


def dependency_fixes(snap: Snapshot, key: tuple[str, str], first: int, last: int,
                     read_text: dict[str, str]) -> list[t.CodeAction]:
    out: list[t.CodeAction] = []
    seen: set[tuple[str, str, str]] = set()
    for p in problems_mod.undeclared_dependencies(snap, key[0], key[1]):
        if not p.range.overlaps_lines(first, last):
            continue
        d = p.data
        ident = (d["catalog_path"], d["key"], d["value"])
        if ident in seen:
            continue
        seen.add(ident)
        path = file_of(snap, problems_mod.Location(d["catalog_repo"], d["catalog_path"], p.range))
        if path is None:
            continue
        uri = path_to_uri(path)
        text = read_text.get(uri)
        if text is None:
            text = _read(path)
        if text is None:
            continue
        ins = catalog_edit.insertion(text, d["service"], d["key"], d["value"])
        if ins is None:
            continue
        pos = t.Position(ins.line, ins.col)
        edit = t.WorkspaceEdit(changes={uri: [t.TextEdit(range=t.Range(pos, pos), new_text=ins.text)]})
        out.append(t.CodeAction(title=f"Lore: add {d['value']} to spec.{d['key']} in {d['catalog_path']}",
                                kind=t.CodeActionKind.QuickFix, edit=edit, is_preferred=True))
    return out


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > catalog_edit.MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
