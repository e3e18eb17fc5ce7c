"""Lore's indexing costs through its public CLI: cold `lore index --json`, a no-op re-index, a
single-file incremental re-index, history mining (when the report has per-phase timings), peak RSS of
the indexer's process tree, and cache size on disk per 1,000 files.

Why through the CLI and not by importing the engine: that is what users and CI run, process start-up
included, and it keeps this harness working while the engine's insides change. Whatever the CLI does
not offer yet is recorded as "not available: <why>", never estimated.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from benchmarks import measure_proc

COMMENT = {".go": "//", ".ts": "//", ".java": "//", ".cs": "//", ".py": "#"}
CONTRACT_COMMENT = {".proto": "//", ".graphql": "#"}  # edited when a repository holds no code file (contracts only)
EDIT_COMMENT = {**COMMENT, **CONTRACT_COMMENT}


def lore_command() -> list[str]:
    """The `lore` executable beside this interpreter, else the module entry point."""
    exe = Path(sys.executable).with_name("lore")
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    found = shutil.which("lore")
    return [found] if found else [sys.executable, "-c", "from lore.cli.main import run; run()"]


def unavailable(cmd: list[str], sub: str) -> str | None:
    """None when `lore <sub> --help` works, else why not."""
    run = measure_proc.run([*cmd, sub, "--help"], timeout=120)
    if run.returncode == 0:
        return None
    lines = (run.stderr or run.stdout).strip().splitlines()
    return f"`lore {sub}` failed: {lines[-1] if lines else f'exit {run.returncode}'}"


def parse_report(stdout: str) -> dict[str, Any]:
    """The JSON object `lore index --json` prints (tolerates log lines before it)."""
    text = stdout.strip()
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    doc = json.loads(text[start:])
    if not isinstance(doc, dict) or "files" not in doc:
        raise ValueError("JSON report without 'files'")
    return doc


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | dict) else int(value or 0)


def _index(cmd: list[str], ws: Path, cache: Path, timeout: float) -> dict[str, Any]:
    run = measure_proc.run([*cmd, "index", str(ws), "--cache", str(cache), "--json"], timeout=timeout)
    out: dict[str, Any] = {"wall_seconds": round(run.seconds, 4), "peak_rss_tree_mb": round(run.peak_rss_tree / 2**20, 1),
                           "peak_rss_main_mb": round(run.peak_rss_main / 2**20, 1)}
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        return {"available": False, "reason": f"lore index exited {run.returncode}: {lines[-1] if lines else ''}"[:300]}
    try:
        doc = parse_report(run.stdout)
    except ValueError as exc:
        return {"available": False, "reason": f"lore index --json: {exc}"}
    files = doc.get("files", {})
    out.update(available=True, repos=_count(doc.get("repos")), facts=doc.get("facts"),
               seconds=doc.get("seconds"), timings=doc.get("timings") if isinstance(doc.get("timings"), dict) else None,
               files={k: _count(files.get(k)) for k in ("indexed", "unchanged", "skipped", "failed")})
    return out


def index_once(cmd: list[str], ws: Path, cache: Path, timeout: float) -> dict[str, Any]:
    """One `lore index --json` of `ws` into `cache`: wall time, peak RSS, the report's figures."""
    return _index(cmd, ws, cache, timeout)


def history_figure(timings: dict[str, Any] | None, git_log: dict[str, Any] | None) -> dict[str, Any]:
    """History mining seconds (the report's history phases) and their ratio to `git log --name-only`."""
    return _history(timings, git_log)


def _pick_edit_target(ws: Path) -> Path | None:
    """A source file to edit for the incremental run: the first one, in a stable order; in a repository of
    contracts only, the first contract file."""
    return _first_file(ws, COMMENT) or _first_file(ws, CONTRACT_COMMENT)


def _first_file(ws: Path, suffixes: Any) -> Path | None:
    """The first file of the workspace (its repos in name order, each walked in name order) whose suffix
    is one of `suffixes`."""
    repos = [ws] if (ws / ".git").exists() else sorted(p for p in ws.iterdir() if (p / ".git").exists())
    for repo in repos:
        for root, dirs, names in os.walk(repo):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for n in sorted(names):
                if os.path.splitext(n)[1] in suffixes:
                    return Path(root) / n
    return None


def _history(timings: dict[str, Any] | None, git_log: dict[str, Any] | None) -> dict[str, Any]:
    if not timings:
        return {"available": False, "reason": "not available: `lore index --json` reports no 'timings' object"}
    keys = [k for k in timings if any(w in k.lower() for w in ("history", "git", "commit", "mine"))]
    if not keys:
        return {"available": False, "reason": f"not available: no history phase in timings {sorted(timings)}"}
    seconds = sum(float(timings[k]) for k in keys)
    out: dict[str, Any] = {"available": True, "phases": keys, "seconds": round(seconds, 4)}
    if git_log and git_log.get("seconds"):
        out["ratio_to_git_log"] = round(seconds / git_log["seconds"], 2)
    return out


def measure(ws: Path, manifest: dict[str, Any], baselines: dict[str, Any], cache: Path,
            timeout: float = 1800) -> dict[str, Any]:
    """Index `ws` into the empty folder `cache` (left in place: the server benchmark starts from it)."""
    cmd = lore_command()
    why = unavailable(cmd, "index")
    if why:
        return {"available": False, "reason": f"not available: {why}"}
    result: dict[str, Any] = {"available": True, "command": " ".join(cmd)}
    startup = measure_proc.run([*cmd, "--version"], timeout=60)
    result["startup_seconds"] = round(startup.seconds, 4)
    total_bytes = manifest["totals"]["bytes"]
    cold = _index(cmd, ws, cache, timeout)
    result["cold"] = cold
    if not cold.get("available"):
        return result
    secs = cold.get("seconds") or cold["wall_seconds"]
    n = cold["files"]["indexed"] + cold["files"]["unchanged"]
    cold["files_per_s"] = round(n / secs, 1) if secs else None
    cold["mb_per_s"] = round(total_bytes / secs / 1e6, 2) if secs else None
    parse = baselines.get("parse", {})
    if parse.get("mb_per_s") and cold["mb_per_s"]:
        cold["ratio_to_parse"] = round(cold["mb_per_s"] / parse["mb_per_s"], 3)
    size = measure_proc.du(cache)
    result["cache"] = {"bytes": size, "bytes_per_1000_files": round(size / max(n, 1) * 1000)}
    result["noop"] = _index(cmd, ws, cache, timeout)
    target = _pick_edit_target(ws)
    if target is None:
        result["incremental"] = {"available": False, "reason": "no source file to edit"}
    else:
        # three edits, each new content (the median run is reported): a comment appended to the file
        runs = [_edited(cmd, ws, cache, timeout, target, f"\n{EDIT_COMMENT[target.suffix]} benchmark edit {i}\n")
                for i in range(3)]
        done = sorted((r for r in runs if r.get("available")), key=lambda r: r["wall_seconds"])
        result["incremental"] = {**(done[len(done) // 2] if done else runs[0]), "runs": [r.get("wall_seconds") for r in runs]}
    contract = _pick_contract(ws)
    if contract is not None:  # a declaration added: every contract the workspace resolves is resolved again
        result["declaration"] = _edited(cmd, ws, cache, timeout, contract, DECLARATION[contract.suffix])
    result["history"] = _history(cold.get("timings"), baselines.get("git_log"))
    return result


DECLARATION = {".proto": "\nmessage LoreBenchmarkAdded {\n  string note = 1;\n}\n",
               ".graphql": "\ntype LoreBenchmarkAdded {\n  note: String\n}\n"}


def _pick_contract(ws: Path) -> Path | None:
    return _first_file(ws, DECLARATION)


def _edited(cmd: list[str], ws: Path, cache: Path, timeout: float, target: Path, tail: str) -> dict[str, Any]:
    """`lore index` after `tail` is appended to `target`, which is then restored byte for byte with its
    modification time."""
    original, st = target.read_bytes(), target.stat()
    try:
        target.write_bytes(original + tail.encode())
        out = _index(cmd, ws, cache, timeout)
        out["edited"] = str(target.relative_to(ws))
        return out
    finally:
        target.write_bytes(original)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
