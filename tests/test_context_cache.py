"""`lore context` answers from the index without indexing: the Snapshot saved as per-repo query records
(indexers.persist) answers exactly what a full build answers, a file edited since the index makes the
answer say it is stale (and how to refresh) without re-indexing, and with no index yet it indexes first."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers import persist, summary
from indexers.engine import Engine
from indexers.model import Commit, to_plain
from indexers.store import Store
from indexers.workspace import discover
from lore.query import context as query
from tests import ops_system
from tests.test_noop_index import CountingStore
from tests.test_noop_index import ws as ws  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]


def lore(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=check,
                          env=dict(os.environ), timeout=180)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("ctx") / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ctx-ops") / "ops"
    ops_system.build(root)
    return root


def _answers(snap: Any, ws_root: Path) -> dict[str, Any]:
    """The context at every line of every indexed text file, as JSON-able data."""
    ws = discover(ws_root)
    out: dict[str, Any] = {}
    for repo in ws.repos:
        for (name, path) in sorted(k for k in snap.files if k[0] == repo.name):
            lines = (repo.root / path).read_bytes().count(b"\n") + 1
            for line in range(min(lines, 120)):
                out[f"{name}/{path}:{line}"] = to_plain(query.context(snap, name, path, line))
    return out


@pytest.mark.parametrize(("system", "per_bucket"), [("shop", 1000), ("ops", 1000), ("shop", 3)])
def test_saved_snapshot_answers_what_a_full_build_answers(system: str, per_bucket: int, request: pytest.FixtureRequest,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved in one bucket, and in many (a few entities each, as on a large repository; then history in
    chunks of 2 commits and path buckets of 2 paths)."""
    monkeypatch.setattr(persist, "PER_BUCKET", per_bucket)
    if per_bucket < 10:
        monkeypatch.setattr(persist, "_CHUNK", 2)
        monkeypatch.setattr(persist, "_PATHS_PER_BUCKET", 2)
    root: Path = request.getfixturevalue(system)
    cache = tmp_path / "cache"
    ws = discover(root)
    built, _report = Engine(ws, Store(cache), save=True).refresh()
    store = CountingStore(cache)
    saved = Engine(ws, store).saved_snapshot()
    assert saved is not None
    assert "f" not in store.read and "a" not in store.read  # loaded without any file's facts
    assert "qe" not in store.read and "qf" not in store.read  # nor any bucket: lookups read them
    assert (len(saved.entities), len(saved.links), len(saved.possible)) == (
        len(built.entities), len(built.links), len(built.possible))
    assert "qe" not in store.read and "qf" not in store.read  # the counts are the workspace record's
    want, got = _answers(built, root), _answers(saved, root)
    assert len(want) > 50
    assert got == want
    if per_bucket < 10:
        n = persist.bucket_count(len(built.entities) + len(built.links) + len(built.possible))
        assert n > 20
        one = CountingStore(cache)
        lookup = Engine(ws, one).saved_snapshot()
        assert lookup is not None
        key = next(k for k in built.links_by_file if k in built.files)
        query.context(lookup, key[0], key[1], built.links_by_file[key][0].range.start_line)
        assert 1 <= one.read.count("qe") + one.read.count("qf") < n // 2  # a few buckets, not all
    # the tables a whole-Snapshot view iterates hold what the run built, in its order
    assert list(saved.entities) == list(built.entities) and list(saved.links) == built.links
    assert list(saved.possible) == built.possible
    assert list(saved.entities_by_file) == list(built.entities_by_file)
    assert list(saved.links_by_file) == list(built.links_by_file)
    assert {k: saved.links_by_entity[k] for k in saved.links_by_entity} == built.links_by_entity
    engine = Engine(ws, Store(cache))
    first = engine.saved_snapshot()
    assert first is not None
    keys = sorted(k for k in first.files if k in first.links_by_file or k in first.usages_by_file)[:5]
    plain = [to_plain(query.context(first, k[0], k[1], 0)) for k in keys]
    engine.keep_derived(first)  # the service pairs the history computed are kept for this run
    seeded = Engine(ws, Store(cache)).saved_snapshot()
    assert seeded is not None and seeded.history._service_pairs is not None
    assert system != "shop" or len(seeded.history._service_pairs) > 0  # the shop's services change together
    assert [to_plain(query.context(seeded, k[0], k[1], 0)) for k in keys] == plain
    one = CountingStore(cache)
    again = Engine(ws, one).saved_snapshot()
    assert again is not None
    key = min(again.links_by_file or again.usages_by_file)  # a usage site: the answer names other files too
    query.context(again, key[0], key[1], 0)
    assert 1 <= one.read.count("f") <= 4 < len(again.files)  # only the facts of the files the answer looks at


def test_context_after_an_edit_answers_stale_without_reindexing(ws: Path) -> None:  # noqa: F811 - the fixture
    lore("index", str(ws))
    target = ws / "sdk/ports/server.go"
    fresh = json.loads(lore("context", f"{target}:13", "--json").stdout)
    assert fresh["stale"] is False and fresh["stale_files"] == []
    assert not any("stale index" in p for p in fresh["problems"])
    target.write_text(target.read_text() + "// edited\n")
    before = Store().manifest("sdk")["ports/server.go"]
    doc = json.loads(lore("context", f"{target}:13", "--json").stdout)
    assert doc["stale"] is True and doc["stale_files"] == ["sdk/ports/server.go"]
    problem = next(p for p in doc["problems"] if p.startswith("stale index"))
    assert "this file is one of them" in problem and "run `lore index`" in problem
    without = {k: v for k, v in doc.items() if k not in ("stale", "stale_files", "problems")}
    assert without == {k: v for k, v in fresh.items() if k not in ("stale", "stale_files", "problems")}
    text = lore("context", f"{target}:13").stdout
    assert "stale index: 1 file changed since the last `lore index` (sdk/ports/server.go)" in text
    # nothing was re-indexed: the manifest still holds the file as it was, and the change is still seen
    assert Store().manifest("sdk")["ports/server.go"] == before
    assert summary.stale_files(discover(ws), Store()) == [("sdk", "ports/server.go")]
    lore("index", str(ws))
    after = json.loads(lore("context", f"{target}:13", "--json").stdout)
    assert after["stale"] is False


def test_context_with_no_index_indexes_first(ws: Path) -> None:  # noqa: F811 - the fixture
    doc = json.loads(lore("context", f"{ws / 'sdk/ports/server.go'}:13", "--json").stdout)
    assert doc["stale"] is False
    assert any(n["kind"] == "entity" for s in doc["sections"] for n in s["notes"])
    assert summary.stale_files(discover(ws), Store()) == []  # the index it made is the one it answered from


def test_context_after_a_new_commit_says_the_index_is_stale(ws: Path) -> None:  # noqa: F811 - the fixture
    from tests.gitrepo import GitRepo

    lore("index", str(ws))
    GitRepo(ws / "app", init=False).commit("docs", {"notes.txt": "changed\n"})
    doc = json.loads(lore("context", f"{ws / 'sdk/ports/server.go'}:13", "--json").stdout)
    assert doc["stale"] is True
    assert any("HEAD, lore.toml or Lore itself" in p for p in doc["problems"])


def test_saved_history_answers_lookups_from_its_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The query copy of a repo's history: in chunks of 3 commits and path buckets of 2 paths, every
    lookup, `touching` and the log order equal the commits it was made from (bodies left out), and a
    question reads only the chunk records it needs; a chunk of another run is a MissingRecord, not a
    wrong answer."""
    monkeypatch.setattr(persist, "_CHUNK", 3)
    monkeypatch.setattr(persist, "_PATHS_PER_BUCKET", 2)
    commits = [Commit(sha=f"{i:040x}", date=f"2026-01-{i + 1:02d}", author="a", subject=f"change {i}", body="long body",
                      kinds=("hotfix",) if i % 4 == 0 else (), files=tuple(f"f{j}.py" for j in range(i % 5)) + ("f1.py",))
               for i in range(20)]

    class Root:
        root = tmp_path

    records = dict(persist.history_records(Root(), "repo", "run1", "h", commits, None))  # type: ignore[arg-type]
    read: list[tuple[str, int]] = []

    def fetch(kind: str, k: int) -> object:
        read.append((kind, k))
        got = records[(kind, str(tmp_path), "repo", k)]
        if got["token"] != "run1":
            raise persist.MissingRecord(f"{kind}/{k} of another run")
        return got["items"]

    head = records[("qh", str(tmp_path), "repo")]
    saved = persist.SavedCommits(head, "repo", fetch)
    assert list(saved) == [c.sha for c in commits] and len(saved) == 20
    assert saved[commits[7].sha] == dataclasses.replace(commits[7], body="") and read == [("qhc", 2)]
    for f in ("f0.py", "f1.py", "f3.py", "nowhere.py"):
        assert [c.sha for c in saved.touching(f)] == [c.sha for c in commits if f in c.files]
    assert commits[19].sha in saved and "0" * 40 + "x" not in saved
    records[("qhc", str(tmp_path), "repo", 1)]["token"] = "run2"
    damaged = persist.SavedCommits(head, "repo", fetch)
    assert damaged[commits[0].sha].subject == "change 0"
    with pytest.raises(persist.MissingRecord, match="qhc/1 of another run"):
        damaged[commits[4].sha]


def test_a_long_lived_process_serves_the_saved_run_only_while_nothing_changed(ws: Path) -> None:  # noqa: F811
    """`Engine.saved_current`: the saved run with a no-op report when nothing changed and the run holds
    at least `min_facts` facts; None after an edit (then a `refresh` builds it), and None for a small
    index under a larger `min_facts`."""
    lore("index", str(ws))
    built, _report = Engine(discover(ws), Store()).refresh()
    got = Engine(discover(ws), Store()).saved_current()
    assert got is not None
    served, report = got
    assert report.indexed == 0 and report.unchanged > 0
    assert (len(served.entities), len(served.links)) == (len(built.entities), len(built.links))
    assert sorted(served.entities) == sorted(built.entities) and list(served.links) == list(built.links)
    facts = sum(n for kind, n in report.facts.items() if kind != "commit")
    assert Engine(discover(ws), Store()).saved_current(min_facts=facts + 1) is None
    assert Engine(discover(ws), Store()).saved_current(min_facts=facts) is not None
    target = ws / "sdk/ports/server.go"
    target.write_text(target.read_text() + "// edited\n")
    assert Engine(discover(ws), Store()).saved_current() is None


def test_a_files_problems_come_from_the_saved_run_without_its_facts(tmp_path: Path) -> None:
    """The problems `lore context` lists for a file (its own extraction errors) are in the saved run's
    workspace record: answering about a contract file reads none of its facts, and says what a full build
    says, for a file with errors and one without."""
    from tests.gitrepo import GitRepo

    repo = GitRepo(tmp_path / "api")
    good = 'syntax = "proto3";\npackage shop.v1;\nmessage Cart {\n  string id = 1;\n}\n'
    broken = 'syntax = "proto3";\npackage shop.v2;\nmessage Order {\n  string id = 1;\n  int32 = ;\n}\n'
    repo.commit("contracts", {"proto/cart.proto": good, "proto/order.proto": broken})
    ws = discover(repo.path)
    cache = tmp_path / "cache"
    built, _report = Engine(ws, Store(cache), save=True).refresh()
    assert built.files[(repo.path.name, "proto/order.proto")].errors  # the fixture has an error to show
    for path in ("proto/order.proto", "proto/cart.proto"):
        store = CountingStore(cache)
        saved = Engine(ws, store).saved_snapshot()
        assert saved is not None
        query.lower_bound(saved)  # once per Snapshot: the languages of the files that failed (their facts)
        store.read.clear()
        assert saved.file_errors(repo.path.name, path) == built.files[(repo.path.name, path)].errors
        assert saved.file_sha(repo.path.name, path) == built.file_sha(repo.path.name, path) == \
            built.files[(repo.path.name, path)].sha256
        got = query.context(saved, repo.path.name, path, 2)
        assert got.problems == query.context(built, repo.path.name, path, 2).problems
        if path == "proto/cart.proto":
            assert "f" not in store.read  # a file without errors: none of its facts read for them
    assert query.context(saved, repo.path.name, "proto/order.proto", 2).problems  # not vacuous
    assert saved.file_sha(repo.path.name, "proto/none.proto") is None and saved.file_errors(repo.path.name, "x") == ()
    assert "f" not in store.read  # the hashes are the saved manifest's
