# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""Team notes in the editor, end to end over stdio (`python -m lsp_server`, VS Code's capabilities): the
hover shows a warning note first and says when it was re-attached after edits; "Add a note to these
lines" writes a note file (and opens it for its text); editing a warning note's lines in the buffer is an
information diagnostic; orphaned notes and files that are not notes are diagnostics on `.lore/notes/`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.gitrepo import GitRepo
from tests.lsp_helpers import change_doc, diagnostics, open_doc, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

LEDGER = """import os


class Ledger:
    def __init__(self, client):
        self.client = client

    def flush(self, batch):
        for chunk in split(batch, 100):
            self.client.write(chunk)
            self.client.sync()
        return len(batch)

    def close(self):
        self.client.close()

    def reset(self):
        self.client.reset()
"""


def note_file(anchor: str, kind: str, text: str) -> str:
    return f'kind = "{kind}"\ntext = """\n{text}\n"""\nauthor = "Ada Lovelace <ada@example.com>"\n' \
           f'created = "2024-05-01T12:00:00+00:00"\n\n[anchor]\n{anchor}\n'


WARNING = note_file('path = "ledger.py"\nlines = [8, 12]\nsymbol = "Ledger.flush"\nsymbol_kind = "method"\n'
                    'whole_symbol = true\ncode = ["    def flush(self, batch):", "        for chunk in split(batch, 100):", '
                    '"            self.client.write(chunk)", "            self.client.sync()", "        return len(batch)"]',
                    "warning", "Batches over 100 are rejected by the ledger (INC-412)")
ORPHAN = note_file('path = "ledger.py"\nlines = [20, 21]\nsymbol = "Ledger.rollback"\nsymbol_kind = "method"\n'
                   'whole_symbol = true\ncode = ["    def rollback(self):", "        self.client.rollback()"]',
                   "tip", "rollback is only safe before flush")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("notes-lsp")
    repo = GitRepo(root / "ledger")
    repo.git("config", "user.name", "Ada Lovelace")
    repo.git("config", "user.email", "ada@example.com")
    repo.commit("Ledger with notes", {"ledger.py": LEDGER, ".lore/notes/0a1b2c3d.toml": WARNING,
                                      ".lore/notes/0e0e0e0e.toml": ORPHAN,
                                      ".lore/notes/broken.toml": 'kind = "tip"\ntext = "no anchor"\n'})
    # the code moves after the notes were written: two lines above the class
    repo.commit("Header", {"ledger.py": '"""Ledger client."""\nLIMIT = 100\n' + LEDGER})
    @lsp_client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def _register(params: t.RegistrationParams) -> None:
        return None

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def _lens_refresh(params: None) -> None:
        return None

    params = t.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
                                root_uri=repo.path.as_uri(), workspace_folders=[t.WorkspaceFolder(repo.path.as_uri(), "ledger")],
                                initialization_options={"cacheDir": str(root / "cache")})
    await lsp_client.initialize_session(params)
    await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    lsp_client.repo = repo  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def hover(client: LanguageClient, path: Path, line: int, col: int = 8):
    return client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(path.as_uri()), t.Position(line, col)))


async def test_hover_shows_a_warning_note_first_and_that_it_moved(client: LanguageClient):
    path = client.repo.path / "ledger.py"  # type: ignore[attr-defined]
    result = await hover(client, path, 11)  # `self.client.write(chunk)`, two lines lower than when noted
    assert result is not None
    text = result.contents.value
    assert text.startswith("- **Team notes** Warning: Batches over 100 are rejected by the ledger (INC-412)")  # first
    assert "note re-attached: moved from line 8 (code unchanged)" in text
    assert "](file://" in text and ".lore/notes/0a1b2c3d.toml#L2" in text
    outside = await hover(client, path, 16)  # close(): no note there
    assert outside is None or "Team notes" not in outside.contents.value


async def test_note_files_get_diagnostics_for_orphans_and_bad_files(client: LanguageClient):
    folder = client.repo.path / ".lore" / "notes"  # type: ignore[attr-defined]
    orphan = await diagnostics(client, folder / "0e0e0e0e.toml", want=lambda ds: bool(ds), timeout=20)
    assert [(d.code, d.severity, d.range.start.line) for d in orphan] == [("orphaned-note", t.DiagnosticSeverity.Warning, 1)]
    assert "last seen at ledger.py:20-21 (Ledger.rollback)" in orphan[0].message and "lore note rm 0e0e0e0e" in orphan[0].message
    bad = await diagnostics(client, folder / "broken.toml", want=lambda ds: bool(ds), timeout=20)
    assert [(d.code, d.severity) for d in bad] == [("invalid-note", t.DiagnosticSeverity.Error)]
    assert "the [anchor] table is missing" in bad[0].message
    assert not client.diagnostics.get((folder / "0a1b2c3d.toml").as_uri())


async def test_editing_a_warning_notes_lines_is_an_information_diagnostic(client: LanguageClient):
    path = client.repo.path / "ledger.py"  # type: ignore[attr-defined]
    text = path.read_text()
    open_doc(client, path, "python", text)
    await diagnostics(client, path, want=lambda ds: not ds)
    change_doc(client, path, 2, text.replace("split(batch, 100)", "split(batch, 500)"))
    diags = await diagnostics(client, path, want=lambda ds: any(d.code == "edits-noted-lines" for d in ds))
    d = next(d for d in diags if d.code == "edits-noted-lines")
    assert d.severity == t.DiagnosticSeverity.Information and d.range.start.line == 10 and d.source == "lore"
    assert d.message.startswith("this edit changes lines a warning note is about: Batches over 100")
    assert d.related_information[0].location.uri.endswith("/.lore/notes/0a1b2c3d.toml")
    change_doc(client, path, 3, text.replace("    def close(self):", "    def close(self, force=False):"))
    await diagnostics(client, path, want=lambda ds: not any(d.code == "edits-noted-lines" for d in ds))
    change_doc(client, path, 4, text)
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(path.as_uri())))


async def test_add_a_note_from_the_editor(client: LanguageClient):
    repo = client.repo  # type: ignore[attr-defined]
    path = repo.path / "ledger.py"
    rng = t.Range(t.Position(15, 4), t.Position(15, 4))  # `def close(self):`
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(path.as_uri()), rng,
        t.CodeActionContext(diagnostics=[], trigger_kind=t.CodeActionTriggerKind.Invoked)))  # asked for: any line
    assert "Lore: add a note to these lines" in [a.title for a in actions]
    made = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.addNote", arguments=[path.as_uri(), 15, 15, "close twice is harmless", "tip"]))
    assert made["lines"] == [16, 17] and made["symbol"] == "Ledger.close"
    note = repo.path / made["path"]
    assert note.is_file() and 'text = """\nclose twice is harmless\n"""' in note.read_text()
    assert 'author = "Ada Lovelace <ada@example.com>"' in note.read_text()

    async def noted():
        got = await hover(client, path, 16)
        return got if got is not None and "close twice is harmless" in got.contents.value else None

    assert await until(noted, timeout=20)
    # without a text: the note file is written for the user to fill in, opened in the editor, and is
    # reported as not yet a note until its text is written
    empty = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.addNote", arguments=[path.as_uri(), 19, 19]))
    async def opened():
        return client.shown_documents  # pytest-lsp's client records window/showDocument

    assert await until(opened, timeout=10)
    assert client.shown_documents[-1].uri == empty["uri"] and client.shown_documents[-1].take_focus
    pending = Path(empty["uri"].removeprefix("file://"))
    diags = await diagnostics(client, pending, want=lambda ds: bool(ds), timeout=20)
    assert diags[0].code == "invalid-note" and "text is empty" in diags[0].message
    with pytest.raises(JsonRpcException, match="kind must be one of"):
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="lore.addNote", arguments=[path.as_uri(), 1, 1, "x", "gossip"]))
