"""Who may talk to the server over TCP.

`lore serve --tcp HOST:PORT` listens on a loopback address only (127.0.0.0/8, ::1, localhost); any
other host is refused before anything listens. Every start has a token: read from `--token-file` (a file
the user owns that nobody else may read or write), else generated and printed on stderr. A connection's
first message must be `initialize` with `initializationOptions.token` set to it (the token is removed
before the server reads the options); otherwise the connection is answered with an error and closed,
and the server goes on waiting for its client. One client at a time: a connection while a session is
active is refused the same way, so nobody can take over the session's output.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

HANDSHAKE_SECONDS = 10.0  # for the first message to arrive
MAX_FIRST_MESSAGE = 1024 * 1024  # bytes of an initialize request
MAX_HEADER_LINE = 1024
MIN_TOKEN = 16
UNAUTHORIZED = -32001  # JSON-RPC server error range


class AccessError(ValueError):
    """A TCP setting that cannot be used (the message is one clear line)."""


def loopback_host(host: str) -> str:
    """The address to bind for `host`, which must name this machine's loopback interface."""
    if host in ("", "localhost"):
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise AccessError(f"--tcp: {host!r} is not an IP address; the server listens only on a loopback address (127.0.0.1, ::1 or localhost)") from None
    if not addr.is_loopback:
        raise AccessError(f"--tcp: {host} is not a loopback address; the server listens only on this machine "
                          "(127.0.0.1, ::1 or localhost)")
    return str(addr)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_token(path: Path) -> str:
    """The token in `path`, a file owned by the user that nobody else may read or write (mode 0600)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise AccessError(f"--token-file {path}: cannot open: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AccessError(f"--token-file {path}: not a regular file")
        if st.st_uid != os.geteuid():
            raise AccessError(f"--token-file {path}: owned by uid {st.st_uid}, not by you")
        if st.st_mode & 0o077:
            raise AccessError(f"--token-file {path}: others may read it (mode {stat.S_IMODE(st.st_mode):03o}); "
                              f"chmod 600 {path}")
        token = os.read(fd, 4096).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
    if len(token) < MIN_TOKEN or any(c.isspace() for c in token):
        raise AccessError(f"--token-file {path}: the token must be one word of at least {MIN_TOKEN} characters")
    return token


async def first_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The connection's first JSON-RPC message (bounded in size); ValueError when it is not one."""
    length = None
    while True:
        line = await reader.readline()
        if not line:
            raise ValueError("connection closed before the first message")
        if len(line) > MAX_HEADER_LINE:
            raise ValueError("header line too long")
        text = line.decode("ascii", "replace").strip()
        if not text:
            break
        name, _, value = text.partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length is None or length > MAX_FIRST_MESSAGE:
        raise ValueError("no Content-Length, or a first message larger than 1 MiB")
    body = await reader.readexactly(length)
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("the first message is not a JSON object")
    return message


def authorize(message: dict[str, Any], token: str) -> str | None:
    """None when `message` is an initialize request carrying the token (which is then removed from it);
    else the reason to refuse."""
    if message.get("method") != "initialize":
        return "the first message must be initialize"
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    given = options.get("token") if isinstance(options, dict) else None
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        return "initialize must carry initializationOptions.token, the token `lore serve --tcp` printed or read"
    del options["token"]  # type: ignore[union-attr]
    return None


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def refusal(message: dict[str, Any] | None, reason: str) -> bytes:
    msg_id = message.get("id") if isinstance(message, dict) else None
    if not (isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))):
        msg_id = None
    return frame({"jsonrpc": "2.0", "id": msg_id, "error": {"code": UNAUTHORIZED, "message": f"Lore: refused: {reason}"}})


class Replay:
    """A stream reader that first serves `data` (the first message, read before the session started),
    then reads from `reader`."""

    def __init__(self, reader: asyncio.StreamReader, data: bytes) -> None:
        self.reader = reader
        self.data = data

    async def readline(self) -> bytes:
        if self.data:
            cut = self.data.find(b"\n") + 1 or len(self.data)
            line, self.data = self.data[:cut], self.data[cut:]
            return line
        return await self.reader.readline()

    async def readexactly(self, n: int) -> bytes:
        head, self.data = self.data[:n], self.data[n:]
        if len(head) == n:
            return head
        try:
            return head + await self.reader.readexactly(n - len(head))
        except asyncio.IncompleteReadError as exc:
            raise asyncio.IncompleteReadError(head + exc.partial, n) from None
