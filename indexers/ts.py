"""Tree-sitter access: cached parsers and queries loaded from the `.scm` files shipped in
`indexers/queries/` (one file per language and purpose, e.g. `go-grpc.scm`, `python-http.scm`).

Grammars come from `tree-sitter-language-pack` (<1, which bundles them; 1.x downloads at run time).
Parse trees may contain error nodes: extraction always works on partial trees.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tree_sitter import Language, Parser, Query, QueryCursor
from tree_sitter_language_pack import get_language, get_parser


@cache
def language(name: str) -> Language:
    return get_language(name)  # type: ignore[arg-type]


@cache
def parser(name: str) -> Parser:
    return get_parser(name)  # type: ignore[arg-type]


def parse(name: str, data: bytes) -> Any:
    return parser(name).parse(data)


QUERIES = Path(__file__).resolve().parent / "queries"


@cache
def query_text(filename: str) -> str:
    """The text of a shipped query file. Read beside this module (package data), which works the same
    for wheels, editable installs and source checkouts."""
    return (QUERIES / filename).read_text(encoding="utf-8")


@cache
def query(lang: str, filename: str) -> Query:
    """The compiled query in `indexers/queries/<filename>` for grammar `lang`."""
    return Query(language(lang), query_text(filename))


def matches(lang: str, filename: str, node: Any) -> list[tuple[int, dict[str, list[Any]]]]:
    """Run a query file over a node: [(pattern_index, {capture: [nodes]})]."""
    return QueryCursor(query(lang, filename)).matches(node)


def captures(lang: str, filename: str, node: Any) -> dict[str, list[Any]]:
    return QueryCursor(query(lang, filename)).captures(node)


def text(node: Any) -> str:
    raw = node.text if node is not None else None  # `Node.text` copies the node's bytes: read it once
    return raw.decode("utf-8", errors="replace") if raw is not None else ""
