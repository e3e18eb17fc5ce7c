"""Metric names as Prometheus exposes them, by the documented conventions of each instrumentation library.

Code names a metric one way and PromQL selects it another: a Python `Counter("orders")` is scraped as
`orders_total`, a histogram as `<name>_bucket`/`_sum`/`_count`, an OpenTelemetry `http.server.duration`
in `ms` as `http_server_duration_milliseconds_bucket`, a Micrometer timer `http.server.requests` as
`http_server_requests_seconds_count`. `exposed()` lists, for one definition in code, every series name
its library exposes, each with the convention that produced it, so that linking compares names exactly
and can say why two names are the same metric. Nothing here guesses: a name links only through these
rules.

- Prometheus clients (client_python, client_golang, prom-client, client_java): counters get `_total`
  where the client adds it (Python and Java add it, Go and Node expose the name as written); histograms
  `_bucket`/`_sum`/`_count`; summaries `_sum`/`_count` (and the bare name for quantiles, except in
  Python); Python and Java also expose `_created`; Python's `unit=` appends `_<unit>`; Info `_info`.
- OpenTelemetry → Prometheus (the specification's compatibility rules, the default of the Prometheus
  exporter and the collector): characters outside `[a-zA-Z0-9_:]` become `_`, the unit becomes a suffix
  (`ms` → `_milliseconds`, `By` → `_bytes`, `1` → `_ratio` for gauges, `{...}` dropped, `a/b` →
  `_a_per_b`), monotonic counters end in `_total`, histograms as above. The suffix-free form (exporters
  configured `without_units`/`without_type_suffix`, the collector's `add_metric_suffixes: false`) is a
  second, weaker convention.
- Micrometer's `PrometheusNamingConvention`: dots become `_`; counters `_total`; timers
  `_seconds_count`/`_sum`/`_max`/`_bucket`; distribution summaries with their base unit; long task timers
  `_seconds_active_count`/`_seconds_duration_sum`/`_seconds_max`.
"""

from __future__ import annotations

import re

# Kinds as extraction writes them.
COUNTER, GAUGE, HISTOGRAM, SUMMARY, UPDOWN, INFO, ENUM, UNTYPED = (
    "counter", "gauge", "histogram", "summary", "updowncounter", "info", "enum", "untyped")
TIMER, DISTRIBUTION, LONG_TASK = "timer", "distribution_summary", "long_task_timer"

_INVALID = re.compile(r"[^a-zA-Z0-9_:]+")
_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds", "min": "minutes",
          "h": "hours", "d": "days", "By": "bytes", "KBy": "kilobytes", "KiBy": "kibibytes", "MBy": "megabytes",
          "MiBy": "mebibytes", "GBy": "gigabytes", "GiBy": "gibibytes", "TBy": "terabytes", "TiBy": "tebibytes",
          "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
          "Hz": "hertz", "%": "percent"}
_PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}

Series = dict[str, str]  # exposed series name -> the convention that names it


def sanitize(name: str) -> str:
    """A name with every character Prometheus does not allow turned into `_` (runs collapsed)."""
    out = _INVALID.sub("_", name)
    if out and out[0].isdigit():
        out = "_" + out
    return re.sub(r"__+", "_", out)


def otel_unit(unit: str) -> str:
    """The Prometheus suffix of an OpenTelemetry (UCUM) unit, '' when it has none."""
    unit = re.sub(r"\{[^}]*\}", "", unit or "").strip()
    if not unit or unit == "1":
        return ""
    if "/" in unit:
        top, _, per = unit.partition("/")
        a = _UNITS.get(top, sanitize(top).strip("_")) if top else ""
        b = _PER_UNITS.get(per, _UNITS.get(per, sanitize(per).strip("_")))
        return f"{a}_per_{b}" if a and b else (f"per_{b}" if b else a)
    return _UNITS.get(unit, sanitize(unit).strip("_"))


def _with(name: str, suffix: str) -> str:
    return name if not suffix or name.endswith("_" + suffix) else f"{name}_{suffix}"


def _hist(base: str, why: str, out: Series, extra: tuple[str, ...] = ()) -> None:
    for s in ("_bucket", "_sum", "_count", *extra):
        out.setdefault(base + s, f"{why}: series {s}")


def exposed(name: str, lib: str, kind: str, *, lang: str = "", unit: str = "") -> Series:
    """Every series name a metric defined in code is scraped under, with the convention of each."""
    out: Series = {}
    if not name:
        return out
    if lib == "otel":
        _otel(name, kind, unit, out)
    elif lib == "micrometer":
        _micrometer(name, kind, unit, out)
    else:
        _prometheus(name, kind, lang, unit, out)
    return out


def _prometheus(name: str, kind: str, lang: str, unit: str, out: Series) -> None:
    adds_total = lang in ("python", "java")  # client_python and client_java add `_total`; Go and Node do not
    created = lang in ("python", "java")
    if lang == "python" and unit:
        name = _with(name, unit)
    if kind == COUNTER:
        if adds_total:
            base = name.removesuffix("_total")
            out[base + "_total"] = f"{lang} Prometheus client: a counter is exposed with _total"
            if created:
                out.setdefault(base + "_created", f"{lang} Prometheus client: a counter's _created series")
        else:
            out[name] = "counter, named as written"
    elif kind == HISTOGRAM:
        _hist(name, "histogram", out, ("_created",) if created else ())
    elif kind == SUMMARY:
        if lang != "python":
            out[name] = "summary quantiles"
        _hist(name, "summary", out, ("_created",) if created else ())
        out.pop(name + "_bucket", None)
    elif kind == INFO:
        out[_with(name, "info") if lang in ("python", "java") else name] = "info metric"
    else:
        out[name] = f"{kind or 'metric'}, named as written"


def _otel(name: str, kind: str, unit: str, out: Series) -> None:
    base = sanitize(name)
    suffix = otel_unit(unit)
    full = _with(base, suffix)
    if kind == GAUGE and (unit or "").strip() == "1":
        full = _with(full, "ratio")
    why = "OpenTelemetry to Prometheus: dots to _, unit suffix"
    if kind == COUNTER:
        out[_with(full, "total")] = why + ", _total for a monotonic counter"
    elif kind == HISTOGRAM:
        _hist(full, why + ", histogram", out)
    else:
        out[full] = why
    # The suffix-free form some exporters are configured to use.
    weak = "OpenTelemetry to Prometheus without unit and type suffixes"
    if kind == HISTOGRAM:
        _hist(base, weak, out)
    else:
        out.setdefault(base, weak)


def _micrometer(name: str, kind: str, unit: str, out: Series) -> None:
    base = sanitize(name.replace(".", "_").replace("-", "_"))
    why = "Micrometer Prometheus naming"
    if kind == COUNTER:
        out[_with(base, "total")] = why + ": counter _total"
    elif kind == TIMER:
        t = _with(base, "seconds")
        for s in ("_count", "_sum", "_max", "_bucket"):
            out[t + s] = f"{why}: timer {s}"
        out[t] = f"{why}: timer percentiles"
    elif kind == LONG_TASK:
        t = _with(base, "seconds")
        for s in ("_active_count", "_duration_sum", "_max"):
            out[t + s] = f"{why}: long task timer {s}"
    elif kind == DISTRIBUTION:
        d = _with(base, sanitize(unit)) if unit else base
        for s in ("_count", "_sum", "_max", "_bucket"):
            out[d + s] = f"{why}: distribution summary {s}"
    else:
        out[_with(base, sanitize(unit)) if unit else base] = f"{why}: {kind or 'gauge'}"


def builtin_labels(lib: str, kind: str) -> tuple[str, ...]:
    """Labels a library adds to a metric's series itself (beyond those the code names)."""
    if kind in (HISTOGRAM, TIMER, DISTRIBUTION):
        return ("le", "quantile") if lib == "micrometer" else ("le",)
    if kind == SUMMARY:
        return ("quantile",)
    return ()


# Labels that come from the scrape, not the code: `job`, `instance`, and whatever relabeling adds. A
# reference needing any label not named in code is never judged by it (see indexers.ops).
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "container", "service", "endpoint", "cluster",
                           "node", "prometheus", "prometheus_replica", "region", "zone", "env", "environment"})
