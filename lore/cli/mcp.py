"""`lore mcp`: run the Model Context Protocol server over stdio for AI coding agents.

Registered in `lore.cli.main` with `main.add_command(mcp)`. The `mcp` SDK is optional (`lore-lsp[mcp]`) and
imported only when the command runs, so `lore` works without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lore.cli.errors import friendly
from lore.cli.output import echo


def _sdk_missing() -> str | None:
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as exc:
        return f"lore: the MCP server needs the mcp package (mcp>=2): pip install 'lore-lsp[mcp]' ({exc})"
    return None


@click.command("mcp")
@click.option("--root", type=click.Path(path_type=Path), default=".", show_default=True,
              help="Workspace root (lore.toml, a git repo, or a folder of repos); discovered like the CLI.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
def mcp(root: Path, cache_dir: Path | None) -> None:
    """Run the MCP server over stdio (tools: lore_context, lore_consumers, lore_search, lore_check, notes_for, add_note)."""
    problem = _sdk_missing()
    if problem:
        echo(problem, err=True)
        sys.exit(2)
    from lore.mcp.server import run

    friendly(run)(root, cache_dir)


if __name__ == "__main__":  # pragma: no cover - `python -m lore.cli.mcp` before cli.py registers it
    mcp()
