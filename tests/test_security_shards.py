"""Shards are untrusted input (another party writes them). Each attack goes through the real interface
(the CLI, the LSP server over stdio, the MCP server with the SDK's client):

- a gzip bomb is refused at the size/ratio bound instead of being inflated;
- a malformed shard (missing keys, wrong types, deep nesting) is reported with its path and the reason and
  skipped, never a traceback, never a server that stops indexing;
- a shard cannot override a repo checked out locally: not by naming it, not by facts that claim it, not
  by declaring the same contract entity differently (the local declaration is canonical);
- text from a shard is marked as such in context, hovers and MCP answers.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from indexers.model import SCHEMA_VERSION
from tests.gitrepo import GitRepo

PROTO = """syntax = "proto3";
package shop.cart.v1;
service CartService {
  rpc GetCart(GetCartRequest) returns (Cart);
}
message GetCartRequest { string user_id = 1; }
message Cart { repeated string items = 1; }
"""
CLIENT = """import grpc
from shop.cart.v1 import cart_pb2, cart_pb2_grpc


class CartClient:
    def __init__(self, target):
        self._stub = cart_pb2_grpc.CartServiceStub(grpc.insecure_channel(target))

    def get_cart(self, user_id):
        return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id))
"""
CALL_LINE = 10  # 1-based line of the GetCart call in CLIENT
GET_CART = "proto:shop.cart.v1.CartService.GetCart"


def lore(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, timeout=120, env=os.environ)
    assert "Traceback" not in proc.stderr, proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def gz(doc: Any) -> bytes:
    return gzip.compress(json.dumps(doc).encode())


def shard_doc(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()))


def with_repo(value: Any, repo: str) -> Any:
    """Every nested 'repo' field set to `repo` (what a forged shard would do)."""
    if isinstance(value, dict):
        return {k: (repo if k == "repo" else with_repo(v, repo)) for k, v in value.items()}
    if isinstance(value, list):
        return [with_repo(v, repo) for v in value]
    return value


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("shardsec")
    contracts = GitRepo(base / "src" / "contracts")
    contracts.commit("cart api", {"cart.proto": PROTO})
    # Two other parties' copies of the contract whose GetCart answers another message: a different wire shape.
    others = []
    for name in ("aaa", "bbb"):
        other = GitRepo(base / "src" / name)
        other.commit("a copy that says otherwise", {"cart.proto": PROTO.replace("returns (Cart);", "returns (GetCartRequest);")})
        others.append(other)
    out = {"base": base, "contracts": contracts.path}
    for repo in (contracts, *others):
        shard = base / "shards" / f"{repo.path.name}.lore-shard"
        lore("index", str(repo.path), "--export", str(shard), "--json", "--cache", str(base / "c" / repo.path.name))
        out[f"shard:{repo.path.name}"] = shard
    return out


def workspace(base: Path, name: str, *, local_contracts: bool, shards: dict[str, bytes], contracts: str = "contracts") -> Path:
    """app (checked out, calls GetCart), the contract checked out (in repo `contracts`) or not, and the
    given shard files."""
    ws = base / name
    GitRepo(ws / "app").commit("client", {"cart_client.py": CLIENT})
    toml = '[[repo]]\nname = "app"\npath = "app"\n'
    if local_contracts:
        GitRepo(ws / contracts).commit("cart api", {"cart.proto": PROTO})
        toml += f'[[repo]]\nname = "{contracts}"\npath = "{contracts}"\n'
    for file, data in shards.items():
        (ws / file).write_bytes(data)
        toml += f'[[shard]]\npath = "{file}"\n'
    (ws / "lore.toml").write_text(toml)
    return ws


def bomb(decompressed: int) -> bytes:
    """A gzip member that inflates about a thousand times: a shard header, then a huge string."""
    head = json.dumps({"format": "lore-shard", "schema": SCHEMA_VERSION, "repo": "bomb", "commit": None})[:-1]
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunks = [z.compress(head.encode() + b', "pad": "')]
    block = b"a" * (1 << 20)
    chunks += [z.compress(block) for _ in range(decompressed >> 20)]
    chunks.append(z.compress(b'"}') + z.flush())
    return b"".join(chunks)


def test_gzip_bomb_is_refused_at_the_bound(parts: dict[str, Path]) -> None:
    data = bomb(64 << 20)
    assert len(data) < 100_000  # 64 MB of JSON in less than 100 KB
    ws = workspace(parts["base"], "ws-bomb", local_contracts=True, shards={"bomb.lore-shard": data})
    out = json.loads(lore("index", str(ws), "--json").stdout)
    msg = next(m for m in out["messages"] if "bomb.lore-shard" in m)
    assert "decompresses to more than" in msg and "decompression bomb" in msg
    assert out["files"]["indexed"] == 2  # the local repos are indexed all the same


def test_malformed_shards_are_reported_with_path_and_reason_and_skipped(parts: dict[str, Path]) -> None:
    good = shard_doc(parts["shard:contracts"])
    ff = good["files"][0]
    deep_attrs: Any = "x"
    for _ in range(40):
        deep_attrs = {"a": deep_attrs}
    bad = {
        "missing.lore-shard": gz({**good, "files": [{k: v for k, v in ff.items() if k != "sha256"}]}),
        "types.lore-shard": gz({**good, "files": [{**ff, "entities": [{**ff["entities"][0], "range": {**ff["entities"][0]["range"], "start_line": "3"}}]}]}),
        "notalist.lore-shard": gz({**good, "files": "everything"}),
        "deep.lore-shard": gzip.compress(b'{"format": "lore-shard", "files": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"),
        "deepattrs.lore-shard": gz({**good, "files": [{**ff, "entities": [{**ff["entities"][0], "attrs": deep_attrs}]}]}),
        "escape.lore-shard": gz({**good, "files": [{**ff, "path": "../../etc/passwd"}]}),
        "good.lore-shard": parts["shard:contracts"].read_bytes(),
    }
    ws = workspace(parts["base"], "ws-malformed", local_contracts=False, shards=bad)
    out = json.loads(lore("index", str(ws), "--json").stdout)
    msgs = {Path(m.split(": ", 1)[0]).name: m for m in out["messages"] if ".lore-shard" in m}
    assert "files[0]: missing key 'sha256'" in msgs["missing.lore-shard"]
    assert "files[0].entities[0].range.start_line: expected an integer, got '3'" in msgs["types.lore-shard"]
    assert "files: expected a list" in msgs["notalist.lore-shard"]
    assert "nested too deeply" in msgs["deep.lore-shard"]
    assert "files[0].entities[0].attrs: nested more than 32 levels deep" in msgs["deepattrs.lore-shard"]
    assert "files[0].path: '../../etc/passwd' is not a repo-relative path" in msgs["escape.lore-shard"]
    assert "good.lore-shard" not in msgs
    assert {"name": "contracts", "shard": str(ws / "good.lore-shard"), "head": good["commit"]} in out["repos"]
    graph = json.loads(lore("graph", str(ws), "--json").stdout)
    assert any(lk["entity"] == GET_CART and lk["repo"] == "app" for lk in graph["links"])


def test_a_shard_cannot_override_a_local_repo(parts: dict[str, Path]) -> None:
    good = shard_doc(parts["shard:contracts"])
    ws = workspace(parts["base"], "ws-override", local_contracts=True, contracts="cart", shards={
        "named.lore-shard": gz({**with_repo(good, "app"), "repo": "app"}),  # names the local repo 'app'
        "forged.lore-shard": gz({**with_repo(good, "app"), "repo": "evil"}),  # facts that claim 'app'
        # two copies against the one checked out: the majority shape, and 'aaa' sorts first
        "aaa.lore-shard": parts["shard:aaa"].read_bytes(),
        "bbb.lore-shard": parts["shard:bbb"].read_bytes(),
    })
    out = json.loads(lore("index", str(ws), "--json").stdout)
    msgs = " | ".join(out["messages"])
    assert "named.lore-shard: shard of 'app' ignored: that repo is checked out in this workspace" in msgs
    assert "forged.lore-shard: malformed shard: files[0]" in msgs and ".repo: 'app' is not the shard's repo 'evil'" in msgs
    ctx = json.loads(lore("context", f"{ws / 'app' / 'cart_client.py'}:{CALL_LINE}", "--json").stdout)
    contract = next(s for s in ctx["sections"] if s["name"] == "contract")
    entity = next(n for n in contract["notes"] if n["kind"] == "entity")
    assert entity["data"]["id"] == GET_CART
    assert entity["source"].startswith("cart/cart.proto") and entity["data"]["attrs"]["response"] == "Cart"
    assert "from_shard" not in entity["data"]
    # the shards' other shape is drift from the local contract, never the truth
    notes = json.dumps([n for n in contract["notes"] if n["kind"] in ("drift", "conflict")])
    assert "aaa/cart.proto" in notes and "bbb/cart.proto" in notes


def test_shard_text_is_marked_in_context(parts: dict[str, Path]) -> None:
    ws = workspace(parts["base"], "ws-marked", local_contracts=False,
                   shards={"contracts.lore-shard": parts["shard:contracts"].read_bytes()})
    ctx = json.loads(lore("context", f"{ws / 'app' / 'cart_client.py'}:{CALL_LINE}", "--json").stdout)
    entity = next(n for s in ctx["sections"] for n in s["notes"] if n["kind"] == "entity")
    commit = shard_doc(parts["shard:contracts"])["commit"]
    assert entity["text"].endswith(f"[from shard contracts@{commit[:12]}]")
    assert entity["data"]["from_shard"] == {"repo": "contracts", "commit": commit, "shard": str(ws / "contracts.lore-shard")}
    text = lore("context", f"{ws / 'app' / 'cart_client.py'}:{CALL_LINE}").stdout
    assert f"[from shard contracts@{commit[:12]}]" in text


# -- the LSP server over stdio and the MCP server ----------------------------------------------------

@pytest.fixture(scope="module")
def marked_ws(parts: dict[str, Path]) -> Path:
    """app checked out, contracts only as a shard, plus a malformed and a bomb shard beside it."""
    return workspace(parts["base"], "ws-servers", local_contracts=False, shards={
        "contracts.lore-shard": parts["shard:contracts"].read_bytes(),
        "deep.lore-shard": gzip.compress(b'{"format": "lore-shard", "files": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"),
        "bomb.lore-shard": bomb(16 << 20),
    })


async def test_lsp_server_keeps_indexing_and_marks_shard_text(marked_ws: Path, tmp_path: Path) -> None:
    from lsprotocol import types as t
    from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

    from tests.lsp_helpers import open_doc, until

    client: LanguageClient = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "lsp_server")
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=marked_ws.as_uri(),
            workspace_folders=[t.WorkspaceFolder(marked_ws.as_uri(), "ws")],
            initialization_options={"cacheDir": str(tmp_path / "cache")}))
        stats = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
        assert stats["links"] >= 1, stats  # indexing went on past the bad shards
        path = marked_ws / "app" / "cart_client.py"
        open_doc(client, path, "python")
        col = CLIENT.split("\n")[CALL_LINE - 1].index("GetCart") + 1
        params = t.HoverParams(t.TextDocumentIdentifier(path.as_uri()), t.Position(CALL_LINE - 1, col))
        hover = await client.text_document_hover_async(params)
        assert hover is not None
        assert GET_CART in hover.contents.value and "from shard contracts@" in hover.contents.value
        warned = await until(lambda: _warned(client, ("deep.lore-shard", "bomb.lore-shard")), timeout=10)
        assert warned, [m.message for m in client.messages]
        text = " | ".join(m.message for m in client.messages)
        assert "deep.lore-shard: malformed shard: JSON nested too deeply" in text
        assert "bomb.lore-shard: shard decompresses to more than" in text
    finally:
        await client.shutdown_session()


async def _warned(client: Any, names: tuple[str, ...]) -> bool:
    return all(any(n in m.message for m in client.messages) for n in names)


async def test_mcp_marks_shard_text(marked_ws: Path, tmp_path: Path) -> None:
    mcp = pytest.importorskip("mcp")
    from mcp.client.stdio import StdioServerParameters, stdio_client

    args = ["-m", "lore", "mcp", "--root", str(marked_ws), "--cache", str(tmp_path / "cache")]
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(StdioServerParameters(command=sys.executable, args=args), errlog=errlog) as (read, write), \
                mcp.ClientSession(read, write) as session:
            await session.initialize()
            res = await session.call_tool("lore_consumers", {"entity_id": GET_CART})
            text = res.content[0].text
            assert not res.is_error, text
            assert "declared at contracts/cart.proto:4 [from shard contracts@" in text
            assert res.structured_content["consumers"][0]["repo"] == "app"
            assert "from_shard" not in res.structured_content["consumers"][0]
            res = await session.call_tool("lore_context", {"path": "app/cart_client.py", "line": CALL_LINE})
            text = res.content[0].text
            assert not res.is_error, text
            assert f"{GET_CART}: rpc GetCart" in text and "[from shard contracts@" in text
            notes = [n for s in res.structured_content["sections"] for n in s["notes"] if n["kind"] == "entity"]
            assert notes and notes[0]["data"]["from_shard"]["repo"] == "contracts"
            res = await session.call_tool("lore_search", {"query": "GetCart"})
            row = next(r for r in res.structured_content["results"] if r.get("id") == GET_CART)
            assert row["from_shard"]["repo"] == "contracts" and "[from shard contracts@" in res.content[0].text
