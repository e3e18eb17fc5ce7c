"""Security: the language server's transports. Over stdio, a header line without a newline cannot grow
the server's memory; over TCP, the server listens on loopback only, serves the client that presents its
token and no other, one at a time, and uses a client's cacheDir only when it is the user's own private
folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo
from tests.test_reliability_server import Client

ROOT = Path(__file__).resolve().parent.parent


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _stdio_server(tmp_path: Path) -> Client:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("init", {"a.proto": 'syntax = "proto3";\npackage a;\nmessage Order {}\n'})
    err = (tmp_path / "stderr.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    c = Client(proc)
    init = c.request("initialize", {"processId": os.getpid(), "rootUri": repo.path.as_uri(), "capabilities": {}},
                     timeout=60)
    assert "result" in init, init
    c.notify("initialized", {})
    return c


def _stop(c: Client) -> None:
    try:
        c.request("shutdown", None, timeout=10)
        c.notify("exit", None)
        c.proc.wait(timeout=10)
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


# -- item 12: header lines ---------------------------------------------------------------------------

def test_a_header_line_without_newline_is_capped(tmp_path: Path) -> None:
    c = _stdio_server(tmp_path)
    try:
        assert c.alive()
        before = _peak_rss_mb(c.proc.pid)
        chunk = b"X" * (1024 * 1024)
        for _ in range(64):  # 64 MB of one header line, no newline yet
            c.raw(chunk)
        assert c.proc.poll() is None
        c.raw(b"\r\n")
        assert c.alive()  # the next well-formed request is answered
        grown = _peak_rss_mb(c.proc.pid) - before
        assert grown < 32, f"peak memory grew by {grown:.0f} MB while reading one 64 MB header line"
        log = (tmp_path / "stderr.log").read_text(errors="replace")
        assert "skipped a 67108866-byte header line" in log
    finally:
        _stop(c)


def test_end_of_input_inside_an_overlong_line_ends_the_session(tmp_path: Path) -> None:
    c = _stdio_server(tmp_path)
    try:
        c.raw(b"Y" * (200 * 1024))
        assert c.proc.stdin is not None
        c.proc.stdin.close()
        assert c.proc.wait(timeout=30) is not None
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
