"""`python -m benchmarks [--sizes S,M,L] [--quick]`: generate (or reuse) the synthetic workspaces,
measure the baselines and Lore on each, and write benchmarks/results/latest.{md,json} and costs.png.

`--quick` is size S with few iterations, well under a minute, written to benchmarks/results/quick/;
CI runs it so the harness cannot rot. Lore interfaces that are missing are reported, not fatal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import baselines, generate, measure_index, measure_lsp, report

RESULTS = Path(__file__).resolve().parent / "results"


def run_size(size: str, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    manifest = generate.generate(size, args.seed, args.cache)
    ws = Path(manifest["workspace"])
    log(f"[{size}] workspace {ws}: {manifest['totals']} ({'cached' if manifest['reused'] else f'built in {time.perf_counter() - t0:.1f} s'})")
    run: dict[str, Any] = {"workspace": {**manifest["totals"], "generation_seconds": manifest["generation_seconds"],
                                         "reused": manifest["reused"], "path": str(ws),
                                         "load_before": round(os.getloadavg()[0], 2)}}
    if args.generate_only:
        return run
    run["baselines"] = baselines.run_all(ws)
    log(f"[{size}] baselines: parse {run['baselines']['parse']['mb_per_s']} MB/s, git log {run['baselines']['git_log']['seconds']} s")
    with tempfile.TemporaryDirectory(prefix="lore-bench-") as tmp:
        cache = Path(tmp) / "cache"
        if args.skip_lore:
            run["lore_index"] = {"available": False, "reason": "not run (--skip-lore)"}
        else:
            run["lore_index"] = measure_index.measure(ws, manifest, run["baselines"], cache, timeout=args.timeout)
            log(f"[{size}] lore index: {run['lore_index'].get('reason') or run['lore_index'].get('cold', {}).get('seconds')}")
        run["lsp"] = run_lsp(size, ws, manifest, cache, args, log)
    return run


def run_lsp(size: str, ws: Path, manifest: dict[str, Any], cache: Path, args: argparse.Namespace,
            log: Any) -> dict[str, Any]:
    """Bare baseline, then `lore serve` started on the cache `lore index` left (warm) or an empty one (cold)."""
    lsp: dict[str, Any] = {"bare": measure_lsp.measure(measure_lsp.bare_command(), ws, manifest, positions=args.positions,
                                                       iterations=args.iterations, ready_timeout=30)}
    if args.skip_lore:
        lsp["lore"] = {"available": False, "reason": "not run (--skip-lore)"}
    else:
        start = "warm (cache from lore index)" if cache.exists() else "cold (empty cache)"
        lsp["lore"] = measure_lsp.measure([*measure_index.lore_command(), "serve"], ws, manifest, positions=args.positions,
                                          iterations=args.iterations, ready_timeout=args.ready_timeout,
                                          env={"LORE_CACHE": str(cache)})
        lsp["lore"]["start"] = start
    log(f"[{size}] lsp: bare hover p99 {lsp['bare'].get('hover', {}).get('p99_ms')} ms; "
        f"lore {lsp['lore'].get('reason') or lsp['lore'].get('hover', {}).get('p99_ms')}")
    return lsp


def compile_lore() -> None:
    """Lore's modules compiled to bytecode, as an installed package has them. An editable install leaves
    the source tree uncompiled and, where PYTHONDONTWRITEBYTECODE is set, every measured process would
    compile them again (about 0.1 s of every `lore` command): that is not what a user's Lore costs."""
    import compileall

    import indexers

    root = Path(indexers.__file__).resolve().parent.parent
    for pkg in ("indexers", "lore", "lsp_server"):
        compileall.compile_dir(root / pkg, quiet=2, workers=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,L", help="comma-separated sizes among S, M, L (XS: tiny, for tests)")
    ap.add_argument("--quick", action="store_true", help="size S only, few iterations; results in results/quick/")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results[/quick])")
    ap.add_argument("--cache", type=Path, default=None, help="workspace cache (default benchmarks/.cache)")
    ap.add_argument("--iterations", type=int, default=None, help="rounds of LSP requests over all positions")
    ap.add_argument("--positions", type=int, default=None, help="contract-usage positions to query")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed for one `lore index`")
    ap.add_argument("--ready-timeout", type=float, default=None, help="seconds to wait for the server's index")
    ap.add_argument("--skip-lore", action="store_true", help="baselines only")
    ap.add_argument("--generate-only", action="store_true", help="build the workspaces and stop")
    ap.add_argument("--repo", action="append", type=Path, default=[], metavar="PATH",
                    help="measure a real checkout instead of the synthetic sizes (repeatable); results in results/real/")
    ap.add_argument("--server-only", action="store_true",
                    help="with --repo: only the server's figures (hover, first hover, memory), on the index in "
                         "--cache (made untimed when missing)")
    ap.add_argument("--only", choices=["cold"], default=None,
                    help="with --repo: only cold index ÷ raw parse and history mining ÷ git log (no server runs)")
    args = ap.parse_args(argv)
    compile_lore()
    if args.repo:
        return run_real(args)
    sizes = ["S"] if args.quick else [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in generate.SIZES]
    if unknown:
        ap.error(f"unknown size {unknown[0]!r} (choose from {', '.join(generate.SIZES)})")
    args.iterations = args.iterations or (2 if args.quick else 10)
    args.positions = args.positions or (20 if args.quick else 50)
    args.ready_timeout = args.ready_timeout or (20 if args.quick else 600)
    if args.quick:
        args.timeout = min(args.timeout, 120)
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {"generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick,
                               "seed": args.seed, "machine": report.machine(), "runs": {}}
    for size in sizes:
        results["runs"][size] = run_size(size, args, log)
    if args.generate_only:
        for size, r in results["runs"].items():
            print(f"{size}: {r['workspace']}")
        return 0
    paths = report.write(results, out)
    print(paths["md"].read_text())
    log(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def run_real(args: argparse.Namespace) -> int:
    """The same figures on real checkouts (see benchmarks/real_repo.py)."""
    import json

    from benchmarks import real_repo

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    bad = [p for p in args.repo if not (p / ".git").exists()]
    if bad:
        print(f"lore bench: {bad[0]}: not a git checkout", file=sys.stderr)
        return 2
    if args.only == "cold":
        runs = [real_repo.measure_cold(p, timeout=args.timeout, log=log) for p in args.repo]
    else:
        runs = [real_repo.measure(p, positions=args.positions or 50, iterations=args.iterations or 5,
                                  timeout=args.timeout, ready_timeout=args.ready_timeout or 900, log=log,
                                  cache_dir=args.cache, server_only=args.server_only) for p in args.repo]
    out = args.out or RESULTS / "real"
    out.mkdir(parents=True, exist_ok=True)
    doc = {"generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": report.machine(), "repos": runs}
    name = "-".join(p.resolve().name for p in args.repo) + ("-cold" if args.only else "-server" if args.server_only else "")
    (out / f"{name}.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    text = f"# lore bench --repo ({doc['generated_at']})\n\n" + real_repo.markdown(runs)
    (out / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
