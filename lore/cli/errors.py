"""How every `lore` command reports expected failures: one line on stderr and an exit code (2 for usage
and configuration errors, 1 when the cache cannot be written), never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from indexers.store import CacheError
from indexers.workspace import WorkspaceError
from lore.cli.output import echo

F = TypeVar("F", bound=Callable[..., Any])


class InputError(ValueError):
    """A command-line argument that cannot be used (a line past the end of the file, ...): one line, exit 2."""


def friendly(fn: F) -> F:
    """Turn expected failures into one line and an exit code instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (WorkspaceError, InputError) as exc:
            echo(f"lore: {exc}", err=True)
            sys.exit(2)
        except CacheError as exc:
            echo(f"lore: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            echo("lore: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


class OneLineErrors(click.Group):
    """The `lore` group: a usage error (unknown option, bad value) is one line naming the command and the
    problem, exit 2, instead of click's usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        kwargs.setdefault("prog_name", "lore")  # not "python -m lore" in messages
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "lore"
            echo(f"{where}: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("lore: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)
