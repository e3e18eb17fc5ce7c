"""One query run over a source file for the operational passes: calls (in source order), decorated
functions, annotated methods and classes, string constants and imports (`queries/<family>-ops.scm`).

Also the small readers those passes share: string literal values, callee text, argument lists, keyword
arguments and object/struct fields. Kept apart from the contract-usage family's equivalents on purpose:
the source families are independent of each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import QueryCursor

from indexers import ts
from indexers.model import Span, Usage
from indexers.positions import SourceFile

MAX_MATCHES = 100_000
MAX_USAGES = 2_000
LANGS = {".go": "go", ".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
         ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
         ".java": "java", ".cs": "csharp"}
FAMILY = {"typescript": "javascript", "tsx": "javascript"}

_CONTENT = {"string_content", "string_fragment", "interpreted_string_literal_content", "string_literal_content",
            "raw_string_literal_content", "raw_string_content", "verbatim_string_literal_content",
            "multiline_string_fragment"}
_DYNAMIC = {"interpolation", "template_substitution", "string_literal_interpolation"}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "`": "`", "/": "/"}


def family(lang: str) -> str:
    return FAMILY.get(lang, lang)


def node_text(node: Any) -> str:
    raw = node.text if node is not None else None
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def flat(node: Any) -> str:
    return "".join(node_text(node).split())


def string_value(node: Any) -> str | None:
    """The value of a string literal without interpolation, else None."""
    if node is None or not any(k in node.type for k in ("string", "template")):
        return None
    parts: list[str] = []
    saw = False
    for child in node.named_children:
        if child.type in _CONTENT:
            parts.append(node_text(child))
            saw = True
        elif child.type in _DYNAMIC:
            return None
        elif child.type == "escape_sequence":
            raw = node_text(child)
            parts.append(_ESCAPES.get(raw[1:2], raw[1:]) if len(raw) == 2 else raw)
            saw = True
    if saw:
        return "".join(parts)
    raw = node_text(node)
    if raw[:1] in "fF" and "{" in raw:
        return None
    m = re.fullmatch(r'(?s)[@rbuRBU]*("""|\'\'\'|"|\'|`)(.*)\1', raw)
    return m.group(2) if m else None


def args_of(args_node: Any) -> list[Any]:
    """The argument expressions of an argument list (named arguments kept as their nodes)."""
    if args_node is None:
        return []
    out = []
    for child in args_node.named_children:
        if child.type in ("comment", "line_comment", "block_comment"):
            continue
        if child.type == "argument" and child.named_child_count and child.child_by_field_name("name") is None:
            child = child.named_children[-1]
        out.append(child)
    return out


def keyword(args: list[Any], name: str) -> Any:
    """The value of a named argument (`name=value` in Python, `name: value` in C#)."""
    for a in args:
        if a.type in ("keyword_argument", "argument") and node_text(a.child_by_field_name("name")) == name:
            value = a.child_by_field_name("value")
            return value if value is not None else (a.named_children[-1] if a.named_child_count else None)
    return None


def positional(args: list[Any]) -> list[Any]:
    return [a for a in args if a.type not in ("keyword_argument", "list_splat", "dictionary_splat")
            and not (a.type == "argument" and a.child_by_field_name("name") is not None)]


def fields(node: Any) -> dict[str, Any]:
    """Keys to value nodes of an object literal (JS), a Go composite literal's keyed elements, or a C#
    object initializer."""
    out: dict[str, Any] = {}
    if node is None:
        return out
    body = node.child_by_field_name("body") if node.type == "composite_literal" else node
    for child in (body.named_children if body is not None else []):
        if child.type == "pair":  # JS
            key = child.child_by_field_name("key")
            k = string_value(key) if key is not None and "string" in key.type else node_text(key)
            if k is not None:
                out[k] = child.child_by_field_name("value")
        elif child.type == "keyed_element":  # Go
            kids = child.named_children
            if len(kids) == 2:
                out[flat(kids[0])] = kids[1].named_children[0] if kids[1].type == "literal_element" and kids[1].named_child_count else kids[1]
        elif child.type == "assignment_expression":  # C# initializer
            out[flat(child.child_by_field_name("left"))] = child.child_by_field_name("right")
        elif child.type == "shorthand_property_identifier":
            out[node_text(child)] = child
    return out


def strings_in(node: Any, limit: int = 50) -> list[str] | None:
    """The string literals of a list/array/slice literal (`["a", "b"]`, `[]string{"a"}`, `new[] {"a"}`),
    None when it is not such a literal or holds anything else."""
    if node is None:
        return None
    if node.type == "composite_literal":
        node = node.child_by_field_name("body")
    elif node.type in ("implicit_array_creation_expression", "array_creation_expression"):
        node = next((c for c in node.named_children if c.type == "initializer_expression"), None)
    if node is None or node.type not in ("list", "array", "literal_value", "initializer_expression", "tuple",
                                         "array_initializer", "collection_expression"):
        return None
    out = []
    for child in node.named_children[:limit]:
        if child.type == "literal_element" and child.named_child_count:
            child = child.named_children[0]
        if child.type == "comment":
            continue
        s = string_value(child)
        if s is None:
            return None
        out.append(s)
    return out


@dataclass
class Call:
    node: Any
    callee: str  # text without whitespace, generic arguments dropped (`meter.CreateCounter`)
    name: str  # the last segment
    recv: str  # everything before it
    args: list[Any]
    name_node: Any


@dataclass
class OpsFacts:
    src: SourceFile
    lang: str
    calls: list[Call] = field(default_factory=list)
    decorated: list[Any] = field(default_factory=list)
    methods: list[Any] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)
    fields: list[tuple[str, str, Any]] = field(default_factory=list)  # class name, attribute, value node
    consts: dict[str, str] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> imported name (python)
    usages: list[Usage] = field(default_factory=list)

    @property
    def family(self) -> str:
        return family(self.lang)

    def span(self, node: Any) -> Span:
        return self.src.node_span(node)

    def value(self, node: Any) -> str | None:
        """A string literal's value, or a string constant's when the node names one."""
        s = string_value(node)
        if s is not None:
            return s
        if node is not None and node.type in ("identifier", "field_access", "member_access_expression",
                                              "selector_expression", "attribute", "member_expression"):
            key = flat(node).rsplit(".", 1)[-1]
            return self.consts.get(key)
        return None

    def emit(self, kind: str, node: Any, name: str, role: str = "", qualifier: str = "", **attrs: Any) -> None:
        if len(self.usages) < MAX_USAGES:
            self.usages.append(Usage(self.src.repo, self.src.path, self.span(node), kind, name, qualifier, role,
                                     self.lang, attrs))

    def imported(self, *needles: str) -> bool:
        return any(n in imp for imp in self.imports for n in needles)


_GENERIC = re.compile(r"<[^<>()]*>")


def _callee(fn: Any) -> str:
    text = flat(fn).replace("?.", ".").replace("!.", ".")
    while "<" in text and _GENERIC.search(text):
        text = _GENERIC.sub("", text)
    return text


def collect(src: SourceFile, lang: str) -> OpsFacts:
    facts = OpsFacts(src, lang)
    tree = src.tree(lang)
    query = ts.query(lang, f"{family(lang)}-ops.scm")
    matches = QueryCursor(query).matches(tree.root_node)
    if len(matches) > MAX_MATCHES:
        raise OverflowError("too many syntax matches for the operational passes")
    calls: list[Call] = []
    for _pi, caps in matches:
        if "call" in caps:
            node = caps["call"][0]
            fn = caps.get("fn", [None])[0]
            if fn is None:  # java: object.name(args)
                obj = node.child_by_field_name("object")
                name_node = caps["name"][0]
                callee = (_callee(obj) + "." if obj is not None else "") + node_text(name_node)
            else:
                callee = _callee(fn)
                name_node = fn
                for fname in ("attribute", "property", "field", "name"):
                    child = fn.child_by_field_name(fname)
                    if child is not None:
                        name_node = child
                        break
            if node.type == "new_expression":
                callee = "new " + callee
            recv, _, name = callee.rpartition(".")
            calls.append(Call(node, callee, name.removeprefix("new "), recv.removeprefix("new "),
                              args_of(caps.get("args", [None])[0]), name_node))
        elif "decorated" in caps:
            facts.decorated.append(caps["decorated"][0])
        elif "method" in caps:
            facts.methods.append(caps["method"][0])
        elif "class" in caps:
            facts.classes.append(caps["class"][0])
        elif "field" in caps:
            facts.fields.append((node_text(caps["name"][0]), node_text(caps["left"][0]), caps["right"][0]))
        elif "const" in caps:
            value = string_value(caps["right"][0])
            if value is not None:
                facts.consts.setdefault(node_text(caps["left"][0]), value)
        elif "import" in caps:
            _import(facts, caps)
    calls.sort(key=lambda c: c.node.start_byte)
    facts.calls = calls
    return facts


def _import(facts: OpsFacts, caps: dict[str, list[Any]]) -> None:
    name = node_text(caps["name"][0]).strip("\"'`")
    frm = caps.get("from")
    module = node_text(frm[0]) if frm else ""
    facts.imports.append(f"{module}.{name}".lower() if module else name.lower())
    alias = caps.get("alias")
    local = node_text(alias[0]) if alias else name.rsplit(".", 1)[-1]
    facts.aliases[local] = f"{module}.{name}" if module else name
