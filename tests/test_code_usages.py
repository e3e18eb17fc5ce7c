"""Usage extraction from source files: annotated fixtures under tests/fixtures/code/<lang>/.

Each fixture line may be followed by expectation lines in the tests/annotations.py format, where the id
is the usage kind: `// ^^^^ grpc.call qualifier=CartService name=GetCart` (columns pinned) or
`# @ sql.column qualifier=users name=email` (line only). Keys name/qualifier/role/language are Usage
fields; any other key is compared with `Usage.attrs`. With a first line `lore:exact`, every usage the
extractor reports must be claimed by an expectation (no unexpected usage).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.model import Span, Usage
from indexers.positions import SourceFile
from indexers.sources.code.documents import EXTRACTORS as DOCUMENTS
from indexers.sources.code.extract import EXTRACTORS, url_path
from tests.annotations import Expectation, Fixture, load_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "code"
CASES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".expect")
GENERATED = {"generated.pb.go", "handwritten_marked.go", "cart_pb2.py", "cart_pb.js", "openapi_client.ts",
             "Cart.g.cs", "CartServiceGrpcKt.kt", "helloworld.rs", "cart.grpc.pb.h", "cart_services_pb.rb",
             "CurrencyServiceClient.php"}
_FIELDS = ("name", "qualifier", "role", "language")


def _value(u: Usage, key: str) -> object:
    return getattr(u, key) if key in _FIELDS else u.attrs.get(key, "<absent>")


def _at(u: Usage, exp: Expectation) -> bool:
    if u.kind != exp.id or u.range.start_line != exp.line:
        return False
    return exp.cols is None or u.range == Span(exp.line, exp.cols[0], exp.line, exp.cols[1])


def check_usages(usages: list[Usage], fixture: Fixture) -> None:
    problems: list[str] = []
    claimed: set[int] = set()
    for exp in fixture.expectations:
        here = [u for u in usages if _at(u, exp)]
        ok = [u for u in here if all(_value(u, k) == v for k, v in exp.attrs.items())]
        if not ok:
            got = [(u.kind, u.qualifier, u.name, u.range, u.attrs) for u in usages if u.kind == exp.id
                   and abs(u.range.start_line - exp.line) <= 1]
            problems.append(f"line {exp.line + 1}: no {exp.id} {exp.attrs} at {exp.cols}; nearby: {got}")
        # claim every usage on this spot with the same identity (name/qualifier when given)
        for u in here:
            if all(_value(u, k) == exp.attrs[k] for k in ("name", "qualifier") if k in exp.attrs):
                claimed.add(id(u))
    if fixture.exact:
        for u in usages:
            if id(u) not in claimed:
                problems.append(f"unexpected {u.kind} {u.qualifier!r} {u.name!r} at line {u.range.start_line + 1} "
                                f"{u.attrs}")
    assert not problems, "\n".join(problems)


def extract(path: Path, text: str) -> tuple[list[Usage], list, bool]:
    src = SourceFile("repo", str(path.relative_to(FIXTURES)), text.encode("utf-8"))
    (extractor,) = [e for e in [*EXTRACTORS, *DOCUMENTS] if e.wants(src.path)]
    part = extractor.extract(src)
    return part.usages, part.errors, part.generated


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture(path: Path) -> None:
    fixture = load_fixture(path)
    usages, errors, generated = extract(path, fixture.text)
    assert generated == (path.name in GENERATED)
    if generated:
        assert usages == []
    check_usages(usages, fixture)
    for line, text in fixture.line_errors:
        assert any(e.line == line and text.lower() in e.reason.lower() for e in errors), errors
    if not fixture.line_errors and not fixture.file_errors:
        assert errors == []


@pytest.mark.parametrize(("raw", "want"), [
    ("/cart/{id}", "/cart/{}"), ("/cart/:id/items", "/cart/{}/items"), ("/cart/<int:id>", "/cart/{}"),
    ("https://api.example.com/v1/cart?x=1", "/v1/cart"), ("\x00/cart/\x00", "/cart/{}"),
    ("\x00:8080/cart", "/cart"), ("http://host", "/"), ("cart/1", None), ("\x00cart", None),
    ("/files/{name}.json/", "/files/{}"), ("/a//b", "/a/b"),
])
def test_url_path(raw: str, want: str | None) -> None:
    assert url_path(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    # ASP.NET optional parameters and constraints are parameters, not a query string
    ("/items/type/{typeId}/brand/{brandId?}", "/items/type/{}/brand/{}"), ("/items/{id:int?}?x=1", "/items/{}"),
])
def test_url_path_optional_parameters(raw: str, want: str) -> None:
    assert url_path(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    # a relative URL (a typed HttpClient's BaseAddress, a route group) is a path; a host name is not
    ("api/catalog/items?x=1", "/api/catalog/items"), ("catalogBrands", "/catalogBrands"), ("{id}/pic", "/{}/pic"),
    ("example.com/x", None), ("\x00items", None), ("./x", None),
])
def test_url_path_relative(raw: str, want: str | None) -> None:
    assert url_path(raw, relative=True) == want
    assert url_path(raw) in (None, want)


def test_bad_input_never_raises() -> None:
    for name, data in [("x.go", b"package \xff\xfe func ( {{{{"), ("x.py", b"def f(:\n  requests.get(" * 50),
                       ("x.ts", b"gql`query { a(` ; fetch(`"), ("x.java", b"class { @GetMapping(")]:
        src = SourceFile("r", name, data)
        (extractor,) = [e for e in EXTRACTORS if e.wants(name)]
        extractor.extract(src)


def test_deep_nesting_is_bounded() -> None:
    data = ("x = " + "(" * 3000 + "1" + ")" * 3000 + "\nrequests.get('/a' + " * 1 + "'/b')\n").encode()
    src = SourceFile("r", "deep.py", data)
    (extractor,) = [e for e in EXTRACTORS if e.wants("deep.py")]
    part = extractor.extract(src)
    assert all(u.kind == "http.call" for u in part.usages)


def test_every_query_pattern_has_one_category() -> None:
    from indexers.sources.code.facts import LANGS, file_query

    for lang in set(LANGS.values()):
        for late in (False, True):
            fq = file_query(lang, late)
            assert fq is None or len(fq.category) == fq.query.pattern_count


@pytest.mark.parametrize(("name", "data", "want"), [
    ("q.py", b'import psycopg\ncur.execute("SELECT email FROM users WHERE x = \'\x80\'")\n', ("sql.column", "users", "email")),
    ("q.go", b'package q\nfunc f() { db.Query("SELECT email FROM users -- \xff") }\n', ("sql.column", "users", "email")),
    ("q.ts", b'const q = require("pg\xfe");\nconst s = "SELECT email FROM users \xfe";\n', ("sql.column", "users", "email")),
    ("r.ts", b'const s = "SELECT email FROM users \xfe";\n', ("sql.column", "users", "email")),
])
def test_invalid_utf8_meets_no_query_predicate(name: str, data: bytes, want: tuple[str, str, str]) -> None:
    """tree-sitter raises when a `#match?`/`#eq?` predicate meets invalid UTF-8: `SourceFile` must have
    replaced such bytes before any query runs."""
    (extractor,) = [e for e in EXTRACTORS if e.wants(name)]
    part = extractor.extract(SourceFile("r", name, data))
    assert want in {(u.kind, u.qualifier, u.name) for u in part.usages}
    assert part.errors == []


def test_typed_predicate_keeps_client_declarations() -> None:
    data = (b"package p\nimport (\n\tpb \"example.com/gen/cart\"\n)\n"
            b"type S struct {\n\tcart pb.CartServiceClient\n\tn int\n}\n"
            b"func (s *S) F(ctx context.Context) { s.cart.GetCart(ctx, nil) }\n")
    part = EXTRACTORS[0].extract(SourceFile("r", "s.go", data))
    assert [(u.kind, u.qualifier, u.name) for u in part.usages] == [("grpc.field", "CartService", "cart"),
                                                                     ("grpc.call", "CartService", "GetCart")]


def test_file_without_hints_yields_nothing_and_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    from indexers import ts

    def no_parse(*_a: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(ts, "parse", no_parse)
    part = EXTRACTORS[0].extract(SourceFile("r", "a.py", b"def add(a, b):\n    return a + b\n"))
    assert part.usages == [] and part.errors == []


def test_operation_documents_keep_what_parses_and_bound_nesting() -> None:
    (ops,) = DOCUMENTS
    text = "query Broken {\n  cart(id: {\n}\n\nquery Fine {\n  products { id }\n}\n"
    part = ops.extract(SourceFile("r", "app/ops.graphql", text.encode()))
    assert [(u.qualifier, u.name, u.range.start_line) for u in part.usages] == [("Query", "products", 5),
                                                                                ("Query", "id", 5)]
    deep = "query Deep " + "{ a " * 5000 + "}" * 5000
    assert ops.extract(SourceFile("r", "deep.graphql", deep.encode())).usages == []
    schema = "type Query {\n  products: [Product]\n}\n"  # a schema: not even parsed for operations
    assert ops.extract(SourceFile("r", "schema.graphql", schema.encode())).usages == []


def test_operation_headers_with_variables_defaults_and_directives_are_read() -> None:
    (ops,) = DOCUMENTS
    text = ("query Vet($vetId: Int!) {\n  vet(id: $vetId) { id }\n}\n"
            "query Owners(\n  $after: String\n  $dir: OrderDirection = ASC\n) @cached(ttl: 60) {\n  owners { id }\n}\n"
            "mutation AddVisit($input: AddVisitInput!) {\n  addVisit(input: $input) { id }\n}\n")
    part = ops.extract(SourceFile("r", "app/ops.graphql", text.encode()))
    assert [(u.qualifier, u.name, u.range.start_line) for u in part.usages] == [
        ("Query", "vet", 1), ("Query", "id", 1), ("Query", "owners", 7), ("Query", "id", 7),
        ("Mutation", "addVisit", 10), ("Mutation", "id", 10)]
    # a broken document is read definition by definition: the operation with variables after it is kept
    broken = "query Broken {\n  cart(id: {\n}\n\nquery Fine($id: ID!) {\n  product(id: $id) { id }\n}\n"
    part = ops.extract(SourceFile("r", "app/broken.graphql", broken.encode()))
    assert [(u.name, u.range.start_line) for u in part.usages] == [("product", 5), ("id", 5)]
    schema = "schema {\n  query: Query\n  mutation: Mutation\n}\ntype Query {\n  query(id: ID!): Q\n}\n"
    assert ops.extract(SourceFile("r", "schema.graphqls.graphql", schema.encode())).usages == []


def test_another_librarys_create_client_makes_no_grpc_client() -> None:
    text = ('import { createClient } from "redis";\nimport { createGrpcTransport } from "@connectrpc/connect-node";\n'
            'import { CartService } from "./gen/cart_connect";\nconst c = createClient(CartService, {});\n'
            'c.getCart({});\n')
    usages, _errors, _gen = extract(FIXTURES / "typescript" / "x.ts", text)
    assert [u for u in usages if u.kind.startswith("grpc.")] == []
