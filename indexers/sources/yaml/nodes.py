"""The plain nodes a YAML/JSON file loads into, and the budget that bounds walking them.

`Scalar`, `Mapping` (pairs whose key and value are nodes) and `Sequence` each keep (row, byte column)
start/end points, so every fact can point at its exact key token (`Loaded.span()` gives the LSP range).
An alias is the anchored node itself, shared and never copied, and every node knows its expanded
`weight`: `to_plain` refuses a value heavier than its `Budget` before walking it, so an alias bomb costs
nothing to load and little to walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexers.model import Span
from indexers.positions import SourceFile

Point = tuple[int, int]  # (row, byte column), as tree-sitter reports

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
