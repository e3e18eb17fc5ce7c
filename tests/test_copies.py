"""One contract, many copies: vendored protos and specs are copies of one contract (links, hovers and
`lore check` see every copy), drift between copies is a finding, same-named specs are different APIs, a
package spread over files is normal. Each fixture system is built in both layouts where it matters
(one repo per service, and one monorepo) and checked through the CLI; the LSP test checks the hover and
the drift diagnostic over stdio."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig

from tests.cli_helpers import lore
from tests.gitrepo import GitRepo
from tests.lsp_helpers import diagnostics, open_doc, until

CART_PROTO = """syntax = "proto3";

package shop.cart.v1;

option go_package = "{gopkg}";

// {comment}
service CartService {{
  rpc GetCart(GetCartRequest) returns (Cart);
  rpc AddItem(AddItemRequest) returns (Cart);{extra}
}}

message GetCartRequest {{
  string user_id = 1;
}}

message AddItemRequest {{
  string user_id = 1;
  string product_id = 2;
}}

message UpdateQuantityRequest {{
  string user_id = 1;
  int32 quantity = 2;
}}

message Cart {{
  string user_id = 1;
  repeated string items = 2;
}}
"""
UPDATE = "\n  rpc UpdateQuantity(UpdateQuantityRequest) returns (Cart);"
CANONICAL_PKG = "github.com/acme/contracts/gen/go/shop/cart/v1;cartv1"
VENDORED_PKG = "github.com/acme/cart-service/gen/cartv1;cartv1"

CART_SERVER = """package server

import (
	"context"

	cartv1 "github.com/acme/cart-service/gen/cartv1"
)

type CartServer struct {
	cartv1.UnimplementedCartServiceServer
}

func (s *CartServer) GetCart(ctx context.Context, req *cartv1.GetCartRequest) (*cartv1.Cart, error) {
	return &cartv1.Cart{UserId: req.GetUserId()}, nil
}

func (s *CartServer) AddItem(ctx context.Context, req *cartv1.AddItemRequest) (*cartv1.Cart, error) {
	return &cartv1.Cart{UserId: req.GetUserId()}, nil
}
"""
CHECKOUT_CLIENT = """import grpc

from shop.cart.v1 import cart_pb2, cart_pb2_grpc


def load(user_id: str):
    stub = cart_pb2_grpc.CartServiceStub(grpc.insecure_channel("cart:50051"))
    cart = stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id))
    stub.UpdateQuantity(cart_pb2.UpdateQuantityRequest(user_id=user_id, quantity=0))
    return cart
"""



def graph(tmp_path: Path, ws: Path) -> dict[str, Any]:
    return json.loads(lore(tmp_path, "graph", str(ws), "--json").stdout)


def links(doc: dict[str, Any], entity: str) -> set[tuple[str, str, str, int]]:
    return {(lk["role"], lk["repo"], lk["path"], lk["range"]["start_line"] + 1) for lk in doc["links"] if lk["entity"] == entity}


def cart_system(root: Path, layout: str, *, copy_extra: str = UPDATE) -> dict[str, tuple[GitRepo, str]]:
    """contracts (canonical proto), cart-service (a vendored copy with another go_package, and the Go
    server), checkout (a Python client). `copy_extra`: what the copy declares beyond GetCart/AddItem."""
    files = {
        "contracts": {"proto/shop/cart/v1/cart.proto": CART_PROTO.format(gopkg=CANONICAL_PKG, comment="Carts.", extra=UPDATE)},
        "cart-service": {"proto/cart.proto": CART_PROTO.format(gopkg=VENDORED_PKG, comment="Vendored copy.", extra=copy_extra),
                         "internal/server/cart.go": CART_SERVER},
        "checkout": {"checkout/cart_client.py": CHECKOUT_CLIENT},
    }
    repos: dict[str, tuple[GitRepo, str]] = {}
    if layout == "split":
        for name, content in files.items():
            repo = GitRepo(root / name)
            repo.commit(f"{name}: initial", content)
            repos[name] = (repo, "")
        (root / "lore.toml").write_text("".join(f'[[repo]]\npath = "{n}"\n' for n in files))
    else:
        mono = GitRepo(root / "shop")
        mono.commit("initial", {f"{name}/{p}": c for name, content in files.items() for p, c in content.items()})
        repos = {name: (mono, f"{name}/") for name in files}
    return repos


def site(repos: dict[str, tuple[GitRepo, str]], name: str, path: str) -> tuple[str, str]:
    repo, prefix = repos[name]
    return repo.path.name, prefix + path


GET_CART = "proto:shop.cart.v1.CartService.GetCart"
UPDATE_QTY = "proto:shop.cart.v1.CartService.UpdateQuantity"


@pytest.mark.parametrize("layout", ["split", "mono"])
def test_a_vendored_copy_that_differs_only_in_options_is_one_contract(tmp_path: Path, layout: str) -> None:
    repos = cart_system(tmp_path / "ws", layout)
    ws = tmp_path / "ws" if layout == "split" else repos["contracts"][0].path
    doc = graph(tmp_path, ws)
    assert doc["conflicts"] == []
    server = site(repos, "cart-service", "internal/server/cart.go")
    client = site(repos, "checkout", "checkout/cart_client.py")
    assert links(doc, GET_CART) == {("provides", *server, 13), ("consumes", *client, 8)}
    assert links(doc, UPDATE_QTY) == {("consumes", *client, 9)}
    (grp,) = [g for g in doc["copies"] if g["id"] == GET_CART]
    canonical = site(repos, "contracts", "proto/shop/cart/v1/cart.proto")
    assert (grp["canonical"]["repo"], grp["canonical"]["path"]) == canonical
    assert [(c["repo"], c["path"]) for c in grp["copies"]] == [site(repos, "cart-service", "proto/cart.proto")]
    assert grp["drift"] == []
    # the provider resolved through the vendored copy its import names
    (provider,) = [lk for lk in doc["links"] if lk["entity"] == GET_CART and lk["role"] == "provides"]
    assert provider["copy"] == "/".join(site(repos, "cart-service", "proto/cart.proto"))
    # the hover at the call site names the canonical declaration and the copy
    repo_dir = repos["checkout"][0].path
    ctx = json.loads(lore(tmp_path, "context", f"{repo_dir}/{client[1]}:8", "--json").stdout)
    contract = next(s for s in ctx["sections"] if s["name"] == "contract")
    texts = [n["text"] for n in contract["notes"]]
    assert texts[0].startswith(GET_CART + ": rpc GetCart(GetCartRequest) returns (Cart)")
    assert texts[1] == ("canonical declaration (in a contracts repo or folder); 1 copy: "
                        + "/".join(site(repos, "cart-service", "proto/cart.proto")) + ":9"), texts


@pytest.mark.parametrize("layout", ["split", "mono"])
def test_deleting_an_rpc_from_one_copy_is_found_with_its_consumers(tmp_path: Path, layout: str) -> None:
    repos = cart_system(tmp_path / "ws", layout)
    contracts, prefix = repos["contracts"]
    proto = contracts.path / prefix / "proto/shop/cart/v1/cart.proto"
    proto.write_text(proto.read_text().replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""))
    out = lore(tmp_path, "check", str(contracts.path / prefix), "--format", "json", check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    findings = [f for r in json.loads(out.stdout)["results"] for f in r["findings"]]
    (deleted,) = [f for f in findings if f["rule"] == "RPC_NO_DELETE"]
    assert deleted["entity"] == GET_CART and deleted["severity"] == "error"
    assert {(c["repo"], c["path"], c["line"] + 1) for c in deleted["consumers"]} == {
        (*site(repos, "checkout", "checkout/cart_client.py"), 8)}


@pytest.mark.parametrize("layout", ["split", "mono"])
def test_a_drifted_copy_is_a_finding_and_still_links(tmp_path: Path, layout: str) -> None:
    repos = cart_system(tmp_path / "ws", layout, copy_extra="")  # the copy predates UpdateQuantity
    ws = tmp_path / "ws" if layout == "split" else repos["contracts"][0].path
    doc = graph(tmp_path, ws)
    assert doc["conflicts"] == []
    server = site(repos, "cart-service", "internal/server/cart.go")
    client = site(repos, "checkout", "checkout/cart_client.py")
    assert links(doc, GET_CART) == {("provides", *server, 13), ("consumes", *client, 8)}
    assert links(doc, UPDATE_QTY) == {("consumes", *client, 9)}
    copy_site = site(repos, "cart-service", "proto/cart.proto")
    (svc,) = [g for g in doc["copies"] if g["id"] == "proto:shop.cart.v1.CartService"]
    (drift,) = svc["drift"]
    assert (drift["repo"], drift["path"]) == copy_site
    assert drift["differences"] == [f"{'/'.join(copy_site)}:8 lacks rpc UpdateQuantity "
                                    f"(declared in {'/'.join(site(repos, 'contracts', 'proto/shop/cart/v1/cart.proto'))}:8)"]
    # lore check: pre-existing drift does not fail a change that does not touch it
    cs, prefix = repos["cart-service"]
    assert lore(tmp_path, "check", str(cs.path / prefix), check=False).returncode == 0
    # the hover on the copy's service says it drifted
    ctx = lore(tmp_path, "context", f"{cs.path}/{copy_site[1]}:8").stdout
    assert "drift: this copy differs from the canonical declaration: " in ctx and "lacks rpc UpdateQuantity" in ctx
    # a change that makes a copy drift (the canonical adds an rpc) is noted, not a failure
    contracts, cprefix = repos["contracts"]
    proto = contracts.path / cprefix / "proto/shop/cart/v1/cart.proto"
    proto.write_text(proto.read_text().replace(UPDATE, UPDATE + "\n  rpc Clear(GetCartRequest) returns (Cart);"))
    out = lore(tmp_path, "check", str(contracts.path / cprefix), "--format", "json", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    findings = [f for r in json.loads(out.stdout)["results"] for f in r["findings"]]
    notes = [f for f in findings if f["rule"] == "COPY_DRIFT"]
    assert len(notes) == 1 and notes[0]["severity"] == "note" and "lacks rpc Clear" in notes[0]["message"]


def test_an_sdk_copy_of_three_packages_is_one_contract_each(tmp_path: Path) -> None:
    protos = {pkg: (f'syntax = "proto3";\n\npackage acme.{pkg}.v1;\n\nservice {pkg.title()}Service {{\n'
                    f'  rpc Get{pkg.title()}(Get{pkg.title()}Request) returns (Get{pkg.title()}Request);\n}}\n\n'
                    f'message Get{pkg.title()}Request {{\n  string id = 1;\n}}\n') for pkg in ("billing", "ledger", "payout")}
    api = GitRepo(tmp_path / "ws" / "api")
    api.commit("protos", {f"proto/acme/{p}/v1/{p}.proto": text for p, text in protos.items()})
    sdk = GitRepo(tmp_path / "ws" / "sdk")
    sdk.commit("sdk with its copy of the protos", {
        **{f"sdk/protos/acme/{p}/v1/{p}.proto": text for p, text in protos.items()},
        "sdk/client.py": "".join(f"from acme.{p}.v1 import {p}_pb2_grpc\n" for p in protos) + "\n\ndef run(ch):\n"
                         + "".join(f"    {p}_pb2_grpc.{p.title()}ServiceStub(ch).Get{p.title()}(None)\n" for p in protos),
    })
    (tmp_path / "ws" / "lore.toml").write_text('[[repo]]\npath = "api"\n[[repo]]\npath = "sdk"\n')
    doc = graph(tmp_path, tmp_path / "ws")
    assert doc["conflicts"] == []
    for i, p in enumerate(protos):
        rpc = f"proto:acme.{p}.v1.{p.title()}Service.Get{p.title()}"
        assert links(doc, rpc) == {("consumes", "sdk", "sdk/client.py", 7 + i)}
        (grp,) = [g for g in doc["copies"] if g["id"] == rpc]
        assert grp["canonical"] == {"repo": "api", "path": f"proto/acme/{p}/v1/{p}.proto", "line": 5}
        assert grp["drift"] == []
    # the hover at a call: the canonical declaration, its copy, and the copy this call goes through
    ledger_rpc = "proto:acme.ledger.v1.LedgerService.GetLedger"
    ctx = json.loads(lore(tmp_path, "context", f"{sdk.path}/sdk/client.py:8", "--json").stdout)
    contract = next(s for s in ctx["sections"] if s["name"] == "contract")
    texts = [n["text"] for n in contract["notes"]]
    assert texts[0].startswith(f"{ledger_rpc}: rpc GetLedger(GetLedgerRequest)")
    assert contract["notes"][0]["source"] == "api/proto/acme/ledger/v1/ledger.proto:6"
    assert texts[1] == "canonical declaration (in a contracts repo or folder); 1 copy: sdk/sdk/protos/acme/ledger/v1/ledger.proto:6"
    assert texts[2].startswith("this line consumes it (") and texts[2].endswith(
        "; through the copy in sdk/sdk/protos/acme/ledger/v1/ledger.proto)")
    # deleting the rpc from the API's declaration: reported, with the SDK call that uses it (its copy agreed)
    proto = api.path / "proto/acme/ledger/v1/ledger.proto"
    proto.write_text(proto.read_text().replace("  rpc GetLedger(GetLedgerRequest) returns (GetLedgerRequest);\n", ""))
    out = lore(tmp_path, "check", str(api.path), "--format", "json", check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    findings = [f for r in json.loads(out.stdout)["results"] for f in r["findings"]]
    (deleted,) = [f for f in findings if f["rule"] == "RPC_NO_DELETE"]
    assert deleted["entity"] == ledger_rpc and deleted["severity"] == "error"
    assert [(c["repo"], c["path"], c["line"] + 1) for c in deleted["consumers"]] == [("sdk", "sdk/client.py", 8)]
    assert "consumers: (no service) (sdk/sdk/client.py:8)" in lore(tmp_path, "check", str(api.path), check=False).stdout


@pytest.mark.parametrize("layout", ["split", "mono"])
def test_five_services_each_with_openapi_yml_are_five_apis(tmp_path: Path, layout: str) -> None:
    names = ("orders", "carts", "users", "payments", "shipping")

    def spec(name: str) -> str:
        return (f"openapi: 3.0.3\ninfo:\n  title: {name.title()} API\n  version: 1.0.0\npaths:\n"
                f"  /{name}/{{id}}:\n    get:\n      operationId: get{name.title()}\n      responses:\n        '200':\n"
                f"          description: ok\n  /health:\n    get:\n      responses:\n        '200':\n          description: ok\n")

    def app(name: str) -> str:
        return (f'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/{name}/{{item_id}}")\n'
                f"def get_one(item_id: str) -> dict:\n    return {{}}\n")

    web = ('export async function load(id: string) {\n'
           '  const a = await fetch(`/orders/${id}`);\n'
           '  const b = await fetch(`/payments/${id}`);\n'
           '  return [a, b];\n}\n')
    root = tmp_path / "ws"
    if layout == "split":
        for n in names:
            GitRepo(root / n).commit("service", {"openapi.yml": spec(n), "app/main.py": app(n)})
        GitRepo(root / "web").commit("web", {"src/api.ts": web})
        (root / "lore.toml").write_text("".join(f'[[repo]]\npath = "{n}"\n' for n in (*names, "web")))
        ws, where = root, {n: (n, "") for n in names}
        web_site = ("web", "src/api.ts")
    else:
        mono = GitRepo(root / "mono")
        mono.commit("all", {**{f"services/{n}/openapi.yml": spec(n) for n in names},
                            **{f"services/{n}/app/main.py": app(n) for n in names}, "web/src/api.ts": web})
        ws, where = mono.path, {n: ("mono", f"services/{n}/") for n in names}
        web_site = ("mono", "web/src/api.ts")
    doc = graph(tmp_path, ws)
    assert doc["conflicts"] == []
    apis = {e["attrs"]["api"] for e in doc["entities"] if e["kind"] == "openapi.api"}
    assert len(apis) == 5
    ops = {}
    for n in names:
        (op,) = [e for e in doc["entities"] if e["kind"] == "openapi.operation" and e["attrs"]["path"] == f"/{n}/{{id}}"]
        ops[n] = op["id"]
        repo, prefix = where[n]
        assert (op["repo"], op["path"]) == (repo, f"{prefix}openapi.yml")
        assert ("provides", repo, f"{prefix}app/main.py", 6) in links(doc, op["id"])
        if n in ("orders", "payments"):
            assert ("consumes", *web_site, 2 if n == "orders" else 3) in links(doc, op["id"])
    # the hover at the web client's call names the one API it calls, its spec and its provider
    web_file = (ws / web_site[1]) if layout == "mono" else (root / "web" / web_site[1])
    payments_op = ops["payments"]  # its service folder in the monorepo, its info.title at a repo's root
    assert payments_op == ("openapi:payments-api:GET /payments/{id}" if layout == "split" else "openapi:payments:GET /payments/{id}")
    repo, prefix = where["payments"]
    ctx = json.loads(lore(tmp_path, "context", f"{web_file}:3", "--json").stdout)
    contract = next(s for s in ctx["sections"] if s["name"] == "contract")
    assert [(n["text"], n["source"]) for n in contract["notes"]] == [
        (f"{payments_op}: GET /payments/{{id}}, operationId getPayments", f"{repo}/{prefix}openapi.yml:7"),
        ("this line consumes it (http.call GET /payments/{})", f"{web_site[0]}/{web_site[1]}:3")]
    links_sec = next(s for s in ctx["sections"] if s["name"] == "links")
    assert f"provider: (no service) in {repo}: {repo}/{prefix}app/main.py:6" in [n["text"] for n in links_sec["notes"]]
    # deleting the operation from one service's openapi.yml: reported against that API, with the web call
    spec_file = (ws / f"{prefix}openapi.yml") if layout == "mono" else (root / "payments" / "openapi.yml")
    spec_file.write_text(spec_file.read_text().replace(
        "  /payments/{id}:\n    get:\n      operationId: getPayments\n      responses:\n        '200':\n"
        "          description: ok\n", ""))
    out = lore(tmp_path, "check", str(spec_file.parent), "--format", "json", check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    findings = [f for r in json.loads(out.stdout)["results"] for f in r["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["entity"]) for f in findings] == [("api-removed-without-deprecation", payments_op)]
    assert [(c["repo"], c["path"], c["line"] + 1) for c in findings[0]["consumers"]] == [(*web_site, 3)]


TIED_PROTO = """syntax = "proto3";

package shop.cart.v1;

service CartService {{
  rpc GetCart(GetCartRequest) returns (Cart);
}}

message GetCartRequest {{
  {user_id_type} user_id = 1;
}}

message Cart {{
  repeated string items = 1;
}}
"""
WHAT_TO_DO = ("exclude the copy that is not the contract ([index] exclude in lore.toml), or name the definition in a "
              "catalog API entity (catalog-info.yaml, kind: API, spec.definition)")


def tied_system(root: Path) -> None:
    """Two services each declaring shop.cart.v1 in a contracts-like folder, one with `string user_id`, the
    other with `int64 user_id`: two shapes, one each, equally placed: nothing decides which is the contract."""
    GitRepo(root / "orders").commit("orders", {"proto/cart.proto": TIED_PROTO.format(user_id_type="string")})
    GitRepo(root / "billing").commit("billing", {"api/cart.proto": TIED_PROTO.format(user_id_type="int64")})
    GitRepo(root / "checkout").commit("client", {"checkout/cart_client.py": CHECKOUT_CLIENT})
    (root / "lore.toml").write_text("".join(f'[[repo]]\npath = "{n}"\n' for n in ("orders", "billing", "checkout")))


def test_a_conflict_that_remains_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    tied_system(root)
    out = lore(tmp_path, "index", str(root)).stdout
    field = "proto:shop.cart.v1.GetCartRequest.user_id"
    assert (f"  note: conflict {field}: declared differently in billing/api/cart.proto:10, orders/proto/cart.proto:10 "
            f"and none can be preferred; to resolve: {WHAT_TO_DO}") in out.splitlines()
    assert "  note: conflict proto:shop.cart.v1.GetCartRequest: declared differently in billing/api/cart.proto:9, " \
           "orders/proto/cart.proto:9" in out
    # at the declaration, and at the call site that uses the field
    for where in (f"{root}/orders/proto/cart.proto:10", f"{root}/checkout/checkout/cart_client.py:8"):
        ctx = json.loads(lore(tmp_path, "context", where, "--json").stdout)
        contract = next(s for s in ctx["sections"] if s["name"] == "contract")
        conflicts = {n["text"]: n["data"]["declarations"] for n in contract["notes"] if n["kind"] == "conflict"}
        assert conflicts[('conflict: 2 declarations differ and none can be preferred (type: "int64" in '
                          'billing/api/cart.proto:10 vs "string" in orders/proto/cart.proto:10); to resolve: '
                          + WHAT_TO_DO)] == ["billing/api/cart.proto:10", "orders/proto/cart.proto:10"]
    # the rpc, the same in both, is not a conflict: the call still links to it
    doc = graph(tmp_path, root)
    assert {c["id"] for c in doc["conflicts"]} == {field, "proto:shop.cart.v1.GetCartRequest"}
    assert ("consumes", "checkout", "checkout/cart_client.py", 8) in links(doc, GET_CART)
    # doing what it says: excluding the copy that is not the contract ends the conflict
    (root / "lore.toml").write_text((root / "lore.toml").read_text() + '[index]\nexclude = ["api/cart.proto"]\n')
    out = lore(tmp_path, "index", str(root)).stdout
    assert "conflict" not in out
    assert graph(tmp_path, root)["conflicts"] == []


def test_a_package_spread_over_files_is_normal(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    repo.commit("protos", {
        "proto/shop/v1/cart.proto": 'syntax = "proto3";\n\npackage shop.v1;\n\nservice CartService {\n  rpc GetCart(Id) returns (Id);\n}\n',
        "proto/shop/v1/ids.proto": 'syntax = "proto3";\n\npackage shop.v1;\n\nmessage Id {\n  string value = 1;\n}\n',
        "client.py": "from shop.v1 import cart_pb2_grpc\n\n\ndef run(ch):\n    cart_pb2_grpc.CartServiceStub(ch).GetCart(None)\n",
    })
    doc = graph(tmp_path, repo.path)
    assert doc["conflicts"] == [] and doc["copies"] == []
    assert links(doc, "proto:shop.v1.CartService.GetCart") == {("consumes", "shop", "client.py", 5)}


async def test_hover_and_drift_diagnostic_over_lsp(tmp_path: Path) -> None:
    repos = cart_system(tmp_path / "ws", "split", copy_extra="")
    ws = tmp_path / "ws"
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=ws.as_uri(), workspace_folders=[t.WorkspaceFolder(ws.as_uri(), "ws")]))
        call = repos["checkout"][0].path / "checkout/cart_client.py"
        open_doc(client, call, "python")

        async def hover_text() -> str:
            h = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(call.as_uri()), t.Position(7, 16)))
            return h.contents.value if h is not None and isinstance(h.contents, t.MarkupContent) else ""

        text = await until(hover_text, timeout=30)
        assert "GetCart" in text and "canonical declaration" in text and "cart-service/proto/cart.proto" in text
        copy = repos["cart-service"][0].path / "proto/cart.proto"
        open_doc(client, copy, "proto")
        diags = await diagnostics(client, copy, lambda ds: any(d.code == "copy-drift" for d in ds), timeout=30)
        (drift,) = [d for d in diags if d.code == "copy-drift"]
        assert drift.range.start.line == 7 and "lacks rpc UpdateQuantity" in drift.message
    finally:
        await client.shutdown_session()


async def test_conflict_diagnostic_and_hover_over_lsp(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    tied_system(ws)
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=ws.as_uri(), workspace_folders=[t.WorkspaceFolder(ws.as_uri(), "ws")]))
        # the declaration the others are shown against (billing's, first by repo): one diagnostic per entity in conflict
        decl = ws / "billing/api/cart.proto"
        open_doc(client, decl, "proto")
        diags = await diagnostics(client, decl, lambda ds: len([d for d in ds if d.code == "copy-conflict"]) == 2, timeout=30)
        by_line = {d.range.start.line: d for d in diags if d.code == "copy-conflict"}
        assert set(by_line) == {8, 9}
        field = by_line[9]
        assert field.message == ("proto:shop.cart.v1.GetCartRequest.user_id is declared differently in 2 places and none can "
                                 f"be preferred; to resolve: {WHAT_TO_DO}")
        assert field.severity == t.DiagnosticSeverity.Warning
        assert [(r.message, r.location.uri, r.location.range.start.line) for r in field.related_information or []] == [
            ("another declaration", (ws / "orders/proto/cart.proto").as_uri(), 9)]
        # the hover on the other declaration says so, with what to do
        other = ws / "orders/proto/cart.proto"
        open_doc(client, other, "proto")

        async def hover_text() -> str:
            h = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(other.as_uri()), t.Position(9, 10)))
            return h.contents.value if h is not None and isinstance(h.contents, t.MarkupContent) else ""

        text = (await until(hover_text, timeout=30)).replace("\\", "")
        assert "conflict: 2 declarations differ and none can be preferred" in text, text
        assert "[index] exclude in lore.toml" in text, text
    finally:
        await client.shutdown_session()


async def test_deleting_an_rpc_from_one_copy_in_a_monorepo_over_lsp(tmp_path: Path) -> None:
    repos = cart_system(tmp_path / "ws", "mono")
    mono = repos["contracts"][0].path
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=mono.as_uri(), workspace_folders=[t.WorkspaceFolder(mono.as_uri(), "shop")]))
        proto = mono / "contracts/proto/shop/cart/v1/cart.proto"
        text = proto.read_text()
        open_doc(client, proto, "proto")
        await diagnostics(client, proto, lambda ds: not any(d.code == "RPC_NO_DELETE" for d in ds), timeout=30)
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version=2, uri=proto.as_uri()),
            [t.TextDocumentContentChangeWholeDocument(text=text.replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""))]))
        diags = await diagnostics(client, proto, lambda ds: any(d.code == "RPC_NO_DELETE" for d in ds), timeout=30)
        (deleted,) = [d for d in diags if d.code == "RPC_NO_DELETE"]
        assert deleted.severity == t.DiagnosticSeverity.Error
        assert "checkout/checkout/cart_client.py:8" in deleted.message
    finally:
        await client.shutdown_session()


def test_consumer_counts_say_what_was_not_read(tmp_path: Path) -> None:
    """A consumer list is a lower bound while code in other languages, a missing repo or a code file that
    failed is in the workspace, and it says so where the count stands."""
    root = tmp_path / "ws"
    GitRepo(root / "contracts").commit("proto", {"proto/shop/cart/v1/cart.proto": CART_PROTO.format(
        gopkg=CANONICAL_PKG, comment="Carts.", extra=UPDATE)})
    # a code file Lore cannot read in full (2,000 chained calls): its usages may be missing from the count
    chain = "import requests\n\n\ndef drain(session):\n    return session" + ".get()" * 2000 + "\n"
    GitRepo(root / "checkout").commit("client", {"checkout/cart_client.py": CHECKOUT_CLIENT, "checkout/drain.py": chain})
    GitRepo(root / "billing").commit("elixir", {"lib/billing.ex": "defmodule Billing do\nend\n",
                                                "lib/cart_client.ex": "defmodule CartClient do\nend\n"})
    (root / "lore.toml").write_text('[[repo]]\npath = "contracts"\n[[repo]]\npath = "checkout"\n[[repo]]\npath = "billing"\n'
                                    '[[repo]]\npath = "gone"\n')
    (root / "gone").mkdir()  # a folder that is not a repository (one that does not exist stops the CLI: exit 2)
    out = lore(tmp_path, "index", str(root)).stdout
    assert ("  error: checkout/checkout/drain.py: code: expressions nested too deeply to read in full; some usages in "
            "this file may be missing") in out.splitlines()
    ctx = json.loads(lore(tmp_path, "context", f"{root}/contracts/proto/shop/cart/v1/cart.proto:9", "--json").stdout)
    links_sec = next(s for s in ctx["sections"] if s["name"] == "links")
    summary = next(n for n in links_sec["notes"] if n["kind"] == "consumers_summary")
    assert summary["text"] == (f"1 consumer site in 1 repo for {GET_CART} (lower bound; not read: 1 repo not indexed (gone); "
                               "2 Elixir files in repo billing; 1 code file failed)")
    assert summary["data"]["lower_bound"] is True
