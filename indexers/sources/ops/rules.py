"""Prometheus rule files: alerting and recording rules (Prometheus, Thanos, Mimir/Cortex rulers, the
Prometheus Operator's `PrometheusRule`), each rule with the metrics its expression reads.

Shapes read: `groups: [{name, rules: [...]}]` (a rule file; Mimir/cortex-tools' `namespace:` wrapper
too), a `PrometheusRule` (`spec.groups`), and a bare list of rules (a fragment meant to be pasted into a
group). A rule is a mapping with `expr` and `alert` or `record`; anything else in such files (unit
tests' `promql_expr_test`, say) is not a rule. Expressions are parsed as PromQL (`promql`); one that does
not parse is reported on its line and yields no reads.

Facts: `ops.alert` (name token; attrs: group, for, severity, runbook, summary, expression) or
`ops.record` (the recorded metric's name token), and one `ops.read` per metric the expression selects.
"""

from __future__ import annotations

from typing import Any

from indexers.model import FileError, Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, suffix
from indexers.sources.ops.doc import expr_attrs, get, load_doc, mappings, owner_of, plain, reads, span, text
from indexers.sources.ops.promql import parse
from indexers.sources.yaml.load import Loaded, Mapping, Scalar, YNode

_SKIP_DIRS = frozenset({"node_modules", "vendor", "third_party", ".git"})


def rule_groups(root: YNode | None) -> list[tuple[str, list[Mapping]]]:
    """(group name, rule mappings) of a rule file, a PrometheusRule or a bare list of rules."""
    if isinstance(root, Mapping):
        groups = get(root, "spec", "groups") if text(get(root, "kind")) == "PrometheusRule" else get(root, "groups")
        out = []
        for g in mappings(groups):
            out.append((text(get(g, "name")) or "", mappings(get(g, "rules"))))
        return out
    rules = [r for r in mappings(root) if ("alert" in r.entries or "record" in r.entries) and "expr" in r.entries]
    return [("", rules)] if rules else []


class RulesExtractor(Extractor):
    name = "ops.rules"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml", ".json") and not any(p in _SKIP_DIRS for p in path.split("/")[:-1])

    def extract(self, src: SourceFile) -> Partial:
        data = src.data
        if b"expr" not in data or (b"alert" not in data and b"record" not in data):
            return Partial()
        loaded, errors = load_doc(src)
        if loaded is None:
            return Partial(errors=errors)
        out: list[Usage] = []
        found = False
        for doc in loaded.documents:
            for group, rules in rule_groups(doc):
                for rule in rules:
                    found = True
                    out += _rule(src, loaded, group, rule, errors)
        if not found:
            return Partial()  # not a rule file: its load errors are someone else's to report
        if b"{{" in data:  # a Helm template: not YAML until rendered, so syntax errors are expected
            errors = [e for e in errors if "syntax" not in e.reason]
        return Partial(usages=out, errors=errors)


def _rule(src: SourceFile, loaded: Loaded, group: str, rule: Mapping, errors: list[FileError]) -> list[Usage]:
    kind = "alert" if "alert" in rule.entries else "record"
    name_node = rule.get(kind)
    expr_node = rule.get("expr")
    name = text(name_node)
    expr = text(expr_node)
    if not name or name_node is None or expr is None or not isinstance(expr_node, Scalar):
        return []
    at = span(loaded, name_node)
    parsed = parse(expr)
    if parsed.error:
        errors.append(FileError(src.repo, src.path, f"{kind} {name}: {parsed.error}", expr_node.start[0]))
    attrs: dict[str, Any] = {"group": group, **expr_attrs(expr, parsed), "end_line": rule.end[0]}
    labels = get(rule, "labels")
    annotations = get(rule, "annotations")
    for key, node in (("for", get(rule, "for")), ("severity", get(labels, "severity")),
                      ("runbook", get(annotations, "runbook_url") or get(annotations, "runbook")),
                      ("summary", get(annotations, "summary") or get(annotations, "message")
                       or get(annotations, "description"))):
        value = text(node)
        if value:
            attrs[key] = plain(value)
    usage = Usage(src.repo, src.path, at, f"ops.{kind}", name, group, "", "", attrs)
    return [usage, *reads(src, loaded, expr_node, parsed, owner_of(kind, name, at))]


EXTRACTORS: list[Extractor] = [RulesExtractor()]
