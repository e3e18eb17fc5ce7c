"""The operational context of each node of the system map (lore/query/system_map.py): the alerts and
SLOs over a service and the CI jobs and GitOps objects that ship it, each at its file and line. Built on
the `OpsIndex` (lore/query/ops.py), so the map says what the hover says. An alert or SLO is over a
service when one of its queries reads

- a metric the service's code defines: the query selects a series the definition exposes by its
  library's naming conventions, directly or through recording rules (`via`);
- a span the service's code starts (a `span_name` / `operation` equality matcher), or a route it
  registers (a route label equal to its path), when no other node starts that span or registers that
  path: a name two services share says nothing about which one a query means;

or, for an SLO, when it names the service (`service:` equal to the name of exactly one service).
Metrics whose names Lore could not resolve link to nothing. Pipelines: `ops.service_pipelines`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from indexers.model import Service, Usage
from indexers.ops.index import Key, OpsIndex, key
from indexers.snapshot import Snapshot
from lore.query import ops
from lore.query.system_map import OPS_PER_NODE, NodeOps, OpsRule, Shipping, Signal, Site, service_node_id

RULE_KINDS = {"ops.alert": "alert", "ops.slo": "slo"}
DETAILS = {"alert": ("for", "severity"), "slo": ("objective", "window")}
NodeOf = Callable[[str, str], str]  # (repo, path) -> node id


@dataclass
class _Rule:
    owner: Usage
    reads: dict[tuple[str, str, Site], None] = field(default_factory=dict)  # (kind, name, site), in order found
    via: dict[str, None] = field(default_factory=dict)


def site_of(u: Usage) -> Site:
    return Site(u.repo, u.path, u.range.start_line)


def ops_kinds(idx: OpsIndex) -> tuple[str, ...]:
    """Which operational facts the workspace has at all: a list of none means none is indexed, not none
    over the service."""
    kinds = {RULE_KINDS[r.kind] for r in idx.rules if r.kind in RULE_KINDS}
    if idx.pipelines or idx.deploys:
        kinds.add("pipeline")
    return tuple(k for k in ("alert", "slo", "pipeline") if k in kinds)


def _rules_over(snap: Snapshot, idx: OpsIndex, node_of: NodeOf) -> dict[str, dict[Key, _Rule]]:
    """node id -> the alerts and SLOs over it, by rule."""
    out: dict[str, dict[Key, _Rule]] = defaultdict(dict)

    def add(nid: str, read: Usage, signal: tuple[str, str, Site], via: Iterable[Usage] = ()) -> None:
        owner = idx.owner(read)
        if owner is None or owner.kind not in RULE_KINDS:
            return
        rule = out[nid].setdefault(key(owner), _Rule(owner))
        rule.reads.setdefault(signal)
        for r in via:
            rule.via.setdefault(r.name)

    unresolved = {key(m) for m in idx.unresolved}
    for m in sorted(idx.metrics, key=key):
        if key(m) in unresolved:
            continue
        nid = node_of(m.repo, m.path)
        for lk, chain in idx.dependents(m):
            add(nid, lk.read, ("metric", idx.name_of(m), site_of(m)), chain)
    for name, spans in sorted(idx.spans.items()):
        if len({node_of(s.repo, s.path) for s in spans}) != 1:
            continue
        for s in sorted(spans, key=key):
            for r in idx.span_reads.get(name, []):
                add(node_of(s.repo, s.path), r, ("span", name, site_of(s)))
    for path, routes in sorted(idx.routes_by_path.items()):
        reads = idx.route_reads.get(path, [])
        nodes = {node_of(r.repo, r.path) for r in routes}
        if not reads or len(nodes) != 1:
            continue
        for route in sorted(routes, key=key):
            for r in reads:
                add(node_of(route.repo, route.path), r, ("route", route.name, site_of(route)))
    services = snap.services.services if snap.services is not None else []
    by_name: dict[str, list[Service]] = defaultdict(list)
    for svc in services:
        by_name[svc.name.lower()].append(svc)
    for slo in idx.rules:
        named = str(slo.attrs.get("service") or "").lower() if slo.kind == "ops.slo" else ""
        if named and len(by_name.get(named, [])) == 1:
            svc = by_name[named][0]
            rule = out[service_node_id(svc.repo, svc.root, svc.name)].setdefault(key(slo), _Rule(slo))
            rule.reads.setdefault(("service", svc.name, site_of(slo)))
    return out


def _rule(r: _Rule) -> OpsRule:
    kind = RULE_KINDS[r.owner.kind]
    a = r.owner.attrs
    return OpsRule(kind=kind, name=r.owner.name, site=site_of(r.owner),
                   reads=tuple(Signal(k, n, s) for k, n, s in r.reads), via=tuple(r.via),
                   details=tuple(f"{d} {a[d]}" for d in DETAILS[kind] if a.get(d) not in (None, "")))


def node_ops(snap: Snapshot, node_of: NodeOf, service_ids: Mapping[str, Service | None]
             ) -> tuple[dict[str, NodeOps], tuple[str, ...], str]:
    """For the nodes `service_ids` names (node id -> its service, None for a repo's files in no service):
    (node id -> its operational context, which kinds of facts the workspace has, why there are none when
    the index could not be built). `node_of(repo, path)` is the node a file belongs to."""
    try:
        idx = ops.index(snap)
    except Exception as exc:  # noqa: BLE001 - operations never break the map
        return {}, (), f"operational context unavailable: {exc.__class__.__name__}: {exc}"
    kinds = ops_kinds(idx)
    if not kinds:
        return {}, (), ""
    rules = _rules_over(snap, idx, node_of) if {"alert", "slo"} & set(kinds) else {}
    out: dict[str, NodeOps] = {}
    for nid, svc in service_ids.items():
        by_kind: dict[str, list[OpsRule]] = {"alert": [], "slo": []}
        for r in sorted(rules.get(nid, {}).values(), key=lambda r: key(r.owner)):
            by_kind[RULE_KINDS[r.owner.kind]].append(_rule(r))
        ships = [] if svc is None else [
            Shipping("deploy" if p.kind == "ops.deploy" else "pipeline", ops.pipeline_text(p, svc.name), why, site_of(p))
            for p, why in ops.service_pipelines(snap, idx, svc)]
        if by_kind["alert"] or by_kind["slo"] or ships:
            out[nid] = NodeOps(alerts=tuple(by_kind["alert"][:OPS_PER_NODE]), slos=tuple(by_kind["slo"][:OPS_PER_NODE]),
                               pipelines=tuple(ships[:OPS_PER_NODE]), alert_count=len(by_kind["alert"]),
                               slo_count=len(by_kind["slo"]), pipeline_count=len(ships))
    return out, kinds, ""

