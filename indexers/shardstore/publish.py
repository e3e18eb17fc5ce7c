"""Publish a shard: the shard object first, then the repo's index object pointing at it.

Both are single PUTs (whole or nothing), and the shard's name carries its digest, so a reader either
sees the previous index and shard or the new ones, never half a shard. The shard is checked as a
reader would check it before it leaves the machine.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from indexers.shard import parse_shard
from indexers.shardstore.layout import IndexEntry
from indexers.shardstore.s3 import S3Store


@dataclass(frozen=True)
class Published:
    repo: str
    commit: str | None
    url: str
    sha256: str
    size: int
    uploaded: bool  # False when the store already had this exact shard


def publish_bytes(store: S3Store, data: bytes, where: str, *, branch: str = "", update_index: bool = True) -> Published:
    """Upload shard bytes (checked first: ShardError when they are not a valid shard)."""
    shard = parse_shard(data, where)
    sha = hashlib.sha256(data).hexdigest()
    key = store.url.shard_key(shard.repo, shard.commit, sha)
    uploaded = False
    if not store.exists(key):
        store.put(key, data, "application/gzip")
        uploaded = True
    if update_index:
        entry = IndexEntry(shard.repo, shard.commit, key, sha, len(data), branch, time.time())
        store.put(store.url.index_key(shard.repo), entry.encode(), "application/json")
    return Published(shard.repo, shard.commit, store.url.show(key), sha, len(data), uploaded)


def publish_file(store: S3Store, path: Path, *, branch: str = "", update_index: bool = True) -> Published:
    from indexers.shard import read_shard

    read_shard(path)  # bounded read and full check, with the file's path in any message
    return publish_bytes(store, path.read_bytes(), str(path), branch=branch, update_index=update_index)
