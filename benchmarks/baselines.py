"""Baselines that Lore's costs are compared with, measured on the same workspace in the same run:
raw tree-sitter parsing on all cores (the floor for extraction), universal-ctags (what a tags-based
tool pays), and `git log --name-only` over every repo (the floor for history mining).

Why ratios against baselines measured here rather than absolute numbers: machines differ, and
"half of raw parse speed" means the same on a laptop and in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from indexers import git

GRAMMAR = {".go": "go", ".py": "python", ".ts": "typescript", ".tsx": "tsx", ".java": "java", ".cs": "csharp",
           ".proto": "proto", ".sql": "sql", ".graphql": "graphql", ".yaml": "yaml", ".yml": "yaml",
           ".json": "json", ".toml": "toml"}


def workspace_files(ws: Path) -> list[Path]:
    """Every file in the repos of the workspace, .git excluded, in a stable order."""
    out: list[Path] = []
    for root, dirs, names in os.walk(ws):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        out.extend(Path(root) / n for n in sorted(names) if Path(root) != ws)
    return out


def _parse_chunk(paths: list[str]) -> tuple[int, int, int]:
    from tree_sitter_language_pack import get_parser

    files = size = errors = 0
    for p in paths:
        data = Path(p).read_bytes()
        tree = get_parser(GRAMMAR[os.path.splitext(p)[1]]).parse(data)  # type: ignore[arg-type]
        files += 1
        size += len(data)
        errors += tree.root_node.has_error
    return files, size, errors


def parse_baseline(ws: Path, jobs: int | None = None) -> dict[str, Any]:
    """Read and parse every file that has a grammar, on all cores: files/s and MB/s (wall clock)."""
    paths = [str(p) for p in workspace_files(ws) if p.suffix in GRAMMAR]
    jobs = jobs or os.cpu_count() or 1
    chunks = [paths[i::jobs * 8] for i in range(jobs * 8)]
    with get_context("fork").Pool(jobs) as pool:
        pool.map(_parse_chunk, [[p] for p in paths[:jobs * 4]])  # warm up: load grammars in every worker
        t0 = time.perf_counter()
        parts = pool.map(_parse_chunk, chunks, chunksize=1)
        seconds = time.perf_counter() - t0
    files, size, errors = (sum(x) for x in zip(*parts, strict=True)) if parts else (0, 0, 0)
    return {"files": files, "bytes": size, "seconds": round(seconds, 4), "jobs": jobs,
            "files_per_s": round(files / seconds, 1) if seconds else None,
            "mb_per_s": round(size / seconds / 1e6, 2) if seconds else None,
            "mb_per_s_per_core": round(size / seconds / 1e6 / jobs, 2) if seconds else None,
            "files_with_parse_errors": errors}


def ctags_baseline(ws: Path) -> dict[str, Any]:
    """`ctags -R` over the workspace (universal-ctags, single process)."""
    exe = shutil.which("ctags")
    if exe is None:
        return {"available": False, "reason": "ctags: not installed (apt-get install universal-ctags)"}
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if "Universal Ctags" not in version:
        return {"available": False, "reason": f"ctags: not universal-ctags ({version.splitlines()[:1]})"}
    files = workspace_files(ws)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tags"
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "-R", "--exclude=.git", "-f", str(out), str(ws)], capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"available": False, "reason": f"ctags failed: {proc.stderr.strip()[-200:]}"}
        tags = sum(1 for line in out.open("rb") if not line.startswith(b"!_"))
    size = sum(p.stat().st_size for p in files)
    return {"available": True, "version": version.splitlines()[0], "files": len(files), "tags": tags,
            "seconds": round(seconds, 4), "files_per_s": round(len(files) / seconds, 1),
            "mb_per_s": round(size / seconds / 1e6, 2)}


def repos(ws: Path) -> list[Path]:
    return sorted(p for p in ws.iterdir() if (p / ".git").exists())


def git_log_baseline(ws: Path) -> dict[str, Any]:
    """`git log --name-only` over each repo's whole history (hardened git, one repo after another)."""
    commits = 0
    t0 = time.perf_counter()
    for repo in repos(ws):
        out = git.run(repo, "log", "--name-only", "--no-renames", "--format=%x00%H%x1f%an%x1f%at%x1f%s")
        commits += out.count(b"\0")
    seconds = time.perf_counter() - t0
    return {"repos": len(repos(ws)), "commits": commits, "seconds": round(seconds, 4),
            "commits_per_s": round(commits / seconds, 1) if seconds else None}


def run_all(ws: Path) -> dict[str, Any]:
    return {"parse": parse_baseline(ws), "ctags": ctags_baseline(ws), "git_log": git_log_baseline(ws)}
