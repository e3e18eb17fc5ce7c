"""Security: the language server's transports. Over stdio, a header line without a newline cannot grow
the server's memory; over TCP, the server listens on loopback only, serves the client that presents its
token and no other, one at a time, and uses a client's cacheDir only when it is the user's own private
folder."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers.model import SCHEMA_VERSION
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


# -- item 3: TCP -------------------------------------------------------------------------------------

class Tcp:
    """A raw LSP connection to the server's TCP port."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def read(self) -> dict[str, Any] | None:
        """The next message, or None at end of input."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        self.buf = rest
        while len(self.buf) < length:
            if not self._fill():
                return None
        body, self.buf = self.buf[:length], self.buf[length:]
        return json.loads(body)

    def response(self, ident: int) -> dict[str, Any]:
        while True:
            msg = self.read()
            assert msg is not None, f"connection closed before the response to {ident}"
            if "method" in msg and "id" in msg:  # a request from the server
                result: Any = [None] if msg["method"] == "workspace/configuration" else None
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            elif msg.get("id") == ident and "method" not in msg:
                return msg

    def initialize(self, root: Path, token: str | None, ident: int = 1) -> dict[str, Any]:
        options = {"token": token} if token is not None else {}
        self.send({"jsonrpc": "2.0", "id": ident, "method": "initialize", "params": {
            "processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}, "initializationOptions": options}})
        return self.response(ident)

    def closed(self) -> bool:
        """The server closed the connection (after whatever it had sent)."""
        while self.read() is not None:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


def _tcp_server(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve", "--tcp", "127.0.0.1:0", *extra], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+); token: (\S+)", line)
    assert m, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, int(m.group(1)), m.group(2)


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("init", {"a.proto": 'syntax = "proto3";\npackage a;\nmessage Order {}\n'})
    return repo.path


@pytest.mark.parametrize("host", ["0.0.0.0", "[::]", "192.0.2.7", "example.invalid"])
def test_tcp_listens_on_loopback_only(host: str) -> None:
    out = subprocess.run([sys.executable, "-m", "lore", "serve", "--tcp", f"{host}:0"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2, out.stderr
    assert "loopback" in out.stderr and "Traceback" not in out.stderr


def test_tcp_serves_only_the_client_with_the_token(workspace: Path, tmp_path: Path) -> None:
    proc, port, token = _tcp_server(tmp_path)
    try:
        for bad in (None, "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
            c = Tcp(port)
            reply = c.initialize(workspace, bad)
            assert "error" in reply and "Lore: refused" in reply["error"]["message"], reply
            assert c.closed()
            c.close()
        c = Tcp(port)
        c.send({"jsonrpc": "2.0", "id": 1, "method": "shutdown"})  # anything but initialize first
        assert "error" in c.response(1) and c.closed()
        assert proc.poll() is None  # refusals never end the server
        ok = Tcp(port)
        assert "capabilities" in ok.initialize(workspace, token)["result"]
        ok.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        ok.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        assert ok.response(2)["result"] is None
        ok.send({"jsonrpc": "2.0", "method": "exit"})
        assert proc.wait(timeout=30) == 0
    finally:
        _end(proc)


def test_tcp_refuses_a_second_client(workspace: Path, tmp_path: Path) -> None:
    proc, port, token = _tcp_server(tmp_path)
    try:
        first = Tcp(port)
        assert "result" in first.initialize(workspace, token)
        first.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        second = Tcp(port)
        reply = second.initialize(workspace, token, ident=7)
        assert "another client is connected" in reply["error"]["message"]
        assert second.closed()
        first.send({"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": "Order"}})
        assert "result" in first.response(3)  # the first client keeps its session and its output
    finally:
        _end(proc)


def test_tcp_token_file_must_be_private(workspace: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-of-enough-length\n")
    token_file.chmod(0o644)
    out = subprocess.run([sys.executable, "-m", "lore", "serve", "--tcp", "127.0.0.1:0", "--token-file", str(token_file)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and f"--token-file {token_file}: others may read it (mode 644)" in out.stderr, out.stderr
    token_file.chmod(0o600)
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve", "--tcp", "127.0.0.1:0", "--token-file", str(token_file)],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "s3cret" not in line
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]
        assert "result" in Tcp(port).initialize(workspace, "s3cret-token-of-enough-length")
    finally:
        _end(proc)


def test_a_client_chosen_cache_dir_must_be_private(workspace: Path, tmp_path: Path) -> None:
    from tests.test_security_cache import _plant_cache

    marker = tmp_path / "RAN"
    prepared = tmp_path / "prepared-cache"
    _plant_cache(prepared, marker)
    prepared.chmod(0o755)
    err = (tmp_path / "stderr.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    c = Client(proc)
    try:
        init = c.request("initialize", {"processId": os.getpid(), "rootUri": workspace.as_uri(), "capabilities": {},
                                        "initializationOptions": {"cacheDir": str(prepared)}}, timeout=60)
        assert "result" in init
        c.notify("initialized", {})
        warning = None
        while warning is None:
            note = c.notifications.get(timeout=60)
            if note["method"] == "window/showMessage" and "cacheDir" in note["params"]["message"]:
                warning = note["params"]["message"]
        assert f"lore.cacheDir {prepared}: others may read it (mode 755)" in warning
        assert c.request("workspace/executeCommand", {"command": "lore.reindex"}, timeout=120).get("result") is not None
        assert not marker.exists(), "the server loaded a cache another party prepared"
        assert (tmp_path / "cache" / f"v{SCHEMA_VERSION}").is_dir()  # it fell back to the default cache
    finally:
        _stop(c)


# -- item 4: hostile buffers in the server -----------------------------------------------------------

def test_hostile_buffers_never_freeze_the_server(tmp_path: Path) -> None:
    from tests.test_security_cost import _then_chain, _todo_with_spaces

    repo = GitRepo(tmp_path / "web")
    repo.commit("init", {"lore.toml": '[[repo]]\npath = "."\nname = "web"\n[index]\nfile_budget = 0.2\n',
                         "api.proto": 'syntax = "proto3";\npackage a;\nmessage Order { string id = 1; }\n'})
    err = (tmp_path / "stderr.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    c = Client(proc)
    try:
        assert "result" in c.request("initialize", {"processId": os.getpid(), "rootUri": repo.path.as_uri(),
                                                    "capabilities": {}}, timeout=60)
        c.notify("initialized", {})
        assert "result" in c.request("workspace/executeCommand", {"command": "lore.reindex"}, timeout=120)
        spaces = repo.path / "spaces.go"  # 20,000 spaces in a todo comment: the marker scan never ended
        c.notify("textDocument/didOpen", {"textDocument": {"uri": spaces.as_uri(), "languageId": "go", "version": 1,
                                                           "text": _todo_with_spaces(20_000)}})
        big = repo.path / "big.ts"  # over the workspace's 0.2 s budget: its extraction is stopped
        c.notify("textDocument/didOpen", {"textDocument": {"uri": big.as_uri(), "languageId": "typescript",
                                                           "version": 1, "text": _then_chain(50_000)}})
        assert c.alive()
        skipped = None
        while skipped is None:
            note = c.notifications.get(timeout=120)
            if note["method"] == "textDocument/publishDiagnostics" and note["params"]["uri"] == big.as_uri():
                skipped = [d["message"] for d in note["params"]["diagnostics"]]
        assert skipped == ["Lore: skipped: extraction took longer than 0.2 s"], skipped
        assert c.alive()
    finally:
        _stop(c)
