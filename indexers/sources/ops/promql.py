"""PromQL read with a real parser: which metrics an expression selects, with which labels.

`promql-parser` (PyPI; Python bindings of the Rust crate GreptimeDB and others use) parses the
expression into its syntax tree; the walk here collects every vector selector (plain, in a range, in a
subquery) as a `MetricRef`: the metric name, its label matchers, and the labels the expression needs the
metric's series to carry. A label counts as needed when a matcher names it with a value that can only
match a present label (`=` with a non-empty value, `=~` whose regex cannot match the empty string), or
when an aggregation groups `by` it and the aggregated operand selects exactly this one metric, with no
`label_replace`/`label_join` that could have made the label. Anything less certain is left out: a label
needed that is missing from the code breaks the rule, so it must be sure.

Grafana template variables are not PromQL: `$__rate_interval` and friends in a range become `5m`, other
`$var`/`${var}`/`[[var]]` outside string literals become identifiers that the walk ignores (so a panel
that selects `$metric` yields no reference, and says so). Input is bounded before the parser sees it:
length (`MAX_CHARS`) and bracket nesting (`MAX_NESTING`), since parsing deep nesting is quadratic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

MAX_CHARS = 32_000
MAX_NESTING = 96
VAR_PREFIX = "__grafana_var_"

# Functions whose output carries labels their input did not have.
_LABEL_MAKERS = frozenset({"label_replace", "label_join"})
_OPS = {int(pp.MatchOp.Equal): "=", int(pp.MatchOp.NotEqual): "!=", int(pp.MatchOp.Re): "=~",
        int(pp.MatchOp.NotRe): "!~"}


@dataclass(frozen=True, slots=True)
class MetricRef:
    """One vector selector: `name` ('' when only a regex on `__name__` selects it), `matchers` as
    (label, op, value), `labels` the label names the expression needs its series to carry."""

    name: str
    matchers: tuple[tuple[str, str, str], ...] = ()
    labels: tuple[str, ...] = ()

    def value_of(self, label: str) -> str | None:
        """The value an equality matcher requires for `label`, if any."""
        for name, op, value in self.matchers:
            if name == label and op == "=":
                return value
        return None


@dataclass(frozen=True, slots=True)
class Parsed:
    refs: tuple[MetricRef, ...] = ()
    error: str = ""  # why the expression could not be read ('' when it was)
    dynamic: bool = False  # a selector named by a template variable: the references are incomplete


_RANGE_VAR = re.compile(r"\[\s*(?:\$\{?\w+(?::\w+)?\}?|\[\[\w+\]\])\s*(?::\s*(?:\$\{?\w+\}?|\w+)\s*)?\]")
_OFFSET_VAR = re.compile(r"\boffset\s+(?:\$\{?\w+\}?|\[\[\w+\]\])")
_VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')


def substitute_variables(expr: str) -> str:
    """Grafana template variables replaced by PromQL the parser accepts (see the module docstring)."""
    if "$" not in expr and "[[" not in expr:
        return expr
    expr = _RANGE_VAR.sub("[5m]", expr)
    expr = _OFFSET_VAR.sub("offset 5m", expr)
    out: list[str] = []
    last = 0
    for m in _STRING.finditer(expr):  # variables inside string literals stay as they are
        out.append(_VAR.sub(_ident, expr[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_VAR.sub(_ident, expr[last:]))
    return "".join(out)


def _ident(m: re.Match[str]) -> str:
    return VAR_PREFIX + (m.group(1) or m.group(2) or m.group(3))


def _nesting(expr: str) -> int:
    depth = deepest = 0
    for ch in _STRING.sub('""', expr):
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def parse(expr: str) -> Parsed:
    """The metric references of a PromQL expression; never raises."""
    text = expr.strip()
    if not text:
        return Parsed(error="empty expression")
    if len(text) > MAX_CHARS:
        return Parsed(error=f"expression longer than {MAX_CHARS} characters: not read")
    text = substitute_variables(text)
    if _nesting(text) > MAX_NESTING:
        return Parsed(error=f"expression nested deeper than {MAX_NESTING} levels: not read")
    try:
        tree = pp.parse(text)
    except Exception as exc:  # noqa: BLE001 - the parser reports every problem as an exception
        return Parsed(error=f"PromQL: {str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__}")
    walk = _Walk()
    walk.visit(tree, ())
    return Parsed(tuple(walk.refs), "", walk.dynamic)


class _Walk:
    def __init__(self) -> None:
        self.refs: list[MetricRef] = []
        self.dynamic = False

    def visit(self, node: Any, grouped: tuple[str, ...]) -> None:
        """`grouped`: labels an enclosing aggregation groups by, when this subtree is its only selector."""
        if isinstance(node, pp.VectorSelector):
            self.selector(node, grouped)
        elif isinstance(node, pp.MatrixSelector):
            self.selector(node.vector_selector, grouped)
        elif isinstance(node, pp.AggregateExpr):
            mod = node.modifier
            labels: tuple[str, ...] = ()
            if mod is not None and mod.type == pp.AggModifierType.By:
                labels = tuple(str(x) for x in mod.labels)
            sole = _selectors(node.expr) == 1 and not _makes_labels(node.expr)
            self.visit(node.expr, (grouped + labels) if sole else ())
            if node.param is not None:
                self.visit(node.param, ())
        elif isinstance(node, pp.Call):
            passed = grouped if node.func.name not in _LABEL_MAKERS else ()
            for arg in node.args:
                self.visit(arg, passed)
        elif isinstance(node, pp.BinaryExpr):
            self.visit(node.lhs, ())
            self.visit(node.rhs, ())
        elif isinstance(node, (pp.ParenExpr, pp.SubqueryExpr, pp.UnaryExpr)):
            self.visit(node.expr, grouped)

    def selector(self, vs: Any, grouped: tuple[str, ...]) -> None:
        name = str(vs.name or "")
        matchers: list[tuple[str, str, str]] = []
        for m in vs.matchers.matchers:
            op = _OPS.get(int(m.op), "?")
            if m.name == "__name__":
                if op == "=":
                    name = name or str(m.value)
                continue
            matchers.append((str(m.name), op, str(m.value)))
        if vs.matchers.or_matchers:  # `{a="1" or b="2"}`: no single label set is required
            return self._add(name, tuple(matchers), ())
        if name.startswith(VAR_PREFIX) or not name:
            self.dynamic = self.dynamic or name.startswith(VAR_PREFIX) or not name
            return
        needed = [lbl for lbl, op, value in matchers if _needs_label(op, value)]
        needed += [g for g in grouped if not g.startswith(VAR_PREFIX)]
        self._add(name, tuple(matchers), tuple(dict.fromkeys(needed)))

    def _add(self, name: str, matchers: tuple[tuple[str, str, str], ...], labels: tuple[str, ...]) -> None:
        if name and not name.startswith(VAR_PREFIX):
            self.refs.append(MetricRef(name, matchers, labels))


def _needs_label(op: str, value: str) -> bool:
    if op == "=":
        return value != "" and not value.startswith("$")
    if op == "=~":
        try:
            return re.fullmatch(value, "") is None and "$" not in value
        except re.error:
            return False
    return False


def _selectors(node: Any) -> int:
    count = 0

    def pre(n: Any) -> None:
        nonlocal count
        if isinstance(n, pp.VectorSelector):
            count += 1

    pp.walk(node, pre)
    return count


def _makes_labels(node: Any) -> bool:
    found = False

    def pre(n: Any) -> bool | None:
        nonlocal found
        if isinstance(n, pp.Call) and n.func.name in _LABEL_MAKERS:
            found = True
            return False
        return None

    pp.walk(node, pre)
    return found
