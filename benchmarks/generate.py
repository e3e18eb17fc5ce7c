"""Deterministic synthetic organization for the benchmarks: contracts repos and service repos in Go,
Python, TypeScript, Java and C#, with real git histories, built once into a cache folder and reused.

Why synthetic: the benchmarks must run anywhere (CI has no network) at fixed sizes, and the same seed
must give the same bytes and the same commit shas so that runs compare. Why realistic: throughput and
memory depend on file sizes, languages, how many files use contracts, and what histories look like.

Layout of a built workspace (`benchmarks/.cache/<size>-<seed>/`):
    ws/lore.toml            [[repo]] name/path for every repo
    ws/<repo>/...           git repositories with their work trees checked out
    manifest.json           counts, per-repo figures and the positions of contract usages (for hovers)
    .complete               written last; a folder without it (or from another generator version) is rebuilt
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks import gen_contracts as gc
from benchmarks.gen_filler import EXT, LANGS, NOUNS, VERBS, file_size, filler_blocks, frame, pascal, snake
from benchmarks.gen_history import FileState, Plan, build
from benchmarks.gen_services import CODE, static_files

GENERATOR_VERSION = 1
CACHE = Path(__file__).resolve().parent / ".cache"
CONTRACT_SUFFIXES = (".proto", ".graphql", ".sql")
EPOCH = 1609459200  # 2021-01-01


@dataclass(frozen=True)
class Size:
    name: str
    service_repos: int
    contract_repos: int
    files: int
    commits: int


SIZES = {
    "XS": Size("XS", 2, 1, 40, 40),          # tests only
    "S": Size("S", 4, 1, 300, 300),
    "M": Size("M", 14, 2, 3000, 3000),
    "L": Size("L", 56, 4, 21000, 21000),
}


@dataclass
class Org:
    size: Size
    seed: int
    contract_repos: list[str]
    services: list[gc.Svc]
    files: dict[str, int]     # repo -> target file count
    commits: dict[str, int]   # repo -> commit count

    @property
    def repos(self) -> list[str]:
        return [*self.contract_repos, *(s.name for s in self.services)]


def make_org(size: Size, seed: int) -> Org:
    rng = random.Random(f"org:{size.name}:{seed}")
    contracts = ["contracts", "platform-apis", "partner-apis", "data-contracts"][:size.contract_repos]
    services = gc.make_services(rng, size.service_repos, contracts)
    files: dict[str, int] = {}
    for c in contracts:
        owned = [s for s in services if s.contracts_repo == c]
        files[c] = 6 + sum(1 + s.http + s.graphql for s in owned) + max(3, size.files // 400)
    remaining = max(size.files - sum(files.values()), 12 * len(services))
    weights = [rng.lognormvariate(0, 0.6) for _ in services]
    for s, w in zip(services, weights, strict=True):
        files[s.name] = max(12, math.ceil(remaining * w / sum(weights)))
    total = sum(files.values())
    commits = {r: max(5, round(size.commits * n / total)) for r, n in files.items()}
    biggest = max(commits, key=lambda r: commits[r])
    commits[biggest] += max(0, size.commits - sum(commits.values()))
    return Org(size, seed, contracts, services, files, commits)


def _static(svc: gc.Svc, owners: list[str], path: str, gen: int) -> str:
    return static_files(svc, owners, gen)[path]


def _filler_path(lang: str, primary: bool, svc: gc.Svc | None, pkg: str, stem: str) -> str:
    cls = pascal(*stem.split("_"))
    noun = svc.noun if svc else "tools"
    if lang == "go":
        return f"{'internal' if primary else 'tools'}/{pkg}/{stem}.go"
    if lang == "python":
        return f"{'src/' + snake(*svc.parts) + '_service' if primary and svc else 'scripts'}/{pkg}/{stem}.py"
    if lang == "typescript":
        return f"{'src' if primary else 'web/src'}/{pkg}/{stem}.ts"
    if lang == "java":
        return f"{'' if primary else 'jvm/'}src/main/java/com/acme/{noun}/{pkg}/{cls}.java"
    return f"{'src/' + svc.type + '.Api' if primary and svc else 'dotnet/Tools'}/{pascal(pkg)}/{cls}.cs"


def _fillers(rng: random.Random, count: int, svc: gc.Svc | None, primary_lang: str) -> list[tuple[str, FileState]]:
    pkgs = rng.sample(NOUNS, min(len(NOUNS), max(2, count // 15)))
    out: list[tuple[str, FileState]] = []
    seen: set[str] = set()
    namespace = svc.name if svc else "tools"
    while len(out) < count:
        primary = rng.random() < 0.85
        lang = primary_lang if primary else rng.choice([lg for lg in LANGS if lg != primary_lang])
        pkg = rng.choice(pkgs)
        stem = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
        path = _filler_path(lang, primary, svc, pkg, stem)
        if path in seen:
            path = path[: -len(EXT[lang])] + f"{len(out)}{EXT[lang]}"
        seen.add(path)
        cls = pascal(*os.path.basename(path)[: -len(EXT[lang])].split("_"))
        header, footer = frame(lang, pkg, cls, namespace)
        blocks = filler_blocks(lang, rng, file_size(rng), header, footer)
        out.append((path, FileState(lang, header, blocks, footer)))
    return out


def repo_plan(org: Org, index: int) -> tuple[Plan, list[dict[str, Any]]]:
    """The plan of repo `index` and the contract usages its code holds (line/character resolved)."""
    name = org.repos[index]
    rng = random.Random(f"repo:{org.size.name}:{org.seed}:{name}")
    by_name = {s.name: s for s in org.services}
    scaffold: dict[str, FileState] = {}
    usages: list[dict[str, Any]] = []
    if name in org.contract_repos:
        owned = [s for s in org.services if s.contracts_repo == name]
        for s in owned:
            scaffold[s.proto_path] = FileState(None, gc.proto(s, 0), kind="contract", regen=partial(gc.proto, s))
            if s.http:
                scaffold[f"openapi/{s.name}.yaml"] = FileState(None, gc.openapi(s, 0), kind="contract",
                                                               regen=partial(gc.openapi, s))
            if s.graphql:
                scaffold[f"graphql/{s.name}.graphql"] = FileState(None, gc.graphql(s), kind="contract")
        scaffold["buf.yaml"] = FileState(None, "version: v2\nmodules:\n  - path: proto\nlint:\n  use:\n    - STANDARD\n", kind="static")
        scaffold["CODEOWNERS"] = FileState(None, "* @acme/team-platform\n/proto/ @acme/api-reviewers\n", kind="static")
        scaffold["README.md"] = FileState(None, f"# {name}\n\nShared API contracts (protobuf, OpenAPI, GraphQL).\n", kind="static")
        lang, svc, deps = "go", None, [s.name for s in owned]
    else:
        svc = by_name[name]
        lang = svc.lang
        owners = [a.split("@")[0] for a in ("ada@", "mei@", "ravi@")]
        for path, text in static_files(svc, owners, 0).items():
            regen = partial(_static, svc, owners, path) if path.endswith(("go.mod", "pyproject.toml", "package.json", "pom.xml", ".csproj")) else None
            scaffold[path] = FileState(None, text, kind="static", regen=regen)
        if svc.db:
            for path, text in gc.migrations(svc, rng).items():
                scaffold[path] = FileState(None, text, kind="contract")
        for cf in CODE[lang](svc, [by_name[d] for d in svc.consumes], [by_name[d] for d in svc.consumes_http]):
            scaffold[cf.path] = FileState(lang, cf.header, [], cf.footer, kind="code")
            lines = cf.header.split("\n")
            for needle, ident, kind, target in cf.usages:
                row = next(i for i, line in enumerate(lines) if needle in line)
                col = lines[row].index(needle) + needle.index(ident)
                usages.append({"repo": name, "path": cf.path, "line": row, "character": col,
                               "end": col + len(ident), "text": ident, "kind": kind, "target": target})
        deps = list(svc.consumes)
    n_fill = max(0, org.files[name] - len(scaffold) - 1)  # -1: CHANGELOG.md
    fillers = _fillers(rng, n_fill, svc, lang)
    first = fillers[: min(3, len(fillers))]
    scaffold.update(first)
    commits = org.commits[name]
    plan = Plan(name=name, seed=f"history:{org.size.name}:{org.seed}:{name}", scaffold=scaffold,
                pending=fillers[len(first):], commits=commits, start=EPOCH + index * 86400 * 3,
                gap=3 * 365 * 86400 / max(commits, 1), deps=deps,
                nouns=[s.noun for s in org.services[:20]])
    return plan, usages


def _build_one(args: tuple[str, int, int, str]) -> dict[str, Any]:
    size_name, seed, index, ws = args
    org = make_org(SIZES[size_name], seed)
    plan, usages = repo_plan(org, index)
    dest = Path(ws) / plan.name
    counts = build(plan, dest)
    n_files = n_bytes = n_src = n_contract = 0
    for root, dirs, names in os.walk(dest):
        dirs[:] = [d for d in dirs if d != ".git"]
        for fn in names:
            n_files += 1
            n_bytes += os.path.getsize(os.path.join(root, fn))
            n_src += fn.endswith(tuple(EXT.values()))
            n_contract += fn.endswith(CONTRACT_SUFFIXES) or os.path.basename(root) == "openapi"
    kind = "contracts" if plan.name in org.contract_repos else "service"
    lang = None if kind == "contracts" else next(s.lang for s in org.services if s.name == plan.name)
    return {"name": plan.name, "kind": kind, "lang": lang, "files": n_files, "bytes": n_bytes,
            "source_files": n_src, "contract_files": n_contract, "commits": sum(counts.values()),
            "commit_kinds": counts, "usages": usages}


def workspace_dir(size: str, seed: int, cache: Path | None = None) -> Path:
    return (cache or CACHE) / f"{size}-{seed}"


def load_manifest(folder: Path) -> dict[str, Any] | None:
    stamp = folder / ".complete"
    if not stamp.is_file() or stamp.read_text().strip() != str(GENERATOR_VERSION):
        return None
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    manifest["workspace"] = str(folder / "ws")  # the folder may have moved since it was built
    return manifest


def generate(size: str, seed: int = 1, cache: Path | None = None, jobs: int | None = None) -> dict[str, Any]:
    """Build (or reuse) the workspace of `size`; returns its manifest (with `generation_seconds`)."""
    folder = workspace_dir(size, seed, cache)
    manifest = load_manifest(folder)
    if manifest is not None:
        manifest["reused"] = True
        return manifest
    if folder.exists():
        shutil.rmtree(folder)
    ws = folder / "ws"
    ws.mkdir(parents=True)
    t0 = time.perf_counter()
    org = make_org(SIZES[size], seed)
    work = [(size, seed, i, str(ws)) for i in range(len(org.repos))]
    work.sort(key=lambda w: -org.files[org.repos[w[2]]])  # biggest first: better packing
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or SIZES[size].files < 1000:  # small: a process pool costs more than it saves
        built = [_build_one(w) for w in work]
    else:
        with get_context("spawn").Pool(jobs) as pool:
            built = pool.map(_build_one, work, chunksize=1)
    repos = sorted(built, key=lambda r: org.repos.index(r["name"]))
    (ws / "lore.toml").write_text("".join(f"[[repo]]\nname = \"{r['name']}\"\npath = \"{r['name']}\"\n\n" for r in repos))
    usages = [u for r in repos for u in r.pop("usages")]
    totals = {k: sum(r[k] for r in repos) for k in ("files", "bytes", "source_files", "contract_files", "commits")}
    manifest = {"size": size, "seed": seed, "generator_version": GENERATOR_VERSION, "workspace": str(ws),
                "totals": {"repos": len(repos), **totals}, "repos": repos, "usages": usages,
                "generation_seconds": round(time.perf_counter() - t0, 2)}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (folder / ".complete").write_text(str(GENERATOR_VERSION))
    manifest["reused"] = False
    return manifest
