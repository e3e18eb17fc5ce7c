"""The system map: services as nodes, contracts as edges from the provider service to the consumer service,
grouped by repo or owner. A pure function over a Snapshot; `lore graph --format dot|mermaid|html`, the
VS Code map and `:LoreMap` render what it returns (`lore/map/`).

An edge joins two services through the contract entities one provides and the other consumes. The
provider of a consumed entity is the service that provides the entity itself, else the nearest ancestor
that has a provider (an rpc's gRPC service, a field's message): a consumer of `CartService.RemoveItem`
is joined to the service that registers `CartService`. Consumed entities with no provider anywhere up
the chain draw no edge; they are listed on the consumer as "provider unknown" (precision first). Links
from files in no known service belong to a node for their repo.

Each edge carries one protocol (from the entity kind: proto -> grpc, openapi -> http, ...), the contracts
(the root of each entity's parent chain: a proto package, an OpenAPI document, ...) with the entities
used, their call sites and flags: `deprecated` (entity attrs), `drift` (copies of the entity that differ
from its canonical declaration, Snapshot.copies, or conflicting declarations) and `breaking` (`Break`s the caller passes in from `lore
check`: the changed entity and the consumer sites the change breaks; a consumer of a deleted rpc still
gets its edge, to the service that provides what is left of the contract). New flags belong in
`entity_flags`.

Each node also carries its operational context (`NodeOps`, computed by lore/query/map_ops.py over the
OpsIndex): the alerts and SLOs over the service and the pipelines that ship it, each at its file and
line; `SystemMap.ops_kinds` says which of these the workspace has at all.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexers.history.notes import gap_messages
from indexers.model import Entity, Link, Span
from indexers.snapshot import Snapshot
from lore.query.context import lower_bound

PROTOCOLS = {"proto": "grpc", "openapi": "http", "swagger": "http", "graphql": "graphql", "sql": "sql"}
FLAGGED_COMMITS = ("workaround", "hotfix", "revert", "incident", "regression_fix", "temporary")
SITES_PER_USE = 3
COMMITS_PER_NODE = 5
OPS_PER_NODE = 12
GROUP_BY = ("repo", "owner")
NO_OWNER = "(no owner)"


class MapError(ValueError):
    """A focus or option the map cannot honour; the message says why (and what would work)."""


@dataclass(frozen=True, slots=True)
class Site:
    """A file and a 0-based line (None: the file as a whole)."""

    repo: str
    path: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Break:
    """A breaking change to a contract entity (which may be gone from the working tree) and the
    consumer sites it breaks."""

    entity: str
    message: str
    consumers: tuple[Site, ...] = ()


@dataclass(frozen=True, slots=True)
class Use:
    """One contract entity one service provides or consumes (on a node), or one consumes from the other
    (on an edge), with its call sites there."""

    entity: str
    name: str
    kind: str
    declared: Site | None
    sites: tuple[Site, ...]  # the first SITES_PER_USE, in file order
    count: int  # all sites
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # the breaking-change messages, what drifted


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract (the root of the entities' parent chain) and the entities used from it."""

    id: str
    name: str
    protocol: str
    declared: Site | None
    uses: tuple[Use, ...]
    flags: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return sum(u.count for u in self.uses)


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    source: str  # the provider's node id
    target: str  # the consumer's node id
    protocol: str
    contracts: tuple[Contract, ...]
    count: int  # call sites on the consumer's side
    flags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ", ".join(c.name for c in self.contracts)


@dataclass(frozen=True, slots=True)
class CommitNote:
    sha: str
    date: str
    subject: str
    kinds: tuple[str, ...]
    site: Site | None  # the first file of the commit inside the node


@dataclass(frozen=True, slots=True)
class Signal:
    """What of a service an alert or SLO reads, with where the service defines it: a metric (its
    definition in code), a span (where the code starts it), a route (where the code registers it), or
    the service itself (an SLO that names it; the site is the SLO's)."""

    kind: str  # 'metric' | 'span' | 'route' | 'service'
    name: str
    site: Site


@dataclass(frozen=True, slots=True)
class OpsRule:
    """An alert or SLO over a service, at its file and line."""

    kind: str  # 'alert' | 'slo'
    name: str
    site: Site
    reads: tuple[Signal, ...]  # what of the service it reads: metrics, spans, routes, then the service
    via: tuple[str, ...] = ()  # recording rules between the metric and the rule
    details: tuple[str, ...] = ()  # 'for 10m', 'severity page', 'objective 99.5', 'window 30d'


@dataclass(frozen=True, slots=True)
class Shipping:
    """A CI job or GitOps object that builds or deploys a service."""

    kind: str  # 'pipeline' (a CI job) | 'deploy' (an Argo CD / Flux object)
    text: str  # 'github-actions workflow deploy, job deploy deploys checkout to environment production'
    why: str  # the evidence: 'names svc/checkout', 'the only service of its repo', 'deploys k8s/checkout'
    site: Site


@dataclass(frozen=True, slots=True)
class NodeOps:
    """A node's operational context: the first OPS_PER_NODE alerts, SLOs and pipelines, complete counts."""

    alerts: tuple[OpsRule, ...] = ()
    slos: tuple[OpsRule, ...] = ()
    pipelines: tuple[Shipping, ...] = ()
    alert_count: int = 0
    slo_count: int = 0
    pipeline_count: int = 0


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str  # 'service' | 'repo' (files of a repo in no known service)
    name: str
    repo: str
    root: str
    owner: str
    group: str  # a Group id
    languages: tuple[str, ...]
    declared: Site | None
    provides: tuple[Contract, ...]
    consumes: tuple[Contract, ...]
    unprovided: tuple[Contract, ...]  # consumed, with no known provider
    history: tuple[CommitNote, ...]
    flags: tuple[str, ...] = ()
    history_notes: tuple[str, ...] = ()  # what the repo's history lacks (not mined, shallow, partial...)
    ops: NodeOps = NodeOps()  # alerts and SLOs over it, pipelines that ship it (lore/query/map_ops.py)


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    kind: str  # 'repo' | 'owner'
    name: str


@dataclass(frozen=True, slots=True)
class SystemMap:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    groups: tuple[Group, ...]
    group_by: str
    repos: dict[str, str | None]  # repo -> absolute root (None: known from a shard only)
    focus: str | None = None  # a node id
    depth: int | None = None
    notes: tuple[str, ...] = ()  # what the map leaves out
    ops_kinds: tuple[str, ...] = ()  # which operational facts the workspace has: 'alert', 'slo', 'pipeline'

    def node(self, ident: str) -> Node | None:
        return next((n for n in self.nodes if n.id == ident), None)


# -- the pure parts --------------------------------------------------------------------------------------

def protocol_of(kind: str) -> str:
    family = kind.split(".", 1)[0]
    return PROTOCOLS.get(family, family or "other")


def entity_flags(ident: str, entity: Entity | None, conflicts: set[str], breaking: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    attrs = entity.attrs or {} if entity is not None else {}
    flags = []
    if attrs.get("deprecated"):
        flags.append("deprecated")
    if ident in conflicts or attrs.get("drift"):
        flags.append("drift")
    if ident in breaking:
        flags.append("breaking")
    return tuple(flags)


def service_node_id(repo: str, root: str, name: str) -> str:
    return f"service:{repo}/{root}:{name}" if root else f"service:{repo}:{name}"


def repo_node_id(repo: str) -> str:
    return f"repo:{repo}"


def file_node(snap: Snapshot, repo: str, path: str) -> str:
    """The node a file belongs to: its service's, else its repo's (files in no service)."""
    svc = snap.service_for(repo, path)
    return service_node_id(svc.repo, svc.root, svc.name) if svc is not None else repo_node_id(repo)


def _site(repo: str, path: str, line: int | None) -> Site:
    return Site(repo, path, line)


def _merge_flags(*groups: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for g in groups:
        for f in g:
            seen[f] = None
    order = ("breaking", "drift", "deprecated")
    return tuple(sorted(seen, key=lambda f: (order.index(f) if f in order else len(order), f)))


class _Builder:
    def __init__(self, snap: Snapshot, breaking: Mapping[str, Sequence[str]]) -> None:
        self.snap = snap
        self.breaking = breaking
        self.drift: dict[str, list[str]] = defaultdict(list)  # entity -> what drifted
        for grp in snap.copies.values():
            for dr in grp.drift:
                first = dr.differences[0] if dr.differences else "the shape differs"
                self.drift[grp.id].append(f"copy {dr.copy.repo}/{dr.copy.path}:{dr.copy.range.start_line + 1} drifted from "
                                          f"{dr.canonical.repo}/{dr.canonical.path}:{dr.canonical.range.start_line + 1}: {first}")
        for c in snap.conflicts:
            if c.id not in self.drift:
                self.drift[c.id].append(f"conflicting declarations: {c.differences[0] if c.differences else 'shapes differ'}")
        self.conflicts = set(self.drift)
        self._roots: dict[str, str] = {}

    def node_of(self, link: Link) -> str:
        svc = self.snap.service_for(link.repo, link.path) if link.service or link.kind == "breaking" else None
        if svc is not None and (svc.name == link.service or link.kind == "breaking"):
            return service_node_id(svc.repo, svc.root, svc.name)
        return repo_node_id(link.repo)

    def anchor(self, ident: str) -> str:
        """The entity itself, or for one the snapshot does not have (deleted in the working tree) the
        nearest enclosing id it has: `proto:a.S.Gone` -> `proto:a.S`."""
        cur = ident
        while self.snap.entity(cur) is None:
            cut = max(cur.rfind("."), cur.rfind(":"))
            if cut <= cur.find(":"):
                return ident
            cur = cur[:cut]
        return cur

    def root_of(self, ident: str) -> str:
        hit = self._roots.get(ident)
        if hit is not None:
            return hit
        cur = self.anchor(ident)
        seen = {cur}
        while True:
            e = self.snap.entity(cur)
            if e is None or not e.parent or e.parent in seen or self.snap.entity(e.parent) is None:
                break
            seen.add(e.parent)
            cur = e.parent
        self._roots[ident] = cur
        return cur

    def declared(self, ident: str) -> Site | None:
        e = self.snap.entity(ident)
        return _site(e.repo, e.path, e.range.start_line) if e is not None else None

    def use(self, ident: str, links: Sequence[Link]) -> Use:
        e = self.snap.entity(ident)
        ordered = sorted(links, key=lambda lk: (lk.repo, lk.path, lk.range.start_line, lk.range.start_col))
        sites: list[Site] = []
        for lk in ordered:
            s = _site(lk.repo, lk.path, lk.range.start_line)
            if s not in sites:
                sites.append(s)
        return Use(entity=ident, name=e.name if e is not None else ident[max(ident.rfind("."), ident.rfind(":")) + 1:],
                   kind=e.kind if e is not None else "", declared=self.declared(ident),
                   sites=tuple(sites[:SITES_PER_USE]), count=len(sites),
                   flags=entity_flags(ident, e, self.conflicts, self.breaking),
                   notes=(*self.breaking.get(ident, ()), *self.drift.get(ident, ())))

    def contracts(self, uses: Mapping[str, Sequence[Link]]) -> tuple[Contract, ...]:
        """Group entity -> links by contract (root of the parent chain) and protocol."""
        by_root: dict[tuple[str, str], list[Use]] = defaultdict(list)
        for ident in sorted(uses):
            e = self.snap.entity(ident)
            proto = protocol_of(e.kind if e is not None else ident.split(":", 1)[0])
            by_root[(self.root_of(ident), proto)].append(self.use(ident, uses[ident]))
        out = []
        for (root, proto), us in sorted(by_root.items()):
            re_ = self.snap.entity(root)
            name = str((re_.attrs or {}).get("title") or re_.name) if re_ is not None else root
            out.append(Contract(id=root, name=name, protocol=proto, declared=self.declared(root), uses=tuple(us),
                                flags=_merge_flags(entity_flags(root, re_, self.conflicts, self.breaking),
                                                   *(u.flags for u in us))))
        return tuple(out)


def build_map(snap: Snapshot, *, group_by: str = "repo", focus: str | None = None, depth: int | None = None,
              breaking: Sequence[Break] = ()) -> SystemMap:
    """The map of the whole system, or of the services within `depth` (default 1) edges of `focus` (a
    service name, a node id, or a repo name for the files of a repo in no service)."""
    if group_by not in GROUP_BY:
        raise MapError(f"group by {group_by!r}: expected one of {', '.join(GROUP_BY)}")
    if depth is not None and depth < 0:
        raise MapError(f"depth must be >= 0, got {depth}")
    notes_by_entity: dict[str, list[str]] = defaultdict(list)
    for brk in breaking:
        notes_by_entity[brk.entity].append(brk.message)
    b = _Builder(snap, notes_by_entity)
    services = list(snap.services.services) if snap.services is not None else []
    info: dict[str, dict[str, Any]] = {}
    for s in sorted(services, key=lambda s: (s.repo, s.root, s.name)):
        declared = next((_site(ev.repo, ev.path, ev.line) for ev in s.evidence if ev.path), None)
        info[service_node_id(s.repo, s.root, s.name)] = {
            "kind": "service", "name": s.name, "repo": s.repo, "root": s.root, "owner": s.owner,
            "languages": tuple(s.languages), "declared": declared}

    # node -> role -> entity -> links
    roles: dict[str, dict[str, dict[str, list[Link]]]] = defaultdict(lambda: {"provides": defaultdict(list),
                                                                               "consumes": defaultdict(list)})
    providers: dict[str, set[str]] = defaultdict(set)  # entity -> provider nodes
    broken = [Link("", brk.entity, "consumes", c.repo, c.path, Span(c.line or 0, 0, c.line or 0, 0), 1.0, brk.message, "breaking")
              for brk in breaking for c in brk.consumers]
    for lk in [*snap.links, *broken]:
        if lk.role not in ("provides", "consumes"):
            continue
        nid = b.node_of(lk)
        if nid not in info:
            info[nid] = {"kind": "repo", "name": lk.repo, "repo": lk.repo, "root": "", "owner": "",
                         "languages": (), "declared": None}
        roles[nid][lk.role][lk.entity].append(lk)
        if lk.role == "provides":
            providers[lk.entity].add(nid)

    def provider_nodes(ident: str) -> set[str]:
        cur: str | None = b.anchor(ident)
        seen: set[str] = set()
        while cur is not None and cur not in seen:
            seen.add(cur)
            if providers.get(cur):
                return providers[cur]
            e = snap.entity(cur)
            cur = e.parent if e is not None else None
        return set()

    edge_uses: dict[tuple[str, str], dict[str, list[Link]]] = defaultdict(dict)
    unprovided: dict[str, dict[str, list[Link]]] = defaultdict(dict)
    for nid in sorted(roles):
        for ident, links in sorted(roles[nid]["consumes"].items()):
            provs = provider_nodes(ident) - {nid}
            if not provs and not provider_nodes(ident):
                unprovided[nid][ident] = links
            for p in provs:
                edge_uses[(p, nid)][ident] = links

    edges: list[Edge] = []
    for (src, dst), uses in sorted(edge_uses.items()):
        by_proto: dict[str, dict[str, list[Link]]] = defaultdict(dict)
        for ident, links in uses.items():
            e = snap.entity(ident)
            by_proto[protocol_of(e.kind if e is not None else ident.split(":", 1)[0])][ident] = links
        for proto, pu in sorted(by_proto.items()):
            contracts = b.contracts(pu)
            edges.append(Edge(id=f"{src}->{dst}#{proto}", source=src, target=dst, protocol=proto, contracts=contracts,
                              count=sum(c.count for c in contracts),
                              flags=_merge_flags(*(c.flags for c in contracts))))

    keep = set(info)
    focus_id = None
    if focus is not None:
        focus_id = resolve_focus(info, focus)
        keep = _neighbourhood(focus_id, edges, 1 if depth is None else depth)
    elif depth is not None:
        raise MapError("--depth needs --focus SERVICE")
    edges = [e for e in edges if e.source in keep and e.target in keep]

    history = _history(snap, info)
    history_gaps = _history_gaps(snap)
    from lore.query.map_ops import node_ops  # imports this module's model
    by_id = {service_node_id(s.repo, s.root, s.name): s for s in services}
    operations, ops_kinds, ops_unavailable = node_ops(snap, lambda repo, path: file_node(snap, repo, path),
                                                      {nid: by_id.get(nid) for nid in sorted(keep)})
    nodes: list[Node] = []
    groups: dict[str, Group] = {}
    for nid in sorted(keep, key=lambda n: (info[n]["repo"], info[n]["kind"] != "service", info[n]["root"], info[n]["name"])):
        i = info[nid]
        if group_by == "repo":
            group = Group(f"group:repo:{i['repo']}", "repo", i["repo"])
        else:
            group = Group(f"group:owner:{i['owner'] or NO_OWNER}", "owner", i["owner"] or NO_OWNER)
        groups.setdefault(group.id, group)
        r = roles.get(nid, {"provides": {}, "consumes": {}})
        provides, consumes = b.contracts(r["provides"]), b.contracts(r["consumes"])
        nodes.append(Node(id=nid, kind=i["kind"], name=i["name"], repo=i["repo"], root=i["root"], owner=i["owner"],
                          group=group.id, languages=i["languages"], declared=i["declared"], provides=provides,
                          consumes=consumes, unprovided=b.contracts(unprovided.get(nid, {})),
                          history=history.get(nid, ()), history_notes=history_gaps.get(i["repo"], ()),
                          ops=operations.get(nid, NodeOps()),
                          flags=_merge_flags(*(c.flags for c in provides + consumes))))
    notes = [f"call sites: the first {SITES_PER_USE} per entity are listed; counts are complete",
             f"history: the {COMMITS_PER_NODE} latest workaround, hotfix, revert and incident commits per node"]
    if ops_kinds:
        notes.append(f"alerts and SLOs: those whose queries read a service's metrics, or a span or route only it has, and SLOs "
                     f"that name it; the first {OPS_PER_NODE} per node are listed, counts are complete"
                     + (f" ({bound})" if (bound := lower_bound(snap)) else ""))
    if ops_unavailable:
        notes.append(ops_unavailable)
    if focus_id is not None:
        notes.insert(0, f"only the services within {1 if depth is None else depth} edge(s) of {info[focus_id]['name']}")
    repos = {name: (str(r.root) if r.root is not None else None) for name, r in sorted(snap.repos.items())}
    return SystemMap(nodes=tuple(nodes), edges=tuple(edges), groups=tuple(sorted(groups.values(), key=lambda g: g.name)),
                     group_by=group_by, repos=repos, focus=focus_id, depth=depth if focus_id else None,
                     notes=tuple(notes), ops_kinds=ops_kinds)


def resolve_focus(info: Mapping[str, Mapping[str, Any]], focus: str) -> str:
    if focus in info:
        return focus
    hits = [nid for nid, i in info.items() if i["kind"] == "service" and i["name"] == focus]
    if not hits:
        hits = [nid for nid, i in info.items() if i["kind"] == "repo" and i["repo"] == focus]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise MapError(f"--focus {focus!r} names {len(hits)} services: {', '.join(sorted(hits))} (use one of these ids)")
    names = sorted({str(i["name"]) for i in info.values()})
    close = difflib.get_close_matches(focus, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; services: {', '.join(names[:20])}"
    raise MapError(f"--focus {focus!r}: no such service{hint}")


def _neighbourhood(start: str, edges: Sequence[Edge], depth: int) -> set[str]:
    adj: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        adj[e.source].add(e.target)
        adj[e.target].add(e.source)
    seen = {start}
    frontier = {start}
    for _ in range(depth):
        frontier = {n for f in frontier for n in adj[f]} - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def _history_gaps(snap: Snapshot) -> dict[str, tuple[str, ...]]:
    """Per repo, what its history lacks: missing history is said to be missing, never shown as none."""
    gaps = getattr(snap.history, "gaps", None) or {}
    out: dict[str, tuple[str, ...]] = {}
    for repo in snap.repos:
        if repo not in snap.commits:
            out[repo] = ("history not mined for this repo (known from a shard, or git could not read it)",)
        elif msgs := gap_messages(gaps.get(repo)):
            out[repo] = tuple(msgs)
    return out


def _history(snap: Snapshot, info: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[CommitNote, ...]]:
    """The latest workaround/hotfix/revert/incident commits that touched each node's files."""
    out: dict[str, list[CommitNote]] = defaultdict(list)
    for repo, commits in snap.commits.items():
        flagged = [c for c in commits.values() if set(c.kinds) & set(FLAGGED_COMMITS)]
        for c in sorted(flagged, key=lambda c: (c.date, c.sha), reverse=True):
            touched: dict[str, str] = {}
            for f in c.files:
                touched.setdefault(file_node(snap, repo, f), f)
            for nid, f in touched.items():
                if nid in info and len(out[nid]) < COMMITS_PER_NODE:
                    out[nid].append(CommitNote(c.sha, c.date, c.subject, tuple(k for k in c.kinds if k in FLAGGED_COMMITS),
                                               _site(repo, f, None)))
    return {k: tuple(v) for k, v in out.items()}
