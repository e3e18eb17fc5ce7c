"""Score Lore's metric links (a query in an alert rule, recording rule or dashboard panel -> the metric's
definition in code) against the hand-built gold sets in this folder.

    python -m benchmarks.ops.score SYSTEM=GIT_DIR [SYSTEM=GIT_DIR ...] [--work DIR] [-v] [--json OUT]

For each system: the pinned commit is exported (`git archive`-like, nothing of the corpus runs) into
`--work`/<system> as one git repository; `lore graph --json` runs on it with a fresh cache; the `ops.reads`
in the gold set's `scope` files (dashboard template variables excluded: they are not panels) are the
predictions, each (query file:line, metric, definition file:line). A prediction is a true positive when
the gold set links the same query line and metric to the same definition (its line, or one either side);
a prediction on a read the gold set lists as `unlinked` (a metric defined outside the repository, a stale
name) is a false positive. Prints gold links, predictions, true and false positives, misses, precision
and recall per system and overall; `-v` lists every false positive and miss.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.realworld.score import _export

HERE = Path(__file__).resolve().parent
LINE_TOLERANCE = 1


def _site(s: str) -> tuple[str, int]:
    path, _, line = s.rpartition(":")
    return path, int(line)


def predict(git_dir: Path, gold: dict[str, Any], work: Path) -> list[tuple[str, str, str]]:
    """(read site, metric, definition site) for every link Lore finds in the gold set's scope."""
    dest = work / gold["system"]
    if dest.exists():
        shutil.rmtree(dest)
    _export(git_dir, gold["commit"], "", dest)
    cache = work / f"{gold['system']}.cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "LORE_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-m", "lore", "graph", str(dest), "--json"], capture_output=True, text=True,
                         env=env, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"lore graph failed on {gold['system']}: {out.stderr.strip()[-400:]}")
    scope = set(gold["scope"])
    found = []
    for r in json.loads(out.stdout)["ops"]["reads"]:
        if r["path"] not in scope or str(r.get("owner", "")).startswith("variable "):
            continue
        for d in r["defined_at"]:
            found.append((f"{r['path']}:{r['line']}", r["metric"], f"{d['path']}:{d['line']}"))
    return sorted(set(found))


def score(gold: dict[str, Any], predicted: list[tuple[str, str, str]]) -> dict[str, Any]:
    want = {(g["read"], g["metric"]): _site(g["definition"]) for g in gold["links"]}
    hit: set[tuple[str, str]] = set()
    fps = []
    for read, metric, definition in predicted:
        exp = want.get((read, metric))
        path, line = _site(definition)
        if exp is not None and exp[0] == path and abs(exp[1] - line) <= LINE_TOLERANCE:
            hit.add((read, metric))
        else:
            fps.append({"read": read, "metric": metric, "definition": definition})
    misses = [{"read": r, "metric": m, "definition": f"{p}:{n}"} for (r, m), (p, n) in sorted(want.items()) if (r, m) not in hit]
    tp = len(hit)
    return {"system": gold["system"], "commit": gold["commit"], "gold": len(want), "predicted": len(predicted), "tp": tp,
            "fp": len(fps), "misses": len(misses), "precision": round(tp / len(predicted), 3) if predicted else None,
            "recall": round(tp / len(want), 3) if want else None, "false_positives": fps, "missed": misses}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("systems", nargs="+", metavar="SYSTEM=GIT_DIR")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="lore-ops-score-"))
    results = []
    for spec in args.systems:
        name, _, git_dir = spec.partition("=")
        gold = json.loads((HERE / name / "gold.json").read_text(encoding="utf-8"))
        res = score(gold, predict(Path(git_dir), gold, work))
        results.append(res)
        print(f"{name}@{gold['commit'][:12]}: gold {res['gold']}, predicted {res['predicted']}, tp {res['tp']}, "
              f"fp {res['fp']}, missed {res['misses']}, precision {res['precision']}, recall {res['recall']}")
        if args.verbose:
            for fp in res["false_positives"]:
                print(f"  FP   {fp['read']}  {fp['metric']} -> {fp['definition']}")
            for m in res["missed"]:
                print(f"  MISS {m['read']}  {m['metric']} -> {m['definition']}")
    tp = sum(r["tp"] for r in results)
    pred = sum(r["predicted"] for r in results)
    gold_n = sum(r["gold"] for r in results)
    print(f"overall: precision {round(tp / pred, 3) if pred else None}, recall {round(tp / gold_n, 3) if gold_n else None}")
    if args.json is not None:
        args.json.write_text(json.dumps({"results": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
