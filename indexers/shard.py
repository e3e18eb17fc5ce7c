"""Shards: one repo's facts at one commit in a portable, versioned, self-describing file.

Each repo's CI writes one (`lore index --export FILE`); `[[shard]]` in lore.toml imports it, so an editor
sees providers and consumers in repos it never cloned. Format: gzip-compressed JSON with a header
(format name, schema version, repo, commit, extractor versions, creation time) and the facts as plain
data (`model.to_plain`). A shard of another schema version is refused with a message, not misread.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexers.model import SCHEMA_VERSION, Commit, FileFacts, from_plain, to_plain
from indexers.sources import registry

FORMAT = "lore-shard"


class ShardError(ValueError):
    pass


@dataclass(frozen=True)
class Shard:
    repo: str
    commit: str | None
    files: tuple[FileFacts, ...]
    commits: tuple[Commit, ...]
    created: float


def write_shard(path: Path, repo: str, commit: str | None, files: Sequence[FileFacts], commits: Sequence[Commit]) -> int:
    """Write atomically (temp file + rename); returns the size in bytes."""
    doc = {
        "format": FORMAT,
        "schema": SCHEMA_VERSION,
        "repo": repo,
        "commit": commit,
        "created": time.time(),
        "extractors": {e.name: e.version for e in registry.extractors()},
        "files": [to_plain(ff) for ff in files],
        "commits": [to_plain(c) for c in commits],
    }
    data = gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lore-shard-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return len(data)


def read_shard(path: Path) -> Shard:
    try:
        raw = gzip.decompress(path.read_bytes())
        doc = json.loads(raw)
    except FileNotFoundError as exc:
        raise ShardError(f"{path}: shard not found") from exc
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
        raise ShardError(f"{path}: not a readable Lore shard ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ShardError(f"{path}: not a Lore shard (format {doc.get('format') if isinstance(doc, dict) else None!r})")
    if doc.get("schema") != SCHEMA_VERSION:
        raise ShardError(f"{path}: shard schema v{doc.get('schema')} does not match this Lore's v{SCHEMA_VERSION}; re-export it")
    try:
        files = tuple(from_plain(FileFacts, f) for f in doc.get("files", []))
        commits = tuple(from_plain(Commit, c) for c in doc.get("commits", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise ShardError(f"{path}: malformed shard facts ({exc})") from exc
    return Shard(str(doc["repo"]), doc.get("commit"), files, commits, float(doc.get("created", 0)))
