"""The language server object: pygls' LanguageServer plus Lore's session, worker pools and background
tasks. Handlers reach all state through the server they receive; there are no module globals.

The transports are pygls' (stdio, TCP) read through `Framing`, which keeps a hostile or vanishing client
from crashing or hanging the server: an oversized Content-Length is discarded in chunks instead of
allocated, a header line is read at most MAX_HEADER_LINE bytes at a time (the rest of an overlong line is
discarded as it arrives), and end of input in the middle of a body ends the session (pygls 2.1 raises
out of its TCP loop there and serves forever). The JSON-RPC envelope is lsp_server/protocol.py.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from threading import Event
from typing import Any, BinaryIO, TypeVar

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from lsp_server import access
from lsp_server.prefetch import Prefetch
from lsp_server.protocol import LoreProtocol
from lsp_server.state import Session
from lsp_server.yielding import Requests

log = logging.getLogger(__name__)
T = TypeVar("T")

NAME = "lore"
VERSION = "0.1.0"
MAX_BODY = 128 * 1024 * 1024  # bytes; a larger body is read in chunks and discarded, never allocated
CHUNK = 1024 * 1024
MAX_HEADER_LINE = 64 * 1024  # bytes; LSP headers are a few dozen
SKIPPED_LINE = b"X-Lore-Skipped: an overlong header line\r\n"  # any non-blank line the read loop ignores


class CappedStdin:
    """The stdin stream as pygls' StdinAsyncReader reads it, with a bounded `readline`: a line longer than
    MAX_HEADER_LINE is read and dropped piece by piece, never held whole (the stream's own readline keeps
    a line without a newline in memory until one comes)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def readline(self) -> bytes:
        line = self.stream.readline(MAX_HEADER_LINE)
        if len(line) < MAX_HEADER_LINE or line.endswith(b"\n"):
            return line
        dropped = len(line)
        while True:
            more = self.stream.readline(MAX_HEADER_LINE)
            dropped += len(more)
            if not more:
                return b""  # end of input inside the line
            if more.endswith(b"\n"):
                log.warning("skipped a %d-byte header line (the limit is %d)", dropped, MAX_HEADER_LINE)
                return SKIPPED_LINE

    def read(self, n: int) -> bytes:
        return self.stream.read(n)


class Framing:
    """pygls' message reader (stdin read on a thread, or an asyncio.StreamReader) made safe for its read
    loop, which treats an empty body as end of input and lets reader exceptions escape."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    async def readline(self) -> bytes:
        try:
            return bytes(await self.reader.readline())
        except ValueError:  # asyncio.StreamReader: a line past its limit (already discarded)
            log.warning("skipped an overlong header line")
            return SKIPPED_LINE

    async def readexactly(self, n: int) -> bytes:
        if n > MAX_BODY:
            return await self._discard(n)
        body = await self._read(n)
        if len(body) < n:
            log.warning("end of input %d bytes into a %d-byte message body", len(body), n)
            return b""
        return body

    async def _read(self, n: int) -> bytes:
        try:
            return bytes(await self.reader.readexactly(n))
        except asyncio.IncompleteReadError as exc:
            return bytes(exc.partial)

    async def _discard(self, n: int) -> bytes:
        log.warning("discarding a %d-byte message body (the limit is %d)", n, MAX_BODY)
        left = n
        while left:
            want = min(left, CHUNK)
            if len(await self._read(want)) < want:
                return b""
            left -= want
        return b" "  # unparsable: the read loop reports it and the client gets a Parse error


class LoreServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, VERSION, protocol_cls=LoreProtocol)
        self.session = Session()
        # Requests have a small pool of their own; per-document work (overlays, diagnostics) runs on its own
        # thread, so opening many files never queues a hover behind their diagnostics; indexing has its own
        # thread so a long index never delays a hover.
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lore-req")
        self.doc_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lore-doc")
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lore-index")
        # Line history (git blame, fix regions) of open files is read here, never on the request pool: a
        # blame of a long history takes seconds and a hover never waits for it (lsp_server/prefetch.py).
        self.history_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lore-history")
        # background units (document, history, index threads) wait for a quiet moment between requests
        self.requests = Requests()
        self.prefetch = Prefetch(self.history_pool, self.requests.yielding)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pending_docs: dict[str, asyncio.Task[Any]] = {}  # uri -> its debounced document run
        self.background: Any = None  # lsp_server.indexing.Background, set on initialize

    # -- transports: pygls' own, reading through Framing ----------------------------------------------
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = Event()
        reader = Framing(StdinAsyncReader(CappedStdin(stdin or sys.stdin.buffer), self.thread_pool))  # type: ignore[arg-type]
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(run_async(stop_event=self._stop_event, reader=reader, protocol=self.protocol,
                                  error_handler=self.report_server_error))
        except BrokenPipeError:
            log.error("lost the connection to the client; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int, token: str = "", on_listen: Callable[[str, int], None] | None = None) -> None:
        """One authenticated connection is one session: it ends at end of input, or at `exit` with its
        exit code. Connections without the token, or while the session is active, are refused and closed
        (lsp_server/access.py); they never see the session's output nor end it."""
        if len(token) < access.MIN_TOKEN:
            raise ValueError("a TCP server needs a token")
        self._stop_event = stop_event = Event()
        exit_codes: list[Any] = []
        active: list[asyncio.StreamWriter] = []

        async def refuse(writer: asyncio.StreamWriter, message: dict[str, Any] | None, reason: str) -> None:
            log.warning("refused a TCP connection from %s: %s", writer.get_extra_info("peername"), reason)
            try:
                writer.write(access.refusal(message, reason))
                await writer.drain()
                writer.close()
            except (ConnectionError, OSError):
                pass

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:  # read before answering, even a refusal: closing on unread input resets the connection
                first = await asyncio.wait_for(access.first_message(reader), access.HANDSHAKE_SECONDS)
            except (TimeoutError, asyncio.IncompleteReadError, ValueError, ConnectionError) as exc:
                await refuse(writer, None, f"no valid initialize request ({exc or exc.__class__.__name__})")
                return
            reason = access.authorize(first, token)
            if reason is None and active:
                reason = "another client is connected to this server"
            if reason is not None:
                await refuse(writer, first, reason)
                return
            active.append(writer)
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            try:
                await run_async(stop_event=stop_event, reader=Framing(access.Replay(reader, access.frame(first))),
                                protocol=self.protocol, error_handler=self.report_server_error)
            except SystemExit as exc:  # raised by the exit notification's handler
                exit_codes.append(exc.code)
            finally:
                self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            bound = self._server.sockets[0].getsockname()
            log.info("serving on %s", ", ".join(str(sock.getsockname()) for sock in self._server.sockets))
            if on_listen is not None:
                on_listen(str(bound[0]), int(bound[1]))
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:
            log.debug("server cancelled")
        if exit_codes:
            raise SystemExit(exit_codes[0])

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' read loop reports what `json.loads` raised with source JsonRpcException (LoreProtocol's
        handle_message never raises): that is an unparsable body, answered with a Parse error."""
        if source is JsonRpcException and isinstance(error, ValueError | RecursionError) and isinstance(self.protocol, LoreProtocol):
            self.protocol.reply_parse_error(error)
            return
        super().report_server_error(error, source)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a pure feature function on the request pool (counted: background work yields to it)."""
        self.requests.begin()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            self.requests.end()

    async def run_document(self, fn: Callable[..., T], *args: Any) -> T:
        """Run per-document background work (overlay, diagnostics) on the document thread, in a quiet
        moment between requests (`lsp_server.yielding`)."""
        return await asyncio.get_running_loop().run_in_executor(self.doc_pool, self.requests.yielding(fn), *args)

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
        self.history_pool.shutdown(wait=False, cancel_futures=True)
        self.doc_pool.shutdown(wait=False, cancel_futures=True)
