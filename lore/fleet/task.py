"""The work for one repository, run on a Dask worker: clone (hardened, `indexers.git.clone`), index with
one process (the engine provides the parallelism), export the shard and publish it to the store.

A failure raises `TaskFailed(stage, message)`, which Dask retries; its stage (clone, index, export,
publish) is the reason the summary groups failures by. Nothing here runs repository code.
"""

from __future__ import annotations

import functools
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class TaskFailed(Exception):
    def __init__(self, stage: str, message: str):
        super().__init__(stage, message)
        self.stage = stage
        self.message = message

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}"


@dataclass(frozen=True)
class StoreConfig:
    url: str
    endpoint_url: str | None = None
    region: str | None = None


@functools.lru_cache(maxsize=4)
def _store(cfg: StoreConfig) -> Any:
    """One S3 client per worker process and store (creating one costs a few hundred milliseconds)."""
    from indexers.shardstore.s3 import open_store

    return open_store(cfg.url, cfg.endpoint_url, cfg.region)


def index_repo(name: str, url: str, work: str, store_cfg: StoreConfig | None, depth: int | None,
               keep: bool = False) -> dict[str, Any]:
    """Clone, index, export and publish one repository; a JSON-able summary of what was done."""
    from indexers import git
    from indexers.engine import Engine
    from indexers.shard import ShardError, encode_shard, write_bytes_atomic
    from indexers.shardstore.layout import StoreError
    from indexers.store import CacheError, Store
    from indexers.workspace import RepoSpec, Workspace

    t0 = time.perf_counter()
    base = Path(work) / name
    checkout = base / "repo"
    shutil.rmtree(checkout, ignore_errors=True)
    try:
        sha = git.clone(url, checkout, depth=depth)
    except git.GitError as exc:
        raise TaskFailed("clone", str(exc)) from None
    try:
        ws = Workspace(checkout, (RepoSpec(name, checkout.resolve()),))
        store = Store(base / "cache")
        try:
            snap, report = Engine(ws, store, jobs=1).refresh()
        finally:
            store.close()
    except (CacheError, git.GitError, OSError) as exc:
        raise TaskFailed("index", f"{exc.__class__.__name__}: {exc}") from None
    files = [ff for (r, _p), ff in sorted(snap.files.items()) if r == name]
    commits = list(snap.commits.get(name, {}).values())
    try:
        data = encode_shard(name, snap.repos[name].head, files, commits)
    except (TypeError, ValueError) as exc:
        raise TaskFailed("export", str(exc)) from None
    published = ""
    if store_cfg is not None:
        from indexers.shardstore.publish import publish_bytes

        try:
            pub = publish_bytes(_store(store_cfg), data, f"{name} shard")
        except (StoreError, ShardError) as exc:
            raise TaskFailed("publish", str(exc)) from None
        published = pub.url
    else:
        write_bytes_atomic(base / f"{name}.lore-shard", data)
        published = str(base / f"{name}.lore-shard")
    if not keep:
        shutil.rmtree(checkout, ignore_errors=True)
    f = report.as_json()["files"]
    return {"name": name, "commit": sha, "files": f["indexed"] + f["unchanged"], "failed_files": len(f["failed"]),
            "facts": {k: v for k, v in report.facts.items() if v}, "shard_bytes": len(data), "published": published,
            "seconds": round(time.perf_counter() - t0, 3)}
