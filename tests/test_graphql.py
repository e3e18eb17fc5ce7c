"""GraphQL SDL extraction, checked against the annotated fixtures in tests/fixtures/graphql/."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.model import Span
from indexers.positions import SourceFile
from indexers.sources.contracts.graphql.sdl import EXTRACTORS, GraphQLExtractor, _core_entities, _ts_entities
from tests.annotations import check, load_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "graphql"
CASES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".graphql", ".graphqls", ".gql"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture(path: Path) -> None:
    fx = load_fixture(path)
    part = GraphQLExtractor().extract(SourceFile("repo", f"schema/{path.name}", fx.text.encode("utf-8")))
    check(part.entities, part.errors, fx)


def test_wants() -> None:
    ex = EXTRACTORS[0]
    assert ex.wants("api/schema.graphql") and ex.wants("a/b.GQL") and ex.wants("s.graphqls")
    assert not ex.wants("schema.graphql.json") and not ex.wants("graphql/README.md")


def test_extent_covers_definition_and_utf16_columns() -> None:
    text = '"""é😀"""\ntype T { "😀" f: Int }\n'
    part = GraphQLExtractor().extract(SourceFile("r", "a.graphql", text.encode()))
    by_id = {e.id: e for e in part.entities}
    assert by_id["graphql:T"].extent == Span(0, 0, 1, 22)
    # '"😀" ' is 4 code points but 5 UTF-16 units before the field name.
    assert by_id["graphql:T.f"].range == Span(1, 14, 1, 15)


def test_bad_input_never_raises() -> None:
    for text in ["type A { f: " + "[" * 5000 + "Int" + "]" * 5000 + " }", "type", "type A { f: Int"]:
        part = GraphQLExtractor().extract(SourceFile("r", "a.graphql", text.encode("utf-8")))
        assert part.entities == [] and part.errors, text[:20]


def test_type_kinds() -> None:
    # `kind=` in fixtures names Entity.kind, so the type's own kind attribute is checked here.
    fx = load_fixture(FIXTURES / "shop.graphqls")
    part = GraphQLExtractor().extract(SourceFile("r", "shop.graphqls", fx.text.encode()))
    kinds = {e.name: e.attrs["kind"] for e in part.entities if e.kind == "graphql.type"}
    assert kinds == {"Node": "interface", "Cart": "object", "Owned": "interface", "Item": "object",
                     "ItemFilter": "input", "Status": "enum", "SearchResult": "union", "DateTime": "scalar",
                     "Shop": "object", "Mutation": "object", "Query": "object"}


GENERATED = "".join(
    f'"""Type {i} — déscription 😀\n  second line"""\ntype T{i} implements Node & Owned @key(fields: "id") {{\n'
    f'  id: ID!\n  "field"\n  items(first: Int = {i}, after: String, where: F = {{a: [1, 2], b: "x"}}): [T{i}!]!\n'
    f'  old: String @deprecated(reason: """no "quotes" # {{ here""") @auth\n}}\n'
    f'enum E{i} {{ A "b" B @deprecated C }}\nunion U{i} = | T{i} | E{i}\ninput I{i} {{ a: [Int] = [1] b: E = A }}\n'
    f'extend type T{i} {{ more: Int }}\n'
    for i in range(30)
) + "schema { query: T0 }\nextend schema @link(url: \"x\") { subscription: T1 }\n"


@pytest.mark.parametrize("name", [p.name for p in CASES] + ["generated"])
def test_fast_path_agrees_with_graphql_core(name: str) -> None:
    text = GENERATED if name == "generated" else load_fixture(FIXTURES / name).text
    src = SourceFile("r", "s.graphql", text.encode("utf-8"))
    fast = _ts_entities(src)
    slow, errors = _core_entities(src)
    if errors or name == "broken_query.gql":
        assert fast is None  # broken files always go through graphql-core, which reports the errors
        return
    assert fast is not None
    assert [(e.id, e.range, e.extent, e.attrs, e.parent) for e in fast] == \
        [(e.id, e.range, e.extent, e.attrs, e.parent) for e in slow]
    assert len(fast) > 0 or name == "queries.graphql"


def test_tree_sitter_grammar_gaps_fall_back_to_graphql_core() -> None:
    # The tree-sitter grammar rejects escaped quotes in strings; graphql-core then does the work.
    text = 'type A { f: Int @deprecated(reason: "say \\"no\\"") }'
    src = SourceFile("r", "a.graphql", text.encode())
    assert _ts_entities(src) is None
    part = GraphQLExtractor().extract(src)
    assert not part.errors and part.entities[1].attrs["deprecation_reason"] == 'say "no"'
