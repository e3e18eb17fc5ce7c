"""Small systems as facts for the map tests: services declared in catalogs, contract entities, links,
and flagged commits, built into a real Snapshot (indexers.snapshot.build) without git."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from indexers.model import Commit, Entity, FileFacts, Link, ServiceDecl, Span, Usage
from indexers.snapshot import RepoInfo, Snapshot, build
from lore.query.system_map import SystemMap, build_map

# Repository-controlled text that must come out inert in every format.
HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"];\\N`#x;|'


def span(line: int) -> Span:
    return Span(line, 0, line, 4)


def entity(ident: str, kind: str, repo: str = "contracts", path: str = "api.spec", line: int = 0, *,
           parent: str | None = None, name: str | None = None, **attrs: object) -> Entity:
    return Entity(ident, kind, name or ident.rsplit(".", 1)[-1].rsplit(":", 1)[-1], repo, path, span(line), dict(attrs),
                  parent=parent)


def link(service: str, ident: str, role: str, repo: str, path: str, line: int = 0) -> Link:
    return Link(service, ident, role, repo, path, span(line), 0.9)


def system(services: Sequence[tuple[str, str, str, str]], entities: Iterable[Entity], links: Iterable[Link],
           *, commits: dict[str, list[Commit]] | None = None, roots: dict[str, str] | None = None,
           usages: Iterable[Usage] = ()) -> Snapshot:
    """services: (name, repo, root, owner); each gets a catalog-info.yaml and a source file in its root.
    usages: extra facts (ops rules, pipelines...) in files of their own."""
    files: list[FileFacts] = []
    by_file: dict[tuple[str, str], list[Entity]] = {}
    for e in entities:
        by_file.setdefault((e.repo, e.path), []).append(e)
    for (repo, path), ents in by_file.items():
        files.append(FileFacts(repo, path, "", entities=tuple(ents)))
    repos = {repo for _n, repo, _r, _o in services} | {repo for repo, _p in by_file}
    links = list(links)
    for name, repo, root, owner in services:
        prefix = f"{root}/" if root else ""
        decl = ServiceDecl(name, repo, root, "catalog", f"{prefix}catalog-info.yaml", span(3),
                           {"kind": "Component", "owner": owner} if owner else {"kind": "Component"})
        files.append(FileFacts(repo, f"{prefix}catalog-info.yaml", "", services=(decl,)))
        files.append(FileFacts(repo, f"{prefix}main.go", "go"))
    for lk in links:
        repos.add(lk.repo)
        files.append(FileFacts(lk.repo, lk.path, "go"))
    by_usage_file: dict[tuple[str, str], list[Usage]] = {}
    for u in usages:
        by_usage_file.setdefault((u.repo, u.path), []).append(u)
    for (repo, path), us in by_usage_file.items():
        repos.add(repo)
        files.append(FileFacts(repo, path, "", usages=tuple(us)))
    roots = roots or {}
    infos = {r: RepoInfo(r, roots.get(r)) for r in sorted(repos)}  # type: ignore[arg-type]
    unique: dict[tuple[str, str], FileFacts] = {}
    for f in files:  # one FileFacts per file: the one with facts wins over a plain source file
        have = unique.get((f.repo, f.path))
        if have is None or not (have.entities or have.services or have.usages):
            unique[(f.repo, f.path)] = f
    return build(infos, unique.values(), extra_links=links,
                 commits={repo: {c.sha: c for c in cs} for repo, cs in (commits or {}).items()})


def commit(sha: str, date: str, subject: str, kinds: tuple[str, ...], files: tuple[str, ...]) -> Commit:
    return Commit(sha=sha, date=date, author="Ada", subject=subject, kinds=kinds, files=files)


def hostile_map() -> SystemMap:
    """Two services and one edge whose names, owner, contract and file are all HOSTILE, and an SLO and
    a CI job over the first whose names are HOSTILE too."""
    ents = [entity("proto:evil.v1", "proto.package", name=HOSTILE),
            entity("proto:evil.v1.S.Do", "proto.rpc", parent="proto:evil.v1", name=HOSTILE, deprecated=True)]
    links = [link(HOSTILE, "proto:evil.v1.S.Do", "provides", "evil", "server.go", 3),
             link("victim", "proto:evil.v1.S.Do", "consumes", "victim", f"{HOSTILE}.go", 5)]
    ops = [Usage("evil", f"slos/{HOSTILE}.yaml", span(2), "ops.slo", HOSTILE, HOSTILE, attrs={"service": HOSTILE, "objective": HOSTILE}),
           Usage("evil", ".github/workflows/ci.yml", span(4), "ops.pipeline", "build", HOSTILE,
                 attrs={"system": "github-actions", "workflow": HOSTILE, "job": HOSTILE, "builds": True})]
    return build_map(system([(HOSTILE, "evil", "", HOSTILE), ("victim", "victim", "", "team-v")], ents, links, usages=ops))
