"""Background work yields to requests: a unit of it (a document's diagnostics, a file's line history, the
history tables) starts in a quiet moment, not while an editor is asking.

Python runs one thread at a time: while the document, history and index threads unpickle records or
parse `git blame`, a hover on the request pool gets a fraction of the interpreter and takes several
times as long (a first hover in a file of a served index: 25 ms alone, 80-150 ms beside the diagnostics
and history of 45 files just opened). So requests are counted, and each background unit first waits
until none is in flight and none ended in the last `GAP` seconds, but never more than `MAX_WAIT`: the
background always moves on, and an editor that asks continuously only slows it down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

GAP = 0.03  # seconds without a request before a background unit starts
MAX_WAIT = 1.0  # seconds a background unit waits at most


class Requests:
    def __init__(self, gap: float = GAP, max_wait: float = MAX_WAIT) -> None:
        self.gap, self.max_wait = gap, max_wait
        self._cond = threading.Condition()
        self._active = 0
        self._last = float("-inf")
        self.waited = 0.0  # seconds background units spent waiting (tests read it)

    def begin(self) -> None:
        with self._cond:
            self._active += 1

    def end(self) -> None:
        with self._cond:
            self._active -= 1
            self._last = time.monotonic()
            self._cond.notify_all()

    def wait_quiet(self) -> None:
        """Return once no request is in flight and none ended in the last `gap` seconds, or after
        `max_wait` seconds."""
        start = time.monotonic()
        deadline = start + self.max_wait
        with self._cond:
            while True:
                now = time.monotonic()
                if now >= deadline or (self._active == 0 and now - self._last >= self.gap):
                    break
                quiet_at = self._last + self.gap if self._active == 0 else deadline
                self._cond.wait(timeout=max(0.001, min(deadline, quiet_at) - now))
            self.waited += time.monotonic() - start

    def yielding(self, fn: Callable[..., T]) -> Callable[..., T]:
        """`fn` as a background unit: it waits for a quiet moment first."""

        def unit(*args: Any) -> T:
            self.wait_quiet()
            return fn(*args)

        return unit
