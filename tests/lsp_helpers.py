"""Shared pieces of the end-to-end LSP tests (pytest-lsp clients): polling, document sync, waiting for
diagnostics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Poll an async check until it returns something truthy (or the timeout passes: its last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


def open_doc(client: LanguageClient, path: Path, language: str, text: str | None = None) -> None:
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
        uri=path.as_uri(), language_id=language, version=1,
        text=text if text is not None else path.read_text(encoding="utf-8"))))


def change_doc(client: LanguageClient, path: Path, version: int, text: str) -> None:
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(version=version, uri=path.as_uri()),
        [t.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient, path: Path, want: Callable[[list[t.Diagnostic]], bool],
                      timeout: float = 20.0) -> list[t.Diagnostic]:
    """The document's published diagnostics once `want` accepts them (possibly none at all); fails naming
    the last ones seen. Not built on `until`: an accepted empty list is an answer, not a falsy retry."""
    deadline = time.monotonic() + timeout
    while True:
        diags = list(client.diagnostics.get(path.as_uri()) or [])
        if path.as_uri() in client.diagnostics and want(diags):
            return diags
        assert time.monotonic() < deadline, f"diagnostics never matched; last: {diags}"
        await asyncio.sleep(0.05)


async def hover_text(client: LanguageClient, path: Path, pos: tuple[int, int]) -> str:
    res = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(path.as_uri()), t.Position(*pos)))
    return res.contents.value if res is not None and isinstance(res.contents, t.MarkupContent) else ""


async def hover_with_history(client: LanguageClient, path: Path, pos: tuple[int, int], timeout: float = 30.0) -> str:
    """The hover once the file's line history is read: a hover never waits for git blame (the server reads
    it in the background and the hover says so meanwhile), so the first one may come before it."""
    deadline = time.monotonic() + timeout
    while True:
        text = await hover_text(client, path, pos)
        if "line history is being read" not in text or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.05)
