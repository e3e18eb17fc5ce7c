"""Security: what a repository costs to read is bounded by its size. Each hostile file goes through
`lore index` in a subprocess with a generous timeout: before the fixes these ran for minutes or never
ended (the timeout is the failure), now they finish and the file is reported when it could not be read
in full. No timed assertion: the timeouts are two orders of magnitude above the expected run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

CLI = [sys.executable, "-m", "lore"]
GENEROUS = 240  # seconds; the fixed code needs a few


def _index(tmp_path: Path, repo: Path, *args: str) -> dict:
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([*CLI, "index", str(repo), "--json", *args], capture_output=True, text=True, env=env,
                         timeout=GENEROUS)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _then_chain(n: int) -> str:
    return "fetch('/api/a')" + "".join(f".then(r{i} => fetch('/api/b{i}'))" for i in range(n)) + ";\n"


# -- item 8: TS/JS call chains -----------------------------------------------------------------------

def test_sixteen_thousand_chained_fetch_calls_are_read_in_linear_time(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "web")
    repo.commit("chains", {"chain.ts": _then_chain(16_000), "ok.ts": "fetch('/api/ok');\n"})
    report = _index(tmp_path, repo.path)
    assert report["files"]["indexed"] == 2
    failed = {f["path"]: f["reason"] for f in report["files"]["failed"]}
    assert "some usages in this file may be missing" in failed["chain.ts"], failed
    assert report["facts"]["usage"] > 1  # what was read is kept


def test_a_two_megabyte_chain_finishes(tmp_path: Path) -> None:
    text = _then_chain(53_000)
    assert 1_800_000 < len(text) < 2_000_000
    repo = GitRepo(tmp_path / "web")
    repo.commit("a big chain", {"big.js": text})
    report = _index(tmp_path, repo.path)
    assert report["files"]["indexed"] == 1
    assert [f["path"] for f in report["files"]["failed"]] == ["big.js"]


def test_callee_text_is_bounded_per_call() -> None:
    """Counting instead of timing: no call's callee text grows with the chain."""
    from indexers.positions import SourceFile
    from indexers.sources.code.facts import ELIDED, MAX_FLAT, collect

    src = SourceFile("r", "c.ts", _then_chain(200).encode())  # within the match limit: every call is read
    facts = collect("typescript", src.tree("typescript").root_node, {"call"})
    assert len(facts.calls) == 401 and not facts.incomplete
    assert max(len(c.callee) for c in facts.calls) <= MAX_FLAT
    assert sum(c.callee.startswith(ELIDED) for c in facts.calls) > 150
