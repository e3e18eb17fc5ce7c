"""The conforming parser decides: a document tree-sitter's YAML or JSON grammar rejects is parsed again
by ruamel.yaml (a conforming YAML 1.2 parser; JSON is YAML 1.2), and when ruamel accepts it, the nodes
come from ruamel's composed graph instead of error recovery.

The bundled tree-sitter YAML grammar rejects some valid documents (seen on real API descriptions: a
multi-line double-quoted scalar after a flow sequence); reporting those as broken, and dropping part of
them, would be a wrong fact. Only files tree-sitter rejects come here, so valid files keep the fast
path. Positions are exact: ruamel's marks count code points, converted here to the byte columns the
nodes keep. Aliases stay shared nodes with summed weights, merge keys (`<<`) apply, duplicate keys keep
the first value and are reported, nesting past `max_depth` is cut with an error, as in `build`.
"""

from __future__ import annotations

import json
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from indexers.positions import SourceFile
from indexers.sources.yaml.nodes import LoadError, Mapping, Pair, Point, Scalar, Sequence, YNode, key_text
from indexers.sources.yaml.scalars import resolve_plain

MAX_BYTES = 4_000_000  # ruamel is pure Python (~0.3 MB/s): larger files keep tree-sitter's recovery
_STYLES = {None: "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}
_TAG = "tag:yaml.org,2002:"


def conforming_load(src: SourceFile, max_depth: int) -> tuple[list[YNode | None], list[LoadError]] | None:
    """The documents as ruamel.yaml reads them, or None when it rejects the text too (a real error)."""
    if len(src.data) > MAX_BYTES:
        return None
    if src.path.lower().endswith(".json"):  # JSON decides by JSON's own grammar (comments are not JSON)
        try:
            json.loads(src.text)
        except (ValueError, RecursionError):
            return None
    try:
        roots = list(YAML(typ="safe", pure=True).compose_all(src.text))
    except (YAMLError, MarkedYAMLError, RecursionError, ValueError, TypeError):
        return None
    builder = _Builder(src, max_depth)
    docs = [builder.node(r, 0) if r is not None else None for r in roots]
    return docs, builder.errors


class _Builder:
    def __init__(self, src: SourceFile, max_depth: int):
        self.src = src
        self.lines = src.text.split("\n")
        self.max_depth = max_depth
        self.errors: list[LoadError] = []
        self.built: dict[int, YNode] = {}  # id(ruamel node) -> node: an alias is the anchored node itself

    def point(self, mark: Any) -> Point:
        line = min(mark.line, len(self.lines) - 1)
        col = len(self.lines[line][: mark.column].encode("utf-8")) if line >= 0 else 0
        return (mark.line, col)

    def node(self, n: Node, depth: int) -> YNode:
        done = self.built.get(id(n))
        if done is not None:
            return done
        start, end = self.point(n.start_mark), self.point(n.end_mark)
        if depth > self.max_depth:
            self.errors.append(LoadError(n.start_mark.line, f"nesting deeper than {self.max_depth} levels; cut off"))
            return Scalar(start, end, None, "empty")
        out: YNode
        if isinstance(n, MappingNode):
            out = self.built[id(n)] = Mapping(start, end)
            self._mapping(out, n, depth)
        elif isinstance(n, SequenceNode):
            seq = Sequence(start, end)
            out = self.built[id(n)] = seq
            for item in n.value:
                child = self.node(item, depth + 1)
                seq.items.append(child)
                seq.weight += child.weight
        elif isinstance(n, ScalarNode):
            out = self.built[id(n)] = self._scalar(n, start, end)
        else:  # pragma: no cover - ruamel composes only these three kinds
            out = Scalar(start, end, None, "empty")
        if getattr(n, "anchor", None):
            out.anchor = str(n.anchor)
        return out

    def _mapping(self, m: Mapping, n: MappingNode, depth: int) -> None:
        merges: list[YNode] = []
        for k, v in n.value:
            key, value = self.node(k, depth + 1), self.node(v, depth + 1)
            if isinstance(k, ScalarNode) and k.tag == _TAG + "merge":
                merges.append(value)
                continue
            name = key_text(key.value) if isinstance(key, Scalar) else None
            pair = Pair(key, value, name)
            m.pairs.append(pair)
            m.weight += key.weight + value.weight
            if name is None:
                continue
            first = m.entries.get(name)
            if first is not None:
                self.errors.append(LoadError(key.start[0], f"duplicate key {name!r} (first at line {first.key.start[0] + 1}); "
                                                           "the first value is used"))
                continue
            m.entries[name] = pair
        for source in merges:
            parts = source.items if isinstance(source, Sequence) else [source]
            for part in parts:
                if not isinstance(part, Mapping):
                    self.errors.append(LoadError(source.start[0], "merge key `<<` needs a mapping or a list of mappings"))
                    continue
                for name, pair in part.entries.items():
                    if name not in m.entries:
                        m.entries[name] = pair
                        m.weight += pair.key.weight + pair.value.weight

    def _scalar(self, n: ScalarNode, start: Point, end: Point) -> Scalar:
        text = str(n.value)
        style = _STYLES.get(n.style, "plain")
        tag = n.tag or ""
        value: Any = text
        if style == "plain" and tag.startswith(_TAG):
            value = _resolve(tag[len(_TAG):], text)
        explicit = "" if tag.startswith(_TAG) and style == "plain" or tag == _TAG + "str" else tag
        if not text and style == "plain":
            style = "empty"
        return Scalar(start, end, value, style, explicit)


_SUBTYPE = {"null": "null_scalar", "bool": "boolean_scalar", "int": "integer_scalar", "float": "float_scalar"}


def _resolve(kind: str, text: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema tag ruamel resolved, decoded as `build` decodes it."""
    return resolve_plain(_SUBTYPE.get(kind, "string_scalar"), text)
