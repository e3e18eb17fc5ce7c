# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""Breaking-change detection in the editor, end to end over stdio under the VS Code and Neovim
capability profiles: a contracts repo (a committed .proto and OpenAPI spec) and a consumer repo whose
Python code calls an rpc and sets a request field (linked by the real code extractor). Edits to the open
contract buffer raise diagnostics naming the consumers; the quick fixes' edits, applied to the buffer,
clear them."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from tests import lsp_helpers
from tests.gitrepo import GitRepo
from tests.lsp_helpers import diagnostics, open_doc

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROTO = """syntax = "proto3";
package shop.cart.v1;

service CartService {
  rpc GetCart(GetCartRequest) returns (Cart);
  rpc EmptyCart(GetCartRequest) returns (Cart);
}

message GetCartRequest {
  string user_id = 1;
  int32 page = 2;
}

message Cart {
  string id = 1;
}
"""

OPENAPI = """openapi: 3.0.3
info:
  title: Carts
  version: "1"
paths:
  /carts/{id}:
    get:
      operationId: getCart
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
    delete:
      operationId: deleteCart
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "204": {description: gone}
"""

CHECKOUT_PY = """from shop.cart.v1 import cart_pb2
from shop.cart.v1 import cart_pb2_grpc as carts


class Checkout:
    def __init__(self, channel):
        self.cart = carts.CartServiceStub(channel)

    def place(self, user_id):
        self.cart.EmptyCart(cart_pb2.GetCartRequest(user_id=user_id))
        return self.cart.GetCart(cart_pb2.GetCartRequest(user_id=user_id))
"""

BREAKING = {"FIELD_NO_DELETE", "RPC_NO_DELETE", "api-removed-without-deprecation"}


@pytest_lsp.fixture(scope="module", params=["visual-studio-code", "neovim"],
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp(f"breaking-{request.param}")
    ws = base / "ws"
    GitRepo(ws / "contracts").commit("cart api", {"proto/cart.proto": PROTO, "api/openapi.yaml": OPENAPI})
    GitRepo(ws / "checkout").commit("checkout", {"checkout.py": CHECKOUT_PY})
    (ws / "lore.toml").write_text('[[repo]]\npath = "contracts"\n\n[[repo]]\npath = "checkout"\n')
    params = t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities(request.param), root_uri=ws.as_uri(),
        workspace_folders=[t.WorkspaceFolder(ws.as_uri(), "ws")], initialization_options={"cacheDir": str(base / "cache")})
    await lsp_client.initialize_session(params)
    stats = await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    assert stats["links"] >= 3, stats
    lsp_client.ws = ws  # type: ignore[attr-defined]
    lsp_client.versions = itertools.count(2)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def ws(client: LanguageClient) -> Path:
    return client.ws  # type: ignore[attr-defined,no-any-return]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if needle in line)


def change_doc(client: LanguageClient, path: Path, text: str) -> None:
    """A whole-document change with the next version number (kept on the client for the edits' checks)."""
    version = client.version = next(client.versions)  # type: ignore[attr-defined]
    lsp_helpers.change_doc(client, path, version, text)


def has(code: str) -> Callable[[list[t.Diagnostic]], bool]:
    return lambda ds: any(d.code == code for d in ds)


def clean(ds: list[t.Diagnostic]) -> bool:
    return not any(d.code in BREAKING for d in ds)


def apply(text: str, edits: list[t.TextEdit]) -> str:
    """The text with LSP edits applied (ASCII text: UTF-16 columns are character offsets)."""
    offsets = list(itertools.accumulate((len(ln) + 1 for ln in text.split("\n")), initial=0))
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        a = offsets[e.range.start.line] + e.range.start.character
        b = offsets[e.range.end.line] + e.range.end.character
        text = text[:a] + e.new_text + text[b:]
    return text


async def fixes(client: LanguageClient, path: Path, diag: t.Diagnostic) -> dict[str, t.CodeAction]:
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(path.as_uri()), diag.range, t.CodeActionContext(diagnostics=[diag])))
    out = {}
    for a in actions or []:
        if isinstance(a, t.CodeAction) and a.kind == t.CodeActionKind.QuickFix and list(a.diagnostics or []) == [diag]:
            assert [target for target, _ in edits_of(a, client)] == [path.as_uri()]
            out[a.title.split()[1]] = a  # "Lore: Reserve number ..." -> "Reserve"
    return out


def edits_of(action: t.CodeAction, client: LanguageClient) -> list[tuple[str, list[t.TextEdit]]]:
    """The action's edits per URI: versioned documentChanges for a client that takes them (VS Code),
    plain changes otherwise (the Neovim profile)."""
    ws_caps = client.capabilities.workspace
    if ws_caps and ws_caps.workspace_edit and ws_caps.workspace_edit.document_changes:
        assert action.edit.changes is None
        out = []
        for dc in action.edit.document_changes:
            assert isinstance(dc, t.TextDocumentEdit) and dc.text_document.version == client.version  # type: ignore[attr-defined]
            out.append((dc.text_document.uri, [e for e in dc.edits if isinstance(e, t.TextEdit)]))
        return out
    assert action.edit.document_changes is None
    return [(u, list(es)) for u, es in action.edit.changes.items()]


def fixed_text(text: str, client: LanguageClient, action: t.CodeAction) -> str:
    (_, edits), = edits_of(action, client)
    return apply(text, edits)


async def test_deleting_a_used_field_errors_and_reserving_it_clears(client: LanguageClient, ws: Path):
    proto = ws / "contracts/proto/cart.proto"
    open_doc(client, proto, "proto")
    await diagnostics(client, proto, clean)
    deleted = PROTO.replace("  string user_id = 1;\n", "")
    change_doc(client, proto, deleted)
    diags = await diagnostics(client, proto, has("FIELD_NO_DELETE"))
    diag = next(d for d in diags if d.code == "FIELD_NO_DELETE")
    assert diag.source == "lore" and diag.severity == t.DiagnosticSeverity.Error
    assert diag.range.start.line == line_of(PROTO, "string user_id")  # the deletion point in the buffer
    assert "user_id" in diag.message and "breaks 1 consumer: checkout (checkout/checkout.py:10, checkout/checkout.py:11)" in diag.message
    related = {(r.location.uri, r.location.range.start.line) for r in diag.related_information}
    assert (ws.joinpath("checkout/checkout.py").as_uri(), 9) in related
    assert (proto.as_uri(), line_of(PROTO, "string user_id")) in related  # the element at the base
    actions = await fixes(client, proto, diag)
    assert set(actions) == {"Reserve", "Keep", "Restore"} and actions["Reserve"].is_preferred
    reserved = fixed_text(deleted, client, actions["Reserve"])
    assert 'reserved 1;' in reserved and 'reserved "user_id";' in reserved
    change_doc(client, proto, reserved)
    await diagnostics(client, proto, lambda ds: not has("FIELD_NO_DELETE")(ds))
    change_doc(client, proto, PROTO)
    await diagnostics(client, proto, clean)


async def test_deleting_a_used_rpc_then_deprecating_or_restoring_it(client: LanguageClient, ws: Path):
    proto = ws / "contracts/proto/cart.proto"
    deleted = PROTO.replace("  rpc EmptyCart(GetCartRequest) returns (Cart);\n", "")
    change_doc(client, proto, deleted)
    diags = await diagnostics(client, proto, has("RPC_NO_DELETE"))
    diag = next(d for d in diags if d.code == "RPC_NO_DELETE")
    assert diag.severity == t.DiagnosticSeverity.Error and "EmptyCart" in diag.message
    assert "checkout (checkout/checkout.py:10)" in diag.message
    assert diag.range.start.line == line_of(PROTO, "rpc EmptyCart")
    actions = await fixes(client, proto, diag)
    assert set(actions) == {"Keep", "Restore"} and "deprecated" in actions["Keep"].title
    deprecated = fixed_text(deleted, client, actions["Keep"])
    assert "rpc EmptyCart(GetCartRequest) returns (Cart) { option deprecated = true; }" in deprecated
    change_doc(client, proto, deprecated)
    await diagnostics(client, proto, clean)

    change_doc(client, proto, deleted)
    diag = next(d for d in await diagnostics(client, proto, has("RPC_NO_DELETE")) if d.code == "RPC_NO_DELETE")
    restored = fixed_text(deleted, client, (await fixes(client, proto, diag))["Restore"])
    assert restored == PROTO
    change_doc(client, proto, restored)
    await diagnostics(client, proto, clean)


async def test_code_actions_elsewhere_offer_no_breaking_fix(client: LanguageClient, ws: Path):
    proto = ws / "contracts/proto/cart.proto"
    deleted = PROTO.replace("  string user_id = 1;\n", "")
    change_doc(client, proto, deleted)
    await diagnostics(client, proto, has("FIELD_NO_DELETE"))
    line = line_of(deleted, "string id = 1")
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(proto.as_uri()), t.Range(t.Position(line, 0), t.Position(line, 0)), t.CodeActionContext(diagnostics=[])))
    assert not [a for a in actions or [] if isinstance(a, t.CodeAction) and a.kind == t.CodeActionKind.QuickFix]
    change_doc(client, proto, PROTO)
    await diagnostics(client, proto, clean)


async def test_an_accepted_deletion_is_not_reported(client: LanguageClient, ws: Path):
    proto = ws / "contracts/proto/cart.proto"
    deleted = PROTO.replace("  int32 page = 2;\n", "")
    change_doc(client, proto, deleted)
    await diagnostics(client, proto, has("FIELD_NO_DELETE"))
    accepted = deleted.replace("message GetCartRequest {", "// lore:ignore FIELD_NO_DELETE nobody sets page\nmessage GetCartRequest {")
    change_doc(client, proto, accepted)
    await diagnostics(client, proto, clean)
    change_doc(client, proto, PROTO)
    await diagnostics(client, proto, clean)


async def test_removing_an_openapi_operation_and_undoing(client: LanguageClient, ws: Path):
    spec = ws / "contracts/api/openapi.yaml"
    open_doc(client, spec, "yaml")
    await diagnostics(client, spec, clean)
    start = OPENAPI.index("    delete:\n")
    removed = OPENAPI[:start]
    change_doc(client, spec, removed)
    diags = await diagnostics(client, spec, has("api-removed-without-deprecation"))
    diag = next(d for d in diags if d.code == "api-removed-without-deprecation")
    assert "DELETE /carts/{id}" in diag.message and diag.severity == t.DiagnosticSeverity.Warning
    assert "no known consumers" in diag.message
    change_doc(client, spec, OPENAPI)
    await diagnostics(client, spec, clean)
