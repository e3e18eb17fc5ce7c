"""Check an ops gold set against its pinned commit: every query line holds its metric, every definition
line holds the evidence the gold set quotes, nothing is listed twice.

    python -m benchmarks.ops.check_gold SYSTEM=GIT_DIR [SYSTEM=GIT_DIR ...]

Lines are read with `git cat-file` from any clone holding the commit; nothing is checked out or run.
Exit 0 when every gold set is consistent, 1 otherwise (each problem printed with its file and line).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from benchmarks.realworld.check_gold import Corpus

HERE = Path(__file__).resolve().parent


def check(gold: dict, corpus: Corpus) -> list[str]:  # type: ignore[type-arg]
    problems = []
    seen: set[tuple[str, str]] = set()

    def line(site: str) -> str | None:
        path, _, n = site.rpartition(":")
        lines = corpus.lines(path)
        if lines is None or not n.isdigit() or not 0 < int(n) <= len(lines):
            return None
        return lines[int(n) - 1]

    for kind in ("links", "unlinked"):
        for item in gold[kind]:
            key = (item["read"], item["metric"])
            if key in seen:
                problems.append(f"{item['read']}: {item['metric']} listed twice")
            seen.add(key)
            text = line(item["read"])
            if text is None or not re.search(r"(?<![\w:])" + re.escape(item["metric"]) + r"(?![\w:])", text):
                problems.append(f"{item['read']}: does not hold {item['metric']}")
            if kind == "links":
                d = line(item["definition"])
                if d is None or item["evidence"] not in d:
                    problems.append(f"{item['definition']}: does not hold {item['evidence']!r}")
            elif not item.get("why"):
                problems.append(f"{item['read']}: unlinked without a reason")
    for p in gold["scope"]:
        if corpus.lines(p) is None:
            problems.append(f"{p}: not in the commit")
    return problems


def main(argv: list[str] | None = None) -> int:
    bad = 0
    for spec in argv if argv is not None else sys.argv[1:]:
        name, _, git_dir = spec.partition("=")
        gold = json.loads((HERE / name / "gold.json").read_text(encoding="utf-8"))
        problems = check(gold, Corpus(Path(git_dir), gold["commit"]))
        print(f"{name}: {len(gold['links'])} links, {len(gold['unlinked'])} unlinked reads, "
              f"{'consistent' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print(f"  {p}")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
