"""Metric definitions in code, with their label keys: Prometheus clients (client_python, client_golang
including `NewDesc` collectors, prom-client, client_java and the 1.x `io.prometheus.metrics` API,
prometheus-net), OpenTelemetry meters (Python, Go, JS/TS, Java, .NET) and Micrometer.

A definition is recognised by its library's own shape, never by a bare name: a client_golang
constructor takes a `*Opts` struct literal; a prom-client metric is constructed with an object holding
`name` and `help`; client_python classes are resolved through the file's imports; OpenTelemetry and
Micrometer calls count only in files that import them. The name is read from literals and the file's
string constants; a Go name built from constants declared in another file of the package keeps
`$identifier` parts that linking resolves (`ops.const`).

Facts: `ops.metric` at the name's literal (attrs: lib, type, labels, labels_known, unit, parts when not
resolved here), and `ops.const` for a Go package's string constants that can be parts of a name.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.sources.ops import names as N
from indexers.sources.ops.code.facts import (
    Call,
    OpsFacts,
    fields,
    flat,
    keyword,
    node_text,
    positional,
    strings_in,
)

_PY_CLASSES = {"Counter": N.COUNTER, "Gauge": N.GAUGE, "Histogram": N.HISTOGRAM, "Summary": N.SUMMARY, "Info": N.INFO,
               "Enum": N.ENUM}
_OTEL_PY = {"create_counter": N.COUNTER, "create_up_down_counter": N.UPDOWN, "create_histogram": N.HISTOGRAM,
            "create_gauge": N.GAUGE, "create_observable_counter": N.COUNTER, "create_observable_gauge": N.GAUGE,
            "create_observable_up_down_counter": N.UPDOWN}
_OTEL_JS = {"createCounter": N.COUNTER, "createUpDownCounter": N.UPDOWN, "createHistogram": N.HISTOGRAM,
            "createGauge": N.GAUGE, "createObservableCounter": N.COUNTER, "createObservableGauge": N.GAUGE,
            "createObservableUpDownCounter": N.UPDOWN}
_OTEL_JAVA = {"counterBuilder": N.COUNTER, "upDownCounterBuilder": N.UPDOWN, "histogramBuilder": N.HISTOGRAM,
              "gaugeBuilder": N.GAUGE}
_OTEL_CS = {"CreateCounter": N.COUNTER, "CreateUpDownCounter": N.UPDOWN, "CreateHistogram": N.HISTOGRAM,
            "CreateGauge": N.GAUGE, "CreateObservableCounter": N.COUNTER, "CreateObservableGauge": N.GAUGE,
            "CreateObservableUpDownCounter": N.UPDOWN}
_PROMNET = {"CreateCounter": N.COUNTER, "CreateGauge": N.GAUGE, "CreateHistogram": N.HISTOGRAM,
            "CreateSummary": N.SUMMARY}
_GO_NEW = re.compile(r"New(Counter|Gauge|Histogram|Summary|Untyped)(Vec|Func)?$")
_GO_OTEL = re.compile(r"(?:Int64|Float64)(Observable)?(Counter|UpDownCounter|Histogram|Gauge)$")
_GO_KIND = {"Counter": N.COUNTER, "Gauge": N.GAUGE, "Histogram": N.HISTOGRAM, "Summary": N.SUMMARY,
            "Untyped": N.UNTYPED, "UpDownCounter": N.UPDOWN}
_JAVA_ROOTS = {"Counter": N.COUNTER, "Gauge": N.GAUGE, "Histogram": N.HISTOGRAM, "Summary": N.SUMMARY, "Info": N.INFO,
               "Timer": N.TIMER, "DistributionSummary": N.DISTRIBUTION, "LongTaskTimer": N.LONG_TASK}
_MICROMETER_REGISTRY = {"counter": N.COUNTER, "timer": N.TIMER, "summary": N.DISTRIBUTION, "gauge": N.GAUGE}
_NAME_PART = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:.]*$")
MAX_CONSTS = 300


def metrics(f: OpsFacts) -> None:
    fam = f.family
    if fam == "python":
        _python(f)
    elif fam == "go":
        _go(f)
    elif fam == "javascript":
        _javascript(f)
    elif fam == "java":
        _java(f)
    elif fam == "csharp":
        _csharp(f)


def _define(f: OpsFacts, node: Any, name: str, lib: str, kind: str, labels: list[str] | None, *,
            unit: str = "", parts: list[str] | None = None, via: str = "") -> None:
    if not name or len(name) > 200:
        return
    attrs: dict[str, Any] = {"lib": lib, "type": kind, "labels": labels or [], "labels_known": labels is not None}
    if unit:
        attrs["unit"] = unit
    if parts and any(p.startswith("$") for p in parts):
        attrs["parts"] = parts
    if via:
        attrs["via"] = via
    f.emit("ops.metric", node, name, "provides", lib, **attrs)


# -- Python ------------------------------------------------------------------------------------------

def _python(f: OpsFacts) -> None:
    prom = f.imported("prometheus_client")
    otel = f.imported("opentelemetry")
    for c in f.calls:
        if prom:
            full = f.aliases.get(c.callee, "") if not c.recv else f.aliases.get(c.recv, c.recv) + "." + c.name
            cls = full.rsplit(".", 1)[-1]
            if full.startswith("prometheus_client") and cls in _PY_CLASSES:
                _python_prom(f, c, _PY_CLASSES[cls])
                continue
        if otel and c.name in _OTEL_PY and c.recv:
            pos = positional(c.args)
            node = keyword(c.args, "name") or (pos[0] if pos else None)
            name = f.value(node)
            unit_node = keyword(c.args, "unit") or (pos[1] if len(pos) > 1 else None)
            if name and node is not None:
                _define(f, node, name, "otel", _OTEL_PY[c.name], None, unit=f.value(unit_node) or "")


def _python_prom(f: OpsFacts, c: Call, kind: str) -> None:
    pos = positional(c.args)
    node = keyword(c.args, "name") or (pos[0] if pos else None)
    name = f.value(node)
    if not name or node is None:
        return
    label_node = keyword(c.args, "labelnames") or (pos[2] if len(pos) > 2 else None)
    labels = strings_in(label_node) if label_node is not None else []
    if kind == N.ENUM:
        labels = (labels or []) + [name]
    parts = [f.value(keyword(c.args, "namespace")) or "", f.value(keyword(c.args, "subsystem")) or "", name]
    full = "_".join(p for p in parts if p)
    _define(f, node, full, "prometheus", kind, labels, unit=f.value(keyword(c.args, "unit")) or "")


# -- Go ----------------------------------------------------------------------------------------------

def _go_parts(f: OpsFacts, node: Any, depth: int = 0) -> list[str] | None:
    """A Go name expression as parts: literals, constants (`$name` when declared elsewhere),
    `prometheus.BuildFQName(a, b, c)` and `+` concatenation; None for anything else."""
    if node is None or depth > 8:
        return None
    s = f.value(node)
    if s is not None:
        return [s]
    if node.type == "identifier" or node.type == "selector_expression":
        return ["$" + flat(node).rsplit(".", 1)[-1]]
    if node.type == "call_expression" and flat(node.child_by_field_name("function")).endswith("BuildFQName"):
        out: list[str] = []
        for a in positional(_go_args(node)):
            got = _go_parts(f, a, depth + 1)
            if got is None:
                return None
            out.append("".join(got))
        return ["_".join(p for p in out if p)] if all(not p.startswith("$") for p in out) else _join_fq(out)
    if node.type == "binary_expression" and node_text(node.child_by_field_name("operator")) == "+":
        left = _go_parts(f, node.child_by_field_name("left"), depth + 1)
        right = _go_parts(f, node.child_by_field_name("right"), depth + 1)
        return left + right if left is not None and right is not None else None
    return None


def _join_fq(parts: list[str]) -> list[str]:
    """BuildFQName's parts with the `_` separators it puts between the non-empty ones."""
    out: list[str] = []
    for p in parts:
        if not p:
            continue
        if out:
            out.append("_")
        out.append(p)
    return out


def _go_args(call_node: Any) -> list[Any]:
    args = call_node.child_by_field_name("arguments")
    return [a for a in (args.named_children if args is not None else []) if a.type != "comment"]


def _go(f: OpsFacts) -> None:
    prom = f.imported("github.com/prometheus/client_golang")
    otel = f.imported("go.opentelemetry.io/otel")
    if prom:
        n = 0
        for ident, value in f.consts.items():
            if _NAME_PART.match(value) and n < MAX_CONSTS:
                n += 1
                f.usages.append(_const(f, ident, value))
    for c in f.calls:
        pos = positional(c.args)
        if prom and (m := _GO_NEW.search(c.name)) and pos and pos[0].type == "composite_literal" \
                and flat(pos[0].child_by_field_name("type")).endswith("Opts"):
            opts = fields(pos[0])
            name_node = opts.get("Name")
            parts: list[str] = []
            for key in ("Namespace", "Subsystem", "Name"):
                got = _go_parts(f, opts.get(key)) if key in opts else [""]
                if got is None:
                    parts = []
                    break
                parts.append("".join(got))
            if not parts or name_node is None:
                continue
            labels: list[str] | None = []
            if m.group(2) == "Vec":
                labels = strings_in(pos[1]) if len(pos) > 1 else None
            const = opts.get("ConstLabels")
            if const is not None and labels is not None:
                labels = labels + [k.strip('"') for k in fields(const)]
            _go_define(f, name_node, _join_fq(parts), _GO_KIND[m.group(1)], labels)
        elif prom and c.name == "NewDesc" and pos:
            parts2 = _go_parts(f, pos[0])
            if parts2 is None:
                continue
            labels2 = strings_in(pos[2]) if len(pos) > 2 and pos[2].type != "nil" else ([] if len(pos) > 2 else None)
            if len(pos) > 3 and pos[3].type == "composite_literal" and labels2 is not None:
                labels2 = labels2 + [k.strip('"') for k in fields(pos[3])]
            node = pos[0] if f.value(pos[0]) is not None else _name_literal(f, pos[0]) or pos[0]
            _go_define(f, node, parts2, N.UNTYPED, labels2, via="NewDesc")
        elif otel and (m2 := _GO_OTEL.search(c.name)) and c.recv and pos and f.value(pos[0]):
            unit = ""
            for opt in pos[1:]:
                if opt.type == "call_expression" and flat(opt.child_by_field_name("function")).endswith("WithUnit"):
                    unit = f.value((_go_args(opt) or [None])[0]) or ""
            _define(f, pos[0], f.value(pos[0]) or "", "otel", _GO_KIND[m2.group(2)], None, unit=unit)


def _name_literal(f: OpsFacts, node: Any) -> Any:
    """The last string literal inside a name expression (BuildFQName's name argument), for its position."""
    found = None
    stack = [node]
    while stack:
        n = stack.pop()
        if f.value(n) is not None and "string" in n.type:
            found = n if found is None or n.start_byte > found.start_byte else found
        stack.extend(n.named_children)
    return found


def _go_define(f: OpsFacts, node: Any, parts: list[str], kind: str, labels: list[str] | None, via: str = "") -> None:
    name = "".join(parts)
    if "$" in name:
        _define(f, node, name, "prometheus", kind, labels, parts=parts, via=via)
    else:
        _define(f, node, name, "prometheus", kind, labels, via=via)


def _const(f: OpsFacts, ident: str, value: str) -> Any:
    from indexers.model import Span, Usage

    return Usage(f.src.repo, f.src.path, Span(0, 0, 0, 0), "ops.const", ident, "go", "", f.lang, {"value": value})


# -- JavaScript / TypeScript -------------------------------------------------------------------------

def _javascript(f: OpsFacts) -> None:
    otel = f.imported("@opentelemetry")
    for c in f.calls:
        if c.node.type == "new_expression" and c.name in _PY_CLASSES and c.args and c.args[0].type == "object":
            opts = fields(c.args[0])
            if "name" in opts and "help" in opts:
                name = f.value(opts["name"])
                if name:
                    labels = strings_in(opts["labelNames"]) if "labelNames" in opts else []
                    _define(f, opts["name"], name, "prometheus", _PY_CLASSES[c.name], labels)
        elif otel and c.name in _OTEL_JS and c.recv and c.args:
            name = f.value(c.args[0])
            if name:
                opts = fields(c.args[1]) if len(c.args) > 1 and c.args[1].type == "object" else {}
                _define(f, c.args[0], name, "otel", _OTEL_JS[c.name], None, unit=f.value(opts.get("unit")) or "")


# -- Java --------------------------------------------------------------------------------------------

def _chain(node: Any) -> list[tuple[str, list[Any]]]:
    """The calls chained on `node` (`x.name("a").help("b")...`): (method, arguments) outwards."""
    out = []
    cur = node
    while cur.parent is not None and cur.parent.type == "method_invocation" and cur.parent.child_by_field_name("object") == cur:
        cur = cur.parent
        args = cur.child_by_field_name("arguments")
        out.append((node_text(cur.child_by_field_name("name")),
                    [a for a in (args.named_children if args is not None else []) if "comment" not in a.type]))
        if len(out) > 40:
            break
    return out


def _java(f: OpsFacts) -> None:
    micrometer = f.imported("io.micrometer")
    simpleclient = f.imported("io.prometheus")
    otel = f.imported("io.opentelemetry")
    for c in f.calls:
        root = c.recv.rsplit(".", 1)[-1]
        if c.name in ("build", "builder") and root in _JAVA_ROOTS and (micrometer or simpleclient):
            lib = "micrometer" if micrometer and not simpleclient or root in ("Timer", "DistributionSummary",
                                                                             "LongTaskTimer") else "prometheus"
            name_node = c.args[0] if c.args else None
            labels: list[str] = []
            unit = ""
            for meth, args in _chain(c.node):
                if meth == "name" and args:
                    name_node = args[0]
                elif meth == "labelNames":
                    labels += [s for a in args if (s := f.value(a))]
                elif meth == "tag" and args:
                    labels += [s for a in args[:1] if (s := f.value(a))]
                elif meth == "tags":
                    labels += [s for a in args[::2] if (s := f.value(a))]
                elif meth in ("baseUnit", "unit") and args:
                    unit = f.value(args[0]) or ""
                elif meth == "register":
                    break
            name = f.value(name_node)
            if name and name_node is not None:
                kind = _JAVA_ROOTS[root]
                _define(f, name_node, name, lib, kind, labels, unit=unit, via="" if lib == "micrometer" else "")
        elif micrometer and c.name in _MICROMETER_REGISTRY and c.args and f.value(c.args[0]) and c.recv:
            tags = [s for a in c.args[1::2] if (s := f.value(a))] if c.name != "gauge" else []
            _define(f, c.args[0], f.value(c.args[0]) or "", "micrometer", _MICROMETER_REGISTRY[c.name], tags)
        elif otel and c.name in _OTEL_JAVA and c.args and f.value(c.args[0]):
            unit = next((f.value(a[0]) or "" for m, a in _chain(c.node) if m == "setUnit" and a), "")
            _define(f, c.args[0], f.value(c.args[0]) or "", "otel", _OTEL_JAVA[c.name], None, unit=unit)
    if micrometer:
        for m in f.methods:
            mods = next((ch for ch in m.named_children if ch.type == "modifiers"), None)
            for ann in (mods.named_children if mods is not None else []):
                name = node_text(ann.child_by_field_name("name"))
                if name in ("Timed", "Counted") and ann.type == "annotation":
                    args = ann.child_by_field_name("arguments")
                    vals = [a for a in (args.named_children if args is not None else [])]
                    lit = next((a for a in vals if f.value(a)), None)
                    if lit is None:
                        lit = next((a.child_by_field_name("value") for a in vals if a.type == "element_value_pair"
                                    and node_text(a.child_by_field_name("key")) == "value"), None)
                    if lit is not None and f.value(lit):
                        _define(f, lit, f.value(lit) or "", "micrometer", N.TIMER if name == "Timed" else N.COUNTER, [])


# -- C# ----------------------------------------------------------------------------------------------

def _csharp(f: OpsFacts) -> None:
    promnet = f.imported("prometheus")
    otel = f.imported("system.diagnostics.metrics", "opentelemetry")
    for c in f.calls:
        pos = positional(c.args)
        generic = "<" in node_text(c.node.child_by_field_name("function"))
        if otel and c.name in _OTEL_CS and c.recv and (generic or not promnet) and pos and f.value(pos[0]):
            unit_node = keyword(c.args, "unit") or (pos[1] if len(pos) > 1 else None)
            _define(f, pos[0], f.value(pos[0]) or "", "otel", _OTEL_CS[c.name], None, unit=f.value(unit_node) or "")
        elif promnet and c.name in _PROMNET and not generic and len(pos) >= 2 and f.value(pos[0]):
            labels: list[str] | None = [s for a in pos[2:] if (s := f.value(a))]
            for a in pos[2:]:
                if a.type == "object_creation_expression":
                    init = next((ch for ch in a.named_children if ch.type == "initializer_expression"), None)
                    got = strings_in(fields(init).get("LabelNames")) if init is not None else None
                    labels = (labels or []) + (got or [])
            _define(f, pos[0], f.value(pos[0]) or "", "prometheus", _PROMNET[c.name], labels)
