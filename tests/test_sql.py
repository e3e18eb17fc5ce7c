"""SQL DDL extraction and migration folding, checked against tests/fixtures/sql/.

Per file: every wanted `*.sql` fixture is an annotated file. Per folder: `resolved.expect` lists the schema
that `resolve()` must produce from all the folder's files (exactly), one `<id> at=<file> key=value` a line.
"""

from __future__ import annotations

import hashlib
import random
import shlex
from pathlib import Path

import pytest

from indexers.model import FileFacts
from indexers.positions import SourceFile
from indexers.sources.contracts.sql.ddl import EXTRACTORS, SqlExtractor, order_key, statements
from tests.annotations import check, load_fixture, parse_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "sql"
EX = SqlExtractor()
FILES = sorted(p for p in FIXTURES.rglob("*.sql") if EX.wants(p.relative_to(FIXTURES).as_posix()))
FOLDERS = sorted(p.parent for p in FIXTURES.rglob("resolved.expect"))


def _facts(path: Path, rel: str, repo: str = "repo") -> FileFacts:
    text = parse_fixture(path.read_text(encoding="utf-8")).text
    part = EX.extract(SourceFile(repo, rel, text.encode("utf-8")))
    return FileFacts(repo, rel, hashlib.sha256(text.encode()).hexdigest(), "sql", False,
                     tuple(part.entities), errors=tuple(part.errors))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture(path: Path) -> None:
    fx = load_fixture(path)
    part = EX.extract(SourceFile("repo", f"db/{path.relative_to(FIXTURES).as_posix()}", fx.text.encode("utf-8")))
    check(part.entities, part.errors, fx)


def _value(raw: str) -> object:
    import json

    try:
        return json.loads(raw)
    except ValueError:
        return raw


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_resolve(folder: Path) -> None:
    rels = [p.relative_to(FIXTURES).as_posix() for p in folder.rglob("*.sql")]
    facts = [_facts(FIXTURES / rel, f"svc/migrations/{rel}") for rel in rels if EX.wants(rel)]
    random.Random(7).shuffle(facts)  # input order must not matter
    res = EX.resolve(facts)
    assert res is not None
    got = {e.id: e for e in res.entities}
    want: dict[str, dict[str, object]] = {}
    for row in (folder / "resolved.expect").read_text(encoding="utf-8").splitlines():
        if row.strip() and not row.startswith("#"):
            ident, *pairs = shlex.split(row)
            want[ident] = {k: _value(v) for k, v in (p.split("=", 1) for p in pairs)}
    assert sorted(got) == sorted(want)
    per_file = {f.path: f for f in facts}
    for ident, attrs in want.items():
        ent = got[ident]
        at = f"svc/migrations/{folder.name}/{attrs.pop('at')}"
        assert ent.path == at, (ident, ent.path)
        same = [e for e in per_file[at].entities if e.kind == ent.kind and e.name == ent.name]
        defined = attrs.pop("defined", None)
        assert [e for e in same if e.range == ent.range and defined in (None, e.attrs["op"])], ident
        assert any(h["path"] == at and h["line"] == ent.range.start_line for h in ent.attrs["history"]), ident
        if "ops" in attrs:
            assert [h["op"] for h in ent.attrs["history"]] == attrs.pop("ops"), ident
        for key, value in attrs.items():
            assert ent.attrs.get(key, "<absent>") == value, (ident, key)
    assert {e.id for f in facts for e in f.entities} <= res.replaces


def test_resolve_keeps_folders_and_repos_apart() -> None:
    src = FIXTURES / "flyway" / "V1__init.sql"
    facts = [_facts(src, "a/migrations/V1__init.sql"), _facts(src, "b/migrations/V1__init.sql"),
             _facts(src, "a/migrations/V1__init.sql", repo="other"),
             _facts(FIXTURES / "flyway" / "V2__email.sql", "a/migrations/V2__email.sql")]
    res = EX.resolve(facts)
    assert res is not None
    where = sorted((e.repo, e.path.split("/")[0]) for e in res.entities if e.id == "sql:users.legacy_flag")
    assert where == [("other", "a"), ("repo", "b")]  # dropped by V2 only in repo/a
    assert EX.resolve([]) is None


def test_wants_and_order() -> None:
    assert EXTRACTORS[0].wants("db/migrate/20240101120000_init.sql")
    assert EX.wants("schema.sql") and EX.wants("migrations/0001_a.up.sql") and EX.wants("x/R__views.sql")
    for down in ("migrations/0001_a.down.sql", "m/2024_x/down.sql", "db/U3__undo.sql", "README.md"):
        assert not EX.wants(down), down
    names = ["V10__c.sql", "R__views.sql", "V2__b.sql", "V1_1__a2.sql", "V1__a.sql"]
    assert sorted(names, key=order_key) == ["V1__a.sql", "V1_1__a2.sql", "V2__b.sql", "V10__c.sql", "R__views.sql"]
    names = ["10_c.sql", "2_b.sql", "0001_a.sql", "20240101120000_d.sql"]
    assert sorted(names, key=order_key) == ["0001_a.sql", "2_b.sql", "10_c.sql", "20240101120000_d.sql"]


@pytest.mark.parametrize("text", [
    "CREATE TABLE t (" + "(" * 20000 + ");",
    "CREATE TABLE t (a int" * 500,
    "ALTER TABLE",
    "CREATE TABLE \"unterminated (a int);",
    "CREATE TABLE t (a int /* open comment",
    "DROP TABLE ;",
    "ALTER TABLE t RENAME COLUMN a;",
    "\x00\x01 CREATE",
])
def test_bad_input_never_raises(text: str) -> None:
    part = EX.extract(SourceFile("r", "schema.sql", text.encode("utf-8")))
    assert part.errors or text.startswith("\x00")
    assert all(e.line is not None for e in part.errors)


def test_statements_after_ignored_ones_are_kept() -> None:
    text = ("INSERT INTO a VALUES ('x;y', $$;$$); CREATE TABLE b (c int);\nSELECT 1 -- ;\n; ALTER TABLE b ADD d int;\n"
            "UPDATE x SET y = 'GO'\nGO\nDROP TABLE b;\nDELETE FROM z;\nRENAME TABLE q TO r")
    got = [[t.text for t in st[:2]] for st in statements(text, [])]
    assert got == [["CREATE", "TABLE"], ["ALTER", "TABLE"], ["DROP", "TABLE"], ["RENAME", "TABLE"]]


def test_resolve_mysql_change_renames_in_place() -> None:
    text = "CREATE TABLE `t` (a int, b int, c int);\nALTER TABLE `t` CHANGE b bb text NOT NULL, DROP COLUMN c;\n"
    part = EX.extract(SourceFile("r", "db/schema.sql", text.encode()))
    res = EX.resolve([FileFacts("r", "db/schema.sql", "x", "sql", False, tuple(part.entities))])
    assert res is not None
    got = {e.id: e for e in res.entities}
    assert got["sql:t"].attrs["columns"] == ["a", "bb"]
    bb = got["sql:t.bb"]
    assert (bb.attrs["type"], bb.attrs["nullable"], bb.range.start_line) == ("text", False, 1)
    assert [h["op"] for h in bb.attrs["history"]] == ["create", "redefine"]
    assert "sql:t.b" in res.replaces and "sql:t.b" not in got
