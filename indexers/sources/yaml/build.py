"""Builds `yamlnodes` trees from the tree-sitter YAML and JSON concrete syntax trees.

One `TreeBuilder` per file: it resolves anchors and aliases (shared nodes, weights added up), applies
merge keys (`<<`), keeps the first of duplicate keys and reports the rest, cuts nesting deeper than
`max_depth`, and builds whatever tree it is given (`yamlpos` locates syntax errors and hands it a
recovered tree; `syntax_error` is the fallback report). Files longer than tree-sitter-yaml can count rows
for are parsed region by region.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tree_sitter import Parser, Range
from tree_sitter import Point as TsPoint

from indexers import ts
from indexers.positions import SourceFile
from indexers.sources.yaml.nodes import LoadError, Mapping, Pair, Scalar, Sequence, YNode, key_text
from indexers.sources.yaml.scalars import MAYBE_TYPED, decode_block, decode_double, fold_plain, resolve_plain

# tree-sitter-yaml's scanner keeps its row in an int16 (tree-sitter-grammars/tree-sitter-yaml#49): a
# document longer than 32768 lines parses as one ERROR. Longer files are parsed region by region (whole
# keys of one mapping per region, a huge key's value recursively) through `included_ranges`, which keeps
# absolute positions while the scanner counts rows from the start of its region.
TS_MAX_ROWS = 30_000
_CONTENT_LINE = re.compile(rb"^( *)[^ #\r\n]", re.M)
_PAIRS = {"block_mapping_pair", "flow_pair", "pair"}
_ITEMS = {"block_sequence_item"}
_JSON_CONST = {"true": True, "false": False, "null": None}


class TreeBuilder:
    """Turns one file's syntax tree into nodes, collecting load errors."""

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
    def yaml_documents(self, root: Any, report: bool = True) -> list[YNode | None]:
        docs: list[YNode | None] = []
        if root.type == "ERROR":
            docs.append(self.yaml_node(root, 0))
        for doc in root.named_children if root.type != "ERROR" else ():
            if doc.type == "document":
                body = [c for c in doc.named_children if c.type != "comment"]
                docs.append(self.yaml_node(body[0], 0) if body else None)
            elif doc.type == "ERROR":
                docs.append(self.yaml_node(doc, 0))
        if report and root.has_error:
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
        if b - a <= TS_MAX_ROWS or depth > self.max_depth:
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
            if seg_b - seg_a > TS_MAX_ROWS:  # one huge key: its header alone, then its value as a region
                if chunk_start < seg_a:
                    self._merge(combined, self.yaml_region(chunk_start, seg_a, depth))
                header = self.yaml_region(seg_a, seg_a + 1, depth)
                body = self.yaml_region(seg_a + 1, seg_b, depth + 1)
                if isinstance(header, Mapping) and len(header.pairs) == 1 and body is not None:
                    self._add(combined, header.pairs[0].key, body, [])
                else:
                    self.error(seg_a, "YAML too long to parse here: expected a mapping key with a block value")
                chunk_start = seg_b
            elif seg_b - chunk_start > TS_MAX_ROWS:
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
            text = fold_plain(raw) if "\n" in raw else raw
            value = text if tag == "!!str" or raw[0] not in MAYBE_TYPED else resolve_plain(n.child(0).type, text)
            style = "plain"
        elif t == "double_quote_scalar":
            value, style = decode_double(raw[1:-1]), "double"
        elif t == "single_quote_scalar":
            inner = raw[1:-1]
            value, style = (fold_plain(inner, quoted=True) if "\n" in inner else inner).replace("''", "'"), "single"
        elif t == "block_scalar":
            if "+" in raw.partition("\n")[0]:  # keep chomping: the node ends before the trailing blank lines
                lines, row = self.src.line_bytes, end[0] + 1
                while row < len(lines) and not lines[row].strip():
                    raw += "\n"
                    row += 1
            value, style = decode_block(raw), "literal" if raw.startswith("|") else "folded"
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
