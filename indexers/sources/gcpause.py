"""Pausing Python's cyclic garbage collector while one file is extracted.

Extractors allocate hundreds of thousands of small acyclic objects per large file (tokens, YAML nodes,
entities, attribute dicts), and each allocation burst makes the collector rescan every object still alive,
over and over: that tripled YAML load time and cost a third of SQL and GraphQL extraction time here.
Nothing an extractor builds needs the cycle collector (reference counting frees it), so the collector is
paused for the duration and restored after; nested or concurrent pauses leave it as the outermost found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building many small acyclic nodes makes the cyclic collector rescan them over and over (it tripled
    load time here); walkers of a loaded tree may use this too."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
