"""Check the hand-labelled commit sets against their pinned corpora and print per-class counts.

    python -m benchmarks.history.check_labels GIT_DIR [GIT_DIR ...]
    python -m benchmarks.history.check_labels NAME=GIT_DIR [NAME=GIT_DIR ...]

Each GIT_DIR is a clone (bare or not) of one corpus listed in `corpora.json` next to this file (see
README.md for how to fetch them). A bare GIT_DIR is matched to the corpus whose pinned commit it holds;
`NAME=GIT_DIR` names the corpus explicitly. Corpora given no GIT_DIR are reported as not checked.

For every line of `labels/<name>.jsonl` it checks that
- the line is a JSON object with exactly the expected keys and types, `sha` is 40 lower-case hex and not
  listed twice, `classes` are from the allowed list (no duplicates), `drawn` is random|keyword|structure,
  `evidence` and `why` are not empty;
- the commit exists in GIT_DIR and is reachable from the pinned commit (`git rev-list <pinned>`);
- `subject` is exactly git's subject of the commit (`%s`, UTF-8, undecodable bytes replaced);
- `merge` matches the commit's parent count (> 1);
- `evidence` occurs (whitespace-normalised) in the commit message or its diff.

Then it prints, per corpus, the positives per class, the commits per drawing method and the keyword-drawn
commits labelled with no class (the traps). Exit status: 0 when no problem was found, 1 otherwise, 2 on
bad arguments. Git runs with GIT_NO_LAZY_FETCH=1 and protocol.allow=never: nothing is ever fetched, and
nothing in the corpora is run. Python 3.11, stdlib only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLASSES = ("revert", "security", "workaround", "temporary", "regression_fix", "hotfix", "incident")
MAIN_CLASSES = CLASSES[:5]
DRAWN = ("random", "keyword", "structure")
KEYS = {"sha": str, "subject": str, "classes": list, "evidence": str, "why": str, "drawn": str, "merge": bool}
_SHA = re.compile(r"^[0-9a-f]{40}$")
_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
        "PATH": "/usr/bin:/bin:/usr/local/bin"}


def git(git_dir: str, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "--git-dir", git_dir, "-c", "protocol.allow=never", "-c", "core.fsmonitor=false",
                           *args], capture_output=True, env=_ENV)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout.decode("utf-8", "replace")


def resolve_git_dir(path: str) -> str:
    p = Path(path)
    return str(p / ".git") if (p / ".git").exists() else str(p)


def has_commit(git_dir: str, sha: str) -> bool:
    return git(git_dir, "cat-file", "-t", sha, check=False).strip() == "commit"

def git_dirs(args: list[str], corpora: list[dict]) -> dict[str, str] | None:
    """{corpus name: git dir} from `NAME=GIT_DIR` or a bare GIT_DIR (matched by the pinned commit it holds);
    None after saying which argument could not be told apart."""
    by_name = {c["name"]: c for c in corpora}
    dirs: dict[str, str] = {}
    for arg in args:
        name, sep, path = arg.partition("=")
        if sep and name in by_name:
            dirs[name] = resolve_git_dir(path)
            continue
        git_dir = resolve_git_dir(arg)
        match = [c["name"] for c in corpora if has_commit(git_dir, c["commit"])]
        if len(match) != 1:
            print(f"cannot tell which corpus {arg} is (holds the pinned commit of {match or 'none'})", file=sys.stderr)
            return None
        dirs[match[0]] = git_dir
    return dirs


def _norm(text: str) -> str:
    return " ".join(text.split())


def check_corpus(corpus: dict, git_dir: str, problems: list[str]) -> tuple[Counter, Counter, list[dict]]:
    name, pinned = corpus["name"], corpus["commit"]
    path = HERE / corpus.get("labels", f"labels/{name}.jsonl")
    per_class: Counter = Counter()
    per_drawn: Counter = Counter()
    rows: list[dict] = []
    if not has_commit(git_dir, pinned):
        problems.append(f"{name}: pinned commit {pinned} not in {git_dir}")
        return per_class, per_drawn, rows
    reachable = set(git(git_dir, "rev-list", pinned).split())
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{lineno}"
        if not line.strip():
            problems.append(f"{where}: empty line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: not JSON ({e})")
            continue
        if not isinstance(row, dict) or set(row) != set(KEYS):
            problems.append(f"{where}: keys must be exactly {sorted(KEYS)}")
            continue
        bad = [k for k, t in KEYS.items() if not isinstance(row[k], t)]
        if bad:
            problems.append(f"{where}: wrong type for {bad}")
            continue
        sha = row["sha"]
        if not _SHA.match(sha):
            problems.append(f"{where}: sha {sha!r} is not 40 lower-case hex")
            continue
        if sha in seen:
            problems.append(f"{where}: {sha} listed twice")
        seen.add(sha)
        classes = row["classes"]
        if any(c not in CLASSES for c in classes) or len(set(classes)) != len(classes):
            problems.append(f"{where}: classes {classes} not a set drawn from {list(CLASSES)}")
        if row["drawn"] not in DRAWN:
            problems.append(f"{where}: drawn {row['drawn']!r} not in {DRAWN}")
        if not row["evidence"].strip() or not row["why"].strip():
            problems.append(f"{where}: empty evidence or why")
        if sha not in reachable:
            what = "not reachable from" if has_commit(git_dir, sha) else "missing from the clone at"
            problems.append(f"{where}: {sha} {what} pinned {pinned[:12]}")
            continue
        meta = git(git_dir, "log", "-1", "--encoding=UTF-8", "--format=%P%x00%s%x00%B", sha)
        parents, subject, message = meta.split("\x00", 2)
        if row["subject"] != subject:
            problems.append(f"{where}: subject {row['subject']!r} != git's {subject!r}")
        n_parents = len(parents.split())
        if row["merge"] != (n_parents > 1):
            problems.append(f"{where}: merge={row['merge']} but the commit has {n_parents} parent(s)")
        evidence = _norm(row["evidence"])
        if evidence not in _norm(message):
            diff = git(git_dir, "show", "--format=", "-U0", "--no-color", "--no-ext-diff", sha) if n_parents == 1 else ""
            if evidence not in _norm(diff):
                problems.append(f"{where}: evidence not found in the message or diff of {sha[:12]}: "
                                f"{row['evidence'][:60]!r}")
        per_class.update(classes)
        per_drawn[row["drawn"]] += 1
        rows.append(row)
    return per_class, per_drawn, rows


def main(argv: list[str]) -> int:
    corpora = json.loads((HERE / "corpora.json").read_text(encoding="utf-8"))
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 2 if not argv else 0
    dirs = git_dirs(argv, corpora)
    if dirs is None:
        return 2
    problems: list[str] = []
    totals: Counter = Counter()
    print(f"{'corpus':<9} {'n':>4} " + " ".join(f"{c:>14}" for c in CLASSES) + "   random keyword structure  kw-negatives")
    for corpus in corpora:
        name = corpus["name"]
        if name not in dirs:
            print(f"{name:<9} not checked (no GIT_DIR given)")
            continue
        per_class, per_drawn, rows = check_corpus(corpus, dirs[name], problems)
        kw_neg = sum(1 for r in rows if r["drawn"] == "keyword" and not r["classes"])
        print(f"{name:<9} {len(rows):>4} " + " ".join(f"{per_class[c]:>14}" for c in CLASSES)
              + f"   {per_drawn['random']:>6} {per_drawn['keyword']:>7} {per_drawn['structure']:>9}  {kw_neg:>12}")
        totals.update(per_class)
        totals.update({f"drawn:{k}": v for k, v in per_drawn.items()})
        totals["n"] += len(rows)
        totals["kw_neg"] += kw_neg
    print(f"{'total':<9} {totals['n']:>4} " + " ".join(f"{totals[c]:>14}" for c in CLASSES)
          + f"   {totals['drawn:random']:>6} {totals['drawn:keyword']:>7} {totals['drawn:structure']:>9}"
          + f"  {totals['kw_neg']:>12}")
    short = [c for c in MAIN_CLASSES if totals[c] < 25]
    if len(dirs) == len(corpora) and short:
        problems.append(f"classes with fewer than 25 positives over the whole set: {short}")
    for p in problems:
        print("PROBLEM", p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
