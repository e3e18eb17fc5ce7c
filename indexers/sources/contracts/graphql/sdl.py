"""GraphQL SDL extractor: types, fields, arguments, enum values and root operation types.

Two paths build the same entities (tests compare them on every fixture): a tree-sitter walk for files that
parse without error (the common case, several times faster), and graphql-core for the rest, which gives
exact syntax errors. graphql-core reports code-point offsets, converted to UTF-16 spans via `SourceFile`.
Executable documents (queries, fragments) are not contracts and yield nothing, not even errors.

This module holds the extractor and the tree-sitter path; the graphql-core path, with its per-block
recovery after a syntax error, is `graphql_core_path`.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.model import Entity, FileError, Partial
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, suffix
from indexers.sources.contracts.graphql.names import DEFAULT_REASON, ROOTS
from indexers.sources.gcpause import paused_gc
from indexers.sources.spans import PointSpans

__all__ = ["EXTRACTORS", "MAX_BYTES", "GraphQLExtractor", "_core_entities", "_ts_entities"]

MAX_BYTES = 16 * 1024 * 1024


def _apply_schema_roots(entities: list[Entity]) -> list[Entity]:
    """With a schema block, the root attrs follow it instead of the default names."""
    roots = dict(ROOTS)
    schemas = [e for e in entities if e.kind == "graphql.schema"]
    if any(not e.attrs.get("extension") for e in schemas):
        roots = {}
    for e in sorted(schemas, key=lambda e: bool(e.attrs.get("extension"))):
        roots.update({v: k for k, v in e.attrs.items() if k in ("query", "mutation", "subscription")})
    if not schemas:
        return entities
    out = []
    for e in entities:
        if e.kind == "graphql.type" and ("root" in e.attrs or e.name in roots):  # others stay as they are
            attrs = {k: v for k, v in e.attrs.items() if k != "root"}
            if e.name in roots:
                attrs["root"] = roots[e.name]
            e = Entity(e.id, e.kind, e.name, e.repo, e.path, e.range, attrs, e.parent, e.extent)
        out.append(e)
    return out


# -- the fast path: tree-sitter, for files that parse without error --------------------------------------
# graphql-core is exact but pure Python (~0.3 MB/s); tree-sitter parses an error-free file ~20x faster.
# Both paths build the same entities (tests compare them); only error-free trees take this one, so
# syntax errors are always reported by graphql-core.

_TS_KINDS = {f"{kind}_type_{form}": (label, form == "extension")
             for kind, label in (("object", "object"), ("interface", "interface"), ("input_object", "input"),
                                 ("enum", "enum"), ("union", "union"), ("scalar", "scalar"))
             for form in ("definition", "extension")}
_TS_WRAPPERS = {"definition", "type_system_definition", "type_system_extension", "type_definition", "type_extension"}


def _kid(node: Any, kind: str) -> Any:
    return _kids(node).get(kind)


def _kids(node: Any) -> dict[str, Any]:
    """The first named child of each type."""
    out: dict[str, Any] = {}
    for c in node.named_children:
        out.setdefault(c.type, c)
    return out


_LINE_BREAK = re.compile(r"\r\n|[\n\r]")


def _ts_string(node: Any) -> str:
    """The value of a string_value node, as graphql-core's lexer computes it."""
    from graphql import parse_value  # graphql-core is imported by the documents that need it
    from graphql.language.block_string import dedent_block_string_lines

    raw = ts.text(node)
    if raw.startswith('"""'):
        lines = _LINE_BREAK.split(raw[3:-3].replace('\\"""', '"""'))
        return "\n".join(dedent_block_string_lines(lines))
    if "\\" not in raw:
        return raw[1:-1]
    return str(parse_value(raw).value)  # type: ignore[attr-defined]


def _ts_type_text(node: Any) -> str:
    # type, non_null_type and list_type wrap one named child; named_type holds its name.
    kind = node.type
    if kind == "type":
        return _ts_type_text(node.named_child(0))
    if kind == "non_null_type":
        return _ts_type_text(node.named_child(0)) + "!"
    if kind == "list_type":
        return "[" + _ts_type_text(node.named_child(0)) + "]"
    return ts.text(node.named_child(0))


# A type written without spaces or comments, nested at most 100 lists deep (deeper ones take the recursive
# walk, whose RecursionError sends the file to graphql-core, which reports it).
_COMPACT_TYPE = re.compile(r"\[{0,100}[_A-Za-z0-9]+[\]!]*")
_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[_A-Za-z][_0-9A-Za-z]*")


def _ts_type_info(node: Any) -> dict[str, Any]:
    raw = ts.text(node)
    if _COMPACT_TYPE.fullmatch(raw):  # the text is the type (the tree has no errors): no walk needed
        return {"type": raw, "nullable": not raw.endswith("!"), "list": raw.rstrip("!").startswith("["),
                "base": raw.strip("[]!")}
    inner = node.named_child(0)
    nullable = inner.type != "non_null_type"
    if not nullable:
        inner = inner.named_child(0)
    base = node
    while base.type != "named_type":
        base = base.named_child(0)
    return {"type": _ts_type_text(node), "nullable": nullable, "list": inner.type == "list_type",
            "base": ts.text(base.named_child(0))}


def _ts_named_types(node: Any) -> list[str]:
    """Names of every named_type under `node`, in source order (implements / union members nest)."""
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "named_type":
            out.append(ts.text(n.named_child(0)))
            continue
        stack.extend(reversed(n.named_children))
    return out


class _TsBuilder:
    def __init__(self, src: SourceFile):
        self.src = src
        self.spans = PointSpans(src)
        self.defaults: dict[str, str | None] = {}  # default value text -> as printed (often repeated)
        self.entities: list[Entity] = []

    def add(self, ident: str, kind: str, name: Any, whole: Any, kids: dict[str, Any], attrs: dict[str, Any],
            parent: str | None = None) -> None:
        desc = kids.get("description")
        if desc is not None:
            attrs["description"] = _ts_string(desc.named_child(0))
        self.entities.append(Entity(ident, kind, ts.text(name), self.src.repo, self.src.path,
                                    self.spans.node(name), attrs, parent, self.spans.node(whole)))

    def directives(self, kids: dict[str, Any], attrs: dict[str, Any], deprecation: bool) -> None:
        names: list[str] = []
        found: dict[str, Any] = {"deprecated": False}
        dirs = kids.get("directives")
        for d in dirs.named_children if dirs is not None else ():
            name = ts.text(d.named_child(0))
            if name != "deprecated":
                names.append(name)
                continue
            if not found["deprecated"]:
                found = {"deprecated": True, "deprecation_reason": DEFAULT_REASON}
                args = _kid(d, "arguments")
                for arg in args.named_children if args is not None else ():
                    value = _kid(arg, "value")
                    if ts.text(_kid(arg, "name")) == "reason" and value is not None:
                        if value.named_children and value.named_children[0].type == "string_value":
                            found["deprecation_reason"] = _ts_string(value.named_children[0])
        if deprecation:
            attrs.update(found)
        if names:
            attrs["directives"] = names

    def definition(self, node: Any) -> None:
        while node.type in _TS_WRAPPERS and node.named_children:
            node = node.named_children[0]
        if node.type in ("schema_definition", "schema_extension"):
            attrs: dict[str, Any] = {}
            for op in node.named_children:
                if op.type == "root_operation_type_definition":
                    attrs[ts.text(op.named_child(0))] = ts.text(op.named_child(1).named_child(0))
            if node.type == "schema_extension":
                attrs["extension"] = True
            keyword = next((c for c in node.children if c.type == "schema"), node)
            self.entities.append(Entity("graphql:schema", "graphql.schema", "schema", self.src.repo, self.src.path,
                                        self.spans.node(keyword), attrs, None, self.spans.node(node)))
            return
        if node.type not in _TS_KINDS:
            return
        kind, ext = _TS_KINDS[node.type]
        kids = _kids(node)
        name = kids["name"]
        tname = ts.text(name)
        tid = f"graphql:{tname}"
        attrs = {"kind": kind}
        if ext:
            attrs["extension"] = True
        if tname in ROOTS:
            attrs["root"] = ROOTS[tname]
        impl = kids.get("implements_interfaces")
        if impl is not None:
            attrs["interfaces"] = _ts_named_types(impl)
        if kind == "union":
            members = kids.get("union_member_types")
            attrs["members"] = _ts_named_types(members) if members is not None else []
        self.directives(kids, attrs, False)
        self.add(tid, "graphql.type", name, node, kids, attrs)
        for group in ("fields_definition", "input_fields_definition"):
            fields = kids.get(group)
            for f in fields.named_children if fields is not None else ():
                if f.type in ("field_definition", "input_value_definition"):
                    self.field(tid, tname, f, ext)
        values = kids.get("enum_values_definition")
        for v in values.named_children if values is not None else ():
            if v.type == "enum_value_definition":
                vkids = _kids(v)
                vattrs: dict[str, Any] = {}
                self.directives(vkids, vattrs, True)
                vattrs.pop("directives", None)
                if ext:
                    vattrs["extension"] = True
                vname = vkids["enum_value"].named_child(0)
                self.add(f"{tid}.{ts.text(vname)}", "graphql.enum_value", vname, v, vkids, vattrs, tid)

    def field(self, tid: str, tname: str, f: Any, ext: bool) -> None:
        kids = _kids(f)
        attrs = _ts_type_info(kids["type"])
        self.directives(kids, attrs, True)
        if f.type == "input_value_definition":
            attrs["input"] = True
            attrs["default"] = self.default(kids)
        else:
            args = kids.get("arguments_definition")
            attrs["arguments"] = [self.argument(a) for a in (args.named_children if args is not None else ())
                                  if a.type == "input_value_definition"]
        if ext:
            attrs["extension"] = True
        name = kids["name"]
        self.add(f"graphql:{tname}.{ts.text(name)}", "graphql.field", name, f, kids, attrs, tid)

    def argument(self, a: Any) -> dict[str, Any]:
        kids = _kids(a)
        raw = ts.text(kids["type"])
        if _COMPACT_TYPE.fullmatch(raw):
            text, non_null = raw, raw.endswith("!")
        else:
            text, non_null = _ts_type_text(kids["type"]), kids["type"].named_child(0).type == "non_null_type"
        return {
            "name": ts.text(kids["name"]),
            "type": text,
            "required": non_null and "default_value" not in kids,
            "default": self.default(kids),
        }

    def default(self, kids: dict[str, Any]) -> str | None:
        dv = kids.get("default_value")
        if dv is None:
            return None
        raw = ts.text(dv.named_child(0))
        if _LITERAL.fullmatch(raw):  # an int, float, boolean, null or enum value prints as written
            return raw
        if raw not in self.defaults:
            from graphql import parse_value

            from indexers.sources.contracts.graphql.core_path import value_text

            self.defaults[raw] = value_text(parse_value(raw))
        return self.defaults[raw]


def _core_entities(src: SourceFile) -> tuple[list[Entity], list[FileError]]:
    """The document read by graphql-core (recovering from syntax errors), see `core_path`."""
    from indexers.sources.contracts.graphql.core_path import core_entities

    return core_entities(src)


def _ts_entities(src: SourceFile) -> list[Entity] | None:
    """Entities from tree-sitter, or None when the tree has errors (graphql-core then reports them)."""
    root = ts.parse("graphql", src.data).root_node
    if root.has_error:
        return None
    b = _TsBuilder(src)
    for doc in root.named_children:
        for d in doc.named_children:
            b.definition(d)
    return b.entities


class GraphQLExtractor(Extractor):
    name = "graphql"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".graphql", ".graphqls", ".gql")

    def extract(self, src: SourceFile) -> Partial:
        with paused_gc():
            return self._extract(src)

    def _extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"file too large ({len(src.data)} bytes)")],
                           language="graphql")
        try:
            fast = _ts_entities(src)
        except RecursionError:
            fast = None
        if fast is not None:
            return Partial(entities=_apply_schema_roots(fast), language="graphql")
        entities, errors = _core_entities(src)
        return Partial(entities=_apply_schema_roots(entities), errors=errors, language="graphql")


EXTRACTORS = [GraphQLExtractor()]
