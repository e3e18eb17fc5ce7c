# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""Every LSP feature on the bundled example system (examples/materialize.py), over stdio, under both the
VS Code and the Neovim capability profiles: hover on a contract and on a workaround line, the
workaround-edit diagnostic appearing and clearing as the line is edited, deprecated use, undeclared
dependency with its catalog-info.yaml fix, definition across repos, references, symbols, code lens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_helpers import change_doc, diagnostics, hover_text, hover_with_history, open_doc, until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.asyncio(loop_scope="module")


def locate(path: Path, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """(line, UTF-16 column) of a needle in a file: tests name places by their text, not magic numbers."""
    hits = [(i, line.index(needle)) for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")) if needle in line]
    return hits[occurrence]


@pytest_lsp.fixture(scope="module", params=["visual-studio-code", "neovim", "served"],
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The server on the example system, under each editor's capabilities; "served": after a `lore index`
    of the unchanged system, so that the server answers from that index's saved records (read on
    demand) instead of building its own from every file's facts. Every test below holds in each."""
    base = tmp_path_factory.mktemp(f"example-{request.param}")
    shop = base / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop), "--force"], check=True, capture_output=True)
    served = request.param == "served"
    if served:
        subprocess.run([sys.executable, "-m", "lore", "index", str(shop), "--cache", str(base / "cache")], check=True,
                       capture_output=True)
    params = t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code" if served else request.param),
        root_uri=shop.as_uri(), workspace_folders=[t.WorkspaceFolder(shop.as_uri(), "shop")],
        initialization_options={"cacheDir": str(base / "cache"), "maxHoverNotes": 12,
                                **({"serveSaved": "always"} if served else {})})
    await lsp_client.initialize_session(params)
    if served:
        async def indexed() -> Any:
            status = await lsp_client.protocol.send_request_async("lore/status", {})
            status = status if isinstance(status, dict) else status._asdict()
            return status if status["runs"] >= 1 and not status["indexing"] else None

        status = await until(indexed, timeout=60)
        assert status and status["served_from_index"] is True and status["links"] > 20, status
    else:
        stats = await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
        assert stats["links"] > 20, stats
    lsp_client.shop = shop  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def shop(client: LanguageClient) -> Path:
    return client.shop  # type: ignore[attr-defined,no-any-return]


async def test_hover_on_contract_rpc_names_providers_and_consumers(client: LanguageClient, shop: Path):
    proto = shop / "contracts/proto/shop/cart/v1/cart.proto"
    line, col = locate(proto, "GetCart(GetCartRequest)")
    text = await hover_text(client, proto, (line, col + 1))
    assert text.split("\n")[0] == ("rpc `GetCart` — provided by **cart-service** (Go), called by **checkout-service** "
                                   "(Python) and **storefront** (TypeScript)")
    assert "proto:shop.cart.v1.CartService.GetCart" in text
    assert "[cart_client.py:19](file://" in text and "cart_client.py#L19)" in text  # a file link to the consumer


async def test_hover_on_workaround_line_cites_the_commit(client: LanguageClient, shop: Path):
    go = shop / "cart-service/internal/server/cart.go"
    first = await hover_text(client, go, locate(go, "const maxItems"))
    # the hover never waits for git blame: the line history comes with the first hover after it is read
    assert "Workaround: Work around Redis" in first or "line history is being read; hover again" in first
    text = await hover_with_history(client, go, locate(go, "const maxItems"))
    assert text.split("\n")[0] == "service **cart-service** (Go), owned by team-cart"
    assert "Workaround: Work around Redis timeout on large carts (#42)" in text
    assert "HACK: cap at 500 items" in text
    sha = subprocess.run(["git", "log", "-1", "--format=%H", "--grep", "Work around Redis"], cwd=go.parents[2],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert f"[{sha[:8]}](file://" in text and sha not in text  # the note cites the commit, briefly, as a link


async def test_editing_a_workaround_line_raises_a_diagnostic(client: LanguageClient, shop: Path):
    go = shop / "cart-service/internal/server/cart.go"
    original = go.read_text(encoding="utf-8")
    open_doc(client, go, "go", original)
    line, _ = locate(go, "const maxItems = 500")
    change_doc(client, go, 2, original.replace("const maxItems = 500", "const maxItems = 5000"))
    diags = await diagnostics(client, go, lambda ds: any(d.code == "edits-workaround" for d in ds))
    diag = next(d for d in diags if d.code == "edits-workaround")
    assert diag.source == "lore" and diag.range.start.line == line
    assert "Work around Redis timeout on large carts" in diag.message and "#42" in diag.message
    assert diag.related_information
    change_doc(client, go, 3, original)
    await diagnostics(client, go, lambda ds: not any(d.code == "edits-workaround" for d in ds))


async def test_deprecated_rpc_use_is_flagged(client: LanguageClient, shop: Path):
    py = shop / "checkout-service/checkout/cart_client.py"
    open_doc(client, py, "python")
    line, _ = locate(py, "self._stub.RemoveItem(")
    diags = await diagnostics(client, py, lambda ds: any(d.code == "deprecated-use" for d in ds))
    dep = next(d for d in diags if d.code == "deprecated-use")
    assert dep.range.start.line == line and "RemoveItem" in dep.message
    assert dep.related_information[0].location.uri.endswith("contracts/proto/shop/cart/v1/cart.proto")


async def test_undeclared_dependency_and_catalog_fix(client: LanguageClient, shop: Path):
    ts = shop / "storefront/src/cart.ts"
    open_doc(client, ts, "typescript")
    diags = await diagnostics(client, ts, lambda ds: any(d.code == "undeclared-dependency" for d in ds))
    und = next(d for d in diags if d.code == "undeclared-dependency")
    assert "cart" in und.message
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(ts.as_uri()), und.range, t.CodeActionContext(diagnostics=[und])))
    fix = next(a for a in actions if isinstance(a, t.CodeAction) and a.kind == t.CodeActionKind.QuickFix)
    assert "catalog-info.yaml" in fix.title
    (target, edits), = fix.edit.changes.items()
    assert target == (shop / "storefront/catalog-info.yaml").as_uri() and edits


async def test_definition_references_symbols_and_lens(client: LanguageClient, shop: Path):
    py = shop / "checkout-service/checkout/cart_client.py"
    proto = shop / "contracts/proto/shop/cart/v1/cart.proto"
    call = locate(py, "self._stub.GetCart(")
    defs = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(py.as_uri()), t.Position(call[0], call[1] + len("self._stub.") + 1)))
    rpc_line, _ = locate(proto, "rpc GetCart")
    assert [(d.uri, d.range.start.line) for d in defs] == [(proto.as_uri(), rpc_line)]
    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(proto.as_uri()), position=t.Position(rpc_line, 7),
        context=t.ReferenceContext(include_declaration=False)))
    where = {(Path(r.uri[len("file://"):]).relative_to(shop).as_posix(), r.range.start.line + 1) for r in refs}
    assert {("checkout-service/checkout/cart_client.py", 19), ("storefront/src/cart.ts", 12),
            ("cart-service/internal/server/cart.go", 25)} <= where
    symbols = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="CartService"))
    assert any(s.name.endswith("CartService") and s.location.uri == proto.as_uri() for s in symbols)
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(proto.as_uri())))
    get_cart = next(lens for lens in lenses if lens.range.start.line == rpc_line)
    assert get_cart.command.title.startswith("2 consumers in 2 repos")


async def test_system_map_command_centres_on_the_file_service(client: LanguageClient, shop: Path):
    cart_client = shop / "checkout-service/checkout/cart_client.py"
    res = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.systemMap", arguments=[{"uri": cart_client.as_uri()}]))
    assert res["center"] == "service:checkout-service:checkout-service"
    assert (res["nodes"], res["edges"]) == (3, 3)
    assert res["repos"]["checkout-service"] == str(shop / "checkout-service")
    assert res["html"].startswith("<!DOCTYPE html>") and "<title>Lore: System map: checkout-service</title>" in res["html"]
    assert '"center":"service:checkout-service:checkout-service"' in res["html"]
    near = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.systemMap", arguments=[{"focus": "storefront", "depth": 0}]))
    assert (near["nodes"], near["edges"], near["center"]) == (1, 0, None)
    with pytest.raises(Exception, match="no such service"):
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="lore.systemMap", arguments=[{"focus": "nope"}]))
