# mypy: disable-error-code="union-attr,index"
"""The server answering from the last `lore index`'s saved records (`Engine.saved_current`): after a
`lore index` of the unchanged example system it starts without building its own index, and when another
`lore index` rewrites those records under it (a new run), the first answer that needs a record it has not
read yet takes a full run instead of failing, after which it answers as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_helpers import hover_text, hover_with_history, open_doc, until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _status(client: LanguageClient) -> dict[str, Any]:
    status = await client.protocol.send_request_async("lore/status", {})
    return status if isinstance(status, dict) else status._asdict()  # type: ignore[no-any-return]


def _lore(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lore", *args], check=True, capture_output=True)


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("served")
    shop = base / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop), "--force"], check=True,
                   capture_output=True)
    _lore("index", str(shop), "--cache", str(base / "cache"))

    @lsp_client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def _register(params: t.RegistrationParams) -> None:
        pass

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def _lens_refresh(params: None) -> None:
        pass

    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=shop.as_uri(),
        workspace_folders=[t.WorkspaceFolder(shop.as_uri(), "shop")],
        initialization_options={"cacheDir": str(base / "cache"), "serveSaved": "always"}))
    lsp_client.shop = shop  # type: ignore[attr-defined]
    lsp_client.cache = base / "cache"  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_records_rewritten_under_the_server_take_a_full_run(client: LanguageClient) -> None:
    shop: Path = client.shop  # type: ignore[attr-defined]

    async def indexed() -> Any:
        s = await _status(client)
        return s if s["runs"] >= 1 and not s["indexing"] else None

    first = await until(indexed, timeout=60)
    assert first and first["served_from_index"] is True and first["links"] > 20, first
    proto = shop / "contracts/proto/shop/cart/v1/cart.proto"
    open_doc(client, proto, "proto")
    line = next(i for i, text in enumerate(proto.read_text().split("\n")) if "GetCart(GetCartRequest)" in text)
    before = await hover_with_history(client, proto, (line, proto.read_text().split("\n")[line].index("GetCart") + 1))
    assert "called by **checkout-service**" in before

    _lore("index", str(shop), "--cache", str(client.cache), "--force")  # type: ignore[attr-defined]  # a new run
    cart_client = shop / "checkout-service/checkout/cart_client.py"
    open_doc(client, cart_client, "python")
    lines = cart_client.read_text().split("\n")
    at = next(i for i, text in enumerate(lines) if "self._stub.GetCart(" in text)

    async def rebuilt() -> Any:
        await hover_text(client, cart_client, (at, lines[at].index("GetCart") + 1))
        s = await _status(client)
        return s if s["runs"] >= 2 and not s["indexing"] else None

    second = await until(rebuilt, timeout=60)
    assert second and second["served_from_index"] is False and second["links"] == first["links"], second
    after = await hover_text(client, cart_client, (at, lines[at].index("GetCart") + 1))
    assert "proto:shop.cart.v1.CartService.GetCart" in after
    assert await hover_with_history(client, proto, (line, proto.read_text().split("\n")[line].index("GetCart") + 1)) == before
