"""The system map model (lore/query/system_map.py): on the example system (materialized with its git
history and indexed for real) and on small systems built as facts for the cases the example lacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexers.engine import Engine
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from lore.query.system_map import Break, MapError, Site, SystemMap, build_map
from tests.map_facts import commit, entity, link, system

ROOT = Path(__file__).resolve().parents[1]
P = "proto:shop.cart.v1."
CART = "service:cart-service:cart-service"
CHECKOUT = "service:checkout-service:checkout-service"
STOREFRONT = "service:storefront:storefront"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    base = tmp_path_factory.mktemp("shop")
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(base / "shop")], check=True,
                   capture_output=True)
    snap, _ = Engine(discover(base / "shop"), Store(base / "cache")).refresh()
    return snap


def edges(m: SystemMap) -> dict[tuple[str, str, str], tuple[str, int, tuple[str, ...]]]:
    return {(e.source, e.target, e.protocol): (e.label, e.count, e.flags) for e in m.edges}


def test_example_services_and_edges(shop: Snapshot) -> None:
    m = build_map(shop)
    assert [(n.id, n.kind, n.name, n.owner, n.group) for n in m.nodes] == [
        (CART, "service", "cart-service", "team-cart", "group:repo:cart-service"),
        (CHECKOUT, "service", "checkout-service", "team-checkout", "group:repo:checkout-service"),
        (STOREFRONT, "service", "storefront", "team-web", "group:repo:storefront"),
    ]
    assert edges(m) == {
        (CART, CHECKOUT, "grpc"): ("shop.cart.v1", 6, ("deprecated",)),
        (CART, STOREFRONT, "grpc"): ("shop.cart.v1", 5, ()),
        (CHECKOUT, STOREFRONT, "http"): ("Checkout API", 2, ()),
    }
    assert [g.name for g in m.groups] == ["cart-service", "checkout-service", "storefront"]
    assert m.repos["cart-service"] and Path(str(m.repos["cart-service"])).is_dir()


def test_example_edge_uses_and_sites(shop: Snapshot) -> None:
    m = build_map(shop)
    edge = next(e for e in m.edges if e.source == CART and e.target == CHECKOUT)
    (contract,) = edge.contracts
    assert contract.id == "proto:shop.cart.v1" and contract.protocol == "grpc"
    assert contract.declared is not None and contract.declared.path == "proto/shop/cart/v1/cart.proto"
    uses = {u.entity: u for u in contract.uses}
    # RemoveItem has no provider of its own: joined through the CartService that cart-service registers
    remove = uses[P + "CartService.RemoveItem"]
    assert remove.flags == ("deprecated",)
    assert [(s.repo, s.path, s.line) for s in remove.sites] == [("checkout-service", "checkout/cart_client.py", 26)]
    assert remove.declared is not None and remove.declared.repo == "contracts"
    assert set(uses) == {P + "CartService", P + "CartService.GetCart", P + "CartService.RemoveItem", P + "Cart",
                         P + "GetCartRequest", P + "GetCartRequest.user_id"}
    assert edge.count == sum(u.count for u in contract.uses)


def test_example_node_details(shop: Snapshot) -> None:
    m = build_map(shop)
    checkout = m.node(CHECKOUT)
    assert checkout is not None
    assert [(c.name, c.protocol) for c in checkout.provides] == [("Checkout API", "http")]
    assert [(c.name, c.protocol) for c in checkout.consumes] == [("shop.cart.v1", "grpc")]
    # consumed with no provider anywhere up the chain (cart-service serves no RemoveItemRequest)
    (unknown,) = checkout.unprovided
    assert {u.entity for u in unknown.uses} == {P + "RemoveItemRequest", P + "RemoveItemRequest.product_id",
                                                 P + "RemoveItemRequest.user_id"}
    assert [(h.kinds, h.subject) for h in checkout.history] == [
        (("hotfix",), "Hotfix: retry GetCart on UNAVAILABLE with backoff (INC-2031)"),
        (("revert",), 'Revert "Retry GetCart once on any RPC error"')]
    assert checkout.history[0].site is not None and checkout.history[0].site.path == "checkout/cart_client.py"
    assert checkout.declared is not None and checkout.declared.path == "catalog-info.yaml"
    assert all(n.history_notes == () for n in m.nodes)  # the example's history is complete
    assert checkout.flags == ("deprecated",)


def test_focus_and_depth(shop: Snapshot) -> None:
    alone = build_map(shop, focus="storefront", depth=0)
    assert [n.id for n in alone.nodes] == [STOREFRONT] and alone.edges == ()
    near = build_map(shop, focus="storefront")
    assert {n.id for n in near.nodes} == {CART, CHECKOUT, STOREFRONT} and len(near.edges) == 3
    assert near.focus == STOREFRONT and near.depth is None
    assert build_map(shop, focus=CART, depth=1).focus == CART  # a node id works too
    with pytest.raises(MapError, match=r"no such service; did you mean storefront"):
        build_map(shop, focus="storefrnt")
    with pytest.raises(MapError, match="needs --focus"):
        build_map(shop, depth=2)


def test_group_by_owner(shop: Snapshot) -> None:
    m = build_map(shop, group_by="owner")
    assert [(g.kind, g.name) for g in m.groups] == [("owner", "team-cart"), ("owner", "team-checkout"), ("owner", "team-web")]
    with pytest.raises(MapError):
        build_map(shop, group_by="colour")


def test_breaking_changes_mark_edges(shop: Snapshot) -> None:
    cart_ts = Site("storefront", "src/cart.ts", 11)
    m = build_map(shop, breaking=[Break(P + "CartService.GetCart", "FIELD_SAME_TYPE: changed", (cart_ts,))])
    flagged = {(e.source, e.target): e.flags for e in m.edges}
    assert flagged[(CART, CHECKOUT)] == ("breaking", "deprecated")  # checkout's own link to GetCart
    assert flagged[(CART, STOREFRONT)] == ("breaking",)
    assert flagged[(CHECKOUT, STOREFRONT)] == ()
    use = next(u for e in m.edges if e.target == STOREFRONT for c in e.contracts for u in c.uses
               if u.entity == P + "CartService.GetCart")
    assert use.notes == ("FIELD_SAME_TYPE: changed",) and use.flags == ("breaking",)


def test_a_deleted_entity_still_draws_the_broken_edge() -> None:
    """The consumer's link to a deleted rpc is gone from the index; the finding's consumer site joins it
    to the service that provides what is left of the contract."""
    snap = small()
    gone = Break("proto:bill.v1.Billing.Void", "RPC_NO_DELETE: rpc Void was deleted", (Site("billing", "svc/audit/void.go", 8),))
    m = build_map(snap, breaking=[gone])
    audit, billing = "service:billing/svc/audit:audit", "service:billing/svc/billing:billing"
    edge = next(e for e in m.edges if (e.source, e.target) == (billing, audit))
    assert (edge.protocol, edge.flags, edge.label) == ("grpc", ("breaking",), "bill.v1")
    (use,) = edge.contracts[0].uses
    assert (use.entity, use.name, use.declared, use.notes) == (gone.entity, "Void", None, (gone.message,))
    assert [(s.path, s.line) for s in use.sites] == [("svc/audit/void.go", 8)]


# -- small systems as facts ------------------------------------------------------------------------

SERVICES = [("orders", "orders", "", "team-a"), ("billing", "billing", "svc/billing", "team-b"),
            ("audit", "billing", "svc/audit", "")]
API = [
    entity("proto:bill.v1", "proto.package", name="bill.v1"),
    entity("proto:bill.v1.Billing", "proto.service", parent="proto:bill.v1", line=1),
    entity("proto:bill.v1.Billing.Charge", "proto.rpc", parent="proto:bill.v1.Billing", line=2),
    entity("proto:bill.v1.Billing.Refund", "proto.rpc", parent="proto:bill.v1.Billing", line=3, deprecated=True),
    entity("openapi:orders", "openapi.api", name="Orders API", title="Orders API"),
    entity("openapi:orders:GET /orders", "openapi.operation", parent="openapi:orders", line=5),
    entity("sql:orders.t", "sql.table", line=9),
]


def small(extra_links: list | None = None, entities: list | None = None, **kw: object) -> Snapshot:
    links = [
        link("billing", "proto:bill.v1.Billing", "provides", "billing", "svc/billing/server.go", 4),
        link("orders", "proto:bill.v1.Billing.Charge", "consumes", "orders", "client.go", 10),
        link("orders", "proto:bill.v1.Billing.Refund", "consumes", "orders", "client.go", 12),
        link("orders", "openapi:orders:GET /orders", "provides", "orders", "routes.go", 3),
        link("billing", "openapi:orders:GET /orders", "consumes", "billing", "svc/billing/orders.go", 7),
        link("audit", "openapi:orders:GET /orders", "consumes", "billing", "svc/audit/read.go", 2),
        link("", "openapi:orders:GET /orders", "consumes", "billing", "tools/script.go", 1),  # no service
        link("orders", "sql:orders.t", "provides", "orders", "db.go", 1),
        link("orders", "sql:orders.t", "consumes", "orders", "report.go", 1),  # its own table: no edge
        *(extra_links or []),
    ]
    return system(SERVICES, (entities or []) + API, links, **kw)  # type: ignore[arg-type]


def test_provider_through_an_ancestor_and_protocols() -> None:
    m = build_map(small())
    orders, billing, audit = "service:orders:orders", "service:billing/svc/billing:billing", "service:billing/svc/audit:audit"
    assert edges(m) == {
        (billing, orders, "grpc"): ("bill.v1", 2, ("deprecated",)),
        (orders, billing, "http"): ("Orders API", 1, ()),
        (orders, audit, "http"): ("Orders API", 1, ()),
        (orders, "repo:billing", "http"): ("Orders API", 1, ()),
    }
    repo_node = m.node("repo:billing")
    assert repo_node is not None and repo_node.kind == "repo" and repo_node.group == "group:repo:billing"
    assert m.node(audit) is not None and m.node(audit).owner == ""  # type: ignore[union-attr]


def test_owner_groups_include_the_unowned() -> None:
    m = build_map(small(), group_by="owner")
    assert sorted(g.name for g in m.groups) == ["(no owner)", "team-a", "team-b"]


def test_drift_from_conflicting_declarations() -> None:
    copy = entity("proto:bill.v1.Billing.Charge", "proto.rpc", repo="orders", path="vendor/bill.proto", line=2,
                  parent="proto:bill.v1.Billing", request="OldRequest")
    m = build_map(small(entities=[copy]))
    grpc = next(e for e in m.edges if e.protocol == "grpc")
    assert "drift" in grpc.flags
    charge = next(u for c in grpc.contracts for u in c.uses if u.entity.endswith("Charge"))
    assert "drift" in charge.flags
    assert any("vendor/bill.proto:3" in n and ("drifted from" in n or "conflicting" in n) for n in charge.notes), charge.notes


def test_ambiguous_focus_names_the_candidates() -> None:
    snap = system([("api", "one", "", ""), ("api", "two", "", "")], [], [])
    with pytest.raises(MapError, match=r"names 2 services: service:one:api, service:two:api"):
        build_map(snap, focus="api")
    assert build_map(snap, focus="service:two:api", depth=0).focus == "service:two:api"


def test_history_is_the_latest_flagged_commits_per_node() -> None:
    commits = [commit(f"{i:040x}", f"2024-02-{i + 1:02d}T00:00:00+00:00", f"hotfix {i}", ("hotfix",), ("svc/billing/x.go",))
               for i in range(8)]
    commits.append(commit("f" * 40, "2024-03-01T00:00:00+00:00", "ordinary", (), ("svc/billing/x.go",)))
    commits.append(commit("e" * 40, "2024-03-02T00:00:00+00:00", "workaround in tools", ("workaround",), ("tools/script.go",)))
    m = build_map(small(commits={"billing": commits}))
    billing = m.node("service:billing/svc/billing:billing")
    assert billing is not None and [h.subject for h in billing.history] == [f"hotfix {i}" for i in (7, 6, 5, 4, 3)]
    assert [h.subject for h in m.node("repo:billing").history] == ["workaround in tools"]  # type: ignore[union-attr]
    # missing history is said to be missing: orders' history was never mined
    orders = m.node("service:orders:orders")
    assert orders is not None and orders.history == () and "not mined" in orders.history_notes[0]
    assert billing.history_notes == ()


def test_empty_system() -> None:
    m = build_map(system([], [], []))
    assert m.nodes == () and m.edges == () and m.groups == ()
