"""What other files say about HTTP usages, workspace-wide: generated clients and server interfaces
(`http.generated`), helpers that send their argument as a URL (`http.helper`), typed-client registrations
(`http.client_config`), routers mounted under a prefix (`http.mount`), and the handler methods of each
type (`http.handler`), so a type implementing a generated server interface can be recognised.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from indexers.httplinks.operations import alnum
from indexers.model import Usage


def _noext(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return path[: len(path) - len(base)] + base.split(".", 1)[0] if "." in base else path


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


@dataclass(frozen=True)
class _Gen:
    repo: str
    path: str
    cls: str
    name: str
    method: str
    path_tmpl: str
    side: str
    default: bool
    versions: tuple[str, ...] = ()


class Evidence:
    """What generated code, helpers, client registrations and mounts say, workspace-wide."""

    def __init__(self, usages: Sequence[Usage]):
        self.gen_client: dict[str, list[_Gen]] = defaultdict(list)  # repo -> client operations
        self.gen_server: dict[tuple[str, str], dict[str, _Gen]] = defaultdict(dict)  # (repo, dir) -> name -> op
        self.helpers: dict[str, list[Usage]] = defaultdict(list)  # method name -> helper definitions
        self.configs: dict[str, list[Usage]] = defaultdict(list)  # client class -> registrations
        self.mounts: dict[tuple[str, str], list[str]] = defaultdict(list)  # (repo, module) -> prefixes
        self.handlers: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (repo, dir, type) -> names
        self.instances: dict[tuple[str, str], list[Usage]] = defaultdict(list)  # (repo, exported name) -> instances
        for u in usages:
            k = u.kind
            if k == "http.generated":
                g = _Gen(u.repo, u.path, u.qualifier, u.name, str(u.attrs.get("method", "")).upper(),
                         str(u.attrs.get("path", "")), str(u.attrs.get("side", "client")), bool(u.attrs.get("default")),
                         tuple(str(v) for v in u.attrs.get("api_version") or ()))
                if g.side == "server":
                    self.gen_server[(u.repo, _dir(u.path))][u.name] = g
                else:
                    self.gen_client[u.repo].append(g)
            elif k == "http.helper":
                self.helpers[u.name].append(u)
            elif k == "http.client_config" and u.qualifier:
                self.configs[u.qualifier].append(u)
            elif k == "http.mount":
                module = str(u.attrs.get("module", ""))
                prefix = str(u.attrs.get("prefix", ""))
                if module and prefix not in self.mounts[(u.repo, module)]:
                    self.mounts[(u.repo, module)].append(prefix)
            elif k == "http.handler":
                self.handlers[(u.repo, _dir(u.path), u.qualifier)].add(u.name)
            elif k == "http.instance":
                self.instances[(u.repo, u.name)].append(u)

    def client_op(self, u: Usage) -> tuple[_Gen | None, bool]:
        """The generated client method an operation call names: (method, whether the generated class was
        found at all)."""
        module = str(u.attrs.get("module", ""))
        symbol = str(u.attrs.get("symbol", "")) or u.qualifier
        lang = u.language
        classes: list[_Gen] = []
        for g in self.gen_client.get(u.repo, []):
            stem = _noext(g.path)
            if lang in ("javascript", "typescript", "tsx"):
                if symbol == "default":
                    ok = stem == module
                else:
                    ok = (stem == module or stem.startswith(module + "/") or stem == module + "/index") and g.cls == symbol
            elif lang == "java":
                ok = g.cls == symbol and (stem.endswith("/" + module.replace(".", "/")) or stem == module.replace(".", "/"))
            elif lang == "python":
                ok = g.cls == symbol and (not module or module.replace(".", "/") in stem)
            elif lang == "go":
                d = _dir(g.path)
                ok = bool(module) and bool(d) and (module == d or module.endswith("/" + d)) and \
                    g.cls.lower().startswith(u.qualifier.lower())
            else:
                ok = g.cls == symbol
            if ok:
                classes.append(g)
        if symbol == "default" and classes:
            defaults = [g for g in classes if g.default]
            if defaults:
                classes = defaults
            elif len({g.cls for g in classes}) > 1:
                return None, True
        if not classes:
            return None, False
        wanted = alnum(re.sub(r"(WithBody)?WithResponse$", "", u.name) if lang == "go" else u.name)
        for suffix in ("", "execute", "async", "withhttpinfo", "withhttpinfoasync"):
            hits = [g for g in classes if alnum(g.name) == wanted + suffix]
            if len({(g.method, g.path_tmpl) for g in hits}) == 1:
                return hits[0], True
        return None, True

    def server_op(self, u: Usage) -> _Gen | None:
        """The generated server-interface method a handler implements (oapi-codegen `ServerInterface`):
        the interface in the handler's package, or in a package the handler's file imports, and the
        handler's type implementing at least two of its methods (all, for a one-method interface)."""
        implements = [str(i) for i in u.attrs.get("implements") or []]
        if implements:  # Java/TS: a class implementing a generated `*Api` interface, method by method
            hits = [g for g in self.gen_client.get(u.repo, []) if g.cls in implements and g.name == u.name]
            return hits[0] if len({(g.method, g.path_tmpl) for g in hits}) == 1 else None
        d = _dir(u.path)
        dirs = [(u.repo, d)] if (u.repo, d) in self.gen_server else []
        if not dirs:
            imports = [str(i) for i in u.attrs.get("imports") or []]
            dirs = [(r, gd) for (r, gd) in self.gen_server if r == u.repo and gd and
                    any(i == gd or i.endswith("/" + gd) for i in imports)]
        for key in dirs:
            iface = self.gen_server[key]
            g = iface.get(u.name)
            if g is None:
                continue
            names = self.handlers.get((u.repo, d, u.qualifier), set())
            if len(names & set(iface)) >= min(2, len(iface)):
                return g
        return None

    def instance(self, u: Usage) -> Usage | None:
        """The HTTP client instance a call's imported name is: the one module of the call's repository that
        exports an instance under the imported symbol, found by the import's path (`./index`, `../api`
        naming a folder's index; `@/api/index` for the source root: the one such module under a `src`)."""
        module, symbol = str(u.attrs.get("module", "")), str(u.attrs.get("symbol", ""))
        found = []
        for inst in self.instances.get((u.repo, symbol), []):
            stem = _noext(inst.path)
            names = {stem, stem[: -len("/index")]} if stem.endswith("/index") else {stem}
            if module.startswith(("@/", "~/")):
                ok = any(n == "src/" + module[2:] or n.endswith("/src/" + module[2:]) for n in names)
            else:
                ok = module in names
            if ok:
                found.append(inst)
        return found[0] if len(found) == 1 else None

    def helper(self, u: Usage) -> Usage | None:
        """The helper definition a call goes through: same method name and URL argument position, and a
        receiver named after the helper's class or interface (`_requestProvider` -> `IRequestProvider`),
        or a call in the helper's own file."""
        recv = alnum(u.qualifier.rsplit(".", 1)[-1])
        arg = u.attrs.get("arg", 0)
        found = []
        for h in self.helpers.get(u.name, []):
            if h.attrs.get("param", 0) != arg:
                continue
            names = {alnum(h.qualifier)} | {alnum(re.sub(r"^I(?=[A-Z])", "", b)) for b in h.attrs.get("bases") or []}
            names |= {alnum(b) for b in h.attrs.get("bases") or []}
            same_file = h.repo == u.repo and h.path == u.path and recv in ("", "this", "self")
            module_function = not recv and not h.qualifier and h.repo == u.repo  # an imported helper function
            if same_file or module_function or (recv and recv in names):
                found.append(h)
        methods = {str(h.attrs.get("method", "")) for h in found}
        return found[0] if len(methods) == 1 else None

    def config(self, cls: str, namespace: str) -> tuple[list[str], str]:
        """(api versions, base address) a typed client class is registered with, when its registrations agree;
        a registration counts when the class's namespace is visible where it registers (C# usings)."""
        regs = self.configs.get(cls, [])
        if namespace:
            regs = [r for r in regs if namespace in (r.attrs.get("namespaces") or [])]
        versions = {tuple(r.attrs.get("api_version") or ()) for r in regs}
        bases = {str(r.attrs.get("base") or "") for r in regs}
        return (list(versions.pop()) if len(versions) == 1 else []), (bases.pop() if len(bases) == 1 else "")

    def prefixes(self, u: Usage) -> list[str]:
        stem = _noext(u.path)
        found = self.mounts.get((u.repo, stem), []) + (self.mounts.get((u.repo, _dir(u.path)), [])
                                                        if stem.endswith("/index") or stem.endswith("/__init__") else [])
        return found


