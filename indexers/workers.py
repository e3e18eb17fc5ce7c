"""Worker processes live no longer than the process that started them.

A `lore index` killed with SIGKILL has no chance to stop its pool, and a server killed the same way
none to stop its extraction process. On Linux the kernel kills a worker when its parent dies
(PR_SET_PDEATHSIG; a pool's workers are children of the forkserver, which exits when the main process
goes); elsewhere, and as a second line, a thread watches the starting process and exits when it is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """Call first thing in a worker process; `parent` is the pid of the process that started it."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError) as exc:
            log.debug("PR_SET_PDEATHSIG unavailable: %s", exc)
    if os.getppid() == 1:  # the parent died before we got here
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="lore-parent-watch", daemon=True).start()


def _watch(parent: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # alive, but not ours to signal
            pass
