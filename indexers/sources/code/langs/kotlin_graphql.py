"""GraphQL resolvers in Kotlin, where a library makes them explicit:

- Netflix DGS: `@DgsQuery`/`@DgsMutation`/`@DgsSubscription` functions (`field =` or the function's name)
  and `@DgsData(parentType = "Show", field = "reviews")`;
- Spring GraphQL: `@QueryMapping`/`@MutationMapping`/`@SubscriptionMapping` (name or the function's name),
  `@SchemaMapping`/`@BatchMapping` (type from the annotation, the class's `@SchemaMapping`, or the source
  parameter's type);
- code-first schemas, where classes are types and their public members fields: apollo-kotlin-execution
  (`@GraphQLQuery`/`@GraphQLMutation`/`@GraphQLSubscription` root classes) and graphql-kotlin (classes
  implementing `Query`/`Mutation`/`Subscription`, whose public functions are root fields). The object
  types are the classes of the same file reached from a root through the types of fields (generic
  arguments included); `@GraphQLName` renames a type or field, `@GraphQLIgnore` hides a member.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.sources.code.ctx import Ctx
from indexers.sources.code.langs.common import args_of, lit, named_arg, text
from indexers.sources.code.langs.kotlin_ast import (
    annotations_of,
    bases,
    body,
    class_annotations,
    enclosing_class,
    imported,
    modifiers,
    visible,
)

_DGS_ROOT = {"DgsQuery": "Query", "DgsMutation": "Mutation", "DgsSubscription": "Subscription"}
_SPRING_ROOT = {"QueryMapping": "Query", "MutationMapping": "Mutation", "SubscriptionMapping": "Subscription"}
_APOLLO_ROOT = {"GraphQLQuery": "Query", "GraphQLMutation": "Mutation", "GraphQLSubscription": "Subscription"}
_EXPEDIA_ROOT = {"Query": "Query", "Mutation": "Mutation", "Subscription": "Subscription"}
_ANY_MEMBERS = frozenset({"toString", "equals", "hashCode", "copy"})
_TYPE_NAME = re.compile(r"[A-Z]\w*")
_TYPES = frozenset({"user_type", "nullable_type", "function_type", "parenthesized_type"})


def graphql(ctx: Ctx) -> None:
    dgs = imported(ctx, "com.netflix.graphql.dgs")
    spring = imported(ctx, "org.springframework.graphql")
    if (dgs or spring) and ctx.f.annotations:
        _annotated(ctx, dgs, spring)
    apollo = imported(ctx, "com.apollographql.execution")
    expedia = imported(ctx, "com.expediagroup.graphql")
    if apollo or expedia:
        _code_first(ctx, apollo, expedia)


def _string(args: Any, *keys: str, positional: bool = True) -> str | None:
    items = args_of(args) if args is not None else []
    for k in keys:
        v = named_arg(items, k)
        if v is not None and lit(v) is not None:
            return lit(v)
    if positional:
        first = next((a for a in items if a.type != "value_argument"), None)
        if first is not None:
            return lit(first)
    return None


def _annotated(ctx: Ctx, dgs: bool, spring: bool) -> None:
    class_types: dict[int, str | None] = {}
    for mnode, nnode in ctx.f.methods:
        anns = annotations_of(mnode)
        if not anns:
            continue
        fname = text(nnode)
        for name, args in anns:
            target: tuple[str, str | None] | None = None
            if dgs and name in _DGS_ROOT:
                target = _DGS_ROOT[name], _string(args, "field", positional=False)
            elif dgs and name == "DgsData":
                parent = _string(args, "parentType", positional=False)
                target = (parent, _string(args, "field", positional=False)) if parent else None
            elif spring and name in _SPRING_ROOT:
                target = _SPRING_ROOT[name], _string(args, "name", "value")
            elif spring and name in ("SchemaMapping", "BatchMapping"):
                tname = _string(args, "typeName", positional=False) or _class_type(ctx, mnode, class_types) or \
                    _source_type(mnode)
                target = (tname, _string(args, "field", "value")) if tname else None
            if target is None:
                continue
            tname, field = target
            field = field or fname
            if re.fullmatch(r"[_A-Za-z]\w*", field) and _TYPE_NAME.fullmatch(tname):
                ctx.emit("graphql.resolver", nnode, field, tname, "provides")


def _class_type(ctx: Ctx, mnode: Any, memo: dict[int, str | None]) -> str | None:
    """The type a Spring GraphQL controller's class-level `@SchemaMapping(typeName = ...)` names."""
    cls = enclosing_class(ctx, mnode)
    if cls is None:
        return None
    if cls.id not in memo:
        memo[cls.id] = next((_string(a, "typeName", positional=False) for n, a in class_annotations(cls)
                             if n == "SchemaMapping" and a is not None), None)
    return memo[cls.id]


def _source_type(mnode: Any) -> str | None:
    """Spring GraphQL: an unnamed `@SchemaMapping` function's type is its first (source) parameter's."""
    params = next((c for c in mnode.named_children if c.type == "function_value_parameters"), None)
    first = next((c for c in params.named_children if c.type == "parameter"), None) if params is not None else None
    tnode = first.named_children[-1] if first is not None and first.named_child_count >= 2 else None
    name = text(tnode).rstrip("?") if tnode is not None else ""
    return name if _TYPE_NAME.fullmatch(name) else None


# ------------------------------------------------------------------------------------------------------
# Code-first schemas


def _renamed(anns: list[tuple[str, Any]]) -> str | None:
    return next((_string(a, "name", "value") for n, a in anns if n == "GraphQLName" and a is not None), None)


def _code_first(ctx: Ctx, apollo: bool, expedia: bool) -> None:
    classes: dict[str, Any] = {}  # type name and class name -> class node
    names: dict[int, str] = {}  # class node id -> GraphQL type name
    roots: list[tuple[Any, bool]] = []  # (class node, only functions are fields)
    for cname, node, _b in ctx.f.classes:
        if not cname or node.type == "object_literal" or any(c.type == "enum_class_body" for c in node.children):
            continue
        anns = class_annotations(node)
        if any(n == "GraphQLIgnore" for n, _ in anns):
            continue
        tname = _renamed(anns) or cname
        root_kind = next((_APOLLO_ROOT[n] for n, _ in anns if n in _APOLLO_ROOT), None) if apollo else None
        if root_kind is None and expedia:
            root_kind = next((_EXPEDIA_ROOT[b.rsplit(".", 1)[-1]] for b in bases(node)
                              if b.rsplit(".", 1)[-1] in _EXPEDIA_ROOT), None)
            if root_kind is not None:
                tname = _renamed(anns) or root_kind
                roots.append((node, True))
        elif root_kind is not None:
            roots.append((node, False))
        names[node.id] = tname
        classes.setdefault(cname, node)
        classes.setdefault(tname, node)
    seen: set[int] = set()
    queue = list(roots)
    while queue:
        node, functions_only = queue.pop(0)
        if node.id in seen:
            continue
        seen.add(node.id)
        for name_node, type_node, decl, is_fun in _members(node):
            if functions_only and not is_fun:
                continue
            anns = annotations_of(decl)
            if any(n == "GraphQLIgnore" for n, _ in anns):
                continue
            field = _renamed(anns) or text(name_node)
            ctx.emit("graphql.resolver", name_node, field, names[node.id], "provides")
            for tid in _type_names(type_node):
                target = classes.get(tid)
                if target is not None and target.id not in seen:
                    queue.append((target, False))


def _members(cls: Any) -> list[tuple[Any, Any, Any, bool]]:
    """(name node, type node or None, declaration, is a function) of a class's public members:
    `val`/`var` constructor parameters, properties and functions (not extensions, not Any's)."""
    out: list[tuple[Any, Any, Any, bool]] = []
    ctor = next((c for c in cls.named_children if c.type == "primary_constructor"), None)
    for p in ctor.named_children if ctor is not None else []:
        if p.type != "class_parameter" or not any(c.type == "binding_pattern_kind" for c in p.named_children) \
                or not visible(p):
            continue
        name = next((c for c in p.named_children if c.type == "simple_identifier"), None)
        tnode = next((c for c in p.named_children if c.type in _TYPES), None)
        if name is not None:
            out.append((name, tnode, p, False))
    for d in body(cls):
        if not visible(d):
            continue
        if d.type == "function_declaration":
            if any(c.type == "receiver_type" for c in d.named_children):
                continue
            name = next((c for c in d.named_children if c.type == "simple_identifier"), None)
            if name is None or text(name) in _ANY_MEMBERS:
                continue
            params = next((i for i, c in enumerate(d.named_children) if c.type == "function_value_parameters"), -1)
            rtype = d.named_children[params + 1] if 0 <= params < d.named_child_count - 1 else None
            if rtype is not None and rtype.type not in _TYPES:
                rtype = None
            out.append((name, rtype, d, True))
        elif d.type == "property_declaration":
            var = next((c for c in d.named_children if c.type == "variable_declaration"), None)
            name = next((c for c in var.named_children if c.type == "simple_identifier"), None) if var else None
            if name is None or any(re.search(r"\bconst\b", text(m)) for m in modifiers(d)):
                continue
            tnode = next((c for c in var.named_children if c.type in _TYPES), None) if var is not None else None
            out.append((name, tnode, d, False))
    return out


def _type_names(tnode: Any) -> list[str]:
    """Every type name a field's declared type mentions (`List<Session>?` -> List, Session)."""
    if tnode is None:
        return []
    return re.findall(r"[A-Z]\w*", text(tnode))
