"""YAML and JSON loaded into plain nodes that remember where every key and value is.

Contract files (OpenAPI, AsyncAPI, catalogs, compose, Kubernetes) are YAML or JSON, and every fact Lore
shows must point at the exact key token. The usual loaders either forget positions or are slow (pure
ruamel.yaml composes ~0.3 MB/s here), so this module reads the concrete syntax tree of the bundled
tree-sitter YAML/JSON grammars (C, ~15 MB/s) and builds small nodes from it: `Scalar` (decoded value,
YAML 1.2 core schema), `Mapping` (pairs whose key and value are nodes) and `Sequence`, each with
(row, byte column) start/end points that `Loaded.span()` turns into LSP ranges (UTF-16 columns).

Untrusted input is bounded: an alias points at the anchored node itself (shared, never copied), every
node knows its expanded `weight`, and `Budget` lets a walker stop after N visits, so an alias bomb costs
nothing to load and little to walk; nesting deeper than `max_depth` is cut off with an error; duplicate
keys keep the first value and are reported; syntax errors are reported with their line while everything
the parser recovered is kept. Block scalars (`|`, `>`) are decoded by ruamel.yaml on the snippet alone.
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Parser, Range
from tree_sitter import Point as TsPoint

from .. import ts
from ..model import Span
from ..positions import SourceFile

Point = tuple[int, int]  # (row, byte column), as tree-sitter reports

MAX_DEPTH = 100
MAX_WEIGHT = 2_000_000


class BudgetExceeded(Exception):
    """A walk visited more nodes than its budget allows (alias bomb, or simply too large)."""


class Budget:
    """A visit counter shared by a walk; `spend()` raises `BudgetExceeded` past the limit."""

    __slots__ = ("left",)

    def __init__(self, limit: int = MAX_WEIGHT):
        self.left = limit

    def spend(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise BudgetExceeded("node budget exhausted (alias expansion or document too large)")


class YNode:
    __slots__ = ("start", "end", "weight", "anchor")

    def __init__(self, start: Point, end: Point):
        self.start = start
        self.end = end
        self.weight = 1  # nodes visited by a full walk, aliases expanded
        self.anchor = ""


class Scalar(YNode):
    __slots__ = ("value", "tag", "style")

    def __init__(self, start: Point, end: Point, value: Any, style: str = "plain", tag: str = ""):
        super().__init__(start, end)
        self.value = value
        self.style = style  # plain, double, single, literal, folded, json, empty
        self.tag = tag

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}@{self.start})"


@dataclass(slots=True, eq=False)
class Pair:
    key: YNode
    value: YNode
    name: str | None  # the key as text when it is a scalar (JSON-style: true, null, 200), else None


class Mapping(YNode):
    __slots__ = ("pairs", "entries")

    def __init__(self, start: Point, end: Point):
        super().__init__(start, end)
        self.pairs: list[Pair] = []  # as written, duplicates and `<<` included
        self.entries: dict[str, Pair] = {}  # first of each key, merge keys (`<<`) applied

    def get(self, key: str) -> YNode | None:
        pair = self.entries.get(key)
        return pair.value if pair is not None else None

    def pair(self, key: str) -> Pair | None:
        return self.entries.get(key)

    def __repr__(self) -> str:
        return f"Mapping({list(self.entries)}@{self.start})"


class Sequence(YNode):
    __slots__ = ("items",)

    def __init__(self, start: Point, end: Point):
        super().__init__(start, end)
        self.items: list[YNode] = []

    def __repr__(self) -> str:
        return f"Sequence({len(self.items)}@{self.start})"


@dataclass(slots=True)
class LoadError:
    line: int | None  # 0-based
    reason: str


@dataclass
class Loaded:
    src: SourceFile
    documents: list[YNode | None] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    @property
    def root(self) -> YNode | None:
        return self.documents[0] if self.documents else None

    def span(self, node: YNode) -> Span:
        return self.src.span_from_points(node.start, node.end)


def key_text(value: Any) -> str:
    """A scalar key as JSON would spell it: `true`, `null`, `200`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def to_plain(node: YNode | None, budget: Budget | None = None) -> Any:
    """The node as plain Python data (dicts, lists, scalars), aliases expanded within the budget."""
    budget = budget or Budget()
    if node is None:
        return None
    if node.weight > budget.left:  # weights are exact upper bounds: fail before walking an alias bomb
        raise BudgetExceeded(f"value of {node.weight} nodes exceeds the node budget")
    budget.spend()
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Mapping):
        return {k: to_plain(p.value, budget) for k, p in node.entries.items()}
    if isinstance(node, Sequence):
        return [to_plain(x, budget) for x in node.items]
    return None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building many small acyclic nodes makes the cyclic collector rescan them over and over (it tripled
    load time here); walkers of a loaded tree may use this too."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def load(src: SourceFile, lang: str | None = None, max_depth: int = MAX_DEPTH) -> Loaded:
    """Parse `src` as YAML (or JSON when `lang` is 'json' or the path ends in .json)."""
    if lang is None:
        lang = "json" if src.path.lower().endswith(".json") else "yaml"
    builder = _Builder(src, max_depth)
    out = Loaded(src)
    with paused_gc():
        _load_into(out, builder, lang)
    weight = sum(d.weight for d in out.documents if d is not None)
    if weight > MAX_WEIGHT:
        builder.error(None, f"aliases expand to {weight} nodes (limit {MAX_WEIGHT}); not expanded")
    out.errors = builder.errors
    return out


def _load_into(out: Loaded, builder: _Builder, lang: str) -> None:
    src = out.src
    if lang == "json":
        root = ts.parse("json", src.data).root_node
        values = [c for c in root.named_children if c.type != "comment"][:1]
        out.documents = [builder.json_value(c, 0) for c in values]
        if root.has_error:
            builder.syntax_error(root, "JSON")
    elif len(src.line_bytes) > _TS_MAX_ROWS:
        out.documents = [builder.yaml_region(0, len(src.line_bytes), 0)]
    else:
        root = ts.parse("yaml", src.data).root_node
        out.documents = builder.yaml_documents(root)


# tree-sitter-yaml's scanner keeps its row in an int16 (tree-sitter-grammars/tree-sitter-yaml#49): a
# document longer than 32768 lines parses as one ERROR. Longer files are parsed region by region (whole
# keys of one mapping per region, a huge key's value recursively) through `included_ranges`, which keeps
# absolute positions while the scanner counts rows from the start of its region.
_TS_MAX_ROWS = 30_000
_CONTENT_LINE = re.compile(rb"^( *)[^ #\r\n]", re.M)


_MAYBE_TYPED = frozenset("-+.0123456789~nNtTfF")  # plain scalars starting otherwise are strings
_PAIRS = {"block_mapping_pair", "flow_pair", "pair"}
_ITEMS = {"block_sequence_item"}
_JSON_CONST = {"true": True, "false": False, "null": None}
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
    "P": "\u2029",
}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}


class _Builder:
    def __init__(self, src: SourceFile, max_depth: int):
        self.src = src
        self.max_depth = max_depth
        self.errors: list[LoadError] = []
        self.anchors: dict[str, YNode] = {}
        self.too_deep = False
        self._starts: list[int] | None = None

    def error(self, line: int | None, reason: str) -> None:
        if len(self.errors) < 50:
            self.errors.append(LoadError(line, reason))

    # -- YAML ---------------------------------------------------------------------------------------
    def yaml_documents(self, root: Any) -> list[YNode | None]:
        docs: list[YNode | None] = []
        if root.type == "ERROR":
            docs.append(self.yaml_node(root, 0))
        for doc in root.named_children if root.type != "ERROR" else ():
            if doc.type == "document":
                body = [c for c in doc.named_children if c.type != "comment"]
                docs.append(self.yaml_node(body[0], 0) if body else None)
            elif doc.type == "ERROR":
                docs.append(self.yaml_node(doc, 0))
        if root.has_error:
            self.syntax_error(root, "YAML")
        return docs

    def _offset(self, row: int) -> int:
        if self._starts is None:
            starts, pos = [0], 0
            for raw in self.src.line_bytes:
                pos += len(raw) + 1
                starts.append(pos)
            self._starts = starts
        return min(self._starts[min(row, len(self._starts) - 1)], len(self.src.data))

    def _parse_rows(self, a: int, b: int) -> Any:
        parser = Parser(ts.language("yaml"))
        parser.included_ranges = [Range(TsPoint(a, 0), TsPoint(b, 0), self._offset(a), self._offset(b))]
        return parser.parse(self.src.data).root_node

    def yaml_region(self, a: int, b: int, depth: int) -> YNode | None:
        """Lines [a, b) holding one block mapping (or any node when short enough)."""
        if b - a <= _TS_MAX_ROWS or depth > self.max_depth:
            docs = self.yaml_documents(self._parse_rows(a, b))
            return docs[0] if docs else None
        data, lo, hi = self.src.data, self._offset(a), self._offset(b)
        first = _CONTENT_LINE.search(data, lo, hi)
        if first is None:
            return None
        indent = len(first.group(1))
        heads = [a + data.count(b"\n", lo, m.start()) for m in [first]]
        pos, row = first.start(), heads[0]
        for m in re.compile(rb"^ {%d}(?=[^ #\r\n])" % indent, re.M).finditer(data, first.end(), hi):
            row += data.count(b"\n", pos, m.start())
            pos = m.start()
            if not data.startswith((b"---", b"..."), pos):
                heads.append(row)
        bounds = heads + [b]
        combined = Mapping((heads[0], indent or 0), (b, 0))
        chunk_start = heads[0]
        for k in range(len(heads)):
            seg_a, seg_b = bounds[k], bounds[k + 1]
            if seg_b - seg_a > _TS_MAX_ROWS:  # one huge key: its header alone, then its value as a region
                if chunk_start < seg_a:
                    self._merge(combined, self.yaml_region(chunk_start, seg_a, depth))
                header = self.yaml_region(seg_a, seg_a + 1, depth)
                body = self.yaml_region(seg_a + 1, seg_b, depth + 1)
                if isinstance(header, Mapping) and len(header.pairs) == 1 and body is not None:
                    self._add(combined, header.pairs[0].key, body, [])
                else:
                    self.error(seg_a, "YAML too long to parse here: expected a mapping key with a block value")
                chunk_start = seg_b
            elif seg_b - chunk_start > _TS_MAX_ROWS:
                self._merge(combined, self.yaml_region(chunk_start, seg_a, depth))
                chunk_start = seg_a
        if chunk_start < b:
            self._merge(combined, self.yaml_region(chunk_start, b, depth))
        return combined

    def _merge(self, into: Mapping, part: YNode | None) -> None:
        if isinstance(part, Mapping):
            for pair in part.pairs:
                self._add(into, pair.key, pair.value, [])
        elif part is not None:
            self.error(part.start[0], "YAML too long to parse here: expected a block mapping")

    def yaml_node(self, n: Any, depth: int) -> YNode:
        if depth > self.max_depth:
            start, end = tuple(n.start_point), tuple(n.end_point)
            if not self.too_deep:
                self.too_deep = True
                self.error(start[0], f"nesting deeper than {self.max_depth} levels; the rest is skipped")
            return Scalar(start, end, None, "empty")
        anchor = tag = ""
        body = None
        t = n.type
        while t in ("flow_node", "block_node"):
            if n.child_count == 1:
                n = n.child(0)
                t = n.type
                continue
            body = None
            for c in n.children:
                ct = c.type
                if ct == "anchor":
                    anchor = c.text[1:].decode("utf-8", "replace")
                elif ct == "tag":
                    tag = c.text.decode("utf-8", "replace")
                elif ct != "comment":
                    body = c
            if body is None:
                node: YNode = Scalar(tuple(n.start_point), tuple(n.end_point), None, "empty", tag)
                return self._anchor(node, anchor)
            n, t = body, body.type
        if t in ("block_mapping", "flow_mapping"):
            node = self._mapping(n, depth)
        elif t in ("block_sequence", "flow_sequence"):
            node = self._sequence(n, depth)
        elif t == "alias":
            name = n.text[1:].decode("utf-8", "replace")
            target = self.anchors.get(name)
            if target is None:
                self.error(n.start_point[0], f"unknown alias *{name}")
                return Scalar(tuple(n.start_point), tuple(n.end_point), None, "empty")
            return target
        elif t == "ERROR":
            kinds = {c.type for c in n.named_children}
            if kinds & _PAIRS:
                node = self._mapping(n, depth)
            elif kinds & _ITEMS:
                node = self._sequence(n, depth)
            else:
                node = Scalar(tuple(n.start_point), tuple(n.end_point), None, "empty")
        else:
            node = self._scalar(n, tag)
        return self._anchor(node, anchor)

    def _anchor(self, node: YNode, anchor: str) -> YNode:
        if anchor:
            node.anchor = anchor
            self.anchors[anchor] = node
        return node

    def _mapping(self, n: Any, depth: int) -> Mapping:
        m = Mapping(tuple(n.start_point), tuple(n.end_point))
        merges: list[YNode] = []
        for p in n.children:
            if p.type not in _PAIRS:
                if p.type == "flow_node":  # `{a, b}`: keys without values
                    key = self.yaml_node(p, depth + 1)
                    self._add(m, key, Scalar(key.end, key.end, None, "empty"), merges)
                continue
            key_n = val_n = None
            colon: Any = None
            for c in p.children:
                ct = c.type
                if ct == ":":
                    colon = c
                elif ct in ("?", "comment", ","):
                    continue
                elif colon is None:
                    key_n = c
                else:
                    val_n = c
            key = self.yaml_node(key_n, depth + 1) if key_n is not None else Scalar(
                tuple(p.start_point), tuple(p.start_point), None, "empty")
            if val_n is not None:
                value = self.yaml_node(val_n, depth + 1)
            else:
                at = tuple(colon.end_point) if colon is not None else key.end
                value = Scalar(at, at, None, "empty")
            self._add(m, key, value, merges)
        for source in merges:
            for src_map in (source.items if isinstance(source, Sequence) else [source]):
                if isinstance(src_map, Mapping):
                    for name, pair in src_map.entries.items():
                        if name not in m.entries:
                            m.entries[name] = pair
                            m.weight += pair.key.weight + pair.value.weight
                else:
                    self.error(source.start[0], "merge key `<<` needs a mapping or a list of mappings")
        return m

    def _add(self, m: Mapping, key: YNode, value: YNode, merges: list[YNode]) -> None:
        name = key_text(key.value) if isinstance(key, Scalar) else None
        pair = Pair(key, value, name)
        m.pairs.append(pair)
        if isinstance(key, Scalar) and key.style == "plain" and name == "<<":
            merges.append(value)
            return
        if name is None:
            return
        first = m.entries.get(name)
        if first is not None:
            self.error(key.start[0], f"duplicate key {name!r} (first at line {first.key.start[0] + 1}); "
                       "the first value is used")
            return
        m.entries[name] = pair
        m.weight += key.weight + value.weight

    def _sequence(self, n: Any, depth: int) -> Sequence:
        s = Sequence(tuple(n.start_point), tuple(n.end_point))
        for c in n.children:
            ct = c.type
            if ct == "block_sequence_item":
                body = [x for x in c.named_children if x.type != "comment"]
                if body:
                    item = self.yaml_node(body[0], depth + 1)
                else:
                    item = Scalar(tuple(c.end_point), tuple(c.end_point), None, "empty")
            elif ct in ("flow_node", "flow_pair"):
                if ct == "flow_pair":  # `[a: b]` is a one-pair mapping
                    item = self._mapping(_Wrap(c), depth + 1)
                else:
                    item = self.yaml_node(c, depth + 1)
            else:
                continue
            s.items.append(item)
            s.weight += item.weight
        return s

    def _scalar(self, n: Any, tag: str) -> Scalar:
        start, end = tuple(n.start_point), tuple(n.end_point)
        t = n.type
        raw = n.text.decode("utf-8", "replace")
        value: Any
        if t == "plain_scalar":
            text = _fold_plain(raw) if "\n" in raw else raw
            value = text if tag == "!!str" or raw[0] not in _MAYBE_TYPED else _resolve_plain(n.child(0).type, text)
            style = "plain"
        elif t == "double_quote_scalar":
            value, style = _double(raw[1:-1]), "double"
        elif t == "single_quote_scalar":
            inner = raw[1:-1]
            value, style = (_fold_plain(inner, quoted=True) if "\n" in inner else inner).replace("''", "'"), "single"
        elif t == "block_scalar":
            if "+" in raw.partition("\n")[0]:  # keep chomping: the node ends before the trailing blank lines
                lines, row = self.src.line_bytes, end[0] + 1
                while row < len(lines) and not lines[row].strip():
                    raw += "\n"
                    row += 1
            value, style = _block(raw), "literal" if raw.startswith("|") else "folded"
        else:
            self.error(start[0], f"unexpected YAML node {t}")
            value, style = None, "empty"
        return Scalar(start, end, value, style, tag)

    # -- JSON ---------------------------------------------------------------------------------------
    def json_value(self, n: Any, depth: int) -> YNode:
        start, end = tuple(n.start_point), tuple(n.end_point)
        if depth > self.max_depth:
            if not self.too_deep:
                self.too_deep = True
                self.error(start[0], f"nesting deeper than {self.max_depth} levels; the rest is skipped")
            return Scalar(start, end, None, "empty")
        t = n.type
        if t == "object" or (t == "ERROR" and any(c.type == "pair" for c in n.children)):
            m = Mapping(start, end)
            for p in n.children:
                if p.type != "pair":
                    continue
                kids = [c for c in p.children if c.type not in (":", "comment")]
                if not kids:
                    continue
                k, v = kids[0], (kids[1] if len(kids) > 1 else None)
                key = self.json_value(k, depth + 1)
                value = self.json_value(v, depth + 1) if v is not None else Scalar(key.end, key.end, None, "empty")
                self._add(m, key, value, [])
            return m
        if t == "array":
            s = Sequence(start, end)
            for c in n.named_children:
                if c.type != "comment":
                    item = self.json_value(c, depth + 1)
                    s.items.append(item)
                    s.weight += item.weight
            return s
        raw = n.text.decode("utf-8", "replace")
        if t == "string":
            if "\\" not in raw:
                return Scalar(start, end, raw[1:-1], "json")
            try:
                return Scalar(start, end, json.loads(raw), "json")
            except ValueError:
                return Scalar(start, end, raw[1:-1], "json")
        if t == "number":
            try:
                return Scalar(start, end, int(raw) if raw.lstrip("-").isdigit() else float(raw), "json")
            except ValueError:
                return Scalar(start, end, raw, "json")
        if t in _JSON_CONST:
            return Scalar(start, end, _JSON_CONST[t], "json")
        return Scalar(start, end, None, "empty")

    # -- errors -------------------------------------------------------------------------------------
    def syntax_error(self, root: Any, lang: str) -> None:
        """Report the first innermost ERROR or MISSING node, with its line."""
        n = root
        while True:
            nxt = None
            for c in n.children:
                if c.is_missing or c.type == "ERROR" or c.has_error:
                    nxt = c
                    break
            if nxt is None:
                break
            n = nxt
            if n.is_missing:
                break
        line = n.start_point[0]
        if n.is_missing:
            reason = f"{lang} syntax error: missing {n.type!r}"
        else:
            snippet = n.text.decode("utf-8", "replace").strip().split("\n")[0][:30]
            reason = f"{lang} syntax error near {snippet!r}" if snippet else f"{lang} syntax error"
        self.errors.insert(0, LoadError(line, reason))


class _Wrap:
    """Presents one `flow_pair` as a mapping node with that pair as its only child."""

    def __init__(self, pair: Any):
        self.children = [pair]
        self.start_point = pair.start_point
        self.end_point = pair.end_point


def _resolve_plain(sub: str, text: str) -> Any:
    if sub == "null_scalar":
        return None
    if sub == "boolean_scalar":
        return text.lower() == "true"
    if sub == "integer_scalar":
        try:
            return int(text, 0)
        except ValueError:
            try:
                return int(text, 10)
            except ValueError:
                return text
    if sub == "float_scalar":
        low = text.lower()
        if low.endswith(".inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _fold_plain(raw: str, quoted: bool = False) -> str:
    """YAML line folding: a single line break becomes a space, each further empty line a newline."""
    lines = raw.split("\n")
    out: list[str] = []
    pending_breaks = 0
    for i, line in enumerate(lines):
        line = line.rstrip("\r")
        if i > 0:
            line = line.lstrip(" \t")
        if i < len(lines) - 1:
            line = line.rstrip(" \t")
        if not line and 0 < i < len(lines) - 1:
            pending_breaks += 1
            continue
        if out:
            out.append("\n" * pending_breaks if pending_breaks else " ")
        pending_breaks = 0
        out.append(line)
    return "".join(out)


def _double(inner: str) -> str:
    if "\\" not in inner and "\n" not in inner:
        return inner
    out: list[str] = []
    i, size = 0, len(inner)
    while i < size:
        ch = inner[i]
        if ch == "\\" and i + 1 < size:
            nxt = inner[i + 1]
            if nxt in "\r\n":  # escaped line break: join without a space
                i += 2 if inner[i + 1: i + 3] != "\r\n" else 3
                while i < size and inner[i] in " \t":
                    i += 1
                continue
            if nxt in _HEX_LEN:
                digits = inner[i + 2: i + 2 + _HEX_LEN[nxt]]
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    out.append(inner[i: i + 2 + len(digits)])
                i += 2 + len(digits)
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch in "\r\n":  # unescaped line break: fold
            while out and out[-1] in (" ", "\t"):
                out.pop()
            j, breaks = i, 0
            while j < size and inner[j] in " \t\r\n":
                breaks += inner[j] == "\n"
                j += 1
            out.append("\n" * (breaks - 1) if breaks > 1 else " ")
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_BLOCK_LOADER: Any = None


def _block(raw: str) -> str:
    """A block scalar (`|`, `>`, with chomping/indent indicators) decoded by ruamel.yaml."""
    global _BLOCK_LOADER
    if _BLOCK_LOADER is None:
        from ruamel.yaml import YAML

        _BLOCK_LOADER = YAML(typ="safe", pure=True)
    head, _, rest = raw.partition("\n")
    try:
        value = _BLOCK_LOADER.load(head + "\n" + rest + "\n")
    except Exception:  # noqa: BLE001 - any ruamel failure: keep the raw text
        return rest
    return value if isinstance(value, str) else rest
