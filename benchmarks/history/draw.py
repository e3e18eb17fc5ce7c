"""Draw the commits to hand-label from one pinned corpus: reproducible given the git dir, commit and seed.

    python -m benchmarks.history.draw GIT_DIR COMMIT SEED \
        [N_RANDOM N_KEYWORD N_STRUCTURE [N_SUPPLEMENT [N_EXTRA_RANDOM N_EXTRA_STRUCTURE]]] > draw.jsonl

The set in labels/ was drawn with `SEED=7919 34 26 26 22 16 6` for every corpus.

Every commit reachable from COMMIT (first-parent and side-branch alike) is a candidate. Up to five phases,
in this order, each skipping what an earlier one took:

- random: `random.Random(SEED).sample` over `git rev-list COMMIT` (in rev-list order);
- structure: round-robin over the structural pools below (each pool shuffled with the same Random), one
  commit per non-empty pool per round;
- keyword: round-robin over the keyword list (each keyword's matches shuffled), so rare words (kludge,
  incident, hotfix) are represented next to frequent ones (until, revert);
- supplement (optional, labelled "keyword"): round-robin over SUBJECT_KEYWORDS matched in the subject line
  only (Random(SEED + 1)), drawn after the three above to reach enough workaround/temporary positives and
  keyword traps whose keyword is not buried in quoted release notes (Dependabot bodies swamp the body match);
- extra random / extra structure (optional): a second uniform sample (Random(SEED + 2)) over the commits not
  drawn yet, and a second structural round-robin (Random(SEED + 3)), added last to bring the random and
  structural shares back towards 40% / 30% after the supplement. Every phase only appends, so a larger
  count in a later phase never changes what an earlier phase drew.

The pools and keywords are defined here; labels are NOT derived from them (they only choose what to read).
Output: one JSON object per line, {"sha", "drawn", "pool"}. Nothing is fetched (GIT_NO_LAZY_FETCH=1).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"}

KEYWORDS = {
    "revert": r"revert", "reapply": r"reapply", "security": r"security", "CVE": r"\bCVE\b|CVE-\d",
    "GHSA": r"GHSA", "vulnerab": r"vulnerab", "workaround": r"workaround", "work around": r"work(?:ed|s|ing)? around",
    "hack": r"hack", "kludge": r"kludge", "temporary": r"temporary", "temporarily": r"temporarily",
    "for now": r"for now", "until": r"\buntil\b", "regression": r"regression", "regressed": r"regressed",
    "hotfix": r"hot-?fix", "incident": r"incident", "Fixes:": r"^Fixes:",
}

SUBJECT_KEYWORDS = {
    "workaround": r"work-?arounds?|work(?:ed|s|ing)? around", "hack": r"hack", "kludge": r"kludge",
    "temporary": r"temporar", "for now": r"for now", "until": r"\buntil\b", "skip/disable": r"\b(?:skip|disable|xfail)",
    "pin": r"\bpin(?:ned|s)?\b", "hotfix": r"hot-?fix", "incident": r"incident",
}

STRUCTURE = {
    "reverts-trailer": (r"^\s*This reverts commit [0-9a-f]{7,40}", "body"),
    "fixes-trailer": (r"^Fixes:\s+(?:commit\s+)?[0-9a-f]{8,40}\b", "body"),
    "advisory-merge": (r"^Merge (?:pull request|commit) from (?:GHSA-|fork)|^Merge branch '?ghsa-", "subject"),
    "reapply": (r'^Reapply "', "subject"),
    "revert-conventional": (r"^revert(?:\([^)]*\))?!?:", "subject-i"),
    "revert-subject": (r"^Revert\b", "subject"),
}


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, "-c", "protocol.allow=never", *args], capture_output=True, text=True, errors="replace", env=_ENV,
                          check=True).stdout


def commits(git_dir: str, commit: str) -> list[tuple[str, list[str], str, str]]:
    """(sha, parents, subject, body) of every commit reachable from `commit`, in rev-list order."""
    out = git(git_dir, "log", "--format=%H%x00%P%x00%B%x1e", commit)
    rows = []
    for rec in out.split("\x1e"):
        rec = rec.strip("\n")
        if not rec:
            continue
        sha, parents, msg = rec.split("\x00", 2)
        subject, _, body = msg.partition("\n")
        rows.append((sha, parents.split(), subject.strip(), body))
    return rows


def brought_in(git_dir: str, merge: str, parents: list[str]) -> list[str]:
    """Commits a two-parent merge brings in: `rev-list P1..P2`."""
    if len(parents) < 2:
        return []
    return git(git_dir, "rev-list", f"{parents[0]}..{parents[1]}").split()


def draw(git_dir: str, commit: str, seed: int, n_random: int, n_keyword: int, n_structure: int,
         n_supplement: int = 0, n_extra_random: int = 0, n_extra_structure: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = commits(git_dir, commit)
    order = [r[0] for r in rows]
    taken: dict[str, dict] = {}
    for sha in rng.sample(order, n_random):
        taken[sha] = {"sha": sha, "drawn": "random", "pool": "all"}

    pools: dict[str, list[str]] = {name: [] for name in STRUCTURE}
    pools["advisory-brought-in"] = []
    for sha, parents, subject, body in rows:
        for name, (pat, where) in STRUCTURE.items():
            text = body if where == "body" else subject
            flags = re.MULTILINE | (re.IGNORECASE if where == "subject-i" else 0)
            if re.search(pat, text, flags):
                pools[name].append(sha)
                if name == "advisory-merge":
                    pools["advisory-brought-in"].extend(brought_in(git_dir, sha, parents))
    _round_robin(rng, pools, n_structure, "structure", taken)

    kw_pools: dict[str, list[str]] = {k: [] for k in KEYWORDS}
    for sha, _parents, subject, body in rows:
        text = f"{subject}\n{body}"
        for k, pat in KEYWORDS.items():
            if re.search(pat, text, re.IGNORECASE | re.MULTILINE):
                kw_pools[k].append(sha)
    _round_robin(rng, kw_pools, n_keyword, "keyword", taken)

    if n_supplement:
        sub_pools: dict[str, list[str]] = {k: [] for k in SUBJECT_KEYWORDS}
        for sha, parents, subject, _body in rows:
            if len(parents) > 1:
                continue
            for k, pat in SUBJECT_KEYWORDS.items():
                if re.search(pat, subject, re.IGNORECASE):
                    sub_pools[k].append(sha)
        before = len(taken)
        _round_robin(random.Random(seed + 1), sub_pools, n_supplement, "keyword", taken)
        for row in list(taken.values())[before:]:
            row["pool"] = "subject:" + row["pool"]

    if n_extra_random:
        rest = [sha for sha in order if sha not in taken]
        for sha in random.Random(seed + 2).sample(rest, n_extra_random):
            taken[sha] = {"sha": sha, "drawn": "random", "pool": "all-extra"}
    if n_extra_structure:
        before = len(taken)
        _round_robin(random.Random(seed + 3), pools, n_extra_structure, "structure", taken)
        for row in list(taken.values())[before:]:
            row["pool"] = "extra:" + row["pool"]
    return list(taken.values())


def _round_robin(rng: random.Random, pools: dict[str, list[str]], n: int, label: str, taken: dict) -> None:
    queues = {}
    for name, shas in pools.items():
        shas = list(dict.fromkeys(shas))
        rng.shuffle(shas)
        queues[name] = shas
    got = 0
    while got < n and any(queues.values()):
        for name, q in queues.items():
            while q and q[-1] in taken:
                q.pop()
            if q and got < n:
                sha = q.pop()
                taken[sha] = {"sha": sha, "drawn": label, "pool": name}
                got += 1


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 6, 7, 9):
        print(__doc__, file=sys.stderr)
        return 2
    git_dir, commit, seed = argv[0], argv[1], int(argv[2])
    n_r, n_k, n_s = (int(x) for x in argv[3:6]) if len(argv) >= 6 else (34, 26, 26)
    n_sup = int(argv[6]) if len(argv) >= 7 else 0
    n_xr, n_xs = (int(argv[7]), int(argv[8])) if len(argv) == 9 else (0, 0)
    for row in draw(git_dir, commit, seed, n_r, n_k, n_s, n_sup, n_xr, n_xs):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
