"""Settings over the wire: invalid initializationOptions fall back with a visible warning,
workspace/configuration (section "lore") overrides them, disabled features answer empty, and a server
without a workspace folder stays up and answers empty."""

# mypy: disable-error-code="union-attr,index"
from __future__ import annotations

import sys

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.test_lsp_server import GET_ORDER_CALL, GET_ORDER_RPC, build_system, hover_params, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("settings")
    paths = build_system(root / "sys")
    # the editor's configuration wins over initializationOptions: hover on, code lens off
    lsp_client.set_configuration({"features": {"hover": True, "codeLens": False}}, section="lore")
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        workspace_folders=[t.WorkspaceFolder(uri(paths["root"]), "sys")],
        initialization_options={"cacheDir": str(root / "cache"), "maxHoverNotes": "lots", "serveSaved": "sometimes",
                                "features": {"hover": False, "definition": True}}))
    await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    lsp_client.lore_paths = paths  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_invalid_options_warn_and_fall_back(client: LanguageClient):
    warnings = [m.message for m in client.messages if m.type == t.MessageType.Warning]
    assert any("lore.maxHoverNotes" in w and "using the default" in w for w in warnings)
    assert any("lore.serveSaved must be one of auto, always, never" in w for w in warnings)
    assert any("lore.features.definition" in w for w in warnings)
    paths = client.lore_paths  # type: ignore[attr-defined]
    result = await client.text_document_hover_async(hover_params(paths["proto"], GET_ORDER_RPC))
    assert result is not None  # configuration re-enabled hover
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri(paths["proto"]))))
    assert not lenses
    found = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri(paths["billing"])), t.Position(*GET_ORDER_CALL)))
    assert found and found[0].uri == uri(paths["proto"])


async def test_configuration_change_applies(client: LanguageClient):
    paths = client.lore_paths  # type: ignore[attr-defined]
    client.set_configuration({"features": {"hover": False, "codeLens": True}}, section="lore")
    client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))

    async def lens_back() -> bool:
        got = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri(paths["proto"]))))
        return bool(got)

    from tests.test_lsp_server import until

    assert await until(lens_back, 10)
    assert await client.text_document_hover_async(hover_params(paths["proto"], GET_ORDER_RPC)) is None


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def bare(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(capabilities=pytest_lsp.client_capabilities("neovim")))
    yield
    await lsp_client.shutdown_session()


async def test_no_workspace_answers_empty(bare: LanguageClient):
    stats = await bare.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    assert stats["files"] == 0 and stats["repos"] == []
    assert await bare.text_document_hover_async(hover_params("file:///tmp/x.py", (0, 0))) is None
    assert await bare.workspace_symbol_async(t.WorkspaceSymbolParams(query="")) in ([], (), None)
