"""Cross-repo links: resolve code `Usage`s to contract `Entity` IDs, workspace-wide and pure.

Extraction saw one file and could not know the contracts; here every usage meets every entity. The rule
is precision first: a usage becomes a `Link` only when the contract names it unambiguously —

- gRPC by service name (exact) and method name across casings (GetCart/getCart/get_cart/GetCartAsync). A
  service name declared in several proto packages links only when the usage's import evidence names one
  of them (proto package, go_package/java_package/csharp_namespace option, or the generated module's stem
  matching the .proto file's).
- Messages and fields by message name, only with package evidence: the import matches as above, or the
  same import in the same file already resolved a gRPC service to that package. `Empty` alone is nothing.
  A field read on a value extraction typed only as a path — a message, or an RPC's response
  (`response_of`), then fields read in turn (`via`, `req.GetItem().GetProductId()`) — links only if
  every step resolves: the RPC as above (not streaming), each field a singular or repeated message
  field by its declared (resolved `type_fqn`, else scoped) type.
- HTTP by method and normalised path template (`/cart/{id}` = `/cart/{cartId}`), with evidence for
  providers and generic paths, API versions, generated clients and servers: `indexers.httplinks`.
- GraphQL by Type.field (root operation types mapped through `schema { query: ... }`), SQL by table.column.

Confidence reflects the evidence: stub/import-backed package matches score highest, a unique name without
package evidence lower, HTTP calls with an unknown method lowest.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexers.copies import copy_key
from indexers.gqllink import link_graphql
from indexers.grpclink import Factories, Fields, link_impls, link_subclasses, passed_stubs
from indexers.httplinks import HTTP_CROSS_FILE, HttpIndex, link_http
from indexers.model import Entity, Link, Usage

_GEN_SUFFIX = re.compile(r"(_pb2_grpc|_pb2|_grpc_web_pb|_grpc_pb|_pb|_grpc|Grpc)$")
_ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def norm(name: str) -> str:
    return name.replace("_", "").lower()


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


@dataclass
class _Proto:
    entity: Entity
    package: str
    evidence: set[str] = field(default_factory=set)  # lowercased package-ish strings naming it
    stems: set[str] = field(default_factory=set)  # .proto file stems (one per copy)
    # every declaration (copies of one contract in several files): (entity, its own evidence, its stem)
    copies: list[tuple[Entity, set[str], str]] = field(default_factory=list)


@dataclass
class _Index:
    services: dict[str, list[_Proto]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[str, list[_Proto]] = field(default_factory=lambda: defaultdict(list))
    message_ids: dict[str, _Proto] = field(default_factory=dict)
    children: dict[str, list[Entity]] = field(default_factory=lambda: defaultdict(list))  # parent id -> rpcs/fields
    gql_fields: dict[tuple[str, str], Entity] = field(default_factory=dict)
    gql_roots: dict[str, str] = field(default_factory=dict)  # Query -> actual root type name
    gql_types: dict[str, Entity] = field(default_factory=dict)
    columns: dict[tuple[str, str], list[Entity]] = field(default_factory=lambda: defaultdict(list))
    tables: dict[str, list[Entity]] = field(default_factory=lambda: defaultdict(list))


def _index(entities: Sequence[Entity]) -> _Index:
    idx = _Index()
    by_id: dict[str, Entity] = {}
    for e in entities:
        by_id.setdefault(e.id, e)  # the first declaration is the canonical one (see indexers.copies)

    packages: dict[tuple[str, str, str], Entity] = {}  # (repo, path, id) -> the file's package entity
    for e in entities:
        if e.kind == "proto.package":
            packages[(e.repo, e.path, e.id)] = e
    protos: dict[str, _Proto] = {}  # copies of one service or message are one _Proto
    kids_seen: set[tuple[str, str]] = set()

    def package_of(e: Entity) -> Entity | None:
        seen = 0
        pid = e.parent or ""
        while pid and seen < 64:
            own = packages.get((e.repo, e.path, pid))
            if own is not None:
                return own
            p = by_id.get(pid)
            if p is None or p.kind == "proto.package":
                return p
            pid, seen = p.parent or "", seen + 1
        return None

    for e in entities:
        if e.kind in ("proto.service", "proto.message"):
            pkg = package_of(e)
            name = e.id[len("proto:"):]
            pname = pkg.name if pkg is not None else ""
            local = name[len(pname) + 1:] if pname and name.startswith(pname + ".") else name
            ev = {pname.lower()} if pname else set()
            opts = pkg.attrs.get("options", {}) if pkg is not None else {}
            for key in ("go_package", "java_package", "csharp_namespace"):
                val = opts.get(key) if isinstance(opts, dict) else None
                if isinstance(val, str) and val:
                    ev.add(val.split(";", 1)[0].lower())
            stem = e.path.rsplit("/", 1)[-1].removesuffix(".proto").lower()
            known = protos.get(e.id)
            if known is not None:  # another copy: its options and file name are evidence too
                known.evidence |= ev
                known.stems.add(stem)
                known.copies.append((e, ev, stem))
                continue
            entry = protos[e.id] = _Proto(e, pname, set(ev), {stem}, [(e, ev, stem)])
            if e.kind == "proto.service":
                idx.services[e.name].append(entry)
            else:
                idx.message_ids[e.id] = entry
                idx.messages[local.replace(".", "_")].append(entry)
                if "." in local:
                    idx.messages[local].append(entry)
        elif e.kind in ("proto.rpc", "proto.field") and e.parent:
            if (e.parent, e.id) not in kids_seen:  # copies declare the same children
                kids_seen.add((e.parent, e.id))
                idx.children[e.parent].append(e)
        elif e.kind == "graphql.field" and e.parent:
            idx.gql_fields[(e.parent[len("graphql:"):], e.name)] = e
        elif e.kind == "graphql.type":
            idx.gql_types.setdefault(e.name, e)
            if e.attrs.get("root") in _ROOT_NAMES:
                idx.gql_roots[_ROOT_NAMES[e.attrs["root"]]] = e.name
        elif e.kind == "sql.column" and e.parent:
            table = e.parent[len("sql:"):].lower()
            idx.columns[(table, e.name.lower())].append(e)
            if "." in table:
                idx.columns[(table.rsplit(".", 1)[-1], e.name.lower())].append(e)
        elif e.kind == "sql.table":
            idx.tables[e.name.lower()].append(e)
            if "." in e.name:
                idx.tables[e.name.rsplit(".", 1)[-1].lower()].append(e)
    return idx


def package_match(cand: _Proto, imports: Iterable[str]) -> int:
    """How strongly the import evidence names the candidate's proto package: 2 when it names the package
    (or a go_package/java_package/csharp_namespace option) itself, 1 when only the generated module's stem
    matches the .proto file's, 0 when nothing does."""
    ptoks = tokens(cand.package)
    best = 0
    for raw in imports:
        ev = raw.strip().lower()
        if not ev:
            continue
        if ev in cand.evidence:
            return 2
        parts = [p for p in re.split(r"[/.]", raw.strip().removesuffix(".js").removesuffix(".ts")) if p]
        generated = bool(parts) and bool(_GEN_SUFFIX.search(parts[-1]))
        for toks in (tokens(ev), tokens(".".join(parts[:-1])) if generated else []):
            if ptoks and len(toks) >= len(ptoks) and toks[-len(ptoks):] == ptoks:
                return 2
            if generated and ".".join(parts[:-1]).lower() in cand.evidence:
                return 2
        if generated and _GEN_SUFFIX.sub("", parts[-1]).lower() in cand.stems:
            best = 1
    return best


def _copy_for(cand: _Proto, imports: list[str], repo: str) -> str:
    """The copy a usage resolved through: the one declaration its import names, else the one in its
    own repo; '' when the contract has one declaration or nothing picks a copy."""
    if len(cand.copies) < 2:
        return ""
    scored = [(package_match(_Proto(e, cand.package, ev, {stem}), imports), e) for e, ev, stem in cand.copies]
    top = max(s for s, _ in scored)
    named = [e for s, e in scored if s == top] if top else []
    if len(named) == 1:
        return copy_key(named[0])
    own = [e for e in (named or [e for e, _, _ in cand.copies]) if e.repo == repo]
    return copy_key(own[0]) if len({copy_key(e) for e in own}) == 1 else ""


def _pick(cands: list[_Proto], imports: list[str], unique_ok: bool) -> tuple[_Proto, bool] | None:
    """The one candidate the strongest evidence names (True), or the only candidate when allowed (False)."""
    scored = [(package_match(c, imports), c) for c in cands]
    top = max((s for s, _ in scored), default=0)
    if top:
        matched = [c for s, c in scored if s == top]
        return (matched[0], True) if len(matched) == 1 else None
    if unique_ok and len(cands) == 1:
        return cands[0], False
    return None


def _child(idx: _Index, parent: str, name: str, strip_async: bool) -> Entity | None:
    kids = idx.children.get(parent, [])
    exact = [k for k in kids if k.name == name]
    if len(exact) == 1:
        return exact[0]
    wanted = {norm(name)}
    if strip_async and name.endswith("Async"):
        wanted.add(norm(name[: -len("Async")]))
    loose = [k for k in kids if norm(k.name) in wanted]
    return loose[0] if len(loose) == 1 else None


_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d*)?")
_GENERIC = frozenset({"proto", "protos", "pb", "gen", "genproto", "generated", "grpc", "api", "apis", "lib", "src",
                      "com", "org", "io", "net", "dev", "github", "gitlab", "pkg", "internal"})


def _closest(cands: list[_Proto], imports: list[str]) -> _Proto | None:
    """Among services that share a name, the one whose package shares the longest tail of meaningful
    words with the import evidence (versions and words like `proto`, `gen`, `pkg` skipped): an import of
    `agones.dev/agones/pkg/sdk/alpha` names `agones.dev.sdk.alpha`, not `agones.dev.sdk`. None on a tie."""
    def words(text: str) -> list[str]:
        return [t for t in tokens(text) if not _VERSION.fullmatch(t) and t not in _GENERIC]

    best, picked = 0, []
    for c in cands:
        pw = words(c.package)
        score = 0
        for raw in imports:
            parts = [p for p in re.split(r"[/.]", raw.strip().removesuffix(".js").removesuffix(".ts")) if p]
            if parts and _GEN_SUFFIX.search(parts[-1]):  # a generated module is named for its file, not package
                parts = parts[:-1]
            iw = words(".".join(parts))
            n = 0
            while n < min(len(pw), len(iw)) and pw[-1 - n] == iw[-1 - n]:
                n += 1
            score = max(score, n)
        if score > best:
            best, picked = score, [c]
        elif score == best and score:
            picked.append(c)
    return picked[0] if len(picked) == 1 else None


def cross_file(u: Usage) -> bool:
    """Whether a usage helps link other files' usages (a Go registration naming its implementation, a
    helper returning a client): re-linking one file alone needs these from the rest of the workspace."""
    return u.kind in ("grpc.factory", "grpc.stub_arg", "grpc.field") or (u.kind == "grpc.server" and any(
        k in u.attrs for k in ("impl_type", "impl_ctor", "impl_class"))) or u.kind in HTTP_CROSS_FILE


class EntityIndex:
    """The entities' lookup tables, built once and reused by many `link` calls (the organisation graph links
    chunk after chunk of repositories against the same entities)."""

    def __init__(self, entities: Sequence[Entity]):
        self.idx = _index(entities)
        spread: dict[str, list[Entity]] = defaultdict(list)  # id -> declarations in several files (copies)
        for decl in entities:
            spread[decl.id].append(decl)
        self.spread = {k: v for k, v in spread.items() if len({(d.repo, d.path) for d in v}) > 1}
        self.http = HttpIndex(entities)  # HTTP operations (indexers.httplinks)


def link(usages: Sequence[Usage], entities: Sequence[Entity] | EntityIndex, service_of: Callable[[str, str], str],
         possible: list[Link] | None = None, *, services: Any = None) -> list[Link]:
    """Links of usages to the entities they provide or consume. With `possible`, candidates without enough
    evidence are added there once each, a separate, lower-confidence relation, never among the links: a gRPC
    usage whose service name several packages declare when no evidence picks one, an HTTP usage nothing ties
    to one operation (see `indexers.httplinks`). `services`: the ServiceMap (evidence that a route's service
    serves an API)."""
    index = entities if isinstance(entities, EntityIndex) else EntityIndex(entities)
    idx, spread = index.idx, index.spread
    out: list[Link] = []
    seen: set[tuple[Any, ...]] = set()
    file_pkgs: dict[tuple[str, str, tuple[str, ...]], set[str]] = defaultdict(set)
    provided_pkgs: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(u: Usage, e: Entity, role: str, conf: float, why: str, copy: str = "") -> None:
        key = (e.id, role, u.repo, u.path, u.range)
        if key in seen:
            return
        seen.add(key)
        if not copy and e.id in spread:  # a spec copied into several repos: the one in the usage's own repo
            own = {copy_key(d) for d in spread[e.id] if d.repo == u.repo}
            copy = own.pop() if len(own) == 1 else ""
        out.append(Link(service_of(u.repo, u.path), e.id, role, u.repo, u.path, u.range, round(conf, 2), why,
                        u.kind, copy))
        if role == "provides" and e.id in rendered:  # the rpc's HTTP transcoding, as a generated spec has it
            for op in rendered[e.id]:
                add(u, op, role, conf - 0.05, f"{why}; {op.name} ({op.path}) is its HTTP transcoding")

    rendered = index.http.rendered
    maybe_seen: set[tuple[Any, ...]] = set()

    def maybe(u: Usage, e: Entity, role: str, conf: float, why: str) -> None:
        key = (e.id, role, u.repo, u.path, u.range)
        if possible is None or key in maybe_seen:
            return
        maybe_seen.add(key)
        possible.append(Link(service_of(u.repo, u.path), e.id, role, u.repo, u.path, u.range, round(conf, 2), why,
                             u.kind))

    registrations: list[tuple[Usage, Entity, float, str]] = []
    servicers: list[tuple[Usage, Entity, float, str]] = []
    impls: list[Usage] = []
    factories = Factories([u for u in usages if u.kind == "grpc.factory"])
    fields = Fields([u for u in usages if u.kind == "grpc.field"])
    for u in [*usages, *passed_stubs(usages)]:  # gRPC first: resolved services give package evidence to messages
        if not u.kind.startswith("grpc."):
            continue
        if u.kind == "grpc.impl_method":  # linked through a registration, below
            impls.append(u)
            continue
        if u.kind in ("grpc.factory", "grpc.stub_arg", "grpc.param_call", "grpc.field"):  # joined below / by passed_stubs
            continue
        if u.kind == "grpc.field_call":  # a client in a field of a struct declared in another file
            held = fields.resolve(u)
            if held is None:
                continue
            u = dataclasses.replace(u, qualifier=held.qualifier, attrs={**u.attrs, "import": held.attrs.get("import") or []})
        made_by = factories.resolve(u) if u.kind in ("grpc.call", "grpc.client") else None
        if made_by is not None:  # a client from a helper function of another package: the client it returns
            u = dataclasses.replace(u, qualifier=made_by.qualifier, attrs={**u.attrs, "import": made_by.attrs.get(
                "import") or []})
        imports = list(u.attrs.get("import") or [])
        cands = idx.services.get(u.qualifier, [])
        hit = _pick(cands, imports, unique_ok=True)
        if hit is None and len(cands) > 1:
            near = _closest(cands, imports)
            hit = (near, True) if near is not None else None
            if hit is None and possible is not None:
                _possible(idx, u, cands, service_of, possible)
        if hit is None:
            continue
        cand, by_pkg = hit
        file_pkgs[(u.repo, u.path, tuple(imports))].add(cand.package)
        role = u.role or ("provides" if u.kind.startswith("grpc.server") else "consumes")
        if role == "provides":
            provided_pkgs[(u.repo, u.path)].add(cand.package)
        conf = 0.95 if by_pkg else 0.85
        why = f"{u.kind} {u.qualifier}" + (f" (package {cand.package} from import)" if by_pkg else "")
        passed = f" (stub passed at {u.attrs['passed_at']})" if "passed_at" in u.attrs else ""
        copy = _copy_for(cand, imports, u.repo)
        if u.kind in ("grpc.server", "grpc.client"):
            add(u, cand.entity, role, conf, why, copy)
            if u.kind == "grpc.server" and ("impl_type" in u.attrs or "impl_ctor" in u.attrs):
                registrations.append((u, cand.entity, conf, copy))
            elif u.kind == "grpc.server" and "impl_class" in u.attrs:
                servicers.append((u, cand.entity, conf, copy))
        else:
            rpc = _child(idx, cand.entity.id, u.name, strip_async=u.language == "csharp")
            if rpc is not None:
                held_in = f" through field {u.attrs.get('struct')}.{u.attrs.get('field')}" if u.kind == "grpc.field_call" else ""
                add(u, rpc, role, conf if rpc.name == u.name else conf - 0.05, f"{why}.{u.name}{held_in}{passed}", copy)

    service_pkgs = {c.entity.id: c.package for cands in idx.services.values() for c in cands}
    child = lambda parent, name: _child(idx, parent, name, False)  # noqa: E731
    go_impls = [m for m in impls if "bases" not in m.attrs]
    derived = [m for m in impls if "bases" in m.attrs]
    for m, service_id in [*link_impls(registrations, go_impls, child, add, lambda sid: idx.children.get(sid, [])),
                          *link_subclasses(servicers, derived, child, add)]:
        provided_pkgs[(m.repo, m.path)].add(service_pkgs.get(service_id, ""))
        file_pkgs[(m.repo, m.path, tuple(m.attrs.get("import") or []))].add(service_pkgs.get(service_id, ""))

    gql: list[Usage] = []
    for u in usages:
        if u.kind in ("proto.message_type", "proto.field_access"):
            _link_proto(idx, u, file_pkgs, provided_pkgs, add)
        elif u.kind.startswith("graphql."):
            gql.append(u)
        elif u.kind in ("sql.statement", "sql.column"):
            if u.kind == "sql.statement":
                found = idx.tables.get(u.name.lower(), [])
            else:
                found = idx.columns.get((u.qualifier.lower(), u.name.lower()), [])
            ids = {e.id for e in found}
            if len(ids) == 1:
                add(u, found[0], u.role or "consumes", 0.75, f"{u.kind} {u.attrs.get('op', '')}".strip())
    link_graphql(gql, idx.gql_fields, idx.gql_roots, idx.gql_types, add)
    link_http(usages, index.http, service_of, add, maybe, services)
    return out


def _possible(idx: _Index, u: Usage, cands: list[_Proto], service_of: Callable[[str, str], str],
              out: list[Link]) -> None:
    """One possible link per service of the name (or its rpc of the usage's name), all marked as such."""
    targets = []
    for c in cands:
        if u.kind in ("grpc.server", "grpc.client"):
            targets.append(c.entity)
        elif u.kind != "grpc.factory":
            rpc = _child(idx, c.entity.id, u.name, strip_async=u.language == "csharp")
            if rpc is not None:
                targets.append(rpc)
    if len(targets) < 2:
        return
    pkgs = ", ".join(sorted(c.package or "(no package)" for c in cands))
    role = u.role or ("provides" if u.kind.startswith("grpc.server") else "consumes")
    why = (f"possible: {len(cands)} services named {u.qualifier} ({pkgs}) and the import evidence names none of "
           f"them")
    for e in targets:
        out.append(Link(service_of(u.repo, u.path), e.id, role, u.repo, u.path, u.range, 0.3, why, u.kind))


def _type_of(idx: _Index, e: Entity, key: str) -> _Proto | None:
    """The message a field's `type` or an rpc's `request`/`response` names: its resolved `<key>_fqn`, else
    the written name looked up from the entity's scope outwards (nested, then enclosing packages)."""
    fqn = e.attrs.get(key + "_fqn")
    if isinstance(fqn, str) and fqn:
        return idx.message_ids.get("proto:" + fqn.lstrip("."))
    written = e.attrs.get(key)
    if not isinstance(written, str) or not written or written.startswith("map<"):
        return None
    if written.startswith("."):
        return idx.message_ids.get("proto:" + written[1:])
    scope = e.id[len("proto:"):]
    while "." in scope:
        scope = scope.rsplit(".", 1)[0]
        got = idx.message_ids.get(f"proto:{scope}.{written}")
        if got is not None:
            return got
    return idx.message_ids.get("proto:" + written)


def _owner(idx: _Index, u: Usage, imports: list[str],
           file_pkgs: dict[tuple[str, str, tuple[str, ...]], set[str]]) -> tuple[_Proto, float] | None:
    """The message a usage reads from, with the confidence its evidence gives: the named message (by
    package evidence), or an RPC's response, then followed through the declared types of `via` fields."""
    resp = u.attrs.get("response_of")
    if isinstance(resp, str) and resp:
        svc, _, rpc_name = resp.rpartition(".")
        picked = _pick(idx.services.get(svc, []), imports, unique_ok=True)
        rpc = _child(idx, picked[0].entity.id, rpc_name, strip_async=u.language == "csharp") if picked else None
        if rpc is None or rpc.attrs.get("server_streaming") or rpc.attrs.get("client_streaming"):
            return None  # a streaming call returns a stream, not the response message
        owner, conf = _type_of(idx, rpc, "response"), 0.8 if picked and picked[1] else 0.75
    else:
        msg_name = u.name if u.kind == "proto.message_type" else u.qualifier
        cands = idx.messages.get(msg_name, [])
        hit = _pick(cands, imports, unique_ok=False)
        conf = 0.85
        if hit is None:  # stub evidence: the same import resolved a gRPC service in this file
            pkgs = file_pkgs.get((u.repo, u.path, tuple(imports)), set())
            same = [c for c in cands if c.package in pkgs]
            if len(pkgs) != 1 or len(same) != 1:
                return None
            hit, conf = (same[0], True), 0.8
        owner = hit[0]
    via = u.attrs.get("via") or []
    if not isinstance(via, list) or len(via) > 8:
        return None
    for name in via:
        fld = _child(idx, owner.entity.id, str(name), strip_async=False) if owner is not None else None
        owner = _type_of(idx, fld, "type") if fld is not None else None
        conf -= 0.05
    return (owner, conf) if owner is not None else None


def _link_proto(idx: _Index, u: Usage, file_pkgs: dict[tuple[str, str, tuple[str, ...]], set[str]],
                provided: dict[tuple[str, str], set[str]], add: Callable[..., None]) -> None:
    imports = list(u.attrs.get("import") or [])
    got = _owner(idx, u, imports, file_pkgs)
    if got is None:
        return
    cand, conf = got
    role = u.role or ("provides" if cand.package in provided.get((u.repo, u.path), set()) else "consumes")
    msg_name = cand.entity.id[len("proto:") + len(cand.package) + 1:] if cand.package else cand.entity.id[6:]
    if u.kind == "proto.message_type":
        add(u, cand.entity, role, conf, f"message {msg_name} (package {cand.package})", _copy_for(cand, imports, u.repo))
        return
    fld = _child(idx, cand.entity.id, u.name, strip_async=False)
    if fld is not None:
        how = f" via {u.qualifier or u.attrs.get('response_of', '')}" if u.attrs.get("via") or \
            u.attrs.get("response_of") else ""
        add(u, fld, role, conf - 0.1, f"field {msg_name}.{u.name} (package {cand.package}){how}",
            _copy_for(cand, imports, u.repo))
