"""Everything the `lore` command prints goes through here: text through `render.safe_text`, JSON through
`render.safe_json`, so a file, service or commit named with terminal escapes cannot act on the terminal."""

from __future__ import annotations

from typing import Any

import click

from lore.query.render import safe_json, safe_text


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    click.echo(safe_text(text), err=err, nl=nl)


def echo_json(value: Any) -> None:
    click.echo(safe_json(value))
