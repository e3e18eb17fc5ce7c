"""A no-op `lore index` answers from the last run's summary, the manifests and stats: it reads no fact,
aggregate or history record and builds no snapshot, and prints what a full run prints. Any change (a
file edited, added or removed, another HEAD, another lore.toml, a shard) takes the full path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers import summary
from indexers.engine import Engine
from indexers.store import Store
from indexers.workspace import discover
from lore.cli.main import index_summary
from tests.gitrepo import GitRepo
from tests.test_grpc_graphql_cli import CLIENT_JS, MAIN_GO, PORTS_GO, PROTO

CONFIG = '[[repo]]\nname = "sdk"\npath = "sdk"\n\n[[repo]]\nname = "app"\npath = "app"\n'


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    sdk = GitRepo(root / "sdk")
    sdk.commit("protos", {"proto/sdk/sdk.proto": PROTO.format(pkg="agones.dev.sdk"), "main.go": MAIN_GO,
                          "ports/server.go": PORTS_GO, "README.md": "# sdk\n", ".env": "TOKEN=x\n"})
    sdk.commit("fix: nil server (#12)", {"ports/server.go": PORTS_GO.replace("return &Server{}", "return &Server{} /* TODO pool */")})
    app = GitRepo(root / "app")
    app.commit("client", {"client.js": CLIENT_JS, "definitions.js": "module.exports = {};\n",
                          "deploy/openapi.yaml": "openapi: 3.0.0\ninfo: {title: x\npaths:\n  /a: [\n", "notes.txt": "hello\n"})
    (root / "lore.toml").write_text(CONFIG)
    return root


class CountingStore(Store):
    """A Store that records the kind of every record it reads."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.read: list[str] = []

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        self.read.append(key[0])
        return super().get(key, default)


def plain(report: Any) -> dict[str, Any]:
    doc = report.as_json()
    doc.pop("seconds")
    assert set(doc.pop("timings")) == set(summary.TIMINGS)
    return doc


def full_run(root: Path) -> Any:
    ws = discover(root)
    _snap, report = Engine(ws, Store(), save=True).refresh()
    return report


def test_noop_reads_no_fact_record_and_reports_what_a_full_run_reports(ws: Path) -> None:
    first = full_run(ws)
    assert first.indexed > 0
    full = full_run(ws)  # a no-op through the full path (a new engine: nothing in memory)
    assert full.indexed == 0 and full.facts["link"] > 0 and full.facts["commit"] == 3 and full.failed
    store = CountingStore()
    fast = summary.unchanged(discover(ws), store)
    assert fast is not None
    assert set(store.read) <= {"summary", "m", "mfp"}, store.read  # no "f", "a", "h" or "kv" record
    assert store.read.count("m") == 2  # one manifest per repo
    assert plain(fast) == plain(full)
    fast.seconds = full.seconds = 0.5
    assert index_summary(2, fast) == index_summary(2, full)


def _edit(root: Path) -> None:
    (root / "sdk/main.go").write_text(MAIN_GO + "// edited\n")


def _add(root: Path) -> None:
    (root / "app/extra.proto").write_text(PROTO.format(pkg="extra.v1"))


def _add_unsupported(root: Path) -> None:
    (root / "app/more.txt").write_text("more\n")


def _remove(root: Path) -> None:
    (root / "sdk/ports/server.go").unlink()


def _commit(root: Path) -> None:
    GitRepo(root / "app", init=False).commit("docs", {"notes.txt": "changed\n"})


def _config(root: Path) -> None:
    (root / "lore.toml").write_text(CONFIG + '\n[index]\nexclude = ["deploy/**"]\n')


@pytest.mark.parametrize("change", [_edit, _add, _add_unsupported, _remove, _commit, _config])
def test_any_change_takes_the_full_path(ws: Path, change: Any) -> None:
    full_run(ws)
    assert summary.unchanged(discover(ws), Store()) is not None
    change(ws)
    assert summary.unchanged(discover(ws), Store()) is None
    after = full_run(ws)  # the full path stores a new summary: the next no-op is fast again
    fast = summary.unchanged(discover(ws), Store())
    assert fast is not None
    assert plain(fast)["files"]["indexed"] == 0
    assert plain(fast)["facts"] == plain(after)["facts"]


def test_stale_files_names_what_changed(ws: Path) -> None:
    assert summary.stale_files(discover(ws), Store()) is None  # never indexed
    full_run(ws)
    assert summary.stale_files(discover(ws), Store()) == []
    _edit(ws)
    _add(ws)
    _remove(ws)
    assert summary.stale_files(discover(ws), Store()) == [("app", "extra.proto"), ("sdk", "main.go"),
                                                          ("sdk", "ports/server.go")]


def lore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env=dict(os.environ), timeout=120)


def _without_times(out: str) -> str:
    first, _, rest = out.partition("\n")
    return first.split(" in ", 1)[0] + first.split("s:", 1)[1] + "\n" + rest


def test_cli_noop_prints_what_the_full_path_prints(ws: Path) -> None:
    lore("index", str(ws))
    os.utime(ws / "sdk/main.go")  # same bytes, new mtime: the full path runs and finds nothing changed
    full = lore("-v", "index", str(ws), "--json")
    assert "report from its summary" not in full.stderr
    fast = lore("-v", "index", str(ws), "--json")
    assert "report from its summary" in fast.stderr
    a, b = json.loads(full.stdout), json.loads(fast.stdout)
    for doc in (a, b):
        doc.pop("seconds"), doc.pop("timings")
    assert a == b and a["files"]["indexed"] == 0
    os.utime(ws / "sdk/main.go")
    full_text = lore("-v", "index", str(ws))
    assert "report from its summary" not in full_text.stderr
    fast_text = lore("-v", "index", str(ws))
    assert "report from its summary" in fast_text.stderr
    assert _without_times(full_text.stdout) == _without_times(fast_text.stdout)
