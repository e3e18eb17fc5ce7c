"""Score Lore's commit classes against the hand-labelled set, next to a keyword baseline, in one run.

    python -m benchmarks.history.score NAME=GIT_DIR [NAME=GIT_DIR ...] [--errors] [--write]
    python -m benchmarks.history.score GIT_DIR [GIT_DIR ...]          # matched by the pinned commit

Each GIT_DIR is a clone (bare or not) of a corpus in `corpora.json` (README.md says how to fetch them). For
each corpus, Lore's real mining path runs against GIT_DIR at the pinned commit: `indexers.history.mine`
(the code `lore index` runs: one streaming `git log`, every sha and subject resolved against the history
reachable from the pinned commit, advisory merges and what they bring in, re-applies). Nothing is checked
out and nothing is written into GIT_DIR; git runs hardened (no fetch, no hooks, no filters).

Then every labelled commit's mined kinds are compared with its gold classes. The baseline is the rule a
reader would write first: a keyword in the subject line only (below). Printed per class, per corpus and in
total: positives, Lore's precision/recall and the baseline's. `--errors` also lists Lore's false positives and
false negatives with the evidence Lore cited; `--write` records the table in RESULTS.md next to this file.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.history.check_labels import git_dirs, has_commit
from indexers.history.mine import mine
from indexers.model import Commit

HERE = Path(__file__).resolve().parent
CLASSES = ("revert", "security", "workaround", "temporary", "regression_fix")

# Lore's kinds -> the labelled classes (a re-apply is a revert of a revert).
_KIND_TO_CLASS = {"revert": "revert", "reapply": "revert", "security": "security", "workaround": "workaround",
                  "temporary": "temporary", "regression_fix": "regression_fix"}

# The baseline: one keyword rule per class over the subject line alone, case-insensitive.
BASELINE = {
    "revert": re.compile(r"\brevert|\breapply", re.I),
    "security": re.compile(r"secur|\bCVE-|GHSA-|vulnerab", re.I),
    "workaround": re.compile(r"work[- ]?around|\bhack|kludge", re.I),
    "temporary": re.compile(r"temporar|for now|\buntil\b", re.I),
    "regression_fix": re.compile(r"regress", re.I),
}


def lore_classes(c: Commit | None) -> set[str]:
    return {_KIND_TO_CLASS[k] for k in (c.kinds if c is not None else ()) if k in _KIND_TO_CLASS}


def baseline_classes(subject: str) -> set[str]:
    return {cls for cls, rule in BASELINE.items() if rule.search(subject)}


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, gold: set[str], got: set[str]) -> None:
        for cls in CLASSES:
            if cls in gold and cls in got:
                self.tp[cls] += 1
            elif cls in got:
                self.fp[cls] += 1
            elif cls in gold:
                self.fn[cls] += 1

    def merge(self, other: Tally) -> None:
        self.tp.update(other.tp)
        self.fp.update(other.fp)
        self.fn.update(other.fn)

    def pr(self, cls: str) -> tuple[str, str]:
        tp, fp, fn = self.tp[cls], self.fp[cls], self.fn[cls]
        p = f"{tp / (tp + fp):.2f}" if tp + fp else "–"
        r = f"{tp / (tp + fn):.2f}" if tp + fn else "–"
        return p, r

    def any_class(self) -> tuple[str, str]:
        tp, fp, fn = (sum(c.values()) for c in (self.tp, self.fp, self.fn))
        return (f"{tp / (tp + fp):.2f}" if tp + fp else "–"), (f"{tp / (tp + fn):.2f}" if tp + fn else "–")


@dataclass
class CorpusResult:
    name: str
    n: int
    commits_mined: int
    mine_seconds: float
    mine_cpu: float  # this process and its git children: steadier than wall time on a shared machine
    positives: Counter[str]
    lore: Tally
    base: Tally
    errors: list[str]


def _evidence(c: Commit | None) -> str:
    if c is None:
        return "not mined"
    return "; ".join(f"{k}: {v}" for k, v in c.evidence) or "-"


def score_corpus(corpus: dict, git_dir: str) -> CorpusResult:
    name, pinned = corpus["name"], corpus["commit"]
    rows = [json.loads(line) for line in (HERE / corpus["labels"]).read_text(encoding="utf-8").splitlines() if line.strip()]
    t0, cpu0 = time.perf_counter(), _cpu()
    mined = {c.sha: c for c in mine(git_dir, rev=pinned)}
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    lore, base, positives = Tally(), Tally(), Counter[str]()
    errors: list[str] = []
    for row in rows:
        gold = set(row["classes"]) & set(CLASSES)
        c = mined.get(row["sha"])
        got = lore_classes(c)
        lore.add(gold, got)
        base.add(gold, baseline_classes(row["subject"]))
        positives.update(gold)
        for cls in sorted((gold ^ got) & set(CLASSES)):
            what = "FN" if cls in gold else "FP"
            errors.append(f"{what} {cls:<15} {name} {row['sha'][:10]} {row['subject'][:90]!r}\n"
                          f"    gold: {row['evidence'][:120]!r}\n    lore: {_evidence(c)[:160]}")
    return CorpusResult(name, len(rows), len(mined), seconds, cpu, positives, lore, base, errors)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def table(results: list[CorpusResult]) -> str:
    total = Tally(), Tally()
    positives: Counter[str] = Counter()
    for r in results:
        total[0].merge(r.lore)
        total[1].merge(r.base)
        positives.update(r.positives)
    head = "| class | corpus | positives | Lore P | Lore R | baseline P | baseline R |\n|---|---|---|---|---|---|---|"
    lines = [head]
    for cls in CLASSES:
        for r in results:
            (lp, lr), (bp, br) = r.lore.pr(cls), r.base.pr(cls)
            lines.append(f"| {cls} | {r.name} | {r.positives[cls]} | {lp} | {lr} | {bp} | {br} |")
        (lp, lr), (bp, br) = total[0].pr(cls), total[1].pr(cls)
        lines.append(f"| **{cls}** | **total** | **{positives[cls]}** | **{lp}** | **{lr}** | {bp} | {br} |")
    (lp, lr), (bp, br) = total[0].any_class(), total[1].any_class()
    lines.append(f"| any class | total | {sum(positives.values())} | {lp} | {lr} | {bp} | {br} |")
    return "\n".join(lines)


def timings(results: list[CorpusResult]) -> str:
    lines = ["| corpus | labelled | commits mined | mining wall s | mining CPU s (with git) | CPU µs per commit |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.n} | {r.commits_mined} | {r.mine_seconds:.2f} | {r.mine_cpu:.2f} | "
              f"{1e6 * r.mine_cpu / max(1, r.commits_mined):.0f} |" for r in results]
    return "\n".join(lines)


def _write(results: list[CorpusResult], corpora: list[dict], seconds: float) -> Path:
    out = HERE / "RESULTS.md"
    pinned = ", ".join(f"{c['name']} `{c['commit'][:12]}`" for c in corpora if any(r.name == c["name"] for r in results))
    text = (f"# Commit classes against the labelled set\n\n"
            f"Written by `python -m benchmarks.history.score --write` on {datetime.now(UTC):%Y-%m-%d} "
            f"({sum(r.n for r in results)} labelled commits; pinned: {pinned}; whole run {seconds:.1f} s).\n\n"
            f"Lore: `indexers.history.mine` at the pinned commit (the path `lore index` runs). Baseline: one keyword "
            f"per class in the subject line (`score.BASELINE`). P = precision, R = recall; – = nothing predicted or "
            f"no positive.\n\n{table(results)}\n\n## Mining\n\n{timings(results)}\n")
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    corpora = json.loads((HERE / "corpora.json").read_text(encoding="utf-8"))
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    if not args or "--help" in flags or flags - {"--errors", "--write", "--help"}:
        print(__doc__)
        return 0 if "--help" in flags else 2
    dirs = git_dirs(args, corpora)
    if dirs is None:
        return 2
    t0 = time.perf_counter()
    results = []
    for corpus in corpora:
        if corpus["name"] not in dirs:
            continue
        if not has_commit(dirs[corpus["name"]], corpus["commit"]):
            print(f"{corpus['name']}: pinned commit {corpus['commit']} not in {dirs[corpus['name']]}", file=sys.stderr)
            return 2
        results.append(score_corpus(corpus, dirs[corpus["name"]]))
    seconds = time.perf_counter() - t0
    if "--errors" in flags:
        for r in results:
            for e in r.errors:
                print(e)
        print()
    print(table(results))
    print()
    print(timings(results))
    print(f"\nwhole run {seconds:.1f} s")
    if "--write" in flags:
        print(f"written to {_write(results, corpora, seconds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
