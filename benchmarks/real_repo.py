"""`lore bench --repo PATH` (`python -m benchmarks --repo PATH`): the same measurements as the synthetic
benchmark, on any real checkout, each beside its baseline measured in the same run.

| figure | baseline | target |
|---|---|---|
| cold `lore index`, whole command (wall clock) | raw tree-sitter parse of the same files, all cores | ≤ 2× |
| history mining seconds (`timings.history`) | `git log --name-only` of the repo | ≤ 2× |
| no-op `lore index` (new process) | — | ≤ 0.3 s |
| one file changed (new process) | — | ≤ 0.5 s |
| `lore context FILE:LINE` (new process) | — | ≤ 0.3 s |
| hover over stdio p50 / p99 | a bare pygls server's hover | p50 ≤ 5 ms, p99 ≤ 30 ms |
| first hover in a file, p50 | — | ≤ 50 ms |
| server peak memory, with children | — | ≤ 300 MB |

Nothing of the repository runs: Lore reads it as it always does (hardened git). The checkout is edited
for the incremental runs (a comment appended to one source file, three times, each with new content: the
median is the figure; then a message or type declaration appended to one contract file, which no patch
of the saved run can carry) and restored byte for byte with its modification time after each. Positions for hovers are the usage sites of Lore's own links (`lore graph
--json` on the same cache), else seeded random lines of source files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from benchmarks import measure_index, measure_lsp, measure_proc
from benchmarks.baselines import GRAMMAR, _parse_chunk
from indexers import git

TARGETS = {"cold_ratio": 2.0, "history_ratio": 2.0, "noop_s": 0.3, "incremental_s": 0.5, "context_s": 0.3,
           "hover_p50_ms": 5.0, "hover_p99_ms": 30.0, "first_hover_p50_ms": 50.0, "server_rss_mb": 300.0}


def repo_files(repo: Path) -> list[str]:
    return [p for p in git.list_files(repo) if (repo / p).is_file() and not (repo / p).is_symlink()]


def parse_baseline(repo: Path, files: list[str], jobs: int | None = None) -> dict[str, Any]:
    """Read and parse every file with a grammar Lore uses, on all cores (what extraction cannot beat)."""
    paths = [str(repo / p) for p in files if os.path.splitext(p)[1] in GRAMMAR]
    jobs = jobs or os.cpu_count() or 1
    chunks = [paths[i::jobs * 8] for i in range(jobs * 8)]
    with get_context("fork").Pool(jobs) as pool:
        pool.map(_parse_chunk, [[p] for p in paths[:jobs * 4]])
        t0 = time.perf_counter()
        parts = pool.map(_parse_chunk, chunks, chunksize=1)
        seconds = time.perf_counter() - t0
    n, size, errors = (sum(x) for x in zip(*parts, strict=True)) if parts else (0, 0, 0)
    return {"files": n, "bytes": size, "seconds": round(seconds, 4), "jobs": jobs,
            "mb_per_s": round(size / seconds / 1e6, 2) if seconds else None, "files_with_parse_errors": errors}


def git_log_baseline(repo: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = git.run(repo, "log", "--name-only", "--no-renames", "--format=%x00%H%x1f%an%x1f%at%x1f%s", timeout=3600)
    seconds = time.perf_counter() - t0
    return {"commits": out.count(b"\0"), "seconds": round(seconds, 4)}


def _median_run(cmd: list[str], runs: int, timeout: float) -> dict[str, Any]:
    walls, rc = [], 0
    for _ in range(runs):
        run = measure_proc.run(cmd, timeout=timeout)
        walls.append(run.seconds)
        rc = rc or run.returncode
    return {"median_seconds": round(statistics.median(walls), 4), "min_seconds": round(min(walls), 4),
            "max_seconds": round(max(walls), 4), "runs": runs, "returncode": rc}


CONTRACTS = (".proto", ".graphql", ".sql")
SPECS = (".yaml", ".yml", ".json")


def source_files(files: list[str]) -> list[str]:
    """Code files the benchmark opens and hovers; in a repository of contracts only, the contract files."""
    code = [p for p in files if os.path.splitext(p)[1] in measure_lsp.LANGUAGE_ID]
    return code or [p for p in files if p.endswith(CONTRACTS)] or [p for p in files if p.endswith(SPECS)]


def positions_from_graph(cmd: list[str], repo: Path, cache: Path, files: list[str], count: int) -> list[dict[str, Any]]:
    """Usage sites of Lore's links (what a user hovers), else seeded random lines of source files."""
    proc = subprocess.run([*cmd, "graph", str(repo), "--json", "--cache", str(cache)], capture_output=True, text=True,
                          timeout=3600)
    sites: list[dict[str, Any]] = []
    if proc.returncode == 0:
        doc = json.loads(proc.stdout)
        for lk in doc.get("links", []):
            r = lk["range"]
            sites.append({"repo": "", "path": lk["path"], "line": r["start_line"], "character": r["start_col"],
                          "kind": lk.get("kind", "link")})
        if len(sites) < count:  # a contract repository without usages: its declarations are what one hovers
            ents = doc.get("entities", [])
            for e in random.Random(2).sample(ents, min(len(ents), count - len(sites))):
                r = e["range"]
                sites.append({"repo": "", "path": e["path"], "line": r["start_line"], "character": r["start_col"],
                              "kind": "declaration"})
    rng = random.Random(0)
    code = source_files(files)
    for p in rng.sample(code, min(len(code), count)):
        try:
            n = (repo / p).read_bytes().count(b"\n")
        except OSError:
            continue
        sites.append({"repo": "", "path": p, "line": rng.randrange(max(n, 1)), "character": 4, "kind": "random line"})
    return sites


async def _first_hovers(cmd: list[str], repo: Path, files: list[str], ready_timeout: float, env: dict[str, str],
                        count: int = 20) -> dict[str, Any]:
    """Start the server, wait until it is ready, then open files it has not seen and time the first hover
    in each (what a user pays when opening a file)."""
    client = measure_lsp._make_client()
    await client.start_io(cmd[0], *cmd[1:], cwd=str(repo), env={**os.environ, **env})
    uri = repo.as_uri()
    try:
        await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
            process_id=os.getpid(), root_uri=uri, workspace_folders=[lsp.WorkspaceFolder(uri=uri, name=repo.name)],
            capabilities=lsp.ClientCapabilities(window=lsp.WindowClientCapabilities(work_done_progress=True)))), 60)
        client.initialized(lsp.InitializedParams())
        deadline = time.perf_counter() + ready_timeout
        while time.perf_counter() < deadline and not (client.begun and client.begun <= client.ended):
            await asyncio.sleep(0.05)
        rng = random.Random(1)
        code = source_files(files)
        lat: list[float] = []
        for p in rng.sample(code, min(count, len(code))):
            path = repo / p
            text = path.read_text(encoding="utf-8", errors="replace")
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
                path.as_uri(), measure_lsp.LANGUAGE_ID.get(path.suffix, path.suffix.lstrip(".")), 1, text)))
            line = rng.randrange(max(text.count("\n"), 1))
            t = time.perf_counter()
            await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
                lsp.TextDocumentIdentifier(path.as_uri()), lsp.Position(line, 4))), 60)
            lat.append((time.perf_counter() - t) * 1000)
        return {"available": bool(lat), "n": len(lat), "p50_ms": round(statistics.median(lat), 3) if lat else None,
                "max_ms": round(max(lat), 3) if lat else None}
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)


def measure_cold(repo: Path, *, timeout: float = 3600, log: Any = print) -> dict[str, Any]:
    """Only the two extraction-side figures: cold `lore index` beside the raw parse, history mining beside
    `git log --name-only` (into a fresh cache, removed afterwards)."""
    repo = repo.resolve()
    files = repo_files(repo)
    out: dict[str, Any] = {"repo": str(repo), "head": git.head(repo), "files": len(files)}
    log(f"[{repo.name}] {len(files)} files; baselines")
    out["baselines"] = {"parse": parse_baseline(repo, files), "git_log": git_log_baseline(repo)}
    cmd = measure_index.lore_command()
    with tempfile.TemporaryDirectory(prefix="lore-bench-repo-") as tmp:
        log(f"[{repo.name}] lore index (cold)")
        cold = measure_index.index_once(cmd, repo, Path(tmp) / "cache", timeout)
    parse = out["baselines"]["parse"]
    if cold.get("available") and parse.get("seconds"):
        cold["ratio_to_parse_seconds"] = round(cold["wall_seconds"] / parse["seconds"], 2)
    out["lore_index"] = {"available": cold.get("available", False), "cold": cold,
                         "history": measure_index.history_figure(cold.get("timings"), out["baselines"]["git_log"])}
    out["table"] = table(out)[:2]
    return out


def measure(repo: Path, *, positions: int = 50, iterations: int = 5, timeout: float = 3600,
            ready_timeout: float = 900, log: Any = print, cache_dir: Path | None = None,
            server_only: bool = False) -> dict[str, Any]:
    """All figures; with `server_only` only the server's (hover, first hover, memory), on the index in
    `cache_dir` (made, untimed, when it is missing or stale)."""
    repo = repo.resolve()
    files = repo_files(repo)
    out: dict[str, Any] = {"repo": str(repo), "head": git.head(repo), "files": len(files)}
    if server_only:
        out["server_only"] = True
    cmd = measure_index.lore_command()
    with tempfile.TemporaryDirectory(prefix="lore-bench-repo-") as tmp:
        # the cold run needs an empty folder: a given cache serves the server-only figures
        cache = cache_dir.resolve() if cache_dir is not None and server_only else Path(tmp) / "cache"
        manifest: dict[str, Any] = {}
        if server_only:
            log(f"[{repo.name}] {len(files)} files; lore index into {cache} (untimed)")
            subprocess.run([*cmd, "index", str(repo), "--cache", str(cache)], capture_output=True, timeout=timeout,
                           check=False)
        else:
            log(f"[{repo.name}] {len(files)} files; baselines")
            out["baselines"] = {"parse": parse_baseline(repo, files), "git_log": git_log_baseline(repo)}
            manifest["totals"] = {"bytes": out["baselines"]["parse"]["bytes"]}
            log(f"[{repo.name}] lore index (cold, no-op, one file changed)")
            idx = measure_index.measure(repo, manifest, out["baselines"], cache, timeout=timeout)
            out["lore_index"] = idx
            cold = idx.get("cold", {})
            parse = out["baselines"]["parse"]
            if cold.get("available") and parse.get("seconds"):
                cold["ratio_to_parse_seconds"] = round(cold["wall_seconds"] / parse["seconds"], 2)
        sites = positions_from_graph(cmd, repo, cache, files, positions)
        where = next((s for s in sites if s["kind"] != "random line"), sites[0] if sites else None)
        if where is not None and not server_only:
            target = f"{repo / where['path']}:{where['line'] + 1}"
            log(f"[{repo.name}] lore context {target}")
            out["context"] = {"at": target, **_median_run([*cmd, "context", target, "--cache", str(cache)], 5, 600)}
        manifest["usages"] = sites
        log(f"[{repo.name}] hover over stdio (bare pygls, then lore serve)")
        env = {"LORE_CACHE": str(cache)}
        out["lsp"] = {"bare": measure_lsp.measure(measure_lsp.bare_command(), repo, manifest, positions=positions,
                                                  iterations=iterations, ready_timeout=30),
                      "lore": measure_lsp.measure([*cmd, "serve"], repo, manifest, positions=positions,
                                                  iterations=iterations, ready_timeout=ready_timeout, env=env)}
        log(f"[{repo.name}] first hover per file")
        try:
            out["first_hover"] = asyncio.run(_first_hovers([*cmd, "serve"], repo, files, ready_timeout, env))
        except Exception as exc:  # noqa: BLE001 - reported, never estimated
            out["first_hover"] = {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:300]}
    out["table"] = table(out)
    return out


def table(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's rows: figure, value, target, met."""
    idx, lsp_ = r.get("lore_index", {}), r.get("lsp", {})
    hist = idx.get("history", {})
    lore_h, bare_h = lsp_.get("lore", {}).get("hover", {}), lsp_.get("bare", {}).get("hover", {})
    rows = [
        ("cold lore index ÷ raw parse (seconds)", idx.get("cold", {}).get("ratio_to_parse_seconds"), TARGETS["cold_ratio"], "×"),
        ("history mining ÷ git log --name-only", hist.get("ratio_to_git_log"), TARGETS["history_ratio"], "×"),
        ("no-op lore index, new process (s)", idx.get("noop", {}).get("wall_seconds"), TARGETS["noop_s"], "s"),
        ("one file changed, new process (s)", idx.get("incremental", {}).get("wall_seconds"), TARGETS["incremental_s"], "s"),
        ("one contract declaration added, new process (s)", idx.get("declaration", {}).get("wall_seconds"), None, "s"),
        ("lore context FILE:LINE, new process (s)", r.get("context", {}).get("median_seconds"), TARGETS["context_s"], "s"),
        ("hover p50 over stdio (ms)", lore_h.get("p50_ms"), TARGETS["hover_p50_ms"], "ms"),
        ("hover p99 over stdio (ms)", lore_h.get("p99_ms"), TARGETS["hover_p99_ms"], "ms"),
        ("bare pygls hover p50 / p99 (ms)", f"{bare_h.get('p50_ms')} / {bare_h.get('p99_ms')}", None, ""),
        ("first hover in a file, p50 (ms)", r.get("first_hover", {}).get("p50_ms"), TARGETS["first_hover_p50_ms"], "ms"),
        ("server peak memory with children (MB)", lsp_.get("lore", {}).get("peak_rss_mb"), TARGETS["server_rss_mb"], "MB"),
    ]
    if r.get("server_only"):  # the index and context rows were not measured
        rows = [row for row in rows if "hover" in row[0] or "server" in row[0]]
    return [{"figure": f, "value": v, "target": t, "unit": u,
             "met": (isinstance(v, int | float) and t is not None and v <= t) if t is not None else None} for f, v, t, u in rows]


def markdown(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        lines += [f"### {Path(r['repo']).name} at {str(r.get('head'))[:12]} ({r['files']} files)", "",
                  "| figure | value | target | met |", "|---|---|---|---|"]
        for row in r["table"]:
            tgt = f"≤ {row['target']} {row['unit']}".strip() if row["target"] is not None else "—"
            met = {True: "yes", False: "no", None: "—"}[row["met"]]
            lines.append(f"| {row['figure']} | {row['value'] if row['value'] is not None else 'n/a'} | {tgt} | {met} |")
        if "baselines" not in r:  # server figures only
            lines.append("")
            continue
        p = r["baselines"]["parse"]
        lines += ["", f"Baselines: raw parse {p['files']} files, {p['bytes'] / 1e6:.1f} MB in {p['seconds']} s on {p['jobs']} "
                      f"cores; git log {r['baselines']['git_log']['commits']} commits in {r['baselines']['git_log']['seconds']} s.", ""]
    return "\n".join(lines)
