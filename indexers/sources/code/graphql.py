"""GraphQL in code: resolvers a service provides (JavaScript resolver maps, Ariadne object types,
Graphene/Strawberry `resolve_*` methods) and operations it sends (gql/graphql tagged templates and
calls), read with graphql-core. An operation that interpolates fragments is not complete here and
yields nothing rather than a parse error.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.model import FileError, Usage
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list, flat
from indexers.sources.code.strings import DYN, string_text

_ROOTS = ("Query", "Mutation", "Subscription")
_GQL_TAGS = re.compile(r"(gql|graphql|gql\.default|graphql_tag|parse)$")


def graphql(ctx: Ctx) -> None:
    for c in ctx.f.calls:
        callee = c.callee
        if _GQL_TAGS.fullmatch(callee.rsplit(".", 1)[-1] if ctx.family == "python" else callee) and c.args:
            args = c.args
            s = string_text(args[0])
            if s is not None and callee != "parse" or (callee == "parse" and "gql" in ctx.imports):
                if s is not None:
                    _operation(ctx, args[0], s)
    if ctx.family == "javascript":
        _js_resolvers(ctx)
    elif ctx.family == "python":
        _py_resolvers(ctx)


def _operation(ctx: Ctx, node: Any, text: str) -> None:
    from graphql import GraphQLError, parse
    from graphql.language import ast

    if not re.match(r"\s*(query|mutation|subscription|fragment|\{)", text):
        return
    try:
        doc = parse(text.replace(DYN, " "), no_location=False, max_tokens=50_000)
    except (GraphQLError, RecursionError) as exc:
        if DYN in text:  # interpolated fragments: the document is not complete here; say nothing
            return
        line = node.start_point[0] + (getattr(exc, "locations", None) or [[1]])[0][0] - 1
        ctx.errors.append(FileError(ctx.src.repo, ctx.src.path, f"GraphQL document does not parse: {exc.message}"
                                    if isinstance(exc, GraphQLError) else "GraphQL document too deep", line))
        return
    for d in doc.definitions:
        if not isinstance(d, ast.OperationDefinitionNode):
            continue
        root = d.operation.value.capitalize()
        for sel in d.selection_set.selections:
            if isinstance(sel, ast.FieldNode) and not sel.name.value.startswith("__"):
                start = sel.name.loc.start if sel.name.loc else 0
                row = node.start_point[0] + text.count("\n", 0, start)
                at = ctx.src.find_in_line(row, sel.name.value) or ctx.src.node_span(node)
                ctx.usages.append(Usage(ctx.src.repo, ctx.src.path, at, "graphql.operation", sel.name.value, root,
                                        "consumes", ctx.lang, {"operation": d.name.value if d.name else ""}))


def _js_resolvers(ctx: Ctx) -> None:
    done: set[int] = set()
    for key, _knode, value in ctx.f.maps:
        if key not in _ROOTS:
            continue
        outer = value.parent.parent if value.parent is not None else None
        if outer is None or outer.type != "object" or outer.id in done:
            continue
        done.add(outer.id)
        for pair in outer.named_children:
            k, v = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            tname = ts.text(k).strip("'\"") if k is not None else ""
            if v is None or v.type != "object" or not re.fullmatch(r"[A-Z]\w*", tname):
                continue
            for prop in v.named_children:
                fk = prop.child_by_field_name("key") or prop.child_by_field_name("name") or (
                    prop if prop.type == "shorthand_property_identifier" else None)
                fname = ts.text(fk).strip("'\"") if fk is not None else ""
                if fname and not fname.startswith("__"):
                    ctx.emit("graphql.resolver", fk, fname, tname, "provides")


def _py_resolvers(ctx: Ctx) -> None:
    types: dict[str, str] = {}
    for k, _left, right in ctx.f.assigns:
        callee, node = ctx.callee_of(right)
        last = callee.rsplit(".", 1)[-1]
        if last in ("QueryType", "MutationType", "SubscriptionType"):
            types[k] = last[: -len("Type")]
        elif last in ("ObjectType", "InterfaceType") and node is not None and "ariadne" in str(
                [i["path"] for i in ctx.f.imports]):
            args = arg_list(node.child_by_field_name("arguments"))
            s = string_text(args[0]) if args else None
            if s and re.fullmatch(r"[A-Z]\w*", s):
                types[k] = s
    for c in ctx.f.calls if types else ():
        recv, _, meth = c.callee.rpartition(".")
        if recv in types and meth in ("field", "set_field") and c.args:
            s = string_text(c.args[0])
            if s and re.fullmatch(r"\w+", s):
                ctx.emit("graphql.resolver", c.args[0], s, types[recv], "provides")
    graphene = any(i["path"].split(".", 1)[0] in ("graphene", "strawberry") for i in ctx.f.imports)
    for name, node, bases in ctx.f.classes:
        if not graphene or not any(flat(b).rsplit(".", 1)[-1] == "ObjectType" for b in bases):
            continue
        for mnode, nnode in ctx.f.methods:
            m = re.fullmatch(r"resolve_(\w+)", ts.text(nnode))
            if m and ctx.enclosing(mnode, ("class_definition",)) == node:
                ctx.emit("graphql.resolver", nnode, _camel(m.group(1)), name, "provides")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)
