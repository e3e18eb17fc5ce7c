"""The operational extractors, one source kind at a time, and the ops index's linking rules: exact names,
labels and positions from real-shaped inputs in every language and format read."""

from __future__ import annotations

from typing import Any

import pytest

from indexers.model import Usage
from indexers.ops import index as ops_index
from indexers.positions import SourceFile
from indexers.sources.ops import names as N
from indexers.sources.ops.code.extract import OpsCodeExtractor
from indexers.sources.ops.flagdefs import FlagsExtractor
from indexers.sources.ops.grafana import GrafanaExtractor
from indexers.sources.ops.pipelines import PipelinesExtractor
from indexers.sources.ops.promql import MAX_NESTING, parse
from indexers.sources.ops.rules import RulesExtractor
from indexers.sources.ops.slo import SLOExtractor


def run(extractor: Any, path: str, text: str, repo: str = "r") -> list[Usage]:
    return list(extractor.extract(SourceFile(repo, path, text.encode())).usages)


def code(path: str, text: str, repo: str = "r") -> list[Usage]:
    return run(OpsCodeExtractor(), path, text, repo)


def of(usages: list[Usage], kind: str) -> list[Usage]:
    return [u for u in usages if u.kind == kind]


# -- PromQL and names ------------------------------------------------------------------------------------

def test_promql_refs_with_the_labels_a_query_needs() -> None:
    p = parse('sum by (route) (rate(http_requests_total{code=~"5..", job="api", method!="GET"}[5m])) '
              '/ on(route) sum by (route) (rate(http_requests_total[5m]))')
    assert [(r.name, r.labels) for r in p.refs] == [("http_requests_total", ("code", "job", "route")),
                                                    ("http_requests_total", ("route",))]
    # a label a label_replace can make is not required of the metric; a regex that matches "" needs nothing
    p = parse('sum by (svc) (label_replace(up{x=~".*"}, "svc", "$1", "job", "(.*)"))')
    assert [(r.name, r.labels) for r in p.refs] == [("up", ())]
    assert parse('{__name__="foo", a="b"}').refs[0].name == "foo"


def test_promql_grafana_variables_errors_and_bounds() -> None:
    p = parse('histogram_quantile(0.9, sum by (le) (rate(x_bucket{job=~"$job"}[$__rate_interval])))')
    assert [(r.name, r.labels) for r in p.refs] == [("x_bucket", ("le",))] and not p.error
    assert parse("sum(rate($metric[5m]))").dynamic
    assert parse("rate(foo[5m]").error.startswith("PromQL:")
    assert "nested deeper" in parse("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)).error
    assert parse("").error == "empty expression"


def test_exposed_series_by_library_convention() -> None:
    assert set(N.exposed("orders_total", "prometheus", N.COUNTER, lang="python")) == {"orders_total", "orders_created"}
    assert set(N.exposed("orders", "prometheus", N.COUNTER, lang="python")) == {"orders_total", "orders_created"}
    assert set(N.exposed("orders", "prometheus", N.COUNTER, lang="go")) == {"orders"}
    assert set(N.exposed("latency", "prometheus", N.HISTOGRAM, lang="go")) == {"latency_bucket", "latency_sum", "latency_count"}
    assert set(N.exposed("latency", "prometheus", N.SUMMARY, lang="javascript")) == {"latency", "latency_sum", "latency_count"}
    assert "rpc_duration_milliseconds_bucket" in N.exposed("rpc.duration", "otel", N.HISTOGRAM, unit="ms")
    assert "io_bytes_per_second" in N.exposed("io", "otel", N.GAUGE, unit="By/s")
    assert "cpu_utilization_ratio" in N.exposed("cpu.utilization", "otel", N.GAUGE, unit="1")
    assert "http_server_requests_seconds_count" in N.exposed("http.server.requests", "micrometer", N.TIMER)
    assert "payload_bytes_sum" in N.exposed("payload", "micrometer", N.DISTRIBUTION, unit="bytes")


# -- rule files, dashboards, SLOs, flags, pipelines -------------------------------------------------------

RULES = """\
groups:
  - name: api
    rules:
      - alert: HighErrors
        expr: |
          sum(rate(http_requests_total{code=~"5.."}[5m]))
            / sum(rate(http_requests_total[5m])) > 0.05
        for: 5m
        labels: {severity: page}
        annotations: {runbook_url: "https://rb/high-errors"}
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: Broken
        expr: rate(foo[5m]
"""


def test_rule_file_alerts_records_reads_at_their_tokens() -> None:
    p = RulesExtractor().extract(SourceFile("r", "rules/api.yaml", RULES.encode()))
    alerts = of(list(p.usages), "ops.alert")
    a = alerts[0]
    assert (a.name, a.range.start_line, a.attrs["for"], a.attrs["severity"], a.attrs["runbook"]) == \
        ("HighErrors", 3, "5m", "page", "https://rb/high-errors")
    reads = of(list(p.usages), "ops.read")
    assert [(r.name, r.range.start_line, r.range.start_col, r.attrs["owner"]["name"]) for r in reads] == [
        ("http_requests_total", 5, 19, "HighErrors"), ("http_requests_total", 6, 23, "HighErrors"),
        ("http_requests_total", 11, 33, "job:http_requests:rate5m")]
    assert of(list(p.usages), "ops.record")[0].name == "job:http_requests:rate5m"
    (err,) = p.errors
    assert err.line == 13 and err.reason.startswith("alert Broken: PromQL:")


def test_prometheus_rule_resource_and_a_bare_list_of_rules() -> None:
    crd = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n  - name: g\n    rules:\n" \
          "    - alert: A\n      expr: up == 0\n"
    assert [u.name for u in run(RulesExtractor(), "k8s/rules.yaml", crd)] == ["A", "up"]
    bare = "- alert: B\n  expr: foo_total > 1\n- alert: C\n  expr: bar > 2\n"
    assert [u.name for u in run(RulesExtractor(), "alerts.yml", bare)] == ["B", "foo_total", "C", "bar"]
    # a YAML file that merely mentions expr and alert is not a rule file
    assert run(RulesExtractor(), "other.yaml", "alert: true\nexpr: 1\n") == []


DASHBOARD = """\
{"dashboard": {"title": "API", "uid": "api",
 "panels": [
  {"type": "row", "title": "Row", "panels": [
    {"id": 3, "title": "Errors", "targets": [{"expr": "sum(rate(http_requests_total{code=~\\"5..\\"}[$__rate_interval]))"}]}]},
  {"id": 4, "title": "Logs", "datasource": {"type": "loki"}, "targets": [{"expr": "{app=\\"api\\"} |= \\"error\\""}]}
 ],
 "templating": {"list": [{"name": "route", "query": "label_values(http_requests_total, route)"}]}}}
"""


def test_grafana_dashboard_panels_in_rows_loki_skipped_variables_read() -> None:
    p = GrafanaExtractor().extract(SourceFile("r", "dash/api.json", DASHBOARD.encode()))
    assert not p.errors
    assert [(u.kind, u.name, u.range.start_line) for u in p.usages] == [
        ("ops.panel", "Errors", 3), ("ops.read", "http_requests_total", 3), ("ops.read", "http_requests_total", 6)]
    assert p.usages[0].attrs["dashboard"] == "API"
    assert p.usages[2].attrs["owner"]["kind"] == "variable" and p.usages[2].attrs["labels"] == ["route"]


def test_slos_openslo_sloth_pyrra() -> None:
    openslo = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{code!~"5.."}[5m]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total[5m]))'}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{target: 0.999}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: dd}
spec:
  indicator: {spec: {thresholdMetric: {metricSource: {type: Datadog, spec: {query: "avg:x{*}"}}}}}
"""
    us = run(SLOExtractor(), "slo/api.yaml", openslo)
    slo = of(us, "ops.slo")
    assert [(s.name, s.attrs["service"], s.attrs.get("objective"), s.attrs.get("window")) for s in slo] == [
        ("api-availability", "api", "0.999", "28d"), ("dd", "", None, None)]
    assert [(r.name, r.attrs["owner"]["role"]) for r in of(us, "ops.read")] == [("http_requests_total", "good"),
                                                                             ("http_requests_total", "total")]
    sloth = 'version: "prometheus/v1"\nservice: "api"\nslos:\n  - name: "req"\n    objective: 99.9\n    sli:\n' \
            '      events:\n        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))\n' \
            '        total_query: sum(rate(http_requests_total[{{.window}}]))\n'
    us = run(SLOExtractor(), "slo/sloth.yaml", sloth)
    assert [u.kind for u in us] == ["ops.slo", "ops.read", "ops.read"] and us[0].attrs["objective"] == "99.9"
    pyrra = "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: p, labels: {service: api}}\n" \
            "spec:\n  target: '99'\n  window: 2w\n  indicator:\n    latency:\n      success: {metric: 'x_bucket{le=\"1\"}'}\n" \
            "      total: {metric: x_count}\n"
    us = run(SLOExtractor(), "slo/pyrra.yaml", pyrra)
    assert [(u.kind, u.name) for u in us] == [("ops.slo", "p"), ("ops.read", "x_bucket"), ("ops.read", "x_count")]
    assert us[1].attrs["labels"] == ["le"]


def test_flag_definition_formats() -> None:
    flagd = '{"flags": {"new-ui": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}'
    (f,) = run(FlagsExtractor(), "config/flagd.json", flagd)
    assert (f.name, f.attrs["format"], f.attrs["variants"], f.attrs["default"]) == ("new-ui", "flagd", ["on", "off"], "on")
    unleash = '{"version": 1, "features": [{"name": "beta", "enabled": true, "strategies": [], "variants": [{"name": "a"}]}]}'
    (u,) = run(FlagsExtractor(), "unleash-export.json", unleash)
    assert (u.name, u.attrs["format"], u.attrs["variants"]) == ("beta", "unleash", ["a"])
    ld = '{"flags": {"dark": {"on": true, "variations": [true, false], "fallthrough": {"variation": 1}}}, "flagValues": {"x": 3}}'
    assert [(x.name, x.attrs["format"], x.attrs["default"]) for x in run(FlagsExtractor(), "ld.json", ld)] == [
        ("dark", "launchdarkly", "false"), ("x", "launchdarkly", "3")]
    plain = "flags:\n  checkout-v2: false\n  search:\n    default: on\n    variants: [on, off]\n"
    assert [(x.name, x.attrs["default"]) for x in run(FlagsExtractor(), "deploy/feature-flags.yaml", plain)] == [
        ("checkout-v2", "false"), ("search", "on")]
    # the plain shape counts only in a file named for flags
    assert run(FlagsExtractor(), "deploy/values.yaml", plain) == []


def test_pipelines_github_gitlab_argocd() -> None:
    gh = """\
name: cart
on: {push: {paths: ["services/cart/**"]}}
jobs:
  lint: {runs-on: x, steps: [{run: make lint}]}
  ship:
    runs-on: x
    environment: {name: prod}
    steps:
      - uses: docker/build-push-action@v5
        with: {context: services/cart}
"""
    (p,) = run(PipelinesExtractor(), ".github/workflows/cart.yml", gh)
    assert (p.name, p.attrs["environment"], p.attrs["builds"], p.attrs["paths"]) == ("ship", "prod", True, ["services/cart"])
    gl = "stages: [build]\nbuild-img:\n  stage: build\n  script: [docker build -t x services/api]\ntest:\n  script: [pytest]\n"
    assert [u.name for u in run(PipelinesExtractor(), ".gitlab-ci.yml", gl)] == ["build-img"]
    argo = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: cart}\nspec:\n  source:\n" \
           "    repoURL: https://git.example.com/shop/deploy.git\n    path: apps/cart\n  destination: {namespace: shop}\n"
    (d,) = run(PipelinesExtractor(), "argo/cart.yaml", argo)
    assert (d.kind, d.attrs["path"], d.attrs["namespace"]) == ("ops.deploy", "apps/cart", "shop")


# -- code ---------------------------------------------------------------------------------------------------

def test_metrics_in_every_language() -> None:
    py = code("m.py", 'import prometheus_client as prom\nfrom opentelemetry import metrics\n'
              'REQS = prom.Counter("reqs", "h", labelnames=["code"], namespace="api")\n'
              'lat = meter.create_histogram("rpc.duration", unit="ms")\n')
    assert [(u.name, u.attrs["lib"], u.attrs["type"], u.attrs["labels"], u.range.start_line) for u in of(py, "ops.metric")] == [
        ("api_reqs", "prometheus", "counter", ["code"], 2), ("rpc.duration", "otel", "histogram", [], 3)]
    go = code("collector/cpu.go", 'package collector\nimport "github.com/prometheus/client_golang/prometheus"\n'
              'const cpuSubsystem = "cpu"\n'
              'var d = prometheus.NewDesc(prometheus.BuildFQName(namespace, cpuSubsystem, "seconds_total"), "h", '
              '[]string{"cpu", "mode"}, nil)\n')
    (m,) = of(go, "ops.metric")
    assert (m.name, m.attrs["parts"], m.attrs["labels"]) == ("$namespace_cpu_seconds_total",
                                                             ["$namespace", "_", "cpu", "_", "seconds_total"], ["cpu", "mode"])
    js = code("m.ts", "import client from 'prom-client';\nimport { metrics } from '@opentelemetry/api';\n"
              "new client.Gauge({ name: 'queue_depth', help: 'h', labelNames: ['queue'] });\n"
              "meter.createCounter('jobs.done', { unit: '{job}' });\n")
    assert [(u.name, u.attrs["lib"], u.attrs["labels"]) for u in of(js, "ops.metric")] == [
        ("queue_depth", "prometheus", ["queue"]), ("jobs.done", "otel", [])]
    java = code("M.java", "import io.prometheus.client.Counter;\nclass M { static final Counter c = Counter.build()"
                '.name("jobs_total").help("h").labelNames("queue", "state").register(); }\n')
    assert [(u.name, u.attrs["labels"]) for u in of(java, "ops.metric")] == [("jobs_total", ["queue", "state"])]
    cs = code("M.cs", 'using Prometheus;\nclass M { static readonly Counter C = Metrics.CreateCounter("jobs_total", "h", '
              'new CounterConfiguration { LabelNames = new[] { "queue" } }); }\n')
    assert [(u.name, u.attrs["labels"]) for u in of(cs, "ops.metric")] == [("jobs_total", ["queue"])]
    # a Counter that is not a metric library's: nothing
    assert of(code("c.py", "from collections import Counter\nc = Counter('abc')\n"), "ops.metric") == []


def test_spans_and_flag_evaluations() -> None:
    go = code("s.go", 'package s\nimport "go.opentelemetry.io/otel"\nfunc f() { _, sp := tracer.Start(ctx, "db.query") }\n')
    assert [(u.name, u.range.start_line) for u in of(go, "ops.span")] == [("db.query", 2)]
    java = code("S.java", 'import io.opentelemetry.api.trace.Tracer;\nclass S { void f() { tracer.spanBuilder("pay").startSpan(); } }\n')
    assert [u.name for u in of(java, "ops.span")] == ["pay"]
    un = code("f.js", "const { initialize } = require('unleash-client');\nif (unleash.isEnabled('beta-search')) {}\n")
    assert [(u.name, u.attrs["sdk"]) for u in of(un, "ops.flag_eval")] == [("beta-search", "unleash")]
    ld = code("F.java", 'import com.launchdarkly.sdk.server.LDClient;\nclass F { boolean b = client.boolVariation("dark-mode", ctx, false); }\n')
    assert [u.name for u in of(ld, "ops.flag_eval")] == ["dark-mode"]
    py = code("f.py", 'from openfeature import api\nFLAG = "new-ui"\nclient.get_string_value(FLAG, "a")\n')
    assert [u.name for u in of(py, "ops.flag_eval")] == ["new-ui"]


def test_routes_and_guards_by_framework() -> None:
    express = code("r.js", "const express = require('express');\nconst admin = express.Router();\n"
                   "admin.get('/users', listUsers);\nadmin.post('/users', createUser);\napp.use('/admin', requireAdmin, admin);\n")
    assert [(u.name, u.attrs["guards"]) for u in of(express, "ops.route")] == [
        ("GET /admin/users", ["requireAdmin"]), ("POST /admin/users", ["requireAdmin"])]
    gin = code("r.go", 'package r\nimport "github.com/gin-gonic/gin"\nfunc R(r *gin.Engine) {\n'
               '  api := r.Group("/api", AuthRequired())\n  api.GET("/orders", list)\n  r.GET("/ping", ping)\n}\n')
    assert [(u.name, u.attrs["guards"], u.attrs["router"]) for u in of(gin, "ops.route")] == [
        ("GET /api/orders", ["AuthRequired"], "r"), ("GET /ping", [], "r")]
    spring = code("C.java", "import org.springframework.web.bind.annotation.*;\n@RestController @RequestMapping(\"/admin\")\n"
                  "class C {\n  @GetMapping(\"/a\") @Secured(\"ROLE_ADMIN\") String a() { return \"\"; }\n"
                  "  @GetMapping(\"/b\") String b() { return \"\"; }\n}\n"
                  "class Sec { void c(HttpSecurity h) { h.authorizeHttpRequests(x -> x.requestMatchers(\"/admin/b\").permitAll()); } }\n")
    routes = of(spring, "ops.route")
    assert [(u.name, u.attrs["guards"]) for u in routes] == [("GET /admin/a", ['@Secured("ROLE_ADMIN")']), ("GET /admin/b", [])]
    (rule,) = of(spring, "ops.authz_rule")
    idx = ops_index.build(spring)
    assert ops_index.effective(idx, routes[1])[1] is True  # permitAll makes it public
    assert rule.attrs["patterns"] == ["/admin/b"]
    aspnet = code("C.cs", "using Microsoft.AspNetCore.Mvc;\n[ApiController][Route(\"api/[controller]\")][Authorize]\n"
                  "public class OrdersController : ControllerBase {\n  [HttpGet(\"{id}\")] public IActionResult Get(int id) => Ok();\n}\n")
    assert [(u.name, u.attrs["guards"]) for u in of(aspnet, "ops.route")] == [("GET /api/Orders/{id}", ["[Authorize]"])]
    # an HTTP client instance sending data is no route (its last argument is a body, not a handler)
    client = code("api.js", "import service from './index';\nservice.post('/v1/login', {user});\n"
                  "service.put('/v1/cart', [1]);\nrouter.post('/v1/orders', auth, create);\n")
    assert [u.name for u in of(client, "ops.route")] == ["POST /v1/orders"]


# -- linking ----------------------------------------------------------------------------------------------

def test_links_need_the_documented_convention_and_respect_a_pinned_service() -> None:
    py = code("checkout/m.py", 'from prometheus_client import Counter\nC = Counter("orders", "h", ["status"])\n', repo="checkout")
    go = code("m.go", 'package m\nimport "github.com/prometheus/client_golang/prometheus"\n'
              'var C = prometheus.NewCounter(prometheus.CounterOpts{Name: "orders"})\n', repo="cart")
    rules = run(RulesExtractor(), "r.yaml", "- alert: A\n  expr: rate(orders_total[5m]) > 0\n- alert: B\n  expr: orders > 0\n"
                                   "- alert: C\n  expr: rate(orders_total{job=\"checkout\", status=\"x\", zone=\"a\"}[5m]) > 0\n",
                repo="obs")
    idx = ops_index.build(py + go + rules, lambda repo, path: repo)
    links = {(lk.read.attrs["owner"]["name"], lk.target.repo) for lk in idx.metric_links}
    # Python's counter is scraped as orders_total; Go's as orders: no cross-match, no guess
    assert links == {("A", "checkout"), ("B", "cart"), ("C", "checkout")}


def test_go_names_resolve_through_the_package_constants() -> None:
    m = code("collector/cpu.go", 'package collector\nimport "github.com/prometheus/client_golang/prometheus"\n'
             'var d = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cpu", "seconds_total"), "h", nil, nil)\n')
    ns = code("collector/collector.go", 'package collector\nconst namespace = "node"\n')
    other = code("other/x.go", 'package other\nconst namespace = "other"\n')
    rules = run(RulesExtractor(), "r.yaml", "- alert: A\n  expr: rate(node_cpu_seconds_total[5m]) > 1\n")
    idx = ops_index.build(m + ns + other + rules)
    assert [idx.name_of(lk.target) for lk in idx.metric_links] == ["node_cpu_seconds_total"]


def test_unguarded_needs_two_guarded_siblings_and_skips_public_paths() -> None:
    src = ('from fastapi import APIRouter, Depends\nr = APIRouter()\n'
           '@r.get("/a")\ndef a(u=Depends(current_user)): ...\n'
           '@r.get("/b")\ndef b(u=Depends(current_user)): ...\n'
           '@r.get("/healthz")\ndef h(): ...\n'
           '@r.get("/c")\ndef c(): ...\n')
    idx = ops_index.build(code("api.py", src))
    assert [(u.route.name, u.guard) for u in ops_index.unguarded(idx)] == [("GET /c", "current_user")]
    two = code("api2.py", src.replace('@r.get("/b")\ndef b(u=Depends(current_user)): ...\n', ""))
    assert ops_index.unguarded(ops_index.build(two)) == []


def test_rego_policies_name_routes_and_count_as_their_guard() -> None:
    from indexers.sources.ops.rego import RegoExtractor

    rego = ('package shop.authz\n\ndefault allow := false\n\nallow if {\n    input.path == ["orders", id]\n}\n'
            'allow if glob.match("/admin/*", ["/"], input.request.path)\nallow if startswith(input.path, "/public/")\n')
    pol = run(RegoExtractor(), "policy/authz.rego", rego)
    assert [(p.name, p.attrs["match"], p.attrs["rule"], p.range.start_line, p.range.start_col) for p in pol] == [
        ("/orders/{id}", "exact", "allow", 5, 19), ("/admin/*", "glob", "allow", 7, 21), ("/public/", "prefix", "allow", 8, 33)]
    api = code("api.py", 'from fastapi import APIRouter, Depends\nr = APIRouter()\n'
               '@r.get("/orders/{order_id}")\ndef o(): ...\n@r.get("/admin/stats")\ndef s(u=Depends(current_user)): ...\n'
               '@r.get("/public/x")\ndef p(u=Depends(current_user)): ...\n@r.get("/other")\ndef x(): ...\n')
    idx = ops_index.build(api + pol)
    by = {r.name: ops_index.effective(idx, r)[0] for r in idx.routes}
    assert by["GET /orders/{order_id}"] == ["OPA shop.authz.allow"]
    assert by["GET /admin/stats"] == ["current_user", "OPA shop.authz.allow"]
    assert by["GET /other"] == []
    # /orders/{order_id} is guarded by the policy, so only /other lacks a guard; its siblings share none
    assert ops_index.unguarded(idx) == []


@pytest.mark.parametrize("pattern,path,ok", [("/admin/**", "/admin/x/y", True), ("/admin/**", "/admin", True),
                                             ("/api/*/items", "/api/1/items", True), ("/api/*", "/api/1/2", False)])
def test_ant_patterns(pattern: str, path: str, ok: bool) -> None:
    assert ops_index.ant_match(pattern, path) is ok


def test_hostile_inputs_never_raise() -> None:
    deep = "- alert: X\n  expr: " + "(" * 5000 + "a" + ")" * 5000 + "\n"
    p = RulesExtractor().extract(SourceFile("r", "r.yaml", deep.encode()))
    assert any("nested deeper" in e.reason for e in p.errors)
    assert GrafanaExtractor().extract(SourceFile("r", "d.json", b'{"panels": [, "targets"')).usages == []
    assert OpsCodeExtractor().extract(SourceFile("r", "x.py", b"import prometheus_client\n" + b"(" * 3000)).usages == []
