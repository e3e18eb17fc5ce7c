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

This module is the public loader API (`load`, with the node types and `gcpause.paused_gc` re-exported);
the pieces live next to it, one job each: `yamlnodes` (node types, `Budget`, `to_plain`), `yamlbuild`
(syntax tree -> nodes) and `yamlscalars` (scalar decoding).
"""

from __future__ import annotations

from .. import ts
from ..positions import SourceFile
from .gcpause import paused_gc
from .yamlbuild import TS_MAX_ROWS, TreeBuilder
from .yamlnodes import (
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
    if lang == "json":
        root = ts.parse("json", src.data).root_node
        values = [c for c in root.named_children if c.type != "comment"][:1]
        out.documents = [builder.json_value(c, 0) for c in values]
        if root.has_error:
            builder.syntax_error(root, "JSON")
    elif len(src.line_bytes) > TS_MAX_ROWS:
        out.documents = [builder.yaml_region(0, len(src.line_bytes), 0)]
    else:
        root = ts.parse("yaml", src.data).root_node
        out.documents = builder.yaml_documents(root)
