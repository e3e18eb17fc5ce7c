"""What a hunk of a change touches, one section builder per question (`(ChangeInput, Hunk) -> Section |
None`, the shape of `lore.query.changes.HUNK_SECTIONS`):

- `breaking`: the breaking contract changes (`lore check`'s findings for the repo, computed once per
  repo through `ChangeInput.shared["findings"]`) that this hunk makes, with the consumers they break;
- `history`: the lines this hunk rewrites or deletes that a workaround, hotfix, revert or incident commit
  last wrote (blame at the base, so a commit range is judged on the lines it really replaced);
- `deprecated`: calls to deprecated contract entities on the lines this hunk writes;
- `contract`: the contract entities the hunk declares, deletes or uses, with their providers and
  consumers in other repos;
- `owners`: whom to tell: the owners of the services consuming what the hunk breaks or changes, the
  owners of a deprecated entity it calls, the author of a workaround it edits;
- `markers` and `decisions`: TODO/HACK markers the hunk writes, deletes or sits under, and the ADRs that
  name its file, service or entities.

Every note cites its source and carries `data["key"]`, what makes two notes the same fact (the report
shows a fact once, at its most important hunk). Each builder is pure over the Snapshot, the two texts of
the file and git reads through `indexers` (hardened, never fetching).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from indexers.diff import Hunk
from indexers.history.blame import BlameLine, blame
from indexers.history.notes import decisions_section
from indexers.model import Entity, Link, Location, Marker, Note, Section, Span
from indexers.positions import SourceFile
from indexers.sources.notes.markers import MarkersExtractor
from lore.check.compare import extract as extract_contracts
from lore.check.compare import is_contract_path
from lore.check.findings import Finding
from lore.query.changes import HUNK_SECTIONS, ChangeInput, HunkSection
from lore.query.context import cite, describe_entity
from lore.query.notes import URGENT

log = logging.getLogger(__name__)

FLAG_ORDER = ("incident", "hotfix", "security", "regression_fix", "workaround", "temporary", "reapply", "revert")
FLAG_LABEL = {"incident": "incident fix", "hotfix": "hotfix", "security": "security fix", "regression_fix": "regression fix",
              "workaround": "workaround", "temporary": "temporary change", "reapply": "re-applied change",
              "revert": "revert"}
MAX_SITES = 3  # call sites named per service in one note
MARKERS_ABOVE = 3  # a marker this many lines above a hunk is about it (the comment over the code)

TITLES = {"breaking": "Breaking changes", "history": "Workaround lines edited", "deprecated": "Deprecated contracts called",
          "contract": "Contracts touched", "owners": "Owners to notify", "notes": "Team notes on the changed lines",
          "markers": "Markers", "decisions": "Decisions"}


def findings_for(inp: ChangeInput) -> list[Finding]:
    """The repo's breaking findings, from the callable the report put in `shared["findings"]` (computed on
    first use, once per repo); none when there is no such callable."""
    memo = inp.shared.setdefault("_findings", {})
    if inp.repo not in memo:
        make: Callable[[str], list[Finding]] | None = inp.shared.get("findings")
        memo[inp.repo] = list(make(inp.repo)) if make is not None else []
    return memo[inp.repo]  # type: ignore[no-any-return]


def _in(span: tuple[int, int] | None, line: int) -> bool:
    return span is not None and span[0] <= line <= span[1]


def _gap(h: Hunk) -> tuple[int, int]:
    """For a pure deletion, the working-tree lines around the gap (0-based): where a finding about a
    deleted element is reported."""
    return (max(h.new_start - 1, 0), h.new_start)


def _sites(consumers: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    seen: set[tuple[str, str, int]] = set()
    for c in sorted(consumers, key=lambda c: (c.service or c.repo, c.repo, c.path, c.line)):
        if (c.repo, c.path, c.line) not in seen:
            seen.add((c.repo, c.path, c.line))
            out.setdefault(c.service or c.repo, []).append(c)
    return out


def _who(groups: dict[str, list[Any]]) -> str:
    parts = []
    for name, sites in groups.items():
        where = ", ".join(f"{c.repo}/{c.path}:{c.line + 1}" for c in sites[:MAX_SITES])
        more = f", +{len(sites) - MAX_SITES} more" if len(sites) > MAX_SITES else ""
        parts.append(f"{name} ({where}{more})")
    return ", ".join(parts)


# -- breaking ----------------------------------------------------------------------------------------
def hunk_findings(inp: ChangeInput, h: Hunk) -> list[Finding]:
    """The findings this hunk makes: an element it deletes (at the base, in its old lines) or one it
    changes (in the working tree, in its new lines)."""
    f = inp.file
    paths = {p for p in (f.old_path, f.new_path) if p}
    if not paths or not any(is_contract_path(p) for p in paths):
        return []
    out = []
    for fd in findings_for(inp):
        if not fd.breaking:
            continue
        if fd.new is not None and fd.new.path == f.new_path and _in(h.new_lines, fd.new.range.start_line):
            out.append(fd)
        elif fd.new is None and fd.old is not None and fd.old.path == f.old_path and _in(h.old_lines, fd.old.range.start_line):
            out.append(fd)
        elif fd.new is None and fd.old is None and fd.at.path == f.new_path and _in(h.new_lines or _gap(h), fd.at.range.start_line):
            out.append(fd)
    return out


def breaking(inp: ChangeInput, h: Hunk) -> Section | None:
    """The findings of `hunk_findings`, those that break known consumers first."""
    notes = []
    found = hunk_findings(inp, h)
    found.sort(key=lambda fd: (not fd.consumers, (fd.old or fd.at).range.start_line, fd.rule, fd.entity))
    for fd in found:
        groups = _sites(fd.consumers)
        n = len(groups)
        who = f"; breaks {n} consumer{'s' if n != 1 else ''}: {_who(groups)}" if groups else "; no known consumers"
        at = fd.old if fd.new is None and fd.old is not None else fd.at
        notes.append(Note(f"{fd.rule}: {fd.message}{who}", cite(at.repo, at.path, at.range.start_line), "breaking",
                          Location(at.repo, at.path, at.range),
                          {"key": ["breaking", fd.rule, fd.entity], "rule": fd.rule, "entity": fd.entity,
                           "side": "base" if at is fd.old else "working tree",
                           "severity": fd.severity, "fixes": [x.kind for x in fd.fixes],
                           "consumers": [{"service": c.service, "repo": c.repo, "path": c.path, "line": c.line + 1,
                                          "entity": c.entity} for cs in groups.values() for c in cs]}))
    return Section("breaking", TITLES["breaking"], tuple(notes)) if notes else None


# -- history -----------------------------------------------------------------------------------------
def _base_blame(inp: ChangeInput) -> list[BlameLine]:
    memo = inp.shared.setdefault("_blame", {})
    key = (inp.repo, inp.base, inp.file.old_path)
    if key not in memo:
        hist = inp.snap.history
        cache = getattr(hist, "cache", None)
        try:
            memo[key] = blame(inp.root, inp.file.old_path or "", cache, rev=inp.base) if inp.file.old_path else []
        except Exception as exc:  # noqa: BLE001 - a file that cannot be blamed has no history notes, said once
            log.info("blame at %s failed for %s/%s: %s", inp.base[:12], inp.repo, inp.file.old_path, exc)
            inp.shared.setdefault("problems", []).append(f"{inp.repo}/{inp.file.old_path}: the history of its lines at the base "
                                                         f"is unavailable ({exc})")
            memo[key] = []
    return memo[key]  # type: ignore[no-any-return]


def history(inp: ChangeInput, h: Hunk) -> Section | None:
    """Lines of the base this hunk rewrites or deletes whose last commit is a workaround, hotfix, revert,
    incident fix...: one note per commit, naming the lines."""
    if h.old_lines is None or not inp.file.old_path:
        return None
    commits = inp.snap.commits.get(inp.repo, {})
    lo, hi = h.old_lines
    by_sha: dict[str, list[int]] = {}
    for b in _base_blame(inp):
        if lo <= b.line <= hi and not b.boundary:
            c = commits.get(b.sha)
            if c is not None and any(k in c.kinds for k in FLAG_ORDER):
                by_sha.setdefault(b.sha, []).append(b.line)
    notes = []
    verb = "deletes" if h.new_lines is None else "rewrites"
    for sha, lines in by_sha.items():
        c = commits[sha]
        kind = next(k for k in FLAG_ORDER if k in c.kinds)
        said = dict(c.evidence).get(kind, "")
        refs = [r for r in c.refs if r not in c.subject]
        where = _lines(lines)
        text = (f"this change {verb} {where} from {FLAG_LABEL[kind]} commit {sha[:8]} ({c.date[:10]}, {c.author}): "
                f"{c.subject}" + (f" (refs {', '.join(refs[:3])})" if refs else "") + (f" — '{said}'" if said and said not in c.subject else ""))
        notes.append(Note(text, sha, kind, Location(inp.repo, inp.file.old_path or "", Span.line(lines[0])),
                          {"key": ["history", inp.repo, inp.file.old_path, lines[0]], "side": "base", "sha": sha, "kinds": list(c.kinds),
                           "refs": list(c.refs), "author": c.author, "date": c.date, "base_lines": [x + 1 for x in lines],
                           "subject": c.subject}))
    notes.sort(key=lambda n: FLAG_ORDER.index(n.kind))
    return Section("history", TITLES["history"], tuple(notes)) if notes else None


def _lines(lines: Sequence[int]) -> str:
    lines = sorted(lines)
    if len(lines) == 1:
        return f"line {lines[0] + 1}"
    if lines[-1] - lines[0] == len(lines) - 1:
        return f"lines {lines[0] + 1}-{lines[-1] + 1}"
    return "lines " + ", ".join(str(x + 1) for x in lines)


# -- contracts used and declared -----------------------------------------------------------------------
def _new_links(inp: ChangeInput, h: Hunk) -> list[Link]:
    f = inp.file
    if not f.new_path or h.new_lines is None:
        return []
    lo, hi = h.new_lines
    return [lk for lk in inp.snap.links_by_file.get((inp.repo, f.new_path), []) if lk.range.overlaps_lines(lo, hi)]


def _primary(inp: ChangeInput, links: list[Link]) -> list[tuple[Link, Entity]]:
    """Per line, the entity that matters most (the rpc or operation before its messages and fields): one
    line calling an rpc also touches its request message and fields."""
    from lore.query.context import _ENTITY_KIND_RANK

    best: dict[int, tuple[Link, Entity]] = {}
    for lk in sorted(links, key=lambda lk: (lk.range.start_line, _ENTITY_KIND_RANK.get(getattr(inp.snap.entity(lk.entity), "kind", ""), 5),
                                            -lk.confidence)):
        ent = inp.snap.entity(lk.entity)
        if ent is not None and lk.range.start_line not in best:
            best[lk.range.start_line] = (lk, ent)
    return list(best.values())


def deprecated(inp: ChangeInput, h: Hunk) -> Section | None:
    """Calls to deprecated entities on the lines the hunk writes: `adds` when the base lines it replaces
    did not name the entity, else `edits a line that calls`."""
    old = _old_hunk_text(inp, h)
    notes = []
    seen: set[tuple[str, int]] = set()
    for lk in _new_links(inp, h):
        ent = inp.snap.entity(lk.entity)
        if lk.role != "consumes" or ent is None or ent.attrs.get("deprecated") is not True:
            continue
        if (ent.id, lk.range.start_line) in seen:
            continue
        seen.add((ent.id, lk.range.start_line))
        verb = "edits a line that calls" if ent.name and ent.name in old else "adds a call to"
        notes.append(Note(f"this change {verb} {ent.id}, deprecated in {cite(ent.repo, ent.path, ent.range.start_line)}",
                          cite(lk.repo, lk.path, lk.range.start_line), "deprecated", Location(lk.repo, lk.path, lk.range),
                          {"key": ["deprecated", lk.repo, lk.path, lk.range.start_line, ent.id], "entity": ent.id,
                           "declared": cite(ent.repo, ent.path, ent.range.start_line), "added": verb == "adds a call to"}))
    return Section("deprecated", TITLES["deprecated"], tuple(notes)) if notes else None


def _old_hunk_text(inp: ChangeInput, h: Hunk) -> str:
    if h.old_lines is None:
        return ""
    text = inp.base_text() or ""
    lines = text.split("\n")
    return "\n".join(lines[h.old_lines[0]:h.old_lines[1] + 1])


def _base_entities(inp: ChangeInput) -> list[Entity]:
    memo = inp.shared.setdefault("_base_entities", {})
    key = (inp.repo, inp.file.old_path)
    if key not in memo:
        text = inp.base_text() if inp.file.old_path and is_contract_path(inp.file.old_path) else None
        memo[key] = list(extract_contracts(inp.repo, inp.file.old_path or "", text.encode("utf-8")).entities) if text else []
    return memo[key]  # type: ignore[no-any-return]


def _sites_of(inp: ChangeInput, ent: Entity, role: str) -> list[Link]:
    ids = [ent.id] + (inp.snap.children(ent.id) if ent.kind in _CONTAINERS else [])
    found = {(lk.repo, lk.path, lk.range.start_line): lk for i in ids for lk in inp.snap.links_for(i, role)}
    return [found[k] for k in sorted(found)]


_CONTAINERS = ("proto.service", "proto.message", "openapi.schema", "graphql.type", "sql.table")


def _by_service(links: Sequence[Link]) -> str:
    groups: dict[str, list[Link]] = {}
    for lk in links:
        groups.setdefault(lk.service or f"(no service, repo {lk.repo})", []).append(lk)
    parts = []
    for name, lks in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        where = ", ".join(cite(lk.repo, lk.path, lk.range.start_line) for lk in lks[:MAX_SITES])
        parts.append(f"{name} ({where}{f', +{len(lks) - MAX_SITES} more' if len(lks) > MAX_SITES else ''})")
    return ", ".join(parts)


def contract(inp: ChangeInput, h: Hunk) -> Section | None:
    """Entities the hunk declares or changes (working tree), deletes (base), or uses in code it writes."""
    f = inp.file
    notes: list[Note] = []
    shown: set[str] = set()
    declared: list[Entity] = []
    if f.new_path and h.new_lines is not None:
        lo, hi = h.new_lines
        declared = [e for e in inp.snap.entities_by_file.get((inp.repo, f.new_path), []) if e.range.overlaps_lines(lo, hi)]
    for e in _innermost(declared):
        shown.add(e.id)
        provs, cons = _sites_of(inp, e, "provides"), _sites_of(inp, e, "consumes")
        text = f"changes {e.id} ({describe_entity(e)})"
        if cons:
            text += f"; consumed by {_by_service(cons)}"
        if provs:
            text += f"; provided by {_by_service(provs)}"
        if not cons and not provs:
            text += "; no known providers or consumers"
        notes.append(_entity_note(e, text, "declared", inp, cons))
    if h.old_lines is not None and f.old_path:
        lo, hi = h.old_lines
        now = {e.id for e in inp.snap.entities_by_file.get((inp.repo, f.new_path or ""), [])}
        gone = [e for e in _base_entities(inp) if e.range.overlaps_lines(lo, hi) and e.id not in now and e.id not in shown]
        for e in _innermost(gone):
            shown.add(e.id)
            notes.append(_entity_note(e, f"deletes {e.id} ({describe_entity(e)})", "deleted", inp, []))
    for lk, e in _primary(inp, _new_links(inp, h)):
        if e.id in shown:
            continue
        shown.add(e.id)
        if lk.role == "consumes":
            provs = _sites_of(inp, e, "provides")
            text = f"calls {e.id} ({describe_entity(e)}), declared in {cite(e.repo, e.path, e.range.start_line)}" + (
                f"; provided by {_by_service(provs)}" if provs else "; no known provider")
            notes.append(_entity_note(e, text, "consumes", inp, [], at=lk))
        else:
            cons = _sites_of(inp, e, "consumes")
            text = f"serves {e.id} ({describe_entity(e)}), declared in {cite(e.repo, e.path, e.range.start_line)}" + (
                f"; consumed by {_by_service(cons)}" if cons else "; no known consumers")
            notes.append(_entity_note(e, text, "provides", inp, cons, at=lk))
    return Section("contract", TITLES["contract"], tuple(notes)) if notes else None


def _innermost(ents: list[Entity]) -> list[Entity]:
    """Entities whose parent is not in the list: a hunk inside a message is about its fields; one that
    replaces a whole message is about the message."""
    ids = {e.id for e in ents}
    return sorted((e for e in ents if e.parent not in ids), key=lambda e: (e.range.start_line, e.id))[:8]


def _entity_note(e: Entity, text: str, how: str, inp: ChangeInput, consumers: list[Link], at: Link | None = None) -> Note:
    src = cite(at.repo, at.path, at.range.start_line) if at is not None else cite(e.repo, e.path, e.range.start_line)
    loc = Location(at.repo, at.path, at.range) if at is not None else Location(e.repo, e.path, e.range)
    return Note(text, src, "contract", loc,
                {"key": ["contract", e.id, how], "entity": e.id, "kind": e.kind, "how": how,
                 "side": "base" if how == "deleted" else "working tree",
                 "consumers": sorted({lk.service or lk.repo for lk in consumers})})


# -- owners ------------------------------------------------------------------------------------------
def _owner(inp: ChangeInput, repo: str, path: str) -> tuple[str, str, Location | None] | None:
    """(owner, citation of the evidence, its location) of a file: its service's catalog owner, else CODEOWNERS."""
    found = inp.snap.owner_for(repo, path)
    if not found:
        return None
    who, ev = found
    name = who if isinstance(who, str) else " ".join(who)
    if not getattr(ev, "path", ""):
        return name, "", None
    line = ev.line if isinstance(ev.line, int) else None
    return name, cite(ev.repo, ev.path, line), Location(ev.repo, ev.path, Span.line(line or 0))


def owners(inp: ChangeInput, h: Hunk) -> Section | None:
    """Whom this hunk concerns beyond its own reviewers: the owners of services whose code consumes what it
    breaks or changes, the owner of a deprecated entity it calls, the author of a workaround it edits."""
    notes: list[Note] = []
    mine = _owner(inp, inp.repo, inp.file.new_path or inp.file.old_path or "")
    mine_name = mine[0] if mine else ""

    def add(o: tuple[str, str, Location | None], why: str, key: list[Any], **data: Any) -> None:
        name, src, at = o
        if name and name != mine_name:
            notes.append(Note(f"{name}: {why}", src, "owner", at, {"key": ["owner", name, *key], "owner": name, **data}))

    for fd in hunk_findings(inp, h):
        for svc, sites in _sites(fd.consumers).items():
            c = sites[0]
            o = _owner(inp, c.repo, c.path)
            if o is not None:
                add(o, f"owner of {svc}, which this change breaks ({fd.rule} on {fd.entity}; "
                                f"{c.repo}/{c.path}:{c.line + 1})", [fd.entity], service=svc, reason="breaking", entity=fd.entity)
    for lk in _new_links(inp, h):
        ent = inp.snap.entity(lk.entity)
        if lk.role == "consumes" and ent is not None and ent.attrs.get("deprecated") is True:
            o = _owner(inp, ent.repo, ent.path)
            if o is not None:
                add(o, f"owner of {ent.id}, which is deprecated and which this change calls "
                                f"({cite(lk.repo, lk.path, lk.range.start_line)})", [ent.id], reason="deprecated", entity=ent.id)
    sec = contract(inp, h)
    for n in sec.notes if sec is not None else ():
        if n.data.get("how") != "declared":
            continue
        ent = inp.snap.entity(n.data["entity"])
        if ent is None:
            continue
        for lk in _sites_of(inp, ent, "consumes"):
            o = _owner(inp, lk.repo, lk.path)
            if o is not None:
                add(o, f"owner of {lk.service or lk.repo}, which consumes {ent.id} that this change edits "
                                f"({cite(lk.repo, lk.path, lk.range.start_line)})", [ent.id], service=lk.service,
                    reason="consumer", entity=ent.id)
    hist = history(inp, h)
    for n in hist.notes if hist is not None else ():
        add((str(n.data["author"]), n.source, None), f"wrote the {FLAG_LABEL.get(n.kind, n.kind)} commit {n.source[:8]} whose lines this "
                                              f"change edits: {n.data['subject']}", [n.source], reason="history", sha=n.source)
    unique: dict[str, Note] = {}
    for n in notes:
        unique.setdefault("\0".join(map(str, n.data["key"])), n)
    return Section("owners", TITLES["owners"], tuple(unique.values())) if unique else None


# -- markers and decisions -----------------------------------------------------------------------------
_MARKERS = MarkersExtractor()


def _base_markers(inp: ChangeInput) -> list[Marker]:
    memo = inp.shared.setdefault("_base_markers", {})
    key = (inp.repo, inp.file.old_path)
    if key not in memo:
        text = inp.base_text() if inp.file.old_path and _MARKERS.wants(inp.file.old_path) else None
        found: list[Marker] = []
        if text:
            try:
                found = list(_MARKERS.extract(SourceFile(inp.repo, inp.file.old_path or "", text.encode("utf-8"))).markers)
            except Exception:  # noqa: BLE001 - markers are a refinement
                log.exception("markers of the base of %s/%s failed", inp.repo, inp.file.old_path)
        memo[key] = found
    return memo[key]  # type: ignore[no-any-return]


def _marker_text(m: Marker) -> str:
    """The marker's comment as written ('HACK: cap at 500'); its kind in front when the text lacks it."""
    word = m.kind.replace("_", " ")
    return m.text if m.text.lower().startswith(word.split()[0]) else f"{m.kind.upper()}: {m.text}"


def markers(inp: ChangeInput, h: Hunk) -> Section | None:
    """Markers the hunk writes or sits just under (working tree), and markers it deletes (base)."""
    f = inp.file
    notes = []
    if f.new_path:
        lo, hi = h.new_lines or _gap(h)
        for m in inp.snap.markers_by_file.get((inp.repo, f.new_path), []):
            if lo - MARKERS_ABOVE <= m.range.start_line <= hi:
                where = "written by this change" if _in(h.new_lines, m.range.start_line) else "above the changed lines"
                notes.append(Note(f"{_marker_text(m)} ({where})", cite(m.repo, m.path, m.range.start_line), "marker",
                                  Location(m.repo, m.path, m.range),
                                  {"key": ["marker", m.repo, m.path, m.range.start_line], "marker": m.kind, "ref": m.ref,
                                   "side": "working tree"}))
    if h.old_lines is not None and f.old_path:
        now = {(m.kind, m.text) for m in inp.snap.markers_by_file.get((inp.repo, f.new_path or ""), [])}
        for m in _base_markers(inp):
            if _in(h.old_lines, m.range.start_line) and (m.kind, m.text) not in now:
                notes.append(Note(f"{_marker_text(m)} (deleted by this change)", cite(inp.repo, f.old_path, m.range.start_line),
                                  "marker", Location(inp.repo, f.old_path, m.range),
                                  {"key": ["marker-deleted", inp.repo, f.old_path, m.text], "marker": m.kind, "ref": m.ref,
                                   "side": "base"}))
    return Section("markers", TITLES["markers"], tuple(notes)) if notes else None


def decisions(inp: ChangeInput, h: Hunk) -> Section | None:
    """ADRs that name the changed file (or a folder of it), its service, or an entity the hunk touches."""
    path = inp.file.new_path or inp.file.old_path or ""
    svc = inp.snap.service_for(inp.repo, path)
    names = {svc.name} if svc is not None else set()
    sec = contract(inp, h)
    for n in sec.notes if sec is not None else ():
        ident: str | None = n.data["entity"]
        while ident:
            names.add(ident)
            ent = inp.snap.entity(ident)
            ident = ent.parent if ent is not None else None
    found = decisions_section(inp.snap.decisions, path=path, names=names)
    if not found.notes:
        return None
    return Section("decisions", TITLES["decisions"], tuple(
        Note(n.text, n.source, n.kind, n.location, {**n.data, "key": ["decision", n.data.get("id", n.source)]}) for n in found.notes))


def urgent_notes(inp: ChangeInput, h: Hunk) -> Section | None:
    """The team notes the hunk touches (`lore.query.changes.notes_touched`), with a dedup key."""
    sec = HUNK_SECTIONS[0](inp, h)
    if sec is None:
        return None
    return Section(sec.name, sec.title, tuple(Note(n.text, n.source, n.kind, n.location, {**n.data, "key": ["note", n.data.get("id")],
                                                                                           "urgent": n.data.get("kind") in URGENT})
                                              for n in sec.notes), sec.empty)


REVIEW_SECTIONS: tuple[HunkSection, ...] = (breaking, urgent_notes, history, deprecated, owners, contract, markers, decisions)
