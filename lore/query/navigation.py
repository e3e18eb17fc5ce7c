"""Navigation queries over a Snapshot: where a contract is declared, who uses it, what is in the system.

Pure and plain-data (no LSP types): the language server turns these into go-to-definition, references,
workspace symbols and code lenses; the CLI or an agent can call them as they are. A usage site resolves
only through the links linking produced, never by guessing from names, so a definition Lore offers is
one the index can cite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from indexers.model import Entity, Link, Location, Span
from indexers.snapshot import Snapshot

CONTAINER_KINDS = frozenset({"proto.service", "proto.message", "proto.enum", "openapi.schema", "graphql.type", "sql.table"})
# Kinds that get a code lens: services and their operations, the interface a reader asks "who uses this?"
# about (rpcs, HTTP operations, GraphQL root fields; an SQL table is its own service). Messages and fields
# get none: a lens on every line of a schema says nothing.
LENS_KINDS = frozenset({"proto.service", "proto.rpc", "openapi.operation", "sql.table"})
ROOT_TYPES = frozenset({"Query", "Mutation", "Subscription"})


def has_lens(e: Entity) -> bool:
    if e.kind == "graphql.field":
        return (e.parent or "").rsplit(":", 1)[-1] in ROOT_TYPES
    return e.kind in LENS_KINDS


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # entity kind (`proto.rpc`, ...) or `service`
    detail: str  # entity id, or service repo/root
    container: str
    location: Location


@dataclass(frozen=True, slots=True)
class Lens:
    range: Span
    entity: str
    consumers: int
    consumer_repos: int
    providers: int
    title: str


def _loc(e: Entity | Link) -> Location:
    return Location(e.repo, e.path, e.range)


def _dedupe(locs: Iterable[Location]) -> list[Location]:
    seen: dict[tuple[str, str, Span], Location] = {}
    for loc in locs:
        seen.setdefault((loc.repo, loc.path, loc.range), loc)
    return list(seen.values())


def children(snap: Snapshot, ident: str) -> list[str]:
    """Direct children of a container entity (a message's fields, a service's rpcs), from the Snapshot's
    table of them (never a scan of every entity: 276k on a large contract repository)."""
    return sorted(snap.children(ident))


def entity_ids_at(snap: Snapshot, repo: str, path: str, line: int, col: int | None = None) -> list[str]:
    """Entities at a position: the one declared there (innermost), else those linked from a usage there
    (most confident first)."""
    declared = snap.entities_at(repo, path, line, col)
    if declared:
        return [declared[0].id]
    links = sorted(snap.links_at(repo, path, line, col), key=lambda lk: (-lk.confidence, lk.range.size))
    out: list[str] = []
    for lk in links:
        if lk.entity not in out and snap.entity(lk.entity) is not None:
            out.append(lk.entity)
    return out


def definition(snap: Snapshot, repo: str, path: str, line: int, col: int | None = None) -> list[Location]:
    """From a usage site to the declaration(s) of the contract entity it uses (possibly in another repo).
    Empty on a declaration itself and where nothing is linked."""
    if snap.entities_at(repo, path, line, col):
        return []
    links = sorted(snap.links_at(repo, path, line, col), key=lambda lk: (-lk.confidence, lk.range.size))
    return _dedupe(_loc(d) for lk in links for d in snap.declarations(lk.entity))


def entity_references(snap: Snapshot, ident: str, *, include_declaration: bool = True,
                      include_children: bool = True, role: str | None = None) -> list[Location]:
    """Every provider/consumer site of an entity (and, for containers, of its members), plus its
    declarations when asked."""
    ids = [ident]
    decl = snap.entity(ident)
    if include_children and decl is not None and decl.kind in CONTAINER_KINDS:
        ids += children(snap, ident)
    locs: list[Location] = []
    if include_declaration:
        locs += [_loc(d) for d in snap.declarations(ident)]
    links = [lk for i in ids for lk in snap.links_for(i, role)]
    locs += [_loc(lk) for lk in sorted(links, key=lambda lk: (lk.repo, lk.path, lk.range))]
    return _dedupe(locs)


def references(snap: Snapshot, repo: str, path: str, line: int, col: int | None = None, *,
               include_declaration: bool = True) -> list[Location]:
    locs: list[Location] = []
    for ident in entity_ids_at(snap, repo, path, line, col):
        locs += entity_references(snap, ident, include_declaration=include_declaration)
    return _dedupe(locs)


def _matches(query: str, name: str, ident: str = "") -> bool:
    """Case-insensitive: a substring of the name or ID, or the query's characters in order in the name
    (fuzzy, as editors expect)."""
    if not query:
        return True
    q = query.lower()
    low = name.lower()
    if q in low or q in ident.lower():
        return True
    it = iter(low)
    return all(ch in it for ch in q)


def workspace_symbols(snap: Snapshot, query: str = "", limit: int = 500) -> list[Symbol]:
    """Contract entities and services whose name or ID matches the query; exact-name hits first."""
    found: list[tuple[tuple[int, int, str], Symbol]] = []
    q = query.lower()
    for ident in sorted(snap.entities):
        decls = snap.entities[ident]
        if not decls:
            continue
        e = decls[0]
        if not _matches(query, e.name, ident):
            continue
        container = e.parent.rsplit(":", 1)[-1] if e.parent else ""
        rank = (0 if e.name.lower() == q else 1 if q in e.name.lower() else 2, len(e.name), ident)
        found.append((rank, Symbol(e.name, e.kind, ident, container, _loc(e))))
    services = snap.services.services if snap.services is not None else ()
    for svc in services:
        if not _matches(query, svc.name):
            continue
        ev = next((ev for ev in svc.evidence if ev.path), None)
        if ev is None:
            continue
        line = ev.line or 0
        rank = (0 if svc.name.lower() == q else 1, len(svc.name), svc.name)
        found.append((rank, Symbol(svc.name, "service", f"{svc.repo}/{svc.root or '.'}", svc.repo,
                                   Location(ev.repo, ev.path, Span.line(line)))))
    found.sort(key=lambda pair: pair[0])
    return [sym for _rank, sym in found[:limit]]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def code_lenses(snap: Snapshot, repo: str, path: str) -> list[Lens]:
    """One lens per service and operation declared in a file (`has_lens`): '3 consumers in 2 repos ·
    1 provider'."""
    out: list[Lens] = []
    for e in sorted(snap.entities_by_file.get((repo, path), []), key=lambda e: e.range):
        if not has_lens(e):
            continue
        ids = [e.id] + (children(snap, e.id) if e.kind in CONTAINER_KINDS else [])
        consumers = [lk for i in ids for lk in snap.links_for(i, "consumes")]
        providers = [lk for i in ids for lk in snap.links_for(i, "provides")]
        repos = {lk.repo for lk in consumers}
        title = _plural(len(consumers), "consumer")
        if consumers:
            title += f" in {_plural(len(repos), 'repo')}"
        if providers:
            title += f" · {_plural(len(providers), 'provider')}"
        out.append(Lens(e.range, e.id, len(consumers), len(repos), len(providers), title))
    return out
