"""Span names in code: OpenTelemetry tracers (Python `start_as_current_span`/`start_span`, Go
`tracer.Start(ctx, name)`, JS/TS `startActiveSpan`/`startSpan`, Java `spanBuilder` and `@WithSpan("name")`)
and .NET `ActivitySource.StartActivity(name)`. Only literal (or constant) names, only in files that import
the tracing API. Facts: `ops.span` at the name's literal.
"""

from __future__ import annotations

from indexers.sources.ops.code.facts import OpsFacts, node_text, positional

_PY = ("start_as_current_span", "start_span")
_JS = ("startActiveSpan", "startSpan")


def spans(f: OpsFacts) -> None:
    fam = f.family
    if fam == "python" and f.imported("opentelemetry"):
        for c in f.calls:
            pos = positional(c.args)
            if c.name in _PY and c.recv and pos and (name := f.value(pos[0])):
                f.emit("ops.span", pos[0], name, "provides", "otel", lib="otel")
    elif fam == "go" and f.imported("go.opentelemetry.io/otel"):
        for c in f.calls:
            if c.name == "Start" and len(c.args) >= 2 and ("racer" in c.recv or c.recv.endswith(")")) \
                    and (name := f.value(c.args[1])):
                f.emit("ops.span", c.args[1], name, "provides", "otel", lib="otel")
    elif fam == "javascript" and f.imported("@opentelemetry"):
        for c in f.calls:
            if c.name in _JS and c.recv and c.args and (name := f.value(c.args[0])):
                f.emit("ops.span", c.args[0], name, "provides", "otel", lib="otel")
    elif fam == "java" and f.imported("io.opentelemetry"):
        for c in f.calls:
            if c.name == "spanBuilder" and c.args and (name := f.value(c.args[0])):
                f.emit("ops.span", c.args[0], name, "provides", "otel", lib="otel")
        for m in f.methods:
            mods = next((ch for ch in m.named_children if ch.type == "modifiers"), None)
            for ann in (mods.named_children if mods is not None else []):
                if ann.type == "annotation" and node_text(ann.child_by_field_name("name")) == "WithSpan":
                    args = ann.child_by_field_name("arguments")
                    lit = next((a for a in (args.named_children if args is not None else []) if f.value(a)), None)
                    if lit is not None:
                        f.emit("ops.span", lit, f.value(lit) or "", "provides", "otel", lib="otel")
    elif fam == "csharp" and f.imported("system.diagnostics", "opentelemetry"):
        for c in f.calls:
            pos = positional(c.args)
            if c.name == "StartActivity" and c.recv and pos and (name := f.value(pos[0])):
                f.emit("ops.span", pos[0], name, "provides", "otel", lib="activity")
