"""Object names in a shard store and its per-repo index objects.

    <prefix>/index/<repo>.json                              the repo's index: its latest default-branch shard
    <prefix>/shards/<repo>/<commit>/<sha256>.lore-shard     a shard, immutable once written

A shard's name carries its digest, so an object is never overwritten with other bytes: a reader that
read an index always finds exactly the shard it names, whatever is published meanwhile.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from indexers.shard import COMMIT, MAX_COMPRESSED, SUFFIX, valid_repo_name

INDEX_FORMAT = "lore-shard-index"
MAX_INDEX_BYTES = 64 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class StoreError(RuntimeError):
    """The store could not be reached or answered an error; the message names the store and the reason."""


@dataclass(frozen=True)
class StoreURL:
    scheme: str
    bucket: str
    prefix: str  # no leading or trailing slash; may be ''

    @staticmethod
    def parse(url: str) -> StoreURL:
        m = re.fullmatch(r"([a-z0-9]+)://([^/]+)/?(.*)", url.strip())
        if not m or m.group(1) != "s3":
            raise StoreError(f"{url}: not a shard store URL (expected s3://bucket/prefix)")
        return StoreURL(m.group(1), m.group(2), m.group(3).strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def show(self, key: str = "") -> str:
        return f"{self.scheme}://{self.bucket}/{key}" if key else f"{self.scheme}://{self.bucket}/{self.prefix}"

    def index_key(self, repo: str) -> str:
        return self.key("index", f"{repo}.json")

    def index_prefix(self) -> str:
        return self.key("index") + "/"

    def shard_key(self, repo: str, commit: str | None, sha256: str) -> str:
        return self.key("shards", repo, commit or "no-commit", f"{sha256}{SUFFIX}")


@dataclass(frozen=True)
class IndexEntry:
    repo: str
    commit: str | None
    key: str
    sha256: str
    size: int
    branch: str = ""
    published: float = 0.0

    def encode(self) -> bytes:
        return json.dumps({"format": INDEX_FORMAT, "version": 1, "repo": self.repo, "commit": self.commit,
                           "branch": self.branch, "key": self.key, "sha256": self.sha256, "size": self.size,
                           "published": self.published or time.time()}, indent=1).encode("utf-8")


def parse_index(data: bytes, where: str, repo: str, url: StoreURL) -> IndexEntry:
    """Check an index object; StoreError naming `where` when it cannot be used."""
    try:
        doc: Any = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise StoreError(f"{where}: not a shard index (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT:
        raise StoreError(f"{where}: not a shard index")
    commit, key, sha, size = doc.get("commit"), doc.get("key"), doc.get("sha256"), doc.get("size")
    problems = []
    if doc.get("repo") != repo or not valid_repo_name(repo):
        problems.append(f"'repo' is {doc.get('repo')!r}, expected {repo!r}")
    if commit is not None and not (isinstance(commit, str) and COMMIT.fullmatch(commit)):
        problems.append("'commit' is not a commit sha")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        problems.append("'sha256' is not a sha256 digest")
    if not isinstance(key, str) or not key.startswith(url.key("shards", repo) + "/") or not key.endswith(SUFFIX):
        problems.append(f"'key' {key!r} is not a shard of {repo} in this store")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_COMPRESSED:
        problems.append(f"'size' must be a byte count up to {MAX_COMPRESSED}")
    if problems or not (isinstance(key, str) and isinstance(sha, str) and isinstance(size, int)):
        raise StoreError(f"{where}: malformed shard index: {'; '.join(problems)}")
    branch = doc.get("branch")
    published = doc.get("published")
    return IndexEntry(repo, commit, key, sha, size, branch if isinstance(branch, str) else "",
                      float(published) if isinstance(published, (int, float)) else 0.0)
