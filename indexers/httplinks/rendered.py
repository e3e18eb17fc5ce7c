"""OpenAPI operations that render a gRPC rpc's HTTP transcoding.

protoc-gen-openapiv2 (grpc-gateway) writes a Swagger document from a proto's `google.api.http`
annotations, and kratos, grpc-gateway, Envoy or Cloud Endpoints serve each operation of it with the
rpc's implementation. Such an operation and the rpc's REST binding are one operation seen twice: a
caller of its path consumes the spec's operation, and whatever provides the rpc provides it too.

An operation renders an rpc only on unambiguous evidence (precision first):

- its method and path are one of the rpc's `google.api.http` bindings (`/v1/x/{id}` = `/v1/x/{x_id}`),
  and its operationId is the generator's `<Service>_<Rpc>` for an rpc of that service (several rpcs of
  the service may bind one route: the generator keeps one operation, every such rpc provides it); or
- its operationId is `<Service>_<Rpc>` (additional bindings get a number: `<Service>_<Rpc>2`) naming one
  rpc, whose bindings (when it has any) include the operation's method.

Where rpcs of one service name are declared in several packages, the spec's title (the generator writes
the proto file's path there, `v1/shop.proto`) must name the rpc's file; when it does not pick one
package, nothing is rendered.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from indexers.model import Entity

_OP_ID = re.compile(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z_]\w*)")


class _Op(Protocol):
    entity: Entity
    method: str
    segs: tuple[str, ...]
    op_id: str
    title: str


def rendered_rpcs(openapi: Sequence[_Op], transcoded: Sequence[_Op]) -> dict[int, list[Entity]]:
    """{id(openapi op): the rpcs it renders}. `transcoded`: the rpcs' REST bindings (entity = the rpc)."""
    bindings: dict[tuple[str, tuple[str, ...]], list[Entity]] = defaultdict(list)
    methods: dict[str, set[str]] = defaultdict(set)  # rpc id -> methods of its bindings
    rpcs: dict[tuple[str, str], list[Entity]] = defaultdict(list)  # (service name, rpc name) -> rpcs
    seen: set[str] = set()
    for t in transcoded:
        bindings[(t.method, t.segs)].append(t.entity)
        methods[t.entity.id].add(t.method)
    for t in transcoded:
        e = t.entity
        if e.id not in seen:
            seen.add(e.id)
            rpcs[(_service(e), e.name)].append(e)
    out: dict[int, list[Entity]] = {}
    for op in openapi:
        m = _OP_ID.fullmatch(op.op_id or "")
        if m is None:
            continue
        service, rpc = m.group(1), m.group(2)
        by_route = _one_file(op, [e for e in bindings.get((op.method, op.segs), []) if _service(e) == service])
        if by_route:
            out[id(op)] = by_route
            continue
        named = _one_file(op, rpcs.get((service, rpc), []) or rpcs.get((service, rpc.rstrip("0123456789")), []))
        if len(named) == 1 and (not methods.get(named[0].id) or op.method in methods[named[0].id]):
            out[id(op)] = named
    return out


def _service(rpc: Entity) -> str:
    return (rpc.parent or rpc.id).rsplit(".", 1)[-1]


def _one_file(op: _Op, found: list[Entity]) -> list[Entity]:
    """The rpcs of one service declaration: all when they share one (the package is unambiguous), else those
    of the file the spec's title names, if that is one declaration."""
    unique = {e.id: e for e in found}
    if len({e.parent for e in unique.values()}) <= 1:
        return list(unique.values())
    title = op.title.strip().lstrip("./")
    if not title.endswith(".proto"):
        return []
    named = [e for e in unique.values() if e.path == title or e.path.endswith("/" + title)]
    return named if len({e.parent for e in named}) == 1 else []
