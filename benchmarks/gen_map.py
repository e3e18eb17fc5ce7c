"""A generated system for the map benchmark: N services in N/5 repos, each providing one contract
(protocols mixed: gRPC, HTTP, GraphQL, SQL) and consuming from about E/N others, so the map has N
service nodes and E provider -> consumer edges. Built as facts (catalog declarations, contract
entities, links) into a real Snapshot, deterministic by seed; no git, no files on disk."""

from __future__ import annotations

import random

from indexers.model import Entity, FileFacts, Link, ServiceDecl, Span
from indexers.snapshot import RepoInfo, Snapshot, build

FAMILIES = (("proto", "rpc"), ("openapi", "operation"), ("graphql", "field"), ("sql", "column"))


def _span(line: int) -> Span:
    return Span(line, 0, line, 10)


def generate_snapshot(services: int = 500, edges: int = 5000, seed: int = 1) -> Snapshot:
    rng = random.Random(seed)
    per_repo = 5
    files: list[FileFacts] = []
    links: list[Link] = []
    names = [f"svc-{i:03d}" for i in range(services)]
    repo_of = {name: f"repo-{i // per_repo:03d}" for i, name in enumerate(names)}
    ops: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        repo, root = repo_of[name], name
        family, leaf = FAMILIES[i % len(FAMILIES)]
        api = f"{family}:{name}.v1"
        ents = [Entity(api, f"{family}.api", f"{name}.v1", repo, f"{root}/api/{name}.spec", _span(0))]
        ops[name] = []
        for k in range(6):
            ident = f"{api}.Op{k}"
            ents.append(Entity(ident, f"{family}.{leaf}", f"Op{k}", repo, f"{root}/api/{name}.spec", _span(3 + k),
                               {"deprecated": rng.random() < 0.03}, parent=api))
            ops[name].append(ident)
            links.append(Link(name, ident, "provides", repo, f"{root}/server/handlers.go", _span(10 + 5 * k), 0.9))
        files.append(FileFacts(repo, f"{root}/api/{name}.spec", "", entities=tuple(ents)))
        decl = ServiceDecl(name, repo, root, "catalog", f"{root}/catalog-info.yaml", _span(3),
                           {"kind": "Component", "owner": f"team-{i % 40:02d}"})
        files.append(FileFacts(repo, f"{root}/catalog-info.yaml", "", services=(decl,)))
        files.append(FileFacts(repo, f"{root}/server/handlers.go", "go"))
        files.append(FileFacts(repo, f"{root}/client/clients.go", "go"))
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < min(edges, services * (services - 1)):
        a, b = rng.sample(names, 2)
        pairs.add((a, b))
    for provider, consumer in sorted(pairs):
        for k, ident in enumerate(rng.sample(ops[provider], rng.randint(1, 3))):
            links.append(Link(consumer, ident, "consumes", repo_of[consumer], f"{consumer}/client/clients.go",
                              _span(20 + k), 0.9))
    repos = {repo: RepoInfo(repo, None) for repo in sorted(set(repo_of.values()))}
    return build(repos, files, extra_links=links)
