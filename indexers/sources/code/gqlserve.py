"""GraphQL resolvers in Go and Java, by their frameworks' conventions.

- gqlgen (Go): resolvers are methods of `<type>Resolver` receivers (`func (r *queryResolver) Todos(ctx
  context.Context) ([]*model.Todo, error)`), in the `*.resolvers.go` files gqlgen writes; the receiver
  names the type (`queryResolver` -> `Query`, `todoResolver` -> `Todo`) and the method the field, its
  first letter lowered (gqlgen matches field names to methods that way).
- Netflix DGS (Java): `@DgsQuery` / `@DgsMutation` / `@DgsSubscription` methods provide the root field of
  their name (or `field = "..."`); `@DgsData(parentType = "Show", field = "reviews")` names both.
- Spring for GraphQL (Java): `@QueryMapping` / `@MutationMapping` / `@SubscriptionMapping` provide the
  root field of their name (or `name = "..."`); `@SchemaMapping(typeName = "Book", field = "author")` and
  `@BatchMapping` name the type, or the type is the method's first parameter's (its source object).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.strings import string_text

_GQLGEN_RECEIVER = re.compile(r"([a-z]\w*)Resolver")
_ROOT_ANNOTATIONS = {"DgsQuery": "Query", "DgsMutation": "Mutation", "DgsSubscription": "Subscription",
                     "QueryMapping": "Query", "MutationMapping": "Mutation", "SubscriptionMapping": "Subscription"}
_TYPED_ANNOTATIONS = ("DgsData", "SchemaMapping", "BatchMapping")


def go_resolvers(ctx: Ctx) -> None:
    if not ctx.src.path.endswith(".resolvers.go") and b"gqlgen" not in ctx.src.data:
        return
    for mnode, nnode in ctx.f.methods:
        m = _GQLGEN_RECEIVER.fullmatch(ctx.f.owners.get(mnode.id, ""))
        name = ts.text(nnode)
        if m and name[:1].isupper():
            type_name = m.group(1)[:1].upper() + m.group(1)[1:]
            ctx.emit("graphql.resolver", nnode, name[:1].lower() + name[1:], type_name, "provides")


def _args(args: Any) -> dict[str, str]:
    """`key = "value"` pairs of an annotation (a lone string is `value`)."""
    out: dict[str, str] = {}
    for a in args.named_children if args is not None else ():
        if a.type == "element_value_pair":
            s = string_text(a.child_by_field_name("value"))
            if s is not None:
                out[ts.text(a.child_by_field_name("key"))] = s
        elif (s := string_text(a)) is not None:
            out["value"] = s
    return out


def java_resolvers(ctx: Ctx) -> None:
    for name, args, node in ctx.f.annotations:
        if name not in _ROOT_ANNOTATIONS and name not in _TYPED_ANNOTATIONS:
            continue
        method = node.parent.parent if node.parent is not None and node.parent.type == "modifiers" else None
        if method is None or method.type != "method_declaration":
            continue
        nnode = method.child_by_field_name("name")
        given = _args(args)
        field = given.get("field") or given.get("name") or given.get("value") or ts.text(nnode)
        if name in _ROOT_ANNOTATIONS:
            type_name = _ROOT_ANNOTATIONS[name]
        else:
            type_name = given.get("parentType") or given.get("typeName") or _source_type(method)
        if type_name and re.fullmatch(r"[_A-Za-z]\w*", field):
            ctx.emit("graphql.resolver", nnode, field, type_name, "provides")


def _source_type(method: Any) -> str:
    """Spring's `@SchemaMapping` without a type name: the type of the method's first parameter."""
    params = method.child_by_field_name("parameters")
    first = next((p for p in params.named_children if p.type == "formal_parameter"), None) if params else None
    t = first.child_by_field_name("type") if first is not None else None
    text = ts.text(t) if t is not None else ""
    if t is not None and t.type == "generic_type" and t.named_child_count:  # @BatchMapping List<Book> books
        inner = t.named_children[-1]
        text = ts.text(inner.named_children[0]) if inner.named_child_count else ""
    return text if re.fullmatch(r"[A-Z]\w*", text) else ""
