"""Smoke tests of the benchmark harness: the workspace generator is deterministic and has the promised
shape, and the report renders what was and was not measured. No timing assertions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from benchmarks import generate, measure_index, report
from indexers import git


@pytest.fixture(scope="module")
def xs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return generate.generate("XS", 7, tmp_path_factory.mktemp("a"))


def _stable(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k not in ("workspace", "generation_seconds", "reused")}


def test_same_seed_same_bytes_and_shas(xs: dict, tmp_path: Path) -> None:
    again = generate.generate("XS", 7, tmp_path)
    assert _stable(again) == _stable(xs)
    for repo in xs["repos"]:
        a, b = git.head(Path(xs["workspace"]) / repo["name"]), git.head(Path(again["workspace"]) / repo["name"])
        assert a is not None and a == b


def test_other_seed_differs(xs: dict, tmp_path: Path) -> None:
    other = generate.generate("XS", 8, tmp_path)
    heads = {git.head(Path(m["workspace"]) / r["name"]) for m in (xs, other) for r in m["repos"]}
    assert len(heads) == len(xs["repos"]) + len(other["repos"])


def test_cache_is_reused_only_when_complete(xs: dict) -> None:
    folder = Path(xs["workspace"]).parent
    assert generate.generate("XS", 7, folder.parent)["reused"] is True
    (folder / ".complete").write_text("0")  # another generator version: rebuilt
    rebuilt = generate.generate("XS", 7, folder.parent)
    assert rebuilt["reused"] is False and _stable(rebuilt) == _stable(xs)


def test_shape(xs: dict) -> None:
    ws = Path(xs["workspace"])
    spec = generate.SIZES["XS"]
    assert xs["totals"]["repos"] == spec.service_repos + spec.contract_repos == len(xs["repos"])
    assert xs["totals"]["files"] >= spec.files and xs["totals"]["commits"] >= spec.commits
    config = tomllib.loads((ws / "lore.toml").read_text())
    assert sorted(r["name"] for r in config["repo"]) == sorted(r["name"] for r in xs["repos"])
    for entry, repo in zip(config["repo"], xs["repos"], strict=True):
        root = ws / entry["path"]
        assert (root / ".git").is_dir()
        count = git.run(root, "rev-list", "--count", "HEAD").decode().strip()
        assert int(count) == repo["commits"]
        assert git.run(root, "status", "--porcelain") == b""  # work tree is HEAD
    contracts = ws / "contracts"
    assert list(contracts.rglob("*.proto"))
    assert any(r["kind"] == "service" and (ws / r["name"] / "catalog-info.yaml").is_file() for r in xs["repos"])


def test_usage_positions_point_at_their_identifiers(xs: dict) -> None:
    ws = Path(xs["workspace"])
    assert xs["usages"]
    kinds = {u["kind"] for u in xs["usages"]}
    assert {"grpc_server", "grpc_client"} <= kinds
    for u in xs["usages"]:
        line = (ws / u["repo"] / u["path"]).read_text(encoding="utf-8").split("\n")[u["line"]]
        assert line[u["character"]:u["end"]] == u["text"]


def test_history_has_real_reverts_and_workarounds(tmp_path: Path) -> None:
    s = generate.generate("S", 3, tmp_path)
    kinds: dict[str, int] = {}
    for r in s["repos"]:
        for k, n in r["commit_kinds"].items():
            kinds[k] = kinds.get(k, 0) + n
    assert kinds.get("revert", 0) > 0 and kinds.get("workaround", 0) > 0 and kinds.get("hotfix", 0) > 0
    langs = {r["lang"] for r in s["repos"] if r["lang"]}
    assert langs, "service repos carry a language"
    reverts = 0
    for r in s["repos"]:
        root = Path(s["workspace"]) / r["name"]
        log = git.run(root, "log", "--format=%H%x1f%B%x1e").decode()
        for entry in filter(str.strip, log.split("\x1e")):
            sha, body = entry.strip().split("\x1f", 1)
            m = re.search(r"This reverts commit ([0-9a-f]{40})\.", body)
            if m:  # the reverted commit exists, and the revert undoes exactly its diff
                reverts += 1
                undo = git.run(root, "diff", "--no-ext-diff", sha, f"{sha}^")
                assert undo == git.run(root, "diff", "--no-ext-diff", f"{m.group(1)}^", m.group(1))
    assert reverts == kinds["revert"]


def test_l_spec_meets_the_issue_minimums() -> None:
    org = generate.make_org(generate.SIZES["L"], 1)
    assert len(org.repos) >= 50 and sum(org.files.values()) >= 20_000 and sum(org.commits.values()) >= 20_000
    assert {s.lang for s in org.services} == {"go", "python", "typescript", "java", "csharp"}


def test_index_report_parsing() -> None:
    doc = measure_index.parse_report('log line\n{"repos": 2, "files": {"indexed": 3, "failed": []}, "seconds": 1.5}')
    assert doc["files"]["indexed"] == 3
    with pytest.raises(ValueError):
        measure_index.parse_report("no json here")
    assert measure_index._history(None, {"seconds": 1.0})["available"] is False
    hist = measure_index._history({"extract": 2.0, "history": 0.5}, {"seconds": 0.25})
    assert hist["seconds"] == 0.5 and hist["ratio_to_git_log"] == 2.0


def test_report_renders_measured_and_missing(tmp_path: Path) -> None:
    def run(files: int, cold: float) -> dict:
        return {"workspace": {"repos": 3, "files": files, "bytes": files * 4000, "source_files": files, "contract_files": 5,
                              "commits": files, "generation_seconds": 0.1, "reused": False},
                "baselines": {"parse": {"files_per_s": 1000.0, "mb_per_s": 4.0, "seconds": files / 1000},
                              "ctags": {"available": False, "reason": "ctags: not installed"}, "git_log": {"seconds": 0.1}},
                "lore_index": {"available": True, "cold": {"available": True, "seconds": cold, "wall_seconds": cold + 0.4,
                                                           "ratio_to_parse": 0.6}, "noop": {"seconds": 0.1}},
                "lsp": {"bare": {"hover": {"available": True, "p50_ms": 0.5, "p99_ms": 1.0}},
                        "lore": {"available": False, "reason": "not available: no server"}}}
    results: dict[str, Any] = {"generated_at": "now", "machine": report.machine(), "runs": {"S": run(300, 1.0), "M": run(3000, 10.0)}}
    paths = report.write(results, tmp_path)
    md = paths["md"].read_text()
    assert "not available: no server" in md and paths["png"].stat().st_size > 0
    by_name = {t["target"]: t for t in results["targets"]}
    assert by_name["cold index throughput"]["status"] == "met"
    assert by_name["hover p99 over stdio"]["status"] == "not measured at L"
    assert by_name["cold index seconds linear in size"]["value"] == pytest.approx(1.0)


def test_map_benchmark_harness(tmp_path: Path) -> None:
    """The map benchmark's generated system has the promised shape and its report renders (Python part
    only; the browser part is the same page tests/test_map_browser.py drives)."""
    from benchmarks import map as map_bench

    assert map_bench.main(["--services", "30", "--edges", "120", "--runs", "1", "--no-browser", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "map.json").read_text())
    assert (doc["python"]["nodes"], doc["python"]["edges"]) == (30, 120)
    assert doc["browser"] == {"available": False, "reason": "not run (--no-browser)"}
    md = (tmp_path / "map.md").read_text()
    assert "| map model (`build_map`) |" in md and "not run (--no-browser)" in md


def test_realworld_score_skips_a_system_whose_corpus_lacks_the_pinned_commit(tmp_path: Path) -> None:
    """One line per system it cannot score (naming the system and the commit), the others still run."""
    empty = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
    golds = {n: json.loads((Path(__file__).resolve().parents[1] / "benchmarks/realworld" / n / "gold.json").read_text())
             for n in ("wild-workouts", "eshop")}
    commits = {n: g["commit"] for n, g in golds.items()}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.realworld.score", f"wild-workouts={empty}",
                           f"eshop={tmp_path / 'missing.git'}", "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines() == [
        f"wild-workouts: skipped: {empty} does not hold the pinned commit {commits['wild-workouts']} (fetch it, then "
        f"`git --git-dir {empty} cat-file -t {commits['wild-workouts']}` must print 'commit')",
        f"eshop: skipped: {tmp_path / 'missing.git'} does not exist (clone {golds['eshop']['source'].removeprefix('github:')} "
        f"there; it must hold the pinned commit {commits['eshop']})"]
    assert "not scored (see the lines above): wild-workouts, eshop" in proc.stdout
    assert not (tmp_path / "work" / "wild-workouts").exists()
