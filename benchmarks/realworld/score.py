"""Score Lore's links against the real-world gold sets, in both layouts (one repo per service, monorepo).

    python -m benchmarks.realworld.score SYSTEM=GIT_DIR [SYSTEM=GIT_DIR ...] [--work DIR] [-v] [--json OUT]

For each system: the pinned commit is exported (`git archive`, nothing of the corpus runs) into
`--work`/<system>/mono (one repository) and `--work`/<system>/split/<name> (one repository per `split`
folder), each committed once so Lore sees a git repository; `lore graph --json` runs on each layout with
a fresh cache; predicted links in scope (proto rpcs, OpenAPI operations, GraphQL fields) are matched to
the gold links by role, contract and site (the gold line, its `alt_lines`, or one line either side).

A system whose git dir is missing or lacks the pinned commit is skipped with one line naming it and the
commit; the others are scored, and the exit status is 1.

Prints, per system and layout: gold links (in the languages Lore extracts), predictions, true and false
positives, misses, precision and recall; then per role and per language; `-v` lists every false
positive and miss. Links predicted in `neutral` files do not count; links predicted in `generated`
files are false positives (generated stubs are evidence, never a provider or consumer of record).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LINE_TOLERANCE = 1
_GIT_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
EXT_LANG = {".go": "go", ".py": "python", ".ts": "typescript", ".tsx": "typescript", ".js": "javascript",
            ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".vue": "javascript", ".java": "java",
            ".cs": "csharp", ".kt": "kotlin", ".kts": "kotlin", ".rs": "rust", ".cc": "cpp", ".cpp": "cpp",
            ".h": "cpp", ".hpp": "cpp", ".rb": "ruby", ".php": "php", ".graphql": "graphql", ".gql": "graphql",
            ".graphqls": "graphql"}


def supported_languages() -> set[str]:
    """The languages Lore extracts usages from (asked of Lore itself), plus GraphQL documents."""
    from indexers.sources.code.facts import LANGS, family

    return {family(lang) for lang in LANGS.values()} | {"typescript", "graphql"}


# -- layouts ------------------------------------------------------------------------------------------

def _git(*args: str, cwd: Path | None = None) -> bytes:
    return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", *args], cwd=cwd,
                          env=_GIT_ENV, check=True, capture_output=True).stdout


def _export(git_dir: Path, commit: str, subdir: str, dest: Path) -> None:
    """The tree at `commit:subdir` written into `dest` and committed there as one commit. Blobs the
    corpus snapshot lacks (very large files) are left out."""
    prefix = subdir.strip("/")
    listing = _git("--git-dir", str(git_dir), "ls-tree", "-r", "-z", commit, "--", *([prefix] if prefix else []))
    entries = []
    for rec in listing.split(b"\0"):
        if not rec:
            continue
        meta, _, raw = rec.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(), raw.decode("utf-8", "surrogateescape")))
    dest.mkdir(parents=True)
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=_GIT_ENV)
    assert proc.stdin and proc.stdout
    for blob, path in entries:
        proc.stdin.write(blob.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            continue
        data = proc.stdout.read(int(header[2]) + 1)[:-1]
        rel = path[len(prefix) + 1:] if prefix else path
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    proc.stdin.close()
    proc.wait()
    _git("init", "-q", "-b", "main", cwd=dest)
    _git("add", "-A", "--force", cwd=dest)  # every file tracked at the commit, even one a .gitignore names
    _git("-c", "user.name=eval", "-c", "user.email=eval@example.invalid", "commit", "-q", "--no-verify",
         "-m", f"export of {commit}:{subdir}", cwd=dest)


class CorpusError(Exception):
    """A system's corpus cannot be exported: its git dir is missing or lacks the pinned commit."""


def check_corpus(gold: dict[str, Any], git_dir: Path) -> None:
    """Raise CorpusError (one line naming the system, the git dir and the pinned commit) unless `git_dir`
    is a git directory holding the gold set's commit."""
    name, commit = gold["system"], gold["commit"]
    if not git_dir.is_dir():
        source = str(gold.get("source", "")).removeprefix("github:")
        raise CorpusError(f"{name}: skipped: {git_dir} does not exist (clone {source or 'its source'} there; it must "
                          f"hold the pinned commit {commit})")
    proc = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{commit}^{{commit}}"],
                          env=_GIT_ENV, capture_output=True)
    if proc.returncode != 0:
        raise CorpusError(f"{name}: skipped: {git_dir} does not hold the pinned commit {commit} (fetch it, then "
                          f"`git --git-dir {git_dir} cat-file -t {commit}` must print 'commit')")


def layouts(gold: dict[str, Any], git_dir: Path, work: Path) -> dict[str, tuple[Path, dict[str, str]]]:
    """{layout: (workspace folder, {repo name: folder in the monorepo})}, built once and reused."""
    base = work / gold["system"] / gold["commit"][:12]
    mono, split = base / "mono", base / "split"
    if not (base / ".done").exists():
        check_corpus(gold, git_dir)
        shutil.rmtree(base, ignore_errors=True)
        try:
            _export(git_dir, gold["commit"], "", mono / "mono")
            for name, sub in gold["split"].items():
                _export(git_dir, gold["commit"], sub, split / name)
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(base, ignore_errors=True)
            why = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            raise CorpusError(f"{gold['system']}: skipped: exporting {gold['commit']} from {git_dir} failed"
                              + (f": {why[-1]}" if why else "")) from exc
        (base / ".done").write_text("ok\n")
    return {"mono": (mono, {"mono": ""}), "split": (split, dict(gold["split"]))}


# -- predictions --------------------------------------------------------------------------------------

def run_lore(workspace: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lore-rw-cache-") as cache:
        proc = subprocess.run([sys.executable, "-m", "lore", "graph", str(workspace), "--json"], capture_output=True,
                              text=True, env={**os.environ, "LORE_CACHE": cache}, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"lore graph failed on {workspace}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def contract_of(entity: dict[str, Any], folder_of: dict[str, str]) -> str | None:
    """The gold contract id of an entity in scope, or None."""
    kind = entity.get("kind", "")
    if kind == "proto.rpc":
        return entity["id"]
    if kind == "openapi.operation":
        attrs = entity.get("attrs", {})
        spec = _join(folder_of.get(entity["repo"], ""), entity["path"])
        return f"openapi:{spec}#{attrs.get('method', '').upper()} {attrs.get('path', '')}"
    if kind == "graphql.field":
        return entity["id"]
    return None


def _join(folder: str, path: str) -> str:
    return f"{folder.strip('/')}/{path}" if folder.strip("/") else path


@dataclass(frozen=True)
class Site:
    role: str
    contract: str
    path: str
    line: int  # 1-based


def predictions(graph: dict[str, Any], folder_of: dict[str, str]) -> set[Site]:
    entities: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in graph["entities"]:
        entities[e["id"]].append(e)
    out: set[Site] = set()
    for lk in graph["links"]:
        for ent in entities.get(lk["entity"], []) or [{"id": lk["entity"], "kind": _kind_of(lk["entity"]), "repo": "", "path": ""}]:
            contract = contract_of(ent, folder_of)
            if contract is None:
                continue
            out.add(Site(lk["role"], contract, _join(folder_of.get(lk["repo"], ""), lk["path"]), lk["range"]["start_line"] + 1))
    return out


def _kind_of(entity_id: str) -> str:
    return {"proto": "proto.rpc", "graphql": "graphql.field"}.get(entity_id.split(":", 1)[0], "")


# -- scoring ------------------------------------------------------------------------------------------

@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    fps: list[str] = field(default_factory=list)
    fns: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _matches(globs: list[str], path: str) -> bool:
    return any(fnmatch.fnmatch(path, g) or (g.endswith("/**") and path.startswith(g[:-3] + "/")) for g in globs)


def score(gold: dict[str, Any], predicted: set[Site], langs: set[str], in_layout: list[str] | None) -> dict[str, Score]:
    """Scores keyed 'all', 'role:<r>', 'lang:<l>'. `in_layout`: monorepo folders present in the layout (gold
    links outside them cannot be found there and are left out)."""
    by: dict[str, Score] = defaultdict(Score)
    unmatched = set(predicted)
    gold_links = [g for g in gold["links"] if g["language"] in langs]
    if in_layout is not None:
        gold_links = [g for g in gold_links if any(_inside(g["site"].rsplit(":", 1)[0], f) for f in in_layout)]
    for g in gold_links:
        path, line = g["site"].rsplit(":", 1)
        lines = {int(line), *g.get("alt_lines", [])}
        hit = next((p for p in sorted(unmatched, key=lambda s: s.line) if p.role == g["role"] and p.contract == g["contract"]
                    and p.path == path and any(abs(p.line - n) <= LINE_TOLERANCE for n in lines)), None)
        keys = ("all", f"role:{g['role']}", f"lang:{g['language']}")
        if hit is not None:
            unmatched.discard(hit)
            # the same site predicted on a neighbouring line too is one link, not a false positive
            for dup in [p for p in unmatched if p.role == hit.role and p.contract == hit.contract and p.path == hit.path
                        and any(abs(p.line - n) <= LINE_TOLERANCE for n in lines)]:
                unmatched.discard(dup)
            for k in keys:
                by[k].tp += 1
        else:
            for k in keys:
                by[k].fn += 1
                by[k].fns.append(f"{g['role']} {g['contract']} at {g['site']}  ({g.get('evidence', '')})")
    for p in sorted(unmatched, key=lambda s: (s.path, s.line)):
        if _matches(gold.get("neutral", []), p.path):
            continue
        lang = EXT_LANG.get(Path(p.path).suffix, "other")
        why = " [generated]" if _matches(gold.get("generated", []), p.path) else ""
        for k in ("all", f"role:{p.role}", f"lang:{lang}"):
            by[k].fp += 1
            by[k].fps.append(f"{p.role} {p.contract} at {p.path}:{p.line}{why}")
    return by


def _inside(path: str, folder: str) -> bool:
    return not folder.strip("/") or path == folder.strip("/") or path.startswith(folder.strip("/") + "/")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("systems", nargs="+", metavar="SYSTEM=GIT_DIR")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lore-realworld")
    ap.add_argument("--layouts", default="split,mono")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures as JSON.")
    ap.add_argument("--contracts", default="", help="Score only these contract kinds (comma-separated prefixes of "
                    "the contract ids: proto, openapi, graphql); all by default.")
    args = ap.parse_args(argv)
    langs = supported_languages()
    rows: list[dict[str, Any]] = []
    print(f"languages scored: {', '.join(sorted(langs))}")
    print("| system | layout | gold links | predicted | TP | FP | FN | precision | recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    details: list[str] = []
    skipped: list[str] = []
    for spec in args.systems:
        name, _, git_dir = spec.partition("=")
        gold_file = HERE / name / "gold.json"
        if not gold_file.is_file():
            print(f"{name}: skipped: no gold set {gold_file.relative_to(HERE.parents[1])}", file=sys.stderr)
            skipped.append(name)
            continue
        gold = json.loads(gold_file.read_text())
        try:
            built = layouts(gold, Path(git_dir), args.work)
        except CorpusError as exc:
            print(exc, file=sys.stderr)
            skipped.append(name)
            continue
        for layout, (ws, folder_of) in built.items():
            if layout not in args.layouts.split(","):
                continue
            graph = run_lore(ws)
            predicted = predictions(graph, folder_of)
            if args.contracts:
                kinds = tuple(k.strip() + ":" for k in args.contracts.split(",") if k.strip())
                gold = {**gold, "links": [g for g in gold["links"] if g["contract"].startswith(kinds)]}
                predicted = {p for p in predicted if p.contract.startswith(kinds)}
            folders = None if layout == "mono" else list(folder_of.values())
            scores = score(gold, predicted, langs, folders)
            s = scores["all"]
            gold_n = s.tp + s.fn
            print(f"| {name} | {layout} | {gold_n} | {s.tp + s.fp} | {s.tp} | {s.fp} | {s.fn} | {s.precision:.3f} | {s.recall:.3f} |")
            row = {"system": name, "layout": layout, "gold": gold_n, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                   "precision": round(s.precision, 4), "recall": round(s.recall, 4),
                   "by": {k: {"tp": v.tp, "fp": v.fp, "fn": v.fn} for k, v in sorted(scores.items()) if k != "all"},
                   "conflicts": len(graph.get("conflicts", []))}
            rows.append(row)
            parts = [f"{k} P {v.precision:.2f} R {v.recall:.2f} ({v.tp}/{v.tp + v.fn})" for k, v in sorted(scores.items()) if k != "all"]
            details.append(f"{name}/{layout}: " + "; ".join(parts) + f"; conflicts {row['conflicts']}")
            if args.verbose:
                details += [f"  FP {x}" for x in s.fps] + [f"  FN {x}" for x in s.fns]
    print()
    print("\n".join(details))
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    if rows:
        print(f"\ntotal: P {tp / (tp + fp) if tp + fp else 1:.3f} R {tp / (tp + fn) if tp + fn else 1:.3f} "
              f"({tp} of {tp + fn} gold links found, {fp} false positives)")
    if skipped:
        print(f"\nnot scored (see the lines above): {', '.join(skipped)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
