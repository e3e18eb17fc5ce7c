"""Queries over a Snapshot, returning plain data. The CLI, the LSP server and the agent output are thin
views over these functions; none of them computes context on its own.

`context()` is the single query behind `lore context`, the hover and agent prompts: a list of Sections
(service, contract, links, team notes, history, markers, decisions, coupling), each note citing its
source. Team notes of kind warning or incident come first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from indexers.model import Entity, Link, Location, Note, Section, Span
from indexers.snapshot import Snapshot
from lore.query.notes import notes_section, urgent

log = logging.getLogger(__name__)

SECTION_ORDER = ("service", "contract", "links", "notes", "ops", "history", "markers", "decisions", "coupling")


@dataclass(frozen=True)
class Context:
    repo: str
    path: str
    line: int  # 0-based
    col: int | None
    sections: tuple[Section, ...]
    entity_ids: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def with_line_base(doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON document that carries positions says how they count: 0-based lines and UTF-16 columns, as
    LSP counts them (citations in note text, `repo/path:LINE`, are 1-based, as people read them)."""
    return {"line_base": 0, "column_unit": "utf-16", **doc}


def cite(repo: str, path: str, line: int | None = None) -> str:
    return f"{repo}/{path}:{line + 1}" if line is not None else f"{repo}/{path}"


def loc(repo: str, path: str, span: Span) -> Location:
    return Location(repo, path, span)


# -- entity description ----------------------------------------------------------------------------
def describe_entity(e: Entity) -> str:
    """A one-line plain-text description of a contract entity from its attributes."""
    a = e.attrs
    kind = e.kind.split(".", 1)[-1]
    bits: list[str] = []
    if e.kind == "proto.rpc":
        req = ("stream " if a.get("client_streaming") else "") + str(a.get("request", "?"))
        resp = ("stream " if a.get("server_streaming") else "") + str(a.get("response", "?"))
        bits.append(f"rpc {e.name}({req}) returns ({resp})")
    elif e.kind == "proto.field":
        label = f"{a['label']} " if a.get("label") else ""
        bits.append(f"field {label}{a.get('type', '?')} {e.name} = {a.get('number', '?')}")
        if a.get("oneof"):
            bits.append(f"oneof {a['oneof']}")
    elif e.kind == "proto.enum_value":
        bits.append(f"enum value {e.name} = {a.get('number', '?')}")
    elif e.kind == "openapi.operation":
        bits.append(f"{a.get('method', '').upper()} {a.get('path', '')}".strip())
        if a.get("operationId"):
            bits.append(f"operationId {a['operationId']}")
    elif e.kind in ("openapi.property", "graphql.field", "sql.column"):
        typ = a.get("type")
        bits.append(f"{kind} {e.name}" + (f": {typ}" if typ else ""))
        if a.get("required") is True:
            bits.append("required")
        if a.get("nullable") is False and e.kind == "sql.column":
            bits.append("not null")
    else:
        bits.append(f"{kind} {e.name}")
    if a.get("deprecated"):
        bits.append("deprecated")
    return ", ".join(bits)


# -- sections --------------------------------------------------------------------------------------
def service_section(snap: Snapshot, repo: str, path: str) -> Section:
    svc = snap.service_for(repo, path)
    notes: list[Note] = []
    if svc is not None:
        ev = svc.evidence[0] if svc.evidence else None
        src = cite(ev.repo, ev.path, ev.line) if ev and ev.path else cite(svc.repo, svc.root or ".")
        root = svc.root or "."
        where = loc(ev.repo, ev.path, Span.line(ev.line or 0)) if ev and ev.path else None
        notes.append(Note(f"{svc.name} (repo {svc.repo}, root {root})", src, "service", where,
                          data={"service": svc.name, "repo": svc.repo, "root": root, "languages": list(svc.languages)}))
    owner = snap.owner_for(repo, path)
    if owner:
        who, ev = owner
        src = cite(ev.repo, ev.path, ev.line) if getattr(ev, "path", "") else ""
        where = loc(ev.repo, ev.path, Span.line(ev.line or 0)) if getattr(ev, "path", "") else None
        names = [who] if isinstance(who, str) else list(who)
        notes.append(Note(f"owner {', '.join(names)}", src, "owner", where, data={"owner": names}))
    return Section("service", "Service", tuple(notes), "No service owns this file.")


def entities_for_position(snap: Snapshot, repo: str, path: str, line: int, col: int | None) -> tuple[list[Entity], list[Link]]:
    """Entities declared here (in a spec) or used here (links at a usage site)."""
    declared = snap.entities_at(repo, path, line, col)
    if declared:
        return declared[:1], []
    links = snap.links_at(repo, path, line, col)
    seen: dict[str, Entity] = {}
    for lk in sorted(links, key=lambda lk: (_entity_rank(snap, lk.entity),
                                             -lk.confidence, lk.range.size)):
        ent = snap.entity(lk.entity)
        if ent is not None and ent.id not in seen:
            seen[ent.id] = ent
    return list(seen.values()), links


# At a usage site the operation (rpc, HTTP operation) matters most, then messages/schemas, then fields.
_ENTITY_KIND_RANK = {"proto.rpc": 0, "openapi.operation": 0, "graphql.field": 1, "sql.table": 1, "proto.service": 1,
                     "proto.message": 2, "openapi.schema": 2, "proto.enum": 2, "proto.field": 3, "openapi.property": 3,
                     "sql.column": 3, "proto.enum_value": 3}


def _entity_rank(snap: Snapshot, ident: str) -> int:
    ent = snap.entity(ident)
    return _ENTITY_KIND_RANK.get(ent.kind, 5) if ent is not None else 9


def contract_section(snap: Snapshot, ents: list[Entity], usage_links: list[Link]) -> Section:
    notes: list[Note] = []
    for e in ents:
        text = f"{e.id}: {describe_entity(e)}"
        notes.append(Note(text, cite(e.repo, e.path, e.range.start_line), "entity", loc(e.repo, e.path, e.range),
                          data={"id": e.id, "kind": e.kind, "name": e.name, "description": describe_entity(e),
                                "attrs": e.attrs}))
        notes += copy_notes(snap, e)
        if usage_links:
            lk = next((lk for lk in usage_links if lk.entity == e.id), None)
            if lk is not None:
                through = f"; through the copy in {lk.copy}" if lk.copy and snap.copies.get(e.id) else ""
                notes.append(Note(f"this line {lk.role} it ({lk.evidence or lk.kind}{through})",
                                  cite(lk.repo, lk.path, lk.range.start_line), "usage", loc(lk.repo, lk.path, lk.range),
                                  data={"role": lk.role, "kind": lk.kind, "confidence": round(lk.confidence, 3)}))
    return Section("contract", "Contract", tuple(notes), "No contract entity here.")


def possible_section(snap: Snapshot, repo: str, path: str, line: int, col: int | None) -> Section:
    """At a usage evidence could not resolve (several contracts of one name), the candidates: marked as
    possible, lower confidence, and not links."""
    notes = []
    for lk in _possible_in(snap, repo, path):
        if lk.range.contains(line, col):
            e = snap.entity(lk.entity)
            where = cite(e.repo, e.path, e.range.start_line) if e is not None else ""
            notes.append(Note(f"possibly {lk.entity} (not a link, confidence {lk.confidence:.2f}): {lk.evidence}", where,
                              "possible", loc(e.repo, e.path, e.range) if e is not None else None,
                              data={"id": lk.entity, "role": lk.role}))
    return Section("contract", "Contract", tuple(notes), "No contract entity here.")


def _possible_in(snap: Snapshot, repo: str, path: str) -> list[Link]:
    """The possible links of one file, from a table built once per Snapshot (a hover never scans them all;
    a Snapshot never changes, and an overlay is a new Snapshot without the table)."""
    table = snap.__dict__.get("_possible_by_file")
    if table is None:
        table = {}
        for lk in snap.possible:
            table.setdefault((lk.repo, lk.path), []).append(lk)
        snap.__dict__["_possible_by_file"] = table
    return table.get((repo, path), [])  # type: ignore[no-any-return]


def _at(e: Entity) -> str:
    return cite(e.repo, e.path, e.range.start_line)


def copy_notes(snap: Snapshot, e: Entity) -> list[Note]:
    """Where the other declarations of `e`'s id are: the canonical one, the copies, drift, a conflict."""
    grp = snap.copies.get(e.id)
    if grp is None:
        return []
    notes: list[Note] = []
    is_canonical = (e.repo, e.path, e.range) == (grp.canonical.repo, grp.canonical.path, grp.canonical.range)
    others = [d for d in grp.declarations if (d.repo, d.path, d.range) != (e.repo, e.path, e.range)]
    shown = ", ".join(_at(d) for d in others[:4]) + (f" (+{len(others) - 4} more)" if len(others) > 4 else "")
    if grp.conflict:
        diff = grp.drift[0].differences[0] if grp.drift and grp.drift[0].differences else "their shapes differ"
        notes.append(Note(f"conflict: {len(grp.declarations)} declarations differ and none can be preferred ({diff}); "
                          f"to resolve: {snap_what_to_do(snap, e.id)}", _at(e), "conflict",
                          data={"declarations": [_at(d) for d in grp.declarations]}))
        return notes
    if is_canonical:
        notes.append(Note(f"canonical declaration ({grp.why}); {len(others)} cop{'y' if len(others) == 1 else 'ies'}: {shown}",
                          _at(e), "copies", data={"copies": [_at(d) for d in others]}))
    else:
        notes.append(Note(f"a copy; the canonical declaration is {_at(grp.canonical)} ({grp.why})", _at(grp.canonical),
                          "canonical", loc(grp.canonical.repo, grp.canonical.path, grp.canonical.range),
                          data={"canonical": _at(grp.canonical), "copies": [_at(d) for d in others]}))
    for dr in grp.drift:
        mine = (dr.copy.repo, dr.copy.path, dr.copy.range) == (e.repo, e.path, e.range)
        if not (mine or is_canonical) or not dr.differences:
            continue
        more = f" (+{len(dr.differences) - 1} more)" if len(dr.differences) > 1 else ""
        who = "this copy" if mine else f"the copy at {_at(dr.copy)}"
        notes.append(Note(f"drift: {who} differs from the canonical declaration: {dr.differences[0]}{more}", _at(dr.copy),
                          "drift", loc(dr.copy.repo, dr.copy.path, dr.copy.range), data={"differences": list(dr.differences)}))
    return notes


def snap_what_to_do(snap: Snapshot, ident: str) -> str:
    found = next((c for c in snap.conflicts if c.id == ident), None)
    return found.what_to_do if found is not None else ""


def link_groups(links: list[Link]) -> list[tuple[str, str, list[Link]]]:
    """Links grouped by (service, repo), largest group first, each group in file order."""
    groups: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for lk in links:
        groups[(lk.service, lk.repo)].append(lk)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(svc, repo, sorted(lks, key=lambda lk: (lk.path, lk.range))) for (svc, repo), lks in ordered]


def unseen(snap: Snapshot) -> list[str]:
    """What Lore could not read, so that every list of providers or consumers is a lower bound: repos
    not indexed, code in languages it reads no usages from, code files whose extraction failed. Computed
    once per Snapshot (it looks at every error)."""
    known = snap.__dict__.get("_unseen")
    if known is None:
        known = snap.__dict__["_unseen"] = _unseen(snap)
    return list(known)


def _unseen(snap: Snapshot) -> list[str]:
    parts: list[str] = []
    if snap.missing:
        names = sorted({m.split(":", 1)[0] for m in snap.missing})
        parts.append(f"{len(names)} repo{'s' if len(names) != 1 else ''} not indexed ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
    by_lang: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for name, info in sorted(snap.repos.items()):
        for lang, n in info.unindexed:
            by_lang[lang].append(name)
            counts[lang] += n
    for lang in sorted(by_lang, key=lambda la: -counts[la]):
        repos = by_lang[lang]
        where = f"{len(repos)} repos" if len(repos) > 1 else f"repo {repos[0]}"
        parts.append(f"{counts[lang]} {lang} file{'s' if counts[lang] != 1 else ''} in {where}")
    failed = {(e.repo, e.path) for e in snap.errors if e.path and (ff := snap.files.get((e.repo, e.path))) is not None
              and ff.language}
    if failed:
        parts.append(f"{len(failed)} code file{'s' if len(failed) != 1 else ''} failed")
    return parts


def lower_bound(snap: Snapshot) -> str:
    parts = unseen(snap)
    return f"lower bound; not read: {'; '.join(parts)}" if parts else ""


def links_section(snap: Snapshot, ents: list[Entity], max_locations: int = 3) -> Section:
    notes: list[Note] = []
    bound = lower_bound(snap)
    for e in ents:
        ids = [e.id] + _child_ids(snap, e)
        for role in ("provides", "consumes"):
            label = "provider" if role == "provides" else "consumer"
            all_links = [lk for i in ids for lk in snap.links_for(i, role)]
            if not all_links:
                continue
            repos = {lk.repo for lk in all_links}
            notes.append(Note(f"{len(all_links)} {label} site{'s' if len(all_links) != 1 else ''} in {len(repos)} repo{'s' if len(repos) != 1 else ''} for {e.id}"
                              + (f" ({bound})" if bound else ""),
                              cite(e.repo, e.path, e.range.start_line), f"{label}s_summary",
                              data={"count": len(all_links), "repos": sorted(repos), "lower_bound": bool(bound),
                                    "not_read": unseen(snap)}))
            for svc, repo, lks in link_groups(all_links):
                first = lks[0]
                more = f" (+{len(lks) - max_locations} more)" if len(lks) > max_locations else ""
                places = ", ".join(cite(lk.repo, lk.path, lk.range.start_line) for lk in lks[:max_locations])
                who = svc or "(no service)"
                ff = snap.files.get((first.repo, first.path))
                notes.append(Note(f"{label}: {who} in {repo}: {places}{more}", cite(first.repo, first.path, first.range.start_line),
                                  label, loc(first.repo, first.path, first.range),
                                  data={"service": svc, "repo": repo, "count": len(lks), "entity": first.entity,
                                        "language": ff.language if ff is not None else "",
                                        "sites": [{"path": lk.path, "line": lk.range.start_line} for lk in lks[:max_locations]]}))
    empty = "No known providers or consumers" + (f" ({bound})." if bound and ents else ".")
    return Section("links", "Providers and consumers", tuple(notes), empty)


def _child_ids(snap: Snapshot, e: Entity) -> list[str]:
    """For a service or message, its rpcs/fields: their links count toward the parent."""
    if e.kind not in ("proto.service", "proto.message", "openapi.schema", "graphql.type", "sql.table"):
        return []
    return snap.children(e.id)


def history_sections(snap: Snapshot, repo: str, path: str, first: int, last: int, *, wait: bool = True) -> list[Section]:
    """History, markers, decisions and coupling. Without `wait` (the editor's hover) nothing waits for git:
    what the history has not read yet is said to be pending."""
    if snap.history is None:
        return [Section("history", "History", (), "No history for this line.")]
    try:
        if not wait:
            return list(snap.history.sections(snap, repo, path, first, last, wait=False))
        return list(snap.history.sections(snap, repo, path, first, last))
    except Exception as exc:  # noqa: BLE001 - history must never break the rest of the context
        log.exception("history failed for %s/%s", repo, path)
        return [Section("history", "History", (), f"History unavailable: {exc}")]


def context(snap: Snapshot, repo: str, path: str, line: int, col: int | None = None, end_line: int | None = None,
            include: Callable[[str], bool] | None = None, *, text: str | None = None, wait: bool = True) -> Context:
    """Everything Lore knows about a location (a 0-based line, optionally a column or a line range).
    `text`: the file as the caller sees it (an editor buffer) when it differs from the working tree.
    `wait=False` (the hover): history not read yet is reported pending instead of read now (git blame can
    take seconds on a long history); the server reads it in the background."""
    last = end_line if end_line is not None else line
    sections: list[Section] = [service_section(snap, repo, path)]
    ents, usage_links = entities_for_position(snap, repo, path, line, col)
    sections.append(contract_section(snap, ents, usage_links) if ents else possible_section(snap, repo, path, line, col))
    # Providers/consumers of the primary entity only: a usage line often touches an rpc, its request
    # message and a field; listing everyone for all three drowns the one that matters.
    sections.append(links_section(snap, ents[:1]))
    sections.append(notes_section(snap, repo, path, line, last, text))

    from lore.query.ops import ops_section  # ops builds on this module's helpers (cite, lower_bound)

    sections.append(ops_section(snap, repo, path, line, col))
    sections.extend(history_sections(snap, repo, path, line, last, wait=wait))
    sections = [mark_shard_notes(snap, sec) for sec in sections]
    ordered = sorted(sections, key=lambda s: (not (s.name == "notes" and urgent(s)),
                                               SECTION_ORDER.index(s.name) if s.name in SECTION_ORDER else 99))
    if include is not None:
        ordered = [s for s in ordered if include(s.name)]
    problems = tuple(f"line {e.line + 1}: {e.reason}" if e.line is not None else e.reason
                     for e in snap.file_errors(repo, path))
    return Context(repo, path, line, col, tuple(ordered), tuple(e.id for e in ents), problems + history_problems(snap, repo, path, wait=wait))


def history_problems(snap: Snapshot, repo: str, path: str, *, wait: bool = True) -> tuple[str, ...]:
    """What the history behind this file lacks (shallow or partial clone, unreadable objects), each
    starting with "history: ": said, never passed off as "no history"."""
    problems = getattr(snap.history, "problems", None)
    if problems is None:
        return ()
    try:
        return tuple(problems(repo, path) if wait else problems(repo, path, wait=False))
    except Exception:  # noqa: BLE001 - a problem report must not break the context
        log.exception("history problems failed for %s/%s", repo, path)
        return ()


# -- shard provenance -------------------------------------------------------------------------------
def shard_origin(snap: Snapshot, repo: str) -> dict[str, Any] | None:
    """{repo, commit, shard} when `repo` is known only from an imported shard (text another party wrote),
    else None."""
    info = snap.repos.get(repo)
    if info is None or info.root is not None:
        return None
    return {"repo": repo, "commit": info.head or "", "shard": info.shard}


def shard_label(origin: dict[str, Any]) -> str:
    commit = str(origin.get("commit") or "")[:12]
    return f"from shard {origin['repo']}" + (f"@{commit}" if commit else "")


def _note_repo(snap: Snapshot, note: Note) -> str | None:
    if note.location is not None:
        return note.location.repo
    head = note.source.split("/", 1)[0] if "/" in note.source else ""
    return head if head in snap.repos else None


def mark_shard_notes(snap: Snapshot, sec: Section) -> Section:
    """Every note citing a repo known only from a shard says so, in its text (so every view shows it) and
    in its data (`from_shard`)."""
    marked: list[Note] = []
    changed = False
    for note in sec.notes:
        repo = _note_repo(snap, note)
        origin = shard_origin(snap, repo) if repo else None
        if origin is None:
            marked.append(note)
            continue
        changed = True
        marked.append(Note(f"{note.text} [{shard_label(origin)}]", note.source, note.kind, note.location,
                           {**note.data, "from_shard": origin}))
    return Section(sec.name, sec.title, tuple(marked), sec.empty) if changed else sec


# -- graph -------------------------------------------------------------------------------------------
def graph(snap: Snapshot) -> dict[str, Any]:
    """The whole system as one JSON-able document: entities, services, links, conflicts, copies, and the
    possible links (ambiguous candidates, kept apart from the links)."""

    def rng(s: Span) -> dict[str, int]:
        return {"start_line": s.start_line, "start_col": s.start_col, "end_line": s.end_line, "end_col": s.end_col}

    entities = []
    for ident in sorted(snap.entities):
        for e in snap.entities[ident]:
            entities.append({"id": e.id, "kind": e.kind, "name": e.name, "repo": e.repo, "path": e.path,
                             "range": rng(e.range), "attrs": e.attrs, "parent": e.parent})
    services = []
    if snap.services is not None:
        for s in sorted(snap.services.services, key=lambda s: (s.repo, s.root, s.name)):
            services.append({"name": s.name, "repo": s.repo, "root": s.root, "owner": s.owner,
                             "languages": list(s.languages),
                             "evidence": [{"repo": ev.repo, "path": ev.path, "line": ev.line, "detail": ev.detail} for ev in s.evidence]})
    links = [{"service": lk.service, "entity": lk.entity, "role": lk.role, "repo": lk.repo, "path": lk.path,
              "range": rng(lk.range), "confidence": round(lk.confidence, 3), "kind": lk.kind, "evidence": lk.evidence,
              **({"copy": lk.copy} if lk.copy else {})}
             for lk in sorted(snap.links, key=lambda lk: (lk.entity, lk.role, lk.repo, lk.path, lk.range))]
    def decl(d: Entity) -> dict[str, Any]:
        return {"repo": d.repo, "path": d.path, "line": d.range.start_line}

    conflicts = [{"id": c.id, "declarations": [decl(d) for d in c.declarations], "differences": list(c.differences),
                  "what_to_do": c.what_to_do} for c in snap.conflicts]
    copies = [{"id": g.id, "canonical": decl(g.canonical), "why": g.why, "copies": [decl(d) for d in g.declarations[1:]],
               "drift": [{**decl(dr.copy), "differences": list(dr.differences)} for dr in g.drift], "conflict": g.conflict}
              for g in sorted(snap.copies.values(), key=lambda g: g.id)]
    # Candidates evidence could not choose between (several services of one name): a separate,
    # lower-confidence relation, never counted among the links.
    possible = [{"service": lk.service, "entity": lk.entity, "role": lk.role, "repo": lk.repo, "path": lk.path,
                 "range": rng(lk.range), "confidence": round(lk.confidence, 3), "kind": lk.kind, "evidence": lk.evidence}
                for lk in sorted(snap.possible, key=lambda lk: (lk.repo, lk.path, lk.range, lk.entity))]
    from lore.query.ops import ops_graph

    return {"entities": entities, "services": services, "links": links, "conflicts": conflicts, "copies": copies,
            "possible": possible, "ops": ops_graph(snap)}
