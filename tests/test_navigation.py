"""Navigation queries (definition, references, workspace symbols, code lenses) over a real Snapshot of
the small three-repo system the LSP tests use."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.engine import Engine
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from lore.query import navigation
from tests.test_lsp_server import CANCEL_CALL, GET_ORDER_CALL, GET_ORDER_RPC, build_system

PROTO = "proto/orders/v1/orders.proto"


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("nav")
    paths = build_system(root / "sys")
    snapshot, _report = Engine(discover(paths["root"]), Store(root / "cache"), jobs=1).refresh()
    return snapshot


def where(locs: list) -> set[tuple[str, str, int]]:
    return {(loc.repo, loc.path, loc.range.start_line) for loc in locs}


def test_definition_from_usage_site_crosses_repos(snap: Snapshot):
    found = navigation.definition(snap, "billing", "billing.py", *GET_ORDER_CALL)
    assert where(found) == {("contracts", PROTO, GET_ORDER_RPC[0])}


@pytest.mark.parametrize("repo,path,pos", [
    ("contracts", PROTO, GET_ORDER_RPC),  # on the declaration itself
    ("billing", "billing.py", (0, 0)),  # an import line: nothing linked
    ("billing", "billing.py", (500, 0)),  # past the end
    ("nowhere", "x.py", (1, 1)),
])
def test_no_definition(snap: Snapshot, repo: str, path: str, pos: tuple[int, int]):
    assert navigation.definition(snap, repo, path, *pos) == []


def test_references_of_rpc_with_and_without_declaration(snap: Snapshot):
    ident = "proto:orders.v1.OrderService.GetOrder"
    assert where(navigation.entity_references(snap, ident)) == {
        ("contracts", PROTO, GET_ORDER_RPC[0]), ("billing", "billing.py", GET_ORDER_CALL[0]), ("orders", "server.py", 5)}
    assert where(navigation.entity_references(snap, ident, include_declaration=False, role="consumes")) == {
        ("billing", "billing.py", GET_ORDER_CALL[0])}
    assert where(navigation.entity_references(snap, ident, include_declaration=False, role="provides")) == {("orders", "server.py", 5)}


def test_references_of_container_include_members(snap: Snapshot):
    found = where(navigation.entity_references(snap, "proto:orders.v1.OrderService", include_declaration=False, role="consumes"))
    assert ("billing", "billing.py", CANCEL_CALL[0]) in found and ("billing", "billing.py", GET_ORDER_CALL[0]) in found
    only_self = navigation.entity_references(snap, "proto:orders.v1.OrderService", include_declaration=False,
                                             include_children=False, role="consumes")
    assert where(only_self) < found


def test_references_from_a_usage_site(snap: Snapshot):
    found = where(navigation.references(snap, "billing", "billing.py", *GET_ORDER_CALL, include_declaration=True))
    assert ("contracts", PROTO, GET_ORDER_RPC[0]) in found and ("orders", "server.py", 5) in found


def test_entity_ids_at_prefers_declaration_then_links(snap: Snapshot):
    assert navigation.entity_ids_at(snap, "contracts", PROTO, *GET_ORDER_RPC) == ["proto:orders.v1.OrderService.GetOrder"]
    assert "proto:orders.v1.OrderService.GetOrder" in navigation.entity_ids_at(snap, "billing", "billing.py", *GET_ORDER_CALL)
    assert navigation.entity_ids_at(snap, "billing", "billing.py", 0, 0) == []


@pytest.mark.parametrize("query,first,kinds", [
    ("GetOrder", "GetOrder", {"proto.rpc", "proto.message"}),
    ("gtordr", "GetOrder", {"proto.rpc"}),  # fuzzy: characters in order
    ("billing", "billing", {"service"}),
    ("ORDERSERVICE", "OrderService", {"proto.service"}),
])
def test_workspace_symbols(snap: Snapshot, query: str, first: str, kinds: set[str]):
    syms = navigation.workspace_symbols(snap, query)
    assert syms and syms[0].name == first
    assert kinds <= {s.kind for s in syms}


def test_workspace_symbols_limit_and_nonsense(snap: Snapshot):
    assert len(navigation.workspace_symbols(snap, "", limit=3)) == 3
    assert navigation.workspace_symbols(snap, "zzzqqq") == []


def test_code_lenses(snap: Snapshot):
    lenses = {lens.entity: lens for lens in navigation.code_lenses(snap, "contracts", PROTO)}
    rpc = lenses["proto:orders.v1.OrderService.GetOrder"]
    assert (rpc.consumers, rpc.consumer_repos, rpc.providers) == (1, 1, 1)
    assert rpc.title == "1 consumer in 1 repo · 1 provider"
    assert lenses["proto:orders.v1.OrderService.CancelOrder"].title == "1 consumer in 1 repo"
    # services and rpcs only: no lens on every message and field of a schema
    kinds = {snap.entity(ident).kind for ident in lenses}  # type: ignore[union-attr]
    assert kinds == {"proto.service", "proto.rpc"}
    assert "proto:orders.v1.Order" not in lenses and "proto:orders.v1.Order.total" not in lenses
    assert navigation.code_lenses(snap, "billing", "billing.py") == []


def test_unused_path_is_empty(snap: Snapshot, tmp_path: Path):
    assert navigation.code_lenses(snap, "contracts", "missing.proto") == []
    assert navigation.references(snap, "contracts", "missing.proto", 0, 0) == []
