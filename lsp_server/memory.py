"""The server's runtime policy: thread switching (`configure`) and garbage collection around Snapshots.

A Snapshot of a large workspace is millions of long-lived objects. Python's cyclic collector scans every
tracked object in a full collection, and the short-lived objects of hovers (documents, sections, notes)
keep triggering young collections whose survivors eventually trigger a full one: a pause of hundreds of
milliseconds in the middle of a hover. So:

- `before_publish()` (the index thread, when a new Snapshot is about to replace the current one): collect
  the cyclic garbage the indexing run left, while nothing frozen is scanned;
- `after_publish()`: freeze what is alive (the new Snapshot, the server's tables): later collections never
  scan it again; also each time a Snapshot served from saved records has read one of them on demand (its
  entities stay as long as the Snapshot: unfrozen, each full collection would scan them, a pause of 100+
  ms in a hover on a large contract repository). Frozen objects are still freed by reference counting when the Snapshot that holds them
  is replaced (tests/test_server_memory.py checks that a replaced Snapshot is freed without the collector).
"""

from __future__ import annotations

import gc
import logging
import sys
import time

from indexers import git

log = logging.getLogger(__name__)


SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005


GIT_NICENESS = 10  # the line history's git (blame, fix regions) below the server's own priority


def configure() -> None:
    """Process-wide settings of the server: a thread waiting for the interpreter lock asks for it after
    SWITCH_INTERVAL instead of 5 ms. A hover passes between threads several times (the reader, the
    event loop, the request pool) while background threads read history and compute diagnostics; each
    pass could otherwise wait 5 ms. And the git that reads line history ahead of hovers (a blame of a
    long file keeps a core busy for seconds) runs at a lower priority than the server's request threads."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    git.BACKGROUND_NICENESS = GIT_NICENESS


def before_publish() -> None:
    t0 = time.perf_counter()
    found = gc.collect()
    log.debug("gc before publishing: %d unreachable objects in %.0f ms", found, (time.perf_counter() - t0) * 1000)


def after_publish() -> None:
    gc.freeze()

