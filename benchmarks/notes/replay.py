"""Replay real history against team-note anchors: place notes on functions of a repository at an old
commit, follow them through the next N first-parent commits with Lore's own re-attachment, and write what
became of each note, plus a review file for checking a random sample by hand.

    python -m benchmarks.notes.replay GIT_DIR COMMIT [--commits 500] [--notes 100] [--seed 7] [--per-file 2]
                                      [--out results.json] [--review review.md] [--sample 40]
                                      [--check checked/NAME.json]

GIT_DIR is a clone (bare is fine); nothing is fetched. Notes are drawn at COMMIT (seeded): functions and
methods of the files Lore reads symbols from, at most two per file (`--per-file`); 70% on the whole declaration (the note
written on its `def` line), 30% on a 2-4 line stretch inside its body. Two ways of following them:

- direct: at the last commit, from the anchors as written (renames followed from COMMIT by git);
- stepwise: after every commit that touches a note's file, re-attach and re-anchor it there (what running
  `lore note refresh` on every commit does); a note orphaned once stays orphaned.

`--check` compares the run with notes judged by hand (`checked/*.json`: the placement that was judged and
the verdict) and prints the accuracy over the judged notes whose placement is unchanged, naming those whose
placement changed (to be judged again). The review file shows, for each sampled note, the anchored code at COMMIT and the code each mode placed it
on at the last commit (or, for an orphan, where a declaration of that name is at the last commit). It holds
the repository's code: keep it outside this repository. `results.json` holds paths, lines and symbol names.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from indexers import git
from indexers.diff import resolve
from indexers.discover import skip_reason_by_name
from indexers.model import Anchor, TeamNote
from indexers.notes.anchor import make_anchor, split_lines
from indexers.notes.attach import Placement
from indexers.notes.place import place
from indexers.notes.symbols import language_of, symbols
from indexers.positions import SourceFile

MAX_FILE = 300_000


class Repo:
    """Blobs and trees of a (bare) clone at given commits."""

    def __init__(self, root: Path):
        self.root = root
        self.reader = git.BlobReader(root)
        self._trees: dict[str, list[str]] = {}

    def text(self, commit: str, path: str) -> str | None:
        data = self.reader.read(f"{commit}:{path}")
        if data is None or len(data) > MAX_FILE or b"\0" in data[:8192]:
            return None
        return SourceFile("", path, data).text

    def tree(self, commit: str) -> list[str]:
        if commit not in self._trees:
            self._trees = {commit: git.ls_tree(self.root, commit)}
        return self._trees[commit]


def first_parent_after(root: Path, start: str, count: int) -> list[str]:
    out = git.run(root, "rev-list", "--first-parent", "--reverse", f"{start}..HEAD", timeout=300).decode().split()
    if len(out) < count:
        raise SystemExit(f"only {len(out)} first-parent commits after {start[:12]} on HEAD (asked for {count})")
    return out[:count]


def draw(repo: Repo, start: str, n: int, seed: int, per_file: int = 2) -> list[TeamNote]:
    rng = random.Random(seed)
    files = sorted(p for p in repo.tree(start) if language_of(p) and skip_reason_by_name(p) is None)
    rng.shuffle(files)
    notes: list[TeamNote] = []
    for path in files:
        if len(notes) >= n:
            break
        text = repo.text(start, path)
        if text is None:
            continue
        lines = split_lines(text)
        funcs = [s for s in symbols(path, text) if s.kind in ("function", "method") and s.end_line - s.name_line >= 2]
        for sym in rng.sample(funcs, min(per_file, len(funcs))):
            if len(notes) >= n:
                break
            if rng.random() < 0.7:
                anchor = make_anchor(path, text, sym.name_line, sym.name_line, commit=start)
            else:
                body = [i for i in range(sym.name_line + 1, sym.end_line + 1) if lines[i].strip()]
                if len(body) < 2:
                    continue
                first = rng.choice(body[:-1])
                last = min(first + rng.randint(1, 3), sym.end_line)
                anchor = make_anchor(path, text, first, last, commit=start)
            ident = f"n{len(notes) + 1:03d}"
            notes.append(TeamNote(ident, "replay", f".lore/notes/{ident}.toml", "tip", "replay", anchor))
    return notes


def at_commit(repo: Repo, note: TeamNote, commit: str) -> Placement:
    return place(note, repo.root, text_of=lambda p: repo.text(commit, p), listed=lambda: repo.tree(commit),
                 head=commit, worktree=False)


def touched(root: Path, parent: str, commit: str) -> set[str]:
    """Paths (old and new) a commit changes against its first parent."""
    out = git.run(root, "diff-tree", "-r", "-M", "-z", "--name-status", parent, commit, timeout=120)
    fields = [f.decode("utf-8", "surrogateescape") for f in out.split(b"\0") if f]
    paths: set[str] = set()
    i = 0
    while i < len(fields):
        status = fields[i]
        take = 2 if status[:1] in ("R", "C") else 1
        paths.update(fields[i + 1:i + 1 + take])
        i += 1 + take
    return paths


def stepwise(repo: Repo, start: str, commits: list[str], notes: list[TeamNote]) -> dict[str, dict[str, Any]]:
    live = {n.id: n for n in notes}
    out: dict[str, dict[str, Any]] = {}
    steps: Counter[str] = Counter()
    parent = start
    for commit in commits:
        changed = touched(repo.root, parent, commit)
        for ident, n in list(live.items()):
            if n.anchor.path not in changed:
                continue
            p = at_commit(repo, n, commit)
            steps[ident] += 1
            if not p.attached:
                out[ident] = {**_placement(p), "orphaned_at": commit, "steps": steps[ident]}
                del live[ident]
                continue
            text = repo.text(commit, p.path) or ""
            anchor = make_anchor(p.path, text, p.start_line, p.end_line, commit=commit)
            live[ident] = TeamNote(n.id, n.repo, n.path, n.kind, n.text, anchor)
        parent = commit
    for ident, n in live.items():
        a = n.anchor
        out[ident] = {"status": "attached", "path": a.path, "lines": [a.start_line + 1, a.end_line + 1],
                      "symbol": a.symbol, "how": "", "steps": steps[ident]}
    return out


def _placement(p: Placement) -> dict[str, Any]:
    return {"status": p.status, "path": p.path, "lines": [p.start_line + 1, p.end_line + 1], "symbol": p.symbol,
            "how": p.how, "renamed_from": p.renamed_from, "score": p.score}


def _anchor(a: Anchor) -> dict[str, Any]:
    return {"path": a.path, "lines": [a.start_line + 1, a.end_line + 1], "symbol": a.symbol, "whole": a.whole_symbol}


def review(repo: Repo, start: str, final: str, rows: list[dict[str, Any]], sample: list[str]) -> str:
    out = [f"# Review sample: {len(sample)} notes, {start[:12]} -> {final[:12]}", ""]
    by_id = {r["id"]: r for r in rows}
    for ident in sample:
        r = by_id[ident]
        a = r["anchored"]
        out.append(f"## {ident}  {'whole ' if a['whole'] else 'lines in '}{a['symbol']}  {a['path']}:{a['lines'][0]}-{a['lines'][1]}")
        out += ["```", *_excerpt(repo, start, a["path"], a["lines"]), "```"]
        for mode in ("direct", "stepwise"):
            p = r[mode]
            if mode == "stepwise" and (p["status"] == "orphaned") == (r["direct"]["status"] == "orphaned") \
                    and p["path"] == r["direct"]["path"] and p["lines"] == r["direct"]["lines"]:
                out.append("stepwise: same place")
                continue
            out.append(f"{mode}: {p['status']} {p['path']}:{p['lines'][0]}-{p['lines'][1]} {p['symbol']}  {p.get('how', '')}")
            if p["status"] != "orphaned":
                out += ["```", *_excerpt(repo, final, p["path"], p["lines"]), "```"]
        if "orphaned" in (r["direct"]["status"], r["stepwise"]["status"]):
            name = a["symbol"].rsplit(".", 1)[-1]
            hits = git.run(repo.root, "grep", "-n", "-E", rf"(def|function|func) {name}\b", final, "--", check=False,
                           timeout=60).decode("utf-8", "replace").splitlines()[:6]
            out.append(f"declarations of {name} at the last commit: " + ("; ".join(h.split(":", 1)[1] for h in hits) or "none"))
        out.append("")
    return "\n".join(out)


def _excerpt(repo: Repo, commit: str, path: str, lines: list[int], limit: int = 14) -> list[str]:
    text = repo.text(commit, path)
    if text is None:
        return ["(file not readable)"]
    body = split_lines(text)[lines[0] - 1:lines[1]]
    return [f"{lines[0] + i:5d}  {x}" for i, x in enumerate(body[:limit])] + ([f"  ... {len(body) - limit} more"] if len(body) > limit else [])


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"notes": len(rows)}
    for mode in ("direct", "stepwise"):
        statuses = Counter(r[mode]["status"] for r in rows)
        out[mode] = {"statuses": dict(sorted(statuses.items())),
                     "orphan_rate": round(statuses["orphaned"] / len(rows), 3) if rows else 0.0}
        for kind in ("whole", "range"):
            sub = [r for r in rows if r["anchored"]["whole"] == (kind == "whole")]
            out[mode][f"{kind}_orphaned"] = f"{sum(r[mode]['status'] == 'orphaned' for r in sub)}/{len(sub)}"
    return out


VERDICTS = ("correct", "wrong", "orphan-correct", "missed")


def check(rows: list[dict[str, Any]], judged: dict[str, Any]) -> dict[str, Any]:
    """The run's placements against the hand-judged ones: verdict counts over the unchanged, and the ids
    whose placement changed since they were judged."""
    by_id = {r["id"]: r for r in rows}
    counts: Counter[str] = Counter()
    changed: list[str] = []
    for v in judged["notes"]:
        now = by_id.get(v["id"], {}).get("direct")
        then = v["placed"]
        if now is None or (now["status"] == "orphaned", now["path"], now["lines"]) != (then["status"] == "orphaned", then["path"], then["lines"]):
            changed.append(v["id"])
            continue
        counts[v["verdict"]] += 1
    judged_n = sum(counts.values())
    good = counts["correct"] + counts["orphan-correct"]
    attached = counts["correct"] + counts["wrong"]
    return {"judged": judged_n, "verdicts": {k: counts[k] for k in VERDICTS},
            "accuracy": round(good / judged_n, 3) if judged_n else None,
            "attached_precision": round(counts["correct"] / attached, 3) if attached else None,
            "changed_since_judged": changed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("git_dir", type=Path)
    ap.add_argument("commit")
    ap.add_argument("--commits", type=int, default=500)
    ap.add_argument("--notes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--per-file", type=int, default=2, help="notes drawn per file at most")
    ap.add_argument("--out", type=Path, default=Path("results.json"))
    ap.add_argument("--review", type=Path, default=None, help="review file (repository code: keep it out of this repo)")
    ap.add_argument("--check", type=Path, default=None, help="hand-judged notes to compare with (checked/*.json)")
    args = ap.parse_args(argv)
    root = args.git_dir.resolve()
    start = resolve(root, args.commit)
    commits = first_parent_after(root, start, args.commits)
    final = commits[-1]
    repo = Repo(root)
    t0 = time.perf_counter()
    notes = draw(repo, start, args.notes, args.seed, args.per_file)
    t1 = time.perf_counter()
    direct = {n.id: _placement(at_commit(repo, n, final)) for n in notes}
    t2 = time.perf_counter()
    steps = stepwise(repo, start, commits, notes)
    t3 = time.perf_counter()
    rows = [{"id": n.id, "anchored": _anchor(n.anchor), "direct": direct[n.id], "stepwise": steps[n.id]} for n in notes]
    sample = sorted(random.Random(args.seed + 1).sample([r["id"] for r in rows], min(args.sample, len(rows))))
    doc = {"git_dir": str(args.git_dir), "start": start, "final": final, "commits": len(commits), "seed": args.seed,
           "per_file": args.per_file,
           "summary": summary(rows), "sample": sample,
           "seconds": {"draw": round(t1 - t0, 2), "direct": round(t2 - t1, 2), "stepwise": round(t3 - t2, 2)},
           "notes": rows}
    if args.check is not None:
        doc["check"] = check(rows, json.loads(args.check.read_text(encoding="utf-8")))
    args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    if args.review is not None:
        args.review.write_text(review(repo, start, final, rows, sample), encoding="utf-8")
    repo.reader.close()
    print(json.dumps({k: doc[k] for k in ("start", "final", "commits", "summary", "seconds", "check") if k in doc}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
