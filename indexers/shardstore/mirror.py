"""The local mirror of a shard store: what `lore shards pull` and the server fetch, and what the engine
reads (so a workspace works offline from its last pull).

Layout: `<cache root>/shards/<hash of the store URL>/<repo>.lore-shard` plus `state.json` (per repo: the
ETag of its index object, and the commit, key and sha256 of the shard kept). A pull lists the index
objects once, fetches only the indexes whose ETag changed and only the shards whose digest changed,
verifies the digest and checks the shard fully (`indexers.shard.parse_shard`) before it replaces the
local copy; a corrupt, truncated or malformed shard is reported and the last good copy stays.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers.shard import (
    MAX_COMPRESSED,
    SUFFIX,
    ShardError,
    parse_shard,
    valid_repo_name,
    write_bytes_atomic,
)
from indexers.shardstore.layout import MAX_INDEX_BYTES, StoreError, parse_index

STATE = "state.json"


def mirror_dir(cache_root: Path, url: str) -> Path:
    return cache_root / "shards" / hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]


def wanted(repo: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(repo, p) for p in patterns)


def mirrored_shards(mirror: Path, patterns: Sequence[str]) -> list[Path]:
    """The local copies the engine imports, by repo name."""
    try:
        found = sorted(p for p in mirror.glob(f"*{SUFFIX}") if p.is_file())
    except OSError:
        return []
    return [p for p in found if wanted(p.name[: -len(SUFFIX)], patterns)]


@dataclass
class PullReport:
    store: str
    listed: int = 0
    updated: list[str] = field(default_factory=list)  # "repo@commit"
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {repo, where, reason, kept}
    offline: str = ""  # why the store could not be listed (the mirror is used as it is)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"store": self.store, "listed": self.listed, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "failed": self.failed, "offline": self.offline, "seconds": round(self.seconds, 3)}


def _load_state(mirror: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads((mirror / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in doc.items() if isinstance(v, dict) and valid_repo_name(k)} if isinstance(doc, dict) else {}


def _save_state(mirror: Path, state: dict[str, dict[str, Any]]) -> None:
    write_bytes_atomic(mirror / STATE, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))


def pull(store: Any, mirror: Path, patterns: Sequence[str] = ("*",),
         on_progress: Callable[[int, int], None] | None = None) -> PullReport:
    """Bring the mirror up to date with the store (`store`: an S3Store or anything with its methods)."""
    t0 = time.perf_counter()
    report = PullReport(store.url.show())
    mirror.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = _load_state(mirror)
    try:
        listing = store.list_indexes()
    except StoreError as exc:
        report.offline = f"{exc}; using the {len(state)} shard(s) pulled before"
        report.seconds = time.perf_counter() - t0
        return report
    repos = sorted(r for r in listing if valid_repo_name(r) and wanted(r, patterns))
    report.listed = len(repos)
    for i, repo in enumerate(repos):
        _pull_one(store, mirror, repo, listing[repo], state, report)
        if on_progress is not None:
            on_progress(i + 1, len(repos))
    for repo in sorted(set(state) - set(listing)):
        if wanted(repo, patterns):
            (mirror / f"{repo}{SUFFIX}").unlink(missing_ok=True)
            del state[repo]
            report.removed.append(repo)
    _save_state(mirror, state)
    report.seconds = time.perf_counter() - t0
    return report


def _pull_one(store: Any, mirror: Path, repo: str, etag: str, state: dict[str, dict[str, Any]], report: PullReport) -> None:
    local = mirror / f"{repo}{SUFFIX}"
    have = state.get(repo, {})
    if have.get("index_etag") == etag and local.is_file():
        report.unchanged += 1
        return
    index_key = store.url.index_key(repo)
    try:
        data, new_etag = store.get(index_key, MAX_INDEX_BYTES, etag=have.get("index_etag") if local.is_file() else None)
        if data is None:
            report.unchanged += 1
            return
        entry = parse_index(data, store.url.show(index_key), repo, store.url)
        if entry.sha256 == have.get("sha256") and local.is_file():
            have["index_etag"] = new_etag
            report.unchanged += 1
            return
        where = store.url.show(entry.key)
        blob, _ = store.get(entry.key, min(entry.size, MAX_COMPRESSED))
        assert blob is not None
        digest = hashlib.sha256(blob).hexdigest()
        if len(blob) != entry.size or digest != entry.sha256:
            raise ShardError(f"{where}: corrupt or truncated: {len(blob)} bytes with sha256 {digest[:16]}..., "
                             f"the index says {entry.size} bytes with sha256 {entry.sha256[:16]}...")
        shard = parse_shard(blob, where)
        if shard.repo != repo or shard.commit != entry.commit:
            raise ShardError(f"{where}: shard of {shard.repo}@{shard.commit} where the index names {repo}@{entry.commit}")
    except (StoreError, ShardError) as exc:
        kept = f"keeping the last good shard of {repo} ({str(have.get('commit') or 'no commit')[:12]})" if local.is_file() \
            else f"no earlier shard of {repo} to keep"
        report.failed.append({"repo": repo, "reason": str(exc), "kept": kept})
        return
    write_bytes_atomic(local, blob)
    state[repo] = {"index_etag": new_etag, "sha256": entry.sha256, "commit": entry.commit, "key": entry.key,
                   "pulled": time.time()}
    report.updated.append(f"{repo}@{(entry.commit or 'no-commit')[:12]}")
