"""Route prefixes and what else a router carries, within one file, and mounts that span files.

- Router variables created with a prefix: FastAPI `APIRouter(prefix=...)`, Flask `Blueprint(url_prefix=...)`,
  gin/echo/fiber `r.Group("/catalog")`, gorilla/mux `r.PathPrefix("/x").Subrouter()`, Koa
  `new Router({prefix})`, Hono `.basePath("/x")`, ASP.NET minimal APIs `app.MapGroup("api/catalog")` with
  the API versions the group declares (`.HasApiVersion(1, 0)`, Asp.Versioning); a group of a group adds up.
- chi `r.Route("/x", func(r chi.Router) { r.Get(...) })`: routes inside the function take its prefix.
- Mounts: Express `app.use("/api", router)`, FastAPI `app.include_router(r, prefix=...)`, Flask
  `app.register_blueprint(bp, url_prefix=...)`. A router of this file is prefixed here; a router imported
  from another file becomes an `http.mount` usage (evidence) that linking applies to that file's routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list, flat, unwrap
from indexers.sources.code.http_emit import kwarg
from indexers.sources.code.strings import DYN, join_paths, string_text

# Calls on a router that return a router with the same prefix (gorilla Subrouter, chi With, ASP.NET group
# conventions).
_KEEPS_PREFIX = frozenset({"Subrouter", "With", "Use", "RequireAuthorization", "WithTags", "WithOpenApi",
                           "WithGroupName", "DisableAntiforgery", "AllowAnonymous", "RequireCors", "WithMetadata",
                           "AddEndpointFilter", "ProducesProblem", "WithDescription", "WithSummary"})
_GROUP_TOKENS = (b"Group", b"Router", b"Blueprint", b"PathPrefix", b"basePath", b"ApiVersion")
_ROUTER_MAKERS = re.compile(r"(^|\.)(Router|APIRouter|Blueprint)$|^express\.Router$|^newRouter$|^newKoaRouter$")


@dataclass
class Group:
    prefix: str = ""
    versions: list[str] = field(default_factory=list)
    router: bool = False  # a router object (mountable elsewhere), not the application itself


def _chain(node: Any) -> list[tuple[str, Any, list[Any]]]:
    """A call chain `a.B(x).C(y)` from the innermost call outwards: [(name, call node, args)], with the root
    receiver's text as the first entry's name when it is not a call."""
    calls: list[tuple[str, Any, list[Any]]] = []
    node = unwrap(node)
    while node is not None and node.type in ("call_expression", "invocation_expression", "method_invocation", "call"):
        fn = node.child_by_field_name("function")
        if fn is None and node.type == "method_invocation":
            name, obj = ts.text(node.child_by_field_name("name")), node.child_by_field_name("object")
        elif fn is not None and fn.type in ("selector_expression", "member_expression", "member_access_expression",
                                             "attribute", "field_access"):
            name_node = fn.child_by_field_name("field") or fn.child_by_field_name("property") or \
                fn.child_by_field_name("name") or fn.child_by_field_name("attribute")
            name = re.sub(r"<.*>$", "", ts.text(name_node))
            obj = fn.child_by_field_name("operand") or fn.child_by_field_name("object") or \
                fn.child_by_field_name("expression")
        else:
            name, obj = (flat(fn) if fn is not None else ""), None
        calls.append((name, node, arg_list(node.child_by_field_name("arguments"))))
        node = unwrap(obj) if obj is not None else None
    if node is not None and node.type in ("new_expression", "object_creation_expression"):  # new Router({prefix})
        ctor = node.child_by_field_name("constructor") or node.child_by_field_name("type")
        calls.append(("new " + flat(ctor), node, arg_list(node.child_by_field_name("arguments"))))
        node = None
    calls.reverse()
    if node is not None:
        calls.insert(0, (flat(node), None, []))
    return calls


def version_of(args: list[Any]) -> str:
    """`HasApiVersion(1, 0)`, `(1.0)`, `("2.0")`, `(new ApiVersion(2, 0))` -> '1.0' / '2.0'."""
    if len(args) == 1 and args[0].type in ("object_creation_expression", "implicit_object_creation_expression"):
        args = arg_list(args[0].child_by_field_name("arguments"))
    nums = [ts.text(a).strip("\"'") for a in args if re.fullmatch(r"\"?\d+(\.\d+)?\"?", ts.text(a))]
    return ".".join(nums[:2]) if nums else ""


def groups(ctx: Ctx) -> dict[str, Group]:
    """Router variables of the file with their prefix (and API versions), groups of groups resolved."""
    key = ("http_groups",)
    if key in ctx.memo:
        got: dict[str, Group] = ctx.memo[key]
        return got
    raw: dict[str, tuple[str, Group]] = {}  # var -> (parent var, own group)
    for k, _left, right in ctx.f.assigns:
        text = right.text if right is not None else None
        if not text or not any(t in text for t in _GROUP_TOKENS):
            continue
        chain = _chain(right)
        if not chain:
            continue
        g = Group()
        parent = ""
        hit = False
        for i, (name, node, args) in enumerate(chain):
            if node is None:
                parent = name.rsplit(".", 1)[-1]
                continue
            if name.rsplit(".", 1)[-1] in ("APIRouter", "Blueprint"):  # FastAPI, Flask
                arg = kwarg(args, "prefix" if name.endswith("APIRouter") else "url_prefix")
                lit = _lit(arg) if arg is not None else ""
                if lit is None:
                    break
                g.prefix, g.router, hit = lit, True, True
            elif name in ("MapGroup", "Group", "PathPrefix", "basePath") and args:
                s = _lit(args[0])
                if s is None:  # chi `r.Group(func(r chi.Router) {...})`: no prefix of its own
                    break
                g.prefix, hit = join_paths(g.prefix, s) if g.prefix else s, True
            elif name in _KEEPS_PREFIX:
                pass
            elif name in ("HasApiVersion", "HasDeprecatedApiVersion", "MapToApiVersion"):
                v = version_of(args)
                if v and v not in g.versions:
                    g.versions.append(v)
                hit = True
            elif _ROUTER_MAKERS.search(name.replace("new ", "")) and i == len(chain) - 1:
                pre = kwarg(args, "prefix")  # Koa: new Router({prefix: "/x"})
                lit = _lit(pre) if pre is not None else ""
                if lit is None:
                    break
                g.prefix, g.router, hit = lit, True, True
            else:
                hit = False
                break
        if hit and DYN not in g.prefix:
            raw[k] = (parent, g)
    out: dict[str, Group] = {}

    def resolve(k: str, depth: int = 0) -> Group:
        if k in out:
            return out[k]
        parent, g = raw[k]
        if parent in raw and parent != k and depth < 16:
            p = resolve(parent, depth + 1)
            g = Group(join_paths(p.prefix, g.prefix) if g.prefix else p.prefix, g.versions or list(p.versions),
                      g.router or p.router)
        out[k] = g
        return g

    for k in raw:
        resolve(k)
    ctx.memo[key] = out
    return out


def _lit(node: Any) -> str | None:
    s = string_text(node) if node is not None else None
    return s if s is not None and DYN not in s else None


def chi_prefix(ctx: Ctx, call: Any, recv: str) -> str:
    """chi: the prefixes of the `r.Route("/x", func(r chi.Router) {...})` blocks a route call sits in, when
    the route is registered on the function's router parameter."""
    prefix = ""
    node = call.parent
    want = recv
    depth = 0
    while node is not None and depth < 64:
        depth += 1
        if node.type == "func_literal":
            params = node.child_by_field_name("parameters")
            first = params.named_children[0] if params is not None and params.named_child_count else None
            pname = ts.text(first.child_by_field_name("name")) if first is not None else ""
            outer = node.parent.parent if node.parent is not None else None
            if pname == want and outer is not None and outer.type == "call_expression":
                fn = outer.child_by_field_name("function")
                args = arg_list(outer.child_by_field_name("arguments"))
                if fn is not None and fn.type == "selector_expression" and \
                        ts.text(fn.child_by_field_name("field")) == "Route" and args:
                    s = _lit(args[0])
                    if s is not None:
                        prefix = join_paths(s, prefix) if prefix else s
                        want = ts.text(fn.child_by_field_name("operand"))
        node = node.parent
    return prefix


def resolve_module(ctx: Ctx, spec: str) -> str:
    """An import specifier as a repo path without extension: relative JS/TS paths against the file's folder,
    Python dotted modules (relative ones against the package), anything else as written."""
    here = ctx.src.path.rsplit("/", 1)[0] if "/" in ctx.src.path else ""
    if spec.startswith("."):
        if ctx.family == "python":
            dots = len(spec) - len(spec.lstrip("."))
            parts = here.split("/") if here else []
            parts = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
            rest = spec.lstrip(".").replace(".", "/")
            return "/".join([*parts, rest] if rest else parts)
        parts = here.split("/") if here else []
        for seg in spec.split("/"):
            if seg == "..":
                if parts:
                    parts.pop()
            elif seg and seg != ".":
                parts.append(seg)
        out = "/".join(parts)
        return re.sub(r"\.(js|mjs|cjs|ts|tsx|jsx)$", "", out)
    return spec.replace(".", "/") if ctx.family == "python" else spec


def mounts(ctx: Ctx, calls: list[Any]) -> dict[str, str]:
    """Prefixes of this file's routers mounted here ({router var: prefix}); mounts of imported routers are
    emitted as `http.mount` evidence for linking."""
    out: dict[str, str] = {}
    for c in calls:
        recv, _, meth = c.callee.rpartition(".")
        if meth not in ("use", "include_router", "register_blueprint", "route", "mount") or not recv:
            continue
        args = c.args
        pos = [a for a in args if a.type not in ("keyword_argument",)]
        if ctx.family == "javascript" and meth in ("use", "route") and len(pos) >= 2:
            prefix, target = _lit(pos[0]), unwrap(pos[-1])
        elif ctx.family == "python" and meth in ("include_router", "register_blueprint") and pos:
            prefix, target = _lit(kwarg(args, "prefix") or kwarg(args, "url_prefix")), pos[0]
            prefix = prefix if prefix is not None else ""
        else:
            continue
        if prefix is None or target is None:
            continue
        name = flat(target)
        base = name.split(".", 1)[0]
        imp = ctx.imports.get(base)
        if target.type in ("call_expression", "call"):  # app.use("/api", require("./orders"))
            arg = arg_list(target.child_by_field_name("arguments"))
            spec = _lit(arg[0]) if arg and flat(target.child_by_field_name("function")) == "require" else None
            if spec:
                ctx.emit("http.mount", c.node, prefix, role="", prefix=prefix, module=resolve_module(ctx, spec))
            continue
        if imp is not None:
            module = imp.get("module") or imp["path"]
            if ctx.family == "python" and imp.get("name") and "." in name:  # `from app.routers import items`
                module = f"{module}.{imp['name']}"
            ctx.emit("http.mount", c.node, prefix, role="", prefix=prefix, module=resolve_module(ctx, module))
        elif "." not in name:
            out[name] = prefix
    return out
