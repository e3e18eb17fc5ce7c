"""The system map's operational context (lore/query/map_ops.py): per service, the alerts and SLOs that
read its metrics, spans and routes, and the pipelines that ship it, on the ops fixture system
(tests/ops_system.py) indexed for real; then the same system with names two services share, more alerts
than a node lists, and an SLO naming no known service."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.engine import Engine
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from lore.map.dot import render_dot
from lore.map.html import page_data
from lore.map.mermaid import render_mermaid
from lore.query.system_map import OPS_PER_NODE, NodeOps, OpsRule, Shipping, Signal, Site, build_map
from tests.map_facts import link, system
from tests.ops_system import CHECKOUT_WORKFLOW, LINES, SLO, build, line_of

CART = "service:cart:cart"
CHECKOUT = "service:checkout:checkout"
RULES = ("observability", "rules/shop-alerts.yaml")


def index(root: Path) -> Snapshot:
    snap, _ = Engine(discover(root / "ws"), Store(root / "cache")).refresh()
    return snap


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("ops")
    build(root / "ws")
    return index(root)


def test_alerts_slos_and_pipelines_per_service(shop: Snapshot) -> None:
    m = build_map(shop)
    assert [n.id for n in m.nodes] == [CART, CHECKOUT]  # observability holds no service and no contract
    assert m.ops_kinds == ("alert", "slo", "pipeline")
    cart, checkout = m.nodes
    orders = Site("checkout", "app/metrics.py", LINES["orders_metric"][2])
    latency = Site("checkout", "app/metrics.py", LINES["latency_metric"][2])
    slo = Site("observability", "slos/checkout.yaml", line_of(SLO, "checkout-latency"))
    assert checkout.ops == NodeOps(
        alerts=(OpsRule("alert", "CheckoutOrdersFailing", Site(*RULES, LINES["alert_orders"][2]),
                        (Signal("metric", "shop_checkout_orders_total", orders),), (), ("for 10m", "severity page")),),
        slos=(OpsRule("slo", "checkout-latency", slo,
                      (Signal("metric", "shop_checkout_latency_seconds", latency),
                       Signal("route", "POST /orders/checkout", Site("checkout", "app/api.py", LINES["checkout_route"][2])),
                       Signal("service", "checkout", slo)), (), ("objective 99.5",)),),
        pipelines=(
            Shipping("pipeline", "github-actions workflow deploy checkout, job build builds checkout",
                     "the only service of its repo", Site("checkout", ".github/workflows/deploy.yml", line_of(CHECKOUT_WORKFLOW, "build:"))),
            Shipping("pipeline", "github-actions workflow deploy checkout, job deploy deploys checkout to environment production",
                     "the only service of its repo", Site("checkout", ".github/workflows/deploy.yml", line_of(CHECKOUT_WORKFLOW, "deploy:")))),
        alert_count=1, slo_count=1, pipeline_count=2)
    # an alert over a recording rule over cart's metric; cart's repo has no workflow; NodeDown reads an
    # exporter's metric (`up`) and belongs to no service
    assert cart.ops == NodeOps(
        alerts=(OpsRule("alert", "CartStalled", Site(*RULES, LINES["cart_alert"][2]),
                        (Signal("metric", "shop_cart_items_added_total", Site(*LINES["cart_metric"][:2], LINES["cart_metric"][2])),),
                        ("job:shop_cart_items_added:rate5m",), ("for 30m",)),),
        alert_count=1)
    assert any(n.startswith("alerts and SLOs: ") for n in m.notes)


def test_the_page_carries_them_with_links(shop: Snapshot) -> None:
    data = page_data(build_map(shop))
    assert data["ops_kinds"] == ["alert", "slo", "pipeline"]
    checkout = next(n for n in data["nodes"] if n["id"] == CHECKOUT)
    assert checkout["ops"]["counts"] == {"alert": 1, "slo": 1, "pipeline": 2}
    (alert,) = checkout["ops"]["alerts"]
    assert alert == {"name": "CheckoutOrdersFailing", "site": [*RULES, LINES["alert_orders"][2]],
                     "reads": [["metric", "shop_checkout_orders_total", ["checkout", "app/metrics.py", LINES["orders_metric"][2]]]],
                     "via": [], "details": ["for 10m", "severity page"]}
    assert checkout["ops"]["slos"][0]["site"] == ["observability", "slos/checkout.yaml", line_of(SLO, "checkout-latency")]


def test_a_system_without_operational_facts() -> None:
    snap = system([("a", "a", "", "")], [], [link("a", "proto:x.S", "provides", "a", "s.go", 1)])
    m = build_map(snap)
    assert m.ops_kinds == () and all(n.ops == NodeOps() for n in m.nodes)
    assert not any(n.startswith("alerts and SLOs") for n in m.notes)


CART_LEGACY = '''\
package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel"
)

func Legacy(r chi.Router) {
	r.Post("/orders/checkout", legacyCheckout)
}

func legacyCheckout(w http.ResponseWriter, req *http.Request) {
	_, span := otel.Tracer("cart").Start(req.Context(), "checkout.place_order")
	defer span.End()
}
'''

MORE_RULES = '''\
groups:
  - name: spans
    rules:
      - alert: CartAddSlow
        expr: sum(rate(traces_spanmetrics_calls_total{span_name="cart.add_item", status_code="STATUS_CODE_ERROR"}[5m])) > 1
      - alert: PlaceOrderErrors
        expr: sum(rate(traces_spanmetrics_calls_total{span_name="checkout.place_order"}[5m])) > 1
''' + "".join(f'''      - alert: OrdersFailing{i:02d}
        expr: rate(shop_checkout_orders_total{{status="failed"}}[5m]) > {i}
''' for i in range(OPS_PER_NODE + 2))

OTHER_SLO = '''\
version: "prometheus/v1"
service: "payments"
slos:
  - name: "payments-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
'''


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    root = tmp_path_factory.mktemp("shared")
    repos = build(root / "ws")
    repos["cart"].commit("legacy checkout route", {"server/legacy.go": CART_LEGACY})
    repos["observability"].commit("more alerts, an SLO of another system", {
        "rules/more.yaml": MORE_RULES, "slos/payments.yaml": OTHER_SLO})
    return index(root)


def test_names_two_services_share_link_to_neither(shared: Snapshot) -> None:
    m = build_map(shared)
    cart, checkout = m.node(CART), m.node(CHECKOUT)
    assert cart is not None and checkout is not None
    # a span only cart starts: its alert is cart's
    assert [(r.name, [(s.kind, s.name) for s in r.reads]) for r in cart.ops.alerts] == [
        ("CartAddSlow", [("span", "cart.add_item")]), ("CartStalled", [("metric", "shop_cart_items_added_total")])]
    # checkout.place_order and POST /orders/checkout are in both services now: PlaceOrderErrors is
    # nobody's, and the SLO keeps only its metric and its name
    assert "PlaceOrderErrors" not in {r.name for n in m.nodes for r in n.ops.alerts}
    (slo,) = checkout.ops.slos
    assert [(s.kind, s.name) for s in slo.reads] == [("metric", "shop_checkout_latency_seconds"), ("service", "checkout")]
    # an SLO naming a service the workspace does not have is over no node
    assert {r.name for n in m.nodes for r in n.ops.slos} == {"checkout-latency"}


def test_a_node_lists_the_first_alerts_and_counts_all(shared: Snapshot) -> None:
    checkout = build_map(shared).node(CHECKOUT)
    assert checkout is not None
    assert checkout.ops.alert_count == OPS_PER_NODE + 3  # CheckoutOrdersFailing and OrdersFailing00..13
    assert len(checkout.ops.alerts) == OPS_PER_NODE
    assert [r.name for r in checkout.ops.alerts[:3]] == ["OrdersFailing00", "OrdersFailing01", "OrdersFailing02"]
    assert checkout.ops.alerts[0].site == Site("observability", "rules/more.yaml", line_of(MORE_RULES, "OrdersFailing00"))


def test_focus_keeps_the_operational_context(shop: Snapshot) -> None:
    m = build_map(shop, focus="checkout", depth=0)
    (node,) = m.nodes
    assert node.ops.alert_count == 1 and node.ops.slo_count == 1



def test_dot_and_mermaid_mark_services_with_slos_and_alerts(shop: Snapshot) -> None:
    m = build_map(shop)
    assert render_dot(m).splitlines()[5:12] == [
        '  subgraph "cluster_1" {',
        '    label="repo: cart"; style="rounded"; color="#cbd5e0"; fontcolor="#4a5568";',
        '    "service:cart:cart" [label="cart\\n1 alert"];',
        "  }",
        '  subgraph "cluster_2" {',
        '    label="repo: checkout"; style="rounded"; color="#cbd5e0"; fontcolor="#4a5568";',
        '    "service:checkout:checkout" [label="checkout\\n1 SLO, 1 alert"];']
    mermaid = render_mermaid(m)
    assert '    n1["cart<br>1 alert"]' in mermaid.splitlines() and '    n2["checkout<br>1 SLO, 1 alert"]' in mermaid.splitlines()
    assert [n["label"] for n in page_data(m)["nodes"]] == [["cart", "1 alert"], ["checkout", "1 SLO, 1 alert"]]
