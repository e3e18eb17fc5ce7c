"""Entry point of `lore serve` / `python -m lsp_server`: logging (stderr, never stdout, which carries
the protocol over stdio; optionally a file) and the transport (stdio, or TCP with --tcp HOST:PORT)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from lsp_server.setup import build_server


def parse_tcp(spec: str) -> tuple[str, int]:
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"lore serve: --tcp expects HOST:PORT, got {spec!r}")
    return host or "127.0.0.1", int(port)


def run(tcp: str | None = None, log_file: Path | None = None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=logging.WARNING, handlers=handlers, force=True,
                        format="%(asctime)s lore %(levelname)s %(name)s: %(message)s")
    # pygls warns on every cancelled request the server already answered (VS Code cancels hovers as the
    # mouse moves): routine, not worth a warning in the user's log.
    logging.getLogger("pygls.protocol").setLevel(logging.ERROR)
    server = build_server()
    try:
        if tcp:
            host, port = parse_tcp(tcp)
            server.start_tcp(host, port)
        else:
            server.start_io()
    finally:
        server.close()
