"""`lore mcp` over stdio with the official SDK's client, on the bundled example system: the tools are
listed, each answers with cited plain text and structured data, bad input is a tool error (isError) and
the server keeps answering, and an edit to a contract is seen by the next call (refresh per call).

Skipped only when the `mcp` SDK is not installed and LORE_REQUIRE_MCP is unset (CI sets it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

try:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("LORE_REQUIRE_MCP"):
        raise
    pytest.skip("the mcp SDK is not installed (pip install 'lore-lsp[mcp]'; set LORE_REQUIRE_MCP=1 to fail instead)",
                allow_module_level=True)

from lore.cli.main import main
from lore.mcp.server import LoreTools, ToolFailure

ROOT = Path(__file__).resolve().parents[1]
CART_PROTO = "contracts/proto/shop/cart/v1/cart.proto"
CART_GO = "cart-service/internal/server/cart.go"
GET_CART = "proto:shop.cart.v1.CartService.GetCart"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("mcp") / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    return target


def _text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def test_cli_registers_the_command() -> None:
    import click

    assert main.get_command(click.Context(main), "mcp") is not None, "lore/cli/main.py LAZY_COMMANDS lacks mcp"


async def test_stdio_session(shop: Path, tmp_path: Path) -> None:
    module = "lore" if "mcp" in main.commands else "lore.cli.mcp"
    args = ["-m", module] + (["mcp"] if module == "lore" else []) + ["--root", str(shop), "--cache", str(tmp_path / "cache")]
    params = StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT))
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert names == {"lore_context", "lore_consumers", "lore_search", "lore_check", "lore_diff", "notes_for", "add_note"}
            schemas = {t.name: t.input_schema for t in (await session.list_tools()).tools}
            assert all("max_chars" in schema["properties"] for schema in schemas.values())

            # A declaration: the rpc, its provider and both consumers, cited.
            res = await session.call_tool("lore_context", {"path": CART_PROTO, "line": 9})
            text = _text(res)
            assert not res.is_error, text
            assert GET_CART in text and "checkout-service" in text and "storefront" in text
            assert "checkout-service/checkout/cart_client.py:19" in text and "cart-service/internal/server/cart.go:25" in text
            assert GET_CART in res.structured_content["entity_ids"]
            assert res.structured_content["path"] == "proto/shop/cart/v1/cart.proto"

            # History on a code line, with an absolute path this time.
            res = await session.call_tool("lore_context", {"path": str(shop / CART_GO), "line": 13})
            assert not res.is_error, _text(res)
            assert "Work around Redis timeout on large carts (#42)" in _text(res)
            names_of = {s["name"] for s in res.structured_content["sections"] if s["notes"]}
            assert {"service", "history", "markers"} <= names_of

            res = await session.call_tool("lore_consumers", {"entity_id": GET_CART})
            text = _text(res)
            assert not res.is_error, text
            consumers = {(c["service"], c["repo"], c["path"], c["line"]) for c in res.structured_content["consumers"]}
            assert consumers == {("checkout-service", "checkout-service", "checkout/cart_client.py", 19),
                                 ("storefront", "storefront", "src/cart.ts", 12)}
            assert [p["service"] for p in res.structured_content["providers"]] == ["cart-service"]
            assert "storefront/src/cart.ts:12" in text

            res = await session.call_tool("lore_search", {"query": "CartService"})
            assert not res.is_error, _text(res)
            first = res.structured_content["results"][0]
            assert first["id"] == "proto:shop.cart.v1.CartService" and first["line"] == 8
            assert "proto:shop.cart.v1.CartService (proto.service" in _text(res)

            # Bad input: tool errors with a clear message, and the server keeps going.
            bad: list[tuple[str, dict[str, Any], str]] = [
                ("lore_context", {"path": "no/such/file.go", "line": 1}, "indexed repos: contracts ("),
                ("lore_context", {"path": "cart-service/../../../etc/passwd", "line": 1}, "not inside any repo"),
                ("lore_context", {"path": CART_PROTO, "line": 10_000}, "outside"),
                ("lore_context", {"path": CART_PROTO, "line": 0}, "line"),
                ("lore_consumers", {"entity_id": "proto:nope.Nothing"}, "unknown contract entity"),
                ("lore_check", {"repo": "nope"}, "unknown repo"),
                ("lore_check", {"base": "no-such-ref"}, "no-such-ref"),
            ]
            for name, arguments, needle in bad:
                res = await session.call_tool(name, arguments)
                assert res.is_error, (name, arguments, _text(res))
                assert needle in _text(res), (name, _text(res))

            res = await session.call_tool("lore_check", {})
            assert not res.is_error, _text(res)
            assert res.structured_content["breaking"] == 0 and "No breaking" in _text(res)

            # Delete the rpc in the working tree: the next call sees it and names who breaks.
            proto = shop / CART_PROTO
            proto.write_text(proto.read_text(encoding="utf-8").replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""),
                             encoding="utf-8")
            res = await session.call_tool("lore_check", {"repo": "contracts"})
            text = _text(res)
            assert not res.is_error, text
            assert res.structured_content["breaking"] >= 1, text
            finding = next(f for f in res.structured_content["results"][0]["findings"] if f["entity"] == GET_CART)
            assert {c["service"] for c in finding["consumers"]} == {"checkout-service", "storefront"}
            assert "checkout-service" in text and "GetCart" in text


def test_paths_resolve_inside_the_workspace_only(shop: Path) -> None:
    tools = LoreTools(shop)
    repo, rel, _real = tools.locate(CART_GO)
    assert (repo.name, rel) == ("cart-service", "internal/server/cart.go")
    assert tools.locate((shop / CART_GO).as_uri())[1] == "internal/server/cart.go"
    for bad in ["", "lore.toml", "cart-service", "cart-service/internal/../../lore.toml", "/etc/passwd"]:
        with pytest.raises(ToolFailure):
            tools.locate(bad)
    outside = shop.parent / "secret.txt"
    outside.write_text("x\n", encoding="utf-8")
    (shop / "cart-service" / "link.txt").symlink_to(outside)
    with pytest.raises(ToolFailure, match="outside"):
        tools.locate("cart-service/link.txt")
    (shop / "cart-service" / "link.txt").unlink()
    with pytest.raises(ToolFailure, match="between"):
        tools.context(CART_GO, 13, 12)
    with pytest.raises(ToolFailure, match="empty"):
        tools.search("   ")


def _session_params(root: Path, tmp_path: Path) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "lore", "mcp", "--root", str(root), "--cache",
                                                               str(tmp_path / "cache")], cwd=str(ROOT))


async def test_budgets_symbols_lower_bounds_and_the_diff(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    # code in a language Lore reads no usages from: every provider/consumer list is a lower bound now
    (shop / "storefront" / "src" / "Legacy.scala").write_text("object Legacy { def main(): Unit = () }\n")
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(_session_params(shop, tmp_path), errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()

            # a contract entity by name, a service, a method of one file: the same sections as at their line
            res = await session.call_tool("lore_context", {"symbol": "CartService.GetCart"})
            assert not res.is_error, _text(res)
            assert res.structured_content["entity_ids"][0] == GET_CART
            assert res.structured_content["resolved"] == f"contract entity {GET_CART}"
            assert res.structured_content["lower_bound"] is True and res.structured_content["not_read"] == ["1 Scala file in repo storefront"]
            assert "lower bound; not read: 1 Scala file in repo storefront" in _text(res)
            at_line = await session.call_tool("lore_context", {"path": CART_PROTO, "line": 9})
            assert at_line.structured_content["sections"] == res.structured_content["sections"]
            res = await session.call_tool("lore_context", {"path": CART_GO, "symbol": "CartServer.GetCart"})
            assert not res.is_error, _text(res)
            assert res.structured_content["resolved"] == "method CartServer.GetCart" and res.structured_content["line"] == 24
            assert GET_CART in res.structured_content["entity_ids"]
            res = await session.call_tool("lore_context", {"symbol": "checkout-service"})
            assert not res.is_error and res.structured_content["path"] == "catalog-info.yaml", _text(res)

            # errors name the fix: the nearest names, the candidates, the indexed roots
            bad: list[tuple[str, dict[str, Any], str]] = [
                ("lore_context", {"symbol": "GetCrat"}, "nearest names: GetCart"),
                ("lore_context", {"symbol": "user_id"}, "names 5 contract entities: proto:shop.cart.v1.AddItemRequest.user_id"),
                ("lore_context", {"path": CART_GO, "symbol": "CartServer.GetCrt"}, "nearest names: CartServer.GetCart"),
                ("lore_context", {"path": CART_GO, "symbol": "Zzz"}, "symbols in that file: CartServer, New, CartServer.GetCart"),
                ("lore_context", {"path": CART_GO}, "pass path and line, or symbol"),
                ("lore_consumers", {"entity_id": "GetCar"}, "nearest names: GetCart"),
                ("lore_context", {"path": "/elsewhere/x.go", "line": 1}, f"indexed repos: contracts ({shop / 'contracts'})"),
                ("lore_context", {"path": "cart-service/internal/server/carts.go", "line": 1},
                 "nearest indexed files: cart-service/internal/server/cart.go"),
                ("lore_check", {"repo": "cart-servic"}, "nearest: cart-service"),
                ("lore_diff", {"base": "no-such-ref"}, "BRANCH... for what this branch changes"),
            ]
            for name, arguments, needle in bad:
                res = await session.call_tool(name, arguments)
                assert res.is_error and needle in _text(res), (name, arguments, _text(res))

            res = await session.call_tool("lore_consumers", {"entity_id": "CartService.GetCart"})
            assert not res.is_error and res.structured_content["entity"]["id"] == GET_CART
            assert res.structured_content["lower_bound"] is True and "Counts below are a lower bound" in _text(res)

            # budgets: the least important cut first, and said
            full = await session.call_tool("lore_context", {"path": CART_GO, "line": 14})
            small = await session.call_tool("lore_context", {"path": CART_GO, "line": 14, "max_chars": 500})
            assert len(_text(full)) > 500 >= len(_text(small)), _text(small)
            assert "cut to fit max_chars=500" in _text(small) and small.structured_content["truncated"]["notes"] >= 1
            kept = [s["name"] for s in small.structured_content["sections"] if s["notes"]]
            assert kept and kept == [s["name"] for s in full.structured_content["sections"] if s["notes"]][:len(kept)]
            res = await session.call_tool("lore_consumers", {"entity_id": "proto:shop.cart.v1.CartService", "max_chars": 600})
            assert len(_text(res)) <= 600 and "cut to fit max_chars=600" in _text(res)
            assert res.structured_content["truncated"]["rows_per_role"] == len(res.structured_content["consumers"])
            res = await session.call_tool("lore_search", {"query": "Cart", "max_chars": 500})
            assert len(_text(res)) <= 500 and "cut to fit max_chars=500" in _text(res)
            res = await session.call_tool("lore_context", {"path": CART_GO, "line": 14, "max_chars": 10})
            assert res.is_error  # below the minimum: the schema refuses it

            # the change: a deleted field, an edited workaround line, a new call to a deprecated rpc
            proto = shop / CART_PROTO
            proto.write_text(proto.read_text().replace("message GetCartRequest {\n  string user_id = 1;\n}", "message GetCartRequest {\n}"))
            go = shop / CART_GO
            go.write_text(go.read_text().replace("const maxItems = 500", "const maxItems = 1000"))
            res = await session.call_tool("lore_diff", {})
            text = _text(res)
            assert not res.is_error, text
            assert [h["sections"][0]["name"] for h in res.structured_content["hunks"]] == ["breaking", "history"]
            assert "FIELD_NO_DELETE" in text and "breaks 2 consumers: checkout-service" in text
            assert "workaround commit" in text and res.structured_content["lower_bound"] is True
            res = await session.call_tool("lore_diff", {"path": "cart-service", "max_chars": 600})
            assert [h["repo"] for h in res.structured_content["hunks"]] == ["cart-service"] and len(_text(res)) <= 600
            assert "ask again with a larger max_chars" in _text(res) and res.structured_content["cut"]["notes"] >= 1


def test_the_context_answer_has_the_hovers_sections(tmp_path: Path) -> None:
    """lore_context and the editor's hover read one query: the hover shows the same sections, in order."""
    from lsprotocol import types as t

    from lsp_server.features.hover import hover
    from lsp_server.settings import Settings
    from lsp_server.state import Doc

    shop = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    tools = LoreTools(shop, tmp_path / "cache")
    for rel, line, word in ((CART_GO, 14, "maxItems"), (CART_PROTO, 12, "RemoveItem"),
                            ("checkout-service/checkout/cart_client.py", 27, "RemoveItem")):
        _text_out, doc = tools.context(rel, line)
        snap = tools._snapshot()
        path = shop / rel
        text = path.read_text()
        col = text.split("\n")[line - 1].index(word)  # the hover is at a position; lore_context at the line
        shown = hover(snap, Doc(path.as_uri(), path, 1, text), t.Position(line - 1, col), Settings())
        assert shown is not None and isinstance(shown.contents, t.MarkupContent)
        titles = [line[4:].split("**")[0] for line in shown.contents.value.split("\n") if line.startswith("- **")]
        mcp_titles = [s["title"] for s in doc["sections"] if s["notes"]]
        # the hover ranks the sections (risks first) and splits a contract's into consumers and providers
        shared = {"Providers and consumers" if title in ("Consumers", "Providers") else title for title in titles}
        assert titles and shared == set(mcp_titles), (rel, titles, mcp_titles)
