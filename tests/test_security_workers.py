"""Security: `lore index` killed with SIGKILL leaves no worker process behind. Each of the repository's
files takes a while to extract, so the run has live workers when its parent is killed; then every
process the run started must be gone (polled for up to 30 s: no timing assertion, a bound)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[1]
FILES = 240


def _children() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_lore_index_is_killed(tmp_path: Path) -> None:
    chain = "fetch('/api/a')" + "".join(f".then(r{i} => fetch('/api/b{i}'))" for i in range(1500)) + ";\n"
    repo = GitRepo(tmp_path / "slow")
    repo.commit("many slow files", {f"src/f{i}.ts": f"// {i}\n{chain}" for i in range(FILES)})
    proc = subprocess.Popen([sys.executable, "-m", "lore", "index", str(repo.path), "--json", "--jobs", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 3 and proc.poll() is None and time.monotonic() < deadline:  # forkserver + 2 workers
            time.sleep(0.2)
            workers = _alive(_descendants(proc.pid))
        assert len(workers) >= 3 and proc.poll() is None, "the run should have live workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(workers), f"worker processes outlived the killed lore index: {sorted(_alive(workers))}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _alive(workers):  # only on failure: what the killed run left behind
            os.kill(pid, signal.SIGKILL)
