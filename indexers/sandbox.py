"""Extraction of one file in a worker process that can be abandoned, for callers that are not a
process's main thread (the language server's request threads), where the per-file budget's timer
cannot reach: a runaway extraction there would hold the interpreter and freeze the whole server.

The worker (started on first use, stopped after IDLE seconds unused) extracts with the budget enforced
in its own main thread; if no answer comes within the budget and a grace period (code that never
returns to the interpreter), it is killed and the file reported as over budget. Calls are one at a
time.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

from indexers import workers
from indexers.budget import DEFAULT_FILE_BUDGET, overtime_reason
from indexers.extract import extract_file, sha256
from indexers.model import FileError, FileFacts

log = logging.getLogger(__name__)
GRACE = 5.0  # seconds past the budget before the worker is killed
IDLE = 120.0  # seconds unused before the worker stops


def _serve(conn: Connection, parent: int) -> None:
    workers.die_with(parent)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result: Any = extract_file(*job)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as the file's error
            result = f"{exc.__class__.__name__}: {exc}"
        conn.send(result)


class Sandbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._idle: threading.Timer | None = None
        self.killed = 0  # workers killed for running past the budget

    def extract(self, repo: str, path: str, data: bytes, digest: str | None, budget: float | None) -> FileFacts:
        """The file's facts, or facts with one error when extraction ran past `budget` or failed."""
        budget = budget or DEFAULT_FILE_BUDGET
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
            conn = self._start()
            try:
                conn.send((repo, path, data, digest, budget))
                ready = conn.poll(budget + GRACE)
                result = conn.recv() if ready else None
            except (EOFError, OSError) as exc:
                self._stop()
                return _failed(repo, path, data, digest, f"extraction process failed: {exc.__class__.__name__}")
            if not ready:
                log.warning("%s/%s: extraction ran past %g s; its process is killed", repo, path, budget + GRACE)
                self.killed += 1
                self._stop(kill=True)
                return _failed(repo, path, data, digest, overtime_reason(budget))
            self._idle = threading.Timer(IDLE, self.close)
            self._idle.daemon = True
            self._idle.start()
        if isinstance(result, FileFacts):
            return result
        return _failed(repo, path, data, digest, f"extraction failed: {result}")

    def _start(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("forkserver")
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(theirs, os.getpid()), name="lore-extract", daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, ours
        return ours

    def _stop(self, kill: bool = False) -> None:
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            try:
                if not kill:
                    conn.send(None)
                conn.close()
            except OSError:
                pass
        if proc is not None:
            if kill:
                proc.kill()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def close(self) -> None:
        with self._lock:
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            self._stop()


_NOT_READ = ("skipped: extraction took longer than", "extraction process failed", "extraction failed:")


def not_read(facts: FileFacts) -> str | None:
    """The reason when `facts` stand for a file that was not read (over budget, or its process failed)."""
    if len(facts.errors) == 1 and facts.errors[0].reason.startswith(_NOT_READ) and not facts.language:
        return facts.errors[0].reason
    return None


def _failed(repo: str, path: str, data: bytes, digest: str | None, reason: str) -> FileFacts:
    return FileFacts(repo=repo, path=path, sha256=digest or sha256(data), errors=(FileError(repo, path, reason),))
