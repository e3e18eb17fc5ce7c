"""Copies of one contract: the same entity declared in several files or repos.

Real systems vendor their contracts: the same `.proto` in the contracts repo and again inside each
service (one with another `go_package`), SDKs with their own copy of the API's protos, a spec copied
into the service that serves it. Declarations of one ID whose *wire shape* agrees are copies of one
contract: comments, descriptions, options such as `go_package`, deprecation and file layout do not make
a conflict. A declaration whose shape differs from the canonical one is *drift*: a finding, not a
blocker — usages still link to the contract, through the copy their own repo or import path uses.

The canonical declaration is, in order: the one a catalog `API` entity's definition names; the one in a
contracts repo or top folder (named for contracts, protos, APIs or schemas, not vendored) when those
agree; the shape most declarations share, the best placed among them (not vendored, in a contracts
place, at a path that mirrors its proto package as buf lays it out: `shop/cart/v1/cart.proto`); then
the first by repo and path.
When two shapes tie and nothing else decides, the ID stays a *conflict*, shown with what to do.

Packages and file-level entities (`proto.package`, `proto.file`, `openapi.api`, `graphql.schema`) are
never copies: a package spread over many files is normal.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from indexers.model import Entity

# Entities every file of a package or spec declares: their repetition says nothing.
NEVER_COPIES = frozenset({"proto.package", "proto.file", "openapi.api", "openapi.document", "graphql.schema"})
# Attributes that do not change what goes over the wire.
_NOT_WIRE = frozenset({"options", "deprecated", "description", "summary", "tags", "pointer", "api", "title", "version",
                       "comment", "comments", "doc", "docs", "operationId", "reserved_numbers", "reserved_names",
                       "extension_ranges", "examples", "example", "externalDocs", "servers", "spec_version",
                       "spec_version_full", "deprecation_reason", "directives", "line", "extent", "extension",
                       "interfaces", "root"})
# Kinds whose shape includes their children. Not GraphQL types: a type declared in several schema files
# (federation subgraphs, `extend type`, a client's schema plus its extensions) is assembled from its
# parts, so only each field's own shape must agree.
_CONTAINERS = frozenset({"proto.message", "proto.enum", "proto.service", "openapi.schema", "sql.table"})
_CONTRACTS_NAME = re.compile(r"(?:^|[_.-])(?:contracts?|protos?|protobufs?|apis?|schemas?|idl|specs?|interfaces?|definitions?)(?:$|[_.-])",
                             re.IGNORECASE)
_VENDORED = re.compile(r"(?:^|/)(?:vendor|third_party|third-party|external|node_modules|\.venv|site-packages|deps)/",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Drift:
    """One copy whose wire shape differs from the canonical declaration."""

    copy: Entity
    canonical: Entity
    differences: tuple[str, ...]


@dataclass(frozen=True)
class CopyGroup:
    """All declarations of one ID. `declarations[0]` is the canonical one (`why` says why it was
    chosen); `drift` lists the copies whose shape differs; `conflict` is set when two shapes tie and
    nothing decides between them."""

    id: str
    declarations: tuple[Entity, ...]
    why: str
    drift: tuple[Drift, ...] = ()
    conflict: bool = False

    @property
    def canonical(self) -> Entity:
        return self.declarations[0]

    @property
    def agreeing(self) -> tuple[Entity, ...]:
        drifted = {(d.copy.repo, d.copy.path, d.copy.range) for d in self.drift}
        return tuple(e for e in self.declarations if (e.repo, e.path, e.range) not in drifted)


def where(e: Entity) -> str:
    return f"{e.repo}/{e.path}:{e.range.start_line + 1}"


def copy_key(e: Entity) -> str:
    """How a link names the copy it resolved through: 'repo/path'."""
    return f"{e.repo}/{e.path}"


def _plain(value: object) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _own_shape(e: Entity) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, _plain(v)) for k, v in e.attrs.items() if k not in _NOT_WIRE and not k.endswith("_line")))


class _Shapes:
    """Wire shapes of declarations: own attributes, plus for containers the names and shapes of their
    children declared in the same file."""

    def __init__(self, entities: Iterable[Entity]):
        self.kids: dict[tuple[str, str, str], list[Entity]] = defaultdict(list)
        for e in entities:
            if e.parent:
                self.kids[(e.repo, e.path, e.parent)].append(e)
        self._memo: dict[tuple[str, str, str, object], object] = {}

    def of(self, e: Entity) -> object:
        key = (e.repo, e.path, e.id, e.range)
        if key not in self._memo:
            own: object = (e.kind, _own_shape(e))
            if e.kind in _CONTAINERS:
                kids = self.kids.get((e.repo, e.path, e.id), [])
                own = (own, tuple(sorted((k.name, _plain(self.of(k))) for k in kids)))
            self._memo[key] = own
        return self._memo[key]

    def differences(self, canonical: Entity, other: Entity) -> tuple[str, ...]:
        """What differs, in words a reader can check in both files."""
        out: list[str] = []
        a, b = dict(_own_shape(canonical)), dict(_own_shape(other))
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                out.append(f"{k}: {_short(a.get(k))} in {where(canonical)} vs {_short(b.get(k))} in {where(other)}")
        if canonical.kind in _CONTAINERS:
            ka = {k.name: k for k in self.kids.get((canonical.repo, canonical.path, canonical.id), [])}
            kb = {k.name: k for k in self.kids.get((other.repo, other.path, other.id), [])}
            noun = _child_noun(canonical.kind)
            for name in sorted(set(ka) - set(kb)):
                out.append(f"{where(other)} lacks {noun} {name} (declared in {where(canonical)})")
            for name in sorted(set(kb) - set(ka)):
                out.append(f"{where(other)} adds {noun} {name} (absent from {where(canonical)})")
            for name in sorted(set(ka) & set(kb)):
                if self.of(ka[name]) != self.of(kb[name]):
                    out += [f"{noun} {name}: {d}" for d in self.differences(ka[name], kb[name])]
        return tuple(out)


def _short(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= 60 else value[:57] + "..."


def _child_noun(kind: str) -> str:
    return {"proto.message": "field", "proto.enum": "value", "proto.service": "rpc", "openapi.schema": "property",
            "graphql.type": "field", "sql.table": "column"}.get(kind, "member")


def _place_rank(e: Entity) -> tuple[int, int, int]:
    """Lower is better: not vendored; a contracts repo or top folder; a path that mirrors the package."""
    top = e.path.split("/", 1)[0] if "/" in e.path else ""
    contracts = bool(_CONTRACTS_NAME.search(e.repo)) or bool(top and _CONTRACTS_NAME.search(top))
    folder = e.path.rsplit("/", 1)[0] if "/" in e.path else ""
    segs = e.id.split(":", 1)[-1].split(".")
    mirrors = e.kind.startswith("proto.") and any(
        folder == "/".join(segs[:i]) or folder.endswith("/" + "/".join(segs[:i])) for i in range(len(segs) - 1, 1, -1))
    return (1 if _VENDORED.search(e.path) else 0, 0 if contracts else 1, 0 if mirrors else 1)


def _place_words(e: Entity) -> str:
    vendored, contracts, mirrors = _place_rank(e)
    words = [w for w, ok in (("in a contracts repo or folder", not contracts), ("at its package's path", not mirrors),
                             ("not vendored", not vendored)) if ok]
    return ", ".join(words[:2]) if words else "first by repo and path"


def group(entities: Sequence[Entity], definitions: Mapping[str, str] | None = None,
          local: Collection[str] | None = None) -> dict[str, CopyGroup]:
    """Copy groups of every ID declared more than once. `definitions`: 'repo/path' of files a catalog
    `API` entity names as its definition (canonical when they declare the ID). `local`: the repos checked
    out in this workspace; when any of them declares the ID, the canonical declaration is chosen among
    theirs alone, so that an imported shard (another party's text) never outranks a local repo, whatever
    its catalog or however many shards repeat its shape."""
    by_id: dict[str, list[Entity]] = defaultdict(list)
    for e in entities:
        if e.kind not in NEVER_COPIES:
            by_id[e.id].append(e)
    multi = {i: d for i, d in by_id.items() if len({(e.repo, e.path) for e in d}) > 1}
    if not multi:
        return {}
    shapes = _Shapes(e for e in entities if e.kind not in NEVER_COPIES)
    defined = set((definitions or {}).values())
    out: dict[str, CopyGroup] = {}
    for ident, decls in multi.items():
        decls = sorted(decls, key=lambda e: (e.repo, e.path, e.range))
        mine = [e for e in decls if e.repo in local] if local else []
        cands = mine or decls
        counts = Counter(shapes.of(e) for e in cands)
        top = max(counts.values())
        leaders = [s for s, n in counts.items() if n == top]
        catalog = [e for e in cands if copy_key(e) in defined]
        home = [e for e in cands if _place_rank(e)[:2] == (0, 0)]  # in a contracts repo or folder, not vendored
        conflict = False
        if catalog:
            canonical, why = catalog[0], "named by a catalog API definition"
        elif home and len({shapes.of(e) for e in home}) == 1:
            canonical = min(home, key=lambda e: (_place_rank(e), e.repo, e.path, e.range))
            why = "in a contracts repo or folder"
        else:
            pool = sorted((e for e in cands if shapes.of(e) in leaders), key=lambda e: (_place_rank(e), e.repo, e.path, e.range))
            canonical = pool[0]
            if len(leaders) == 1:
                why = "the shape most copies share" if len(counts) > 1 else "the best placed: " + _place_words(canonical)
            else:
                ranks = {shapes.of(e): _place_rank(e) for e in reversed(pool)}
                best = min(ranks.values())
                if sum(1 for r in ranks.values() if r == best) == 1:
                    why = "the best placed: " + _place_words(canonical)
                else:
                    why, conflict = "no declaration can be preferred", True
        ordered = (canonical, *[e for e in decls if e is not canonical])
        base = shapes.of(canonical)
        drift = tuple(Drift(e, canonical, shapes.differences(canonical, e)) for e in ordered[1:] if shapes.of(e) != base)
        out[ident] = CopyGroup(ident, ordered, why, drift, conflict)
    return out


def catalog_definitions(services: object) -> dict[str, str]:
    """{API name: 'repo/path'} of catalog `API` entities whose definition is a file in the repo."""
    apis = getattr(services, "apis", None) or {}
    out: dict[str, str] = {}
    for name, decl in apis.items():
        ref = decl.attrs.get("definition") if hasattr(decl, "attrs") else None
        if isinstance(ref, str) and ref:
            out[name] = f"{decl.repo}/{ref}"
    return out
