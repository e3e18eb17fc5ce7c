# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""The server reads a file's line history in the background when the file is opened, so the first
hover already has it; a hover never waits for git (over stdio, with the real server)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.gitrepo import GitRepo
from tests.lsp_helpers import hover_text, open_doc, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAY = "def pay(total):\n    if total < 0:\n        total = 0\n    return charge(total)\n"


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("prefetch")
    repo = GitRepo(base / "pay")
    repo.commit("Add payments", {"pay.py": PAY, "util.py": "X = 1\n"})
    repo.commit("Hotfix: negative totals (PAY-88)", {"pay.py": PAY.replace("total = 0", "total = 0  # clamp")})
    await lsp_client.initialize_session(t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=repo.path.as_uri(),
        workspace_folders=[t.WorkspaceFolder(repo.path.as_uri(), "pay")],
        initialization_options={"cacheDir": str(base / "cache")}))
    await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    lsp_client.repo = repo.path  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def status(client: LanguageClient) -> dict[str, Any]:
    got = await client.protocol.send_request_async("lore/status", {})
    got = got if isinstance(got, dict) else got._asdict()
    hist = got["history"]
    return hist if isinstance(hist, dict) else hist._asdict()  # type: ignore[no-any-return]


async def test_opening_a_file_reads_its_history_before_any_hover(client: LanguageClient):
    pay = client.repo / "pay.py"  # type: ignore[attr-defined]
    before = await status(client)
    open_doc(client, pay, "python")
    read = await until(lambda: _read_more(client, before))
    assert read, "opening the file did not read its line history"
    text = await hover_text(client, pay, (2, 8))
    assert "Hotfix: negative totals" in text and "being read" not in text


async def _read_more(client: LanguageClient, before: dict[str, Any]) -> bool:
    now = await status(client)
    return now["prefetched"] > before["prefetched"] and now["files_read"] > before["files_read"]
