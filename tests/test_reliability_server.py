"""The language server under hostile clients, over raw stdio (so that malformed frames can be sent):
malformed JSON-RPC bodies, bad Content-Length headers, unknown methods, out-of-range positions, non-file
URIs, requests for files never opened, a flood of didChange, and the CLI indexing the same workspace and
cache while the server does. The server must answer correctly or with a JSON-RPC error, never crash, and
keep its memory bounded.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from indexers.store import Store
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
PROTO = """syntax = "proto3";
package orders.v1;

service OrderService {
  rpc GetOrder(GetOrderRequest) returns (Order);
}

message GetOrderRequest {
  string id = 1;
}

message Order {
  string id = 1;
  int64 total = 2;
}
"""
CLIENT_PY = """import grpc
from orders.v1 import orders_pb2_grpc


def get(channel):
    stub = orders_pb2_grpc.OrderServiceStub(channel)
    return stub.GetOrder(None)
"""
RSS_LIMIT_MB = 400
FLOOD = 3000


class Client:
    """A minimal LSP client over the server's stdio that can also write raw, broken frames."""

    def __init__(self, proc: subprocess.Popen[bytes]):
        self.proc = proc
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        self.cond = threading.Condition()
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # -- wire --------------------------------------------------------------------------------------------
    def raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode("utf-8")
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _read(self) -> None:
        out: IO[bytes] | None = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length is None:
                continue
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:  # a request from the server: answer it
                result: Any = [None] if msg["method"] == "workspace/configuration" else None
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            elif "method" in msg:
                self.notifications.put(msg)
            else:
                with self.cond:
                    self.responses[msg.get("id")] = msg
                    self.cond.notify_all()

    # -- requests ----------------------------------------------------------------------------------------
    def request_async(self, method: str, params: Any) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, ident: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while ident not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no response to {ident!r} (server exit code {self.proc.poll()})")
                self.cond.wait(min(left, 0.5))
            return self.responses.pop(ident)

    def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
        return self.wait(self.request_async(method, params), timeout)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def alive(self) -> bool:
        """The server still answers a well-formed request."""
        reply = self.request("workspace/symbol", {"query": "Order"}, timeout=30)
        return "result" in reply

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("srv") / "sys"
    GitRepo(root / "contracts").commit("proto", {"orders.proto": PROTO})
    GitRepo(root / "app").commit("app", {"client.py": CLIENT_PY, "other.py": CLIENT_PY})
    (root / "lore.toml").write_text('[[repo]]\npath = "contracts"\n[[repo]]\npath = "app"\n')
    return root


@pytest.fixture(scope="module")
def client(system: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    log = tmp_path_factory.mktemp("srvlog") / "stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "lore", "serve"], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, env={**os.environ, "LORE_CACHE": str(system.parent / "cache")})
    c = Client(proc)
    init = c.request("initialize", {
        "processId": os.getpid(), "rootUri": system.as_uri(), "capabilities": {},
        "workspaceFolders": [{"uri": system.as_uri(), "name": "sys"}],
        "initializationOptions": {"cacheDir": str(system.parent / "cache")}}, timeout=60)
    assert "result" in init, init
    c.notify("initialized", {})
    stats = c.request("workspace/executeCommand", {"command": "lore.reindex"}, timeout=120)
    assert "result" in stats, stats
    c.log = log  # type: ignore[attr-defined]
    yield c
    try:
        c.request("shutdown", None, timeout=10)
        c.notify("exit", None)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not lore_tracebacks(log.read_text(errors="replace"))


def lore_tracebacks(stderr: str) -> list[str]:
    """Tracebacks that pass through Lore's own code (pygls logs the malformed frames it drops with a
    traceback of its own JSON decoding: that is a log line, not a failure)."""
    blocks = stderr.split("Traceback (most recent call last):")[1:]
    return [b[:2000] for b in blocks if "/lsp_server/" in b or "/indexers/" in b]


def hover(c: Client, uri: str, line: int, character: int) -> dict[str, Any]:
    return c.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})


# -- malformed frames ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b"\xff\xfe\x00garbage", b"null", b"42", b'"text"',
                                  b'{"jsonrpc": "2.0", "id": 77}', b'{"jsonrpc": "2.0", "method": 5, "id": 78}'])
def test_malformed_bodies_leave_the_server_alive(client: Client, body: bytes) -> None:
    client.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert client.alive()
    assert client.proc.poll() is None


def test_unparsable_body_gets_a_parse_error(client: Client) -> None:
    body = b'{"jsonrpc": "2.0", "id": 90, "method": "textDocument/hover", '
    client.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    reply = client.wait(None, timeout=2)
    assert reply["error"]["code"] == -32700


@pytest.mark.parametrize("header", [b"Content-Length: abc\r\n\r\n", b"Content-Length: -5\r\n\r\n",
                                    b"Content-Type: application/json\r\n\r\n", b"garbage line without a colon\r\n\r\n",
                                    b"\r\n\r\n\r\n", b"Content-Length: 0\r\n\r\n"])
def test_bad_headers_leave_the_server_alive(client: Client, header: bytes) -> None:
    client.raw(header)
    assert client.alive()


# -- protocol-level errors -----------------------------------------------------------------------------

def test_unknown_method_is_method_not_found(client: Client) -> None:
    reply = client.request("lore/noSuchMethod", {"x": 1})
    assert reply["error"]["code"] == -32601
    client.notify("lore/noSuchNotification", {"x": 1})
    client.notify("$/noSuchThing", {})
    assert client.alive()


BAD_PARAMS: list[Any] = [{"position": {"line": 0, "character": 0}}, [1, 2], "text", None,
                         {"textDocument": {"uri": "file:///x.proto"}, "position": {"line": "x", "character": None}},
                         {"textDocument": {"uri": "file:///x.proto"}, "position": {"line": -1, "character": -5}}]


def test_invalid_params_leave_the_server_alive(client: Client) -> None:
    for params in BAD_PARAMS:
        client.request_async("textDocument/hover", params)
    client.request_async("workspace/symbol", {"no": "query"})
    assert client.alive()


def test_invalid_params_get_an_invalid_params_error(client: Client) -> None:
    reply = client.wait(client.request_async("textDocument/hover", BAD_PARAMS[0]), timeout=3)
    assert reply["error"]["code"] == -32602


def test_out_of_range_positions(client: Client, system: Path) -> None:
    uri = (system / "contracts" / "orders.proto").as_uri()
    ok = hover(client, uri, 4, 8)
    assert "GetOrder" in json.dumps(ok["result"])  # sanity: the server knows this file
    for line, char in ((10**6, 0), (4, 10**6), (2**31 - 1, 2**31 - 1), (0, 0), (15, 0)):
        reply = hover(client, uri, line, char)
        assert "error" not in reply or reply["error"]["code"] in (-32602,), reply
        if line > 100:
            assert reply.get("result") is None
    for method in ("textDocument/definition", "textDocument/references", "textDocument/codeAction"):
        params: dict[str, Any] = {"textDocument": {"uri": uri}, "position": {"line": 10**6, "character": 10**6}}
        if method.endswith("references"):
            params["context"] = {"includeDeclaration": True}
        if method.endswith("codeAction"):
            params = {"textDocument": {"uri": uri}, "range": {"start": {"line": 10**6, "character": 0},
                      "end": {"line": 10**6 + 5, "character": 3}}, "context": {"diagnostics": []}}
        reply = client.request(method, params)
        assert "result" in reply, reply
    assert client.alive()


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "https://example.com/orders.proto", "file:///nonexistent/x.proto",
                                 "::::", "", "file://remote-host/share/x.proto", "vscode-notebook-cell:/x.ipynb#W0sZmlsZQ%3D%3D",
                                 "file:///%00/x.proto"])
def test_non_file_and_odd_uris(client: Client, uri: str) -> None:
    reply = hover(client, uri, 0, 0)
    assert "error" not in reply or reply["error"]["code"] in (-32602,), reply
    assert reply.get("result") is None
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "proto", "version": 1,
                                                            "text": PROTO}})
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.alive()


def test_requests_for_unopened_files(client: Client, system: Path) -> None:
    uri = (system / "app" / "other.py").as_uri()
    reply = hover(client, uri, 6, 17)  # stub.GetOrder( in a file the client never opened
    assert "result" in reply
    assert "OrderService" in json.dumps(reply["result"]) or reply["result"] is None
    closed = client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
    assert "result" in closed
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})  # close without open
    client.notify("textDocument/didChange", {"textDocument": {"uri": (system / "app" / "nope.py").as_uri(), "version": 2},
                                             "contentChanges": [{"text": "x"}]})  # change without open
    assert client.alive()


# -- a flood of edits ---------------------------------------------------------------------------------

def test_did_change_flood_keeps_memory_bounded(client: Client, system: Path) -> None:
    path = system / "app" / "client.py"
    uri = path.as_uri()
    text = path.read_text()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    padding = "# " + "x" * 2000 + "\n"
    for v in range(2, FLOOD + 2):
        body = text + padding * (v % 50) + f"# edit {v}\n"
        if v % 3:
            change: dict[str, Any] = {"text": body}
        else:  # an incremental edit: insert at the top
            change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": f"# {v}\n"}
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [change]})
    # The last edit wins, and the server answers right after the flood.
    final = text.replace("def get", "def get_final")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": FLOOD + 5}, "contentChanges": [{"text": final}]})
    t0 = time.monotonic()
    reply = hover(client, uri, 6, 17)
    assert "result" in reply and time.monotonic() - t0 < 30
    assert client.alive()
    time.sleep(1.0)  # let the debounced document run settle
    rss = client.rss_mb()
    print(f"server RSS {rss:.0f} MB after {FLOOD} didChange")
    assert rss < RSS_LIMIT_MB, f"server RSS {rss:.0f} MB after {FLOOD} didChange"
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


# -- the server and the CLI on the same cache ------------------------------------------------------------

def test_server_and_cli_index_the_same_workspace(client: Client, system: Path) -> None:
    cache = system.parent / "cache"
    (system / "contracts" / "more.proto").write_text(PROTO.replace("orders.v1", "more.v1"))
    ident = client.request_async("workspace/executeCommand", {"command": "lore.reindex"})
    cli = subprocess.run([sys.executable, "-m", "lore", "index", str(system), "--json", "--cache", str(cache)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr[-3000:]
    doc = json.loads(cli.stdout)
    assert doc["files"]["failed"] == [] and not [m for m in doc["messages"] if "cache" in m], doc["messages"]
    reply = client.wait(ident, timeout=120)
    assert "result" in reply, reply
    symbols = client.request("workspace/symbol", {"query": "more.v1"})
    assert "result" in symbols
    store = Store(cache)
    try:
        assert store.messages == []
    finally:
        store.close()
    assert not [p for p in cache.iterdir() if ".corrupt-" in p.name]


def test_desynchronised_stream_then_end_of_input(system: Path, tmp_path: Path) -> None:
    """A Content-Length shorter or longer than the body desynchronises the stream for good (LSP framing
    has no resynchronisation); the server must neither crash nor hang: at end of input it exits."""
    proc = subprocess.Popen([sys.executable, "-m", "lore", "serve"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    c = Client(proc)
    assert "result" in c.request("initialize", {"processId": None, "rootUri": system.as_uri(), "capabilities": {}}, timeout=60)
    c.raw(b"Content-Length: 3\r\n\r\n" + b'{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}')
    c.raw(b"Content-Length: 100000\r\n\r\n" + b'{"jsonrpc": "2.0", "id": 6, "method": "shutdown"}')
    for _ in range(3):
        c.request_async("workspace/symbol", {"query": "x"})
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the server hung after end of input") from None
    assert proc.stderr is not None
    assert not lore_tracebacks(proc.stderr.read().decode("utf-8", "replace"))
