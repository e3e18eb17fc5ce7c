"""Benchmark results as a markdown table, a JSON document and a PNG plot of each cost against
workspace size, with the machine they ran on and the issue's targets with where we stand.

Why one module: the three views must say the same thing; they all read the same results dict, and a
number that was not measured shows as "n/a" (with the reason in the JSON), never as a guess.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

LINEAR_SLACK = 1.15   # exponent of cost ~ files^b still counted as linear


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(*cmd: str) -> str | None:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return None

    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "git": version("git", "--version"), "ctags": version("ctags", "--version")}


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        v = f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v}{unit}"


def exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares b in cost = a * files^b over (files, cost) points; None with fewer than two."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x and y and x > 0 and y > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def _series(runs: dict[str, Any], *path: str) -> list[tuple[float, float]]:
    return [(r["workspace"]["files"], v) for r in runs.values() if isinstance(v := _get(r, *path), int | float)]


def targets(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each judged at the size it names (or the largest measured, said so)."""
    order = [s for s in ("XS", "S", "M", "L") if s in runs]
    largest = order[-1] if order else None
    out: list[dict[str, Any]] = []

    def judge(name: str, goal: str, at_l: bool, path: tuple[str, ...], ok: Any) -> None:
        size = "L" if at_l else largest
        value = _get(runs.get(size or "", {}), *path)
        if at_l and "L" not in runs:
            status = "not measured at L"
            value = _get(runs.get(largest or "", {}), *path)
        elif value is None:
            status = "not measured"
        else:
            status = "met" if ok(value) else "not met"
        out.append({"target": name, "goal": goal, "size": size if status != "not measured at L" else largest,
                    "value": value, "status": status})

    judge("cold index throughput", ">= 0.5x raw tree-sitter parse (MB/s)", False, ("lore_index", "cold", "ratio_to_parse"),
          lambda v: v >= 0.5)
    judge("no-op re-index", "< 1 s at L", True, ("lore_index", "noop", "seconds"), lambda v: v < 1.0)
    judge("single-file incremental", "< 200 ms (in-process seconds)", False, ("lore_index", "incremental", "seconds"),
          lambda v: v < 0.2)
    judge("hover p99 over stdio", "< 10 ms at L", True, ("lsp", "lore", "hover", "p99_ms"), lambda v: v < 10)
    judge("server RSS", "< 300 MB at L", True, ("lsp", "lore", "peak_rss_mb"), lambda v: v < 300)
    for label, path in (("cold index seconds", ("lore_index", "cold", "seconds")),
                        ("no-op re-index seconds", ("lore_index", "noop", "seconds")),
                        ("server peak RSS", ("lsp", "lore", "peak_rss_mb"))):
        b = exponent(_series(runs, *path))
        out.append({"target": f"{label} linear in size", "goal": f"cost ~ files^b, b <= {LINEAR_SLACK}",
                    "size": ",".join(order), "value": None if b is None else round(b, 2),
                    "status": "not measured (needs two sizes)" if b is None else ("met" if b <= LINEAR_SLACK else "not met")})
    return out


def _reason(d: Any) -> str:
    return str(d.get("reason", "")) if isinstance(d, dict) and d.get("available") is False else ""


def markdown(results: dict[str, Any]) -> str:
    m, runs = results["machine"], results["runs"]
    lines = [f"# Lore benchmarks ({results['generated_at']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, {m['git']}, "
             f"{m['ctags'] or 'ctags: not installed'}. Load average before each size: "
             + ", ".join(f"{s} {_fmt(r['workspace'].get('load_before'))}" for s, r in runs.items())
             + " (other work on the machine skews every figure; ratios are taken within one run).", "", "## Workspaces", "",
             "| size | repos | files | MB | source files | contract files | commits | generation s |",
             "|---|---|---|---|---|---|---|---|"]
    for s, r in runs.items():
        w = r["workspace"]
        lines.append(f"| {s} | {w['repos']} | {w['files']} | {w['bytes'] / 1e6:.1f} | {w['source_files']} | "
                     f"{w['contract_files']} | {w['commits']} | {_fmt(w.get('generation_seconds'))}"
                     f"{' (cached)' if w.get('reused') else ''} |")
    lines += ["", "## Baselines", "", "| size | parse files/s | parse MB/s (all cores) | ctags files/s | ctags MB/s | "
              "git log s | git log commits/s |", "|---|---|---|---|---|---|---|"]
    for s, r in runs.items():
        b = r["baselines"]
        lines.append(f"| {s} | {_fmt(_get(b, 'parse', 'files_per_s'))} | {_fmt(_get(b, 'parse', 'mb_per_s'))} | "
                     f"{_fmt(_get(b, 'ctags', 'files_per_s'))} | {_fmt(_get(b, 'ctags', 'mb_per_s'))} | "
                     f"{_fmt(_get(b, 'git_log', 'seconds'))} | {_fmt(_get(b, 'git_log', 'commits_per_s'))} |")
    lines += ["", "## Lore indexing (`lore index --json`; seconds as reported, wall clock in brackets; "
              "MB/s = all workspace bytes / seconds)", "",
              "| size | cold s | files/s | MB/s | x parse | no-op s | 1-file s | history s (x git log) | "
              "peak RSS MB (tree) | cache KB / 1000 files |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s, r in runs.items():
        li = r.get("lore_index", {})
        if not li.get("available") or not _get(li, "cold", "available"):
            lines.append(f"| {s} | {_reason(li) or _reason(li.get('cold'))} |||||||||")
            continue
        c, n, i, h = li["cold"], li.get("noop", {}), li.get("incremental", {}), li.get("history", {})
        hist = f"{_fmt(h.get('seconds'))} ({_fmt(h.get('ratio_to_git_log'))}x)" if h.get("available") else "n/a"
        lines.append(f"| {s} | {_fmt(c.get('seconds'))} [{_fmt(c['wall_seconds'])}] | {_fmt(c.get('files_per_s'))} | "
                     f"{_fmt(c.get('mb_per_s'))} | {_fmt(c.get('ratio_to_parse'))} | {_fmt(n.get('seconds'))} "
                     f"[{_fmt(n.get('wall_seconds'))}] | {_fmt(i.get('seconds'))} [{_fmt(i.get('wall_seconds'))}] | {hist} | "
                     f"{_fmt(c.get('peak_rss_tree_mb'))} | {_fmt(_get(li, 'cache', 'bytes_per_1000_files') and li['cache']['bytes_per_1000_files'] / 1024)} |")
    lines += ["", "## LSP over stdio (p50 / p99 ms; bare pygls server = baseline)", "",
              "| size | bare hover | lore hover | lore definition | lore references | non-empty h/d/r | hover p99 x bare | "
              "server peak RSS MB | ready after s |", "|---|---|---|---|---|---|---|---|---|"]
    for s, r in runs.items():
        bare, lore = _get(r, "lsp", "bare") or {}, _get(r, "lsp", "lore") or {}

        def pp(d: Any) -> str:
            return f"{_fmt(d.get('p50_ms'))} / {_fmt(d.get('p99_ms'))}" if isinstance(d, dict) and d.get("available") else "n/a"

        ratio = (lore["hover"]["p99_ms"] / bare["hover"]["p99_ms"]) if _get(lore, "hover", "available") and \
            _get(bare, "hover", "available") and bare["hover"]["p99_ms"] else None
        if not lore.get("available"):
            lines.append(f"| {s} | {pp(bare.get('hover'))} | {_reason(lore) or 'not run'} |||||||")
            continue
        nonempty = "/".join(f"{_get(lore, m, 'nonempty')}" for m in ("hover", "definition", "references"))
        lines.append(f"| {s} | {pp(bare.get('hover'))} | {pp(lore.get('hover'))} | {pp(lore.get('definition'))} | "
                     f"{pp(lore.get('references'))} | {nonempty} of {_get(lore, 'hover', 'n')} | {_fmt(ratio)} | {_fmt(lore.get('peak_rss_mb'))} | "
                     f"{_fmt(lore.get('ready_seconds'))} ({lore.get('ready')}, {str(lore.get('start', '?')).split()[0]} start) |")
    lines += ["", "## Targets", "", "| target | goal | size | value | status |", "|---|---|---|---|---|"]
    lines += [f"| {t['target']} | {t['goal']} | {t['size']} | {_fmt(t['value'])} | {t['status']} |" for t in results["targets"]]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    panels: tuple[tuple[str, list[tuple[str, tuple[str, ...]]]], ...] = (
        ("seconds", [("raw parse (all cores)", ("baselines", "parse", "seconds")), ("ctags -R", ("baselines", "ctags", "seconds")),
                     ("git log --name-only", ("baselines", "git_log", "seconds")), ("lore cold index", ("lore_index", "cold", "seconds")),
                     ("lore no-op", ("lore_index", "noop", "seconds")), ("lore 1-file", ("lore_index", "incremental", "seconds"))]),
        ("latency p99 (ms)", [("bare pygls hover", ("lsp", "bare", "hover", "p99_ms")), ("lore hover", ("lsp", "lore", "hover", "p99_ms")),
                              ("lore definition", ("lsp", "lore", "definition", "p99_ms")),
                              ("lore references", ("lsp", "lore", "references", "p99_ms"))]),
        ("peak RSS (MB)", [("lore index (tree)", ("lore_index", "cold", "peak_rss_tree_mb")), ("lore server", ("lsp", "lore", "peak_rss_mb")),
                           ("bare pygls server", ("lsp", "bare", "peak_rss_mb"))]),
    )
    fig, _ = plt.subplots(1, 3, figsize=(16, 5))
    for ax, (ylabel, series) in zip(fig.axes, panels, strict=True):
        drawn = 0
        for label, keys in series:
            pts = sorted(_series(runs, *keys))
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=label)
                drawn += 1
        ax.set_xlabel("workspace files (size)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if drawn:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.legend(fontsize=8)
            ticks = sorted((r["workspace"]["files"], s) for s, r in runs.items())
            ax.set_xticks([f for f, _ in ticks], [f"{s}\n{f:,}" for f, s in ticks])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        else:
            ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(f"Lore costs vs workspace size ({', '.join(runs)}) on {results['machine']['cpu']}, "
                 f"{results['machine']['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(results: dict[str, Any], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    results["targets"] = targets(results["runs"])
    paths = {"md": out / "latest.md", "json": out / "latest.json", "png": out / "costs.png"}
    paths["json"].write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    paths["md"].write_text(markdown(results))
    plot(results, paths["png"])
    return paths
