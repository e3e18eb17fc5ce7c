"""Operational context end to end on a fixture system (tests/ops_system.py: a Python and a Go service, an
observability repo with alert and recording rules, an SLO, a dashboard and flag definitions, a
workflow): exact notes through `lore context --json`, `lore graph --json`, `lore check` (SARIF), and over
LSP (hover, diagnostics as you type)."""

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
from tests.lsp_helpers import change_doc, diagnostics, open_doc, until
from tests.ops_system import ALERTS, CHECKOUT_API, CHECKOUT_METRICS, LINES, build, line_of


def ops_notes(tmp_path: Path, ws: Path, where: str) -> list[dict[str, Any]]:
    repo, path, line = LINES[where]
    doc = json.loads(lore(tmp_path, "context", f"{ws / repo / path}:{line + 1}", "--json").stdout)
    (sec,) = [s for s in doc["sections"] if s["name"] == "ops"]
    return sec["notes"]  # type: ignore[no-any-return]


def texts(notes: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in notes]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("ops")
    build(tmp / "ws")
    return tmp, tmp / "ws"


def test_metric_in_code_names_the_alerts_and_dashboards_that_read_it(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    notes = ops_notes(tmp, ws, "orders_metric")
    alert_line = line_of(ALERTS, "shop_checkout_orders_total") + 1
    assert texts(notes)[:4] == [
        "metric shop_checkout_orders_total (prometheus counter; labels: status, method)",
        "read by 1 alert, 1 dashboard panel",
        "read by dashboard panel 'Orders by status' of dashboard 'Shop': shop_checkout_orders_total",
        "read by alert CheckoutOrdersFailing: shop_checkout_orders_total (for 10m, severity page)",
    ]
    assert notes[3]["source"] == f"observability/rules/shop-alerts.yaml:{alert_line}"
    assert notes[3]["data"]["runbook"] == "https://runbooks.example.com/checkout"
    assert notes[2]["source"] == "observability/dashboards/shop.json:10"
    # the workflow that ships the service, on every line of it
    assert "github-actions workflow deploy checkout, job deploy deploys checkout to environment production " \
           "(the only service of its repo)" in texts(notes)


def test_go_metric_named_by_a_constant_of_another_file_and_a_recording_rule_chain(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    notes = texts(ops_notes(tmp, ws, "cart_metric"))
    record_line = line_of(ALERTS, "shop_cart_items_added_total") + 1
    assert notes[0] == "metric shop_cart_items_added_total (prometheus counter; labels: sku)"
    assert "read by recording rule job:shop_cart_items_added:rate5m: shop_cart_items_added_total" in notes
    assert ("read by alert CartStalled: job:shop_cart_items_added:rate5m through recording rule "
            f"job:shop_cart_items_added:rate5m (observability/rules/shop-alerts.yaml:{record_line - 1}) (for 30m)") in notes


def test_alert_expression_points_at_the_code_that_defines_its_metric(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    notes = ops_notes(tmp, ws, "alert_expr")
    assert notes[0]["text"] == "alert CheckoutOrdersFailing (for 10m, severity page)"
    defined = [n for n in notes if n["kind"] == "ops_defined_by"]
    assert [n["text"] for n in defined] == [
        "alert CheckoutOrdersFailing reads shop_checkout_orders_total, defined by prometheus counter "
        "shop_checkout_orders_total (python Prometheus client: a counter is exposed with _total)"]
    assert defined[0]["source"] == f"checkout/app/metrics.py:{LINES['orders_metric'][2] + 1}"


def test_flag_evaluation_shows_definition_and_other_sites_across_repos(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    notes = texts(ops_notes(tmp, ws, "cart_flag"))
    assert notes[:2] == [
        "flag new-checkout: defined in observability/flags/flags.json:4 (flagd; variants on, off; default off)",
        f"1 other evaluation site in 1 repo: checkout/app/api.py:{LINES['flag_eval'][2] + 1}",
    ]
    undefined = texts(ops_notes(tmp, ws, "flag_undefined"))
    assert undefined[0] == "flag express-shipping is evaluated here but not defined in any of the 1 indexed flag file"
    unused = texts(ops_notes(tmp, ws, "flag_unused"))
    assert unused[:2] == ["flag legacy-banner (flagd; variants on, off; default off)", "not evaluated in the indexed code"]


def test_route_guard_missing_guard_and_the_slo_on_a_route(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    export = texts(ops_notes(tmp, ws, "export_route"))
    assert export[0] == ("route GET /orders/export (fastapi, router router) has no auth guard, while the 3 other "
                         "routes of its router use require_user")
    checkout = texts(ops_notes(tmp, ws, "checkout_route"))
    assert checkout[:2] == ["route POST /orders/checkout (fastapi, router router): guarded by require_user",
                            "SLO checkout-latency reads shop_checkout_latency_seconds_count for this route"]
    # on the handler's def line too, not only on the decorator
    repo, path, line = LINES["checkout_route"]
    doc = json.loads(lore(tmp, "context", f"{ws / repo / path}:{line + 2}", "--json").stdout)
    (sec,) = [s for s in doc["sections"] if s["name"] == "ops"]
    assert sec["notes"][0]["text"] == checkout[0]


def test_span_and_slo(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    span = texts(ops_notes(tmp, ws, "span"))
    assert span[:2] == ["span checkout.place_order", "read by dashboard panel 'Checkout spans' of dashboard 'Shop': "
                        "traces_spanmetrics_calls_total{span_name=\"checkout.place_order\"}"]
    slo = texts(ops_notes(tmp, ws, "slo"))
    assert slo[0] == "SLO checkout-latency (objective 99.5, service checkout)"
    assert ("SLO checkout-latency reads shop_checkout_latency_seconds_count, defined by prometheus histogram "
            "shop_checkout_latency_seconds (histogram: series _count)") in slo


def test_graph_json_has_the_operational_facts(system: tuple[Path, Path]) -> None:
    tmp, ws = system
    ops = json.loads(lore(tmp, "graph", str(ws), "--json").stdout)["ops"]
    orders = next(m for m in ops["metrics"] if m["name"] == "shop_checkout_orders_total")
    assert {(r["owner"], r["path"], r["line"]) for r in orders["readers"]} == {
        ("alert CheckoutOrdersFailing", "rules/shop-alerts.yaml", line_of(ALERTS, "shop_checkout_orders_total") + 1),
        ("dashboard panel 'Orders by status' of dashboard 'Shop'", "dashboards/shop.json", 10)}
    assert [u["route"] for u in ops["unguarded_routes"]] == ["GET /orders/export"]
    flags = {f["flag"]: (len(f["definitions"]), len(f["evaluations"])) for f in ops["flags"]}
    assert flags == {"new-checkout": (1, 2), "legacy-banner": (1, 0), "express-shipping": (0, 1)}
    up = next(r for r in ops["reads"] if r["metric"] == "up")
    assert up["defined_at"] == []  # an exporter's metric: no definition in the indexed code, no link


def test_lore_check_reports_a_renamed_metric_a_dropped_label_and_a_removed_span(tmp_path: Path) -> None:
    repos = build(tmp_path / "ws")
    checkout = repos["checkout"]
    checkout.write({
        "app/metrics.py": CHECKOUT_METRICS.replace("shop_checkout_orders_total", "shop_checkout_order_total")
                                          .replace('["route", "code"]', '["route"]'),
        "app/api.py": CHECKOUT_API.replace("checkout.place_order", "checkout.place")})
    out = lore(tmp_path, "check", str(checkout.path), "--format", "sarif", check=False)
    assert out.returncode == 1, out.stderr
    run = json.loads(out.stdout)["runs"][0]
    rules = {r["id"]: r["shortDescription"]["text"] for r in run["tool"]["driver"]["rules"]}
    assert rules == {
        "OPS_METRIC_REMOVED": "A metric that an alert, recording rule, SLO or dashboard reads was removed or renamed.",
        "OPS_METRIC_LABEL_REMOVED": "A label that an alert, recording rule, SLO or dashboard uses was dropped from its metric.",
        "OPS_SPAN_REMOVED": "A span that an alert, SLO or dashboard reads (spanmetrics span_name) was removed or renamed.",
    }
    by_rule = {r["ruleId"]: r for r in run["results"]}
    removed = by_rule["OPS_METRIC_REMOVED"]
    assert removed["level"] == "error"
    assert "metric shop_checkout_orders_total is no longer defined (renamed to shop_checkout_order_total?)" in removed["message"]["text"]
    assert "alert CheckoutOrdersFailing (observability/rules/shop-alerts.yaml:9)" in removed["message"]["text"]
    assert removed["locations"][0]["physicalLocation"]["region"]["startLine"] == LINES["orders_metric"][2] + 1
    assert "label code of metric shop_checkout_latency_seconds" in by_rule["OPS_METRIC_LABEL_REMOVED"]["message"]["text"]
    assert "SLO checkout-latency" in by_rule["OPS_METRIC_LABEL_REMOVED"]["message"]["text"]
    assert "dashboard panel 'Checkout spans'" in by_rule["OPS_SPAN_REMOVED"]["message"]["text"]
    # accepted with an inline comment: reported as accepted, no longer failing
    checkout.write({"app/metrics.py": CHECKOUT_METRICS.replace(
        'ORDERS = Counter("shop_checkout_orders_total"', 'ORDERS = Counter("shop_checkout_order_total"').replace(
        "\nLATENCY", "  # lore:ignore OPS_METRIC_REMOVED renamed on the dashboards too\nLATENCY"),
        "app/api.py": CHECKOUT_API})
    assert lore(tmp_path, "check", str(checkout.path), check=False).returncode == 0


def test_lore_check_reports_a_flag_removed_while_code_evaluates_it(tmp_path: Path) -> None:
    repos = build(tmp_path / "ws")
    obs = repos["observability"]
    flags = (obs.path / "flags/flags.json").read_text()
    obs.write({"flags/flags.json": flags.replace('"new-checkout"', '"new-checkout-v2"')})
    out = json.loads(lore(tmp_path, "check", str(obs.path), "--format", "json", check=False).stdout)
    (finding,) = out["results"][0]["findings"]
    assert finding["rule"] == "OPS_FLAG_REMOVED" and finding["severity"] == "error"
    assert {(c["repo"], c["path"]) for c in finding["consumers"]} == {("checkout", "app/api.py"), ("cart", "server/server.go")}


# -- over LSP ------------------------------------------------------------------------------------------

async def test_hover_and_diagnostics_over_lsp(tmp_path: Path) -> None:
    build(tmp_path / "ws")
    ws = tmp_path / "ws"
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    client = await config.start()
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=t.ClientCapabilities(), root_uri=ws.as_uri(), workspace_folders=[t.WorkspaceFolder(ws.as_uri(), "ws")]))
        repo, path, line = LINES["orders_metric"]
        metrics = ws / repo / path
        open_doc(client, metrics, "python")

        async def hover(doc: Path, ln: int, col: int) -> str:
            h = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(doc.as_uri()), t.Position(ln, col)))
            return h.contents.value if h is not None and isinstance(h.contents, t.MarkupContent) else ""

        async def metric_hover() -> str:
            text = await hover(metrics, line, 20)
            return text if "CheckoutOrdersFailing" in text else ""

        text = await until(metric_hover, timeout=60)
        assert "**Operations**" in text
        assert "read by alert CheckoutOrdersFailing: shop_checkout_orders_total (for 10m, severity page)" in text
        assert "shop-alerts.yaml#L" in text  # a link to the alert's line

        api = ws / "checkout/app/api.py"
        open_doc(client, api, "python")
        flag_line = LINES["flag_eval"][2]
        text = await hover(api, flag_line, CHECKOUT_API.split("\n")[flag_line].index("new-checkout") + 2)
        assert "flag new-checkout: defined in observability/flags/flags.json:4" in text.replace("\\", "")
        diags = await diagnostics(client, api, lambda ds: {"route-unguarded", "flag-undefined"} <= {d.code for d in ds})
        (unguarded,) = [d for d in diags if d.code == "route-unguarded"]
        assert unguarded.range.start.line == LINES["export_route"][2]
        assert unguarded.message == ("route GET /orders/export is registered without require_user, which the 3 other "
                                     "routes of router router use")
        assert unguarded.severity == t.DiagnosticSeverity.Warning
        assert len(unguarded.related_information or []) == 3
        (undefined,) = [d for d in diags if d.code == "flag-undefined"]
        assert undefined.range.start.line == LINES["flag_undefined"][2]

        # the flag definitions: the one defined and never evaluated is named, the evaluated one is not
        frepo, fpath, unused_line = LINES["flag_unused"]
        flags = ws / frepo / fpath
        open_doc(client, flags, "json")
        diags = await diagnostics(client, flags, lambda ds: any(d.code == "flag-unused" for d in ds))
        (unused,) = [d for d in diags if d.code == "flag-unused"]
        assert unused.message == "flag legacy-banner is defined but no indexed code evaluates it"
        assert unused.range.start.line == unused_line
        assert unused.severity == t.DiagnosticSeverity.Information
        assert not any(d.range.start.line == LINES["flag_def"][2] for d in diags)

        # renaming the metric in the buffer: the alert and the dashboard that read it are named
        change_doc(client, metrics, 2, CHECKOUT_METRICS.replace("shop_checkout_orders_total", "shop_checkout_order_total"))
        diags = await diagnostics(client, metrics, lambda ds: any(d.code == "ops-metric-removed" for d in ds), timeout=30)
        (gone,) = [d for d in diags if d.code == "ops-metric-removed"]
        assert gone.severity == t.DiagnosticSeverity.Error and gone.range.start.line == line
        assert gone.message.startswith("metric shop_checkout_orders_total is no longer defined (now shop_checkout_order_total)")
        assert "alert CheckoutOrdersFailing (observability/rules/shop-alerts.yaml:9)" in gone.message
        assert {r.message for r in gone.related_information or []} == {
            "alert CheckoutOrdersFailing reads it", "dashboard panel 'Orders by status' of dashboard 'Shop' reads it"}
        # and back: the diagnostic goes away
        change_doc(client, metrics, 3, CHECKOUT_METRICS)
        await diagnostics(client, metrics, lambda ds: not any(d.code == "ops-metric-removed" for d in ds), timeout=30)
    finally:
        await client.shutdown_session()


# -- over MCP ------------------------------------------------------------------------------------------

async def test_mcp_context_and_check_carry_the_operational_facts(tmp_path: Path) -> None:
    mcp = pytest.importorskip("mcp") if not os.environ.get("LORE_REQUIRE_MCP") else __import__("mcp")
    from mcp.client.stdio import StdioServerParameters, stdio_client

    repos = build(tmp_path / "ws")
    ws = tmp_path / "ws"
    params = StdioServerParameters(command=sys.executable, args=["-m", "lore", "mcp", "--root", str(ws), "--cache",
                                                                 str(tmp_path / "cache")])
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), mcp.ClientSession(read, write) as session:
            await session.initialize()
            repo, path, line = LINES["orders_metric"]
            res = await session.call_tool("lore_context", {"path": f"{repo}/{path}", "line": line + 1})
            assert not res.is_error
            (sec,) = [s for s in res.structured_content["sections"] if s["name"] == "ops"]
            assert any(n["text"].startswith("read by alert CheckoutOrdersFailing") and
                       n["source"] == f"observability/rules/shop-alerts.yaml:{line_of(ALERTS, 'shop_checkout_orders_total') + 1}"
                       for n in sec["notes"])
            repos["checkout"].write({"app/metrics.py": CHECKOUT_METRICS.replace("shop_checkout_orders_total", "shop_orders_total")})
            res = await session.call_tool("lore_check", {"repo": "checkout"})
            text = "\n".join(b.text for b in res.content if getattr(b, "type", "") == "text")
            assert "OPS_METRIC_REMOVED" in text and "alert CheckoutOrdersFailing" in text
