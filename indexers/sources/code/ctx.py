"""The per-file context every usage pass shares: the file, its facts, where usages are collected, and
the simple dataflow the passes read — names assigned or declared with a type, import evidence, and
`Bindings` of receivers (a client or message bound to a variable, field or attribute).
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import FileError, Span, Usage
from indexers.positions import SourceFile
from indexers.sources.code.facts import Facts, callee_of, family


class Ctx:
    def __init__(self, src: SourceFile, lang: str, facts: Facts):
        self.src = src
        self.lang = lang
        self.family = family(lang)
        self.f = facts
        self.usages: list[Usage] = []
        self.errors: list[FileError] = []
        self.imports: dict[str, dict[str, Any]] = {i["alias"]: i for i in facts.imports if i["alias"]}
        self.assigned: dict[str, list[Any]] = {}
        for k, _left, right in facts.assigns:
            self.assigned.setdefault(k, []).append(right)
        self.types: dict[str, list[str]] = {}
        for k, t, _n in facts.typed:
            self.types.setdefault(k, []).append(t)
        self._callees: dict[int, tuple[str, Any]] = {}
        self.memo: dict[tuple[Any, ...], Any] = {}  # per-file answers of pure helpers, keyed by helper

    def callee_of(self, node: Any) -> tuple[str, Any]:
        """`callee_of(node)`, computed once per node (assigned values are asked about by several passes)."""
        if node is None:
            return "", None
        got = self._callees.get(node.id)
        if got is None:
            got = self._callees[node.id] = callee_of(node)
        return got

    def emit(self, kind: str, node: Any, name: str, qualifier: str = "", role: str = "", **attrs: Any) -> None:
        self.usages.append(Usage(self.src.repo, self.src.path, self.src.node_span(node), kind, name, qualifier,
                                 role, self.lang, {k: v for k, v in attrs.items() if v is not None}))

    def emit_at(self, kind: str, span: Span, name: str, qualifier: str = "", role: str = "", **attrs: Any) -> None:
        self.usages.append(Usage(self.src.repo, self.src.path, span, kind, name, qualifier, role, self.lang, attrs))

    def enclosing(self, node: Any, types: tuple[str, ...]) -> Any:
        p = node.parent
        while p is not None and p.type not in types:
            p = p.parent
        return p


# ------------------------------------------------------------------------------------------------------
# Import evidence

_STDLIB_JAVA = ("java.", "javax.", "io.grpc.", "org.springframework.", "com.google.protobuf.", "lombok.", "Grpc.",
                "Google.Protobuf")


_GO_STD = frozenset("archive bufio builtin bytes cmp compress container context crypto database debug embed encoding "
                    "errors expvar flag fmt go hash html image index io iter log maps math mime net os path plugin "
                    "reflect regexp runtime slices sort strconv strings sync syscall testing text time unicode "
                    "unique unsafe weak".split())


def go_external(path: str) -> bool:
    """Not the standard library (module-local paths such as `frontend/genproto` count as external)."""
    first = path.split("/", 1)[0]
    return "." in first or first not in _GO_STD


def evidence(ctx: Ctx, alias: str = "") -> list[str]:
    """Import evidence of a name: the import it came through, or (Java/C#) the file's non-library imports."""
    imp = ctx.imports.get(alias) if alias else None
    if imp is not None:
        return [imp["path"]]
    if ctx.family in ("java", "csharp"):
        return sorted({i["path"] for i in ctx.f.imports if not i["path"].startswith(_STDLIB_JAVA + ("System",
                                                                                                 "Microsoft."))})
    return []


def pb_module(ctx: Ctx, alias: str, suffix_re: str) -> list[str] | None:
    """Python: evidence if `alias` is a module import whose path ends like a generated module."""
    imp = ctx.imports.get(alias)
    if imp is not None and re.search(suffix_re, imp["path"]):
        return [imp["path"]]
    return None


def pb_symbol(ctx: Ctx, name: str, suffix_re: str) -> list[str] | None:
    """A name imported from a generated module (Python `from x_pb2 import Y`, JS `import {Y} from './x_pb'`)."""
    imp = ctx.imports.get(name)
    if imp is not None and imp.get("name") and re.search(suffix_re, imp.get("module", "")):
        return [imp["module"]]
    return None


# ------------------------------------------------------------------------------------------------------
# Receivers bound to clients and messages

_FUNCS = {"function_declaration", "method_declaration", "func_literal", "function_definition", "lambda",
          "method_definition", "arrow_function", "function_expression", "function", "constructor_declaration",
          "local_function_statement", "lambda_expression", "generator_function_declaration"}
Binding = tuple[str, tuple[str, ...]]  # (service or message name, import evidence)
UNKNOWN: Binding = ("?", ())  # also assigned something untyped: makes the name ambiguous where it is bound


class Bindings:
    """Names bound to a client or message within a file. A plain variable is bound in its function (so
    `req` may be a different type in each handler); a field or attribute (`self.stub`, `s.client`,
    `this.client`) or a declared field is bound file-wide. A name bound two ways where it is used is
    ambiguous and resolves to nothing."""

    def __init__(self) -> None:
        self.by: dict[tuple[str, int], set[Binding]] = {}
        self.keys: set[str] = set()
        self.lefts: set[int] = set()  # ids of the assigned nodes that bound something
        self._fn: dict[int, Any] = {}  # node id -> the innermost function enclosing it (None: file level)

    def function_of(self, node: Any) -> Any:
        """The innermost function enclosing `node` (strictly), or None; remembered for every node passed
        on the way, so the nodes of one function cost one walk."""
        passed = []
        p = node.parent if node is not None else None
        found = None
        while p is not None:
            if p.id in self._fn:
                found = self._fn[p.id]
                break
            if p.type in _FUNCS:
                found = p
                break
            passed.append(p.id)
            p = p.parent
        for i in passed:
            self._fn[i] = found
        return found

    def add(self, key: str, left: Any, value: Binding, typed: Any = None) -> None:
        if key == "_":  # Go's blank identifier, Python's throwaway name: holds nothing
            return
        if left is not None:
            self.lefts.add(left.id)
        local = typed is not None or (left is not None and left.type == "identifier")
        fn = self.function_of(typed if typed is not None else left) if local else None
        self.by.setdefault((key, fn.id if fn is not None else 0), set()).add(value)
        self.keys.add(key)

    def get(self, key: str, at: Any, member: bool) -> Binding | None:
        if key not in self.keys:
            return None
        if member:  # this.x / self.x / s.x: any binding of x in the file
            found = set().union(*[v for (k, _s), v in self.by.items() if k == key])
        else:  # the binding of the innermost enclosing function that has one, else the file-level one
            fn = self.function_of(at)
            while fn is not None and (key, fn.id) not in self.by:
                fn = self.function_of(fn)
            found = self.by.get((key, fn.id if fn is not None else 0), set())
        got = next(iter(found)) if len(found) == 1 else None
        return got if got != UNKNOWN else None

    def copy(self) -> Bindings:
        out = Bindings()
        out.by = {k: set(v) for k, v in self.by.items()}
        out.keys, out.lefts, out._fn = set(self.keys), set(self.lefts), self._fn
        return out
