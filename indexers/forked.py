"""One piece of work run beside the caller, in a forked child process, for short batch commands.

`lore context` answers from the cache and must also say whether the index is stale: git's file listing
and a stat of every file (0.1 s on a 6,600-file repository), none of which the answer needs. Run in a
child, on the other core, while the parent loads the records and answers, that check costs the parent
only the fork. A thread would not do: the check is Python work, and the parent's unpickling holds the
same interpreter lock.

Rules: the work must not touch what the parent holds open (the cache's SQLite connection: read what it
needs before `start`), and its result must be JSON (the pipe carries text, never a pickle). Anything
that goes wrong in the child (no fork on this platform, the child failing or dying) makes the result
computed in the caller instead, when it is asked for: the answer is the same, only later. A process with
more than one thread never forks (the server: a fork would copy its other threads' locks half-way); there
the work runs in the caller.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any


def start(work: Callable[[], Any]) -> Callable[[], Any]:
    """Start `work` in a child process; the returned function waits for its (JSON) result. Where no
    child can be started, or the child fails, the returned function runs `work` itself."""
    done: list[Any] = []

    def inline() -> Any:
        if not done:
            done.append(work())
        return done[0]

    if sys.platform != "linux" or threading.active_count() > 1:  # see the module doc
        return inline
    try:
        r, w = os.pipe()
    except OSError:
        return inline
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return inline
    if pid == 0:  # the child: compute, write, leave without running the parent's exit handlers
        try:
            os.close(r)
            try:
                data = json.dumps({"ok": work()}).encode()
            except BaseException:  # noqa: BLE001 - the parent computes it again and sees the error itself
                data = b""
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(0)
    os.close(w)

    def result() -> Any:
        if done:
            return done[0]
        chunks = []
        try:
            while chunk := os.read(r, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(r)
            os.waitpid(pid, 0)
        try:
            got = json.loads(b"".join(chunks))
        except ValueError:
            got = None
        if not isinstance(got, dict) or "ok" not in got:
            return inline()
        done.append(got["ok"])
        return done[0]

    return result
