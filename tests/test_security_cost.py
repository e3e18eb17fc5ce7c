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


# -- item 4: regular expressions and the per-file budget ----------------------------------------------

def _todo_with_spaces(n: int) -> str:
    return f"package main\n\n// todo: {' ' * n}x\nfunc main() {{}}\n"


def test_a_comment_full_of_spaces_is_read_in_linear_time(tmp_path: Path) -> None:
    """3,000 spaces in a comment of a file that mentions todo took 34 s; 20,000 never ended."""
    repo = GitRepo(tmp_path / "r")
    repo.commit("spaces", {"a.go": _todo_with_spaces(3_000), "b.go": _todo_with_spaces(20_000),
                           "c.go": _todo_with_spaces(1_000_000)})
    report = _index(tmp_path, repo.path)
    assert report["files"]["indexed"] == 3 and report["files"]["failed"] == []
    assert report["facts"]["marker"] == 3


def test_every_regex_is_linear_on_hostile_text() -> None:
    """Every compiled pattern of the indexers, on runs of its own characters and keywords (200,000
    characters each): a super-linear one runs into the probe's 10 s alarm, a linear one takes
    milliseconds (tests/redos_probe.py)."""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "tests.redos_probe"], capture_output=True, text=True, cwd=root,
                         timeout=3600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) > 100, out.stdout
    slow = [line for line in lines if not line.startswith("ok ")]
    assert not slow, "\n".join(slow)


def test_a_file_over_the_budget_is_skipped_and_reported(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "web")
    repo.commit("a slow file and a quick one", {
        "big.ts": _then_chain(50_000),  # ~2 s of extraction here: 10 times the budget below
        "api.proto": 'syntax = "proto3";\npackage a;\nmessage Order { string id = 1; }\n'})
    report = _index(tmp_path, repo.path, "--file-budget", "0.2")
    failed = {f["path"]: f["reason"] for f in report["files"]["failed"]}
    assert failed == {"big.ts": "skipped: extraction took longer than 0.2 s"}, failed
    assert report["facts"]["entity"] >= 2  # the rest goes on
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache2")}
    (repo.path / "lore.toml").write_text('[[repo]]\npath = "."\nname = "web"\n[index]\nfile_budget = 0.2\n')
    text = subprocess.run([*CLI, "index", str(repo.path)], capture_output=True, text=True, env=env, timeout=GENEROUS)
    assert text.returncode == 0, text.stderr
    assert "error: web/big.ts: skipped: extraction took longer than 0.2 s" in text.stdout, text.stdout


def test_a_codeowners_pattern_full_of_wildcards_is_matched_in_bounded_time(tmp_path: Path) -> None:
    """CODEOWNERS patterns were regexes: `*a*a*...*b` against a long folder name took exponential time."""
    name = "a" * 80
    repo = GitRepo(tmp_path / "r")
    repo.commit("owners", {
        "CODEOWNERS": "* @acme/everyone\n" + "*" + "a*" * 16 + "b @acme/nobody\n" + "/".join(["**", "a*"] * 12) + "/b @acme/x\n",
        f"{name}/catalog-info.yaml": f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n"
                                    "spec:\n  type: service\n",
        f"{name}/main.go": "package main\n\nfunc main() {}\n"})
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([*CLI, "graph", str(repo.path), "--json"], capture_output=True, text=True, env=env, timeout=GENEROUS)
    assert out.returncode == 0, out.stderr
    services = json.loads(out.stdout)["services"]
    assert [s["owner"] for s in services] == ["@acme/everyone"], services
