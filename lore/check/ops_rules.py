"""Breaking operational changes: a metric, one of its labels, a span, or a feature flag that production
depends on, removed or renamed in the working tree (or at --head) against the base.

Only the files that differ from the base are read again (`baseline.changed_paths`), with the operational
extractors alone; every other file's facts come from the Snapshot. The readers are found in the base
state (an index of the Snapshot's operational facts with the changed files as they were at the base),
since a removed metric has no readers left afterwards:

- `OPS_METRIC_REMOVED`: no definition in the workspace exposes any series an alert, recording rule, SLO
  or dashboard read from a metric the base defined here.
- `OPS_METRIC_LABEL_REMOVED`: the metric is still defined here, without a label its readers need.
- `OPS_SPAN_REMOVED`: a span that a query names (spanmetrics `span_name`) is no longer started.
- `OPS_FLAG_REMOVED`: a flag definition is gone while code still evaluates the flag.

Each finding names its readers as the consumers that would break (so it is an error), and can be
accepted like a contract change (`lore:ignore RULE reason` on the line, or lore.toml's [check] ignore).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from indexers.discover import looks_binary, skip_reason_by_name
from indexers.model import Location, Span, Usage
from indexers.ops import index as ops_index
from indexers.ops.index import OpsIndex
from indexers.positions import SourceFile
from indexers.sources import registry
from lore.check import baseline
from lore.check.findings import ERROR, Consumer, Finding
from lore.check.suppress import IgnoreRule, config_reason, inline
from lore.query import ops as q
from lore.query.ops_problems import ops_facts

RULES = ("OPS_METRIC_REMOVED", "OPS_METRIC_LABEL_REMOVED", "OPS_SPAN_REMOVED", "OPS_FLAG_REMOVED")


def is_ops_path(path: str) -> bool:
    return any(e.name.startswith("ops.") for e in registry.for_path(path))


def check_ops(snapshot: Any, repo: str, root: Path, base_sha: str, head: str | None, *,
              ignore: Sequence[IgnoreRule] = (), exclude: tuple[str, ...] = (),
              max_file_size: int = 2_000_000) -> tuple[list[Finding], list[str]]:
    head_sha = baseline.resolve_base(root, head, head) if head is not None else None
    paths = [p for p in baseline.changed_paths(root, base_sha, head_sha)
             if is_ops_path(p) and skip_reason_by_name(p, exclude) is None]
    if not paths:
        return [], []
    base_blobs = baseline.read_blobs(root, base_sha, paths)
    head_blobs = baseline.read_blobs(root, head_sha, paths) if head_sha is not None else _work_tree(root, paths)

    def facts(blobs: dict[str, bytes]) -> list[Usage]:
        out: list[Usage] = []
        for p, data in blobs.items():
            if len(data) <= max_file_size and not looks_binary(data):
                out += ops_facts(repo, p, SourceFile(repo, p, data).text)
        return out

    base_facts, head_facts = facts(base_blobs), facts(head_blobs)
    if not any(u.kind in ("ops.metric", "ops.span", "ops.flag") for u in base_facts):
        return [], []
    changed = set(paths)
    others = [u for u in q.ops_usages(snapshot) if not (u.repo == repo and u.path in changed)]
    service_of = _service_namer(snapshot)
    before = ops_index.build(others + base_facts, service_of)
    after = ops_index.build(others + head_facts, service_of)

    def head_text(p: str) -> str | None:
        data = head_blobs.get(p)
        return SourceFile(repo, p, data).text if data is not None else None

    findings = _metrics(before, after, base_facts, head_facts, head_text, service_of)
    findings += _spans(before, after, base_facts, head_facts, head_text, service_of)
    findings += _flags(before, after, base_facts, head_facts, head_text)
    return [_suppress(f, head_text, base_blobs, repo, ignore) for f in findings], []


def _service_namer(snapshot: Any) -> Callable[[str, str], str]:
    def service_of(r: str, p: str) -> str:
        s = snapshot.service_for(r, p)
        return s.name if s is not None else ""

    return service_of


def _work_tree(root: Path, paths: list[str]) -> dict[str, bytes]:
    out = {}
    for p in paths:
        f = root / p
        try:
            if f.is_file() and not f.is_symlink():
                out[p] = f.read_bytes()
        except OSError:
            continue
    return out


def _place(old: Usage, head_facts: list[Usage], head_text: Callable[[str], str | None]) -> tuple[Location, Usage | None]:
    """Where to report a removal in the working tree: a definition of the same kind on the same line (a
    rename), else the old line clamped to the file, else the old location."""
    same = [u for u in head_facts if u.path == old.path and u.kind == old.kind and u.range.start_line == old.range.start_line]
    if same:
        return Location(same[0].repo, same[0].path, same[0].range), same[0]
    text = head_text(old.path)
    if text is not None:
        line = min(old.range.start_line, max(text.count("\n") - (1 if text.endswith("\n") else 0), 0))
        return Location(old.repo, old.path, Span(line, 0, line, 0)), None
    return Location(old.repo, old.path, old.range), None


def _consumers(idx: OpsIndex, reads: list[Usage], entity: str, service_of: Callable[[str, str], str]) -> tuple[Consumer, ...]:
    seen: dict[tuple[str, str, int], Consumer] = {}
    for r in reads:
        owner = idx.owner(r) or r
        k = (owner.repo, owner.path, owner.range.start_line)
        if k not in seen:
            label, _ = q.owner_label(idx, r)
            seen[k] = Consumer(service_of(owner.repo, owner.path), owner.repo, owner.path, owner.range.start_line, label, 1.0)
    return tuple(seen.values())


def _names(consumers: tuple[Consumer, ...]) -> str:
    shown = ", ".join(f"{c.entity} ({c.repo}/{c.path}:{c.line + 1})" for c in consumers[:3])
    return shown + (f" and {len(consumers) - 3} more" if len(consumers) > 3 else "")


def _metrics(before: OpsIndex, after: OpsIndex, base_facts: list[Usage], head_facts: list[Usage],
             head_text: Callable[[str], str | None], service_of: Callable[[str, str], str]) -> list[Finding]:
    out = []
    for m in (u for u in base_facts if u.kind == "ops.metric"):
        deps = before.dependents(m)
        if not deps:
            continue
        name = before.name_of(m)
        series = before.exposes(m)
        old = Location(m.repo, m.path, m.range)
        if not any(after.series.get(s) for s in series):
            at, new = _place(m, head_facts, head_text)
            consumers = _consumers(before, [lk.read for lk, _ in deps], f"metric:{name}", service_of)
            renamed = f" (renamed to {after.name_of(new)}?)" if new is not None else ""
            out.append(Finding("OPS_METRIC_REMOVED", f"metric {name} is no longer defined{renamed}; read by {_names(consumers)}",
                               f"metric:{name}", old, at if new is not None else None, at, ERROR, consumers))
            continue
        if not m.attrs.get("labels_known"):
            continue
        still = [d for s in series for d, _ in after.series.get(s, []) if (d.repo, d.path) == (m.repo, m.path)]
        if not still or not all(d.attrs.get("labels_known") for d in still):
            continue
        kept = set().union(*(set(d.attrs.get("labels") or []) for d in still))
        for label in sorted(set(m.attrs.get("labels") or []) - kept):
            reads = [lk.read for lk, _ in deps if label in (lk.read.attrs.get("labels") or [])]
            if not reads:
                continue
            consumers = _consumers(before, reads, f"metric:{name}", service_of)
            at = Location(still[0].repo, still[0].path, still[0].range)
            out.append(Finding("OPS_METRIC_LABEL_REMOVED", f"label {label} of metric {name} is no longer defined; "
                                                           f"used by {_names(consumers)}", f"metric:{name}.{label}", old,
                               at, at, ERROR, consumers))
    return out


def _spans(before: OpsIndex, after: OpsIndex, base_facts: list[Usage], head_facts: list[Usage],
           head_text: Callable[[str], str | None], service_of: Callable[[str, str], str]) -> list[Finding]:
    out = []
    for s in (u for u in base_facts if u.kind == "ops.span"):
        reads = before.span_reads.get(s.name, [])
        if not reads or s.name in after.spans:
            continue
        at, new = _place(s, head_facts, head_text)
        consumers = _consumers(before, reads, f"span:{s.name}", service_of)
        renamed = f" (renamed to {new.name}?)" if new is not None else ""
        out.append(Finding("OPS_SPAN_REMOVED", f"span {s.name} is no longer started{renamed}; read by {_names(consumers)}",
                           f"span:{s.name}", Location(s.repo, s.path, s.range), at if new is not None else None, at,
                           ERROR, consumers))
    return out


def _flags(before: OpsIndex, after: OpsIndex, base_facts: list[Usage], head_facts: list[Usage],
           head_text: Callable[[str], str | None]) -> list[Finding]:
    out = []
    for d in (u for u in base_facts if u.kind == "ops.flag"):
        evals = before.evals.get(d.name, [])
        if not evals or after.flags.get(d.name):
            continue
        at, _ = _place(d, head_facts, head_text)
        consumers = tuple(Consumer("", e.repo, e.path, e.range.start_line, f"flag:{d.name}", 1.0) for e in evals)
        shown = ", ".join(f"{e.repo}/{e.path}:{e.range.start_line + 1}" for e in evals[:3])
        out.append(Finding("OPS_FLAG_REMOVED", f"flag {d.name} is no longer defined, but {len(evals)} site"
                                               f"{'s' if len(evals) != 1 else ''} evaluate it: {shown}",
                           f"flag:{d.name}", Location(d.repo, d.path, d.range), None, at, ERROR, consumers))
    return out


def _suppress(f: Finding, head_text: Callable[[str], str | None], base_blobs: dict[str, bytes], repo: str,
              ignore: Sequence[IgnoreRule]) -> Finding:
    lines = (head_text(f.at.path) or "").split("\n")
    reason = inline(lines, f.at.range.start_line, f.rule)
    by = "inline"
    if reason is None and f.old is not None and f.old.path in base_blobs:
        reason = inline(SourceFile(repo, f.old.path, base_blobs[f.old.path]).text.split("\n"), f.old.range.start_line, f.rule)
    if reason is None:
        reason, by = config_reason(list(ignore), f.rule, f.entity), "config"
    if reason is None:
        return f
    return Finding(f.rule, f.message, f.entity, f.old, f.new, f.at, f.severity, f.consumers, f.fixes, reason, by)
