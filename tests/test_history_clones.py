"""History on clones that lack objects: a real partial clone (`--filter=blob:none` from a local bare
repository), a shallow clone (`--depth`), and clones with one object deleted from .git/objects (a tree, a
commit). Every readable commit is mined, what was lost is reported in `lore index`, in `lore context --json`
problems and as a warning in the editor, the notes say what is missing instead of "no history", and nothing
is ever fetched (each clone's remote would leave a marker file if git ran it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig

from indexers.history.mine import mine_history
from tests.gitrepo import GitRepo
from tests.hostile import damaged_clone, partial_clone, shallow_clone
from tests.lsp_helpers import open_doc, until

BASE = "def charge(amount):\n    total = amount\n    timeout = 30\n    retries = 0\n    return round(total, 2)\n"
UTIL = "def fee():\n    return 1\n"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path_factory.mktemp("clones") / "payments")
    s: dict[str, str] = {}
    s["init"] = repo.commit("Initial payments module", {"pay.py": BASE, "util.py": UTIL})
    s["wa"] = repo.commit("Work around gateway timeout (#12)\n\nThe gateway stalls for 40s under load.",
                          {"pay.py": BASE.replace("timeout = 30", "timeout = 90"), "util.py": UTIL + "# stall\n"})
    s["retry"] = repo.commit("Add retries", {"pay.py": repo.path.joinpath("pay.py").read_text().replace("retries = 0", "retries = 3"),
                                             "util.py": UTIL + "# stall\n# retry\n"})
    repo.git("revert", "--no-edit", s["retry"])
    s["revert"] = repo.head()
    s["tune"] = repo.commit("Tune the gateway client", {"pay.py": repo.path.joinpath("pay.py").read_text() + "# tuned\n",
                                                         "util.py": UTIL + "# stall\n# tuned\n"})
    s["hotfix"] = repo.commit("Hotfix: negative totals (PAY-88)",
                              {"pay.py": repo.path.joinpath("pay.py").read_text().replace("round(total, 2)", "max(round(total, 2), 0)")})
    s["docs"] = repo.commit("Document the module", {"README.md": "# payments\n"})
    return repo, s


def _lore(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LORE_CACHE": str(cache)})


def _context(cache: Path, path: Path, line: int) -> dict:
    out = _lore(cache, "context", f"{path}:{line}", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _section(ctx: dict, name: str) -> dict:
    return next(s for s in ctx["sections"] if s["name"] == name)


def _index(cache: Path, clone: Path) -> dict:
    out = _lore(cache, "index", str(clone), "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _all_text(ctx: dict) -> str:
    return json.dumps(ctx)


def test_partial_clone(upstream: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    repo, s = upstream
    marker = tmp_path / "FETCHED"
    clone = partial_clone(repo.path, tmp_path, marker)
    commits, complete, gaps = mine_history(clone)
    assert complete and [c.sha for c in commits] == repo.git("rev-list", "HEAD").split()  # every commit
    assert gaps.partial and not gaps.unreadable and not gaps.no_files
    by = {c.sha: c for c in commits}
    assert by[s["wa"]].files == ("pay.py", "util.py") and by[s["hotfix"]].kinds == ("hotfix",)

    cache = tmp_path / "cache"
    report = _index(cache, clone)
    assert any("partial clone" in w and "git backfill" in w for w in report["warnings"]), report["warnings"]
    assert report["repos"][0]["history_gaps"]["partial"] is True and report["repos"][0]["commits"] == 7
    text = _lore(cache, "index", str(clone))
    assert "warning: history of partial: partial clone" in text.stdout

    # blame of pay.py needs its old versions, which the clone lacks: file-level notes, marked as such
    ctx = _context(cache, clone / "pay.py", 3)
    hist = _section(ctx, "history")
    kinds = [n["kind"] for n in hist["notes"]]
    assert kinds == ["hotfix", "revert", "workaround", "history_gap"], hist["notes"]
    assert hist["notes"][0]["text"].startswith("Hotfix (file-level): Hotfix: negative totals (PAY-88)")
    assert all(n["data"].get("scope") == "file" for n in hist["notes"][:3])
    assert "git backfill" in hist["notes"][-1]["text"] and "file-level" in hist["notes"][-1]["text"]
    assert any(p.startswith("history: partial clone") for p in ctx["problems"])
    assert any("line-level history of pay.py unavailable" in p for p in ctx["problems"])
    assert "no committed history" not in _all_text(ctx)
    # co-change needs only the file lists, which a blob-less clone has
    assert [n["text"] for n in _section(ctx, "coupling")["notes"]][0].startswith("Usually changes with util.py")
    # README.md's only version is at HEAD: its blame works, line-level as usual
    readme = _section(_context(cache, clone / "README.md", 1), "history")
    assert [n["kind"] for n in readme["notes"]] == ["last_change"]
    assert not marker.exists(), "lore fetched from the promisor remote"


def test_shallow_clone(upstream: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    repo, s = upstream
    marker = tmp_path / "FETCHED"
    clone = shallow_clone(repo.path, tmp_path, marker, depth=3)
    commits, _complete, gaps = mine_history(clone)
    assert [c.sha for c in commits] == [s["docs"], s["hotfix"], s["tune"]]
    assert gaps.shallow and gaps.boundary == s["tune"] and not gaps.partial
    assert commits[-1].files == ()  # the cut-off commit: git lists every file as added, its real change is unknown

    cache = tmp_path / "cache"
    report = _index(cache, clone)
    assert any(f"shallow clone: history starts at {s['tune'][:10]}" in w for w in report["warnings"]), report["warnings"]
    ctx = _context(cache, clone / "pay.py", 3)  # the timeout line: last changed before the cut
    (note,) = _section(ctx, "history")["notes"]
    assert note["kind"] == "last_change" and "start of the available (shallow) history" in note["text"]
    coupling = _section(ctx, "coupling")
    assert coupling["notes"] == [] and "not in this shallow clone" in coupling["empty"]
    assert any(p.startswith("history: shallow clone") for p in ctx["problems"])
    assert "no file usually changes with this one\"" not in _all_text(ctx)
    assert not marker.exists(), "lore deepened the shallow clone"


def _tree_of(repo: GitRepo, sha: str) -> str:
    return repo.git("rev-parse", f"{sha}^{{tree}}")


def test_clone_missing_a_tree(upstream: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    """A tree is gone: the commit that has it and the one after it (whose diff needs it) keep their
    messages and kinds but not their file lists; every other commit is whole."""
    repo, s = upstream
    marker = tmp_path / "FETCHED"
    clone = damaged_clone(repo.path, tmp_path, marker, "tree_missing", lose=_tree_of(repo, s["retry"]))
    commits, complete, gaps = mine_history(clone)
    assert complete and [c.sha for c in commits] == repo.git("rev-list", "HEAD").split()
    by = {c.sha: c for c in commits}
    assert by[s["retry"]].files == () and by[s["revert"]].files == ()
    assert by[s["revert"]].kinds == ("revert",) and by[s["revert"]].reverts == s["retry"]
    assert by[s["wa"]].files == ("pay.py", "util.py") and by[s["hotfix"]].files == ("pay.py",)
    assert gaps.no_files == 2 and not gaps.unreadable and "unable to read tree" in gaps.reason

    cache = tmp_path / "cache"
    report = _index(cache, clone)
    (warning,) = report["warnings"]
    assert "2 commit(s) kept without their file lists" in warning and "nothing was fetched" in warning
    ctx = _context(cache, clone / "util.py", 1)
    assert any("kept without their file lists" in p for p in ctx["problems"])
    assert "unreadable or without file lists" in _section(ctx, "coupling")["empty"] or _section(ctx, "coupling")["notes"]
    assert not marker.exists()


def test_clone_missing_a_commit(upstream: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    """A commit object is gone: the history behind it cannot be walked; everything newer is mined."""
    repo, s = upstream
    marker = tmp_path / "FETCHED"
    clone = damaged_clone(repo.path, tmp_path, marker, "commit_missing", lose=s["wa"])
    commits, complete, gaps = mine_history(clone)
    newer = [s["docs"], s["hotfix"], s["tune"], s["revert"], s["retry"]]
    assert complete and [c.sha for c in commits] == newer
    assert gaps.unreadable == 1 and gaps.unreadable_sample == (s["wa"],)
    assert {c.sha: c for c in commits}[s["revert"]].kinds == ("revert",)

    cache = tmp_path / "cache"
    report = _index(cache, clone)
    assert report["repos"][0]["commits"] == 5
    (warning,) = report["warnings"]
    assert f"1 commit(s) could not be read (objects missing: {s['wa'][:10]})" in warning
    ctx = _context(cache, clone / "pay.py", 5)
    assert any("could not be read" in p for p in ctx["problems"])
    assert not marker.exists()


async def test_editor_warns_and_hover_says_what_is_missing(upstream: tuple[GitRepo, dict[str, str]],
                                                          tmp_path: Path) -> None:
    repo, _s = upstream
    marker = tmp_path / "FETCHED"
    clone = partial_clone(repo.path, tmp_path, marker, name="editor")
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=clone.as_uri(),
            workspace_folders=[t.WorkspaceFolder(clone.as_uri(), "editor")]))

        async def warned() -> list[str]:
            return [m.message for m in client.messages
                    if m.type == t.MessageType.Warning and "partial clone" in m.message]

        (warning,) = await until(warned, timeout=30)
        assert warning.startswith("Lore: history of editor: partial clone") and "git backfill" in warning
        open_doc(client, clone / "pay.py", "python")

        async def hovered() -> str:
            got = await client.text_document_hover_async(t.HoverParams(
                t.TextDocumentIdentifier((clone / "pay.py").as_uri()), t.Position(2, 6)))
            return got.contents.value if got is not None and isinstance(got.contents, t.MarkupContent) else ""

        text = await until(hovered, timeout=30)
        assert "Line-level history unavailable" in text and "(file-level)" in text, text
        assert "no committed history" not in text
        assert [m.message for m in client.messages].count(warning) == 1  # once per session
    finally:
        await client.shutdown_session()
    assert not marker.exists(), "lore serve fetched from the promisor remote"
