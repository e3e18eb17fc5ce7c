"""The server's hover path in process: a hover never waits for a blame in progress (the history thread
reads it, the next hover shows it), and the garbage-collection policy's premise: a replaced Snapshot is
freed by reference counting alone, so freezing the live one never keeps an old one alive."""

from __future__ import annotations

import gc
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t

from indexers.engine import Engine
from indexers.history import index as history_index
from indexers.store import Store
from indexers.workspace import discover
from lsp_server import memory
from lsp_server.features import hover
from lsp_server.prefetch import Prefetch
from lsp_server.settings import Settings
from lsp_server.state import Doc
from tests.gitrepo import GitRepo

PAY = "def pay(total):\n    if total < 0:\n        total = 0\n    return charge(total)\n"


def make_engine(tmp_path: Path) -> tuple[GitRepo, Engine]:
    repo = GitRepo(tmp_path / "pay")
    repo.commit("Add payments", {"pay.py": PAY})
    repo.commit("Hotfix: negative totals (PAY-88)", {"pay.py": PAY.replace("total = 0", "total = 0  # clamp")})
    return repo, Engine(discover(repo.path), Store(tmp_path / "cache"), jobs=1)


def test_a_hover_never_waits_for_a_blame_in_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, engine = make_engine(tmp_path)
    snap, _ = engine.refresh()
    release, started = threading.Event(), threading.Event()
    real = history_index.blame

    def held_blame(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(history_index, "blame", held_blame)
    path = repo.path / "pay.py"
    doc = Doc(path.as_uri(), path, 1, path.read_text())
    with ThreadPoolExecutor(1) as pool:
        prefetch = Prefetch(pool)
        reading = prefetch.request(snap, path)  # what didOpen does
        assert reading is not None and prefetch.request(snap, path) is reading  # one read per file at a time
        started.wait()
        # git is held: the hover answers all the same, without the line history (nothing else to say here)
        assert hover.hover(snap, doc, t.Position(2, 8), Settings()) is None
        assert not reading.done()
        release.set()
        reading.result()
    shown = hover.hover(snap, doc, t.Position(2, 8), Settings())
    assert shown is not None and "Hotfix: negative totals" in shown.contents.value  # type: ignore[union-attr]
    assert prefetch.request(snap, path) is None  # in memory: nothing more to read


def test_a_replaced_snapshot_is_freed_without_the_cycle_collector(tmp_path: Path) -> None:
    repo, engine = make_engine(tmp_path)
    snap, _ = engine.refresh()
    snap.history.prepare("pay", "pay.py")
    snap.history.warm(snap)
    old = [weakref.ref(snap), weakref.ref(snap.history)]
    repo.commit("Workaround: retry (#7)", {"pay.py": PAY + "# retry\n"})
    collecting = gc.isenabled()
    gc.disable()
    try:
        memory.after_publish()  # the old Snapshot frozen, as the server leaves it
        del snap
        new, _ = engine.refresh()  # the engine drops its reference to the old Snapshot
        assert [r() for r in old] == [None, None]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
    assert new.history is not None
