"""Routes declared by annotations and decorators: Spring (`@RequestMapping` on the class, `@GetMapping` on
the method, springdoc `@Operation(operationId)`), JAX-RS `@Path`, ASP.NET attributes (`[Route]` on the
controller, `[HttpGet]`, `[ApiVersion]`), and NestJS-style decorators (`@Controller('orders')` +
`@Post(':id')`, also routing-controllers and tsoa).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list
from indexers.sources.code.http_emit import HTTP_METHODS, emit_route, kwarg, methods_of
from indexers.sources.code.strings import DYN, join_paths, string_text

# NestJS (`@Controller('orders')` + `@Post(':id')`), and the same shape in routing-controllers and tsoa.
NEST_VERBS = {"Get": "GET", "Post": "POST", "Put": "PUT", "Delete": "DELETE", "Patch": "PATCH", "Options": "OPTIONS",
               "Head": "HEAD", "All": ""}
_NEST_CLASS = frozenset({"Controller", "JsonController", "Route"})
_NEST_MODULES = re.compile(r"^(@nestjs/|routing-controllers$|tsoa$|@tsed/)")


def _decorated(node: Any) -> Any:
    """The class or method a decorator node decorates."""
    p = node.parent
    if p is None:
        return None
    if p.type in ("method_definition", "class_declaration", "class", "abstract_class_declaration"):
        return p
    if p.type == "export_statement":
        return p.child_by_field_name("declaration")
    if p.type == "class_body":
        sib = node.next_named_sibling
        while sib is not None and sib.type == "decorator":
            sib = sib.next_named_sibling
        return sib if sib is not None and sib.type == "method_definition" else None
    return None


def nest_routes(ctx: Ctx) -> None:
    framework = {i["alias"] for i in ctx.f.imports if _NEST_MODULES.search(i["path"])}
    prefixes: dict[int, list[str]] = {}
    routes: list[tuple[Any, str, list[tuple[Any, str]]]] = []
    for name, args, node in ctx.f.annotations:
        if name not in framework:
            continue
        target = _decorated(node)
        if target is None:
            continue
        vals = _nest_paths(args)
        if name in _NEST_CLASS and target.type != "method_definition":
            prefixes[target.id] = [p for _n, p in vals] or [""]
        elif name in NEST_VERBS and target.type == "method_definition":
            routes.append((target, NEST_VERBS[name], vals or [(node, "")]))
    for method_node, verb, paths in routes:
        cls = method_node.parent
        while cls is not None and cls.type not in ("class_declaration", "class", "abstract_class_declaration"):
            cls = cls.parent
        if cls is None or cls.id not in prefixes:
            continue
        for at, p in paths:
            for pre in prefixes[cls.id]:
                emit_route(ctx, at, verb, "/" + join_paths(pre.strip("/"), p.lstrip("/")).lstrip("/"))


def _nest_paths(args: Any) -> list[tuple[Any, str]]:
    out: list[tuple[Any, str]] = []
    for a in arg_list(args)[:1]:
        items = a.named_children if a.type == "array" else [a]
        if a.type == "object":
            p = kwarg([a], "path")
            items = (p.named_children if p.type == "array" else [p]) if p is not None else []
        for it in items:
            s = string_text(it)
            if s is not None and DYN not in s:
                out.append((it, s))
    return out


# -- Java / C# annotations -------------------------------------------------------------------------------

ROUTE_ANNOTATIONS = frozenset({"GetMapping", "PostMapping", "PutMapping", "DeleteMapping", "PatchMapping",
                                "RequestMapping", "HttpGet", "HttpPost", "HttpPut", "HttpDelete", "HttpPatch",
                                "HttpHead", "HttpOptions", "Route", "Path"})
_JAVA_MAPPING = {"GetMapping": "GET", "PostMapping": "POST", "PutMapping": "PUT", "DeleteMapping": "DELETE",
                 "PatchMapping": "PATCH", "RequestMapping": ""}
_CS_VERB = {"HttpGet": "GET", "HttpPost": "POST", "HttpPut": "PUT", "HttpDelete": "DELETE", "HttpPatch": "PATCH",
            "HttpHead": "HEAD", "HttpOptions": "OPTIONS"}


def _ann_paths(args: Any) -> list[tuple[Any, str]]:
    """(node, text) of the path values of an annotation/attribute: the first positional argument, or
    value=/path= (Java), or Template= (C#); arrays give several."""
    if args is None:
        return []
    vals: list[Any] = []
    for a in args.named_children:
        if a.type == "element_value_pair":
            if ts.text(a.child_by_field_name("key")) in ("value", "path"):
                vals.append(a.child_by_field_name("value"))
        elif a.type == "attribute_argument":
            if a.named_child_count == 1 or "Template" in ts.text(a).split("=", 1)[0]:
                vals.append(a.named_children[-1])
        else:
            vals.append(a)
        if vals and a.type not in ("element_value_pair",):
            break
    out = []
    for v in vals:
        items = v.named_children if v.type == "element_value_array_initializer" else [v]
        for it in items:
            s = string_text(it)
            if s is not None:
                out.append((it, s))
    return out


def _ann_value(args: Any, key: str) -> Any:
    for a in args.named_children if args is not None else []:
        if a.type == "element_value_pair" and ts.text(a.child_by_field_name("key")) == key:
            return a.child_by_field_name("value")
    return None


def annotated_routes(ctx: Ctx) -> None:
    by_decl: dict[int, list[tuple[str, Any, Any]]] = {}
    for name, args, node in ctx.f.annotations:
        decl = ctx.enclosing(node, ("method_declaration", "class_declaration"))
        if decl is not None:
            by_decl.setdefault(decl.id, []).append((name, args, node))
    for mnode, nnode in ctx.f.methods:
        anns = by_decl.get(mnode.id, [])
        cls = ctx.enclosing(mnode, ("class_declaration",))
        prefixes = [""]
        versions: list[str] = []
        if cls is not None:
            cls_anns = by_decl.get(cls.id, [])
            prefixes = [p for n, a, _ in cls_anns if n in ("RequestMapping", "Route", "Path")
                        for _, p in _ann_paths(a)] or [""]
            cname = ts.text(cls.child_by_field_name("name")).removesuffix("Controller").lower()
            prefixes = [re.sub(r"\[controller\]", cname, p, flags=re.I) for p in prefixes]
            versions = [v for n, a, _ in cls_anns if n == "ApiVersion" for v in [_cs_attr_version(a)] if v]
        versions = [v for n, a, _ in anns if n == "MapToApiVersion" for v in [_cs_attr_version(a)] if v] or versions
        verbs = [_CS_VERB[n] for n, _, _ in anns if n in _CS_VERB] + [n for n, _, _ in anns if n in HTTP_METHODS]
        opid = next((string_text(_ann_value(a, "operationId")) for n, a, _ in anns
                     if n in ("Operation", "ApiOperation") and _ann_value(a, "operationId") is not None), None)
        for name, args, node in anns:
            if ctx.family == "java" and name in _JAVA_MAPPING:
                method = _JAVA_MAPPING[name] or (methods_of(_ann_value(args, "method")) or [""])[0]
            elif ctx.family == "csharp" and name in _CS_VERB:
                if not _ann_paths(args) and any(n == "Route" for n, _, _ in anns):
                    continue  # [HttpPost] + [Route("x")]: the Route attribute carries the template
                method = _CS_VERB[name]
                named = re.search(r"Name\s*=\s*\"([^\"]+)\"", ts.text(args)) if args is not None else None
                opid = opid or (named.group(1) if named else None)
            elif name in ("Route", "Path") and (ctx.family == "csharp" or verbs):
                method = verbs[0] if len(verbs) == 1 else ""
            else:
                continue
            paths = _ann_paths(args) or [(node, "")]
            for at, p in paths:
                for pre in prefixes:
                    full = p if p.startswith(("/", "~/")) and ctx.family == "csharp" else join_paths(pre, p)
                    full = "/" + full.lstrip("~/") if not full.startswith("/") else full
                    emit_route(ctx, at, method, re.sub(r"\[action\]", ts.text(nnode), full, flags=re.I),
                               api_version=versions or None, operation_id=opid)


def _cs_attr_version(args: Any) -> str:
    """[ApiVersion("2.0")], [ApiVersion(2.0)], [MapToApiVersion("1.0")]."""
    if args is None:
        return ""
    m = re.search(r"\(?\s*\"?v?(\d+(?:\.\d+)?)\"?", ts.text(args))
    return m.group(1) if m else ""
