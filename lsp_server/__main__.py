"""`python -m lsp_server [--tcp HOST:PORT [--token-file FILE]] [--log-file FILE]`: same as `lore serve`."""

from __future__ import annotations

import argparse
from pathlib import Path

from lsp_server.main import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lsp_server", description="Lore language server")
    parser.add_argument("--tcp", metavar="HOST:PORT", default=None)
    parser.add_argument("--token-file", type=Path, default=None, help="with --tcp: read the token from FILE (mode 0600)")
    parser.add_argument("--log-file", type=Path, default=None)
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdio (default)")
    args = parser.parse_args()
    run(tcp=args.tcp, log_file=args.log_file, token_file=args.token_file)


if __name__ == "__main__":
    main()
