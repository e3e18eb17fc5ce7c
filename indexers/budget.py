"""A time budget per file: extraction of one file that runs longer is stopped, and the file reported.

Extraction is pure Python and regular expressions (whose matching loop checks for signals), so a
SIGALRM timer interrupts it wherever it is: `deadline(seconds)` raises `Overtime` in the running code.
Signals reach only a process's main thread, so code that extracts elsewhere (the language server's
threads) runs extraction in a worker process instead (`indexers.sandbox`), which its owner can also
kill outright. `Overtime` is a BaseException so that the guards around each extractor (which turn an
exception into a per-file error and go on) let it through.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_FILE_BUDGET = 10.0  # seconds; `[index] file_budget` in lore.toml, `lore index --file-budget`


class Overtime(BaseException):  # noqa: N818 - not an error of the code that catches Exception
    """Raised in code that ran past its deadline."""


def overtime_reason(seconds: float) -> str:
    return f"skipped: extraction took longer than {seconds:g} s"


def enforceable() -> bool:
    """Whether `deadline` can stop code here (the main thread of a process with SIGALRM)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise Overtime in the code of the block after `seconds` (None or 0: no limit; outside the main
    thread: no limit either, see `enforceable`)."""
    if not seconds or seconds <= 0 or not enforceable():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise Overtime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
