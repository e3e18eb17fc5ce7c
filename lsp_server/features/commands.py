"""The `lore.*` commands (workspace/executeCommand) and the `lore/context` request: plain results the
editor extensions and agents show or copy."""

from __future__ import annotations

from typing import Any

from indexers.model import to_plain
from indexers.snapshot import Snapshot
from lore.query import context as query
from lore.query.render import render_sections_plain
from lsp_server.convert import clamp, converter_location
from lsp_server.features.references import entity_locations
from lsp_server.state import Doc, locate


class BadArguments(ValueError):
    """Arguments a command cannot use; the message says what was expected."""


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadArguments(f"{what} must be a non-negative integer, got {value!r}")
    return value


def show_consumers(snap: Snapshot, args: list[Any]) -> list[dict[str, Any]]:
    """args: [uri, line, col, entityId, role?] -> LSP Locations (JSON) of the consumers (or `role`)."""
    if len(args) < 4 or not isinstance(args[3], str):
        raise BadArguments("lore.showConsumers expects [uri, line, character, entityId, role?]")
    role = args[4] if len(args) > 4 and args[4] in ("consumes", "provides") else "consumes"
    return [converter_location(loc) for loc in entity_locations(snap, args[3], role)]


def _lines(doc: Doc, args: list[Any], name: str) -> tuple[int, int]:
    if len(args) < 2:
        raise BadArguments(f"{name} expects [uri, startLine, endLine?]")
    first = _int(args[1], "startLine")
    last = _int(args[2], "endLine") if len(args) > 2 and args[2] is not None else first
    first, _ = clamp(first, 0, doc.lines)
    last, _ = clamp(max(last, first), 0, doc.lines)
    return first, last


def show_history(snap: Snapshot, doc: Doc, args: list[Any]) -> str:
    first, last = _lines(doc, args, "lore.showHistory")
    key = locate(snap, doc)
    if key is None:
        return "Lore: this file is not in an indexed repository."
    text = render_sections_plain(query.history_sections(snap, key[0], key[1], first, last))
    return text or f"No history notes for {key[0]}/{key[1]}:{first + 1}-{last + 1}."


def copy_context(snap: Snapshot, doc: Doc, args: list[Any]) -> str:
    first, last = _lines(doc, args, "lore.copyContext")
    key = locate(snap, doc)
    if key is None:
        return "Lore: this file is not in an indexed repository."
    ctx = query.context(snap, key[0], key[1], first, None, last, text=doc.text)
    body = render_sections_plain(ctx.sections)
    head = f"# System context for {key[0]}/{key[1]}:{first + 1}" + (f"-{last + 1}" if last != first else "")
    return head + "\n" + (body or "Lore knows nothing about these lines.")


def context(snap: Snapshot, doc: Doc, line: int, col: int | None, end_line: int | None) -> dict[str, Any] | None:
    """The `lore/context` result: the query.Context as plain JSON, or None outside indexed repos."""
    key = locate(snap, doc)
    if key is None:
        return None
    line, c = clamp(line, col or 0, doc.lines)
    end = clamp(end_line, 0, doc.lines)[0] if end_line is not None else None
    ctx = query.context(snap, key[0], key[1], line, c if col is not None else None, end, text=doc.text)
    if col is not None and not ctx.entity_ids:
        # Show Context / Show Consumers from anywhere on the line: the cursor need not be on the call
        whole = query.context(snap, key[0], key[1], line, None, end, text=doc.text)
        if whole.entity_ids:
            ctx = whole
    return to_plain(ctx)  # type: ignore[no-any-return]
