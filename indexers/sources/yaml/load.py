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
keys keep the first value and are reported. A syntax error is reported at the line that is wrong (not
where tree-sitter's ERROR node starts, often line 1), and the block around it is blanked and the file
parsed again, so the rest of the file is kept with exact positions; valid files never pay for this.
Where the grammar rejects a document that a conforming parser (ruamel.yaml) accepts, the conforming
parser decides (`conform`): valid YAML or JSON is never reported as broken.
Block scalars (`|`, `>`) are decoded by ruamel.yaml on the snippet alone.

This module is the public loader API (`load`, with the node types and `gcpause.paused_gc` re-exported);
the pieces live next to it, one job each: `yamlnodes` (node types, `Budget`, `to_plain`), `yamlbuild`
(syntax tree -> nodes) and `yamlscalars` (scalar decoding).
"""

from __future__ import annotations

from typing import Any

from indexers import ts
from indexers.positions import SourceFile
from indexers.sources.gcpause import paused_gc
from indexers.sources.yaml.build import TS_MAX_ROWS, TreeBuilder
from indexers.sources.yaml.conform import conforming_load
from indexers.sources.yaml.nodes import (
    MAX_WEIGHT,
    Budget,
    BudgetExceeded,
    Loaded,
    LoadError,
    Mapping,
    Pair,
    Point,
    Scalar,
    Sequence,
    YNode,
    key_text,
    to_plain,
)

__all__ = ["MAX_DEPTH", "MAX_WEIGHT", "Budget", "BudgetExceeded", "LoadError", "Loaded", "Mapping", "Pair",
           "Point", "Scalar", "Sequence", "YNode", "key_text", "load", "paused_gc", "to_plain"]

MAX_DEPTH = 100


def load(src: SourceFile, lang: str | None = None, max_depth: int = MAX_DEPTH) -> Loaded:
    """Parse `src` as YAML (or JSON when `lang` is 'json' or the path ends in .json)."""
    if lang is None:
        lang = "json" if src.path.lower().endswith(".json") else "yaml"
    builder = TreeBuilder(src, max_depth)
    out = Loaded(src)
    with paused_gc():
        _load_into(out, builder, lang)
    weight = sum(d.weight for d in out.documents if d is not None)
    if weight > MAX_WEIGHT:
        builder.error(None, f"aliases expand to {weight} nodes (limit {MAX_WEIGHT}); not expanded")
    out.errors = builder.errors
    return out


def _load_into(out: Loaded, builder: TreeBuilder, lang: str) -> None:
    src = out.src
    if lang != "json" and len(src.line_bytes) > TS_MAX_ROWS:
        out.documents = [builder.yaml_region(0, len(src.line_bytes), 0)]
        return
    root = ts.parse(lang, src.data).root_node
    if root.has_error:  # the grammar rejects it: a conforming parser decides whether it is broken
        conforming = conforming_load(src, builder.max_depth)
        if conforming is not None:
            out.documents, errors = conforming
            builder.errors.extend(errors)
            return
    if root.has_error:  # valid files never get here: recovery costs only broken ones
        found, root = _Recovery(src.line_bytes, lang, len(src.data)).run(root)
        if root.has_error:  # not located (budget, rounds, one-line JSON): tree-sitter's own recovery
            builder.syntax_error(root, lang.upper())
        builder.errors[0:0] = [LoadError(line, reason) for line, reason in found]
    if lang == "json":
        values = [c for c in root.named_children if c.type != "comment"][:1]
        out.documents = [builder.json_value(c, 0) for c in values]
    else:
        out.documents = builder.yaml_documents(root, report=False)


# -- syntax errors: locate each at its line, blank its block, parse again ----------------------------------
# tree-sitter-yaml answers most YAML errors (an unclosed `[` at the end, a tab, a stray `]`) by turning the
# whole document into one ERROR node: its start is line 1 and its pairs are flattened. Lines are grouped
# into blocks by indentation instead (a line and the more indented lines after it; JSON's closing
# bracket at the opener's indentation ends the block), and the first broken block is found by parsing
# prefixes: binary search over the children of the block known to hold the error, down to the block whose
# header line alone (children blanked) does not parse. That line is reported; its enclosing block is
# replaced by empty lines (line count kept, so every position stays exact) and the file parsed again.

MAX_ROUNDS = 8  # errors located per file; the rest keep tree-sitter's own recovery
_BUDGET_MIN, _BUDGET_MAX, _BUDGET_FACTOR = 2 << 20, 24 << 20, 24  # bytes parsed while locating


class _Budget(Exception):
    pass


class _Block:
    __slots__ = ("head", "indent", "depth", "parent", "children", "closer", "end")

    def __init__(self, head: int, indent: int, parent: _Block | None):
        self.head = head
        self.indent = indent
        self.parent = parent
        self.depth: int = parent.depth + 1 if parent is not None else -1
        self.children: list[_Block] = []
        self.closer: int | None = None  # JSON: the `}` / `]` line at the opener's indentation
        self.end = 0  # exclusive; trailing blank and comment lines included

    def inner_end(self, total: int) -> int:
        if self.parent is None:
            return total
        return self.closer if self.closer is not None else self.end


def _blocks(lines: list[bytes], comment: bytes) -> _Block:
    root = _Block(-1, -1, None)
    stack = [root]
    for i, line in enumerate(lines):
        body = line.lstrip(b" \t")
        if not body.rstrip() or body.startswith(comment):
            continue
        lead = line[:len(line) - len(body)]
        indent = len(lead.expandtabs(8)) if b"\t" in lead else len(lead)  # a tab (invalid YAML) indents deep
        closed = False
        while len(stack) > 1 and indent <= stack[-1].indent:
            top = stack.pop()
            if indent == top.indent and body[:1] in (b"}", b"]") and top.closer is None and top.children:
                top.closer, top.end, closed = i, i + 1, True
                break
            top.end = i
        if closed:
            continue
        block = _Block(i, indent, stack[-1])
        stack[-1].children.append(block)
        stack.append(block)
    for top in stack[1:]:
        top.end = len(lines)
    return root


class _Recovery:
    """One broken file: its current lines (blanked blocks empty) and the parse budget left."""

    def __init__(self, lines: list[bytes], lang: str, size: int):
        self.lines = list(lines)
        self.original = lines
        self.lang = lang
        self.json = lang == "json"
        self.budget = min(_BUDGET_MAX, max(_BUDGET_MIN, _BUDGET_FACTOR * size))

    def run(self, root: Any) -> tuple[list[tuple[int, str]], Any]:
        found: list[tuple[int, str]] = []
        for _ in range(MAX_ROUNDS):
            try:
                located = self._locate()
            except _Budget:
                break
            if located is None:
                break
            block, reason, base = located
            target = block  # its ancestor two levels down (an operation, a schema) goes whole: no half facts
            while target.depth - base > 2 and target.parent is not None:
                target = target.parent
            if self._spans_everything(target):  # one-line JSON, say: keep tree-sitter's recovery
                break
            found.append((block.head, reason))
            self.lines = self._blanked(self.lines, [(target.head, target.end)])
            root = ts.parse(self.lang, b"\n".join(self.lines)).root_node
            if not root.has_error:
                break
        return found, root

    def _spans_everything(self, block: _Block) -> bool:
        content = [i for i, raw in enumerate(self.lines) if raw.strip()]
        return bool(content) and block.head <= content[0] and block.end > content[-1]

    def _locate(self) -> tuple[_Block, str, int] | None:
        """The smallest block whose header line does not parse with everything after it blanked, and the
        depth of the file's top-level keys (JSON's root object is one level more)."""
        root = _blocks(self.lines, b"//" if self.json else b"#")
        if not root.children:
            return None
        base = 1 if self.json and len(root.children) == 1 else 0
        block = root
        while True:
            if block is not root:
                bad = self._parse(self._state(block, 0))
                if bad is not None or not block.children:
                    return block, self._reason(block, bad), base
            lo, hi = 0, len(block.children)  # prefix lo parses, prefix hi does not
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._parse(self._state(block, mid)) is None:
                    lo = mid
                else:
                    hi = mid
            block = block.children[hi - 1]

    def _state(self, block: _Block, keep: int) -> bytes:
        """The file with `block`'s children from `keep` on and everything after `block` blanked, the
        closing brackets of the blocks around it kept."""
        total = len(self.lines)
        ranges = []
        if keep < len(block.children):
            ranges.append((block.children[keep].head, block.inner_end(total)))
        at = block
        while at.parent is not None:
            ranges.append((at.end, at.parent.inner_end(total)))
            at = at.parent
        return b"\n".join(self._blanked(self.lines, ranges))

    def _blanked(self, lines: list[bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
        out = list(lines)
        for a, b in ranges:
            out[a:b] = [b""] * (b - a)
        if self.json:  # `"a": 1,` before a blanked tail: the comma would be an error of our own making
            for a, b in ranges:
                if a >= b:
                    continue
                p = next((i for i in range(a - 1, -1, -1) if out[i].strip()), None)
                q = next((i for i in range(b, len(out)) if out[i].strip()), None)
                if p is not None and (q is None or out[q].lstrip()[:1] in (b"}", b"]")):
                    raw = out[p].rstrip()
                    if raw.endswith(b","):
                        out[p] = raw[:-1] + b" " + out[p][len(raw):]
        return out

    def _parse(self, data: bytes) -> Any:
        """The root node when `data` has a syntax error, else None."""
        self.budget -= len(data)
        if self.budget < 0:
            raise _Budget
        root = ts.parse(self.lang, data).root_node
        return root if root.has_error else None

    def _reason(self, block: _Block, bad: Any) -> str:
        text = self.original[block.head].decode("utf-8", "replace").strip()
        snippet = text if len(text) <= 40 else text[:39] + "…"
        reason = f"{self.lang.upper()} syntax error near {snippet!r}"
        raw = self.original[block.head]
        if not self.json and b"\t" in raw[:len(raw) - len(raw.lstrip(b" \t"))]:
            reason += ": tab in indentation"
        missing = _missing(bad, block.head) if bad is not None else None
        return f"{reason}: missing {missing!r}" if missing else reason


def _missing(root: Any, row: int) -> str | None:
    """The first MISSING token at or after `row` (tree-sitter's guess at what would close the line)."""
    todo = [root]
    while todo:
        n = todo.pop()
        if n.is_missing and n.start_point[0] >= row:
            return str(n.type)
        if n.has_error:
            todo.extend(reversed(n.children))
    return None
