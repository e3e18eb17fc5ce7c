"""`Engine.refresh` mines a repo's history once the indexer has planned the repos and before it extracts
any file (a process that holds no facts yet forks and allocates cheaply); the run's history, report and
messages are what mining after extraction gave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexers import indexer as indexer_mod
from indexers.engine import Engine
from indexers.history import mine as mine_mod
from indexers.store import Store
from indexers.workspace import discover
from tests.gitrepo import GitRepo


def _repo(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "shop")
    repo.commit("Add the cart service", {"cart.proto": 'syntax = "proto3";\npackage shop;\nmessage Cart { string id = 1; }\n'})
    repo.commit("Work around the flaky cart test for now", {"cart.py": "def total(cart):\n    return 0\n"})
    return repo.path


def test_history_is_mined_before_any_file_is_extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    order: list[str] = []
    mine_history, execute = mine_mod.mine_history, indexer_mod.Indexer._execute

    def mining(*args: Any, **kwargs: Any) -> Any:
        order.append("mine")
        return mine_history(*args, **kwargs)

    def extracting(self: Any, *args: Any, **kwargs: Any) -> Any:
        order.append("extract")
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(mine_mod, "mine_history", mining)
    monkeypatch.setattr(indexer_mod.Indexer, "_execute", extracting)
    snap, report = Engine(discover(root), Store(tmp_path / "cache"), jobs=1).refresh()
    assert order == ["mine", "extract"]
    commits = snap.commits["shop"]
    assert len(commits) == 2 and report.facts["commit"] == 2 and "history" in report.timings
    assert any("workaround" in c.kinds or "temporary" in c.kinds for c in commits.values())
    assert any(e.id == "proto:shop.Cart" for decls in snap.entities.values() for e in decls)


def test_what_mining_says_comes_after_the_indexing_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    engine = Engine(discover(root), Store(tmp_path / "cache"), jobs=1)
    mine_history = engine._mine_history

    def mining(report: Any, force: bool) -> Any:
        report.messages.append("from mining")
        return mine_history(report, force)

    monkeypatch.setattr(engine, "_mine_history", mining)
    execute = indexer_mod.Indexer._execute

    def extracting(self: Any, jobs: Any, *, report: Any, **kwargs: Any) -> Any:
        report.messages.append("from indexing")
        return execute(self, jobs, report=report, **kwargs)

    monkeypatch.setattr(indexer_mod.Indexer, "_execute", extracting)
    _snap, report = engine.refresh()
    assert report.messages.index("from indexing") < report.messages.index("from mining")
