"""Entry point of `lore serve` / `python -m lsp_server`: logging (stderr, never stdout, which carries
the protocol over stdio; optionally a file) and the transport (stdio, or TCP with --tcp HOST:PORT on a
loopback address, with a token: see lsp_server/access.py)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from lore.query.render import SafeFormatter
from lsp_server import access, memory
from lsp_server.setup import build_server


def _usage_error(message: str) -> SystemExit:
    print(f"lore serve: {message}", file=sys.stderr)
    return SystemExit(2)


def parse_tcp(spec: str) -> tuple[str, int]:
    """(loopback address, port) from HOST:PORT; port 0 lets the system choose."""
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise _usage_error(f"--tcp expects HOST:PORT, got {spec!r}")
    try:
        return access.loopback_host(host), int(port)
    except access.AccessError as exc:
        raise _usage_error(str(exc)) from None


def _token(token_file: Path | None) -> str:
    if token_file is None:
        return access.new_token()
    try:
        return access.read_token(token_file)
    except access.AccessError as exc:
        raise _usage_error(str(exc)) from None


def _announce(token: str, from_file: bool) -> Callable[[str, int], None]:
    def on_listen(host: str, port: int) -> None:
        shown = "the one in --token-file" if from_file else token
        print(f"lore serve: listening on {host}:{port}; token: {shown} "
              "(send it as initializationOptions.token in initialize)", file=sys.stderr, flush=True)

    return on_listen


def run(tcp: str | None = None, log_file: Path | None = None, token_file: Path | None = None) -> None:
    if tcp:
        host, port = parse_tcp(tcp)
        token = _token(token_file)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(SafeFormatter("%(asctime)s lore %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=handlers, force=True)
    # pygls warns on every cancelled request the server already answered (VS Code cancels hovers as the
    # mouse moves): routine, not worth a warning in the user's log.
    logging.getLogger("pygls.protocol").setLevel(logging.ERROR)
    memory.configure()
    server = build_server()
    try:
        if tcp:
            server.start_tcp(host, port, token, on_listen=_announce(token, token_file is not None))
        else:
            server.start_io()
    finally:
        server.close()
