"""Security: a repository cannot make Lore fetch (and so run a promisor remote's command), a repository
or lore.toml owned by another account is not adopted, and repository-set blame options cannot hide
history. Each attack goes through the real interfaces: the CLI, the LSP server over stdio, MCP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig

from tests.gitrepo import GitRepo
from tests.hostile import plain_git_fetches, promisor_clone
from tests.lsp_helpers import open_doc, until

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lore"]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create files owned by another account")
NOBODY = 65534


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "LORE_CACHE": str(tmp_path / "cache"), **extra}


def _lore(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=_env(tmp_path, **extra), timeout=300)


@pytest.fixture()
def partial(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "FETCHED"
    clone = promisor_clone(tmp_path, marker)
    assert plain_git_fetches(clone, marker), "fixture: plain git should run the promisor remote's command"
    return clone, marker


def test_cli_never_fetches_from_a_promisor_remote(partial: tuple[Path, Path], tmp_path: Path) -> None:
    clone, marker = partial
    out = _lore(tmp_path, "index", str(clone), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"]["indexed"] >= 3
    ctx = _lore(tmp_path, "context", f"{clone}/main.go:3", "--json")
    assert ctx.returncode == 0, ctx.stderr
    _lore(tmp_path, "graph", str(clone))
    assert not marker.exists(), "lore ran the promisor remote's command"


async def test_server_never_fetches_from_a_promisor_remote(partial: tuple[Path, Path], tmp_path: Path) -> None:
    clone, marker = partial
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"], server_env=_env(tmp_path))
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=clone.as_uri(),
            workspace_folders=[t.WorkspaceFolder(clone.as_uri(), "partial")]))
        main_go = clone / "main.go"
        open_doc(client, main_go, "go")

        async def hovered() -> t.Hover | None:
            return await client.text_document_hover_async(t.HoverParams(
                t.TextDocumentIdentifier(main_go.as_uri()), t.Position(2, 5)))

        await until(hovered, timeout=15)
        assert not marker.exists(), "lore serve ran the promisor remote's command"
    finally:
        await client.shutdown_session()


async def test_mcp_never_fetches_from_a_promisor_remote(partial: tuple[Path, Path], tmp_path: Path) -> None:
    mcp = pytest.importorskip("mcp")
    from mcp.client.stdio import StdioServerParameters, stdio_client

    clone, marker = partial
    params = StdioServerParameters(command=sys.executable, args=["-m", "lore", "mcp", "--root", str(clone),
                                                                 "--cache", str(tmp_path / "cache")], cwd=str(ROOT))
    with open(tmp_path / "mcp.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), mcp.ClientSession(read, write) as session:
            await session.initialize()
            res = await session.call_tool("lore_context", {"path": "main.go", "line": 3})
            assert not res.is_error
    assert not marker.exists(), "lore mcp ran the promisor remote's command"


def test_repository_set_protocols_are_refused_by_name(tmp_path: Path) -> None:
    """A transport the repository allows under a name git does not ship is set to never as well."""
    from indexers import git

    repo = GitRepo(tmp_path / "r")
    repo.commit("init", {"a.txt": "a\n"})
    repo.git("config", "protocol.evilhelper.allow", "always")
    assert "protocol.evilhelper.allow=never" in git.command(repo.path, "log")


# -- ownership -------------------------------------------------------------------------------------------

def _plant_foreign_repo(folder: Path) -> None:
    """A .git created by another account (uid 65534) in a folder the user uses."""
    foreign = GitRepo(folder)
    foreign.commit("planted", {"planted.proto": 'syntax = "proto3";\npackage planted;\nservice P { rpc X(M) returns (M); }\nmessage M {}\n'})
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), NOBODY, NOBODY)
    os.chown(folder, NOBODY, NOBODY)


@as_root
def test_a_git_planted_in_a_shared_parent_is_not_adopted(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    _plant_foreign_repo(shared)
    mine = shared / "me" / "project"
    mine.mkdir(parents=True)
    (mine / "notes.proto").write_text('syntax = "proto3";\npackage mine;\n')
    out = _lore(tmp_path, "index", str(mine))
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"{shared}: skipped: the repository is owned by uid {NOBODY}" in out.stderr
    assert "safe.directory" in out.stderr and "Traceback" not in out.stderr


@as_root
def test_a_foreign_checkout_among_mine_is_skipped_and_trust_lets_it_in(tmp_path: Path) -> None:
    folder = tmp_path / "checkouts"
    mine = GitRepo(folder / "mine")
    mine.commit("init", {"mine.proto": 'syntax = "proto3";\npackage mine;\nmessage A {}\n'})
    _plant_foreign_repo(folder / "theirs")
    out = _lore(tmp_path, "index", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [r["name"] for r in report["repos"]] == ["mine"]
    assert any(f"{folder / 'theirs'}: skipped" in m for m in report["messages"])
    trusted = _lore(tmp_path, "index", str(folder), "--json", LORE_TRUST=str(folder / "theirs"))
    assert trusted.returncode == 0, trusted.stderr
    assert sorted(r["name"] for r in json.loads(trusted.stdout)["repos"]) == ["mine", "theirs"]


@as_root
def test_a_lore_toml_another_account_owns_is_ignored(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    repo = GitRepo(parent / "repo")
    repo.commit("init", {"a.proto": 'syntax = "proto3";\npackage a;\nmessage A {}\n'})
    planted = parent / "lore.toml"
    planted.write_text('[[repo]]\nname = "elsewhere"\npath = "/etc"\n')
    os.chown(planted, NOBODY, NOBODY)
    out = _lore(tmp_path, "index", str(repo.path), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [r["name"] for r in report["repos"]] == ["repo"]
    assert any(f"{planted}: ignored: owned by uid {NOBODY}" in m for m in report["messages"])


def test_a_lore_toml_others_may_write_is_ignored(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    repo = GitRepo(parent / "repo")
    repo.commit("init", {"a.proto": 'syntax = "proto3";\npackage a;\nmessage A {}\n'})
    planted = parent / "lore.toml"
    planted.write_text('[[repo]]\nname = "elsewhere"\npath = "/etc"\n')
    planted.chmod(0o666)
    out = _lore(tmp_path, "index", str(repo.path), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [r["name"] for r in report["repos"]] == ["repo"]
    assert any(f"{planted}: ignored: others may write it" in m for m in report["messages"])
    planted.chmod(0o644)
    out = _lore(tmp_path, "index", str(repo.path), "--json")
    assert out.returncode == 0, out.stderr  # now it is read: its one repo (/etc) is not a git repository
    assert [r["name"] for r in json.loads(out.stdout)["repos"]] == ["elsewhere"]


# -- history as committed --------------------------------------------------------------------------------

def test_blame_ignore_revs_set_by_the_repository_cannot_hide_a_workaround(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.commit("init", {"main.go": "package main\n\nconst limit = 1000\n"})
    sha = repo.commit("Work around Redis timeout on large carts (#42)", {"main.go": "package main\n\nconst limit = 500\n"})
    (repo.path / ".git-blame-ignore-revs").write_text(f"{sha}\n")
    repo.commit("ignore revs", {})
    repo.git("config", "blame.ignoreRevsFile", ".git-blame-ignore-revs")
    out = _lore(tmp_path, "context", f"{repo.path}/main.go:3", "--json")
    assert out.returncode == 0, out.stderr
    history = next(s for s in json.loads(out.stdout)["sections"] if s["name"] == "history")
    assert any(sha in n["source"] for n in history["notes"]), history
    assert shutil.which("git")
