"""Line history is read once per file version and looked up per hover: blame and fix regions are read on
the first request (or by a background thread) and kept in memory; later requests run no git, read no
cache and scan no commit list; a caller that must not wait (the hover) gets "pending" instead of a
blame; a new index keeps what no new commit touched and reads the rest again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from indexers.engine import Engine
from indexers.history import index as history_index
from indexers.history.index import PENDING, HistoryIndex
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from tests.gitrepo import GitRepo

PAY = "def pay(total):\n    if total < 0:\n        total = 0\n    return charge(total)\n"


def make_repo(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.commit("Add payments", {"pay.py": PAY, "util.py": "X = 1\n", "README.md": "# pay\n"})
    repo.commit("Hotfix: negative totals (PAY-88)", {"pay.py": PAY.replace("total = 0", "total = 0  # clamp")})
    repo.commit("Hotfix: clamp again (PAY-91)", {"pay.py": PAY.replace("total = 0", "total = 0  # clamp twice")})
    for i in range(5):
        repo.commit(f"Tune util {i}", {"util.py": f"X = {i + 2}\n"})
    return repo


class Counting:
    """Wraps a function and counts its calls."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(args)
        return self.fn(*args, **kwargs)


class ScanCounter(dict):  # type: ignore[type-arg]
    """A commit table that counts full scans (values() and iteration)."""

    scans = 0

    def values(self) -> Any:
        ScanCounter.scans += 1
        return super().values()

    def __iter__(self) -> Any:
        ScanCounter.scans += 1
        return super().__iter__()


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[GitRepo, Engine, Snapshot]:
    repo = make_repo(tmp_path / "pay")
    engine = Engine(discover(repo.path), Store(tmp_path / "cache"), jobs=1)
    snap, _ = engine.refresh()
    return repo, engine, snap


def test_a_file_is_blamed_once_and_hovers_scan_no_commits(indexed: tuple[GitRepo, Engine, Snapshot],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _repo, _engine, snap = indexed
    hist: HistoryIndex = snap.history
    blame, fixes = Counting(history_index.blame), Counting(history_index.fix_regions)
    monkeypatch.setattr(history_index, "blame", blame)
    monkeypatch.setattr(history_index, "fix_regions", fixes)
    hist.warm(snap)  # the per-repo tables, built once in the background after an index
    hist.commits["pay"] = ScanCounter(hist.commits["pay"])
    ScanCounter.scans = 0
    first = hist.sections(snap, "pay", "pay.py", 2, 2)
    assert len(blame.calls) == 1 and len(fixes.calls) == 1
    # fix history comes from the per-path table: only the commits that touched pay.py, not every commit
    assert [c.subject for c in fixes.calls[0][2]] == ["Hotfix: clamp again (PAY-91)", "Hotfix: negative totals (PAY-88)",
                                                      "Add payments"]
    assert "Fixed 2 times" in " ".join(n.text for n in first[0].notes)
    for line in range(4):
        for _ in range(3):
            again = hist.sections(snap, "pay", "pay.py", line, line, wait=False)
            assert again[0].notes[0].kind != "history_pending"
    assert hist.sections(snap, "pay", "pay.py", 2, 2, wait=False) == first
    assert len(blame.calls) == 1 and len(fixes.calls) == 1 and hist.reads == 1
    assert ScanCounter.scans == 0  # no hover walked the commit list


def test_without_wait_nothing_is_read_and_the_history_says_pending(indexed: tuple[GitRepo, Engine, Snapshot],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _repo, _engine, snap = indexed
    hist: HistoryIndex = snap.history
    blame = Counting(history_index.blame)
    monkeypatch.setattr(history_index, "blame", blame)
    hist.blob("pay", "")  # HEAD's file list (read with the warm-up)
    sections = hist.sections(snap, "pay", "pay.py", 2, 2, wait=False)
    assert [(n.kind, n.text) for n in sections[0].notes] == [("history_pending", PENDING)]
    assert not hist.ready("pay", "pay.py") and blame.calls == []
    hist.prepare("pay", "pay.py")
    assert hist.ready("pay", "pay.py") and len(blame.calls) == 1
    kinds = [n.kind for n in hist.sections(snap, "pay", "pay.py", 2, 2, wait=False)[0].notes]
    assert kinds[0] == "hotfix" and "history_pending" not in kinds


def test_concurrent_reads_of_one_file_run_git_once(indexed: tuple[GitRepo, Engine, Snapshot],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _repo, _engine, snap = indexed
    hist: HistoryIndex = snap.history
    release = threading.Event()
    calls: list[str] = []
    real = history_index.blame

    def slow_blame(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        release.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(history_index, "blame", slow_blame)
    readers = [threading.Thread(target=hist.prepare, args=("pay", "pay.py")) for _ in range(3)]
    for r in readers:
        r.start()
    # while git is (held) running, a hover answers from memory: pending, without waiting for it
    pending = hist.sections(snap, "pay", "pay.py", 2, 2, wait=False)
    assert pending[0].notes[0].kind == "history_pending"
    release.set()
    for r in readers:
        r.join()
    assert calls == ["pay.py"]
    assert hist.ready("pay", "pay.py")


def test_a_new_index_keeps_what_no_new_commit_touched(indexed: tuple[GitRepo, Engine, Snapshot],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    repo, engine, snap = indexed
    old: HistoryIndex = snap.history
    for path in ("pay.py", "util.py", "README.md"):
        old.prepare("pay", path)
    repo.commit("Workaround: retry charge (#7)", {"pay.py": PAY.replace("return charge", "return retry(charge)")})
    new_snap, _ = engine.refresh()
    new: HistoryIndex = new_snap.history
    assert new is not old
    assert new.adopt(old) == 2  # util.py and README.md; pay.py changed in the new commit
    blame = Counting(history_index.blame)
    monkeypatch.setattr(history_index, "blame", blame)
    new.prepare("pay", "util.py")
    new.prepare("pay", "README.md")
    assert blame.calls == []  # kept from the previous index
    assert not new.ready("pay", "pay.py")
    new.prepare("pay", "pay.py")
    assert [c[1] for c in blame.calls] == ["pay.py"]  # the changed file is blamed again, at the new HEAD
    notes = new.sections(new_snap, "pay", "pay.py", 3, 3, wait=False)[0].notes
    assert notes[0].kind == "workaround" and "retry charge" in notes[0].text


def test_a_rewritten_history_keeps_nothing(indexed: tuple[GitRepo, Engine, Snapshot]) -> None:
    repo, engine, snap = indexed
    old: HistoryIndex = snap.history
    old.prepare("pay", "util.py")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("Tune util again", {"util.py": "X = 99\n"})
    new_snap, _ = engine.refresh()
    assert new_snap.history.adopt(old) == 0


def test_coupling_from_the_per_path_table_equals_the_whole_repo_table() -> None:
    """Coupled files counted from the commits that touched a file alone are exactly what the table of
    every pair of files says (without holding that table)."""
    import random

    from indexers.history.coupling import FileCoupling, coupled_files
    from indexers.model import Commit

    rng = random.Random(3)
    names = [f"f{i}.go" for i in range(12)]
    commits = [Commit(sha=f"{i:040x}", author="a", date="2024-01-01T00:00:00+00:00", subject=f"c{i}",
                      files=tuple(rng.sample(names, rng.randint(1, 4))))
               for i in range(300)]
    commits.append(Commit(sha="f" * 40, author="a", date="2024-01-01T00:00:00+00:00", subject="mass",
                          files=tuple(f"m{i}.go" for i in range(60)) + ("f1.go",)))  # too many files: skipped
    whole = FileCoupling(commits)
    by_path: dict[str, list[Commit]] = {}
    for c in commits:
        for f in c.files:
            by_path.setdefault(f, []).append(c)
    for name in names:
        assert coupled_files(name, by_path[name])[:5] == whole.with_file(name)
        assert coupled_files(name, by_path[name], min_support=1)[:3] == whole.with_file(name, min_support=1, limit=3)
