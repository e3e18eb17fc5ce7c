"""Operational problems in a file (diagnostics), each citing its evidence:

- `route-unguarded`: a route with no auth guard in a router whose other routes (two or more, none
  public) all use one (`indexers.ops.index.unguarded`).
- `flag-undefined`: a flag evaluated here that no indexed flag file defines (only when some flag file is
  indexed: otherwise nothing is known about definitions).
- `flag-unused`: a flag defined here that no indexed code evaluates (only when some evaluation is
  indexed; a lower bound when repositories or languages were not read).
- `ops-label-unknown`: an alert, SLO or dashboard query needs a label the metric's definition in code does
  not declare (the definition lists its labels; scrape-time labels such as `job` are never judged).
- As you type, against the file at HEAD: `ops-metric-removed`, `ops-label-removed`, `ops-span-removed`:
  a metric, one of its labels, or a span that an alert, recording rule, SLO or dashboard reads is no
  longer defined anywhere in the workspace, naming those readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from indexers.model import Location, Span, Usage
from indexers.ops import index as ops_index
from indexers.ops.index import OpsIndex, key
from indexers.positions import SourceFile
from indexers.snapshot import Snapshot
from indexers.sources import registry
from lore.query import ops as q
from lore.query.diagnostics import Problem, Related, changed_head_lines

MAX_RELATED = 5


def _loc(u: Usage) -> Location:
    return Location(u.repo, u.path, u.range)


def problems(snap: Snapshot, repo: str, path: str, *, head_lines: Sequence[str] | None = None,
             buffer_lines: Sequence[str] | None = None) -> list[Problem]:
    here = [u for u in snap.usages_by_file.get((repo, path), []) if u.kind.startswith("ops.")]
    out: list[Problem] = []
    if here:
        idx = q.index(snap)
        out += unguarded_routes(idx, here) + flag_problems(snap, idx, here) + unknown_labels(idx, here)
    if head_lines is not None and buffer_lines is not None and list(head_lines) != list(buffer_lines):
        out += removed(snap, repo, path, head_lines, buffer_lines)
    return out


def unguarded_routes(idx: OpsIndex, here: list[Usage]) -> list[Problem]:
    out = []
    for u in ops_index.unguarded(idx, [r for r in here if r.kind == "ops.route"]):
        related = tuple(Related(f"{s.name} uses {u.guard}", _loc(s)) for s in u.siblings[:MAX_RELATED])
        out.append(Problem("route-unguarded", f"route {u.route.name} is registered without {u.guard}, which the "
                                              f"{len(u.siblings)} other routes of router {u.route.attrs.get('router')} use",
                           "warning", u.route.range, related, {"route": u.route.name, "guard": u.guard}))
    return out


def flag_problems(snap: Snapshot, idx: OpsIndex, here: list[Usage]) -> list[Problem]:
    out = []
    files = len({(d.repo, d.path) for d in ops_index.any_of(idx.flags)})
    for ev in here:
        if ev.kind == "ops.flag_eval" and idx.flags and ev.name not in idx.flags:
            out.append(Problem("flag-undefined", f"flag {ev.name} is evaluated here but defined in none of the {files} "
                                                 f"indexed flag file{'s' if files != 1 else ''}", "warning", ev.range, (),
                               {"flag": ev.name}))
    bound = q.lower_bound(snap)
    for d in here:
        if d.kind == "ops.flag" and idx.evals and d.name not in idx.evals:
            out.append(Problem("flag-unused", f"flag {d.name} is defined but no indexed code evaluates it"
                                              + (f" ({bound})" if bound else ""), "information", d.range, (),
                               {"flag": d.name, "lower_bound": bool(bound)}))
    return out


def unknown_labels(idx: OpsIndex, here: list[Usage]) -> list[Problem]:
    out = []
    for r in here:
        if r.kind != "ops.read":
            continue
        for lk in idx.links_by_read.get(key(r), []):
            missing = q._labels_missing(idx, lk)
            if not missing:
                continue
            t = lk.target
            have = ", ".join(t.attrs.get("labels") or []) or "none"
            label, _ = q.owner_label(idx, r)
            out.append(Problem("ops-label-unknown", f"{label} needs label{'s' if len(missing) > 1 else ''} "
                                                    f"{', '.join(missing)} on {r.name}, which its definition in "
                                                    f"{t.repo}/{t.path}:{t.range.start_line + 1} does not declare "
                                                    f"(labels: {have})", "information", r.range,
                               (Related(f"{idx.name_of(t)} defined here", _loc(t)),),
                               {"metric": r.name, "labels": missing}))
            break
    return out


# -- as you type, against HEAD ---------------------------------------------------------------------------

def ops_facts(repo: str, path: str, text: str) -> list[Usage]:
    """The `ops.*` usages of one file's text (the operational extractors only)."""
    src = SourceFile(repo, path, text.encode("utf-8"))
    out: list[Usage] = []
    for ex in registry.for_path(path):
        if not ex.name.startswith("ops."):
            continue
        try:
            out += ex.extract(src).usages
        except Exception:  # noqa: BLE001 - a file that does not extract has nothing to compare
            continue
    return out


def _readers(idx: OpsIndex, deps: list[Usage]) -> tuple[str, tuple[Related, ...]]:
    labels: dict[str, Usage] = {}
    for r in deps:
        label, owner = q.owner_label(idx, r)
        labels.setdefault(label, owner or r)
    names = list(labels)
    text = ", ".join(f"{n} ({q.at(u)})" for n, u in list(labels.items())[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    related = tuple(Related(f"{n} reads it", _loc(u)) for n, u in list(labels.items())[:MAX_RELATED])
    return text, related


def removed(snap: Snapshot, repo: str, path: str, head_lines: Sequence[str], buffer_lines: Sequence[str]) -> list[Problem]:
    head = ops_facts(repo, path, "\n".join(head_lines))
    if not any(u.kind in ("ops.metric", "ops.span") for u in head):
        return []
    now = q.index(snap)
    service_of = _service_of(snap)
    others = [u for u in q.ops_usages(snap) if (u.repo, u.path) != (repo, path)]
    before = ops_index.build(others + head, service_of)
    changed = changed_head_lines(head_lines, buffer_lines)
    last = max(len(buffer_lines) - 1, 0)
    current = [u for u in snap.usages_by_file.get((repo, path), []) if u.kind in ("ops.metric", "ops.span")]

    def place(old: Usage) -> tuple[Span, Usage | None]:
        line, _ = changed.get(old.range.start_line, (min(old.range.start_line, last), False))
        near = [u for u in current if u.kind == old.kind and u.range.start_line == line]
        return (near[0].range, near[0]) if near else (Span.line(line), None)

    out: list[Problem] = []
    for m in (u for u in head if u.kind == "ops.metric"):
        deps = [lk.read for lk, _ in before.dependents(m)]
        if not deps:
            continue
        name = before.name_of(m)
        series = before.exposes(m)
        rng, new = place(m)
        text, related = _readers(before, deps)
        if not any(now.series.get(s) for s in series):
            renamed = f" (now {now.name_of(new)})" if new is not None and new.kind == "ops.metric" else ""
            out.append(Problem("ops-metric-removed", f"metric {name} is no longer defined{renamed}; {text} read it",
                               "error", rng, related, {"metric": name, "readers": [q.at(d) for d in deps]}))
            continue
        still = [d for s in series for d, _ in now.series.get(s, []) if (d.repo, d.path) == (repo, path)]
        if not still or not m.attrs.get("labels_known"):
            continue
        kept = set().union(*(set(d.attrs.get("labels") or []) for d in still)) if all(d.attrs.get("labels_known") for d in still) else None
        if kept is None:
            continue
        for label in sorted(set(m.attrs.get("labels") or []) - kept):
            needing = [lk.read for lk, _ in before.dependents(m) if label in (lk.read.attrs.get("labels") or [])]
            if needing:
                t2, rel2 = _readers(before, needing)
                out.append(Problem("ops-label-removed", f"label {label} of metric {name} is no longer defined; {t2} "
                                                        f"use it", "error", still[0].range, rel2,
                                   {"metric": name, "label": label}))
    for s in (u for u in head if u.kind == "ops.span"):
        deps = before.span_reads.get(s.name, [])
        if deps and s.name not in now.spans:
            rng, new = place(s)
            text, related = _readers(before, deps)
            renamed = f" (now {new.name})" if new is not None else ""
            out.append(Problem("ops-span-removed", f"span {s.name} is no longer started{renamed}; {text} read it",
                               "error", rng, related, {"span": s.name}))
    return out


def _service_of(snap: Snapshot):  # type: ignore[no-untyped-def]
    def service_of(r: str, p: str) -> str:
        s = snap.service_for(r, p)
        return s.name if s is not None else ""

    return service_of
