"""GraphQL resolver maps in JavaScript/TypeScript (Apollo Server, graphql-tools, GraphQL Yoga, Mercurius):
`{ Query: { products() {} }, Product: { price: (p) => ... } }` provides `Query.products` and
`Product.price`. The shapes maps come in:

- one map with a root key (`Query`, `Mutation`, `Subscription`): every type key of it is a type map;
- a map assigned to a name ending in `resolvers` (`productResolvers`, merged later with lodash `merge` or
  `mergeResolvers`) or typed as one (`Resolvers`, `IResolvers`);
- one map per type, typed by graphql-codegen's typescript-resolvers (`const Product: ProductResolvers =
  {...}`), or a root type's own map (`const Query = { feed() {} }`, every value a function);
- one module per type merged in an index file: `const resolvers = { Query, Mutation, User }` with each
  name imported from a relative module (`require('./resolvers/Query')`); the module's exported object
  (`module.exports = { feed }`, `export default {...}`, `export const Query = {...}`) holds the fields.
  The index writes `graphql.resolver_module` (type, module, export) and the module, when its path names
  resolvers, writes `graphql.resolver_export` per key; linking joins them (`indexers.gqllink`).

`__resolveReference` (Apollo Federation) provides the entity type itself; `__resolveType` and
`__isTypeOf` provide nothing.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx

_ROOTS = ("Query", "Mutation", "Subscription")
_TYPE = re.compile(r"[A-Z]\w*")
_MAP_NAME = re.compile(r"\w*[rR]esolvers")
_MAP_TYPE = re.compile(r"I?Resolvers(?:<.*>)?")
_TYPE_MAP_TYPE = re.compile(r"([A-Z]\w*?)Resolvers(?:<.*>)?")
_FUNCTIONS = ("arrow_function", "function_expression", "function")
_MODULE_EXT = re.compile(r"\.(?:[cm]?[jt]sx?)$")


def _key(prop: Any) -> Any:
    return prop.child_by_field_name("key") or prop.child_by_field_name("name") or (
        prop if prop.type == "shorthand_property_identifier" else None)


def _name(node: Any) -> str:
    return ts.text(node).strip("'\"`") if node is not None else ""


def _fields(ctx: Ctx, obj: Any, type_name: str) -> None:
    """A type map: each key a field resolver; `__resolveReference` the entity type's."""
    for prop in obj.named_children:
        k = _key(prop)
        fname = _name(k)
        if fname == "__resolveReference":
            ctx.emit("graphql.resolver", k, "", type_name, "provides", reference=True)
        elif fname and not fname.startswith("__"):
            ctx.emit("graphql.resolver", k, fname, type_name, "provides")


def _type_maps(ctx: Ctx, outer: Any, done: set[int]) -> None:
    """A map of type maps: `{ Query: {...}, Product: {...}, User }` (a type name standing for a module)."""
    if outer.id in done:
        return
    done.add(outer.id)
    for pair in outer.named_children:
        if pair.type == "shorthand_property_identifier":
            _module_ref(ctx, pair, _name(pair), _name(pair))
            continue
        k, v = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        tname = _name(k)
        if v is None or not _TYPE.fullmatch(tname):
            continue
        if v.type == "object":
            _fields(ctx, v, tname)
        elif v.type == "identifier":
            _module_ref(ctx, k, tname, _name(v))


def _module_ref(ctx: Ctx, at: Any, type_name: str, ident: str) -> None:
    """`Query` in a resolver map, imported from a relative module: the module's export holds the type map."""
    imp = ctx.imports.get(ident)
    if not _TYPE.fullmatch(type_name) or imp is None or not imp["path"].startswith("."):
        return
    module = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.src.path), imp["path"]))
    ctx.emit("graphql.resolver_module", at, "", type_name, "provides",
             module=_MODULE_EXT.sub("", module), export=imp.get("name") or "default")


def js_resolvers(ctx: Ctx) -> None:
    done: set[int] = set()
    for key, _knode, value in ctx.f.maps:
        if key in _ROOTS and value.parent is not None and value.parent.parent is not None \
                and value.parent.parent.type == "object":
            _type_maps(ctx, value.parent.parent, done)
    for k, left, right in ctx.f.assigns:
        if right is None or right.type != "object" or right.id in done:
            continue
        decl = left.parent if left is not None else None
        tnode = decl.child_by_field_name("type") if decl is not None and decl.type == "variable_declarator" else None
        typ = "".join(ts.text(tnode.named_children[0]).split()) if tnode is not None and tnode.named_child_count else ""
        if _MAP_NAME.fullmatch(k) or _MAP_TYPE.fullmatch(typ):
            _type_maps(ctx, right, done)
        elif (m := _TYPE_MAP_TYPE.fullmatch(typ)) and _TYPE.fullmatch(k):
            done.add(right.id)
            _fields(ctx, right, m.group(1))
        elif k in _ROOTS and left is not None and left.type == "identifier" and right.named_child_count and all(
                p.type == "method_definition" or (p.type == "pair" and p.child_by_field_name("value") is not None
                                                  and p.child_by_field_name("value").type in _FUNCTIONS)
                for p in right.named_children):
            done.add(right.id)
            _fields(ctx, right, k)
    if "resolver" in ctx.src.path.lower():
        _exports(ctx, done)


def _exports(ctx: Ctx, done: set[int]) -> None:
    """The keys of a resolver module's exported objects, for an index file's map to claim."""
    for stmt in ctx.src.tree(ctx.lang).root_node.named_children:
        found: list[tuple[str, Any]] = []
        if stmt.type == "export_statement":
            value = stmt.child_by_field_name("value")
            if value is not None:
                found.append(("default", value))
            decl = stmt.child_by_field_name("declaration")
            for d in decl.named_children if decl is not None else ():
                if d.type == "variable_declarator" and d.child_by_field_name("value") is not None:
                    found.append((_name(d.child_by_field_name("name")), d.child_by_field_name("value")))
        elif stmt.type == "expression_statement" and stmt.named_child_count:
            a = stmt.named_children[0]
            if a.type == "assignment_expression" and "".join(ts.text(a.child_by_field_name("left")).split()) in (
                    "module.exports", "exports.default"):
                found.append(("default", a.child_by_field_name("right")))
        for export, value in found:
            if value is None or value.type != "object" or value.id in done:
                continue
            if all(_TYPE.fullmatch(_name(_key(p))) for p in value.named_children):  # `{ Query, User }`: types
                for p in value.named_children:  # `module.exports = { Product }` of a local `const Product = {}`
                    local = ctx.assigned.get(_name(p), []) if p.type == "shorthand_property_identifier" else []
                    if len(local) == 1 and local[0].type == "object" and local[0].id not in done:
                        found.append((_name(p), local[0]))
                _type_maps(ctx, value, done)
                continue
            for prop in value.named_children:
                k = _key(prop)
                if k is not None and _name(k):
                    ctx.emit("graphql.resolver_export", k, _name(k), "", "provides", export=export)
