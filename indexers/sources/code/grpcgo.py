"""Go gRPC servers that do not embed `Unimplemented<Svc>Server`: the implementation is whatever value is
passed to `pb.Register<Svc>Server(s, impl)` (protoc-gen-go-grpc's registration function), often built in
another package (`svc := ports.NewGrpcServer(app)`) from a type whose methods live in other files.

Extraction sees one file, so it writes down both ends and linking joins them (see `indexers.grpclink`):

- at the registration, what `impl` is: a type (`&server{}`, `pkg.Server{}`, `new(server)`) or a
  constructor (`NewServer(...)`, `ports.NewGrpcServer(...)`), and the import path of the package that
  declares it ('' for the registering file's own package); a variable is followed to what it was
  assigned in the file;
- at each exported method with a gRPC handler's signature (`grpc.impl_method`): its receiver type and the
  file's functions that return that type (its constructors). The signatures are those protoc-gen-go-grpc
  generates: unary `(ctx context.Context, req *pb.Req) (*pb.Resp, error)`, server streaming
  `(req *pb.Req, stream pb.Svc_MethodServer) error`, client and bidi streaming
  `(stream pb.Svc_MethodServer) error` (or the generic `grpc.ServerStreamingServer[...]` forms), the
  message types coming from an imported, non-standard package.

Clients are often made by a helper of another package (`client.NewUsersClient()` returning
`users.UsersServiceClient`); such helpers are written down too (`grpc.factory`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx, go_external
from indexers.sources.code.facts import flat, unwrap

_QUALIFIED = re.compile(r"\*?(\w+)\.([A-Z]\w*)")
_STREAM = re.compile(r"(\w+)\.(\w+_\w+Server|(?:Server|Client|Bidi)StreamingServer\[.*\])")


def _pb(ctx: Ctx, text: str, pointer: bool) -> str | None:
    """The import path of `*pkg.Message` (or `pkg.Message` when not `pointer`) from a non-standard package."""
    m = _QUALIFIED.fullmatch(text)
    if not m or text.startswith("*") != pointer:
        return None
    imp = ctx.imports.get(m.group(1))
    return imp["path"] if imp is not None and go_external(imp["path"]) else None


def _stream(ctx: Ctx, text: str) -> str | None:
    m = _STREAM.fullmatch(text)
    if not m:
        return None
    imp = ctx.imports.get(m.group(1))
    return imp["path"] if imp is not None else None


def _types(plist: Any) -> list[str]:
    if plist is None:
        return []
    if plist.type != "parameter_list":
        return [flat(plist)]
    out = []
    for p in plist.named_children:
        if p.type in ("parameter_declaration", "variadic_parameter_declaration"):
            t = flat(p.child_by_field_name("type"))
            out += [t] * max(1, sum(1 for c in p.named_children if c.type == "identifier"))
    return out


def handler_evidence(ctx: Ctx, mnode: Any) -> str | None:
    """The import path of the generated package a method's gRPC handler signature names, or None when
    the signature is not a handler's."""
    params = _types(mnode.child_by_field_name("parameters"))
    result = _types(mnode.child_by_field_name("result"))
    if len(params) == 2 and params[0] == "context.Context" and len(result) == 2 and result[1] == "error":
        return _pb(ctx, params[1], True) if _pb(ctx, result[0], True) else None
    if result != ["error"]:
        return None
    if len(params) == 2:
        return _pb(ctx, params[0], True) if _stream(ctx, params[1]) else None
    if len(params) == 1:
        return _stream(ctx, params[0])
    return None


def constructors(ctx: Ctx) -> dict[str, list[str]]:
    """{type: names of the file's functions returning it (`T`, `*T`, or first of several results)}."""
    key = ("go_ctors",)
    if key not in ctx.memo:
        out: dict[str, list[str]] = {}
        root = ctx.src.tree(ctx.lang).root_node
        for fn in root.named_children:
            if fn.type != "function_declaration":
                continue
            res = _types(fn.child_by_field_name("result"))
            if res and re.fullmatch(r"\*?[A-Za-z_]\w*", res[0]):
                out.setdefault(res[0].lstrip("*"), []).append(ts.text(fn.child_by_field_name("name")))
        ctx.memo[key] = out
    return ctx.memo[key]  # type: ignore[no-any-return]


def emit_handlers(ctx: Ctx, skip: set[str]) -> None:
    """`grpc.impl_method` for every exported handler-shaped method (receiver types in `skip` already
    linked through an embedded server in this file are left out)."""
    for mnode, nnode in ctx.f.methods:
        name = ts.text(nnode)
        owner = ctx.f.owners.get(mnode.id, "")
        if not owner or owner in skip or not name[:1].isupper():
            continue
        ev = handler_evidence(ctx, mnode)
        if ev is None:
            continue
        ctx.emit("grpc.impl_method", nnode, name, owner, "provides",
                 **{"import": [ev], "ctors": constructors(ctx).get(owner, [])})


def impl_of(ctx: Ctx, node: Any, depth: int = 0) -> dict[str, str]:
    """What a registration's implementation argument is: {impl_type | impl_ctor, impl_pkg}."""
    node = unwrap(node)
    if node is None or depth > 3:
        return {}
    if node.type == "unary_expression" and node.named_child_count:  # &server{...}
        return impl_of(ctx, node.named_children[-1], depth + 1)
    if node.type == "composite_literal":
        return _named(ctx, flat(node.child_by_field_name("type")), "impl_type")
    if node.type == "call_expression":
        fn = flat(node.child_by_field_name("function"))
        args = node.child_by_field_name("arguments")
        if fn == "new" and args is not None and args.named_child_count == 1:
            return _named(ctx, flat(args.named_children[0]), "impl_type")
        return _named(ctx, fn, "impl_ctor")
    if node.type == "identifier":
        values = ctx.assigned.get(ts.text(node), [])
        if len(values) == 1:
            return impl_of(ctx, values[0], depth + 1)
    return {}


def _named(ctx: Ctx, text: str, key: str) -> dict[str, str]:
    m = re.fullmatch(r"(?:(\w+)\.)?([A-Za-z_]\w*)", text)
    if not m:
        return {}
    if m.group(1) is None:
        return {key: m.group(2), "impl_pkg": ""}
    imp = ctx.imports.get(m.group(1))
    if imp is None or not go_external(imp["path"]):
        return {}
    return {key: m.group(2), "impl_pkg": imp["path"]}



def emit_factories(ctx: Ctx, client_type: Callable[[Ctx, str], tuple[str, list[str]] | None]) -> None:
    """`grpc.factory` for every exported function returning a generated client (`func NewUsersClient()
    (users.UsersServiceClient, func() error, error)`): a caller in another package holds that client
    (`c, closeFn, err := client.NewUsersClient()`), which linking resolves through the function's name and
    package."""
    root = ctx.src.tree(ctx.lang).root_node
    for fn in root.named_children:
        if fn.type != "function_declaration":
            continue
        name = fn.child_by_field_name("name")
        if name is None or not ts.text(name)[:1].isupper():
            continue
        for t in _types(fn.child_by_field_name("result")):
            hit = client_type(ctx, t.lstrip("*")) if "Client" in t else None
            if hit:
                ctx.emit("grpc.factory", name, ts.text(name), hit[0], "", **{"import": hit[1]})
                break


# -- clients held in struct fields declared in another file of the package --------------------------------
# `type Data struct { bc catalogv1.CatalogClient }` in data.go and `r.data.bc.GetBeer(ctx, req)` in catalog.go:
# extraction writes down both ends (`grpc.field`: a struct's field holding a generated client; `grpc.field_call`:
# a call on field `bc` of type `Data`, the type read in the call's file from the method's receiver, parameters
# and the structs declared there) and linking joins them within the package (`indexers.grpclink.Fields`).

def _structs(ctx: Ctx) -> dict[str, dict[str, str]]:
    """{struct type declared in the file: {field: its type's text}}."""
    key = ("go_structs",)
    if key not in ctx.memo:
        out: dict[str, dict[str, str]] = {}
        for decl in ctx.src.tree(ctx.lang).root_node.named_children:
            if decl.type != "type_declaration":
                continue
            for spec in decl.named_children:
                body = spec.child_by_field_name("type") if spec.type == "type_spec" else None
                if body is None or body.type != "struct_type":
                    continue
                fields: dict[str, str] = {}
                for fl in (c for c in body.named_children if c.type == "field_declaration_list"):
                    for fd in (c for c in fl.named_children if c.type == "field_declaration"):
                        t = flat(fd.child_by_field_name("type"))
                        for n in fd.children_by_field_name("name"):
                            fields[ts.text(n)] = t
                out[ts.text(spec.child_by_field_name("name"))] = fields
        ctx.memo[key] = out
    return ctx.memo[key]  # type: ignore[no-any-return]


def emit_fields(ctx: Ctx, client_type: Callable[[Ctx, str], tuple[str, list[str]] | None]) -> None:
    """`grpc.field` for every field of the file's structs whose type is a generated client."""
    if b"Client" not in ctx.src.data:
        return
    for _k, t, node in ctx.f.typed:
        if node.type != "field_declaration" or "Client" not in t:
            continue
        spec = node.parent.parent.parent if node.parent is not None and node.parent.parent is not None else None
        hit = client_type(ctx, t.lstrip("*"))
        if not hit or spec is None or spec.type != "type_spec":
            continue
        struct = ts.text(spec.child_by_field_name("name"))
        for n in node.children_by_field_name("name"):
            ctx.emit("grpc.field", n, ts.text(n), hit[0], "", struct=struct, **{"import": hit[1]})


def _local_type(text: str) -> str:
    """`*catalogRepo` / `catalogRepo` -> `catalogRepo`; '' for a qualified, generic or composite type."""
    t = text.lstrip("*")
    return t if re.fullmatch(r"[A-Za-z_]\w*", t) else ""


def _type_of(ctx: Ctx, expr: Any, at: Any, depth: int = 0) -> str:
    """The local struct type an expression holds: the method's receiver, a parameter or variable declared with
    a type of the package, `&T{}`, or a field of a struct declared in this file."""
    if expr is None or depth > 6:
        return ""
    if expr.type == "identifier":
        name = ts.text(expr)
        fn = ctx.enclosing(at, ("method_declaration", "function_declaration", "func_literal"))
        while fn is not None:
            for plist in (fn.child_by_field_name("receiver"), fn.child_by_field_name("parameters")):
                for p in plist.named_children if plist is not None else ():
                    if p.type == "parameter_declaration" and any(ts.text(n) == name for n in
                                                                 p.children_by_field_name("name")):
                        return _local_type(flat(p.child_by_field_name("type")))
            fn = ctx.enclosing(fn, ("method_declaration", "function_declaration", "func_literal"))
        found = {_local_type(t) for t in ctx.types.get(name, [])}
        for right in ctx.assigned.get(name, []):
            r = unwrap(right)
            if r is not None and r.type == "unary_expression" and r.named_child_count:
                r = r.named_children[-1]
            found.add(_local_type(flat(r.child_by_field_name("type"))) if r is not None and
                      r.type == "composite_literal" else "")
        return found.pop() if len(found) == 1 else ""
    if expr.type == "selector_expression":
        owner = _type_of(ctx, expr.child_by_field_name("operand"), at, depth + 1)
        fields = _structs(ctx).get(owner) if owner else None
        return _local_type(fields.get(ts.text(expr.child_by_field_name("field")), "")) if fields else ""
    return ""


def field_call(ctx: Ctx, call: Any) -> tuple[str, str] | None:
    """(struct type, field) when `call` calls an exported method on a field (`r.data.bc.GetBeer(ctx, ...)`)
    of a struct type of the package declared in another file (the field's type is unknown here)."""
    fn = call.child_by_field_name("function")
    obj = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    if obj is None or obj.type != "selector_expression" or not ts.text(fn.child_by_field_name("field"))[:1].isupper():
        return None
    args = call.child_by_field_name("arguments")
    if args is None or not args.named_child_count:
        return None
    owner = _type_of(ctx, obj.child_by_field_name("operand"), call)
    if not owner or owner in _structs(ctx):
        return None
    return owner, ts.text(obj.child_by_field_name("field"))
