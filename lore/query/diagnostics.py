"""Problems Lore reports in a file: plain `Problem` records the server publishes as diagnostics.

Pure: a Snapshot (with the file's unsaved buffer already overlaid), and for history checks the file's
text at HEAD and in the buffer. Three kinds, each citing its evidence:

- `deprecated-use`: a consumer link to a contract entity its declaration marks deprecated.
- `undeclared-dependency`: code in a service with a catalog entry calls a contract another service
  provides, and the catalog declares neither a `dependsOn` on that service nor a `consumesApis` of an API
  that service provides. Only when a provider is known from a provides link (precision over recall).
- `edits-<kind>`: the buffer changes or deletes a line whose last commit at HEAD is a workaround, hotfix
  or revert (from `snap.history.flagged_lines`, when the history layer provides it).
- `edits-noted-lines`: the buffer changes or deletes lines a team note of kind warning or incident is
  about (placed in the file at HEAD, `lore.query.notes`).
- `parse-error`: where the file (the unsaved buffer, when open) did not parse, at the extractor's line.
- `copy-drift`: a declaration in this file is a copy of a contract whose canonical declaration is
  elsewhere, and its wire shape differs from it (see `indexers.copies`); `copy-conflict` when the
  declarations differ and none can be preferred.
- operational problems (`lore.query.ops_problems`): unguarded routes, undefined and unused flags, labels
  a query needs that the metric does not declare, and, against HEAD, metrics, labels and spans that
  alerts, SLOs or dashboards read and the buffer no longer defines.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from indexers.model import Location, Span
from indexers.snapshot import Snapshot
from lore.query import notes as team_notes

log = logging.getLogger(__name__)

MAX_DIFF_LINES = 50_000
HISTORY_KINDS = ("revert", "hotfix", "workaround")  # first match names the diagnostic


@dataclass(frozen=True, slots=True)
class Related:
    message: str
    location: Location


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    severity: str  # error | warning | information | hint
    range: Span
    related: tuple[Related, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


def problems(snap: Snapshot, repo: str, path: str, *, head_lines: Sequence[str] | None = None,
             buffer_lines: Sequence[str] | None = None) -> list[Problem]:
    """All problems of one file, sorted by position."""
    out = deprecated_uses(snap, repo, path) + undeclared_dependencies(snap, repo, path) + copy_drift(snap, repo, path)
    out += unread_parts(snap, repo, path, buffer_lines)
    if head_lines is not None and buffer_lines is not None:
        out += edited_flagged_lines(snap, repo, path, head_lines, buffer_lines)
        out += edited_noted_lines(snap, repo, path, head_lines, buffer_lines)
    from lore.query import ops_problems  # it builds on this module's Problem and line mapping

    try:
        out += ops_problems.problems(snap, repo, path, head_lines=head_lines, buffer_lines=buffer_lines)
    except Exception:  # noqa: BLE001 - operational checks never break the other diagnostics
        log.exception("operational diagnostics failed for %s/%s", repo, path)
    return sorted(out, key=lambda p: (p.range, p.code))


def unread_parts(snap: Snapshot, repo: str, path: str, lines: Sequence[str] | None = None) -> list[Problem]:
    """Where the file (as the buffer has it) did not parse: one `parse-error` per extractor error, at its
    line, so a contract that stops parsing says so instead of going quiet."""
    out: list[Problem] = []
    for err in snap.file_errors(repo, path):  # from the saved run's record when served: not the file's facts
        line = err.line if err.line is not None and err.line >= 0 else 0
        width = len(lines[line].encode("utf-16-le")) // 2 if lines is not None and line < len(lines) else 0
        rng = Span(line, 0, line, width) if width else Span(line, 0, line + 1, 0)
        out.append(Problem("parse-error", f"{err.reason} (Lore skips what does not parse: its contracts and links "
                                          "are missing until it does)",
                           "error" if err.line is not None else "warning", rng, data={"reason": err.reason}))
    return out


def deprecated_uses(snap: Snapshot, repo: str, path: str) -> list[Problem]:
    out: list[Problem] = []
    for lk in snap.links_by_file.get((repo, path), []):
        if lk.role != "consumes":
            continue
        ent = snap.entity(lk.entity)
        if ent is None or ent.attrs.get("deprecated") is not True:
            continue
        where = Location(ent.repo, ent.path, ent.range)
        out.append(Problem("deprecated-use", f"{ent.id} is deprecated in {ent.repo}/{ent.path}:{ent.range.start_line + 1}",
                           "warning", lk.range, (Related(f"{ent.id} declared deprecated here", where),),
                           {"entity": ent.id}))
    return out


def copy_drift(snap: Snapshot, repo: str, path: str) -> list[Problem]:
    """Declarations of this file that drifted from their canonical copy, or that conflict."""
    out: list[Problem] = []
    for e in snap.entities_by_file.get((repo, path), []):
        grp = snap.copies.get(e.id)
        if grp is None:
            continue
        here = (e.repo, e.path, e.range)
        if grp.conflict and here == (grp.canonical.repo, grp.canonical.path, grp.canonical.range):
            others = [d for d in grp.declarations if (d.repo, d.path, d.range) != here]
            related = tuple(Related("another declaration", Location(d.repo, d.path, d.range)) for d in others[:5])
            what = next((c.what_to_do for c in snap.conflicts if c.id == e.id), "")
            out.append(Problem("copy-conflict", f"{e.id} is declared differently in {len(grp.declarations)} places and "
                                                f"none can be preferred; to resolve: {what}", "warning", e.range, related,
                               {"entity": e.id}))
            continue
        for dr in grp.drift:
            if (dr.copy.repo, dr.copy.path, dr.copy.range) != here or not dr.differences or grp.conflict:
                continue
            c = dr.canonical
            more = f" (+{len(dr.differences) - 1} more)" if len(dr.differences) > 1 else ""
            out.append(Problem("copy-drift", f"this copy of {e.id} differs from the canonical declaration in "
                                             f"{c.repo}/{c.path}:{c.range.start_line + 1}: {dr.differences[0]}{more}",
                               "warning", e.range, (Related("the canonical declaration", Location(c.repo, c.path, c.range)),),
                               {"entity": e.id, "differences": list(dr.differences)}))
    return out


def _names(refs: Sequence[str], kinds: tuple[str, ...], default_kind: str) -> dict[str, str]:
    """Lower-cased name -> name as written, for catalog entity refs of the given kinds."""
    from indexers.services import entity_ref

    names: dict[str, str] = {}
    for ref in refs:
        kind, _ns, name = entity_ref(str(ref), default_kind)
        if kind in kinds and name:
            names.setdefault(name.lower(), name)
    return names


def undeclared_dependencies(snap: Snapshot, repo: str, path: str) -> list[Problem]:
    smap = snap.services
    if smap is None or not getattr(smap, "declared", None):
        return []
    caller = snap.service_for(repo, path)
    if caller is None:
        return []
    declared = smap.declared.get((caller.repo, caller.name))
    if declared is None or declared.evidence is None:
        return []  # no catalog entry for this service: nothing is declared, so nothing is missing
    depends = _names(declared.depends_on, ("component", "resource", "system"), "component")
    consumes = _names(declared.consumes_apis, ("api",), "api")
    out: list[Problem] = []
    for lk in snap.links_by_file.get((repo, path), []):
        if lk.role != "consumes":
            continue
        providers = _providers(snap, lk.entity, exclude=caller.name)
        if not providers:
            continue
        missing = []
        for name, site in sorted(providers.items()):
            prov_decl = next((d for (r, n), d in smap.declared.items() if n == name), None)
            apis = _names(prov_decl.provides_apis, ("api",), "api") if prov_decl is not None else {}
            if name.lower() in depends or set(apis) & set(consumes):
                continue
            missing.append((name, site, sorted(apis.values())))
        if not missing:
            continue
        name, site, api_names = missing[0]
        cat = declared.evidence
        related = (Related(f"{name} provides {lk.entity} here", Location(site.repo, site.path, site.range)),
                   Related(f"catalog entry of {caller.name}", Location(cat.repo, cat.path, Span.line(cat.line or 0))))
        key, value = ("consumesApis", api_names[0]) if api_names else ("dependsOn", f"component:{name}")
        out.append(Problem(
            "undeclared-dependency",
            f"{caller.name} uses {lk.entity} provided by {name}, but {cat.path} declares neither "
            f"dependsOn {name} nor consumesApis of its APIs",
            "warning", lk.range, related,
            {"service": caller.name, "provider": name, "catalog_repo": cat.repo, "catalog_path": cat.path,
             "key": key, "value": value, "entity": lk.entity}))
    return out


def _providers(snap: Snapshot, ident: str, exclude: str) -> dict[str, Any]:
    """Service name -> one provides link, for the entity or its ancestors (an rpc's service)."""
    found: dict[str, Any] = {}
    cur: str | None = ident
    depth = 0
    while cur is not None and depth < 8:
        for lk in snap.links_for(cur, "provides"):
            if lk.service and lk.service != exclude:
                found.setdefault(lk.service, lk)
        ent = snap.entity(cur)
        cur = ent.parent if ent is not None else None
        depth += 1
    return found


def _flagged(snap: Snapshot, repo: str, path: str) -> list[Any]:
    hist = snap.history
    fn = getattr(hist, "flagged_lines", None) if hist is not None else None
    if fn is None:
        return []
    try:
        return list(fn(repo, path) or [])
    except Exception:  # noqa: BLE001 - history never breaks the other diagnostics
        log.exception("flagged_lines failed for %s/%s", repo, path)
        return []


def changed_head_lines(head_lines: Sequence[str], buffer_lines: Sequence[str]) -> dict[int, tuple[int, bool]]:
    """HEAD line -> (buffer line where it went, deleted?) for every HEAD line the buffer changed."""
    if len(head_lines) > MAX_DIFF_LINES or len(buffer_lines) > MAX_DIFF_LINES:
        return {}
    out: dict[int, tuple[int, bool]] = {}
    matcher = difflib.SequenceMatcher(None, list(head_lines), list(buffer_lines), autojunk=False)
    last = max(len(buffer_lines) - 1, 0)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or tag == "insert":
            continue
        for h in range(i1, i2):
            if tag == "replace" and j2 > j1:
                out[h] = (min(j1 + min(h - i1, j2 - j1 - 1), last), False)
            else:
                out[h] = (min(j1, last), True)
    return out


def edited_flagged_lines(snap: Snapshot, repo: str, path: str, head_lines: Sequence[str],
                         buffer_lines: Sequence[str]) -> list[Problem]:
    flagged = _flagged(snap, repo, path)
    if not flagged or list(head_lines) == list(buffer_lines):
        return []
    changed = changed_head_lines(head_lines, buffer_lines)
    out: list[Problem] = []
    for fl in flagged:
        line = getattr(fl, "line", None)
        if not isinstance(line, int) or line not in changed:
            continue
        kinds = tuple(getattr(fl, "kinds", ()) or ())
        kind = next((k for k in HISTORY_KINDS if k in kinds), kinds[0] if kinds else "workaround")
        sha = str(getattr(fl, "sha", ""))
        subject = str(getattr(fl, "subject", ""))
        refs = tuple(getattr(fl, "refs", ()) or ())
        at, deleted = changed[line]
        verb = "deletes" if deleted else "changes"
        width = len(buffer_lines[at]) if at < len(buffer_lines) else 0
        rng = Span(at, 0, at, len(buffer_lines[at].encode("utf-16-le")) // 2 if width else 0)
        ref_text = f" ({', '.join(refs)})" if refs else ""
        msg = f"this edit {verb} a line from {kind} commit {sha[:10]}: {subject}{ref_text}"
        out.append(Problem(f"edits-{kind}", msg, "information", rng,
                           (Related(f"commit {sha[:10]}: {subject}", Location(repo, path, Span.line(at))),),
                           {"sha": sha, "kinds": list(kinds), "refs": list(refs), "head_line": line}))
    return out


def edited_noted_lines(snap: Snapshot, repo: str, path: str, head_lines: Sequence[str],
                       buffer_lines: Sequence[str]) -> list[Problem]:
    """The buffer edits lines that a warning or incident note is about (as the file is at HEAD)."""
    if list(head_lines) == list(buffer_lines):
        return []
    try:
        urgent = [n for n in team_notes.candidates(snap, repo, path) if n.kind in team_notes.URGENT]
        if not urgent:
            return []
        changed = changed_head_lines(head_lines, buffer_lines)
        if not changed:
            return []
        lines = sorted(changed)
        placed = team_notes.notes_in_text(snap, repo, path, "\n".join(head_lines), [(lines[0], lines[-1])])
    except Exception:  # noqa: BLE001 - notes never break the other diagnostics
        log.exception("noted-lines check failed for %s/%s", repo, path)
        return []
    out: list[Problem] = []
    for p in placed:
        if p.note.kind not in team_notes.URGENT:
            continue
        hit = [h for h in lines if p.at.start_line <= h <= p.at.end_line]
        if not hit:
            continue
        at, deleted = changed[hit[0]]
        width = len(buffer_lines[at].encode("utf-16-le")) // 2 if at < len(buffer_lines) else 0
        label = team_notes.LABEL.get(p.note.kind, p.note.kind).lower()
        msg = (f"this edit {'deletes' if deleted else 'changes'} lines a {label} note is about: {p.note.text}"
               f" ({team_notes.who(p.note)})")
        where = Location(repo, p.note.path, Span.line(p.note.line))
        out.append(Problem("edits-noted-lines", msg, "information", Span(at, 0, at, width),
                           (Related(f"{label} note {p.note.id}", where),),
                           {"note": p.note.id, "kind": p.note.kind, "note_file": p.note.path,
                            "head_lines": [p.at.start_line + 1, p.at.end_line + 1]}))
    return out
