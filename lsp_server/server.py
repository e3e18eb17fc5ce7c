"""The language server object: pygls' LanguageServer plus Lore's session, worker pools and background
tasks. Handlers reach all state through the server they receive; there are no module globals.

Positions are UTF-16 (what facts use): the protocol narrows the client's offered position encodings
to UTF-16 before pygls picks one, so a client preferring UTF-8 (Neovim) still gets UTF-16.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from .state import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

NAME = "lore"
VERSION = "0.1.0"


class LoreProtocol(LanguageServerProtocol):
    @lsp_method(t.INITIALIZE)
    def lsp_initialize(self, params: t.InitializeParams) -> Any:
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            general.position_encodings = [e for e in general.position_encodings if e == t.PositionEncodingKind.Utf16] or None
        return (yield from super().lsp_initialize(params))


class LoreServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, VERSION, protocol_cls=LoreProtocol)
        self.session = Session()
        # Requests and per-document work (overlays, diagnostics) share a small pool; indexing has its own
        # thread so a long index never delays a hover.
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lore-req")
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lore-index")
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pending_docs: dict[str, asyncio.Task[Any]] = {}  # uri -> its debounced document run
        self.background: Any = None  # lsp_server.indexing.Background, set on initialize

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a pure feature function on the request pool."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task that is kept alive and whose failure is logged, never lost."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def warn(self, message: str) -> None:
        log.warning(message)
        self.window_show_message(t.ShowMessageParams(type=t.MessageType.Warning, message=f"Lore: {message}"))

    def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.background is not None:
            self.background.stop()
        self.session.shutdown()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=False, cancel_futures=True)


def build_server() -> LoreServer:
    from .setup import register

    server = LoreServer()
    register(server)
    return server
