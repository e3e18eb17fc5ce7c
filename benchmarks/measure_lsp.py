"""Latency of hover, definition and references over stdio, and the server's memory, for `lore serve`
and for a bare pygls server (the baseline), driven by the same minimal client (pygls' LanguageClient).

The client behaves like an editor: initialize with rootUri and workspaceFolders set to the workspace,
open the documents it will ask about, wait until the server says indexing is done (work-done progress
`end` for every `begin`, or else a hover that stops being empty), then ask at positions of real
contract usages recorded by the generator. Peak RSS of the server's process tree is sampled meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from benchmarks.measure_proc import TreeSampler

LANGUAGE_ID = {".go": "go", ".py": "python", ".ts": "typescript", ".java": "java", ".cs": "csharp"}
METHODS = ("hover", "definition", "references")


def pick_positions(manifest: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """A stable sample of contract-usage positions, spread over repos and kinds."""
    usages = sorted(manifest["usages"], key=lambda u: (u["repo"], u["path"], u["line"], u["character"]))
    return random.Random(0).sample(usages, min(count, len(usages)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(latencies: list[float], nonempty: int) -> dict[str, Any]:
    if not latencies:
        return {"available": False, "reason": "no requests answered"}
    ms = [x * 1000 for x in latencies]
    return {"available": True, "n": len(ms), "p50_ms": round(percentile(ms, 0.5), 3), "p99_ms": round(percentile(ms, 0.99), 3),
            "mean_ms": round(statistics.fmean(ms), 3), "max_ms": round(max(ms), 3), "nonempty": nonempty}


def _empty(result: Any) -> bool:
    if result is None:
        return True
    if isinstance(result, lsp.Hover):
        c = result.contents
        return not (c.value if isinstance(c, lsp.MarkupContent) else c)
    return isinstance(result, list) and not result


class _Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lore-bench", "1")
        self.begun: set[str] = set()
        self.ended: set[str] = set()
        self.stderr_tail: list[str] = []


def _make_client() -> _Client:
    client = _Client()

    @client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def _create(params: lsp.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(lsp.PROGRESS)
    def _progress(params: lsp.ProgressParams) -> None:
        kind = params.value.get("kind") if isinstance(params.value, dict) else getattr(params.value, "kind", None)
        if kind == "begin":
            client.begun.add(str(params.token))
        elif kind == "end":
            client.ended.add(str(params.token))

    @client.feature(lsp.WORKSPACE_CONFIGURATION)
    def _configuration(params: lsp.ConfigurationParams) -> list[Any]:
        return [None for _ in params.items]

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def _register(params: lsp.RegistrationParams) -> None:
        return None

    for note in (lsp.WINDOW_LOG_MESSAGE, lsp.WINDOW_SHOW_MESSAGE, lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS):
        client.feature(note)(lambda params: None)
    return client


async def _drain(stream: asyncio.StreamReader | None, tail: list[str]) -> None:
    """Read the server's stderr so a chatty server never blocks on a full pipe; keep the last lines."""
    if stream is None:
        return
    while line := await stream.readline():
        tail.append(line.decode("utf-8", "replace").rstrip())
        del tail[:-20]


def _request(client: _Client, method: str, uri: str, pos: lsp.Position) -> Any:
    doc = lsp.TextDocumentIdentifier(uri=uri)
    if method == "hover":
        return client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=pos))
    if method == "definition":
        return client.text_document_definition_async(lsp.DefinitionParams(text_document=doc, position=pos))
    return client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc, position=pos, context=lsp.ReferenceContext(include_declaration=True)))


async def _session(cmd: list[str], ws: Path, positions: list[dict[str, Any]], iterations: int,
                   ready_timeout: float, env: dict[str, str] | None) -> dict[str, Any]:
    client = _make_client()
    await client.start_io(cmd[0], *cmd[1:], cwd=str(ws), env={**os.environ, **(env or {})})
    server = client._server
    assert server is not None
    drain = asyncio.create_task(_drain(server.stderr, client.stderr_tail))
    out: dict[str, Any] = {"available": True}
    with TreeSampler(server.pid, 0.05) as sampler:
        try:
            out.update(await _drive(client, ws, positions, iterations, ready_timeout))
        except Exception as exc:  # the server died or broke the protocol: say so, with its last words
            await asyncio.sleep(0.2)  # let the stderr tail arrive
            said = f"; server said: {client.stderr_tail[-1]}" if client.stderr_tail else ""
            out = {"available": False, "reason": f"not available: {type(exc).__name__}: {exc}"[:200] + said[:200],
                   "stderr_tail": client.stderr_tail[-5:]}
        if out.get("available"):
            sampler.sample()
            out["rss_final_mb"] = round(sampler.last_tree / 2**20, 1)
            out["peak_rss_mb"] = round(sampler.peak_tree / 2**20, 1)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)
    if server.returncode is None:
        server.kill()
        await server.wait()
    drain.cancel()
    return out


async def _drive(client: _Client, ws: Path, positions: list[dict[str, Any]], iterations: int,
                 ready_timeout: float) -> dict[str, Any]:
    uri = ws.as_uri()
    t0 = time.perf_counter()
    init = await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
        process_id=os.getpid(), root_uri=uri, root_path=str(ws),
        workspace_folders=[lsp.WorkspaceFolder(uri=uri, name=ws.name)],
        capabilities=lsp.ClientCapabilities(
            window=lsp.WindowClientCapabilities(work_done_progress=True),
            text_document=lsp.TextDocumentClientCapabilities(
                hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText]))))),
        60)
    client.initialized(lsp.InitializedParams())
    caps = init.capabilities
    offered = {"hover": bool(caps.hover_provider), "definition": bool(caps.definition_provider),
               "references": bool(caps.references_provider)}
    docs: dict[str, str] = {}
    for p in positions:
        path = ws / p["repo"] / p["path"]
        if path.as_uri() not in docs:
            docs[path.as_uri()] = path.as_uri()
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
                uri=path.as_uri(), language_id=LANGUAGE_ID.get(path.suffix, "plaintext"), version=1,
                text=path.read_text(encoding="utf-8"))))
    ready = await _wait_ready(client, ws, positions, offered["hover"], ready_timeout)
    out: dict[str, Any] = {"initialize_seconds": round(time.perf_counter() - t0, 3), "ready": ready,
                           "ready_seconds": round(time.perf_counter() - t0, 3), "positions": len(positions)}
    for method in METHODS:
        if not offered[method]:
            out[method] = {"available": False, "reason": f"not available: server does not offer {method}"}
            continue
        latencies: list[float] = []
        nonempty = 0
        empty_kinds: dict[str, int] = {}
        for _ in range(iterations):
            for p in positions:
                target = (ws / p["repo"] / p["path"]).as_uri()
                t = time.perf_counter()
                result = await asyncio.wait_for(_request(client, method, target, lsp.Position(p["line"], p["character"])), 30)
                latencies.append(time.perf_counter() - t)
                if _empty(result):
                    empty_kinds[p["kind"]] = empty_kinds.get(p["kind"], 0) + 1
                else:
                    nonempty += 1
        out[method] = {**_summary(latencies, nonempty), "empty_by_usage_kind": empty_kinds}
    return out


async def _hover_nonempty(client: _Client, ws: Path, p: dict[str, Any]) -> bool:
    uri = (ws / p["repo"] / p["path"]).as_uri()
    return not _empty(await asyncio.wait_for(_request(client, "hover", uri, lsp.Position(p["line"], p["character"])), 30))


async def _wait_ready(client: _Client, ws: Path, positions: list[dict[str, Any]], can_hover: bool,
                      timeout: float, settle: float = 30) -> str:
    """'progress+hover' when every begun progress ended and a hover came back non-empty; 'progress' when
    progress ended but hovers stayed empty for `settle` seconds after; 'hover' (no progress reported)
    when a hover came back non-empty; else 'timeout'."""
    deadline = time.perf_counter() + timeout
    settled: float | None = None
    i = 0
    while time.perf_counter() < deadline:
        done = bool(client.begun) and client.begun <= client.ended
        if done and not can_hover:
            return "progress"
        if done and settled is None:
            settled = time.perf_counter() + settle
        if settled is not None and time.perf_counter() > settled:
            return "progress"
        if can_hover and (done or not client.begun):
            i += 1
            if await _hover_nonempty(client, ws, positions[i % len(positions)]):
                return "progress+hover" if done else "hover"
        await asyncio.sleep(0.05)
    return "timeout"


def measure(cmd: list[str], ws: Path, manifest: dict[str, Any], *, positions: int = 50, iterations: int = 5,
            ready_timeout: float = 300, env: dict[str, str] | None = None) -> dict[str, Any]:
    picked = pick_positions(manifest, positions)
    if not picked:
        return {"available": False, "reason": "not available: the workspace has no contract usages"}
    try:
        return asyncio.run(_session(cmd, ws, picked, iterations, ready_timeout, env))
    except Exception as exc:
        return {"available": False, "reason": f"not available: {type(exc).__name__}: {exc}"[:300]}


def bare_command() -> list[str]:
    return [sys.executable, "-m", "benchmarks.bare_server"]
