"""GraphQL links: resolvers to the fields (and entity types) they provide, operations to every field
they select. Pure; called by `indexers.linking.link` with its index of the workspace's schema.

An operation's field is written by extraction as a path (`code_gqlops`): the type it starts from (a root
operation type, or a fragment's type condition) and the fields read on the way. It is typed here by
following each field's declared type (`attrs.base`) through the schema.

An operation is a consumer of this graph only if it validates against it, as the server would: a
GraphQL server rejects a document that selects a field its schema lacks. So an operation sent to another
API (a vendor's platform API, a public API with its own schema) links nothing, even where some of its
field names happen to exist here. Two rules, per operation or fragment definition: every root field of an
operation resolves (a fragment's type condition names a type of the graph), and at least
`MIN_RESOLVED` of all its fields resolve. The second allows a graph read in part (one subgraph of a
federation not in the workspace); a field that does not resolve is never linked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from indexers.model import Entity, Usage

MIN_RESOLVED = 2 / 3
ROOT_NAMES = ("Query", "Mutation", "Subscription")


def field_of(fields: Mapping[tuple[str, str], Entity], roots: Mapping[str, str], start: str, via: Sequence[str],
             name: str) -> Entity | None:
    """The field entity `name` reached from type `start` through the fields `via`, or None."""
    t = roots.get(start, start) if (start, name if not via else via[0]) not in fields else start
    for step in via:
        f = fields.get((t, str(step)))
        base = f.attrs.get("base") if f is not None else None
        if not isinstance(base, str) or not base:
            return None
        t = base
    return fields.get((t, name))


def link_graphql(usages: Sequence[Usage], fields: Mapping[tuple[str, str], Entity], roots: Mapping[str, str],
                 types: Mapping[str, Entity], add: Callable[..., None]) -> None:
    groups: dict[tuple[str, str, str], list[tuple[Usage, Entity | None]]] = defaultdict(list)
    exports: dict[tuple[str, str, str], list[Usage]] = defaultdict(list)
    for u in usages:
        if u.kind == "graphql.resolver_export":
            exports[(u.repo, u.path.rsplit(".", 1)[0], str(u.attrs.get("export", "")))].append(u)
    for u in usages:
        if u.kind == "graphql.resolver_export":
            continue
        if u.kind == "graphql.resolver_module":  # a type's map in another module, merged here
            module, export = str(u.attrs.get("module", "")), str(u.attrs.get("export", ""))
            for x in exports.get((u.repo, module, export)) or exports.get((u.repo, module + "/index", export)) or []:
                if x.name == "__resolveReference" and u.qualifier in types:
                    add(x, types[u.qualifier], "provides", 0.75, f"graphql.resolver {u.qualifier} (reference resolver)")
                    continue
                e = field_of(fields, roots, u.qualifier, (), x.name) if not x.name.startswith("__") else None
                if e is not None:
                    add(x, e, "provides", 0.8, f"graphql.resolver {e.id[len('graphql:'):]} (merged as {u.qualifier} in "
                        f"{u.path}:{u.range.start_line + 1})")
            continue
        if u.kind == "graphql.resolver":
            if not u.name:  # a federation reference resolver: provides the entity type itself
                e = types.get(u.qualifier)
                if e is not None:
                    add(u, e, u.role or "provides", 0.8, f"{u.kind} {u.qualifier} (reference resolver)")
                continue
            e = field_of(fields, roots, u.qualifier, (), u.name)
            if e is not None:
                add(u, e, u.role or "provides", 0.85, f"{u.kind} {e.id[len('graphql:'):]}")
            continue
        via = u.attrs.get("via") or []
        if not isinstance(via, list):
            continue
        e = field_of(fields, roots, u.qualifier, via, u.name)
        groups[(u.repo, u.path, str(u.attrs.get("definition", "")))].append((u, e))
    for (_repo, _path, definition), found in groups.items():
        if not _validates(definition, found, roots, types):
            continue
        for u, e in found:
            if e is not None:
                op = u.attrs.get("operation") or ""
                add(u, e, u.role or "consumes", 0.9 if not u.attrs.get("via") else 0.85,
                    f"{u.kind} {e.id[len('graphql:'):]}" + (f" in {op}" if op else ""))


def _validates(definition: str, found: list[tuple[Usage, Entity | None]], roots: Mapping[str, str],
               types: Mapping[str, Entity]) -> bool:
    """Whether an operation or fragment belongs to this graph (see the module's docstring)."""
    if not found:
        return False
    resolved = sum(1 for _u, e in found if e is not None)
    if resolved < MIN_RESOLVED * len(found):
        return False
    if " " in definition and definition.split(" ", 1)[0].endswith("fragment"):
        start = found[0][0].qualifier
        return start in types or roots.get(start, "") in types
    return all(e is not None for u, e in found if not u.attrs.get("via") and u.qualifier in ROOT_NAMES)
