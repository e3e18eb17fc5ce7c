"""Route handlers and the guards in front of them: which middleware, decorator, dependency, annotation or
attribute authorizes each route, and which router it belongs to (so that linking can compare a route
with its siblings).

- Python: FastAPI/Flask route decorators; guards are the other decorators (`@login_required`,
  `@jwt_required()`), FastAPI `dependencies=[Depends(x)]` and parameters defaulting to `Depends(x)` /
  `Security(x)` (or `Annotated[..., Depends(x)]`), and `APIRouter(dependencies=[...])` for a whole router;
  prefixes from `APIRouter(prefix=)` / `Blueprint(url_prefix=)`.
- JavaScript/TypeScript: Express-style `router.get(path, mw..., handler)`, `router.use(mw)` for the
  routes registered after it, `app.use(path, mw, router)` for a mounted router, Fastify
  `{preHandler|onRequest: [...]}` options.
- Go: gin (`r.GET(path, mw..., h)`, `r.Group(prefix, mw...)`, `Use`), echo (`e.GET(path, h, mw...)`), chi
  (`r.With(mw).Get`, `r.Use`, `r.Group(func(r) {...})`, `r.Route(prefix, func(r) {...})`), net/http and
  gorilla (`Handle(path, auth(h))` wrappers, `.Methods("GET")`, Go 1.22 `"GET /path"` patterns).
- Java: Spring `@GetMapping`/`@RequestMapping` in a controller with `@PreAuthorize`/`@Secured`/
  `@RolesAllowed` on the method or class (`@PermitAll` public); `SecurityFilterChain` matchers
  (`requestMatchers("/admin/**").hasRole("ADMIN")`, `.permitAll()`) as `ops.authz_rule`.
- C#: ASP.NET controllers (`[Route]`, `[HttpGet]`, `[Authorize]`, `[AllowAnonymous]`) and minimal APIs
  (`MapGet(...).RequireAuthorization()`, `MapGroup(...)`).

A guard is kept by name when it reads as authentication or authorization (`AUTHISH`); other middleware
(logging, validation, CORS) is not a guard. Facts: `ops.route` at the path literal (attrs: method, path,
framework, handler, router, guards, public).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexers.sources.ops.code.facts import OpsFacts, flat, keyword, node_text, positional, string_value

AUTHISH = re.compile(r"auth|login|logged_?in|jwt|token|session|permission|perms?\b|perms?_|role|admin|secur|protect|guard"
                     r"|verif|acl|polic|scope|oauth|api_?key|bearer|signed|current_?user|principal|credential|rbac"
                     r"|staff|superuser|require_?user|requireuser|is_?authenticated|Authorize|RolesAllowed|Secured"
                     r"|mfa|2fa|sso|saml|oidc|firebase_?user|clerk", re.I)
_VERBS = ("get", "post", "put", "delete", "patch", "head", "options")
_PY_ROUTE = frozenset({*_VERBS, "route", "api_route", "websocket"})
_JS_ROUTE = frozenset({*_VERBS, "all"})
_DATA = frozenset({"object", "array", "string", "template_string", "number"})  # never a route's handler
_GO_UPPER = frozenset(v.upper() for v in _VERBS) | {"Any"}
_GO_TITLE = frozenset(v.title() for v in _VERBS)
_SPRING = {"GetMapping": "GET", "PostMapping": "POST", "PutMapping": "PUT", "DeleteMapping": "DELETE",
           "PatchMapping": "PATCH", "RequestMapping": ""}
_SPRING_GUARDS = frozenset({"PreAuthorize", "PostAuthorize", "Secured", "RolesAllowed"})
_SPRING_PUBLIC = frozenset({"PermitAll", "AnonymousAllowed"})
_CS_VERBS = {"HttpGet": "GET", "HttpPost": "POST", "HttpPut": "PUT", "HttpDelete": "DELETE", "HttpPatch": "PATCH"}
_CS_MAP = re.compile(r"^Map(Get|Post|Put|Delete|Patch|Methods)?$")
_SPRING_MATCHERS = frozenset({"requestMatchers", "antMatchers", "mvcMatchers", "pathMatchers", "anyRequest", "anyExchange"})
_SPRING_RULES = frozenset({"permitAll", "authenticated", "denyAll", "hasRole", "hasAnyRole", "hasAuthority",
                           "hasAnyAuthority", "access", "fullyAuthenticated", "hasIpAddress", "anonymous", "rememberMe"})
_GO_PATTERN = re.compile(r"^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\s+(/\S*)$")


def authish(name: str) -> bool:
    return bool(AUTHISH.search(name)) and not re.search(r"(?i)cors|csrf_?exempt|log(?!in)", name)


@dataclass
class Router:
    name: str
    prefix: str = ""
    guards: list[str] = field(default_factory=list)  # in registration order: a route sees those before it
    parent: Router | None = None
    scope: int = 0  # the line of the function that holds it (two `r`s in two functions are two routers)
    mounted: list[str] = field(default_factory=list)  # guards of the mount (`app.use("/x", auth, router)`)

    def all_guards(self) -> list[str]:
        own = list(self.guards)
        return (self.parent.all_guards() + own) if self.parent is not None else own

    def all_mounted(self) -> list[str]:
        return (self.parent.all_mounted() if self.parent is not None else []) + self.mounted

    def full_prefix(self) -> str:
        return join(self.parent.full_prefix() if self.parent is not None else "", self.prefix)


def join(prefix: str, path: str) -> str:
    if not prefix:
        return path or "/"
    if not path or path == "/":
        return prefix if prefix.startswith("/") else "/" + prefix
    return "/" + "/".join(p for p in (prefix.strip("/"), path.strip("/")) if p)


def guard_name(node: Any) -> str:
    """A middleware/decorator/dependency expression as a short name: `auth.required`, `authorize`."""
    if node is None:
        return ""
    if node.type in ("call", "call_expression", "invocation_expression", "method_invocation"):
        fn = node.child_by_field_name("function") or node.child_by_field_name("name")
        return flat(fn)[:80]
    text = flat(node)
    return text[:80] if re.fullmatch(r"[\w$.&*]+", text) else ""


@dataclass
class _Pending:
    at: Any
    method: str
    path: str
    router: Router
    guards: list[str]
    handler: str
    public: bool
    framework: str
    handler_line: int = -1


class _Routes:
    """Routes as they are registered; emitted at the end (`flush`), when every mount and prefix is known."""

    def __init__(self, f: OpsFacts, framework: str):
        self.f = f
        self.framework = framework
        self.routers: dict[tuple[str, int], Router] = {}
        self.pending: list[_Pending] = []

    def router(self, name: str, scope: int = 0) -> Router:
        key = (name, scope)
        if key not in self.routers:
            self.routers[key] = Router(name, scope=scope)
        return self.routers[key]

    def add(self, at: Any, method: str, path: str, router: Router, guards: list[str], *, handler: str = "",
            public: bool = False, framework: str = "", handler_node: Any = None) -> None:
        line = int(handler_node.start_point[0]) if handler_node is not None else -1
        self.pending.append(_Pending(at, method, path, router, router.all_guards() + guards, handler, public,
                                     framework or self.framework, line))

    def flush(self) -> None:
        for p in self.pending:
            root = _root(p.router)
            full = join(p.router.full_prefix(), p.path)
            every = [g for g in dict.fromkeys(p.router.all_mounted() + p.guards) if g]
            group = p.router.name if p.router is not root else ""
            self.f.emit("ops.route", p.at, f"{p.method or '*'} {full}", "provides", p.framework,
                        method=p.method or "*", path=full, framework=p.framework, handler=p.handler[:120],
                        router=root.name[:120], router_id=f"{root.name}@{root.scope}"[:140], group=group[:120],
                        guards=[g for g in every if authish(g)][:10], public=p.public,
                        **({"handler_line": p.handler_line} if p.handler_line > p.at.start_point[0] else {}))
        self.pending = []


def _root(r: Router) -> Router:
    while r.parent is not None:
        r = r.parent
    return r


def routes(f: OpsFacts) -> None:
    fam = f.family
    if fam == "python":
        _python(f)
    elif fam == "javascript":
        _javascript(f)
    elif fam == "go":
        _go(f)
    elif fam == "java":
        _java(f)
    elif fam == "csharp":
        _csharp(f)


def _assigned_name(node: Any) -> str:
    """The variable a call's value is assigned to (`x = call()`, `x := call()`, `const x = call()`)."""
    cur = node
    for _ in range(6):
        parent = cur.parent
        if parent is None:
            return ""
        if parent.type in ("assignment", "variable_declarator", "assignment_expression"):
            left = parent.child_by_field_name("left") or parent.child_by_field_name("name")
            if left is not None and left != cur:
                return flat(left).rsplit(".", 1)[-1]
            if parent.type == "variable_declarator" and parent.named_child_count:
                return node_text(parent.named_children[0])
            return ""
        if parent.type in ("short_var_declaration", "assignment_statement", "var_spec"):
            left = parent.child_by_field_name("left") or parent.child_by_field_name("name")
            return flat(left).split(",")[0] if left is not None else ""
        if parent.type in ("expression_list", "member_access_expression", "invocation_expression", "equals_value_clause",
                           "argument_list", "call_expression", "selector_expression") and parent.type != "argument_list":
            cur = parent
            continue
        return ""
    return ""


# -- Python ------------------------------------------------------------------------------------------

def _depends(node: Any, out: list[str], depth: int = 0) -> None:
    """Names passed to `Depends(x)` / `Security(x)` anywhere inside `node`."""
    if node is None or depth > 12:
        return
    if node.type == "call":
        fn = flat(node.child_by_field_name("function")).rsplit(".", 1)[-1]
        if fn in ("Depends", "Security"):
            args = node.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_child_count else None
            name = guard_name(first)
            if name:
                out.append(name)
            return
    for child in node.named_children:
        _depends(child, out, depth + 1)


def _python(f: OpsFacts) -> None:
    r = _Routes(f, "fastapi" if f.imported("fastapi") else "flask" if f.imported("flask") else "python")
    for c in f.calls:  # routers and their prefixes and shared dependencies
        if c.name in ("APIRouter", "FastAPI", "Blueprint"):
            var = _assigned_name(c.node)
            if not var:
                continue
            router = r.router(var)
            router.prefix = f.value(keyword(c.args, "prefix") or keyword(c.args, "url_prefix")) or ""
            deps: list[str] = []
            _depends(keyword(c.args, "dependencies"), deps)
            router.guards += deps
    for d in f.decorated:
        _python_decorated(f, r, d)
    r.flush()


def _python_decorated(f: OpsFacts, r: _Routes, d: Any) -> None:
    fn = d.child_by_field_name("definition")
    decorators = [c for c in d.named_children if c.type == "decorator"]
    handler = node_text(fn.child_by_field_name("name")) if fn is not None else ""
    found: list[tuple[Any, str, str, Router]] = []
    guards: list[str] = []
    for dec in decorators:
        expr = dec.named_children[0] if dec.named_child_count else None
        if expr is None:
            continue
        if expr.type == "call":
            callee = flat(expr.child_by_field_name("function"))
            recv, _, meth = callee.rpartition(".")
            args = [a for a in (expr.child_by_field_name("arguments").named_children
                                if expr.child_by_field_name("arguments") is not None else []) if a.type != "comment"]
            pos = positional(args)
            path = f.value(pos[0]) if pos else None
            if recv and meth in _PY_ROUTE and path is not None and (path.startswith("/") or path == ""):
                methods = [meth.upper()] if meth in _VERBS else []
                if not methods:
                    listed = keyword(args, "methods")
                    methods = [s.upper() for s in (_strings(listed) or [])] or (["WS"] if meth == "websocket" else ["GET"])
                for m in methods:
                    found.append((pos[0], m, path, r.router(recv)))
                _depends(keyword(args, "dependencies"), guards)
                continue
            if callee.endswith("before_request"):
                continue
            guards.append(callee)
        else:
            name = flat(expr)
            if name.endswith(".before_request") and fn is not None:
                # A blueprint-wide hook: an auth-looking hook (or one decorated with a guard) guards the blueprint.
                others = [flat(x.named_children[0]) for x in decorators if x is not dec and x.named_child_count]
                hook = next((g for g in [handler, *others] if authish(g)), "")
                if hook:
                    r.router(name.rsplit(".", 1)[0]).guards.append(hook)
                continue
            guards.append(name)
    if not found:
        return
    params = fn.child_by_field_name("parameters") if fn is not None else None
    _depends(params, guards)
    for at, method, path, router in found:
        r.add(at, method, path, router, guards, handler=handler,
              handler_node=fn.child_by_field_name("name") if fn is not None else None)


def _strings(node: Any) -> list[str] | None:
    if node is None or node.type not in ("list", "tuple", "set"):
        return None
    out = [string_value(c) for c in node.named_children]
    return [s for s in out if s is not None]


# -- JavaScript / TypeScript -------------------------------------------------------------------------

def _javascript(f: OpsFacts) -> None:
    r = _Routes(f, "express" if f.imported("express") else "fastify" if f.imported("fastify") else "node")
    for c in f.calls:
        if not c.recv or "(" in c.recv:
            continue
        pos = c.args
        if c.name == "use" and pos:
            first = f.value(pos[0])
            rest = pos[1:] if first is not None else pos
            mounted = rest[-1] if first is not None and rest and rest[-1].type == "identifier" else None
            guards = [guard_name(a) for a in (rest[:-1] if mounted is not None else rest)]
            if mounted is not None:  # app.use("/admin", auth, adminRouter): the router gets the guards and prefix
                target = r.router(node_text(mounted))
                target.mounted += guards
                target.prefix = target.prefix or (first or "")
            else:
                r.router(c.recv).guards += guards
            continue
        if c.name not in _JS_ROUTE or len(pos) < 2:
            continue
        path = f.value(pos[0])
        if path is None or not path.startswith("/") or pos[-1].type in _DATA:
            continue  # `api.post('/login', {user})`: a client call sending data, not a route and its handler
        guards = [guard_name(a) for a in pos[1:-1]]
        for a in pos[1:-1]:
            if a.type == "object":  # fastify route options
                for pair in a.named_children:
                    key = node_text(pair.child_by_field_name("key")) if pair.type == "pair" else ""
                    if key in ("preHandler", "onRequest", "preValidation"):
                        value = pair.child_by_field_name("value")
                        items = value.named_children if value is not None and value.type == "array" else [value]
                        guards += [guard_name(x) for x in items]
        handler = guard_name(pos[-1]) if pos[-1].type in ("identifier", "member_expression") else ""
        r.add(pos[0], c.name.upper() if c.name != "all" else "*", path, r.router(c.recv), guards, handler=handler)
    r.flush()


# -- Go ----------------------------------------------------------------------------------------------

def _scope(node: Any) -> int:
    """The first line of the function holding `node` (1-based; 0 at top level)."""
    cur = node.parent
    while cur is not None:
        if cur.type in ("func_literal", "function_declaration", "method_declaration"):
            return int(cur.start_point[0]) + 1
        cur = cur.parent
    return 0


def _wrappers(node: Any, out: list[str], depth: int = 0) -> None:
    """`auth(logging(h))`: the functions wrapping a handler, outermost first."""
    if node is None or depth > 8 or node.type != "call_expression":
        return
    fn = flat(node.child_by_field_name("function"))
    if fn in ("http.HandlerFunc", "http.Handler"):
        pass
    else:
        out.append(fn[:80])
    args = node.child_by_field_name("arguments")
    kids = [a for a in (args.named_children if args is not None else []) if a.type != "comment"]
    if kids:
        _wrappers(kids[0] if len(kids) == 1 else kids[-1], out, depth + 1)


def _go(f: OpsFacts) -> None:
    fw = "gin" if f.imported("gin-gonic") else "echo" if f.imported("labstack/echo") else \
        "chi" if f.imported("go-chi/chi") else "gorilla" if f.imported("gorilla/mux") else "net/http"
    r = _Routes(f, fw)
    params: dict[int, tuple[str, Router]] = {}  # func literal id -> (parameter name, router)

    def router_of(c: Any) -> Router | None:
        recv = c.recv
        base = recv.split(".With(", 1)[0]
        if not re.fullmatch(r"[\w.]+", base):
            return None
        scope = _scope(c.node)
        cur = c.node.parent
        while cur is not None:  # inside r.Group(func(r chi.Router) {...}): the parameter names the inner router
            if cur.type == "func_literal" and int(cur.id) in params and params[int(cur.id)][0] == base:
                return params[int(cur.id)][1]
            cur = cur.parent
        return r.router(base, scope)

    for c in f.calls:
        pos = positional(c.args)
        if c.name in ("Group", "Route", "Mount") and c.recv and pos:
            parent = router_of(c)
            if parent is None:
                continue
            prefix = f.value(pos[0]) or "" if c.name != "Group" or f.value(pos[0]) is not None else ""
            lit = next((a for a in pos if a.type == "func_literal"), None)
            if lit is not None:
                ps = lit.child_by_field_name("parameters")
                decl = ps.named_children[0] if ps is not None and ps.named_child_count else None
                pname = node_text(decl.child_by_field_name("name")) if decl is not None else ""
                if pname:
                    params[int(lit.id)] = (pname, Router(f"{pname} ({c.name.lower()} at line {c.node.start_point[0] + 1})",
                                                         prefix, [], parent, int(lit.start_point[0]) + 1))
                continue
            var = _assigned_name(c.node)
            if var:
                child = r.router(var, _scope(c.node))
                child.parent, child.prefix = parent, prefix
                child.guards += [guard_name(a) for a in pos[1:]]
            continue
        if c.name == "Use" and c.recv:
            router = router_of(c)
            if router is not None:
                router.guards += [guard_name(a) for a in pos]
            continue
        if c.name in ("PathPrefix",) and c.recv:
            continue
        method = ""
        if c.name in _GO_UPPER:
            method = c.name if c.name != "Any" else "*"
        elif c.name in _GO_TITLE and fw in ("chi", "net/http", "gorilla"):
            method = c.name.upper()
        elif c.name in ("Handle", "HandleFunc"):
            method = "*"
        else:
            continue
        if len(pos) < 2 or not c.recv:
            continue
        path = f.value(pos[0])
        if path is None:
            continue
        m = _GO_PATTERN.match(path)
        if m:
            method, path = m.group(1), m.group(2)
        if not path.startswith("/"):
            continue
        router = router_of(c)
        if router is None:
            continue
        guards: list[str] = []
        if ".With(" in c.recv:
            with_call = c.node.child_by_field_name("function")
            operand = with_call.child_by_field_name("operand") if with_call is not None else None
            args = operand.child_by_field_name("arguments") if operand is not None else None
            guards += [guard_name(a) for a in (args.named_children if args is not None else [])]
        if c.name in ("Handle", "HandleFunc"):
            _wrappers(pos[1], guards)
            outer = c.node.parent
            if outer is not None and outer.type == "selector_expression" and outer.parent is not None and \
                    node_text(outer.child_by_field_name("field")) == "Methods":
                margs = outer.parent.child_by_field_name("arguments")
                listed = [string_value(a) for a in (margs.named_children if margs is not None else [])]
                method = ",".join(s.upper() for s in listed if s) or method
        elif fw == "echo":
            guards += [guard_name(a) for a in pos[2:]]
        else:
            guards += [guard_name(a) for a in pos[1:-1]]
        handler = guard_name(pos[-1] if fw != "echo" else pos[1])
        r.add(pos[0], method, path, router, guards, handler=handler)
    r.flush()


# -- Java (Spring) -----------------------------------------------------------------------------------

def _annotations(node: Any) -> list[tuple[str, Any, Any]]:
    """(name, arguments node, annotation node) of a declaration's annotations."""
    mods = next((ch for ch in node.named_children if ch.type == "modifiers"), None)
    out = []
    for ann in (mods.named_children if mods is not None else []):
        if ann.type in ("annotation", "marker_annotation"):
            out.append((node_text(ann.child_by_field_name("name")).rsplit(".", 1)[-1], ann.child_by_field_name("arguments"), ann))
    return out


def _ann_value(f: OpsFacts, args: Any, *keys: str) -> tuple[str | None, Any]:
    for a in (args.named_children if args is not None else []):
        if a.type == "element_value_pair":
            if node_text(a.child_by_field_name("key")) in keys:
                v = a.child_by_field_name("value")
                if v is not None and v.type == "element_value_array_initializer" and v.named_child_count:
                    v = v.named_children[0]
                return f.value(v), v
        elif "value" in keys or "path" in keys:
            v = a.named_children[0] if a.type == "element_value_array_initializer" and a.named_child_count else a
            if f.value(v) is not None:
                return f.value(v), v
    return None, None


def _java(f: OpsFacts) -> None:
    r = _Routes(f, "spring")
    for cls in f.classes:
        anns = _annotations(cls)
        names = {n for n, _, _ in anns}
        if not names & {"RestController", "Controller", "RequestMapping"}:
            continue
        prefix = ""
        class_guards = []
        class_public = bool(names & _SPRING_PUBLIC)
        for name, args, _ann in anns:
            if name == "RequestMapping":
                prefix = _ann_value(f, args, "value", "path")[0] or ""
            elif name in _SPRING_GUARDS:
                class_guards.append(_spring_guard(name, args))
        cname = node_text(cls.child_by_field_name("name"))
        router = r.router(cname)
        router.prefix = prefix
        router.guards += class_guards
        body = cls.child_by_field_name("body")
        for m in (body.named_children if body is not None else []):
            if m.type != "method_declaration":
                continue
            manns = _annotations(m)
            route = next(((n, a, ann) for n, a, ann in manns if n in _SPRING), None)
            if route is None:
                continue
            n, a, ann = route
            path, node = _ann_value(f, a, "value", "path")
            method = _SPRING[n]
            if not method:
                mtext = "".join(node_text(x) for x in (a.named_children if a is not None else []) if "method" in node_text(x))
                found = re.findall(r"RequestMethod\.(\w+)", mtext)
                method = ",".join(found) or "*"
            guards = [_spring_guard(x, y) for x, y, _ in manns if x in _SPRING_GUARDS]
            public = class_public or any(x in _SPRING_PUBLIC for x, _, _ in manns)
            r.add(node if node is not None else ann, method, path or "", router, guards,
                  handler=node_text(m.child_by_field_name("name")), public=public,
                  handler_node=m.child_by_field_name("name"))
    r.flush()
    _spring_security(f)


def _spring_guard(name: str, args: Any) -> str:
    inner = node_text(args)[1:-1].strip() if args is not None else ""
    return f"@{name}({inner[:60]})" if inner else f"@{name}"


def _spring_security(f: OpsFacts) -> None:
    """`SecurityFilterChain` rules in source order: each matcher with the rule chained after it."""
    order = 0
    for c in f.calls:
        if c.name not in _SPRING_MATCHERS:
            continue
        parent = c.node.parent
        rule = node_text(parent.child_by_field_name("name")) if parent is not None and parent.type == "method_invocation" \
            and parent.child_by_field_name("object") == c.node else ""
        if rule not in _SPRING_RULES:
            continue
        patterns = [s for a in c.args if (s := f.value(a)) is not None] if c.name != "anyRequest" and c.name != "anyExchange" else ["/**"]
        if not patterns:
            continue
        order += 1
        args = parent.child_by_field_name("arguments")
        detail = node_text(args)[1:-1][:60] if args is not None else ""
        f.emit("ops.authz_rule", c.name_node, f"{rule} {' '.join(patterns)}", "", "spring-security",
               patterns=patterns[:20], rule=rule, detail=detail, order=order)


# -- C# (ASP.NET) ------------------------------------------------------------------------------------

def _attributes(node: Any) -> list[tuple[str, Any]]:
    out = []
    for lst in node.named_children:
        if lst.type != "attribute_list":
            continue
        for attr in lst.named_children:
            if attr.type == "attribute":
                args = next((ch for ch in attr.named_children if ch.type == "attribute_argument_list"), None)
                out.append((node_text(attr.child_by_field_name("name")).rsplit(".", 1)[-1].removesuffix("Attribute"), args))
    return out


def _attr_string(f: OpsFacts, args: Any) -> tuple[str | None, Any]:
    for a in (args.named_children if args is not None else []):
        if a.child_by_field_name("name") is None and a.named_child_count:
            v = a.named_children[-1]
            if f.value(v) is not None:
                return f.value(v), v
    return None, None


def _csharp(f: OpsFacts) -> None:
    r = _Routes(f, "aspnet")
    for cls in f.classes:
        attrs = _attributes(cls)
        cname = node_text(cls.child_by_field_name("name"))
        names = {n for n, _ in attrs}
        is_controller = "ApiController" in names or cname.endswith("Controller")
        if not is_controller:
            continue
        router = r.router(cname)
        template = next((_attr_string(f, a)[0] for n, a in attrs if n == "Route"), None) or ""
        router.prefix = template.replace("[controller]", cname.removesuffix("Controller")).replace("[Controller]", cname.removesuffix("Controller"))
        router.guards += [_cs_guard(n, a) for n, a in attrs if n == "Authorize"]
        class_public = "AllowAnonymous" in names
        body = cls.child_by_field_name("body")
        for m in (body.named_children if body is not None else []):
            if m.type != "method_declaration":
                continue
            mattrs = _attributes(m)
            verb = next(((n, a) for n, a in mattrs if n in _CS_VERBS), None)
            if verb is None:
                continue
            path, node = _attr_string(f, verb[1])
            if path is None:
                path = next((_attr_string(f, a)[0] for n, a in mattrs if n == "Route"), None) or ""
            handler = node_text(m.child_by_field_name("name"))
            path = path.replace("[action]", handler)
            guards = [_cs_guard(n, a) for n, a in mattrs if n == "Authorize"]
            public = class_public or any(n == "AllowAnonymous" for n, _ in mattrs)
            at = node if node is not None else m.child_by_field_name("name")
            r.add(at, _CS_VERBS[verb[0]], path if path.startswith("~/") is False else path[1:], router, guards,
                  handler=handler, public=public, handler_node=m.child_by_field_name("name"))
    _minimal_api(f, r)
    r.flush()


def _cs_guard(name: str, args: Any) -> str:
    inner = node_text(args)[1:-1].strip() if args is not None else ""
    return f"[{name}({inner[:60]})]" if inner else f"[{name}]"


def _chained(node: Any) -> list[str]:
    """Methods invoked on the result of `node` (`.RequireAuthorization()`, `.AllowAnonymous()`)."""
    out = []
    cur = node
    for _ in range(8):
        parent = cur.parent
        if parent is None or parent.type != "member_access_expression" or parent.parent is None or \
                parent.parent.type != "invocation_expression":
            break
        out.append(node_text(parent.child_by_field_name("name")))
        cur = parent.parent
    return out


def _minimal_api(f: OpsFacts, r: _Routes) -> None:
    for c in f.calls:
        m = _CS_MAP.match(c.name)
        if c.name == "MapGroup" and c.recv:
            var = _assigned_name(c.node)
            pos = positional(c.args)
            if var:
                child = r.router(var)
                child.prefix = f.value(pos[0]) or "" if pos else ""
                child.parent = r.router(c.recv) if c.recv in {k[0] for k in r.routers} else None
                if "RequireAuthorization" in _chained(c.node):
                    child.guards.append("RequireAuthorization")
            continue
        if m is None or not c.recv or c.name == "MapGroup":
            continue
        pos = positional(c.args)
        if len(pos) < 2:
            continue
        path = f.value(pos[0])
        if path is None or not path.startswith("/"):
            continue
        chained = _chained(c.node)
        guards = ["RequireAuthorization"] if "RequireAuthorization" in chained else []
        method = (m.group(1) or "*").upper() if m.group(1) != "Methods" else "*"
        r.add(pos[0], method, path, r.router(c.recv), guards, handler=guard_name(pos[-1]),
              public="AllowAnonymous" in chained)
