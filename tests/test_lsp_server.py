# lsprotocol results are Optional unions everywhere; the assertions below are the narrowing.
# mypy: disable-error-code="union-attr,index"
"""End-to-end tests of the language server over stdio (`python -m lsp_server`), one server per client
flavour (captured VS Code and Neovim capabilities), against a small three-repo system built in git:
a contracts repo with a .proto, an `orders` service providing it and a `billing` service calling it,
both with catalog-info.yaml. Everything goes through the real pipeline (extract, link, query)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient
from ruamel.yaml import YAML

from tests.gitrepo import GitRepo
from tests.lsp_helpers import change_doc, diagnostics, open_doc, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROTO = """syntax = "proto3";
package orders.v1;

service OrderService {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc CancelOrder(CancelOrderRequest) returns (Order) {
    option deprecated = true;
  }
}

message GetOrderRequest {
  string id = 1;
}

message CancelOrderRequest {
  string id = 1;
}

message Order {
  string id = 1;
  int64 total = 2;
}
"""

ORDERS_CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders
spec:
  type: service
  owner: team-orders
  lifecycle: production
  providesApis:
    - orders-api
"""

BILLING_CATALOG = """# billing's catalog entry (comments must survive edits)
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
spec:
  type: service
  owner: team-billing
  lifecycle: production
  dependsOn:
    - component:payments
"""

SERVER_PY = """import grpc
from orders.v1 import orders_pb2, orders_pb2_grpc


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def GetOrder(self, request, context):
        return orders_pb2.Order(id=request.id)
"""

BILLING_PY = """import grpc
from orders.v1 import orders_pb2, orders_pb2_grpc


def charge(order_id):
    channel = grpc.insecure_channel("orders:50051")
    stub = orders_pb2_grpc.OrderServiceStub(channel)
    order = stub.GetOrder(orders_pb2.GetOrderRequest(id=order_id))
    stub.CancelOrder(orders_pb2.CancelOrderRequest(id=order_id))
    return order.total
"""

GET_ORDER_CALL = (7, 20)  # billing.py: `stub.GetOrder(`
CANCEL_CALL = (8, 12)  # billing.py: `stub.CancelOrder(`
GET_ORDER_RPC = (4, 8)  # orders.proto: `rpc GetOrder`


def build_system(root: Path) -> dict[str, Path]:
    GitRepo(root / "contracts").commit("add orders proto", {"proto/orders/v1/orders.proto": PROTO})
    GitRepo(root / "orders").commit("orders service", {"catalog-info.yaml": ORDERS_CATALOG, "server.py": SERVER_PY})
    GitRepo(root / "billing").commit("billing service", {"catalog-info.yaml": BILLING_CATALOG, "billing.py": BILLING_PY})
    (root / "lore.toml").write_text("".join(f'[[repo]]\nname = "{n}"\npath = "{n}"\n' for n in ("contracts", "orders", "billing")))
    return {"root": root, "proto": root / "contracts/proto/orders/v1/orders.proto", "billing": root / "billing/billing.py",
            "server": root / "orders/server.py", "catalog": root / "billing/catalog-info.yaml"}


def uri(path: Path) -> str:
    return path.as_uri()


class Env:
    def __init__(self, client: LanguageClient, paths: dict[str, Path], flavour: str, init: t.InitializeResult):
        self.client, self.paths, self.flavour, self.init = client, paths, flavour, init
        self.registrations: list[t.Registration] = []
        self.lens_refreshes: list[int] = []


@pytest_lsp.fixture(scope="module", params=["visual-studio-code", "neovim"],
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp(f"system-{request.param}")
    paths = build_system(root / "sys")
    registrations: list[t.Registration] = []
    lens_refreshes: list[int] = []

    @lsp_client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def _register(params: t.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    @lsp_client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def _lens_refresh(params: None) -> None:
        lens_refreshes.append(1)

    params = t.InitializeParams(
        capabilities=pytest_lsp.client_capabilities(request.param),
        root_uri=uri(paths["root"]), workspace_folders=[t.WorkspaceFolder(uri(paths["root"]), "sys")],
        initialization_options={"cacheDir": str(root / "cache"), "maxHoverNotes": 12})
    init = await lsp_client.initialize_session(params)
    stats = await lsp_client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
    assert stats["links"] > 0, stats
    e = Env(lsp_client, paths, request.param, init)
    e.registrations = registrations
    e.lens_refreshes = lens_refreshes
    lsp_client.lore_env = e  # type: ignore[attr-defined]  # handed to tests by the `env` fixture
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def env(client: LanguageClient) -> Env:
    return client.lore_env  # type: ignore[attr-defined,no-any-return]


def hover_params(path: Path | str, pos: tuple[int, int]) -> t.HoverParams:
    u = path if isinstance(path, str) else uri(path)
    return t.HoverParams(t.TextDocumentIdentifier(u), t.Position(*pos))


# -- session ------------------------------------------------------------------------------------------

async def test_initialize_capabilities_and_progress(env: Env):
    caps = env.init.capabilities
    assert caps.position_encoding in (None, t.PositionEncodingKind.Utf16)  # facts are UTF-16, even for Neovim
    assert caps.hover_provider and caps.definition_provider and caps.references_provider
    assert caps.code_lens_provider is not None and caps.workspace_symbol_provider
    assert {"lore.reindex", "lore.showConsumers", "lore.showHistory", "lore.copyContext", "lore.systemMap"} <= set(caps.execute_command_provider.commands)
    reports = [v for vs in env.client.progress_reports.values() for v in vs]
    assert any(isinstance(v, t.WorkDoneProgressBegin) for v in reports)
    assert any(isinstance(v, t.WorkDoneProgressEnd) for v in reports)
    watch = [r for r in env.registrations if r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    dyn = env.client.capabilities.workspace.did_change_watched_files
    assert bool(watch) == bool(dyn and dyn.dynamic_registration)
    assert not [m for m in env.client.messages if m.type == t.MessageType.Error]
    lens_caps = env.client.capabilities.workspace.code_lens
    assert bool(env.lens_refreshes) == bool(lens_caps and lens_caps.refresh_support)


# -- hover --------------------------------------------------------------------------------------------

async def test_hover_on_proto_rpc_shows_entity_and_consumers(env: Env):
    result = await env.client.text_document_hover_async(hover_params(env.paths["proto"], GET_ORDER_RPC))
    assert result is not None and result.contents.kind == t.MarkupKind.Markdown
    text = result.contents.value
    assert "proto:orders.v1.OrderService.GetOrder" in text
    assert text.startswith("rpc `GetOrder` — provided by **orders**") and "called by **billing**" in text
    assert "**Consumers**" in text and "**Providers**" in text
    assert "](file://" in text and "billing/billing.py#L8" in text
    assert result.range is not None and result.range.start.line == GET_ORDER_RPC[0]


async def test_hover_on_usage_site(env: Env):
    result = await env.client.text_document_hover_async(hover_params(env.paths["billing"], GET_ORDER_CALL))
    assert result is not None
    text = result.contents.value
    assert "proto:orders.v1.OrderService.GetOrder" in text and text.startswith("rpc `GetOrder`")
    assert "**Service** billing" in text  # the service section


async def test_hover_where_nothing_is_known_is_empty(env: Env):
    assert await env.client.text_document_hover_async(hover_params(env.paths["billing"], (0, 0))) is None


async def test_malformed_positions_and_uris(env: Env):
    client = env.client
    far = await client.text_document_hover_async(hover_params(env.paths["billing"], (10_000, 10_000)))
    assert far is None
    assert await client.text_document_hover_async(hover_params("untitled:Untitled-1", (0, 0))) is None
    assert await client.text_document_hover_async(hover_params("file:///nowhere/x.py", (3, 1))) is None
    assert await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier("https://example.com/a.py"), t.Position(0, 0))) == []
    # the proto is not open in the editor: answered from the index all the same
    assert await client.text_document_hover_async(hover_params(env.paths["proto"], GET_ORDER_RPC)) is not None
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("lore/notAMethod", {})
    with pytest.raises(JsonRpcException):
        await client.protocol.send_request_async("lore/context", {"textDocument": {"uri": 3}})
    with pytest.raises(JsonRpcException):
        await client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.showConsumers", arguments=[1]))
    # notifications about documents the server never saw
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier("file:///never/opened.py")))
    client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier("untitled:Untitled-2")))
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams([t.FileEvent("file:///x/.git/index", t.FileChangeType.Changed)]))
    # and the server is still up
    assert await client.text_document_hover_async(hover_params(env.paths["proto"], GET_ORDER_RPC)) is not None


# -- navigation ----------------------------------------------------------------------------------------

async def test_definition_from_usage_to_contract_in_other_repo(env: Env):
    found = await env.client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri(env.paths["billing"])), t.Position(*GET_ORDER_CALL)))
    assert isinstance(found, list) and len(found) == 1
    assert found[0].uri == uri(env.paths["proto"]) and found[0].range.start.line == GET_ORDER_RPC[0]


async def test_references_of_rpc(env: Env):
    refs = await env.client.text_document_references_async(t.ReferenceParams(text_document=t.TextDocumentIdentifier(uri(env.paths["proto"])), position=t.Position(*GET_ORDER_RPC), context=t.ReferenceContext(include_declaration=True)))
    where = {(r.uri, r.range.start.line) for r in refs}
    assert (uri(env.paths["billing"]), GET_ORDER_CALL[0]) in where
    assert (uri(env.paths["server"]), 5) in where  # the servicer method
    assert (uri(env.paths["proto"]), GET_ORDER_RPC[0]) in where
    without = await env.client.text_document_references_async(t.ReferenceParams(text_document=t.TextDocumentIdentifier(uri(env.paths["proto"])), position=t.Position(*GET_ORDER_RPC), context=t.ReferenceContext(include_declaration=False)))
    assert (uri(env.paths["proto"]), GET_ORDER_RPC[0]) not in {(r.uri, r.range.start.line) for r in without}


async def test_workspace_symbols(env: Env):
    syms = await env.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="GetOrder"))
    names = {(s.name, s.kind) for s in syms}
    assert ("GetOrder", t.SymbolKind.Method) in names and ("GetOrderRequest", t.SymbolKind.Struct) in names
    assert syms[0].name == "GetOrder"
    services = await env.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="billing"))
    assert any(s.name == "billing" and s.kind == t.SymbolKind.Module for s in services)


async def test_code_lens_counts_consumers_and_runs(env: Env):
    lenses = await env.client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri(env.paths["proto"]))))
    by_line = {lens.range.start.line: lens for lens in lenses}
    rpc = by_line[GET_ORDER_RPC[0]]
    assert rpc.command.title.startswith("1 consumer in 1 repo")
    locs = await env.client.workspace_execute_command_async(t.ExecuteCommandParams(
        command=rpc.command.command, arguments=rpc.command.arguments))
    assert [(loc["uri"], loc["range"]["start"]["line"]) for loc in locs] == [(uri(env.paths["billing"]), GET_ORDER_CALL[0])]


async def test_status_request(env: Env):
    """What :checkhealth lore shows: the version, the interpreter, the workspace, the cache, the repos."""
    status = await env.client.protocol.send_request_async("lore/status", {})
    status = status if isinstance(status, dict) else status._asdict()
    assert status["version"] and status["python"] and status["last_error"] == "" and status["runs"] >= 1
    repos = [r if isinstance(r, dict) else r._asdict() for r in status["repos"]]
    assert sorted(r["name"] for r in repos) == ["billing", "contracts", "orders"] and all(r["files"] for r in repos)
    assert status["cache"] and status["files"] >= 3 and status["links"] >= 1


async def test_context_request(env: Env):
    ctx = await env.client.protocol.send_request_async("lore/context", {
        "textDocument": {"uri": uri(env.paths["billing"])}, "position": {"line": GET_ORDER_CALL[0], "character": GET_ORDER_CALL[1]}})
    ctx = ctx if isinstance(ctx, dict) else ctx._asdict()
    assert ctx["repo"] == "billing" and ctx["path"] == "billing.py" and ctx["line"] == GET_ORDER_CALL[0]
    assert "proto:orders.v1.OrderService.GetOrder" in ctx["entity_ids"]
    names = [s["name"] if isinstance(s, dict) else s.name for s in ctx["sections"]]
    assert names[:3] == ["service", "contract", "links"]
    none = await env.client.protocol.send_request_async("lore/context", {
        "textDocument": {"uri": "untitled:x"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}})
    assert none is None


# -- diagnostics, edits, code actions (these change the system: kept last, in order) --------------------

async def test_diagnostics_appear_follow_edits_and_clear(env: Env):
    client, path = env.client, env.paths["billing"]
    open_doc(client, path, "python")
    diags = await diagnostics(client, path, timeout=15.0, want=lambda ds: any(d.code == "deprecated-use" for d in ds))
    codes = {d.code for d in diags}
    assert codes == {"deprecated-use", "undeclared-dependency"}
    dep = next(d for d in diags if d.code == "deprecated-use")
    assert dep.source == "lore" and dep.range.start.line == CANCEL_CALL[0]
    assert dep.related_information and dep.related_information[0].location.uri == uri(env.paths["proto"])
    undeclared = next(d for d in diags if d.code == "undeclared-dependency")
    assert {r.location.uri for r in undeclared.related_information} == {uri(env.paths["server"]), uri(env.paths["catalog"])}
    # remove the deprecated call in the buffer (unsaved): its diagnostic goes, the others stay
    edited = BILLING_PY.replace("    stub.CancelOrder(orders_pb2.CancelOrderRequest(id=order_id))\n", "")
    change_doc(client, path, 2, edited)
    diags = await diagnostics(client, path, timeout=15.0, want=lambda ds: not any(d.code == "deprecated-use" for d in ds))
    assert {d.code for d in diags} == {"undeclared-dependency"}
    # add it back on another line: the overlay follows the text
    moved = edited.replace("    return order.total\n", "    print(order)\n    stub.CancelOrder(orders_pb2.CancelOrderRequest(id=order_id))\n    return order.total\n")
    change_doc(client, path, 3, moved)
    diags = await diagnostics(client, path, timeout=15.0, want=lambda ds: any(d.code == "deprecated-use" for d in ds))
    assert next(d for d in diags if d.code == "deprecated-use").range.start.line == 9
    hovered = await client.text_document_hover_async(hover_params(path, (9, 12)))
    assert hovered is not None and "CancelOrder" in hovered.contents.value
    change_doc(client, path, 4, BILLING_PY)
    await diagnostics(client, path, timeout=15.0, want=lambda ds: any(d.code == "deprecated-use" and d.range.start.line == 8 for d in ds))


async def test_code_actions_and_commands(env: Env):
    client, path = env.client, env.paths["billing"]
    rng = t.Range(t.Position(*GET_ORDER_CALL), t.Position(*GET_ORDER_CALL))
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(uri(path)), rng, t.CodeActionContext(diagnostics=[])))
    titles = [a.title for a in actions]
    assert "Lore: show 1 provider of proto:orders.v1.OrderService.GetOrder" in titles
    assert "Lore: show history of the selected lines" not in titles  # nothing notable happened to the line
    assert "Lore: copy system context for an AI prompt" in titles
    # lsprotocol's client-side parser reads any CodeAction carrying a command as a Command and loses its
    # arguments, so the commands are run here with the arguments the server documents: [uri, first, last]
    fix = next(a for a in actions if isinstance(a, t.CodeAction) and a.kind == t.CodeActionKind.QuickFix)
    assert fix.title == "Lore: add orders-api to spec.consumesApis in catalog-info.yaml"
    text = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.copyContext", arguments=[uri(path), GET_ORDER_CALL[0], GET_ORDER_CALL[0]]))
    assert isinstance(text, str) and text.startswith("# System context for billing/billing.py:8") and "## Contract" in text and "GetOrder" in text
    hist = await client.workspace_execute_command_async(t.ExecuteCommandParams(
        command="lore.showHistory", arguments=[uri(path), 0, 3]))
    assert isinstance(hist, str) and hist
    # apply the quick fix to the real file, save, and the undeclared-dependency diagnostic clears
    (edit_uri, edits), = fix.edit.changes.items()
    assert edit_uri == uri(env.paths["catalog"]) and len(edits) == 1
    catalog = env.paths["catalog"]
    lines = catalog.read_text().split("\n")
    pos = edits[0].range.start
    lines[pos.line] = lines[pos.line][:pos.character] + edits[0].new_text + lines[pos.line][pos.character:]
    catalog.write_text("\n".join(lines))
    doc = YAML(typ="safe").load(catalog.read_text())
    assert doc["spec"]["consumesApis"] == ["orders-api"] and doc["spec"]["dependsOn"] == ["component:payments"]
    assert catalog.read_text().startswith("# billing's catalog entry")
    if env.registrations:  # the client watches files for the server
        client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(
            [t.FileEvent(uri(catalog), t.FileChangeType.Changed)]))
    # else the server's own polling watcher notices the change
    diags = await diagnostics(client, path, timeout=15.0, want=lambda ds: not any(d.code == "undeclared-dependency" for d in ds))
    assert {d.code for d in diags} == {"deprecated-use"}


async def test_saved_edit_is_reindexed(env: Env):
    client, path = env.client, env.paths["server"]
    open_doc(client, path, "python")
    text = SERVER_PY + "\n    def CancelOrder(self, request, context):\n        return orders_pb2.Order(id=request.id)\n"
    change_doc(client, path, 2, text)
    path.write_text(text)
    client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(uri(path))))

    async def provider_found() -> bool:
        refs = await client.text_document_references_async(t.ReferenceParams(text_document=t.TextDocumentIdentifier(uri(env.paths["billing"])), position=t.Position(*CANCEL_CALL), context=t.ReferenceContext(include_declaration=False)))
        return any(r.uri == uri(path) and r.range.start.line == 8 for r in refs)

    assert await until(provider_found, 15.0)
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri(env.paths["proto"]))))
    cancel = next(lens for lens in lenses if lens.range.start.line == 5)
    assert cancel.command.title == "1 consumer in 1 repo · 1 provider"
