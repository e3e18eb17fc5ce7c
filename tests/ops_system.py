"""A small system with operational context, built as real git repositories for the ops tests:

- `checkout` (Python, FastAPI): metrics (prometheus_client), a span, flag evaluations (OpenFeature), an
  API router whose routes depend on `require_user` except one, and a GitHub Actions workflow.
- `cart` (Go, chi): metrics built from a namespace constant declared in another file, a span, a flag
  evaluation, routes behind `r.Use(auth.RequireUser)`.
- `observability`: Prometheus alert and recording rules (a PrometheusRule), a Sloth SLO on the
  checkout route, a Grafana dashboard, and the flagd flag definitions.

`LINES` names the lines tests point at (0-based), found by their text so the fixture can be edited.
"""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import GitRepo

CHECKOUT_METRICS = '''\
from prometheus_client import Counter, Histogram

ORDERS = Counter("shop_checkout_orders_total", "Orders placed", ["status", "method"])
LATENCY = Histogram("shop_checkout_latency_seconds", "Checkout latency", ["route", "code"])
'''

CHECKOUT_API = '''\
from fastapi import APIRouter, Depends
from openfeature import api as openfeature
from opentelemetry import trace

from app.auth import require_user
from app.metrics import ORDERS

router = APIRouter(prefix="/orders")
tracer = trace.get_tracer(__name__)
flags = openfeature.get_client()


@router.get("/{order_id}")
def get_order(order_id: str, user=Depends(require_user)):
    return {"id": order_id}


@router.post("/checkout")
def checkout(user=Depends(require_user)):
    with tracer.start_as_current_span("checkout.place_order"):
        if flags.get_boolean_value("new-checkout", False):
            ORDERS.labels(status="ok", method="card").inc()
    return {}


@router.delete("/{order_id}")
def cancel(order_id: str, user=Depends(require_user)):
    return {}


@router.get("/export")
def export_orders():
    if flags.get_boolean_value("express-shipping", False):
        return []
    return []
'''

CHECKOUT_AUTH = '''\
def require_user():
    return "user"
'''

CHECKOUT_WORKFLOW = '''\
name: deploy checkout
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v5
        with:
          context: .
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: kubectl apply -f deploy/
'''

CART_NS = '''\
package metrics

const namespace = "shop"
'''

CART_METRICS = '''\
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var ItemsAdded = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: namespace,
	Subsystem: "cart",
	Name:      "items_added_total",
	Help:      "Items added to carts.",
}, []string{"sku"})
'''

CART_SERVER = '''\
package server

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/open-feature/go-sdk/openfeature"
	"go.opentelemetry.io/otel"

	"example.com/cart/auth"
)

func Routes(r chi.Router) {
	r.Use(auth.RequireUser)
	r.Get("/cart", getCart)
	r.Post("/cart/items", addItem)
	r.Delete("/cart/items/{id}", removeItem)
}

func addItem(w http.ResponseWriter, req *http.Request) {
	ctx, span := otel.Tracer("cart").Start(req.Context(), "cart.add_item")
	defer span.End()
	client := openfeature.NewClient("cart")
	if ok, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.EvaluationContext{}); ok {
		_ = context.Background()
	}
}
'''

ALERTS = '''\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: shop
spec:
  groups:
    - name: checkout
      rules:
        - alert: CheckoutOrdersFailing
          expr: sum by (method) (rate(shop_checkout_orders_total{status="failed"}[5m])) > 1
          for: 10m
          labels:
            severity: page
          annotations:
            runbook_url: https://runbooks.example.com/checkout
        - record: job:shop_cart_items_added:rate5m
          expr: sum by (job) (rate(shop_cart_items_added_total[5m]))
        - alert: CartStalled
          expr: job:shop_cart_items_added:rate5m == 0
          for: 30m
        - alert: NodeDown
          expr: up{job="node"} == 0
'''

SLO = '''\
version: "prometheus/v1"
service: "checkout"
slos:
  - name: "checkout-latency"
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(shop_checkout_latency_seconds_count{route="/orders/checkout", code=~"5.."}[{{.window}}]))
        total_query: sum(rate(shop_checkout_latency_seconds_count{route="/orders/checkout"}[{{.window}}]))
'''

DASHBOARD = '''\
{
  "title": "Shop",
  "uid": "shop",
  "panels": [
    {
      "id": 1,
      "title": "Orders by status",
      "type": "timeseries",
      "targets": [
        {"expr": "sum by (status) (rate(shop_checkout_orders_total[$__rate_interval]))", "refId": "A"}
      ]
    },
    {
      "id": 2,
      "title": "Checkout spans",
      "type": "timeseries",
      "targets": [
        {"expr": "sum(rate(traces_spanmetrics_calls_total{span_name=\\"checkout.place_order\\"}[5m]))", "refId": "A"}
      ]
    }
  ]
}
'''

FLAGS = '''\
{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "new-checkout": {
      "state": "ENABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off"
    },
    "legacy-banner": {
      "state": "DISABLED",
      "variants": {"on": true, "off": false},
      "defaultVariant": "off"
    }
  }
}
'''


def line_of(text: str, needle: str, nth: int = 0) -> int:
    """The 0-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(text.split("\n")) if needle in line]
    return hits[nth]


LINES = {
    "orders_metric": ("checkout", "app/metrics.py", line_of(CHECKOUT_METRICS, "shop_checkout_orders_total")),
    "latency_metric": ("checkout", "app/metrics.py", line_of(CHECKOUT_METRICS, "shop_checkout_latency_seconds")),
    "export_route": ("checkout", "app/api.py", line_of(CHECKOUT_API, '@router.get("/export")')),
    "checkout_route": ("checkout", "app/api.py", line_of(CHECKOUT_API, '@router.post("/checkout")')),
    "flag_eval": ("checkout", "app/api.py", line_of(CHECKOUT_API, '"new-checkout"')),
    "flag_undefined": ("checkout", "app/api.py", line_of(CHECKOUT_API, '"express-shipping"')),
    "span": ("checkout", "app/api.py", line_of(CHECKOUT_API, "checkout.place_order")),
    "cart_metric": ("cart", "metrics/metrics.go", line_of(CART_METRICS, "items_added_total")),
    "cart_flag": ("cart", "server/server.go", line_of(CART_SERVER, '"new-checkout"')),
    "alert_orders": ("observability", "rules/shop-alerts.yaml", line_of(ALERTS, "alert: CheckoutOrdersFailing")),
    "alert_expr": ("observability", "rules/shop-alerts.yaml", line_of(ALERTS, "shop_checkout_orders_total")),
    "record": ("observability", "rules/shop-alerts.yaml", line_of(ALERTS, "record: job:shop_cart")),
    "cart_alert": ("observability", "rules/shop-alerts.yaml", line_of(ALERTS, "alert: CartStalled")),
    "slo": ("observability", "slos/checkout.yaml", line_of(SLO, "checkout-latency")),
    "panel": ("observability", "dashboards/shop.json", line_of(DASHBOARD, "Orders by status")),
    "flag_def": ("observability", "flags/flags.json", line_of(FLAGS, '"new-checkout"')),
    "flag_unused": ("observability", "flags/flags.json", line_of(FLAGS, '"legacy-banner"')),
}


def build(root: Path) -> dict[str, GitRepo]:
    """The three repositories under `root` with a lore.toml naming them."""
    repos = {}
    checkout = GitRepo(root / "checkout")
    checkout.commit("checkout service", {
        "pyproject.toml": '[project]\nname = "checkout"\nversion = "1.0"\n',
        "app/__init__.py": "", "app/metrics.py": CHECKOUT_METRICS, "app/api.py": CHECKOUT_API,
        "app/auth.py": CHECKOUT_AUTH, ".github/workflows/deploy.yml": CHECKOUT_WORKFLOW})
    repos["checkout"] = checkout
    cart = GitRepo(root / "cart")
    cart.commit("cart service", {
        "go.mod": "module example.com/cart\n\ngo 1.22\n", "metrics/namespace.go": CART_NS,
        "metrics/metrics.go": CART_METRICS, "server/server.go": CART_SERVER})
    repos["cart"] = cart
    obs = GitRepo(root / "observability")
    obs.commit("alerts, SLOs, dashboards, flags", {
        "rules/shop-alerts.yaml": ALERTS, "slos/checkout.yaml": SLO, "dashboards/shop.json": DASHBOARD,
        "flags/flags.json": FLAGS})
    repos["observability"] = obs
    (root / "lore.toml").write_text("".join(f'[[repo]]\nname = "{n}"\npath = "{n}"\n\n' for n in repos), encoding="utf-8")
    return repos
