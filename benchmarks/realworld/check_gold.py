"""Check a real-world gold set against its pinned commit: every cited line exists and says what the gold
set claims, every contract is declared, no link is listed twice.

    python -m benchmarks.realworld.check_gold GOLD.json GIT_DIR [GOLD.json GIT_DIR ...]

GIT_DIR is any clone (bare or not) that holds the pinned commit (see README.md for how to fetch it).
Nothing is checked out and nothing in the corpus is run: lines are read with `git cat-file`.
Exit 0 when every gold set is consistent, 1 otherwise (each problem printed with its file and line).

The format is described in README.md next to this file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("provides", "consumes")
_SITE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)$")
_GIT_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"}


@dataclass
class Corpus:
    """Read-only access to one pinned commit of a corpus clone (one `git cat-file --batch` reader)."""

    git_dir: Path
    commit: str
    _cache: dict[str, list[str] | None] = field(default_factory=dict)
    _proc: Any = None

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), "-c", "core.fsmonitor=false",
                               "-c", "protocol.allow=never", *args], capture_output=True, text=True,
                              env=_GIT_ENV, check=True).stdout

    def lines(self, path: str) -> list[str] | None:
        if path not in self._cache:
            if self._proc is None:
                self._proc = subprocess.Popen(["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_GIT_ENV)
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(f"{self.commit}:{path}\n".encode())
            self._proc.stdin.flush()
            header = self._proc.stdout.readline().decode().split()
            if len(header) < 3 or header[1] != "blob":
                self._cache[path] = None
            else:
                data = self._proc.stdout.read(int(header[2]) + 1)[:-1]
                self._cache[path] = data.decode("utf-8", "replace").splitlines()
        return self._cache[path]

    def grep(self, pattern: str, *pathspecs: str) -> list[str]:
        """`git grep -E` at the pinned commit: 'path:line:text' rows (empty when nothing matches)."""
        try:
            out = self._git("grep", "-n", "-E", pattern, self.commit, "--", *pathspecs)
        except subprocess.CalledProcessError:
            return []
        return [row.split(":", 1)[1] for row in out.split("\n") if row]

    def has_commit(self) -> bool:
        try:
            return self._git("cat-file", "-t", self.commit).strip() == "commit"
        except subprocess.CalledProcessError:
            return False


def parse_site(site: str) -> tuple[str, int]:
    m = _SITE.match(site)
    if not m or int(m["line"]) < 1:
        raise ValueError(f"site {site!r} is not PATH:LINE (1-based)")
    return m["path"], int(m["line"])


def contract_problem(corpus: Corpus, contract: str, cache: dict[str, str | None]) -> str | None:
    """Whether the contract is declared at the pinned commit (a textual check; Lore is not used)."""
    if contract in cache:
        return cache[contract]
    problem: str | None = None
    fmt, _, name = contract.partition(":")
    if fmt == "proto":
        parts = name.split(".")
        if len(parts) < 2:
            problem = f"{contract}: expected proto:pkg.Service.Method"
        else:
            svc, rpc = parts[-2], parts[-1]
            if not corpus.grep(rf"\bservice\s+{re.escape(svc)}\b", "*.proto"):
                problem = f"{contract}: no .proto declares service {svc}"
            elif not corpus.grep(rf"\brpc\s+{re.escape(rpc)}\s*\(", "*.proto"):
                problem = f"{contract}: no .proto declares rpc {rpc}"
    elif fmt == "openapi":
        spec, _, op = name.partition("#")
        method, _, path = op.partition(" ")
        lines = corpus.lines(spec)
        if lines is None:
            problem = f"{contract}: spec {spec} is not in the commit"
        elif method.lower() not in {"get", "put", "post", "delete", "patch", "head", "options", "trace"} or not path.startswith("/"):
            problem = f"{contract}: expected openapi:SPEC#METHOD /path"
        else:
            text = "\n".join(lines)
            if not re.search(rf"""^\s*["']?{re.escape(path)}["']?\s*:""", text, re.M) and f'"{path}"' not in text:
                problem = f"{contract}: path {path} not found in {spec}"
    elif fmt == "graphql":
        typ, _, fld = name.partition(".")
        if not typ or not fld:
            problem = f"{contract}: expected graphql:Type.field"
        elif not corpus.grep(rf"\b(type|extend\s+type|interface|input)\s+{re.escape(typ)}\b",
                             "*.graphql", "*.graphqls", "*.gql"):
            problem = f"{contract}: no schema file declares type {typ}"
    else:
        problem = f"{contract}: unknown format {fmt!r} (proto, openapi, graphql)"
    cache[contract] = problem
    return problem


def check(gold_path: Path, git_dir: Path) -> list[str]:
    gold = json.loads(gold_path.read_text())
    problems: list[str] = []
    for key in ("system", "source", "commit", "links"):
        if key not in gold:
            problems.append(f"{gold_path}: missing key {key!r}")
    if problems:
        return problems
    corpus = Corpus(git_dir, gold["commit"])
    if not re.fullmatch(r"[0-9a-f]{40}", gold["commit"]) or not corpus.has_commit():
        return [f"{gold_path}: commit {gold['commit']} is not a full sha present in {git_dir}"]
    seen: set[tuple[str, str, str]] = set()
    cache: dict[str, str | None] = {}
    for i, link in enumerate(gold["links"]):
        where = f"{gold_path}: links[{i}]"
        if link.get("role") not in ROLES:
            problems.append(f"{where}: role must be one of {ROLES}")
            continue
        try:
            path, line = parse_site(link.get("site", ""))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        key = (link["role"], link.get("contract", ""), link["site"])
        if key in seen:
            problems.append(f"{where}: duplicate of an earlier link {key}")
        seen.add(key)
        lines = corpus.lines(path)
        if lines is None:
            problems.append(f"{where}: {path} is not in commit {gold['commit'][:12]}")
            continue
        if line > len(lines):
            problems.append(f"{where}: {path} has {len(lines)} lines, not {line}")
            continue
        evidence = link.get("evidence", "")
        if not evidence:
            problems.append(f"{where}: no evidence text")
        elif evidence not in lines[line - 1]:
            problems.append(f"{where}: {path}:{line} does not contain {evidence!r} (it reads {lines[line - 1].strip()!r})")
        if not link.get("language"):
            problems.append(f"{where}: no language")
        problem = contract_problem(corpus, link.get("contract", ""), cache)
        if problem:
            problems.append(f"{where}: {problem}")
    for i, decoy in enumerate(gold.get("decoys", [])):
        try:
            path, line = parse_site(decoy.get("site", ""))
        except ValueError as exc:
            problems.append(f"{gold_path}: decoys[{i}]: {exc}")
            continue
        lines = corpus.lines(path)
        if lines is None or line > len(lines) or decoy.get("evidence", "\0") not in lines[line - 1]:
            problems.append(f"{gold_path}: decoys[{i}]: {decoy.get('site')} does not contain {decoy.get('evidence')!r}")
    for name, sub in gold.get("split", {}).items():
        if sub and not corpus.grep(".", f"{sub.rstrip('/')}/"):
            problems.append(f"{gold_path}: split repo {name!r}: folder {sub} is empty or absent")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for gold_path, git_dir in zip(argv[::2], argv[1::2], strict=True):
        problems = check(Path(gold_path), Path(git_dir))
        gold = json.loads(Path(gold_path).read_text()) if Path(gold_path).exists() else {}
        for p in problems:
            print(p)
        by_role = {r: sum(1 for lk in gold.get("links", []) if lk.get("role") == r) for r in ROLES}
        print(f"{gold_path}: {len(gold.get('links', []))} links ({by_role['provides']} provides, "
              f"{by_role['consumes']} consumes), {len(problems)} problems")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
