"""Reading the line history of open documents ahead of the hover, on a thread of its own.

`git blame` of one file of a long history takes seconds, too long for a hover to wait: the hover answers
from what the history holds in memory (`HistoryIndex.file_history(wait=False)`), and this module has the
rest read on the server's history thread, never on the event loop nor on the request pool: when a
document is opened, when a new Snapshot is published (for the open documents), and when a hover found a
file's history missing. A file is read at most once at a time; the document pipeline awaits the read
before the history diagnostics, so they never hold a request thread while git runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from indexers.snapshot import Snapshot

log = logging.getLogger(__name__)


class Prefetch:
    def __init__(self, pool: ThreadPoolExecutor,
                 unit: Callable[[Callable[..., None]], Callable[..., None]] | None = None) -> None:
        self.pool = pool
        self._unit = unit  # wraps each read (the server's: it waits for a quiet moment between requests)
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str, str], Future[None]] = {}  # (id of the history, repo, path)
        self.submitted = 0  # reads handed to the pool, for the status and tests

    def request(self, snap: Snapshot, path: Path | None) -> Future[None] | None:
        """Have the history of the file at `path` read unless it is in memory; the read's future (None
        when there is nothing to read). Cheap: a lookup, then a submit."""
        history: Any = snap.history
        if path is None or history is None or not hasattr(history, "prepare"):
            return None
        key = snap.locate(path)
        if key is None or history.ready(*key):
            return None
        ident = (id(history), *key)
        with self._lock:
            fut = self._pending.get(ident)
            if fut is not None and not fut.done():
                return fut
            fut = self.pool.submit(self._unit(history.prepare) if self._unit else history.prepare, *key)
            self._pending[ident] = fut
            self.submitted += 1
        fut.add_done_callback(lambda done: self._forget(ident, done))
        return fut

    def _forget(self, ident: tuple[int, str, str], done: Future[None]) -> None:
        with self._lock:
            if self._pending.get(ident) is done:
                del self._pending[ident]
