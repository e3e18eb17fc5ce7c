"""Code-first GraphQL schemas in Python: the classes that declare (and so serve) a graph's fields.

- Strawberry: a class decorated `@strawberry.type` (or `strawberry.federation.type`, `name=` renames it)
  declares a field per annotated attribute (`reviews_count: int`, `reviews: list[Review] =
  strawberry.field(resolver=get_reviews)`) and per method decorated `@strawberry.field` / `.mutation` /
  `.subscription`; names are camelCased as Strawberry's default `auto_camel_case` does, unless the field
  says `name=`. `strawberry.Private[...]` attributes and `_private` names are no fields. Interface classes
  (`@strawberry.interface`) only declare what their implementing types serve, and input types are read,
  not served: neither provides anything. A federation entity's `resolve_reference` provides the entity
  type itself.
- Graphene: a class extending `graphene.ObjectType` declares a field per attribute assigned a Graphene
  type (`name = graphene.String()`) and per `resolve_<name>` method (snake_case names camelCased as
  Graphene does).

Only module-level classes are read (where both libraries' documentation puts them).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import flat
from indexers.sources.code.strings import string_text

_STRAWBERRY_TYPE = re.compile(r"(?:strawberry\.)?(?:federation\.)?type")
_STRAWBERRY_FIELD = re.compile(r"(?:strawberry\.)?(?:federation\.)?(?:field|mutation|subscription)")
_GRAPHENE_FIELD = re.compile(r"graphene\.(?!ObjectType|Schema|InputObjectType|Interface|Mutation\b)[A-Z]\w*")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def python_code_first(ctx: Ctx) -> None:
    libs = {i["path"].split(".", 1)[0] for i in ctx.f.imports} | {i.get("module", "").split(".", 1)[0]
                                                                   for i in ctx.f.imports}
    if not libs & {"strawberry", "graphene"}:
        return
    root = ctx.src.tree(ctx.lang).root_node
    for stmt in root.named_children:
        if stmt.type == "decorated_definition" and "strawberry" in libs:
            cls = stmt.child_by_field_name("definition")
            if cls is not None and cls.type == "class_definition":
                type_name = _strawberry_type(stmt, cls)
                if type_name:
                    _strawberry_fields(ctx, cls, type_name)
        elif stmt.type == "class_definition" and "graphene" in libs:
            bases = stmt.child_by_field_name("superclasses")
            if bases is not None and any(flat(b).rsplit(".", 1)[-1] == "ObjectType" for b in bases.named_children):
                _graphene_fields(ctx, stmt)


def _decorators(node: Any) -> list[tuple[str, Any]]:
    """(callee text, argument list or None) of each decorator of a decorated definition."""
    out = []
    for d in node.named_children:
        if d.type != "decorator" or not d.named_child_count:
            continue
        expr = d.named_children[0]
        if expr.type == "call":
            out.append((flat(expr.child_by_field_name("function")), expr.child_by_field_name("arguments")))
        else:
            out.append((flat(expr), None))
    return out


def _name_arg(args: Any) -> str:
    for a in args.named_children if args is not None else ():
        if a.type == "keyword_argument" and ts.text(a.child_by_field_name("name")) == "name":
            s = string_text(a.child_by_field_name("value"))
            if s and re.fullmatch(r"[_A-Za-z]\w*", s):
                return s
    return ""


def _strawberry_type(stmt: Any, cls: Any) -> str:
    for callee, args in _decorators(stmt):
        if _STRAWBERRY_TYPE.fullmatch(callee) and (callee.startswith("strawberry.") or callee == "type"):
            return _name_arg(args) or ts.text(cls.child_by_field_name("name"))
    return ""


def _strawberry_fields(ctx: Ctx, cls: Any, type_name: str) -> None:
    body = cls.child_by_field_name("body")
    for stmt in body.named_children if body is not None else ():
        node = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_child_count else stmt
        if node.type == "assignment":
            left, annot = node.child_by_field_name("left"), node.child_by_field_name("type")
            if left is None or left.type != "identifier" or annot is None:
                continue
            name = ts.text(left)
            if name.startswith("_") or re.match(r"(strawberry\.)?Private\b|(typing\.)?ClassVar\b", flat(annot)):
                continue
            right = node.child_by_field_name("right")
            renamed = ""
            if right is not None and right.type == "call" and _STRAWBERRY_FIELD.fullmatch(
                    flat(right.child_by_field_name("function"))):
                renamed = _name_arg(right.child_by_field_name("arguments"))
            ctx.emit("graphql.resolver", left, renamed or camel(name), type_name, "provides")
        elif node.type == "decorated_definition":
            fn = node.child_by_field_name("definition")
            if fn is None or fn.type != "function_definition":
                continue
            name_node = fn.child_by_field_name("name")
            decos = _decorators(node)
            if ts.text(name_node) == "resolve_reference" and any(c == "classmethod" for c, _ in decos):
                ctx.emit("graphql.resolver", name_node, "", type_name, "provides", reference=True)
                continue
            for callee, args in decos:
                if _STRAWBERRY_FIELD.fullmatch(callee) and callee.startswith("strawberry."):
                    ctx.emit("graphql.resolver", name_node, _name_arg(args) or camel(ts.text(name_node)), type_name,
                             "provides")
                    break


def _graphene_fields(ctx: Ctx, cls: Any) -> None:
    type_name = ts.text(cls.child_by_field_name("name"))
    body = cls.child_by_field_name("body")
    for stmt in body.named_children if body is not None else ():
        node = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_child_count else stmt
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition")
        if node is None:
            continue
        if node.type == "assignment":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None and right.type == "call" \
                    and _GRAPHENE_FIELD.fullmatch(flat(right.child_by_field_name("function"))):
                ctx.emit("graphql.resolver", left, camel(ts.text(left)), type_name, "provides")
        elif node.type == "function_definition":
            name_node = node.child_by_field_name("name")
            m = re.fullmatch(r"resolve_(\w+)", ts.text(name_node))
            if m:
                ctx.emit("graphql.resolver", name_node, camel(m.group(1)), type_name, "provides")
