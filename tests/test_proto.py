"""Protobuf extractor: annotated fixtures under tests/fixtures/proto/, each checked after workspace
resolution. A top-level `.proto` is a one-file workspace; a folder is a workspace whose first path
component names the repo. `*.crlf.proto` fixtures are extracted with CRLF line ends."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from indexers.model import Entity, FileFacts
from indexers.positions import SourceFile
from indexers.sources.contracts import proto
from indexers.sources.contracts.proto import EXTRACTORS, ProtoExtractor, json_name, string_value
from tests.annotations import Fixture, check, load_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "proto"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() or p.suffix == ".proto")
EX = ProtoExtractor()


def _extract(repo: str, path: str, fixture: Fixture, crlf: bool) -> FileFacts:
    data = fixture.text.replace("\n", "\r\n") if crlf else fixture.text
    part = EX.extract(SourceFile(repo, path, data.encode("utf-8")))
    return FileFacts(repo, path, hashlib.sha256(data.encode()).hexdigest(), "proto", entities=tuple(part.entities), errors=tuple(part.errors))


def _workspace(case: str) -> list[tuple[FileFacts, Fixture]]:
    root = FIXTURES / case
    if root.is_file():
        fx = load_fixture(root)
        return [(_extract("fixtures", case, fx, case.endswith(".crlf.proto")), fx)]
    out = []
    for f in sorted(root.rglob("*.proto")):
        repo, path = f.relative_to(root).as_posix().split("/", 1)
        fx = load_fixture(f)
        out.append((_extract(repo, path, fx, f.name.endswith(".crlf.proto")), fx))
    return out


def _resolved(files: list[FileFacts]) -> dict[tuple[str, str], list[Entity]]:
    res = EX.resolve(files)
    assert res is not None
    out: dict[tuple[str, str], list[Entity]] = {}
    for ff in files:
        kept = [e for e in ff.entities if e.id not in res.replaces]
        out[(ff.repo, ff.path)] = kept + [e for e in res.entities if (e.repo, e.path) == (ff.repo, ff.path)]
    return out


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    work = _workspace(case)
    entities = _resolved([ff for ff, _ in work])
    for ff, fx in work:
        check(entities[(ff.repo, ff.path)], ff.errors, fx)


def test_resolution_reemits_every_copy_of_a_replaced_id() -> None:
    work = _workspace("resolve")
    files = [ff for ff, _ in work]
    res = EX.resolve(files)
    assert res is not None and "proto:money.Money.currency" in res.replaces
    copies = [e for e in res.entities if e.id == "proto:money.Money.currency"]
    assert sorted(e.repo for e in copies) == ["repo-b", "repo-c"]
    assert all(e.attrs["type_fqn"] == "money.Money.Currency" for e in copies)
    before = sum(len(ff.entities) for ff in files)
    after = sum(len(v) for v in _resolved(files).values())
    assert before == after  # replacement neither loses nor duplicates entities


def test_import_prefers_the_same_repo() -> None:
    money = 'syntax = "proto3";\npackage money;\nmessage Money { string units = 1; }\n'
    other = 'syntax = "proto3";\npackage cash;\nmessage Money { string units = 1; }\n'
    user = 'syntax = "proto3";\npackage app;\nimport "money/money.proto";\nmessage Order { Money price = 1; money.Money total = 2; }\n'
    files = []
    for repo, path, text in [("a", "proto/money/money.proto", other), ("b", "money/money.proto", money), ("a", "app/order.proto", user)]:
        part = EX.extract(SourceFile(repo, path, text.encode()))
        files.append(FileFacts(repo, path, "", entities=tuple(part.entities)))
    by_id = {e.id: e for es in _resolved(files).values() for e in es if e.kind == "proto.field"}
    assert "type_fqn" not in by_id["proto:app.Order.price"].attrs  # `Money` is not in scope from package app
    assert "type_fqn" not in by_id["proto:app.Order.total"].attrs  # repo a's money.proto declares cash.Money


def test_helpers() -> None:
    assert [json_name(n) for n in ("foo_bar", "foo__bar_", "_x", "FooBar", "a1_b2")] == ["fooBar", "fooBar", "X", "FooBar", "a1B2"]
    assert string_value(r'"a\"b" ' + r"'c\x41\101\u00e9\n'") == 'a"bcAAé\n'
    assert EXTRACTORS[0].wants("api/x.proto") and EXTRACTORS[0].wants("X.PROTO") and not EXTRACTORS[0].wants("x.proto.bak")


def test_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "message M {" * 80 + "}" * 80
    part = EX.extract(SourceFile("r", "deep.proto", deep.encode()))
    assert any("nested deeper" in e.reason for e in part.errors)
    assert len([e for e in part.entities if e.kind == "proto.message"]) == proto.MAX_DEPTH + 1
    monkeypatch.setattr(proto, "MAX_ENTITIES", 5)
    part = EX.extract(SourceFile("r", "many.proto", ("message M {" + "".join(f"int32 f{i} = {i + 1};" for i in range(20)) + "}").encode()))
    assert len(part.entities) == 5 and any("more than 5" in e.reason for e in part.errors)
    monkeypatch.setattr(proto, "MAX_BYTES", 10)
    part = EX.extract(SourceFile("r", "big.proto", b"message M { int32 a = 1; }"))
    assert not part.entities and "larger than" in part.errors[0].reason


def test_garbage_never_raises() -> None:
    for data in (b"", b"\x00\xff\xfe{{{{", b"message", b"}}}} message A { rpc", "message Ä { ü }".encode(), b"service S { rpc A(stream) returns; }"):
        part = EX.extract(SourceFile("r", "g.proto", data))
        assert all(e.line is None or e.line >= 0 for e in part.errors)


PATCH_CASES = [
    b'syntax = "proto3";\n// A group of users; don\'t extend it.\nmessage Group { string name = 1; }\n',
    b"syntax = 'proto3';\nmessage A {}\n",
    b"// syntax = 'proto2' in a comment\nsyntax = \"proto2\";\nmessage A { optional group G = 1 { optional int32 x = 2; } }\n",
    b'syntax = "proto2";\nextend .pkg.Base { optional int32 y = 100; }\n',
    b'syntax = "proto2";\nmessage B { extensions 100 to max [declaration = { number: 100 }]; }\n',
    b'edition = \'2023\';\n/* group extend extensions syntax edition */ message C { string group_name = 1; }\n',
    b'syntax = "proto3";\nmessage D { string s = 1; } // the user\'s group, the extensions they\'d want\n',
]


@pytest.mark.parametrize("data", PATCH_CASES)
def test_patch_skips_the_token_walk_only_when_nothing_would_change(data: bytes) -> None:
    """`_patch` looks for the four rewrites' patterns before reading the file's tokens (comments saying
    "group", "don't" or "syntax" are in most files of a large repository): the answer is the walk's."""
    fast, groups = proto._patch(data)
    slow, slow_groups = proto._rewrite(data)
    assert fast == slow
    assert {k: (g.label, g.number, g.deprecated) for k, g in groups.items()} == \
        {k: (g.label, g.number, g.deprecated) for k, g in slow_groups.items()}
