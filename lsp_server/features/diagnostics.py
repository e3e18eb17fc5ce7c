"""Diagnostics of one open document: `lore.query.diagnostics` problems as LSP diagnostics, source "lore",
one code per kind, related information pointing at the evidence."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import diagnostics as problems_mod
from lsp_server.convert import to_location, to_range
from lsp_server.state import Doc, locate

SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning,
            "information": t.DiagnosticSeverity.Information, "hint": t.DiagnosticSeverity.Hint}
SOURCE = "lore"


def problems(snap: Snapshot, doc: Doc, head_lines: list[str] | None) -> list[problems_mod.Problem]:
    key = locate(snap, doc)
    if key is None:
        return []
    return problems_mod.problems(snap, key[0], key[1], head_lines=head_lines, buffer_lines=doc.lines)


def to_diagnostic(snap: Snapshot, p: problems_mod.Problem) -> t.Diagnostic:
    related = []
    for r in p.related:
        loc = to_location(snap, r.location)
        if loc is not None:
            related.append(t.DiagnosticRelatedInformation(location=loc, message=r.message))
    return t.Diagnostic(range=to_range(p.range), message=p.message, severity=SEVERITY.get(p.severity),
                        code=p.code, source=SOURCE, related_information=related or None, data=p.data or None)


def diagnostics(snap: Snapshot, doc: Doc, head_lines: list[str] | None) -> list[t.Diagnostic]:
    return [to_diagnostic(snap, p) for p in problems(snap, doc, head_lines)]


def wants_head(snap: Snapshot) -> bool:
    """Whether history diagnostics can run at all (so HEAD text is worth reading)."""
    return snap.history is not None and hasattr(snap.history, "flagged_lines")
