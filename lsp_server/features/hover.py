"""Hover: the system context at a position as `lore.query.brief` renders it (a headline, then one line per
section, most important first; repository text escaped by `lore.query.render`), with file:// links for
every cited location. A hover never waits for git: a file's line history is read in the background
(`lsp_server.prefetch`) and shown from the next hover on."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import context as query
from lore.query.brief import render_brief
from lsp_server.convert import clamp, hover_link, to_range
from lsp_server.settings import Settings
from lsp_server.state import Doc, locate

# Notes that hold everywhere in a file; alone they do not deserve a hover on every identifier.
QUIET_KINDS = frozenset({"service", "owner", "last_change", "pipeline", "history_pending"})


def hover(snap: Snapshot, doc: Doc, position: t.Position, settings: Settings) -> t.Hover | None:
    key = locate(snap, doc)
    if key is None:
        return None
    line, col = clamp(position.line, position.character, doc.lines)
    # never waits for git: history the server has not read yet is pending (lsp_server/prefetch.py reads it)
    ctx = query.context(snap, key[0], key[1], line, col, text=doc.text, wait=False)
    if not ctx.entity_ids and not any(n.kind not in QUIET_KINDS for s in ctx.sections for n in s.notes):
        return None
    text = render_brief(ctx, max_notes=settings.max_hover_notes, resolve=lambda loc: hover_link(snap, loc))
    if not text:
        return None
    spans = [e.range for e in snap.entities_at(key[0], key[1], line, col) if e.range.contains(line, col)]
    spans += [lk.range for lk in snap.links_at(key[0], key[1], line, col)]
    rng = to_range(min(spans, key=lambda s: s.size)) if spans else None
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text), range=rng)
