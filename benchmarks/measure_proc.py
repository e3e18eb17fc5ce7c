"""Run a command and watch its memory: peak RSS of the main process and of its whole process tree
(worker processes included), sampled with psutil every few milliseconds.

Why a sampler instead of getrusage: ru_maxrss of children reports only the largest single child, and
an indexer's cost is its main process plus its workers alive at the same time.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


class TreeSampler:
    """Samples RSS of a process and its descendants in a background thread until stopped."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.pid, self.interval = pid, interval
        self.peak_tree = self.peak_main = self.last_tree = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            main = root.memory_info().rss
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        try:
            own_cmd = root.cmdline()
        except psutil.Error:
            own_cmd = []
        for p in procs:
            try:
                if p is root:
                    total += main
                elif p.cmdline() != own_cmd:  # a child between fork and exec still shows the parent's pages
                    total += p.memory_info().rss
            except psutil.Error:
                continue
        self.samples += 1
        self.last_tree = total
        self.peak_tree = max(self.peak_tree, total)
        self.peak_main = max(self.peak_main, main)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_tree: int
    peak_rss_main: int


def run(cmd: list[str], timeout: float = 1800, cwd: Path | None = None) -> Run:
    """Run `cmd` to completion with memory sampling; stdout/stderr are captured (stdin closed)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=cwd, text=True)
    with TreeSampler(proc.pid) as sampler:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(timed out after {timeout} s)"
    seconds = time.perf_counter() - t0
    return Run(proc.returncode, out, err, seconds, sampler.peak_tree, sampler.peak_main)


def du(path: Path) -> int:
    """Bytes on disk of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
