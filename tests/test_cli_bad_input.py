"""Bad input on the command line gets one line naming the problem and exit code 2: positions outside the
file in `lore context`, misspelled keys anywhere in lore.toml, [[repo]] paths that do not exist, a
nonsense `lore serve --tcp`. JSON outputs say how they count lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo
from tests.test_cli_index import PROTO, lore


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "ws" / "contracts")
    r.commit("Add the cart contract", {"cart.proto": PROTO})
    return r


def one_line_error(proc, *needles: str) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize(("location", "extra", "needles"), [
    ("cart.proto:0", [], ["cart.proto:0", "lines are counted from 1"]),
    ("cart.proto:8", [], ["cart.proto:8", "past the end of the file (7 lines)"]),
    ("cart.proto:4", ["--end-line", "2"], ["--end-line 2 is before the start line 4"]),
    ("cart.proto:4", ["--end-line", "40"], ["--end-line 40 is past the end of the file (7 lines)"]),
    ("cart.proto:3:0", [], ["column 0: columns are counted from 1"]),
    ("cart.proto:three", [], ["expected FILE:LINE[:COL]"]),
    ("nowhere.proto:1", [], ["nowhere.proto: no such file"]),
])
def test_context_positions_outside_the_file(repo: GitRepo, tmp_path: Path, location: str, extra: list[str],
                                            needles: list[str]) -> None:
    proc = lore("context", str(repo.path / location), *extra, "--cache", str(tmp_path / "c"), check=False)
    one_line_error(proc, *needles)


def test_context_last_line_and_json_line_base(repo: GitRepo, tmp_path: Path) -> None:
    proc = lore("context", f"{repo.path / 'cart.proto'}:7", "--json", "--cache", str(tmp_path / "c"))
    doc = json.loads(proc.stdout)
    assert (doc["line_base"], doc["column_unit"], doc["line"]) == (0, "utf-16", 6)
    rpc = lore("context", f"{repo.path / 'cart.proto'}:4:10", "--end-line", "4", "--json", "--cache", str(tmp_path / "c"))
    assert json.loads(rpc.stdout)["entity_ids"] == ["proto:shop.cart.v1.CartService.GetCart"]
    graph = json.loads(lore("graph", str(repo.path), "--json", "--cache", str(tmp_path / "c")).stdout)
    assert graph["line_base"] == 0
    rpc_decl = next(e for e in graph["entities"] if e["id"] == "proto:shop.cart.v1.CartService.GetCart")
    assert rpc_decl["range"]["start_line"] == 3  # `rpc GetCart` is on line 4


@pytest.mark.parametrize(("toml", "needles"), [
    ('[[repo]]\npath = "contracts"\n[index]\nexclud = ["gen/**"]\n',
     ["lore.toml:4", "[index] unknown key 'exclud'", "did you mean 'exclude'"]),
    ('[[repo]]\npath = "contracts"\n[index]\nmax_file_sise = "2MB"\n', ["lore.toml:4", "'max_file_sise'", "'max_file_size'"]),
    ('[[repo]]\npath = "contracts"\nnmae = "c"\n', ["lore.toml:3", "[[repo]] unknown key 'nmae'", "'name'"]),
    ('[[repo]]\npath = "contracts"\n[check]\nignor = []\n', ["lore.toml:4", "[check] unknown key 'ignor'", "'ignore'"]),
    ('[[repo]]\npath = "contracts"\n[[shard]]\npath = "x.lore-shard"\nrepo = "x"\n', ["lore.toml:5", "[[shard]] unknown key 'repo'"]),
    ('[[repo]]\npath = "contracts"\n[shards]\nsource = "s3://b/p"\nendpoint = "http://x"\n',
     ["lore.toml:5", "[shards] unknown key 'endpoint'", "'endpoint_url'"]),
    ('[[repos]]\npath = "contracts"\n', ["lore.toml:1", "unknown key 'repos'", "did you mean 'repo'"]),
    ('[[repo]]\npath = "contracts"\n\n[[repo]]\nname = "web"\npath = "../web-checkout"\n',
     ["lore.toml:4", "[[repo]] 'web'", "path '../web-checkout' does not exist"]),
])
@pytest.mark.parametrize("command", ["index", "graph", "context", "check"])
def test_lore_toml_mistakes(repo: GitRepo, tmp_path: Path, toml: str, needles: list[str], command: str) -> None:
    ws = repo.path.parent
    (ws / "lore.toml").write_text(toml)
    target = str(ws) if command != "context" else f"{repo.path / 'cart.proto'}:4"
    proc = lore(command, target, *(["--cache", str(tmp_path / "c")]), check=False)
    one_line_error(proc, *needles)


def test_a_repo_path_that_is_a_file(repo: GitRepo, tmp_path: Path) -> None:
    ws = repo.path.parent
    (ws / "notes.txt").write_text("x")
    (ws / "lore.toml").write_text('[[repo]]\npath = "contracts"\n[[repo]]\npath = "notes.txt"\n')
    one_line_error(lore("index", str(ws), check=False), "lore.toml:3", "path 'notes.txt' is not a folder")


def test_the_server_indexes_the_repos_that_exist_and_says_which_do_not(repo: GitRepo, tmp_path: Path) -> None:
    """The editor keeps working on what exists: the engine indexes the rest and names the missing one."""
    from indexers.engine import Engine
    from indexers.store import Store
    from indexers.workspace import discover

    ws_root = repo.path.parent
    (ws_root / "lore.toml").write_text('[[repo]]\npath = "contracts"\n[[repo]]\nname = "gone"\npath = "gone"\n')
    ws = discover(ws_root)
    assert ws.absent and "'gone'" in ws.absent[0]
    snap, report = Engine(ws, Store(tmp_path / "c")).refresh()
    assert "proto:shop.cart.v1.CartService.GetCart" in snap.entities
    assert any(m.startswith("gone: ") and "no such folder" in m for m in report.messages), report.messages


@pytest.mark.parametrize("spec", ["nonsense", "localhost", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:port", ":"])
def test_serve_tcp_nonsense(spec: str) -> None:
    one_line_error(lore("serve", "--tcp", spec, check=False), "lore serve", "--tcp", repr(spec))


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    one_line_error(lore("index", "--no-such-option", check=False), "lore index", "--no-such-option")
    one_line_error(lore("context", check=False), "lore context", "expected FILE:LINE[:COL]")
    assert lore("--version").stdout.startswith("lore, version ")
    assert "Usage:" in lore("context", "--help").stdout
