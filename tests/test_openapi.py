"""OpenAPI/Swagger extraction: annotated fixtures (YAML comments, `.expect` sidecars for JSON), cross-file
`$ref` resolution, the position-keeping YAML/JSON loader, and hostile input (alias bombs, deep nesting,
huge or over-long files).

Entity IDs of operations contain a space (`openapi:cart:GET /cart`), which the annotation format cannot
hold, so fixtures write it as `%20`."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from indexers.extract import extract_file
from indexers.model import Entity, FileError, FileFacts
from indexers.positions import SourceFile
from indexers.sources.contracts.openapi.spec import MAX_BYTES, OpenAPIExtractor, api_name
from indexers.sources.yaml import load as yamlpos
from tests.annotations import Fixture, check, load_fixture, parse_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "openapi"
EX = OpenAPIExtractor()
SINGLE = ["cart.yaml", "petstore.yaml", "store.json", "bad.yaml", "bad_syntax.yaml"]
# broken specs: each names its error line and keeps (exactly) the operations outside the broken block
RECOVER = sorted(p.name for p in FIXTURES.glob("recover_*.yaml"))


def _decoded(fx: Fixture) -> Fixture:
    for exp in fx.expectations:
        exp.id = exp.id.replace("%20", " ")
    return fx


def _extract(path: str, text: str | bytes, repo: str = "repo"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return EX.extract(SourceFile(repo, path, data))


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", SINGLE + RECOVER)
def test_fixture(name: str, crlf: bool) -> None:
    fx = _decoded(load_fixture(FIXTURES / name))
    text = fx.text.replace("\n", "\r\n") if crlf else fx.text
    part = _extract(f"specs/{name}", text)
    assert part.entities or fx.file_errors
    check(part.entities, part.errors, fx)


def test_cross_file_refs_and_chains() -> None:
    base = FIXTURES / "multi"
    facts: list[FileFacts] = []
    fixtures: dict[str, Fixture] = {}
    for p in sorted(base.rglob("*.yaml")):
        rel = "api/" + p.relative_to(base).as_posix()
        fx = _decoded(load_fixture(p))
        part = _extract(rel, fx.text)
        fixtures[rel] = fx
        facts.append(FileFacts("repo", rel, "0", entities=tuple(part.entities), errors=tuple(part.errors)))
    res = EX.resolve(facts)
    assert res is not None
    entities = [e for ff in facts for e in ff.entities if e.id not in res.replaces] + res.entities
    assert len(fixtures) == 2
    for rel, fx in fixtures.items():
        errors = [e for ff in facts if ff.path == rel for e in ff.errors] + [e for e in res.errors if e.path == rel]
        check([e for e in entities if e.path == rel], errors, fx)


def test_resolve_reemits_every_copy_of_a_changed_id() -> None:
    a = _extract("x/cart.yaml", "openapi: 3.0.0\ncomponents:\n  schemas:\n    A:\n      $ref: './b.yaml#/components/schemas/B'\n", "r1")
    b = _extract("x/b.yaml", "components:\n  schemas:\n    B: {type: string}\n", "r1")
    copy = _extract("x/cart.yaml", "openapi: 3.0.0\ncomponents:\n  schemas:\n    A: {type: integer}\n", "r2")
    facts = [FileFacts("r1", "x/cart.yaml", "1", entities=tuple(a.entities)),
             FileFacts("r1", "x/b.yaml", "2", entities=tuple(b.entities)),
             FileFacts("r2", "x/cart.yaml", "3", entities=tuple(copy.entities))]
    res = EX.resolve(facts)
    assert res is not None and "openapi:cart:schema:A" in res.replaces
    got = {(e.repo, e.attrs.get("ref_id"), e.attrs.get("type")) for e in res.entities if e.id == "openapi:cart:schema:A"}
    assert got == {("r1", "openapi:b:schema:B", None), ("r2", None, "integer")}
    assert "ref_file" not in next(e for e in res.entities if e.repo == "r1").attrs


@pytest.mark.parametrize("path,text", [
    ("deploy/k8s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: openapi}\n"),
    ("package.json", '{"name": "x", "dependencies": {"openapi": "1.0"}}'),
    ("conf/nested.json", '{"tool": {"openapi": "3.0.0", "paths": {}}}'),
    ("schemas/thing.yaml", "components:\n  widgets: {}\n"),
    ("config/application.yaml", "openapi:\n  enabled: true\nswagger: on\n"),
    ("empty.yaml", ""),
])
def test_other_files_give_nothing(path: str, text: str) -> None:
    part = _extract(path, text)
    assert part.entities == [] and part.errors == []


def test_wants_and_registry() -> None:
    assert EX.wants("a/b/cart.YAML") and EX.wants("x.yml") and EX.wants("s.json")
    assert not EX.wants("a.proto") and not EX.wants("yaml")
    ff = extract_file("repo", "svc/cart/api/openapi.yaml", b"openapi: 3.1.0\ninfo: {title: T, version: '1'}\n")
    assert [e.id for e in ff.entities] == ["openapi:cart"]


@pytest.mark.parametrize("path,text,expected", [
    ("specs/cart.yaml", "", "cart"),
    ("services/billing/openapi.yaml", "", "billing"),
    ("services/billing/api/v2/swagger.json", "", "billing"),
    ("openapi.yaml", "", "openapi"),
    ("specs/cart.yaml", "info: {x-api-id: shop-cart}", "shop-cart"),
])
def test_api_name(path: str, text: str, expected: str) -> None:
    root = yamlpos.load(SourceFile("r", path, text.encode())).root
    assert api_name(path, root if isinstance(root, yamlpos.Mapping) else None) == expected


def test_unsupported_version() -> None:
    part = _extract("old.json", '{"swagger": "1.2", "apis": []}')
    assert part.entities == []
    assert [(e.line, "unsupported swagger version '1.2'" in e.reason) for e in part.errors] == [(0, True)]


def test_too_large_is_skipped_quickly() -> None:
    data = b"openapi: 3.0.0\npaths:\n" + b"#" * (MAX_BYTES + 1)
    part = _extract("big.yaml", data)
    assert part.entities == [] and "too large" in part.errors[0].reason
    assert _extract("big.yaml", b"a: b\n" + b"#" * (MAX_BYTES + 1)).errors == []


BOMB = "".join(["openapi: 3.0.0\ninfo: {title: B, version: '1'}\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"]
               + [f"x-{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)]
               + ["components:\n  schemas:\n    Bomb:\n      type: string\n      enum: *i\n"])


def test_alias_bomb_is_not_expanded() -> None:
    loaded = yamlpos.load(SourceFile("r", "bomb.yaml", BOMB.encode()))
    assert any("aliases expand to" in e.reason for e in loaded.errors)
    with pytest.raises(yamlpos.BudgetExceeded):
        yamlpos.to_plain(loaded.root, yamlpos.Budget(100_000))
    part = _extract("bomb.yaml", BOMB)
    assert any("value expands to" in e.reason and e.line == 15 for e in part.errors)
    assert {"openapi:bomb", "openapi:bomb:schema:Bomb"} <= {e.id for e in part.entities}


@pytest.mark.parametrize("path,text", [
    ("deep.yaml", "openapi: 3.0.0\ncomponents:\n  schemas:\n    X:\n      example: " + "[" * 3000 + "]" * 3000 + "\n"),
    ("deep.json", '{"openapi": "3.0.0", "components": {"schemas": {"X": {"example": ' + "[" * 3000 + "]" * 3000 + "}}}}"),
])
def test_deep_nesting(path: str, text: str) -> None:
    part = _extract(path, text)
    assert any("nesting deeper than" in e.reason and e.line is not None for e in part.errors)
    assert "openapi:deep:schema:X" in {e.id for e in part.entities}


def test_more_lines_than_the_yaml_grammar_counts() -> None:
    # tree-sitter-yaml keeps rows in an int16: past 32768 lines the loader parses region by region.
    paths = "".join(f"  /p{i}:\n    get:\n      responses: {{}}\n" for i in range(11_500))
    text = "openapi: 3.0.0\ninfo: {title: L, version: '1'}\npaths:\n" + paths + "components:\n  schemas:\n    Last: {type: string}\n"
    part = _extract("long.yaml", text)
    assert part.errors == []
    ops = {e.id: e for e in part.entities if e.kind == "openapi.operation"}
    assert len(ops) == 11_500
    assert ops["openapi:long:GET /p11499"].range.start_line == 3 + 11_499 * 3 + 1
    last = next(e for e in part.entities if e.id == "openapi:long:schema:Last")
    assert last.range.start_line == text.count("\n") - 1 and last.attrs["type"] == "string"


SCALARS = """\
plain: hello world
multi: first
  second

  third
int: 42
hex: 0x1F
float: 2.50
inf: -.inf
bool: true
nil: ~
empty:
quoted: "tab\\there \\u00e9 \\x41"
folded_dq: "a
  b\\
  c"
single: 'it''s'
literal: |
  line 1
   line 2
folded: >-
  para one
  continues

  para two
keep: |+
  kept

tagged: !!str 123
flow: {a: [1, 2], b: c}
"on": yes
merged:
  <<: {x: 1, y: 2}
  y: 3
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_loader_values_match_ruamel(newline: str) -> None:
    loaded = yamlpos.load(SourceFile("r", "s.yaml", SCALARS.replace("\n", newline).encode()))
    assert loaded.errors == []
    expected = YAML(typ="safe", pure=True).load(SCALARS)
    expected["merged"] = {"x": 1, "y": 3}
    assert yamlpos.to_plain(loaded.root) == expected


def test_loader_positions_and_duplicates() -> None:
    text = 'a:\n  "größe": 1\n  😀: {k: v}\n  k: 1\n  k: 2\n'
    loaded = yamlpos.load(SourceFile("r", "p.yaml", text.encode()))
    root = loaded.root
    assert isinstance(root, yamlpos.Mapping)
    inner = root.get("a")
    assert isinstance(inner, yamlpos.Mapping)
    pair = inner.pair("größe")
    assert pair is not None and loaded.span(pair.key) == loaded.src.span_from_chars(1, 2, 1, 9)
    emoji = inner.get("😀")
    assert isinstance(emoji, yamlpos.Mapping)
    kpair = emoji.pair("k")
    assert kpair is not None and (loaded.span(kpair.key).start_col, loaded.span(kpair.value).start_col) == (7, 10)
    assert yamlpos.to_plain(inner.get("k")) == 1
    assert [(e.line, "duplicate key 'k'" in e.reason) for e in loaded.errors] == [(4, True)]


def test_json_loader_positions() -> None:
    text = '{\n  "a": [1, {"b": "x\\u00e9"}],\n  "c": null\n}'
    loaded = yamlpos.load(SourceFile("r", "p.json", text.encode()))
    assert yamlpos.to_plain(loaded.root) == {"a": [1, {"b": "xé"}], "c": None}
    root = loaded.root
    assert isinstance(root, yamlpos.Mapping)
    pair = root.pair("c")
    assert pair is not None and loaded.span(pair.key) == loaded.src.span_from_chars(2, 2, 2, 5)


def test_fixture_sidecar_ids() -> None:
    # the annotation helper itself: guards the %20 convention used above
    fx = _decoded(parse_fixture("{}", "1:0-1 openapi:x:GET%20/a method=GET"))
    check([Entity("openapi:x:GET /a", "openapi.operation", "GET /a", "r", "p", fx_span(), {"method": "GET"})],
          [], fx)
    with pytest.raises(AssertionError):
        check([], [FileError("r", "p", "boom", 0)], fx)


def fx_span():
    from indexers.model import Span

    return Span(0, 0, 0, 1)


MID_JSON = """{
  "openapi": "3.0.0",
  "info": {"title": "T", "version": "1"},
  "paths": {
    "/a": {
      "get": {"responses": {}}
    },
    "/b": {
      "get": {
        "parameters": [{"name": "q", "in": "query", "required": true}],
        "responses": {
      }
    },
    "/c": {
      "put": {"responses": {}}
    }
  }
}
"""


def test_json_unterminated_object_keeps_the_rest() -> None:
    part = _extract("specs/mid.json", MID_JSON)
    assert [(e.line, "JSON syntax error" in e.reason and "missing '}'" in e.reason) for e in part.errors] == [(10, True)]
    ops = {e.id: e.range.start_line for e in part.entities if e.kind == "openapi.operation"}
    assert ops == {"openapi:mid:GET /a": 5, "openapi:mid:PUT /c": 14}  # /b's operation was broken: not guessed
    assert not [e for e in part.entities if "/b" in e.id]


def test_one_line_json_falls_back_to_what_tree_sitter_kept() -> None:
    text = '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {}}}, "/b": {"get": {"responses": }}}'
    part = _extract("specs/min.json", text)
    assert [e.line for e in part.errors if "JSON syntax error" in e.reason] == [0]
    assert "openapi:min" in {e.id for e in part.entities}


def test_syntax_errors_each_at_their_line_and_valid_files_skip_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = "a: 1\nb:\n  c: [x\n  d: 2\ne:\n  f: 'open\ng: 3\n"
    loaded = yamlpos.load(SourceFile("r", "x.yaml", broken.encode()))
    assert [e.line for e in loaded.errors] == [2, 5]
    assert yamlpos.to_plain(loaded.root) == {"a": 1, "b": {"d": 2}, "e": None, "g": 3}

    def refuse(*args: object) -> None:
        raise AssertionError("recovery ran on a valid file")

    monkeypatch.setattr(yamlpos, "_Recovery", refuse)
    assert yamlpos.load(SourceFile("r", "s.yaml", SCALARS.encode())).errors == []
    assert yamlpos.load(SourceFile("r", "p.json", b'{"a": [1, 2]}')).errors == []


def test_locating_errors_in_a_large_spec_is_bounded() -> None:
    item = "  /p{i}:\n    get:\n      parameters:\n        - {{name: a, in: query}}\n      responses:\n        '200': {{description: ok}}\n"
    paths = [item.format(i=i) for i in range(1500)]
    paths[500] = paths[500].replace("ok}", "ok")
    paths[1000] = paths[1000].replace("in: query}", "in: query")
    text = "openapi: 3.0.0\ninfo: {title: L, version: '1'}\npaths:\n" + "".join(paths)
    part = _extract("big.yaml", text)  # its cost is measured in benchmarks/ (no timed assertion in a test)
    assert [e.line for e in part.errors] == [3 + 500 * 6 + 5, 3 + 1000 * 6 + 3]
    ops = {e.id for e in part.entities if e.kind == "openapi.operation"}
    assert len(ops) == 1498 and "openapi:big:GET /p500" not in ops and "openapi:big:GET /p1000" not in ops


# A multi-line double-quoted description continued at its key's indentation, as controller-gen writes
# Kubernetes CRD schemas (seen in real CRDs): valid YAML that the tree-sitter grammar rejects.
GRAMMAR_REJECTS = '''openapi: 3.0.3
info:
  title: Exports
  version: "1"
paths:
  /exports/{name}:
    get:
      operationId: getExport
      description: "Returns the export's current condition. \\n Once KEP-1623
      is implemented, this will be replaced by a Condition."
      parameters:
        - name: name
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: ok
'''


def test_valid_yaml_the_grammar_rejects_is_read_whole() -> None:
    from indexers import ts

    assert ts.parse("yaml", GRAMMAR_REJECTS.encode()).root_node.has_error  # the grammar disagrees
    loaded = yamlpos.load(SourceFile("r", "api/exports.yaml", GRAMMAR_REJECTS.encode()))
    assert loaded.errors == []
    get = loaded.root.get("paths").get("/exports/{name}").get("get")  # type: ignore[union-attr]
    assert get.get("description").value == ("Returns the export's current condition. \n Once KEP-1623 is implemented, "
                                             "this will be replaced by a Condition.")
    pair = get.pair("parameters")
    assert pair.key.start == (10, 6)  # exact positions from the conforming parser
    facts = _extract("api/exports.yaml", GRAMMAR_REJECTS)
    assert not facts.errors
    (op,) = [e for e in facts.entities if e.kind == "openapi.operation"]
    assert op.id == "openapi:exports:GET /exports/{name}" and op.range.start_line == 6
    assert [p.attrs["name"] for p in facts.entities if p.kind == "openapi.parameter"] == ["name"]


def test_broken_yaml_is_still_reported_at_its_line() -> None:
    broken = GRAMMAR_REJECTS.replace("          in: path\n", "          in: [path\n")
    loaded = yamlpos.load(SourceFile("r", "api/exports.yaml", broken.encode()))
    assert loaded.errors and loaded.errors[0].line is not None
