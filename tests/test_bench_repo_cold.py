"""`lore bench --repo PATH --only cold`: cold `lore index` beside the raw parse of the same files, and history
mining beside `git log --name-only`, measured in one run on a real checkout (no server runs). No timing
assertions: the figures are there, with their baselines, and the checkout is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo


def test_only_cold_measures_the_two_extraction_figures_beside_their_baselines(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    repo.commit("Add the cart service", {"cart/cart.go": "package cart\n\nfunc Total() int { return 0 }\n",
                                         "api/cart.proto": 'syntax = "proto3";\npackage shop;\nmessage Cart { int32 id = 1; }\n'})
    repo.commit("Work around a flaky total (#4)", {"cart/cart.go": "package cart\n\n// TODO: cents\nfunc Total() int { return 1 }\n"})
    before = repo.git("status", "--porcelain")
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "lore", "bench", "--repo", str(repo.path), "--only", "cold", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "shop-cold.json").read_text())
    (run,) = doc["repos"]
    parse, git_log = run["baselines"]["parse"], run["baselines"]["git_log"]
    assert parse["files"] == 2 and parse["seconds"] > 0 and git_log["commits"] == 2
    cold = run["lore_index"]["cold"]
    assert cold["available"] and cold["files"]["indexed"] == 2 and cold["timings"]["history"] >= 0
    assert cold["ratio_to_parse_seconds"] > 0 and run["lore_index"]["history"]["ratio_to_git_log"] >= 0
    assert [row["figure"] for row in run["table"]] == ["cold lore index ÷ raw parse (seconds)",
                                                       "history mining ÷ git log --name-only"]
    assert "history mining ÷ git log --name-only" in proc.stdout  # the markdown table is printed
    assert repo.git("status", "--porcelain") == before
