"""Breaking changes of an open contract file, as you type: the buffer compared with the file at the
baseline (`lore.check`), published as diagnostics that name the consumers that would break, with
the findings' fixes (reserve, mark deprecated, restore) offered as quick fixes.

Pure: the caller supplies the Snapshot, the buffer text and the base text (read from git and cached by
the session). A deleted element is reported on the buffer line where it was (the deletion point,
found by diffing the base with the buffer), since that is the line the user just changed; anything else
is reported where `lore.check` places it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types as t

from indexers.model import Location, Span
from indexers.positions import utf16_len
from indexers.snapshot import Snapshot
from lore.check.compare import findings_for_text, is_contract_path
from lore.check.findings import ERROR, Consumer, Finding
from lore.check.suppress import IgnoreRule
from lore.query.diagnostics import changed_head_lines
from lsp_server.convert import file_of, path_to_uri, to_location, to_range

SOURCE = "lore"
MAX_SERVICES_NAMED = 4
MAX_SITES_PER_SERVICE = 2
MAX_RELATED = 20
PREFERRED = ("reserve", "deprecate", "restore")  # the first fix a finding has is the preferred one


@dataclass(frozen=True)
class Result:
    """The findings of one buffer text against one base text; ranges refer to `text`."""

    repo: str
    path: str
    text: str
    base_text: str
    base_sha: str
    findings: tuple[Finding, ...] = ()
    moved: dict[int, tuple[int, bool]] = field(default_factory=dict)  # base line -> (buffer line, deleted?)


def wants(path: str) -> bool:
    return is_contract_path(path)


def analyse(snap: Snapshot, repo: str, path: str, text: str, base_text: str, base_sha: str,
            ignore: Sequence[IgnoreRule] = ()) -> Result:
    """Breaking changes of `text` against `base_text`; suppressed findings (lore:ignore, lore.toml) are
    left out."""
    if text == base_text:
        return Result(repo, path, text, base_text, base_sha)
    found = tuple(f for f in findings_for_text(snap, repo, path, text, base_text, ignore=ignore) if f.breaking)
    moved: dict[int, tuple[int, bool]] = {}
    if any(f.new is None for f in found):
        moved = changed_head_lines(base_text.split("\n"), text.split("\n"))
    return Result(repo, path, text, base_text, base_sha, found, moved)


def _line_span(lines: list[str], line: int) -> Span:
    line = min(max(line, 0), max(len(lines) - 1, 0))
    body = (lines[line] if lines else "").rstrip("\r")
    indent = len(body) - len(body.lstrip())
    return Span(line, utf16_len(body[:indent]), line, utf16_len(body))


def report_range(res: Result, f: Finding, lines: list[str]) -> Span:
    """Where the diagnostic goes in the buffer (see the module docstring)."""
    if f.new is None and f.old is not None and f.old.path == res.path and f.at.path == res.path:
        hit = res.moved.get(f.old.range.start_line)
        if hit is not None:
            return _line_span(lines, hit[0])
    rng = f.at.range
    if (rng.start_line, rng.start_col) == (rng.end_line, rng.end_col):
        return _line_span(lines, rng.start_line)
    return rng


def _by_service(consumers: Sequence[Consumer]) -> dict[str, list[Consumer]]:
    out: dict[str, list[Consumer]] = {}
    seen: set[tuple[str, str, int]] = set()
    for c in sorted(consumers, key=lambda c: (c.service or c.repo, c.repo, c.path, c.line)):
        if (c.repo, c.path, c.line) in seen:
            continue
        seen.add((c.repo, c.path, c.line))
        out.setdefault(c.service or c.repo, []).append(c)
    return out


def message(f: Finding) -> str:
    """The finding's message and who it breaks: `...; breaks 2 consumers: checkout (checkout/a.py:10), ...`."""
    groups = _by_service(f.consumers)
    if not groups:
        return f"{f.message} (no known consumers)"
    parts = []
    for name, sites in list(groups.items())[:MAX_SERVICES_NAMED]:
        where = ", ".join(f"{c.repo}/{c.path}:{c.line + 1}" for c in sites[:MAX_SITES_PER_SERVICE])
        more = f", +{len(sites) - MAX_SITES_PER_SERVICE} more" if len(sites) > MAX_SITES_PER_SERVICE else ""
        parts.append(f"{name} ({where}{more})")
    rest = len(groups) - MAX_SERVICES_NAMED
    tail = f", and {rest} more" if rest > 0 else ""
    n = len(groups)
    return f"{f.message}; breaks {n} consumer{'s' if n != 1 else ''}: {', '.join(parts)}{tail}"


def _related(snap: Snapshot, res: Result, f: Finding) -> list[t.DiagnosticRelatedInformation]:
    out: list[t.DiagnosticRelatedInformation] = []
    for name, sites in _by_service(f.consumers).items():
        for c in sites:
            loc = to_location(snap, Location(c.repo, c.path, Span.line(c.line)))
            if loc is not None and len(out) < MAX_RELATED:
                out.append(t.DiagnosticRelatedInformation(loc, f"{name} uses {c.entity} here"))
    if f.old is not None:
        path = file_of(snap, f.old)
        if path is not None and path.is_file():
            out.append(t.DiagnosticRelatedInformation(
                t.Location(path_to_uri(path), to_range(f.old.range)),
                f"{f.entity} at the base {res.base_sha[:10]} (line {f.old.range.start_line + 1} there)"))
    return out


def to_diagnostic(snap: Snapshot, res: Result, f: Finding, lines: list[str]) -> t.Diagnostic:
    sev = t.DiagnosticSeverity.Error if f.severity == ERROR else t.DiagnosticSeverity.Warning
    return t.Diagnostic(range=to_range(report_range(res, f, lines)), message=message(f), severity=sev, code=f.rule,
                        source=SOURCE, related_information=_related(snap, res, f) or None,
                        data={"entity": f.entity, "fixes": [x.kind for x in f.fixes], "base": res.base_sha})


def diagnostics(snap: Snapshot, res: Result) -> list[t.Diagnostic]:
    lines = res.text.split("\n")
    return [to_diagnostic(snap, res, f, lines) for f in res.findings]


def _same(a: t.Diagnostic, b: t.Diagnostic) -> bool:
    return a.source == b.source and a.code == b.code and a.range == b.range


def code_actions(snap: Snapshot, uri: str, res: Result, rng: t.Range, context: Sequence[t.Diagnostic] = (),
                 version: int | None = None) -> list[t.CodeAction]:
    """Quick fixes of the findings whose diagnostic touches the lines of `rng`. `res.text` must be the
    buffer the client shows (the edits are exact); with the buffer's `version` (for clients that take
    versioned edits) the client refuses an edit once the buffer has changed."""
    lines = res.text.split("\n")
    out: list[t.CodeAction] = []
    for f in res.findings:
        span = report_range(res, f, lines)
        if not span.overlaps_lines(rng.start.line, max(rng.end.line, rng.start.line)):
            continue
        mine = to_diagnostic(snap, res, f, lines)
        diag = next((d for d in context if _same(d, mine)), mine)
        preferred = next((k for k in PREFERRED if any(x.kind == k for x in f.fixes)), None)
        for fix in f.fixes:
            changes: dict[str, list[t.TextEdit]] = {}
            for e in fix.edits:
                target = uri if (e.repo, e.path) == (res.repo, res.path) else _uri(snap, e.repo, e.path)
                if target is None:
                    break
                changes.setdefault(target, []).append(t.TextEdit(to_range(e.range), e.new_text))
            else:
                if changes:
                    out.append(t.CodeAction(title=f"Lore: {fix.title}", kind=t.CodeActionKind.QuickFix, diagnostics=[diag],
                                            edit=_workspace_edit(changes, uri, version), is_preferred=fix.kind == preferred))
    return out


def _workspace_edit(changes: dict[str, list[t.TextEdit]], uri: str, version: int | None) -> t.WorkspaceEdit:
    if version is None:
        return t.WorkspaceEdit(changes=changes)
    return t.WorkspaceEdit(document_changes=[
        t.TextDocumentEdit(t.OptionalVersionedTextDocumentIdentifier(u, version if u == uri else None), list(edits))
        for u, edits in changes.items()])


def _uri(snap: Snapshot, repo: str, path: str) -> str | None:
    p = file_of(snap, Location(repo, path, Span.line(0)))
    return path_to_uri(p) if p is not None else None
