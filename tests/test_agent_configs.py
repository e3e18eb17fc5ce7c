"""The agent configurations in editors/agents, each started exactly as written: every MCP entry (Codex,
Cursor, Windsurf, opencode, Zed) with the MCP SDK's client in a project folder (the clients' own variables
expanded as they expand them), listing Lore's tools and answering one call; opencode's `lsp` entry over
stdio, which delivers the breaking diagnostic of an edited proto.

Skipped only when the `mcp` SDK is not installed and LORE_REQUIRE_MCP is unset (CI sets it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

try:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("LORE_REQUIRE_MCP"):
        raise
    pytest.skip("the mcp SDK is not installed (pip install 'lore[mcp]'; set LORE_REQUIRE_MCP=1 to fail instead)",
                allow_module_level=True)

from tests.test_claude_code import DELETED, PROTO, StdioClient, lsp_config, tool_path

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "editors" / "agents"


def entries(project: Path) -> dict[str, tuple[str, list[str]]]:
    """(command, args) of every MCP entry, as each client would run it in `project`."""
    codex = tomllib.loads((AGENTS / "codex" / "config.toml").read_text(encoding="utf-8"))["mcp_servers"]["lore"]
    cursor = json.loads((AGENTS / "cursor" / "mcp.json").read_text(encoding="utf-8"))["mcpServers"]["lore"]
    windsurf = json.loads((AGENTS / "windsurf" / "mcp_config.json").read_text(encoding="utf-8"))["mcpServers"]["lore"]
    opencode = json.loads((AGENTS / "opencode" / "opencode.json").read_text(encoding="utf-8"))["mcp"]["lore"]
    zed = json.loads((AGENTS / "zed" / "settings.json").read_text(encoding="utf-8"))["context_servers"]["lore"]
    assert opencode["type"] == "local" and opencode["enabled"] is True
    return {
        "codex": (codex["command"], codex["args"]),
        "cursor": (cursor["command"], [a.replace("${workspaceFolder}", str(project)) for a in cursor["args"]]),
        # one global file: the user writes the workspace's path where the placeholder is
        "windsurf": (windsurf["command"], [a.replace("/path/to/your/workspace", str(project)) for a in windsurf["args"]]),
        "opencode": (opencode["command"][0], opencode["command"][1:]),
        "zed": (zed["command"], zed["args"]),
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("agents") / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    return target


@pytest.mark.parametrize("agent", ["codex", "cursor", "windsurf", "opencode", "zed"])
async def test_each_mcp_entry_serves_lore(agent: str, shop: Path, tmp_path: Path) -> None:
    command, args = entries(shop)[agent]
    assert command == "lore" and args[0] == "mcp"
    env = {**os.environ, "PATH": tool_path(), "LORE_CACHE": str(tmp_path / "cache")}
    resolved = shutil.which(command, path=env["PATH"])
    assert resolved
    params = StdioServerParameters(command=resolved, args=args, cwd=str(shop), env=env)  # the client runs it in the project
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"lore_context", "lore_diff", "lore_consumers"} <= names
            res = await session.call_tool("lore_consumers", {"entity_id": "CartService.GetCart"})
            text = "\n".join(getattr(b, "text", "") for b in res.content)
            assert not res.is_error and "checkout-service" in text and "storefront" in text, text


def test_opencode_lsp_entry_delivers_the_breaking_diagnostic(tmp_path: Path) -> None:
    doc: dict[str, Any] = json.loads((AGENTS / "opencode" / "opencode.json").read_text(encoding="utf-8"))
    lsp = doc["lsp"]["lore"]
    assert set(lsp["extensions"]) == set(lsp_config("lore")["extensionToLanguage"])  # the same files as Claude Code's plugin
    shop = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    env = {**os.environ, "PATH": tool_path(), "LORE_CACHE": str(tmp_path / "cache")}
    command = shutil.which(lsp["command"][0], path=env["PATH"])
    assert command
    client = StdioClient([command, *lsp["command"][1:]], shop, env)
    try:
        client.request("initialize", {"processId": os.getpid(), "rootUri": shop.as_uri(),
                                      "workspaceFolders": [{"uri": shop.as_uri(), "name": "shop"}],
                                      "capabilities": {"textDocument": {"publishDiagnostics": {"relatedInformation": True}}}})
        client.send({"method": "initialized", "params": {}})
        path = shop / PROTO
        text = path.read_text(encoding="utf-8").replace(*DELETED)
        path.write_text(text, encoding="utf-8")
        client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": path.as_uri(), "languageId": "proto", "version": 0, "text": text}}})
        msg = client.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == path.as_uri()
                           and any(d.get("code") == "FIELD_NO_DELETE" for d in m["params"]["diagnostics"]))
        assert any("breaks 2 consumers" in d["message"] for d in msg["params"]["diagnostics"])
    finally:
        client.close()
