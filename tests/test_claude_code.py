"""The Claude Code plugin (editors/claude-code), tested the way Claude Code uses it.

Without the client: the plugin's own files are read (marketplace.json -> plugin.json -> the `.lsp.json`
and `.mcp.json` they name, never a copy), the LSP server is started with exactly the command and args the
plugin ships, and spoken to as Claude Code 2.1.337 does (its initialize parameters, recorded from a real
session; `didOpen` with the edited file's text and the language its extension maps to, then `didSave`,
which is what the client sends after its Edit tool writes a file): the breaking diagnostic naming the
consumers arrives, and so does the one for an edited workaround line.

With the client (marked `editor`; tests/editors/install.sh installs @anthropic-ai/claude-code from npm):
the real `claude` in print mode, the plugin loaded with --plugin-dir or installed from its marketplace
folder, a scripted model behind a fake API on loopback (tests/fake_anthropic.py) that reads and edits the
proto. The diagnostic reaches what the model is sent next, and Lore's MCP tools are offered. When another
plugin's server claims `.proto` first, Claude Code uses that one alone for `.proto` files (the documented
limitation: one language server per extension, the first plugin in the settings' order wins).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from indexers.sources import registry
from indexers.sources.code.facts import LANGS
from tests.fake_anthropic import Script, fake_api

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "editors" / "claude-code"
PROTO = "contracts/proto/shop/cart/v1/cart.proto"
CART_GO = "cart-service/internal/server/cart.go"
DELETED = ("message GetCartRequest {\n  string user_id = 1;\n}", "message GetCartRequest {\n}")
CONSUMERS = ("breaks 2 consumers: checkout-service (checkout-service/checkout/cart_client.py:19), "
             "storefront (storefront/src/cart.ts:10)")
CLAUDE_CODE_VERSION = "2.1.337"
# What Claude Code 2.1.337 sends in `initialize` (recorded from a real session through a logging proxy;
# processId, root and folder are the session's). No workspace/configuration, no watched-file registration.
INITIALIZE_CAPABILITIES: dict[str, Any] = {
    "workspace": {"configuration": False, "workspaceFolders": False, "didChangeWatchedFiles": {"dynamicRegistration": False}},
    "textDocument": {
        "synchronization": {"dynamicRegistration": False, "willSave": False, "willSaveWaitUntil": False, "didSave": True},
        "publishDiagnostics": {"relatedInformation": True, "tagSupport": {"valueSet": [1, 2]}, "versionSupport": False,
                               "codeDescriptionSupport": True, "dataSupport": False},
        "hover": {"dynamicRegistration": False, "contentFormat": ["markdown", "plaintext"]},
        "definition": {"dynamicRegistration": False, "linkSupport": True},
        "references": {"dynamicRegistration": False},
        "documentSymbol": {"dynamicRegistration": False, "hierarchicalDocumentSymbolSupport": True},
        "callHierarchy": {"dynamicRegistration": False},
    },
    "general": {"positionEncodings": ["utf-16"]},
}


def plugin(name: str = "lore") -> tuple[Path, dict[str, Any]]:
    """The plugin folder the marketplace lists under `name`, and its plugin.json."""
    market = json.loads((PLUGINS / ".claude-plugin" / "marketplace.json").read_text(encoding="utf-8"))
    entry = next(p for p in market["plugins"] if p["name"] == name)
    folder = (PLUGINS / entry["source"]).resolve()
    manifest = json.loads((folder / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))
    assert manifest["name"] == name
    return folder, manifest


def lsp_config(name: str = "lore") -> dict[str, Any]:
    folder, manifest = plugin(name)
    servers = manifest["lspServers"]
    if isinstance(servers, str):  # a path to a .lsp.json, relative to the plugin root
        servers = json.loads((folder / servers).read_text(encoding="utf-8"))
    (config,) = servers.values()
    return config  # type: ignore[no-any-return]


def tool_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    return target


# -- the plugin's files --------------------------------------------------------------------------------
def test_the_plugin_serves_every_file_lore_reads() -> None:
    folder, manifest = plugin("lore")
    mcp = json.loads((folder / manifest["mcpServers"]).read_text(encoding="utf-8"))["mcpServers"]["lore"]
    assert (mcp["command"], mcp["args"]) == ("lore", ["mcp", "--root", "${CLAUDE_PROJECT_DIR}"])
    config = lsp_config("lore")
    assert (config["command"], config["args"]) == ("lore", ["serve"])
    mapped = set(config["extensionToLanguage"])
    assert set(LANGS) <= mapped, f"code files Lore reads but the plugin does not send: {set(LANGS) - mapped}"
    for path in ("a.proto", "api.graphql", "schema.gql", "db/001.sql", "openapi.yaml", "openapi.yml", "api.json"):
        assert registry.for_path(path) and "." + path.rsplit(".", 1)[1] in mapped
    contracts = lsp_config("lore-contracts")
    assert (contracts["command"], contracts["args"]) == (config["command"], config["args"])
    assert set(contracts["extensionToLanguage"]) == {".proto", ".graphql", ".graphqls", ".gql", ".sql", ".yaml", ".yml", ".json"}
    assert not set(contracts["extensionToLanguage"]) & set(LANGS)


# -- the LSP configuration over stdio, as Claude Code drives it ----------------------------------------
class StdioClient:
    """The few JSON-RPC exchanges Claude Code has with a plugin's language server, over the server's stdio."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.ids = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode("ascii").partition(":")
                if key.lower() == "content-length":
                    length = int(value)
            if length is None:
                return
            self.inbox.put(json.loads(out.read(length)))

    def send(self, msg: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **msg}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def request(self, method: str, params: Any, deadline: float = 120.0) -> Any:
        self.ids += 1
        me = self.ids
        self.send({"id": me, "method": method, "params": params})
        reply = self.until(lambda m: m.get("id") == me and "method" not in m, deadline)
        assert "error" not in reply, reply
        return reply.get("result")

    def until(self, want: Any, deadline: float = 120.0) -> dict[str, Any]:
        """The next message `want` accepts; requests from the server are refused as Claude Code refuses
        what it does not implement. Bounded, never a timing assertion: the bound only stops a hang."""
        end = time.monotonic() + deadline
        while True:
            msg = self.inbox.get(timeout=max(end - time.monotonic(), 0.01))
            if want(msg):
                return msg
            if "method" in msg and "id" in msg:
                self.send({"id": msg["id"], "error": {"code": -32601, "message": f"Unhandled method {msg['method']}"}})

    def close(self) -> None:
        try:
            self.request("shutdown", None, 30)
            self.send({"method": "exit"})
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_the_shipped_lsp_configuration_over_stdio_as_claude_code(shop: Path, tmp_path: Path) -> None:
    config = lsp_config("lore")
    env = {**os.environ, "PATH": tool_path(), "LORE_CACHE": str(tmp_path / "cache"), **config.get("env", {})}
    command = shutil.which(config["command"], path=env["PATH"])
    assert command, f"{config['command']!r} is not on PATH"
    client = StdioClient([command, *config.get("args", [])], shop, env)  # Claude Code starts it in the project folder
    try:
        client.request("initialize", {"processId": os.getpid(), "clientInfo": {"name": "Claude Code", "version": CLAUDE_CODE_VERSION},
                                      "initializationOptions": config.get("initializationOptions", {}),
                                      "workspaceFolders": [{"uri": shop.as_uri(), "name": shop.name}],
                                      "rootPath": str(shop), "rootUri": shop.as_uri(), "capabilities": INITIALIZE_CAPABILITIES})
        client.send({"method": "initialized", "params": {}})
        for rel, (old, new), needle in ((PROTO, DELETED, "FIELD_NO_DELETE"),
                                        (CART_GO, ("const maxItems = 500", "const maxItems = 1000"), "edits-workaround")):
            path = shop / rel
            text = path.read_text(encoding="utf-8").replace(old, new)
            path.write_text(text, encoding="utf-8")  # the Edit tool writes the file, then tells the server
            language = config["extensionToLanguage"][path.suffix]
            client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": path.as_uri(), "languageId": language, "version": 1, "text": text}}})
            client.send({"method": "textDocument/didSave", "params": {"textDocument": {"uri": path.as_uri()}}})
            msg = client.until(lambda m, p=path, n=needle: m.get("method") == "textDocument/publishDiagnostics"
                               and m["params"]["uri"] == p.as_uri() and any(d.get("code") == n for d in m["params"]["diagnostics"]))
            diag = next(d for d in msg["params"]["diagnostics"] if d.get("code") == needle)
            if needle == "FIELD_NO_DELETE":
                assert diag["severity"] == 1 and diag["source"] == "lore" and diag["range"]["start"]["line"] == 18
                assert diag["message"] == ("field 1 'user_id' of shop.cart.v1.GetCartRequest was deleted without reserving its "
                                           f"number and name; {CONSUMERS}")
            else:
                assert diag["range"]["start"]["line"] == 13 and "Work around Redis timeout on large carts (#42)" in diag["message"]
    finally:
        client.close()


# -- the real client ---------------------------------------------------------------------------------
TOOLS = Path(os.environ.get("LORE_EDITOR_TOOLS")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lore" / "editor-tools")


def claude() -> str:
    found = TOOLS / "claude" / "node_modules" / ".bin" / "claude"
    if found.is_file():
        out = subprocess.run([str(found), "--version"], capture_output=True, text=True, timeout=60).stdout
        if out.startswith(CLAUDE_CODE_VERSION):
            return str(found)
    message = f"Claude Code {CLAUDE_CODE_VERSION} not found in {found.parent}; run tests/editors/install.sh"
    if os.environ.get("LORE_REQUIRE_EDITORS") == "1":
        pytest.fail(f"LORE_REQUIRE_EDITORS=1 but {message}")
    pytest.skip(message)
    raise AssertionError("unreachable")


def run_claude(binary: str, shop: Path, home: Path, api: Script, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "PATH": tool_path(), "ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "sk-test",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
           # nothing leaves the machine: any other address goes to a dead proxy
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
           "LORE_CACHE": str(home / "lore-cache")}
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.run([binary, *args], cwd=shop, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def edit_script(path: Path, old: str, new: str, wait_for: str) -> Script:
    return Script([("Read", {"file_path": str(path)}),
                   ("Edit", {"file_path": str(path), "old_string": old, "new_string": new, "replace_all": False})], wait_for)


PRINT = ["-p", "Make the change.", "--allowedTools", "Read Edit Bash(sleep:*)", "--output-format", "json"]


@pytest.mark.editor
def test_claude_code_delivers_the_breaking_diagnostic_to_the_model(shop: Path, tmp_path: Path) -> None:
    binary = claude()
    folder, _ = plugin("lore")
    script = edit_script(shop / PROTO, *DELETED, "[FIELD_NO_DELETE] (lore)")
    diff_tool = "mcp__plugin_lore_lore__lore_diff"  # the plugin's MCP server, on the project folder it was given
    script.calls += [("ToolSearch", {"query": f"select:{diff_tool}"}), (diff_tool, {"max_chars": 4000})]
    with fake_api(script) as api:
        proc = run_claude(binary, shop, tmp_path / "home", api, *PRINT, "--allowedTools", diff_tool, "--plugin-dir", str(folder),
                          "--debug-file", str(tmp_path / "debug.txt"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "message GetCartRequest {\n}" in (shop / PROTO).read_text()  # the client's Edit tool made the change
    delivered = api.delivered()
    assert any(("✘ [Line 19:1] field 1 'user_id' of shop.cart.v1.GetCartRequest was deleted without reserving its number "
                f"and name; {CONSUMERS} [FIELD_NO_DELETE] (lore)") in d for d in delivered), delivered
    answered = api.tool_results(diff_tool)
    assert answered and "FIELD_NO_DELETE: field 1 'user_id'" in answered[-1] and CONSUMERS in answered[-1], answered


@pytest.mark.editor
def test_claude_code_from_the_marketplace_folder_warns_on_a_workaround_edit(shop: Path, tmp_path: Path) -> None:
    binary = claude()
    home = tmp_path / "home"
    with fake_api(Script([])) as api:
        for args in (["plugin", "marketplace", "add", str(PLUGINS)], ["plugin", "install", "lore@lore"]):
            proc = run_claude(binary, shop, home, api, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        listed = json.loads(run_claude(binary, shop, home, api, "plugin", "list", "--json").stdout)
    assert any(p.get("id") == "lore@lore" and p.get("enabled") for p in listed), listed
    with fake_api(edit_script(shop / CART_GO, "const maxItems = 500", "const maxItems = 1000", "edits-workaround")) as api:
        proc = run_claude(binary, shop, home, api, *PRINT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any("[Line 14:1] this edit changes a line from workaround commit" in d and "Work around Redis timeout on large "
               "carts (#42)" in d and "[edits-workaround] (lore)" in d for d in api.delivered()), api.delivered()


OTHER_SERVER = """import json, sys
def read():
    length = None
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        if line.strip() == b"":
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
    return json.loads(sys.stdin.buffer.read(length))
def send(msg):
    data = json.dumps(msg).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\\r\\n\\r\\n" % len(data) + data)
    sys.stdout.buffer.flush()
while (m := read()) is not None:
    if m.get("method") == "initialize":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"capabilities": {"textDocumentSync": 1}}})
    elif m.get("method") == "shutdown":
        send({"jsonrpc": "2.0", "id": m["id"], "result": None})
    elif m.get("method") == "exit":
        break
    elif m.get("method") == "textDocument/didOpen":
        send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {
            "uri": m["params"]["textDocument"]["uri"], "diagnostics": [{"message": "OTHER SERVER OWNS THIS FILE",
            "severity": 1, "source": "other", "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}}]}})
"""


@pytest.mark.editor
def test_another_plugin_claiming_proto_first_takes_proto_files(shop: Path, tmp_path: Path) -> None:
    """Claude Code gives each extension to one language server: the first plugin that claims it."""
    binary = claude()
    other = tmp_path / "other-plugin"
    (other / ".claude-plugin").mkdir(parents=True)
    (other / "server.py").write_text(OTHER_SERVER)
    (other / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "other", "version": "0.0.1", "lspServers": {
        "proto": {"command": sys.executable, "args": [str(other / "server.py")], "extensionToLanguage": {".proto": "proto"}}}}))
    folder, _ = plugin("lore")
    with fake_api(edit_script(shop / PROTO, *DELETED, "new-diagnostics")) as api:
        proc = run_claude(binary, shop, tmp_path / "home", api, *PRINT, "--plugin-dir", str(other), "--plugin-dir", str(folder),
                          "--debug-file", str(tmp_path / "debug.txt"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    delivered = api.delivered()
    assert any("OTHER SERVER OWNS THIS FILE" in d for d in delivered) and not any("FIELD_NO_DELETE" in d for d in delivered)
    log = (tmp_path / "debug.txt").read_text(errors="replace")
    assert ('LSP: extension .proto already handled by "plugin:other:proto"; "plugin:lore:lore" will not be used for .proto '
            "files") in log
