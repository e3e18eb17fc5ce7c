"""HTTP links: code usages resolved to OpenAPI operations (and to gRPC rpcs transcoded to HTTP).

Usages come from `indexers.sources.code.http*`: routes a service registers, calls it makes, calls on
generated API clients by operation name, handlers implementing a generated server interface, reverse-proxy
routes, and calls through thin helpers that take the path as an argument. Generated code itself is never a
provider or consumer of record: it is *evidence* (`http.generated`: which method of which generated class
or server interface is which method and path; `http.helper`: which helper method sends its argument as a
URL; `http.client_config`: the API version and base address a typed client is registered with;
`http.mount`: a router mounted under a prefix in another file).

Matching is by method and normalised path (`/items/{id}` = `/items/{itemId}`); a prefix is stripped only
when the spec's servers/basePath declare it. Precision first:

- A route *provides* an operation only with evidence that its service serves that API: the same service
  (or the same single-service repository) as the spec, a catalog `providesApis` naming it, a spec named
  after the service, the spec's declared base path in the route, or the route's declared operationId.
  Without evidence the candidates are reported as *possible*, never as links.
- Specs that share a title and differ in `info.version` are versions of one API: a usage links to the
  versions its evidence admits (an `api-version` query parameter, a route group's `HasApiVersion`, a typed
  client registered with `AddApiVersion`, the operationId it names), to every version when it names none.
  Operations of unrelated APIs that share a method and path are ambiguous: *possible* again.
- Generic paths (`/`, `/health`, `/ready`, ...) link only with evidence tying the caller to the API (its
  base address names the API or its service); otherwise *possible*.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from indexers.httplinks.evidence import Evidence
from indexers.httplinks.operations import HttpIndex, Op, alnum, norm_version, segments, words
from indexers.model import Usage
from indexers.sources.code.strings import join_paths, url_path

EVIDENCE_KINDS = frozenset({"http.generated", "http.helper", "http.client_config", "http.mount", "http.instance"})
# What re-linking one file needs from the others: the evidence, the handlers of each type (a type
# implements a generated server interface only if its methods, in any file of its package, cover it) and
# the calls through each shared client instance (which API an instance talks to is what most of them name).
HTTP_CROSS_FILE = EVIDENCE_KINDS | {"http.handler", "http.instance_call"}
HTTP_KINDS = frozenset({"http.route", "http.call", "http.op_call", "http.handler", "http.helper_call", "http.url",
                        "http.instance_call"})
# Paths many APIs declare (liveness, readiness, metrics, ...): a match on them alone says nothing.
_INFRA = frozenset({"health", "healthz", "healthcheck", "ready", "readyz", "readiness", "live", "livez", "liveness",
                    "ping", "status", "metrics", "version", "info", "alive", "heartbeat"})

Add = Callable[..., None]


class _Services:
    """Service answers for evidence: the ServiceMap when there is one, else only `service_of` names."""

    def __init__(self, service_of: Callable[[str, str], str], services: Any):
        self.service_of = service_of
        self.map = services
        self._count: dict[str, int] = {}

    def key(self, repo: str, path: str) -> tuple[str, str] | None:
        if self.map is not None:
            s = self.map.service_for(repo, path)
            return (s.repo, s.root) if s is not None else None
        name = self.service_of(repo, path)
        return (repo, name) if name else None

    def name(self, repo: str, path: str) -> str:
        return self.service_of(repo, path)

    def single(self, repo: str) -> bool:
        """Whether a repo holds at most one service."""
        if self.map is None:
            return True
        if repo not in self._count:
            self._count[repo] = sum(1 for s in self.map.services if s.repo == repo)
        return self._count[repo] <= 1

    def provides(self, repo: str, path: str, op: Op) -> bool:
        """A catalog `providesApis` of the service names an API whose definition is one of the op's files."""
        if self.map is None:
            return False
        s = self.map.service_for(repo, path)
        declared = self.map.declared.get((repo, s.name)) if s is not None else None
        if declared is None:
            return False
        apis = self.map.apis
        for ref in declared.provides_apis:
            decl = apis.get(ref.rsplit("/", 1)[-1].split(":")[-1])
            definition = decl.attrs.get("definition") if decl is not None else None
            if isinstance(definition, str) and (decl.repo, definition) in op.homes:
                return True
        return False


def link_http(usages: Sequence[Usage], idx: HttpIndex, service_of: Callable[[str, str], str],
              add: Add, possible: Add, services: Any = None) -> None:
    """Link every HTTP usage; `add(u, entity, role, confidence, why)` for links, `possible(...)` the same
    for candidates without enough evidence. The evidence is read from `usages` too (re-linking one file
    alone passes the other files' `HTTP_CROSS_FILE` usages with it)."""
    wanted = [u for u in usages if u.kind in HTTP_KINDS]
    if not wanted or not idx.ops:
        return
    ev = Evidence(usages)
    svc = _Services(service_of, services)
    apis = _instance_apis(idx, ev, [u for u in wanted if u.kind == "http.instance_call"])
    for u in wanted:
        _one(idx, ev, svc, u, add, possible, apis)


def _instance_call(ev: Evidence, u: Usage) -> tuple[Usage, str] | None:
    """The instance an `http.instance_call` goes through and its path relative to the instance's base URL."""
    inst = ev.instance(u)
    path = u.attrs.get("path")
    if inst is None or not isinstance(path, str):
        return None
    prefix = str(inst.attrs.get("prefix") or "")
    return inst, (path if u.attrs.get("absolute") or not prefix else url_path(join_paths(prefix, path)) or path)


def _instance_apis(idx: HttpIndex, ev: Evidence, calls: list[Usage]) -> dict[tuple[str, str], str]:
    """{instance: the API family it talks to}: a client instance has one base URL, one server; when its calls
    name operations of several APIs, the API strictly most of them name (a call naming another is kept
    apart as possible: a path the server does not serve, or a call meant for another client)."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for u in calls:
        got = _instance_call(ev, u)
        if got is None:
            continue
        inst, path = got
        method = str(u.attrs.get("method", "")).upper()
        for fam in {op.family for op, _s in idx.match(method, segments(path), fold=False, loose=False, fill=True)}:
            counts[(inst.repo, inst.path)][fam] += 1
    out = {}
    for key, per in counts.items():
        ranked = sorted(per.values(), reverse=True)
        if len(ranked) == 1 or ranked[0] > ranked[1]:
            out[key] = max(per, key=lambda f: per[f])
    return out


def _one(idx: HttpIndex, ev: Evidence, svc: _Services, u: Usage, add: Add, possible: Add,
         instance_apis: dict[tuple[str, str], str]) -> None:
    kind = u.kind
    method = str(u.attrs.get("method", "")).upper()
    path = u.attrs.get("path")
    why = ""
    role = u.role or ("provides" if kind in ("http.route", "http.handler") else "consumes")
    conf = 0.8
    generated = False
    gen_versions: list[str] = []  # the API version a generated client sends on every call
    if kind == "http.op_call":
        g, known = ev.client_op(u)
        if g is None:
            if not known:
                _by_operation_id(idx, svc, u, add, possible)
            return
        method, path, generated, gen_versions = g.method, url_path(g.path_tmpl), True, list(g.versions)
        why = f"{u.qualifier + '.' if u.qualifier else ''}{u.name} (generated client {g.path}: {g.method} {g.path_tmpl})"
        conf = 0.9
    elif kind == "http.handler":
        g = ev.server_op(u)
        if g is None:  # the generated interface is built, not committed: openapi-generator's naming decides
            for iface in u.attrs.get("implements") or []:
                _by_operation_id(idx, svc, u, add, possible, str(iface), "provides")
            return
        method, path, generated = g.method, url_path(g.path_tmpl), True
        why = f"{u.qualifier}.{u.name} implements {g.cls}.{g.name} ({g.path}: {g.method} {g.path_tmpl})"
        conf = 0.9
    instance_api = None
    if kind == "http.instance_call":
        got = _instance_call(ev, u)
        if got is None:  # no instance: `api.get(path)` may still be a thin helper's method
            if u.attrs.get("helper"):
                helper = dataclasses.replace(u, kind="http.helper_call", name=str(u.attrs["helper"]),
                                             qualifier=str(u.attrs.get("recv", "")), attrs={**u.attrs, "method": ""})
                _one(idx, ev, svc, helper, add, possible, instance_apis)
            return
        inst, path = got
        instance_api = instance_apis.get((inst.repo, inst.path), "")
        why = f"{method} {path} through the HTTP client instance of {inst.path}"
        u = dataclasses.replace(u, attrs={**u.attrs, "base": u.attrs.get("base") or inst.attrs.get("base") or ""})
    elif kind == "http.helper_call":
        h = ev.helper(u)
        if h is None:
            return
        method = str(h.attrs.get("method", "")).upper()
        why = f"{u.qualifier}.{u.name} sends its argument with {method or '*'} ({h.path})"
        conf = 0.75
    if not isinstance(path, str):
        return
    segs = segments(path)
    proxy = bool(u.attrs.get("proxy"))
    if not segs or all(s == "{}" for s in segs):
        return  # `/` or only parameters: names no operation
    versions = [norm_version(v) for v in u.attrs.get("api_version") or gen_versions]
    base = str(u.attrs.get("base") or "")
    cls = str(u.attrs.get("client_class") or "")
    if cls and (not versions or not base):
        cfg_versions, cfg_base = ev.config(cls, str(u.attrs.get("client_ns") or ""))
        versions = versions or [norm_version(v) for v in cfg_versions]
        base = base or cfg_base
    prefixes = ev.prefixes(u) if kind == "http.route" and u.attrs.get("mountable") else []
    fold = u.language == "csharp"
    loose = bool(u.attrs.get("loose"))
    cands: list[tuple[Op, bool]] = []
    for pre in prefixes or [""]:
        cands += idx.match(method, segments(pre) + segs, fold=fold, loose=loose, fill=kind != "http.route" and not proxy)
    if not cands:
        return
    if not why:
        why = f"{kind} {method or '*'} {path}"
    # evidence that ties this service to the API (providers), or the caller to it (generic paths)
    if role == "provides" and not generated:
        backed = [(op, s, r) for op, s in cands if (r := _serves(svc, u, op, s))]
        if not backed:
            return _possible(possible, u, cands, role, why + ": nothing ties this service to the API")
        cands = [(op, s) for op, s, _r in backed]
        why += f" ({backed[0][2]})"
    elif role == "consumes" and _generic(segs):
        named = [(op, s) for op, s in cands if _names(svc, base, op)]
        if not named:
            return _possible(possible, u, cands, role, why + ": a generic path; nothing names the API")
        cands = named
        why += " (base address names the API)"
    families = {op.family for op, _ in cands}
    if len(families) > 1 and base:
        named = [(op, s) for op, s in cands if _names(svc, base, op)]
        if named:
            cands, families = named, {op.family for op, _ in named}
    if instance_api is not None and families != {instance_api}:
        if instance_api not in families:
            return _possible(possible, u, cands, role, why + ": the instance's other calls go to another API")
        cands, families = [(op, s) for op, s in cands if op.family == instance_api], {instance_api}
    if len(families) > 1:
        return _possible(possible, u, cands, role, why + ": several APIs declare it")
    if kind == "http.url" and any(op.method == "GET" for op, _s in cands):
        cands = [(op, s) for op, s in cands if op.method == "GET"]  # an address without a method is fetched
    chosen = _versions(cands, versions, str(u.attrs.get("operation_id") or ""))
    if not chosen:
        return
    per_api: dict[str, set[str]] = defaultdict(set)
    for op, _s in chosen:
        per_api[op.api].add(op.entity.id)
    if not proxy and any(len(ids) > 1 for ids in per_api.values()):
        return _possible(possible, u, chosen, role, why + ": several operations match")
    conf -= 0.2 if not method and not proxy else 0.0
    for op, stripped in chosen:
        c = conf - (0.05 if stripped else 0.0) - (0.05 if len(chosen) > 1 and not proxy else 0.0)
        add(u, op.entity, role, c, why + (" (server base path)" if stripped else ""))


def _possible(possible: Add, u: Usage, cands: list[tuple[Op, bool]], role: str, why: str) -> None:
    for op in {id(op): op for op, _s in cands}.values():
        possible(u, op.entity, role, 0.3, why)


def _generic(segs: tuple[str, ...]) -> bool:
    literal = [s for s in segs if s != "{}"]
    return not literal or (len(literal) == 1 and literal[0].lower().strip("_") in _INFRA) or \
        all(s.lower() in _INFRA | {"api", "v1", "v2", "v3", "internal", "admin"} for s in literal)


def _api_words(svc: _Services, op: Op) -> set[str]:
    out = words(op.api) | words(op.title)
    for repo, path in op.homes:
        out |= words(svc.name(repo, path))
    return out


def _names(svc: _Services, base: str, op: Op) -> bool:
    """Whether a base address or configuration key names the API or the service that declares it."""
    if not base:
        return False
    host = re.sub(r"^[a-z][\w+.-]*://", "", base.lower())
    return bool(words(host) & _api_words(svc, op))


def _serves(svc: _Services, u: Usage, op: Op, stripped: bool) -> str:
    """Why the usage's service serves the op's API, or ''."""
    if stripped:
        return "the spec's base path"
    oid = str(u.attrs.get("operation_id") or "")
    if oid and op.op_id and alnum(oid) == alnum(op.op_id):
        return "operationId " + op.op_id
    mine = svc.key(u.repo, u.path)
    for repo, path in op.homes:
        theirs = svc.key(repo, path)
        if mine is not None and theirs == mine:
            return "same service as the spec"
        if theirs is None and repo == u.repo and svc.single(repo):
            return "same repository as the spec"
        if svc.provides(u.repo, u.path, op):
            return "catalog providesApis"
    name = words(svc.name(u.repo, u.path) or u.repo)  # a repository no service claims is named for its service
    if name and (name == words(op.api) or name == words(op.title)):
        return "spec named after the service"
    if name and any(words(h) == name for h in op.hosts):
        return "the spec's server URL names the service"
    return ""


def _versions(cands: list[tuple[Op, bool]], versions: list[str], op_id: str) -> list[tuple[Op, bool]]:
    """The candidates of one API family the usage's version evidence admits."""
    out = cands
    multi = len({op.api for op, _ in cands}) > 1
    if multi and versions:
        out = [(op, s) for op, s in cands if op.version in versions]
    if multi and op_id:
        named = [(op, s) for op, s in out if op.op_id and alnum(op.op_id) == alnum(op_id)]
        if named:
            out = named
    return out


def _by_operation_id(idx: HttpIndex, svc: _Services, u: Usage, add: Add, possible: Add, cls: str = "",
                     role: str = "consumes") -> None:
    """openapi-generator's convention when the generated code is not in the workspace (a package, or built
    at compile time): the client class or server interface is `<Tag>Api` (`DefaultApi` for untagged
    operations; Spring without `useTags`: the first path segment) and each method is an operationId."""
    cls = cls or str(u.attrs.get("symbol") or u.qualifier)
    if cls == "default" or not re.search(r"(Api|API)$", cls):
        return
    tag = alnum(re.sub(r"(Api|API)$", "", cls))
    name = alnum(re.sub(r"(WithHttpInfo)?(Async)?$", "", u.name))
    hits = [op for op in idx.by_opid.get(name, [])
            if (tag == "default" and not op.tags) or tag in {alnum(t) for t in op.tags}
            or (op.segs and alnum(op.segs[0]) == tag)]
    if len({op.family for op in hits}) > 1:
        return _possible(possible, u, [(op, False) for op in hits], role, f"{cls}.{u.name}: several APIs")
    chosen = _versions([(op, False) for op in hits], [norm_version(v) for v in u.attrs.get("api_version") or []], "")
    for op, _s in chosen:
        add(u, op.entity, role, 0.7, f"{cls}.{u.name} (operationId {op.op_id}, tag {tag})")
