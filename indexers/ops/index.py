"""The operational index: every `ops.*` usage of the workspace, joined.

Precision first, as everywhere in Lore: a link needs evidence a reader can check.

- A query's metric (`ops.read`) links to a metric defined in code only when the series name it selects is
  one the definition exposes by its library's documented conventions (`sources.ops.names.exposed`); the
  convention is the evidence. A name defined in several places links to each; when the query pins a
  service (`job`, `service`, `app`, `container` equal to a service's name) only that service's
  definitions count. A name recorded by a recording rule links to the rule, and through it to what the
  rule reads.
- A span links to a query by an equality matcher on `span_name` (the collector's spanmetrics connector)
  or `operation` (Jaeger's), a route by an equality matcher on `route`, `http_route`, `handler`, `path`,
  `uri`, `url`, `endpoint` or `operation` holding a path the route registers (parameters compared as
  placeholders).
- A flag evaluation links to the definitions of the same key.
- Routes are grouped by router (repo, file, router variable and the function holding it); a route with
  no auth guard in a group whose other routes (at least two, none public) all share one is reported.
  Spring `SecurityFilterChain` rules apply to the repo's Spring routes, first match wins. An OPA/Rego
  policy that names a route's path (exactly, by glob or by prefix) counts as its guard.
- Go metric names built from constants declared in another file resolve through the package's constants
  (same repo and folder).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from indexers.model import Usage
from indexers.sources.ops import names as N

Key = tuple[str, str, int, int, str, str]  # repo, path, line, col, kind, name
SPAN_LABELS = ("span_name", "operation")
ROUTE_LABELS = ("route", "http_route", "handler", "path", "uri", "url", "endpoint", "url_path", "http_target", "operation")
SERVICE_LABELS = ("job", "service", "service_name", "app", "container", "application")
PUBLIC_PATHS = re.compile(r"^/(?:health\w*|healthz|livez|readyz?|ready|ping|status|metrics|version|login|logout|signin|"
                          r"signup|sign-in|sign-up|register|token|oauth\w*|auth\w*|callback|public|docs|swagger\w*|"
                          r"openapi\w*|favicon\.ico|robots\.txt|\.well-known)(?:/|$)")
# bracket contents bounded: an unclosed bracket repeated must not be scanned to the end from each one
_PARAM = re.compile(r"\{[^}]{0,256}\}|:[\w.]+\??|<[^>]{1,256}>|\*\w*|\[[^\]]{1,256}\]")


def key(u: Usage) -> Key:
    return (u.repo, u.path, u.range.start_line, u.range.start_col, u.kind, u.name)


def norm_path(path: str) -> str:
    segs = []
    for seg in path.split("?", 1)[0].split("/"):
        if not seg:
            continue
        segs.append("{}" if _PARAM.search(seg) else seg)
    return "/" + "/".join(segs)


def family(lang: str) -> str:
    return "javascript" if lang in ("typescript", "tsx") else lang


@dataclass(frozen=True)
class MetricLink:
    read: Usage  # the query's selector
    target: Usage  # ops.metric (code) or ops.record (a recording rule)
    series: str
    why: str  # the convention that makes the names one
    confidence: float


@dataclass
class OpsIndex:
    metrics: list[Usage] = field(default_factory=list)
    names: dict[Key, str] = field(default_factory=dict)  # resolved names of metrics built from constants
    series: dict[str, list[tuple[Usage, str]]] = field(default_factory=lambda: defaultdict(list))
    reads: list[Usage] = field(default_factory=list)
    owners: dict[tuple[str, str, int], Usage] = field(default_factory=dict)  # alert/record/panel/slo by line
    records: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    spans: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    flags: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    evals: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    routes: list[Usage] = field(default_factory=list)
    routes_by_path: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    authz: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    policies: list[Usage] = field(default_factory=list)  # OPA/Rego rules naming paths
    pipelines: list[Usage] = field(default_factory=list)
    deploys: list[Usage] = field(default_factory=list)
    rules: list[Usage] = field(default_factory=list)  # alerts, records, panels, SLOs
    # joins
    metric_links: list[MetricLink] = field(default_factory=list)
    links_by_read: dict[Key, list[MetricLink]] = field(default_factory=lambda: defaultdict(list))
    links_by_target: dict[Key, list[MetricLink]] = field(default_factory=lambda: defaultdict(list))
    span_reads: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    route_reads: dict[str, list[Usage]] = field(default_factory=lambda: defaultdict(list))
    unresolved: list[Usage] = field(default_factory=list)  # metrics whose name needs constants not found

    # -- lookups ---------------------------------------------------------------------------------------
    def name_of(self, metric: Usage) -> str:
        return self.names.get(key(metric), metric.name)

    def owner(self, read: Usage) -> Usage | None:
        o = read.attrs.get("owner") or {}
        line = o.get("line")
        return self.owners.get((read.repo, read.path, line)) if isinstance(line, int) else None

    def dependents(self, target: Usage, depth: int = 0) -> list[tuple[MetricLink, list[Usage]]]:
        """The reads of a metric (or recording rule), each with the chain of recording rules it went
        through (empty when the query reads the metric itself)."""
        out: list[tuple[MetricLink, list[Usage]]] = []
        for lk in self.links_by_target.get(key(target), []):
            out.append((lk, []))
            owner = self.owner(lk.read)
            if owner is not None and owner.kind == "ops.record" and depth < 3:
                for sub, chain in self.dependents(owner, depth + 1):
                    out.append((sub, [owner, *chain]))
        return out

    def exposes(self, metric: Usage) -> dict[str, str]:
        a = metric.attrs
        return N.exposed(self.name_of(metric), str(a.get("lib", "")), str(a.get("type", "")),
                         lang=family(metric.language), unit=str(a.get("unit", "")))


def _const_table(usages: Iterable[Usage]) -> dict[tuple[str, str], dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for u in usages:
        folder = u.path.rsplit("/", 1)[0] if "/" in u.path else ""
        out[(u.repo, folder)].setdefault(u.name, str(u.attrs.get("value", "")))
    return out


def build(usages: Iterable[Usage], service_of: Callable[[str, str], str] | None = None) -> OpsIndex:
    """The index of every `ops.*` usage; `service_of(repo, path)` names the service owning a file."""
    idx = OpsIndex()
    consts: list[Usage] = []
    for u in usages:
        k = u.kind
        if k == "ops.metric":
            idx.metrics.append(u)
        elif k == "ops.read":
            idx.reads.append(u)
        elif k in ("ops.alert", "ops.record", "ops.panel", "ops.slo"):
            idx.owners[(u.repo, u.path, u.range.start_line)] = u
            idx.rules.append(u)
            if k == "ops.record":
                idx.records[u.name].append(u)
        elif k == "ops.span":
            idx.spans[u.name].append(u)
        elif k == "ops.flag":
            idx.flags[u.name].append(u)
        elif k == "ops.flag_eval":
            idx.evals[u.name].append(u)
        elif k == "ops.route":
            idx.routes.append(u)
            idx.routes_by_path[norm_path(str(u.attrs.get("path", "")))].append(u)
        elif k == "ops.authz_rule":
            idx.authz[u.repo].append(u)
        elif k == "ops.policy":
            idx.policies.append(u)
        elif k == "ops.pipeline":
            idx.pipelines.append(u)
        elif k == "ops.deploy":
            idx.deploys.append(u)
        elif k == "ops.const":
            consts.append(u)
    table = _const_table(consts) if consts else {}
    for m in idx.metrics:
        parts = m.attrs.get("parts")
        if isinstance(parts, list) and parts:
            folder = m.path.rsplit("/", 1)[0] if "/" in m.path else ""
            scope = table.get((m.repo, folder), {})
            resolved = [scope.get(p[1:], None) if isinstance(p, str) and p.startswith("$") else str(p) for p in parts]
            if any(r is None for r in resolved):
                idx.unresolved.append(m)
                continue
            idx.names[key(m)] = re.sub(r"_+", "_", "".join(r or "" for r in resolved).strip("_")) if \
                any(p == "_" for p in parts) else "".join(r or "" for r in resolved)
        for series, why in idx.exposes(m).items():
            idx.series[series].append((m, why))
    _link_reads(idx, service_of or (lambda r, p: ""))
    return idx


def _pinned_service(read: Usage) -> set[str]:
    """Service names a query pins with an equality matcher (`job="cart"`), lower-cased."""
    out = set()
    for m in read.attrs.get("matchers") or []:
        if isinstance(m, list) and len(m) == 3 and m[0] in SERVICE_LABELS and m[1] == "=":
            out.add(str(m[2]).lower())
    return out


def _link_reads(idx: OpsIndex, service_of: Callable[[str, str], str]) -> None:
    for read in idx.reads:
        name = read.name
        found = idx.series.get(name, [])
        if found:
            pinned = _pinned_service(read)
            if pinned and len({(m.repo, service_of(m.repo, m.path)) for m, _ in found}) > 1:
                narrowed = [(m, why) for m, why in found if _service_matches(service_of(m.repo, m.path), m.repo, pinned)]
                found = narrowed or found
            many = len({key(m) for m, _ in found}) > 1
            for m, why in found:
                weak = "without unit and type suffixes" in why
                conf = (0.7 if weak else 0.9) - (0.1 if many else 0.0)
                lk = MetricLink(read, m, name, why, round(conf, 2))
                idx.metric_links.append(lk)
                idx.links_by_read[key(read)].append(lk)
                idx.links_by_target[key(m)].append(lk)
        for rec in idx.records.get(name, []):
            lk = MetricLink(read, rec, name, "recorded by this recording rule", 0.95)
            idx.metric_links.append(lk)
            idx.links_by_read[key(read)].append(lk)
            idx.links_by_target[key(rec)].append(lk)
        for m in read.attrs.get("matchers") or []:
            if not (isinstance(m, list) and len(m) == 3 and m[1] == "="):
                continue
            label, value = str(m[0]), str(m[2])
            if label in SPAN_LABELS and value in idx.spans and (label == "span_name" or _spanmetric(name)):
                idx.span_reads[value].append(read)
            if label in ROUTE_LABELS and value.startswith("/"):
                idx.route_reads[norm_path(value)].append(read)


def _spanmetric(name: str) -> bool:
    return name.startswith(("calls", "latency", "duration", "traces_span", "traces_spanmetrics"))


def _service_matches(service: str, repo: str, pinned: set[str]) -> bool:
    names = {service.lower(), repo.lower()} - {""}
    return any(p == n or p.endswith("/" + n) or p.startswith(n + "-") or p.endswith("-" + n) for p in pinned for n in names)


# -- routes ----------------------------------------------------------------------------------------------

_ANT = re.compile(r"\*\*|\*|\{[^}]{0,256}\}|[^*{]+")  # bounded: see _PARAM


def ant_match(pattern: str, path: str) -> bool:
    """Spring's Ant-style path patterns: `**` any segments, `*` within a segment, `{x}` one segment."""
    rx = []
    for tok in _ANT.findall(pattern):
        if tok == "**":
            rx.append(".*")
        elif tok == "*" or tok.startswith("{"):
            rx.append("[^/]*")
        else:
            rx.append(re.escape(tok))
    body = "".join(rx)
    if body.endswith("/.*"):
        body = body[:-3] + "(?:/.*)?"
    return re.fullmatch(body, path) is not None


def _glob(pattern: str, path: str) -> bool:
    rx = "".join(".*" if tok == "**" else "[^/]*" if tok == "*" else re.escape(tok)
                 for tok in re.findall(r"\*\*|\*|[^*]+", pattern))
    return re.fullmatch(rx, path) is not None


def policies_for(idx: OpsIndex, route: Usage) -> list[Usage]:
    """The OPA/Rego rules whose path matches name this route's path."""
    path = str(route.attrs.get("path", ""))
    norm = norm_path(path)
    out = []
    for p in idx.policies:
        pattern, match = str(p.attrs.get("pattern", "")), p.attrs.get("match")
        if match == "exact" and norm_path(pattern) == norm or match == "glob" and _glob(pattern, path) \
                or match == "prefix" and pattern.rstrip("/") and (path + "/").startswith(pattern.rstrip("/") + "/"):
            out.append(p)
    return out


def effective(idx: OpsIndex, route: Usage) -> tuple[list[str], bool, str]:
    """(guards, public, where a security rule came from) of a route, with the repo's Spring security
    rules applied (first match in file order) and the OPA/Rego rules that name its path."""
    guards = list(route.attrs.get("guards") or [])
    public = bool(route.attrs.get("public"))
    source = ""
    for p in policies_for(idx, route) if idx.policies else []:
        guards.append(f"OPA {p.attrs.get('package') or 'policy'}.{p.attrs.get('rule') or '?'}")
        source = source or f"{p.repo}/{p.path}:{p.range.start_line + 1}"
    if route.attrs.get("framework") == "spring" and idx.authz.get(route.repo):
        rules = sorted(idx.authz[route.repo], key=lambda u: (u.path, int(u.attrs.get("order", 0))))
        path = str(route.attrs.get("path", ""))
        for rule in rules:
            if any(ant_match(str(p), path) for p in rule.attrs.get("patterns") or []):
                kind = str(rule.attrs.get("rule", ""))
                source = f"{rule.repo}/{rule.path}:{rule.range.start_line + 1}"
                if kind == "permitAll":
                    public = public or not guards
                else:
                    detail = str(rule.attrs.get("detail", ""))
                    guards.append(f"SecurityFilterChain {kind}({detail})" if detail else f"SecurityFilterChain {kind}")
                break
    return guards, public, source


@dataclass(frozen=True)
class Unguarded:
    route: Usage
    guard: str  # the guard every sibling uses
    siblings: tuple[Usage, ...]


def groups(idx: OpsIndex) -> dict[tuple[str, str, str], list[Usage]]:
    out: dict[tuple[str, str, str], list[Usage]] = defaultdict(list)
    for r in idx.routes:
        out[(r.repo, r.path, str(r.attrs.get("router_id", r.attrs.get("router", ""))))].append(r)
    return out


def unguarded(idx: OpsIndex, routes: Iterable[Usage] | None = None) -> list[Unguarded]:
    """Routes with no auth guard in a router whose other routes (two or more, none public) all share one.
    Well-known public paths (health, login, docs, ...) and routes marked public are never reported."""
    wanted = {key(r) for r in routes} if routes is not None else None
    out = []
    for members in groups(idx).values():
        if len(members) < 3:
            continue
        eff = {key(r): effective(idx, r) for r in members}
        for r in members:
            if wanted is not None and key(r) not in wanted:
                continue
            guards, public, _ = eff[key(r)]
            if guards or public or PUBLIC_PATHS.match(str(r.attrs.get("path", ""))):
                continue
            others = [o for o in members if key(o) != key(r) and not eff[key(o)][1]
                      and not PUBLIC_PATHS.match(str(o.attrs.get("path", "")))]
            if len(others) < 2:
                continue
            # An OPA policy naming a sibling is the policy's decision, not a guard this route forgot.
            common = {g for g in eff[key(others[0])][0] if not g.startswith("OPA ")}
            for o in others[1:]:
                common &= set(eff[key(o)][0])
            if common:
                first = next(g for g in eff[key(others[0])][0] if g in common)
                out.append(Unguarded(r, first, tuple(others)))
    return out


# -- pipelines -------------------------------------------------------------------------------------------

def pipelines_for(idx: OpsIndex, repo: str, root: str, services_in_repo: int,
                  manifests: Mapping[str, list[str]] | None = None) -> list[tuple[Usage, str]]:
    """The CI jobs and GitOps objects that build or deploy the service at `repo`/`root`, each with why:
    a job in the same repo whose paths name the service's folder (or any job of a repo holding one
    service), an Argo CD / Flux object whose repository is this repo and whose path holds the service's
    deployment manifests (`manifests`: repo -> manifest paths of the service)."""
    out: list[tuple[Usage, str]] = []
    for p in idx.pipelines:
        if p.repo != repo:
            continue
        paths = [str(x) for x in p.attrs.get("paths") or []]
        hit = next((x for x in paths if root and (x == root or x.startswith(root + "/") or root.startswith(x + "/"))), None)
        if hit is not None:
            out.append((p, f"names {hit}"))
        elif services_in_repo == 1 and (not paths or not root or any(x in ("", ".") for x in paths)):
            out.append((p, "the only service of its repo"))
    for d in idx.deploys:
        url = str(d.attrs.get("repo_url", "")).rstrip("/").removesuffix(".git")
        path = str(d.attrs.get("path", ""))
        if url and url.rsplit("/", 1)[-1] != repo:
            continue
        files = (manifests or {}).get(url.rsplit("/", 1)[-1] if url else d.repo, [])
        if path and any(f == path or f.startswith(path + "/") for f in files):
            out.append((d, f"deploys {path}"))
    return out


def any_of(usages: Mapping[Any, list[Usage]]) -> Iterable[Usage]:
    for us in usages.values():
        yield from us
