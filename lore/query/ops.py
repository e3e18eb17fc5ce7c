"""The operational context of a location: the "Operations" section of `lore context`, the hover and
agents, and the `ops` part of `lore graph --json`.

At a metric defined in code: the alerts, recording rules, SLOs and dashboard panels that read it (and the
labels they need). At a span: the queries that name it. At a query in a rule file, dashboard or SLO: the
code that defines each metric it reads. At a flag evaluation: the definition (variants, default) and
every other evaluation site; at a definition, its evaluation sites. At a route: its auth guard, or that it
has none while its siblings do, and the SLOs and alerts that name it. Everywhere in a service: the
pipelines that build and deploy it. Every note cites its file and line; lists that may be incomplete
say so (`lower_bound`).

The `OpsIndex` is built once per Snapshot, on first use, from the Snapshot's `ops.*` usages.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from indexers.model import Location, Note, Section, Service, Usage
from indexers.ops import index as ops_index
from indexers.ops.index import MetricLink, OpsIndex, key
from indexers.snapshot import Snapshot
from indexers.sources.ops import names as N
from lore.query.context import cite, lower_bound

FileKey = tuple[str, str]
MAX_LISTED = 6
_OWNER_WORDS = {"ops.alert": "alert", "ops.record": "recording rule", "ops.panel": "dashboard panel", "ops.slo": "SLO"}
_memo_lock = threading.Lock()
_file_memo: dict[FileKey, tuple[list[Usage], list[Usage]]] = {}


def ops_usages(snap: Snapshot) -> list[Usage]:
    """The Snapshot's `ops.*` usages. Per file, the filtered list is remembered by the identity of the
    file's usage list, which an overlaid Snapshot shares for every file it did not change. A Snapshot
    loaded from the cache (indexers.persist) carries them, so no file's facts are read for them."""
    saved = snap.__dict__.get("_ops_usages")
    if saved is not None:
        return list(saved)
    out: list[Usage] = []
    with _memo_lock:
        if len(_file_memo) > 400_000:
            _file_memo.clear()
        for fk, us in snap.usages_by_file.items():
            hit = _file_memo.get(fk)
            if hit is None or hit[0] is not us:
                hit = (us, [u for u in us if u.kind.startswith("ops.")])
                _file_memo[fk] = hit
            out.extend(hit[1])
    return out


def index(snap: Snapshot) -> OpsIndex:
    got = snap.__dict__.get("_ops_index")
    if got is None:
        def service_of(repo: str, path: str) -> str:
            s = snap.service_for(repo, path)
            return s.name if s is not None else ""

        got = ops_index.build(ops_usages(snap), service_of)
        snap.__dict__["_ops_index"] = got
    return got  # type: ignore[no-any-return]


def at(u: Usage) -> str:
    return cite(u.repo, u.path, u.range.start_line)


def loc(u: Usage) -> Location:
    return Location(u.repo, u.path, u.range)


def owner_label(idx: OpsIndex, read: Usage) -> tuple[str, Usage | None]:
    owner = idx.owner(read)
    if owner is None:
        o = read.attrs.get("owner") or {}
        return f"{o.get('kind', 'query')} {o.get('name', '')}".strip(), None
    word = _OWNER_WORDS.get(owner.kind, owner.kind)
    if owner.kind == "ops.panel":
        board = owner.attrs.get("dashboard") or ""
        return f"{word} {owner.name!r}" + (f" of dashboard {board!r}" if board else ""), owner
    return f"{word} {owner.name}", owner


def _extent(u: Usage) -> tuple[int, int]:
    end = u.attrs.get("end_line")
    hl = u.attrs.get("handler_line")
    last = max(u.range.end_line, end if isinstance(end, int) else -1, hl if isinstance(hl, int) else -1)
    return u.range.start_line, last


def usages_at(snap: Snapshot, repo: str, path: str, line: int, col: int | None) -> list[Usage]:
    """The ops usages at a position: those whose token is under it first (innermost), then rules, panels
    and objectives whose block holds the line."""
    here = [u for u in snap.usages_by_file.get((repo, path), []) if u.kind.startswith("ops.")]
    on = [u for u in here if u.range.contains(line, col)]
    if not on and col is not None:
        on = [u for u in here if u.range.start_line <= line <= u.range.end_line]
    block = []
    for u in here:
        if u in on:
            continue
        first, last = _extent(u)
        if first <= line <= last and (u.kind in _OWNER_WORDS or u.kind in ("ops.route", "ops.flag")):
            block.append(u)
    on.sort(key=lambda u: u.range.size)
    block.sort(key=lambda u: _extent(u)[1] - _extent(u)[0])
    if block and all(u.kind == "ops.read" for u in on):  # inside a rule: the rule, then what it reads
        return block[:1] + on
    return on + block[:1]


# -- notes -------------------------------------------------------------------------------------------

def _labels_missing(idx: OpsIndex, lk: MetricLink) -> list[str]:
    m = lk.target
    if m.kind != "ops.metric" or not m.attrs.get("labels_known"):
        return []
    have = set(m.attrs.get("labels") or []) | set(N.builtin_labels(str(m.attrs.get("lib", "")), str(m.attrs.get("type", ""))))
    return [lbl for lbl in lk.read.attrs.get("labels") or [] if lbl not in have and lbl not in N.TARGET_LABELS]


def metric_notes(snap: Snapshot, idx: OpsIndex, metric: Usage) -> list[Note]:
    name = idx.name_of(metric)
    a = metric.attrs
    labels = ", ".join(a.get("labels") or []) if a.get("labels_known") else "labels not known"
    notes = [Note(f"metric {name} ({a.get('lib', '')} {a.get('type', '')}; labels: {labels or 'none'})", at(metric),
                  "ops_metric", loc(metric), {"metric": name, "series": sorted(idx.exposes(metric)), **a})]
    if key(metric) in {key(m) for m in idx.unresolved}:
        notes.append(Note(f"its name is built from constants Lore could not resolve ({metric.name}); links to it are not known",
                          at(metric), "ops_unresolved", loc(metric)))
        return notes
    deps = idx.dependents(metric)
    bound = lower_bound(snap)
    by_owner: dict[tuple[str, str, int], list[tuple[MetricLink, list[Usage]]]] = defaultdict(list)
    for lk, chain in deps:
        by_owner[(lk.read.repo, lk.read.path, int((lk.read.attrs.get("owner") or {}).get("line", lk.read.range.start_line)))].append((lk, chain))
    if not by_owner:
        if idx.rules:
            notes.append(Note("no alert, recording rule, SLO or dashboard in the indexed repositories reads it"
                              + (f" ({bound})" if bound else ""), at(metric), "ops_readers_none", loc(metric),
                              {"lower_bound": bool(bound)}))
        return notes
    counts: dict[str, int] = defaultdict(int)
    for (_repo, _path, _line), items in sorted(by_owner.items()):
        lk, chain = items[0]
        label, owner = owner_label(idx, lk.read)
        counts[owner.kind if owner is not None else "query"] += 1
        series = sorted({x.series for x, _ in items})
        via = f" through recording rule {chain[0].name} ({at(chain[0])})" if chain else ""
        missing = sorted({m for x, _ in items for m in _labels_missing(idx, x)})
        text = f"read by {label}: {', '.join(series)}{via}"
        if missing:
            text += f"; it matches label{'s' if len(missing) > 1 else ''} {', '.join(missing)}, which this metric does not define"
        if owner is not None and owner.kind == "ops.alert":
            extra = [f"{k} {owner.attrs[k]}" for k in ("for", "severity") if owner.attrs.get(k)]
            if extra:
                text += f" ({', '.join(extra)})"
        notes.append(Note(text, at(lk.read), "ops_reader", loc(lk.read),
                          {"owner": label, "owner_kind": owner.kind if owner is not None else "", "series": series,
                           "via": [c.name for c in chain], "why": lk.why, "missing_labels": missing,
                           "runbook": owner.attrs.get("runbook", "") if owner is not None else ""}))
    summary = ", ".join(f"{n} {_OWNER_WORDS.get(k, 'quer')}{'s' if n != 1 else ''}".replace("querys", "queries")
                        for k, n in sorted(counts.items()))
    notes.insert(1, Note(f"read by {summary}" + (f" ({bound})" if bound else ""), at(metric), "ops_readers_summary",
                         loc(metric), {"counts": dict(counts), "lower_bound": bool(bound)}))
    return notes


def read_notes(idx: OpsIndex, read: Usage) -> list[Note]:
    label, owner = owner_label(idx, read)
    links = idx.links_by_read.get(key(read), [])
    if not links:
        return [Note(f"{label} reads {read.name}: no definition in the indexed code (a metric of an exporter or a "
                     "library, or of code Lore does not read)", at(read), "ops_read_unknown", loc(read),
                     {"metric": read.name})]
    out = []
    for lk in links[:MAX_LISTED]:
        t = lk.target
        if t.kind == "ops.record":
            out.append(Note(f"{label} reads {read.name}, recorded by rule {t.name}", at(t), "ops_recorded_by", loc(t),
                            {"metric": read.name, "record": t.name}))
            continue
        missing = _labels_missing(idx, lk)
        text = (f"{label} reads {read.name}, defined by {t.attrs.get('lib', '')} {t.attrs.get('type', '')} "
                f"{idx.name_of(t)} ({lk.why})")
        if missing:
            text += f"; label{'s' if len(missing) > 1 else ''} {', '.join(missing)} not defined there"
        out.append(Note(text, at(t), "ops_defined_by", loc(t),
                        {"metric": read.name, "definition": idx.name_of(t), "why": lk.why, "confidence": lk.confidence,
                         "missing_labels": missing}))
    if len(links) > MAX_LISTED:
        out.append(Note(f"(+{len(links) - MAX_LISTED} more definitions of {read.name})", at(read), "ops_more"))
    return out


def owner_notes(snap: Snapshot, idx: OpsIndex, owner: Usage) -> list[Note]:
    a = owner.attrs
    word = _OWNER_WORDS.get(owner.kind, owner.kind)
    bits = [f"{k} {a[k]}" for k in ("for", "severity", "objective", "window", "service") if a.get(k)]
    text = f"{word} {owner.name}" + (f" ({', '.join(bits)})" if bits else "")
    if owner.kind == "ops.panel" and a.get("dashboard"):
        text = f"{word} {owner.name!r} of dashboard {a['dashboard']!r}"
    notes = [Note(text, at(owner), "ops_rule", loc(owner), {"kind": word, "name": owner.name, **{k: v for k, v in a.items() if k != "exprs"}})]
    if a.get("runbook"):
        notes.append(Note(f"runbook: {a['runbook']}", at(owner), "ops_runbook", loc(owner)))
    reads = [r for r in idx.reads if r.repo == owner.repo and r.path == owner.path
             and (r.attrs.get("owner") or {}).get("line") == owner.range.start_line]
    for r in reads[:MAX_LISTED]:
        notes += read_notes(idx, r)[:2]
    if owner.kind == "ops.record":
        deps = idx.dependents(owner)
        for lk, _chain in deps[:MAX_LISTED]:
            label, _ = owner_label(idx, lk.read)
            notes.append(Note(f"read by {label}", at(lk.read), "ops_reader", loc(lk.read), {"owner": label}))
    return notes


def span_notes(snap: Snapshot, idx: OpsIndex, span: Usage) -> list[Note]:
    notes = [Note(f"span {span.name}", at(span), "ops_span", loc(span), {"span": span.name})]
    for r in idx.span_reads.get(span.name, [])[:MAX_LISTED]:
        label, _ = owner_label(idx, r)
        notes.append(Note(f"read by {label}: {r.name}{{span_name=\"{span.name}\"}}", at(r), "ops_reader", loc(r),
                          {"owner": label}))
    return notes


def flag_eval_notes(snap: Snapshot, idx: OpsIndex, ev: Usage) -> list[Note]:
    defs = idx.flags.get(ev.name, [])
    notes: list[Note] = []
    for d in defs[:MAX_LISTED]:
        a = d.attrs
        variants = ", ".join(str(v) for v in a.get("variants") or []) or "none listed"
        default = a.get("default") or "not stated"
        notes.append(Note(f"flag {ev.name}: defined in {at(d)} ({a.get('format', '')}; variants {variants}; default {default})",
                          at(d), "ops_flag_definition", loc(d), {"flag": ev.name, **a}))
    if not defs:
        if idx.flags:
            files = len({(d.repo, d.path) for d in ops_index.any_of(idx.flags)})
            notes.append(Note(f"flag {ev.name} is evaluated here but not defined in any of the {files} indexed flag "
                              f"file{'s' if files != 1 else ''}", at(ev), "ops_flag_undefined", loc(ev), {"flag": ev.name}))
        else:
            notes.append(Note(f"flag {ev.name} ({ev.attrs.get('sdk', '')}): no flag definition file is indexed", at(ev),
                              "ops_flag", loc(ev), {"flag": ev.name}))
    others = [e for e in idx.evals.get(ev.name, []) if key(e) != key(ev)]
    if others:
        repos = sorted({e.repo for e in others})
        places = ", ".join(at(e) for e in others[:MAX_LISTED]) + (f" (+{len(others) - MAX_LISTED} more)" if len(others) > MAX_LISTED else "")
        bound = lower_bound(snap)
        notes.append(Note(f"{len(others)} other evaluation site{'s' if len(others) != 1 else ''} in {len(repos)} "
                          f"repo{'s' if len(repos) != 1 else ''}: {places}" + (f" ({bound})" if bound else ""),
                          at(others[0]), "ops_flag_evaluations", loc(others[0]),
                          {"sites": [at(e) for e in others], "repos": repos, "lower_bound": bool(bound)}))
    return notes


def flag_def_notes(snap: Snapshot, idx: OpsIndex, d: Usage) -> list[Note]:
    a = d.attrs
    variants = ", ".join(str(v) for v in a.get("variants") or []) or "none listed"
    notes = [Note(f"flag {d.name} ({a.get('format', '')}; variants {variants}; default {a.get('default') or 'not stated'})",
                  at(d), "ops_flag_definition", loc(d), {"flag": d.name, **a})]
    evals = idx.evals.get(d.name, [])
    bound = lower_bound(snap)
    if evals:
        repos = sorted({e.repo for e in evals})
        places = ", ".join(at(e) for e in evals[:MAX_LISTED]) + (f" (+{len(evals) - MAX_LISTED} more)" if len(evals) > MAX_LISTED else "")
        notes.append(Note(f"evaluated at {len(evals)} site{'s' if len(evals) != 1 else ''} in {len(repos)} repo{'s' if len(repos) != 1 else ''}: "
                          f"{places}" + (f" ({bound})" if bound else ""), at(evals[0]), "ops_flag_evaluations", loc(evals[0]),
                          {"sites": [at(e) for e in evals], "repos": repos, "lower_bound": bool(bound)}))
    else:
        notes.append(Note("not evaluated in the indexed code" + (f" ({bound})" if bound else ""), at(d), "ops_flag_unused",
                          loc(d), {"lower_bound": bool(bound)}))
    return notes


def route_notes(snap: Snapshot, idx: OpsIndex, route: Usage) -> list[Note]:
    guards, public, rule_at = ops_index.effective(idx, route)
    a = route.attrs
    rule_at = f"security rule at {rule_at}" if rule_at else ""
    where = f"router {a.get('router')}" + (f", {a['group']}" if a.get("group") else "")
    notes: list[Note] = []
    base = {"route": route.name, "router": a.get("router"), "framework": a.get("framework"), "guards": guards,
            "public": public}
    if guards:
        notes.append(Note(f"route {route.name} ({a.get('framework')}, {where}): guarded by {', '.join(guards)}"
                          + (f" ({rule_at})" if rule_at else ""), at(route), "ops_route_guard", loc(route), base))
    elif public:
        notes.append(Note(f"route {route.name} ({a.get('framework')}, {where}): public by declaration"
                          + (f" ({rule_at})" if rule_at else ""), at(route), "ops_route_guard", loc(route), base))
    else:
        flagged = ops_index.unguarded(idx, [route])
        if flagged:
            u = flagged[0]
            notes.append(Note(f"route {route.name} ({a.get('framework')}, {where}) has no auth guard, while the "
                              f"{len(u.siblings)} other routes of its router use {u.guard}", at(route), "ops_route_unguarded",
                              loc(route), {**base, "siblings_guard": u.guard, "siblings": [at(s) for s in u.siblings]}))
        else:
            notes.append(Note(f"route {route.name} ({a.get('framework')}, {where}): no auth guard found", at(route),
                              "ops_route_guard", loc(route), base))
    for p in ops_index.policies_for(idx, route)[:MAX_LISTED] if idx.policies else []:
        pa = p.attrs
        notes.append(Note(f"OPA policy {pa.get('package') or '?'}, rule {pa.get('rule') or '?'}, names this route "
                          f"({pa.get('match')} {pa.get('pattern')})", at(p), "ops_route_policy", loc(p), dict(pa)))
    shown: set[str] = set()
    for r in idx.route_reads.get(ops_index.norm_path(str(a.get("path", ""))), []):
        label, owner = owner_label(idx, r)
        if label in shown or len(shown) >= MAX_LISTED:
            continue
        shown.add(label)
        notes.append(Note(f"{label} reads {r.name} for this route", at(owner or r), "ops_route_reader", loc(owner or r),
                          {"owner": label}))
    return notes


def policy_notes(idx: OpsIndex, policy: Usage) -> list[Note]:
    a = policy.attrs
    routes = [r for r in idx.routes if policy in ops_index.policies_for(idx, r)]
    notes = [Note(f"OPA policy {a.get('package') or '?'}, rule {a.get('rule') or '?'}: {a.get('match')} path {a.get('pattern')}",
                  at(policy), "ops_policy", loc(policy), dict(a))]
    if routes:
        shown = ", ".join(f"{r.name} ({at(r)})" for r in routes[:MAX_LISTED]) + (f" (+{len(routes) - MAX_LISTED} more)" if len(routes) > MAX_LISTED else "")
        notes.append(Note(f"names {len(routes)} route{'s' if len(routes) != 1 else ''}: {shown}", at(routes[0]),
                          "ops_policy_routes", loc(routes[0]), {"routes": [at(r) for r in routes]}))
    else:
        notes.append(Note("names no route registered in the indexed code", at(policy), "ops_policy_routes", loc(policy)))
    return notes


def service_pipelines(snap: Snapshot, idx: OpsIndex, svc: Service) -> list[tuple[Usage, str]]:
    """The CI jobs and GitOps objects that build or deploy a service, each with why (`pipelines_for`)."""
    if not (idx.pipelines or idx.deploys):
        return []
    in_repo = sum(1 for s in (snap.services.services if snap.services is not None else []) if s.repo == svc.repo)
    manifests: dict[str, list[str]] = defaultdict(list)  # where the service's deployment manifests are
    for ev in svc.evidence:
        if ev.path and any(w in ev.detail for w in ("kubernetes", "helm")):
            manifests[ev.repo].append(ev.path)
    return ops_index.pipelines_for(idx, svc.repo, svc.root, in_repo, manifests)


def pipeline_text(p: Usage, service: str) -> str:
    """What a job or GitOps object does to a service: `github-actions workflow W, job J deploys S to
    environment E`."""
    a = p.attrs
    if p.kind == "ops.pipeline":
        what = " and ".join(w for w, on in (("builds", a.get("builds")), ("deploys", a.get("deploys"))) if on) or "runs"
        env = f" to environment {a['environment']}" if a.get("environment") else ""
        return f"{a.get('system')} workflow {a.get('workflow')!s}, job {a.get('job')} {what} {service}{env}"
    return f"{a.get('system')} {a.get('kind')} {p.name} deploys {service}" + \
        (f" to namespace {a['namespace']}" if a.get("namespace") else "")


def pipeline_notes(snap: Snapshot, idx: OpsIndex, repo: str, path: str) -> list[Note]:
    svc = snap.service_for(repo, path)
    if svc is None:
        return []
    return [Note(f"{pipeline_text(p, svc.name)} ({why})", at(p), "pipeline", loc(p), {"service": svc.name, **p.attrs})
            for p, why in service_pipelines(snap, idx, svc)[:MAX_LISTED]]


def ops_section(snap: Snapshot, repo: str, path: str, line: int, col: int | None = None) -> Section:
    """The Operations section at a position."""
    try:
        idx = index(snap)
    except Exception as exc:  # noqa: BLE001 - operations never break the rest of the context
        return Section("ops", "Operations", (), f"Operational context unavailable: {exc.__class__.__name__}: {exc}")
    notes: list[Note] = []
    seen: set[Any] = set()
    for u in usages_at(snap, repo, path, line, col):
        k = key(u)
        if k in seen:
            continue
        seen.add(k)
        if u.kind == "ops.metric":
            notes += metric_notes(snap, idx, u)
        elif u.kind == "ops.read":
            notes += read_notes(idx, u)
        elif u.kind in _OWNER_WORDS:
            notes += owner_notes(snap, idx, u)
        elif u.kind == "ops.span":
            notes += span_notes(snap, idx, u)
        elif u.kind == "ops.flag_eval":
            notes += flag_eval_notes(snap, idx, u)
        elif u.kind == "ops.flag":
            notes += flag_def_notes(snap, idx, u)
        elif u.kind == "ops.route":
            notes += route_notes(snap, idx, u)
        elif u.kind == "ops.policy":
            notes += policy_notes(idx, u)
    notes += pipeline_notes(snap, idx, repo, path)
    unique: dict[tuple[str, str], Note] = {}
    for n in notes:
        unique.setdefault((n.text, n.source), n)
    return Section("ops", "Operations", tuple(unique.values()), "No operational facts here.")


# -- graph -------------------------------------------------------------------------------------------

def _pos(u: Usage) -> dict[str, Any]:
    return {"repo": u.repo, "path": u.path, "line": u.range.start_line + 1}


def ops_graph(snap: Snapshot) -> dict[str, Any]:
    """The operational part of `lore graph --json`: metrics with their readers, rules and objectives,
    flags with their evaluation sites, routes with their guards, pipelines. Every item cites file and line."""
    idx = index(snap)
    metrics = []
    for m in sorted(idx.metrics, key=lambda u: (idx.name_of(u), u.repo, u.path, u.range)):
        metrics.append({"name": idx.name_of(m), **_pos(m), "lib": m.attrs.get("lib"), "type": m.attrs.get("type"),
                        "labels": m.attrs.get("labels"), "labels_known": m.attrs.get("labels_known"),
                        "series": sorted(idx.exposes(m)),
                        "readers": [{**_pos(lk.read), "owner": owner_label(idx, lk.read)[0], "series": lk.series,
                                     "why": lk.why, "via": [c.name for c in chain]} for lk, chain in idx.dependents(m)]})
    rules = [{"kind": _OWNER_WORDS.get(r.kind, r.kind), "name": r.name, **_pos(r),
              **{k: v for k, v in r.attrs.items() if k in ("group", "for", "severity", "runbook", "dashboard", "objective",
                                                           "window", "service", "format")}} for r in idx.rules]
    reads = [{"metric": r.name, **_pos(r), "owner": owner_label(idx, r)[0], "labels": r.attrs.get("labels"),
              "defined_at": [_pos(lk.target) for lk in idx.links_by_read.get(key(r), [])]} for r in idx.reads]
    flags = [{"flag": name, "definitions": [{**_pos(d), **d.attrs} for d in idx.flags.get(name, [])],
              "evaluations": [_pos(e) for e in idx.evals.get(name, [])]}
             for name in sorted(set(idx.flags) | set(idx.evals))]
    routes = []
    for r in idx.routes:
        guards, public, _ = ops_index.effective(idx, r)
        routes.append({"route": r.name, **_pos(r), "router": r.attrs.get("router"), "framework": r.attrs.get("framework"),
                       "guards": guards, "public": public})
    unguarded = [{"route": u.route.name, **_pos(u.route), "siblings_guard": u.guard} for u in ops_index.unguarded(idx)]
    spans = [{"span": name, **_pos(s), "readers": [_pos(r) for r in idx.span_reads.get(name, [])]}
             for name, ss in sorted(idx.spans.items()) for s in ss]
    pipes = [{"kind": p.kind.split(".", 1)[1], "name": p.name, **_pos(p), **p.attrs} for p in idx.pipelines + idx.deploys]
    return {"metrics": metrics, "rules": rules, "reads": reads, "spans": spans, "flags": flags, "routes": routes,
            "unguarded_routes": unguarded, "pipelines": pipes}
