"""The graphql-core path of the GraphQL extractor: exact syntax errors, and recovery that keeps what parses.

Files whose tree-sitter parse has errors come here. graphql-core reports code-point offsets, converted to
UTF-16 spans through one line table (`Offsets`). It aborts the whole parse at the first syntax error, so
on error the text is cut into top-level definition blocks (by brace depth outside strings and comments,
and at column-0 definition keywords) and each block is parsed on its own: what parses is kept, and each
broken block is reported with its line. It builds the same entities as the tree-sitter path in
`graphql.py` (tests compare the two on every fixture).
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError, parse, print_ast
from graphql.language import ast

from indexers.model import Entity, FileError, Span
from indexers.positions import SourceFile
from indexers.sources.contracts.graphql.names import DEFAULT_REASON, ROOTS
from indexers.sources.spans import OffsetSpans

MAX_TOKENS = 2_000_000
_SDL_START = re.compile(r"(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive)\b")
_COL0_START = re.compile(r'"""|(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive)\s+[_A-Za-z@{]')
_DEF_START = re.compile(r"(?:extend\s+)?(?:type|interface|input|enum|union|scalar|schema|directive"
                        r"|query|mutation|subscription|fragment)\b")


Offsets = OffsetSpans  # code-point offsets -> UTF-16 spans, with one line table for the whole file

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


def value_text(node: Any) -> str | None:
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
            reason = DEFAULT_REASON
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
        if name.value in ROOTS:
            attrs["root"] = ROOTS[name.value]
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
            attrs["default"] = value_text(f.default_value)
        else:
            attrs["arguments"] = [
                {
                    "name": a.name.value,
                    "type": _type_text(a.type),
                    "required": isinstance(a.type, ast.NonNullTypeNode) and a.default_value is None,
                    "default": value_text(a.default_value),
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


def core_entities(src: SourceFile) -> tuple[list[Entity], list[FileError]]:
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
