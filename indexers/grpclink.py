"""gRPC implementations found through their registration (Go): `pb.Register<Svc>Server(s, impl)` names
the service, extraction says what `impl` is (a type or a constructor, in which package), and handler-shaped
methods (`grpc.impl_method`) say which type they belong to and which functions of their file construct
it (see `code_grpcgo`). A method provides the rpc of its name when its type is the registered one.

A package is matched by import path: the implementation's files sit in the same repository as the
registration, in the folder the import path ends with (the longest such folder: a monorepo holds several
`ports` packages); '' is the registering file's own folder. Without a registration nothing links: an
exported method with a handler's signature is also what a client wrapper or a test fake looks like. A
constructor found in none of the methods' files still names its package: the one type there with methods
named like the service's rpcs is the implementation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from indexers.model import Entity, Usage


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _suffix_len(import_path: str, folder: str) -> int:
    """How many path segments of `folder` the import path ends with (0: it does not end with it)."""
    if not folder:
        return 0
    segs = folder.split("/")
    return len(segs) if import_path.split("/")[-len(segs):] == segs else 0


# Standard implementations shipped by gRPC libraries, by (service, the implementation's package or module):
# registering one provides every rpc of the service at the registration, since the implementing code is
# the library's, outside the workspace. The health service: grpc-go's `health.NewServer()`, grpcio-health-
# checking's `health.HealthServicer()`.
STANDARD_IMPLS = {("proto:grpc.health.v1.Health", "google.golang.org/grpc/health"),
                  ("proto:grpc.health.v1.Health", "grpc_health.v1.health")}


def link_impls(registrations: Sequence[tuple[Usage, Entity, float, str]], impls: Sequence[Usage],
               child: Callable[[str, str], Entity | None], add: Callable[..., None],
               rpcs: Callable[[str], Sequence[Entity]] = lambda _service: ()) -> list[tuple[Usage, str]]:
    """`registrations`: (registration usage, its service entity, confidence, copy); `impls`: the
    workspace's `grpc.impl_method` usages. Returns the methods found implementing an rpc, each with its
    service's id (the messages their files name are the provider's, and their import names the package)."""
    provided: list[tuple[Usage, str]] = []
    by_repo: dict[str, list[Usage]] = defaultdict(list)
    for m in impls:
        by_repo[m.repo].append(m)
    for reg, service, conf, copy in registrations:
        typ, ctor = str(reg.attrs.get("impl_type", "")), str(reg.attrs.get("impl_ctor", ""))
        if not typ and not ctor:
            continue
        pkg = str(reg.attrs.get("impl_pkg", ""))
        if (service.id, pkg) in STANDARD_IMPLS:
            for standard in rpcs(service.id):
                add(reg, standard, "provides", conf - 0.1, f"{reg.kind} {service.name}.{standard.name} (the standard "
                    f"implementation in {pkg})", copy)
            continue
        methods = by_repo.get(reg.repo, [])
        if pkg:
            best = max((_suffix_len(pkg, _folder(m.path)) for m in methods), default=0)
            if not best:
                continue
            methods = [m for m in methods if _suffix_len(pkg, _folder(m.path)) == best]
        else:
            methods = [m for m in methods if _folder(m.path) == _folder(reg.path)]
        # the type: named, or returned by the constructor (its methods may sit in other files of the package)
        types = {typ} if typ else {m.qualifier for m in methods if ctor in (m.attrs.get("ctors") or [])}
        if not types:  # a constructor in none of the methods' files: the one type there serving the service
            types = {m.qualifier for m in methods if child(service.id, m.name) is not None}
        named = [m for m in methods if m.qualifier in types] if len(types) == 1 else []
        for m in named:
            rpc = child(service.id, m.name)
            if rpc is not None:
                add(m, rpc, "provides", conf - 0.05, f"{m.kind} {m.qualifier}.{m.name} (registered as "
                    f"{service.name} at {reg.path}:{reg.range.start_line + 1})", copy)
                provided.append((m, service.id))
    return provided


class Factories:
    """Go functions returning a generated client (`grpc.factory`), found by name and package: a client made
    by `client.NewUsersClient()` is the client that function returns, when `client`'s import path names
    the one folder declaring it (the longest match, the caller's repository first)."""

    def __init__(self, factories: Sequence[Usage]):
        self.by_name: dict[str, list[Usage]] = defaultdict(list)
        for f in factories:
            self.by_name[f.name].append(f)

    def resolve(self, u: Usage) -> Usage | None:
        if u.language != "go" or not self.by_name:
            return None
        found = self.by_name.get(f"New{u.qualifier}Client", [])
        best: tuple[int, int] = (0, 0)
        picked: list[Usage] = []
        for f in found:
            score = max((_suffix_len(str(p), _folder(f.path)) for p in u.attrs.get("import") or []), default=0)
            key = (score, 1 if f.repo == u.repo else 0)
            if not score:
                continue
            if key > best:
                best, picked = key, [f]
            elif key == best:
                picked.append(f)
        return picked[0] if len(picked) == 1 else None


def link_subclasses(servers: Sequence[tuple[Usage, Entity, float, str]], impls: Sequence[Usage],
                    child: Callable[[str, str], Entity | None], add: Callable[..., None]) -> list[tuple[Usage, str]]:
    """Python, Java and C# servicers through an intermediate base class: a handler-shaped method
    (`grpc.impl_method` with `bases`) of a class whose base is a class extending the generated server
    base (`grpc.server` with `impl_class`) provides the rpc of its name. The base is looked up by name in
    the method's repository, else in the workspace when only one class there has the name."""
    by_name: dict[str, list[tuple[Usage, Entity, float, str]]] = defaultdict(list)
    for s in servers:
        by_name[str(s[0].attrs.get("impl_class", ""))].append(s)
    provided: list[tuple[Usage, str]] = []
    for m in impls:
        bases = m.attrs.get("bases") or []
        found = [s for b in bases for s in by_name.get(str(b), [])]
        own = [s for s in found if s[0].repo == m.repo]
        picked = own or found
        if len({s[1].id for s in picked}) != 1:
            continue
        reg, service, conf, copy = picked[0]
        rpc = child(service.id, m.name)
        if rpc is not None:
            add(m, rpc, "provides", conf - 0.05, f"{m.kind} {m.qualifier}.{m.name} (extends {reg.attrs.get('impl_class')}, "
                f"a {service.name} servicer at {reg.path}:{reg.range.start_line + 1})", copy)
            provided.append((m, service.id))
    return provided


def passed_stubs(usages: Sequence[Usage]) -> list[Usage]:
    """Ruby stubs made in one file and passed to a class of another (see `code_langs.ruby`): each call on
    the parameter that receives a stub (`grpc.param_call`) becomes a `grpc.call` on the passed stub's
    service. The class is the first of the caller's `targets` (innermost lexical scope first, as Ruby
    resolves a constant) that declares a method reading a parameter, in the caller's repository (an object
    is passed within one program); a parameter given stubs of two services links nothing."""
    params: dict[tuple[str, str], list[Usage]] = defaultdict(list)  # (repo, owner) -> its param calls
    passed: list[Usage] = []
    for u in usages:
        if u.kind == "grpc.param_call":
            params[(u.repo, str(u.attrs.get("owner", "")))].append(u)
        elif u.kind == "grpc.stub_arg":
            passed.append(u)
    if not passed or not params:
        return []
    given: dict[tuple[str, str, str, str], list[Usage]] = defaultdict(list)  # (repo, owner, callee, param) -> args
    for a in passed:
        owner = next((str(t) for t in a.attrs.get("targets") or [] if (a.repo, str(t)) in params), None)
        if owner is not None:
            given[(a.repo, owner, str(a.attrs.get("callee", "")), str(a.attrs.get("param", "")))].append(a)
    out: list[Usage] = []
    for (repo, owner, callee, param), args in given.items():
        if len({(a.qualifier, tuple(a.attrs.get("import") or [])) for a in args}) != 1:
            continue
        a = args[0]
        for c in params[(repo, owner)]:
            if c.attrs.get("callee") == callee and c.attrs.get("param") == param:
                out.append(Usage(c.repo, c.path, c.range, "grpc.call", c.name, a.qualifier, "consumes", c.language,
                                 {"import": list(a.attrs.get("import") or []),
                                  "passed_at": f"{a.path}:{a.range.start_line + 1}"}))
    return out


class Fields:
    """Go struct fields holding a generated client (`grpc.field`), found by struct and field name within a
    package (one folder of one repository): a call on field `bc` of a `Data` declared in another file
    (`grpc.field_call`) is a call through the client that field holds, when the package declares exactly one
    such field."""

    def __init__(self, fields: Sequence[Usage]):
        self.by_key: dict[tuple[str, str, str, str], list[Usage]] = defaultdict(list)
        for f in fields:
            self.by_key[(f.repo, _folder(f.path), str(f.attrs.get("struct", "")), f.name)].append(f)

    def resolve(self, u: Usage) -> Usage | None:
        found = self.by_key.get((u.repo, _folder(u.path), str(u.attrs.get("struct", "")), str(u.attrs.get("field", ""))),
                                [])
        return found[0] if len({(f.qualifier, tuple(f.attrs.get("import") or ())) for f in found}) == 1 else None
