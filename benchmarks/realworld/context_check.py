"""`lore context` at real call sites: for every system and every language of its gold set, one gold consumer
site (and one provider site) asked through the real command, in the monorepo layout.

    python -m benchmarks.realworld.context_check SYSTEM=GIT_DIR [SYSTEM=GIT_DIR ...] [--work DIR]

The layouts are the scorer's (`score.layouts`, same `--work`). For a consumer site the answer must name the
gold contract in its "Contract" section and at least one provider in its "links" section; for a provider site
it must name the contract. Prints one row per (system, language, role) with the site and what was named; exits
1 when a row fails. The first site of each kind in the gold file's order is taken (no choosing by hand).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.realworld.score import HERE, CorpusError, contract_of, layouts, supported_languages


def ask(workspace: Path, site: str, cache: Path) -> dict[str, Any]:
    path, line = site.rsplit(":", 1)
    proc = subprocess.run([sys.executable, "-m", "lore", "context", f"{workspace / 'mono' / path}:{line}", "--json"],
                          capture_output=True, text=True, env={**os.environ, "LORE_CACHE": str(cache)}, timeout=3600)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["exit " + str(proc.returncode)])[-1]}
    return json.loads(proc.stdout)


def named(answer: dict[str, Any]) -> tuple[set[str], int]:
    """The gold-style contract ids the answer's Contract section names, and its provider count."""
    contracts: set[str] = set()
    providers = 0
    for sec in answer.get("sections", []):
        for note in sec.get("notes", []):
            data = note.get("data") or {}
            if sec.get("name") == "contract" and note.get("kind") == "entity":
                loc = note.get("location") or {}
                found = contract_of({"kind": data.get("kind", ""), "id": data.get("id", ""), "attrs": data.get("attrs") or {},
                                     "repo": loc.get("repo", ""), "path": loc.get("path", "")}, {"mono": ""})
                if found:
                    contracts.add(found)
            if sec.get("name") == "links" and note.get("kind") == "provider":
                providers += 1
    return contracts, providers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("systems", nargs="+", metavar="SYSTEM=GIT_DIR")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lore-realworld")
    args = ap.parse_args(argv)
    langs = supported_languages()
    failed = 0
    print("| system | language | role | site | contract named | providers | ok |")
    print("|---|---|---|---|---|---|---|")
    for spec in args.systems:
        name, _, git_dir = spec.partition("=")
        gold = json.loads((HERE / name / "gold.json").read_text())
        try:
            mono = layouts(gold, Path(git_dir), args.work)["mono"][0]
        except CorpusError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        cache = args.work / name / "context-cache"
        picked: dict[tuple[str, str], dict[str, Any]] = {}
        for link in gold["links"]:
            if link["language"] in langs:
                picked.setdefault((link["language"], link["role"]), link)
        for (lang, role), link in sorted(picked.items()):
            answer = ask(mono, link["site"], cache)
            contracts, providers = named(answer)
            ok = "error" not in answer and link["contract"] in contracts and (role == "provides" or providers > 0)
            failed += not ok
            shown = answer.get("error") or (", ".join(sorted(contracts)) or "none")
            print(f"| {name} | {lang} | {role} | `{link['site']}` | {shown} | {providers} | {'yes' if ok else 'NO'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
