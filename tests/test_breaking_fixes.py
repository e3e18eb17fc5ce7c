"""The editor's data: `findings_for_text` and the fixes' text edits. Each fix, applied, must make its
finding go away (and the file still parse), which checks the edits exactly."""

from __future__ import annotations

import pytest

from indexers.snapshot import build
from lore.check.compare import extract, findings_for_text
from lore.check.findings import Edit, Finding

SNAP = build({}, [])


def apply(text: str, edits: tuple[Edit, ...]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    out = text
    for e in sorted(edits, key=lambda e: (e.range.start_line, e.range.start_col), reverse=True):
        a = offsets[e.range.start_line] + e.range.start_col
        b = offsets[e.range.end_line] + e.range.end_col
        out = out[:a] + e.new_text + out[b:]
    return out


PROTO_BASE = """syntax = "proto3";
package shop;

message Cart {
  string id = 1;
  int32 count = 2 [json_name = "n"];
  string note = 3;
}

enum Color {
  COLOR_UNSPECIFIED = 0;
  RED = 1;
}

service Carts {
  rpc Get(Cart) returns (Cart);
  rpc Drop(Cart) returns (Cart);
}

message Gone {
  string x = 1;
}
"""
PROTO_NEW = (PROTO_BASE.replace('  int32 count = 2 [json_name = "n"];\n', "").replace("  RED = 1;\n", "")
             .replace("  rpc Drop(Cart) returns (Cart);\n", "").replace("message Gone {\n  string x = 1;\n}\n", ""))

OPENAPI_BASE = """openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /carts:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: "#/components/schemas/Cart"}}
    delete:
      responses:
        "204": {description: gone}
components:
  schemas:
    Cart:
      type: object
      required: [id, total]
      properties:
        id: {type: string}
        total:
          type: number
"""
OPENAPI_NEW = OPENAPI_BASE.replace("""    delete:
      responses:
        "204": {description: gone}
""", "").replace("""        total:
          type: number
""", "")

GRAPHQL_BASE = """type Query {
  cart(id: ID!): Cart
  carts: [Cart]
}
type Cart { id: ID! }
enum Status {
  OPEN
  CLOSED
}
"""
GRAPHQL_NEW = GRAPHQL_BASE.replace("  carts: [Cart]\n", "").replace("  CLOSED\n", "")

CASES = [("a.proto", PROTO_BASE, PROTO_NEW), ("shop.yaml", OPENAPI_BASE, OPENAPI_NEW), ("s.graphql", GRAPHQL_BASE, GRAPHQL_NEW)]


def _findings(path: str, base: str, new: str) -> list[Finding]:
    return findings_for_text(SNAP, "repo", path, new, base)


@pytest.mark.parametrize("path,base,new", CASES, ids=[c[0] for c in CASES])
def test_every_fix_resolves_its_finding(path: str, base: str, new: str) -> None:
    found = _findings(path, base, new)
    assert found and all(f.fixes for f in found if not f.rule.startswith("response-required"))
    for f in found:
        for fix in f.fixes:
            fixed = apply(new, fix.edits)
            assert not extract("repo", path, fixed.encode()).errors, (fix.kind, fixed)
            after = [(g.rule, g.entity) for g in _findings(path, base, fixed)]
            assert (f.rule, f.entity) not in after, (fix.kind, fixed)


def test_proto_edits_are_exact() -> None:
    found = {f.entity: f for f in _findings("a.proto", PROTO_BASE, PROTO_NEW)}
    count = {fx.kind: fx for fx in found["proto:shop.Cart.count"].fixes}
    assert list(count) == ["reserve", "deprecate", "restore"]
    (edit,) = count["reserve"].edits
    assert (edit.path, edit.range.start_line, edit.range.start_col, edit.new_text) == ("a.proto", 4, 0, '  reserved 2;\n  reserved "count";\n')
    (edit,) = count["deprecate"].edits
    assert (edit.range.start_line, edit.new_text) == (5, '  int32 count = 2 [deprecated = true, json_name = "n"];\n')
    (edit,) = count["restore"].edits
    assert edit.new_text == '  int32 count = 2 [json_name = "n"];\n'
    drop = {fx.kind: fx.edits[0].new_text for fx in found["proto:shop.Carts.Drop"].fixes}
    assert drop == {"deprecate": "  rpc Drop(Cart) returns (Cart) { option deprecated = true; }\n",
                    "restore": "  rpc Drop(Cart) returns (Cart);\n"}
    gone = {fx.kind: fx.edits[0] for fx in found["proto:shop.Gone"].fixes}
    assert gone["deprecate"].new_text == "message Gone {\n  option deprecated = true;\n  string x = 1;\n}\n"


def test_editions_reserve_bare_names() -> None:
    base = 'edition = "2023";\npackage p;\nmessage M {\n  string a = 1;\n  string b = 2;\n}\n'
    new = base.replace("  string b = 2;\n", "")
    (f,) = _findings("e.proto", base, new)
    assert f.fixes[0].edits[0].new_text == "  reserved 2;\n  reserved b;\n"


def test_consumers_and_severity_come_from_the_snapshot() -> None:
    from indexers.model import FileFacts, Span, Usage

    code = FileFacts("web", "client.py", "x", usages=(
        Usage("web", "client.py", Span(3, 4, 3, 20), "grpc.call", "Drop", "Carts", language="python",
              attrs={"import": ["shop"]}),))
    snap = build({}, [code])
    found = {f.entity: f for f in findings_for_text(snap, "repo", "a.proto", PROTO_NEW, PROTO_BASE)}
    drop = found["proto:shop.Carts.Drop"]
    assert drop.severity == "error" and [(c.repo, c.path, c.line) for c in drop.consumers] == [("web", "client.py", 3)]
    assert found["proto:shop.Gone"].severity == "warning"


def test_half_typed_buffer_reports_no_deletions() -> None:
    broken = PROTO_BASE.replace("  string note = 3;\n}", "  string note = 3;\n  rpc (\n}")
    assert [f.rule for f in _findings("a.proto", PROTO_BASE, broken)] == []


def test_inline_ignore_in_the_new_file() -> None:
    new = PROTO_BASE.replace("  string note = 3;", "  // lore:ignore FIELD_SAME_TYPE nobody reads note\n  bytes note = 3;")
    (f,) = _findings("a.proto", PROTO_BASE, new)
    assert (f.rule, f.suppressed, f.suppressed_by) == ("FIELD_SAME_TYPE", "nobody reads note", "inline")
