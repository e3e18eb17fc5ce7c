"""How every `lore` command reports expected failures: one line on stderr and an exit code (2 for usage
and configuration errors, 1 when the cache cannot be written), never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from indexers.store import CacheError
from indexers.workspace import WorkspaceError
from lore.cli.output import echo

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn expected failures into one line and an exit code instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WorkspaceError as exc:
            echo(f"lore: {exc}", err=True)
            sys.exit(2)
        except CacheError as exc:
            echo(f"lore: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            echo("lore: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]
