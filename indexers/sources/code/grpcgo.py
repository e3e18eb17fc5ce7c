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
