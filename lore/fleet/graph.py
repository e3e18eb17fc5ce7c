"""The organisation graph from a shard store, built on Dask with the link join partitioned by entity id.

Shards are read where the work runs, in chunks of repositories, and nothing is gathered whole:

1. **Contracts** (one task per chunk): each shard is read and checked (`indexers.shard.read_shard`); the
   chunk returns only its contract files (files that declare entities) and its services.
2. **Entities** (here): the contract resolve steps run over all contract files (they qualify names across
   repos), each ID's declarations are ordered canonical first (`indexers.copies`, as `snapshot.build`
   orders them) and broadcast to the workers. Declarations are the small side of the join; usages are the large one.
3. **Link** (one task per chunk): each repository's usages are linked against the entities with its own
   services (linking is per file, so a chunk of whole repos links exactly as one process would), and the
   links are split into P partitions by a hash of the entity id.
4. **Reduce** (one task per partition): partition p gathers its pieces from every chunk, worker to worker,
   and groups them by entity: providers and consumers per entity. This process writes each partition to
   `links/part-<p>.jsonl` as it arrives and keeps none of them.

Output folder: `entities.jsonl`, `services.jsonl`, `links/part-*.jsonl`, `summary.json`.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LinkRow = tuple[str, str, str, str, str, int, float, str]  # entity, role, service, repo, path, line, confidence, kind


class Bundle:
    """One opaque value for Dask to move: pickled in one piece. (A bare list of facts is walked element by
    element by Dask's serializer, which costs seconds for tens of thousands of entities.)"""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (Bundle, (self.value,))


def partition_of(entity_id: str, partitions: int) -> int:
    return zlib.crc32(entity_id.encode("utf-8")) % partitions


def contracts_of(paths: Sequence[str]) -> Bundle:
    """Task 1: a chunk's contract files, services and rejected shards."""
    from indexers.copies import catalog_definitions
    from indexers.shard import ShardError, read_shard
    from indexers.snapshot import derive_file_services

    files: list[Any] = []
    definitions: dict[str, str] = {}
    services: list[dict[str, Any]] = []
    rejected: list[str] = []
    repos: list[tuple[str, str | None]] = []
    for p in paths:
        try:
            shard = read_shard(Path(p))
        except ShardError as exc:
            rejected.append(str(exc))
            continue
        repos.append((shard.repo, shard.commit))
        files += [ff for ff in shard.files if ff.entities]
        smap = derive_file_services(shard.files)
        definitions.update(catalog_definitions(smap))
        for s in (smap.services if smap is not None else []):
            services.append({"name": s.name, "repo": s.repo, "root": s.root, "owner": s.owner, "languages": list(s.languages)})
    return Bundle({"files": files, "definitions": definitions, "services": services, "rejected": rejected,
                   "repos": repos})


_INDEXES: dict[int, tuple[Any, Any]] = {}


def _entity_index(entities: Bundle) -> Any:
    """The broadcast entities' lookup tables, built once per worker process (the list stays in the
    worker's memory between tasks, so its identity is a key)."""
    from indexers.linking import EntityIndex

    hit = _INDEXES.get(id(entities))
    if hit is None or hit[0] is not entities:
        _INDEXES.clear()
        hit = (entities, EntityIndex(entities.value))
        _INDEXES[id(entities)] = hit
    return hit[1]


def link_chunk(paths: Sequence[str], entities: Bundle, partitions: int) -> Bundle:
    """Task 3: the chunk's links, split by partition of the entity id."""
    from indexers.linking import link
    from indexers.shard import ShardError, read_shard
    from indexers.snapshot import derive_file_services, service_namer

    index = _entity_index(entities)
    out: list[list[LinkRow]] = [[] for _ in range(partitions)]
    usages: list[Any] = []
    namers: dict[str, Any] = {}
    for p in paths:
        try:
            shard = read_shard(Path(p))
        except ShardError:
            continue  # reported by the contracts pass
        repo_usages = [u for ff in shard.files for u in ff.usages]
        if repo_usages:
            usages += repo_usages
            namers[shard.repo] = service_namer(derive_file_services(shard.files))
    for lk in link(usages, index, lambda repo, path: namers[repo](repo, path)):
        out[partition_of(lk.entity, partitions)].append(
            (lk.entity, lk.role, lk.service, lk.repo, lk.path, lk.range.start_line + 1, round(lk.confidence, 3), lk.kind))
    return Bundle(out)


def pick(parts: Bundle, p: int) -> Bundle:
    return Bundle(parts.value[p])


def reduce_partition(*pieces: Bundle) -> Bundle:
    """Task 4: one partition's links grouped by entity."""
    by_entity: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"provides": [], "consumes": []})
    for piece in pieces:
        for ent, role, service, repo, path, line, conf, kind in piece.value:
            by_entity[ent][role].append({"service": service, "repo": repo, "path": path, "line": line,
                                         "confidence": conf, "kind": kind})
    rows = []
    for ent in sorted(by_entity):
        roles = by_entity[ent]
        key = lambda s: (s["repo"], s["path"], s["line"])  # noqa: E731
        rows.append({"entity": ent, "providers": sorted(roles["provides"], key=key),
                     "consumers": sorted(roles["consumes"], key=key)})
    return Bundle(rows)


def canonical_entities(files: Sequence[Any], definitions: dict[str, str] | None = None) -> list[Any]:
    """The resolve steps over all contract files, then every declaration with each ID's canonical one first
    (`indexers.copies`, as `snapshot.build` orders them: linking goes through the copy a usage names)."""
    from indexers.copies import group
    from indexers.snapshot import resolve_contracts

    entities, _errors = resolve_contracts(list(files))
    by_id: dict[str, list[Any]] = defaultdict(list)
    for e in entities:
        by_id[e.id].append(e)
    for ident, grp in group(entities, definitions or {}).items():
        rest = sorted((e for e in by_id[ident] if e not in grp.declarations), key=lambda e: (e.repo, e.path, e.range))
        by_id[ident] = [*grp.declarations, *rest]
    return [e for ident in sorted(by_id) for e in by_id[ident]]


@dataclass
class GraphReport:
    repos: int = 0
    entities: int = 0
    links: int = 0
    services: int = 0
    partitions: int = 0
    chunks: int = 0
    rejected: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    out: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"repos": self.repos, "entities": self.entities, "links": self.links, "services": self.services,
                "partitions": self.partitions, "chunks": self.chunks, "rejected": self.rejected,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}, "out": self.out}


def build_graph(client: Any, shard_paths: Sequence[Path], out: Path, *, partitions: int = 8, chunk: int = 50,
                on_step: Callable[[str], None] | None = None) -> GraphReport:
    """Build the organisation graph of `shard_paths` on the Dask `client` into the folder `out`."""
    from indexers.model import to_plain

    t0 = time.perf_counter()
    say = on_step or (lambda _msg: None)
    report = GraphReport(partitions=partitions, out=str(out))
    paths = [str(p) for p in sorted(shard_paths)]
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    report.chunks = len(chunks)
    out.mkdir(parents=True, exist_ok=True)
    (out / "links").mkdir(exist_ok=True)
    for old in (out / "links").glob("part-*.jsonl"):
        old.unlink()
    say(f"contracts: {len(paths)} shards in {len(chunks)} chunks")
    contract_files: list[Any] = []
    definitions: dict[str, str] = {}
    with (out / "services.jsonl").open("w", encoding="utf-8") as svc_out:
        for fut in _as_completed(client, [client.submit(contracts_of, c, pure=False) for c in chunks]):
            res = fut.result().value
            contract_files += res["files"]
            definitions.update(res["definitions"])
            report.rejected += res["rejected"]
            report.repos += len(res["repos"])
            for s in res["services"]:
                svc_out.write(json.dumps(s, ensure_ascii=False) + "\n")
                report.services += 1
            fut.release()
    report.seconds["contracts"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    entities = canonical_entities(contract_files, definitions)
    del contract_files
    report.entities = len({e.id for e in entities})
    with (out / "entities.jsonl").open("w", encoding="utf-8") as ent_out:
        for e in entities:
            ent_out.write(json.dumps({"id": e.id, "kind": e.kind, "name": e.name, "repo": e.repo, "path": e.path,
                                      "line": e.range.start_line + 1, "parent": e.parent, "attrs": to_plain(e.attrs)},
                                     ensure_ascii=False) + "\n")
    report.seconds["entities"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    say(f"link: {len(entities)} entities broadcast, {partitions} partitions")
    [shared] = client.scatter([Bundle(entities)], broadcast=True)
    del entities
    linked = [client.submit(link_chunk, c, shared, partitions, pure=False) for c in chunks]
    reduced = []
    for p in range(partitions):
        pieces = [client.submit(pick, f, p, pure=False) for f in linked]
        reduced.append(client.submit(reduce_partition, *pieces, pure=False))
    index = {fut.key: p for p, fut in enumerate(reduced)}
    for fut in _as_completed(client, reduced):
        rows = fut.result().value
        with (out / "links" / f"part-{index[fut.key]:04d}.jsonl").open("w", encoding="utf-8") as part:
            for row in rows:
                part.write(json.dumps(row, ensure_ascii=False) + "\n")
                report.links += len(row["providers"]) + len(row["consumers"])
        fut.release()
    report.seconds["link"] = time.perf_counter() - t2
    report.seconds["total"] = time.perf_counter() - t0
    (out / "summary.json").write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    return report


def _as_completed(client: Any, futures: list[Any]) -> Any:
    from distributed import as_completed

    return as_completed(futures)
