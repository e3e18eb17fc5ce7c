"""`python -m benchmarks.map [--services 500] [--edges 5000] [--runs 3]`: the system map on a generated
system (benchmarks/gen_map.py): the map model and the HTML page built in Python, then the page in
headless Chromium (benchmarks/map_browser.js): navigation to ready and to the first painted frame,
against a trivial page loaded in the same browser in the same run; a typed search, a click on a service
until its panel shows, a zoom until its frame. Writes benchmarks/results/map.{md,json}.

The browser part needs node, Debian's chromium and playwright-core (tests/editors/install.sh); without
them it is reported as not available. Figures are medians over the runs; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.gen_map import generate_snapshot
from lore.map.html import render_html
from lore.query.system_map import build_map

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TOOLS = Path(os.environ.get("LORE_EDITOR_TOOLS")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lore" / "editor-tools")
BASELINE_PAGE = "<!DOCTYPE html><html><head><meta charset=utf-8><title>baseline</title></head><body><div>baseline</div>" \
                "<script>window.baselineReady = true;</script></body></html>"


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")


def python_part(services: int, edges: int, runs: int) -> tuple[dict[str, Any], str]:
    t0 = time.perf_counter()
    snap = generate_snapshot(services, edges)
    generated = time.perf_counter() - t0
    model, page, html = [], [], ""
    for _ in range(runs):
        t = time.perf_counter()
        m = build_map(snap)
        model.append(time.perf_counter() - t)
        t = time.perf_counter()
        html = render_html(m, links="none")
        page.append(time.perf_counter() - t)
    return {"generated_s": round(generated, 2), "nodes": len(m.nodes), "edges": len(m.edges),
            "links": len(snap.links), "model_ms": median([x * 1000 for x in model]),
            "html_ms": median([x * 1000 for x in page]), "html_bytes": len(html.encode("utf-8"))}, html


def browser_part(html: str, runs: int) -> dict[str, Any]:
    chromium = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    missing = [what for what, ok in {"node": shutil.which("node"), str(chromium): chromium.is_file(),
                                     "playwright-core": (TOOLS / "pw/node_modules/playwright-core").is_dir()}.items() if not ok]
    if missing:
        return {"available": False, "reason": f"missing {', '.join(missing)} (tests/editors/install.sh)"}
    with tempfile.TemporaryDirectory(prefix="lore-map-bench-") as tmp:
        (Path(tmp) / "map.html").write_text(html, encoding="utf-8")
        (Path(tmp) / "baseline.html").write_text(BASELINE_PAGE, encoding="utf-8")
        proc = subprocess.run(["node", str(HERE / "map_browser.js"), str(Path(tmp) / "map.html"),
                               str(Path(tmp) / "baseline.html"), str(runs)],
                              env={**os.environ, "NODE_PATH": str(TOOLS / "pw/node_modules"), "CHROMIUM": str(chromium),
                                   "HOME": tmp}, capture_output=True, text=True, timeout=900)
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"available": False, "reason": f"the browser part failed: {proc.stderr[-500:]}"}
    if not out.get("ok"):
        return {"available": False, "reason": out.get("error", "failed")[:500]}
    rs = out["runs"]
    pick = lambda key: median([float(r[key]) for r in rs])  # noqa: E731
    res = {"available": True, "runs": len(rs), "elements": rs[0]["elements"], "baseline_ms": pick("baseline_ms"),
           "ready_ms": pick("ready_ms"), "painted_ms": pick("painted_ms"), "search_ms": pick("search_ms"),
           "search_hits": rs[0]["search_hits"], "focus_click_ms": pick("focus_click_ms"),
           "zoom_frame_ms": pick("zoom_frame_ms"), "focused": all(r["focused"] for r in rs),
           "in_page_ms": {k: median([float(r["page"][k]) for r in rs]) for k in rs[0]["page"]}, "raw": rs}
    res["ready_vs_baseline"] = round(res["ready_ms"] / max(res["baseline_ms"], 1.0), 1)
    return res


def render_md(doc: dict[str, Any]) -> str:
    p, b = doc["python"], doc["browser"]
    lines = [f"# System map benchmark ({doc['date']})", "",
             f"Generated system: {p['nodes']} services, {p['edges']} provider → consumer edges ({p['links']} links); "
             f"machine: {doc['machine']}, load before {doc['load_before']}. Medians of {doc['runs']} runs.", "",
             "| step | time | baseline / note |", "| --- | --- | --- |",
             f"| map model (`build_map`) | {p['model_ms']:.0f} ms | |",
             f"| HTML page (`render_html`) | {p['html_ms']:.0f} ms | {p['html_bytes'] / 1e6:.2f} MB, graph library included |"]
    if b.get("available"):
        ip = b["in_page_ms"]
        lines += [
            f"| page load to ready (laid out and drawn) | {b['ready_ms']:.0f} ms | trivial page {b['baseline_ms']:.0f} ms "
            f"(× {b['ready_vs_baseline']}) |",
            f"| … to the first painted frame | {b['painted_ms']:.0f} ms | |",
            f"| in the page: data parsed / laid out / drawn / ready | {ip.get('parsed', 0):.0f} / {ip.get('layout', 0):.0f} / "
            f"{ip.get('drawn', 0):.0f} / {ip.get('ready', 0):.0f} ms | since the script started |",
            f"| search typed until results show | {b['search_ms']:.0f} ms | {b['search_hits']} matches |",
            f"| click on a service until its panel shows | {b['focus_click_ms']:.0f} ms | focused: {b['focused']} |",
            f"| zoom until the frame after it | {b['zoom_frame_ms']:.0f} ms | |"]
    else:
        lines.append(f"| browser part | not available | {b['reason']} |")
    lines += ["", "Produced by `python -m benchmarks.map`; large maps (> 150 services or > 800 links) are laid out "
              "by shelf-packing the groups, small ones by fCoSE."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.map", description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=500)
    ap.add_argument("--edges", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-browser", action="store_true", help="Only the Python part.")
    args = ap.parse_args(argv)
    load = round(os.getloadavg()[0], 2)
    py, html = python_part(args.services, args.edges, args.runs)
    print(f"map: {py['nodes']} services, {py['edges']} edges; model {py['model_ms']} ms, html {py['html_ms']} ms "
          f"({py['html_bytes']:,} bytes)", file=sys.stderr)
    browser = {"available": False, "reason": "not run (--no-browser)"} if args.no_browser else browser_part(html, args.runs)
    print(f"map: browser {browser.get('ready_ms', browser.get('reason'))}", file=sys.stderr)
    doc = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "runs": args.runs, "load_before": load,
           "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
           "python": py, "browser": browser}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "map.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (args.out / "map.md").write_text(render_md(doc), encoding="utf-8")
    print(render_md(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
