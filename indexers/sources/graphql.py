"""GraphQL SDL extractor: types, fields, arguments, enum values and root operation types.

Two paths build the same entities (tests compare them on every fixture): a tree-sitter walk for files that
parse without error (the common case, several times faster), and graphql-core for the rest, which gives
exact syntax errors. graphql-core reports code-point offsets, converted to UTF-16 spans via `SourceFile`.
Executable documents (queries, fragments) are not contracts and yield nothing, not even errors.

graphql-core aborts the whole parse at the first syntax error, so on error the text is cut into top-level
definition blocks (by brace depth outside strings and comments, and at column-0 definition keywords) and
each block is parsed on its own: what parses is kept, and each broken block is reported with its line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from graphql import GraphQLError, parse, parse_value, print_ast
from graphql.language import ast
from graphql.language.block_string import dedent_block_string_lines

from .. import ts
from ..model import Entity, FileError, Partial, Span
from ..positions import SourceFile
from .base import Extractor, suffix

MAX_BYTES = 16 * 1024 * 1024
MAX_TOKENS = 2_000_000
_ROOTS = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
_SDL_START = re.compile(r"(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive)\b")
_COL0_START = re.compile(r'"""|(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive)\s+[_A-Za-z@{]')
_DEF_START = re.compile(r"(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive"
                        r"|query|mutation|subscription|fragment)\b")
_DEFAULT_REASON = "No longer supported"


class Offsets:
    """Code-point offsets -> UTF-16 spans, with one line table for the whole file."""

    def __init__(self, src: SourceFile):
        self.src = src
        self.starts = [0]
        text = src.text
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def point(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]

    def span(self, start: int, end: int) -> Span:
        l0, c0 = self.point(start)
        l1, c1 = self.point(end)
        return self.src.span_from_chars(l0, c0, l1, c1)


_SCAN = re.compile(r'''"""(?:\\"""|[^"]|"(?!""))*(?:"""|\Z)|"(?:\\.|[^"\\\n])*"?|#[^\n]*|[{}()\[\]]|\n[ \t\r,]*(?=[^\s,])''')


def _blocks(text: str) -> list[tuple[int, int]]:
    """Top-level definition blocks as (start, end) offsets; a leading description joins its definition."""
    n = len(text)
    first = len(text) - len(text.lstrip(" \t\r\n,"))
    bounds: list[int] = [first] if first < n else []
    depth = 0
    for m in _SCAN.finditer(text):
        c = m.group()[0]
        if c == "\n":
            i = m.end()
            if depth == 0 or (text[i - 1] == "\n" and _COL0_START.match(text, i)):
                depth = 0  # a definition at column 0 ends whatever an unbalanced bracket left open
                bounds.append(i)
        elif c in "{([":
            depth += 1
        elif c in "})]":
            depth = max(0, depth - 1)
    # Keep only boundaries that start a definition (or a description); merge descriptions forward.
    starts = [b for b in bounds if text[b] in '"{' or _DEF_START.match(text, b)]
    merged: list[int] = []
    open_description = False  # the last block so far is a description still waiting for its definition
    for b in starts:
        if open_description:
            open_description = text[b] == '"'
            continue
        merged.append(b)
        open_description = text[b] == '"'
    if not merged:
        return [(0, n)] if text.strip() else []
    merged[0] = 0  # whatever precedes the first definition is parsed (and reported) with it
    return [(b, merged[k + 1] if k + 1 < len(merged) else n) for k, b in enumerate(merged)]


def _type_text(node: Any) -> str:
    if isinstance(node, ast.NonNullTypeNode):
        return _type_text(node.type) + "!"
    if isinstance(node, ast.ListTypeNode):
        return "[" + _type_text(node.type) + "]"
    return str(node.name.value)


def _value_text(node: Any) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.IntValueNode | ast.FloatValueNode | ast.EnumValueNode):
        return str(node.value)
    if isinstance(node, ast.BooleanValueNode):
        return "true" if node.value else "false"
    if isinstance(node, ast.NullValueNode):
        return "null"
    return str(print_ast(node))


def _type_info(node: ast.TypeNode) -> dict[str, Any]:
    inner: ast.TypeNode = node
    nullable = not isinstance(node, ast.NonNullTypeNode)
    if isinstance(inner, ast.NonNullTypeNode):
        inner = inner.type
    is_list = isinstance(inner, ast.ListTypeNode)
    base: ast.TypeNode = node
    while not isinstance(base, ast.NamedTypeNode):
        base = base.type  # type: ignore[attr-defined]
    return {"type": _type_text(node), "nullable": nullable, "list": is_list, "base": base.name.value}


def _deprecation(directives: Any) -> dict[str, Any]:
    for d in directives or ():
        if d.name.value == "deprecated":
            reason = _DEFAULT_REASON
            for arg in d.arguments or ():
                if arg.name.value == "reason" and isinstance(arg.value, ast.StringValueNode):
                    reason = arg.value.value
            return {"deprecated": True, "deprecation_reason": reason}
    return {"deprecated": False}


def _directive_names(directives: Any) -> list[str]:
    return [d.name.value for d in directives or () if d.name.value != "deprecated"]


class _Builder:
    def __init__(self, src: SourceFile, offsets: Offsets, base: int):
        self.src = src
        self.off = offsets
        self.base = base  # offset of the parsed block in the file
        self.entities: list[Entity] = []

    def span(self, node: ast.Node) -> Span:
        loc = node.loc
        assert loc is not None
        return self.off.span(self.base + loc.start, self.base + loc.end)

    def add(self, ident: str, kind: str, name_node: ast.NameNode, whole: ast.Node, attrs: dict[str, Any],
            parent: str | None = None, description: Any = None) -> None:
        if description is not None:
            attrs["description"] = description.value
        self.entities.append(Entity(ident, kind, name_node.value, self.src.repo, self.src.path,
                                    self.span(name_node), attrs, parent, self.span(whole)))

    def definition(self, node: ast.Node) -> None:
        ext = isinstance(node, ast.TypeExtensionNode | ast.SchemaExtensionNode)
        if isinstance(node, ast.SchemaDefinitionNode | ast.SchemaExtensionNode):
            self.schema(node, ext)
            return
        kind = _KINDS.get(type(node))
        if kind is None:
            return  # executable definitions, directive definitions
        name = node.name  # type: ignore[attr-defined]
        tid = f"graphql:{name.value}"
        attrs: dict[str, Any] = {"kind": kind}
        if ext:
            attrs["extension"] = True
        if name.value in _ROOTS:
            attrs["root"] = _ROOTS[name.value]
        if getattr(node, "interfaces", None):
            attrs["interfaces"] = [i.name.value for i in node.interfaces]  # type: ignore[attr-defined]
        if kind == "union":
            attrs["members"] = [t.name.value for t in node.types or ()]  # type: ignore[attr-defined]
        dirs = _directive_names(getattr(node, "directives", None))
        if dirs:
            attrs["directives"] = dirs
        self.add(tid, "graphql.type", name, node, attrs, None, getattr(node, "description", None))
        for f in getattr(node, "fields", None) or ():
            self.field(tid, name.value, f, ext)
        for v in getattr(node, "values", None) or ():
            vattrs = _deprecation(v.directives)
            if ext:
                vattrs["extension"] = True
            self.add(f"{tid}.{v.name.value}", "graphql.enum_value", v.name, v, vattrs, tid, v.description)

    def field(self, tid: str, type_name: str, f: Any, ext: bool) -> None:
        attrs = _type_info(f.type)
        attrs.update(_deprecation(f.directives))
        if isinstance(f, ast.InputValueDefinitionNode):
            attrs["input"] = True
            attrs["default"] = _value_text(f.default_value)
        else:
            attrs["arguments"] = [
                {
                    "name": a.name.value,
                    "type": _type_text(a.type),
                    "required": isinstance(a.type, ast.NonNullTypeNode) and a.default_value is None,
                    "default": _value_text(a.default_value),
                }
                for a in f.arguments or ()
            ]
        dirs = _directive_names(f.directives)
        if dirs:
            attrs["directives"] = dirs
        if ext:
            attrs["extension"] = True
        self.add(f"graphql:{type_name}.{f.name.value}", "graphql.field", f.name, f, attrs, tid, f.description)

    def schema(self, node: Any, ext: bool) -> None:
        attrs: dict[str, Any] = {}
        for op in node.operation_types or ():
            attrs[op.operation.value] = op.type.name.value
        if ext:
            attrs["extension"] = True
        loc = node.loc
        assert loc is not None
        keyword = loc.start_token
        while keyword is not None and keyword.value != "schema":
            keyword = keyword.next
        start = self.base + (keyword.start if keyword is not None else loc.start)
        rng = self.off.span(start, start + len("schema"))
        self.entities.append(Entity("graphql:schema", "graphql.schema", "schema", self.src.repo, self.src.path,
                                    rng, attrs, None, self.span(node)))


_KINDS: dict[type, str] = {
    ast.ObjectTypeDefinitionNode: "object", ast.ObjectTypeExtensionNode: "object",
    ast.InterfaceTypeDefinitionNode: "interface", ast.InterfaceTypeExtensionNode: "interface",
    ast.InputObjectTypeDefinitionNode: "input", ast.InputObjectTypeExtensionNode: "input",
    ast.EnumTypeDefinitionNode: "enum", ast.EnumTypeExtensionNode: "enum",
    ast.UnionTypeDefinitionNode: "union", ast.UnionTypeExtensionNode: "union",
    ast.ScalarTypeDefinitionNode: "scalar", ast.ScalarTypeExtensionNode: "scalar",
}


def _parse(text: str) -> tuple[ast.DocumentNode | None, tuple[int, str] | None]:
    """(document, None) or (None, (0-based line in `text`, reason))."""
    try:
        return parse(text, max_tokens=MAX_TOKENS), None
    except GraphQLError as exc:
        line = exc.locations[0].line - 1 if exc.locations else 0
        return None, (line, exc.message)
    except RecursionError:
        return None, (0, "nesting too deep")


def _apply_schema_roots(entities: list[Entity]) -> list[Entity]:
    """With a schema block, the root attrs follow it instead of the default names."""
    roots = dict(_ROOTS)
    schemas = [e for e in entities if e.kind == "graphql.schema"]
    if any(not e.attrs.get("extension") for e in schemas):
        roots = {}
    for e in sorted(schemas, key=lambda e: bool(e.attrs.get("extension"))):
        roots.update({v: k for k, v in e.attrs.items() if k in ("query", "mutation", "subscription")})
    if not schemas:
        return entities
    out = []
    for e in entities:
        if e.kind == "graphql.type":
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


def _ts_type_info(node: Any) -> dict[str, Any]:
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
        self.entities: list[Entity] = []

    def add(self, ident: str, kind: str, name: Any, whole: Any, kids: dict[str, Any], attrs: dict[str, Any],
            parent: str | None = None) -> None:
        desc = kids.get("description")
        if desc is not None:
            attrs["description"] = _ts_string(desc.named_child(0))
        self.entities.append(Entity(ident, kind, ts.text(name), self.src.repo, self.src.path,
                                    self.src.node_span(name), attrs, parent, self.src.node_span(whole)))

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
                found = {"deprecated": True, "deprecation_reason": _DEFAULT_REASON}
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
                                        self.src.node_span(keyword), attrs, None, self.src.node_span(node)))
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
        if tname in _ROOTS:
            attrs["root"] = _ROOTS[tname]
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
        return {
            "name": ts.text(kids["name"]),
            "type": _ts_type_text(kids["type"]),
            "required": kids["type"].named_child(0).type == "non_null_type" and "default_value" not in kids,
            "default": self.default(kids),
        }

    def default(self, kids: dict[str, Any]) -> str | None:
        dv = kids.get("default_value")
        return _value_text(parse_value(ts.text(dv.named_child(0)))) if dv is not None else None


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


def _core_entities(src: SourceFile) -> tuple[list[Entity], list[FileError]]:
    """graphql-core: exact syntax errors, and per-block recovery so that what parses is kept."""
    text = src.text
    offsets = Offsets(src)
    doc, err = _parse(text)
    errors: list[FileError] = []
    entities: list[Entity] = []
    if doc is not None:
        b = _Builder(src, offsets, 0)
        try:
            for d in doc.definitions:
                b.definition(d)
        except RecursionError:
            errors.append(FileError(src.repo, src.path, "GraphQL: types nested too deeply"))
        return b.entities, errors
    looks_sdl = False
    for start, end in _blocks(text):
        looks_sdl = looks_sdl or bool(_SDL_START.match(text, start)) or text[start] == '"'
        part, perr = _parse(text[start:end])
        base_line = offsets.point(start)[0]
        if part is None:
            assert perr is not None
            errors.append(FileError(src.repo, src.path, f"GraphQL syntax error: {perr[1]}", base_line + perr[0]))
            continue
        b = _Builder(src, offsets, start)
        try:
            for d in part.definitions:
                b.definition(d)
        except RecursionError:
            errors.append(FileError(src.repo, src.path, "GraphQL: types nested too deeply", base_line))
        entities.extend(b.entities)
    if not errors and err is not None:
        errors.append(FileError(src.repo, src.path, f"GraphQL syntax error: {err[1]}", err[0]))
    if not looks_sdl and not entities:
        errors = []  # a broken query document is not a contract
    return entities, errors


EXTRACTORS = [GraphQLExtractor()]
