"""Service level objectives: OpenSLO (`SLO`/`SLI`, v1 and v1alpha), Sloth (`prometheus/v1` files and the
`PrometheusServiceLevel` resource) and Pyrra (`ServiceLevelObjective`): the service, objective, window,
and the metrics each indicator's queries read.

Sloth's `{{.window}}` placeholder is read as a range (`5m`) so the query parses as PromQL. OpenSLO
metric sources other than Prometheus-compatible ones (Datadog, New Relic, ...) are not PromQL and are
not read. Facts: `ops.slo` (the name token; attrs: format, service, objective, window) and one
`ops.read` per metric a query selects.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import FileError, Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, suffix
from indexers.sources.ops.doc import expr_attrs, get, load_doc, mappings, owner_of, plain, reads, span, text
from indexers.sources.ops.promql import parse
from indexers.sources.yaml.load import Loaded, Mapping, Scalar, YNode

_SNIFF = re.compile(rb"openslo/|sloth\.slok\.dev|prometheus/v1|pyrra\.dev|PrometheusServiceLevel")
_PROM_SOURCES = {"", "prometheus", "thanos", "mimir", "cortex", "victoriametrics", "grafana", "prometheusrule"}
_SLOTH_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
MAX_QUERIES = 50


class SLOExtractor(Extractor):
    name = "ops.slo"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml", ".json")

    def extract(self, src: SourceFile) -> Partial:
        if _SNIFF.search(src.data[:65536]) is None:
            return Partial()
        loaded, errors = load_doc(src)
        if loaded is None:
            return Partial(errors=errors)
        out: list[Usage] = []
        for doc in loaded.documents:
            if not isinstance(doc, Mapping):
                continue
            api = text(doc.get("apiVersion")) or ""
            kind = text(doc.get("kind")) or ""
            if api.startswith("openslo/") and kind in ("SLO", "SLI"):
                out += _openslo(src, loaded, doc, kind, errors)
            elif text(doc.get("version")) == "prometheus/v1" and "slos" in doc.entries:
                out += _sloth(src, loaded, text(doc.get("service")) or "", doc.get("slos"), errors)
            elif api.startswith("sloth.slok.dev/") and kind == "PrometheusServiceLevel":
                spec = doc.get("spec")
                out += _sloth(src, loaded, text(get(spec, "service")) or "", get(spec, "slos"), errors)
            elif api.startswith("pyrra.dev/") and kind == "ServiceLevelObjective":
                out += _pyrra(src, loaded, doc, errors)
        if not out:
            return Partial()
        return Partial(usages=out, errors=errors)


def _slo(src: SourceFile, loaded: Loaded, name_node: YNode, name: str, attrs: dict[str, Any],
         queries: list[tuple[str, Scalar]], errors: list[FileError]) -> list[Usage]:
    at = span(loaded, name_node)
    out: list[Usage] = []
    exprs = []
    for role, node in queries[:MAX_QUERIES]:
        raw = text(node) or ""
        parsed = parse(_SLOTH_WINDOW.sub("5m", raw))
        if parsed.error:
            errors.append(FileError(src.repo, src.path, f"SLO {name} {role}: {parsed.error}", node.start[0]))
        exprs.append({"role": role, **expr_attrs(raw, parsed)})
        out += reads(src, loaded, node, parsed, owner_of("slo", name, at, role=role))
    usage = Usage(src.repo, src.path, at, "ops.slo", name, attrs.get("service", ""), "", "",
                  {**attrs, "exprs": exprs})
    return [usage, *out]


def _openslo(src: SourceFile, loaded: Loaded, doc: Mapping, kind: str, errors: list[FileError]) -> list[Usage]:
    meta = doc.get("metadata")
    name_node = get(meta, "name")
    name = text(name_node)
    if not name or name_node is None:
        return []
    spec = doc.get("spec")
    attrs: dict[str, Any] = {"format": "openslo", "service": plain(text(get(spec, "service")) or ""),
                             "end_line": doc.end[0]}
    if kind == "SLI":
        attrs["sli"] = True
    objectives = mappings(get(spec, "objectives"))
    if objectives:
        target = text(objectives[0].get("target")) or text(objectives[0].get("targetPercent"))
        if target:
            attrs["objective"] = plain(target)
    windows = mappings(get(spec, "timeWindow"))
    if windows and (d := text(windows[0].get("duration"))):
        attrs["window"] = plain(d)
    if ref := text(get(spec, "indicatorRef")):
        attrs["indicator"] = plain(ref)
    queries: list[tuple[str, Scalar]] = []
    _metric_sources(get(spec, "indicator", "spec") if kind == "SLO" else spec, "", queries, 0)
    for o in objectives:  # v1alpha: objectives[].ratioMetrics
        _metric_sources(o, "", queries, 0)
    return _slo(src, loaded, name_node, name, attrs, queries, errors)


def _metric_sources(node: YNode | None, role: str, out: list[tuple[str, Scalar]], depth: int, inherited: str = "") -> None:
    """Every Prometheus `query` under an OpenSLO indicator, with its role (good, bad, total, ...); a
    metric source's `type` holds for everything under it."""
    if not isinstance(node, Mapping) or depth > 8:
        return
    source_type = (text(get(node, "metricSource", "type")) or text(node.get("type")) or inherited).lower()
    for key, pair in node.entries.items():
        value = pair.value
        if key == "query" and isinstance(value, Scalar) and source_type in _PROM_SOURCES:
            out.append((role or "query", value))
        elif isinstance(value, Mapping):
            sub = role if key in ("metricSource", "spec", "ratioMetric", "ratioMetrics", "thresholdMetric") else key
            _metric_sources(value, sub if key != "metricSource" else role, out, depth + 1, source_type)


def _sloth(src: SourceFile, loaded: Loaded, service: str, slos: YNode | None, errors: list[FileError]) -> list[Usage]:
    out: list[Usage] = []
    for slo in mappings(slos):
        name_node = slo.get("name")
        name = text(name_node)
        if not name or name_node is None:
            continue
        attrs: dict[str, Any] = {"format": "sloth", "service": plain(service), "end_line": slo.end[0]}
        if objective := text(slo.get("objective")):
            attrs["objective"] = plain(objective)
        if alert := text(get(slo, "alerting", "name")):
            attrs["alert"] = plain(alert)
        queries: list[tuple[str, Scalar]] = []
        for role, path in (("errors", ("sli", "events", "error_query")), ("total", ("sli", "events", "total_query")),
                           ("error ratio", ("sli", "raw", "error_ratio_query"))):
            node = get(slo, *path)
            if isinstance(node, Scalar):
                queries.append((role, node))
        out += _slo(src, loaded, name_node, name, attrs, queries, errors)
    return out


def _pyrra(src: SourceFile, loaded: Loaded, doc: Mapping, errors: list[FileError]) -> list[Usage]:
    name_node = get(doc, "metadata", "name")
    name = text(name_node)
    if not name or name_node is None:
        return []
    spec = doc.get("spec")
    labels = get(doc, "metadata", "labels")
    attrs: dict[str, Any] = {"format": "pyrra", "service": plain(text(get(labels, "service")) or text(get(labels, "app")) or ""),
                             "end_line": doc.end[0]}
    for key, attr in (("target", "objective"), ("window", "window")):
        if value := text(get(spec, key)):
            attrs[attr] = plain(value)
    queries: list[tuple[str, Scalar]] = []
    indicator = get(spec, "indicator")
    if isinstance(indicator, Mapping):
        for kind, pair in indicator.entries.items():
            for role, sub in (pair.value.entries.items() if isinstance(pair.value, Mapping) else []):
                node = get(sub.value, "metric")
                if isinstance(node, Scalar):
                    queries.append((f"{kind} {role}", node))
            if isinstance(get(pair.value, "metric"), Scalar):
                queries.append((kind, get(pair.value, "metric")))  # type: ignore[arg-type]
    return _slo(src, loaded, name_node, name, attrs, queries, errors)


EXTRACTORS: list[Extractor] = [SLOExtractor()]
