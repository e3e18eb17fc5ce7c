"""`python -m benchmarks.org_graph [--sizes 500,1000,2000,5000] [--quick]`: the organisation graph at scale.

For each size N it generates N synthetic shards (`gen_shards.py`, cached under benchmarks/.cache/), then
measures, each in a fresh process with its whole process tree's memory sampled (`measure_proc`):

- `lore fleet graph --shards DIR` on Dask's local cluster (the link join partitioned by entity id): wall
  time, the phases, peak RSS of the driver and of the whole tree (scheduler and workers included);
- the baseline in the same run: one process holding everything, `lore index` of a workspace whose
  lore.toml imports the N shards (the Snapshot the editor builds), with its time and peak RSS;

and how each grows from the smallest to the largest size (the exponent k in cost ~ N^k). Both builds
must find the same number of links. Results: benchmarks/results/org/latest.{md,json} (`--quick`: sizes 50
and 200, written to results/org/quick/, so CI keeps the harness working).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import gen_shards, measure_proc

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "org-shards"
RESULTS = HERE / "results" / "org"
LORE = [sys.executable, "-m", "lore"]


def shards_for(n: int) -> Path:
    folder = CACHE / f"n{n}-v1"
    stamp = folder / ".complete"
    if not stamp.exists():
        gen_shards.generate(folder, n)
        stamp.write_text("ok\n")
    return folder


def _mb(b: int) -> float:
    return round(b / 2**20, 1)


def measure(n: int, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    folder = shards_for(n)
    size = sum(p.stat().st_size for p in folder.glob("*.lore-shard"))
    row: dict[str, Any] = {"repos": n, "shard_bytes": size, "load_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="lore-org-bench-") as tmp:
        out = Path(tmp) / "graph"
        run = measure_proc.run([*LORE, "fleet", "graph", "--shards", str(folder), "--out", str(out), "--json",
                                "--workers", str(args.workers), "--partitions", str(args.partitions),
                                "--chunk", str(args.chunk)], timeout=args.timeout)
        if run.returncode != 0:
            raise SystemExit(f"lore fleet graph failed at N={n}: {run.stderr[-2000:]}")
        summary = json.loads(run.stdout)
        row["fleet"] = {"seconds": round(run.seconds, 2), "phases": summary["seconds"],
                        "peak_rss_driver_mb": _mb(run.peak_rss_main), "peak_rss_tree_mb": _mb(run.peak_rss_tree),
                        "entities": summary["entities"], "links": summary["links"], "workers": args.workers,
                        "partitions": args.partitions, "chunk": args.chunk}
        log(f"[{n}] fleet graph: {run.seconds:.1f} s, driver {_mb(run.peak_rss_main)} MB, tree {_mb(run.peak_rss_tree)} MB, "
            f"{summary['links']} links")
        if not args.no_baseline:
            ws = Path(tmp) / "ws"
            ws.mkdir()
            (ws / "lore.toml").write_text("".join(f'[[shard]]\npath = "{p}"\n' for p in sorted(folder.glob("*.lore-shard"))))
            base = measure_proc.run([*LORE, "index", str(ws), "--json", "--cache", str(Path(tmp) / "cache")],
                                    timeout=args.timeout)
            if base.returncode != 0:
                raise SystemExit(f"lore index (baseline) failed at N={n}: {base.stderr[-2000:]}")
            rep = json.loads(base.stdout)
            row["one_process"] = {"seconds": round(base.seconds, 2), "peak_rss_mb": _mb(base.peak_rss_tree),
                                  "links": rep["facts"].get("link", 0)}
            row["links_equal"] = row["one_process"]["links"] == summary["links"]
            log(f"[{n}] one process: {base.seconds:.1f} s, {_mb(base.peak_rss_tree)} MB, {rep['facts'].get('link', 0)} links")
    return row


def growth(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exponent k of cost ~ N^k between the smallest and the largest size, per metric."""
    if len(rows) < 2:
        return {}
    a, b = rows[0], rows[-1]
    scale = math.log(b["repos"] / a["repos"])

    def k(x: float, y: float) -> float | None:
        return round(math.log(y / x) / scale, 2) if x > 0 and y > 0 else None

    out = {"from": a["repos"], "to": b["repos"],
           "fleet_seconds": k(a["fleet"]["seconds"], b["fleet"]["seconds"]),
           "fleet_peak_rss_driver": k(a["fleet"]["peak_rss_driver_mb"], b["fleet"]["peak_rss_driver_mb"]),
           "fleet_peak_rss_tree": k(a["fleet"]["peak_rss_tree_mb"], b["fleet"]["peak_rss_tree_mb"])}
    if "one_process" in a and "one_process" in b:
        out["one_process_seconds"] = k(a["one_process"]["seconds"], b["one_process"]["seconds"])
        out["one_process_peak_rss"] = k(a["one_process"]["peak_rss_mb"], b["one_process"]["peak_rss_mb"])
    return out


def markdown(doc: dict[str, Any]) -> str:
    lines = [f"# Organisation graph ({doc['date']})", "",
             f"Machine: {doc['machine']}. `lore fleet graph` on Dask's local cluster ({doc['workers']} workers, "
             f"{doc['partitions']} partitions by entity id, {doc['chunk']} repos per task) against one process "
             "holding everything (`lore index` of a workspace importing every shard). Peak RSS sampled over the "
             "whole process tree. Load average (1 min) before each size: "
             + ", ".join(f"{r['repos']:,}: {r.get('load_before', '?')}" for r in doc["rows"])
             + f"; after the run: {doc.get('load_after', '?')} (other jobs share the cores: absolute times are "
             "inflated, growth between sizes says more).", "",
             "| repos | shards MB | fleet graph s | driver peak MB | tree peak MB | one process s | one process peak MB | links | same links |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        one = r.get("one_process", {})
        lines.append(f"| {r['repos']:,} | {_mb(r['shard_bytes'])} | {r['fleet']['seconds']} | {r['fleet']['peak_rss_driver_mb']} | "
                     f"{r['fleet']['peak_rss_tree_mb']} | {one.get('seconds', '-')} | {one.get('peak_rss_mb', '-')} | "
                     f"{r['fleet']['links']:,} | {r.get('links_equal', '-')} |")
    g = doc.get("growth") or {}
    if g:
        lines += ["", f"Growth from {g['from']:,} to {g['to']:,} repos (k in cost ~ N^k; 1 = linear):", "",
                  "| metric | k |", "|---|---|"]
        lines += [f"| {key} | {val} |" for key, val in g.items() if key not in ("from", "to")]
    lines += ["", "Phases of the fleet graph (s): " + "; ".join(
        f"{r['repos']:,}: " + ", ".join(f"{k} {v}" for k, v in r["fleet"]["phases"].items()) for r in doc["rows"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.org_graph", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="500,1000,2000,5000", help="Repository counts (comma-separated).")
    ap.add_argument("--quick", action="store_true", help="Sizes 50,200 into results/org/quick/ (CI).")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--no-baseline", action="store_true", help="Skip the one-process baseline.")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", type=Path, default=None, help="Results folder (default: benchmarks/results/org[/quick]).")
    args = ap.parse_args(argv)
    sizes = [50, 200] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows = [measure(n, args, log) for n in sorted(sizes)]
    doc = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
           "load_after": round(os.getloadavg()[0], 2), "workers": args.workers, "partitions": args.partitions,
           "chunk": args.chunk, "rows": rows, "growth": growth(rows)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    (out / "latest.md").write_text(markdown(doc))
    log(f"wrote {out / 'latest.md'}")
    return 0 if all(r.get("links_equal", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
