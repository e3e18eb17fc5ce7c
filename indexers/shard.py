"""Shards: one repo's facts at one commit in a portable, versioned, self-describing file.

Each repo's CI writes one (`lore index --export FILE`) and may publish it to a shard store
(`indexers.shardstore`); `[[shard]]` or `[shards]` in lore.toml imports them, so an editor sees providers
and consumers in repos it never cloned. Format: gzip-compressed JSON with a header (format name, schema
version, repo, commit, extractor versions, creation time) and the facts as plain data (`model.to_plain`).
A shard of another schema version is refused with a message, not misread.

Shards come from other parties, so reading one is defensive (`read_shard`, `parse_shard`): no pickle,
only JSON; the compressed size, the decompressed size and the decompression ratio are bounded while
decompressing (a gzip bomb stops at the bound, it is never inflated whole); the document is checked
against the fact types field by field (missing keys, wrong types, nesting deeper than any fact has) and
every fact must belong to the shard's own repo, so that a shard can never add facts to another repo.
Every rejection is a `ShardError` whose message starts with the shard's path and says why.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import tempfile
import time
import types
import typing
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexers.model import SCHEMA_VERSION, Commit, FileFacts, to_plain
from indexers.sources import registry

FORMAT = "lore-shard"
SUFFIX = ".lore-shard"

# Bounds for reading a shard written by someone else. A real shard compresses its JSON 5-20 times; a
# gzip bomb compresses thousands of times. Large enough for a repo of a hundred thousand files.
MAX_COMPRESSED = 256 * 1024 * 1024
MAX_DECOMPRESSED = 1024 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 4 * 1024 * 1024  # below this many decompressed bytes the ratio is not enforced
MAX_ATTR_DEPTH = 32  # nesting of free-form attribute values (fact types themselves nest 3 deep)

REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class ShardError(ValueError):
    """A shard that cannot be used; the message is `<where>: <reason>`."""


@dataclass(frozen=True)
class Shard:
    repo: str
    commit: str | None
    files: tuple[FileFacts, ...]
    commits: tuple[Commit, ...]
    created: float
    sha256: str = ""  # of the file's bytes


def valid_repo_name(name: object) -> bool:
    return isinstance(name, str) and REPO_NAME.fullmatch(name) is not None and name not in (".", "..")


def encode_shard(repo: str, commit: str | None, files: Sequence[FileFacts], commits: Sequence[Commit]) -> bytes:
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
    return gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), mtime=0)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write through a temp file in the same folder and rename: a reader sees the old file or the new one."""
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


def write_shard(path: Path, repo: str, commit: str | None, files: Sequence[FileFacts], commits: Sequence[Commit]) -> int:
    """Write atomically (temp file + rename); returns the size in bytes."""
    data = encode_shard(repo, commit, files, commits)
    write_bytes_atomic(path, data)
    return len(data)


def read_shard(path: Path) -> Shard:
    """Read and check a shard file; ShardError (naming the path and the reason) when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_COMPRESSED:
            raise ShardError(f"{path}: shard is {size} bytes, more than the limit of {MAX_COMPRESSED}")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ShardError(f"{path}: shard not found") from exc
    except OSError as exc:
        raise ShardError(f"{path}: cannot read the shard ({exc.strerror or exc})") from exc
    return parse_shard(data, str(path))


def parse_shard(data: bytes, where: str) -> Shard:
    """Decode and check shard bytes; `where` names the source in every message."""
    if len(data) > MAX_COMPRESSED:
        raise ShardError(f"{where}: shard is {len(data)} bytes, more than the limit of {MAX_COMPRESSED}")
    raw = gunzip_bounded(data, where)
    try:
        doc = json.loads(raw)
    except RecursionError as exc:
        raise ShardError(f"{where}: malformed shard: JSON nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ShardError(f"{where}: not a readable Lore shard (invalid JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ShardError(f"{where}: not a Lore shard (format {got!r})")
    if doc.get("schema") != SCHEMA_VERSION:
        raise ShardError(f"{where}: shard schema v{doc.get('schema')} does not match this Lore's v{SCHEMA_VERSION}; re-export it")
    repo = doc.get("repo")
    if not isinstance(repo, str) or not valid_repo_name(repo):
        raise ShardError(f"{where}: malformed shard: 'repo' must be a simple repo name, got {repo!r}")
    commit = doc.get("commit")
    if commit is not None and not (isinstance(commit, str) and COMMIT.fullmatch(commit)):
        raise ShardError(f"{where}: malformed shard: 'commit' must be a commit sha or null, got {_short(commit)}")
    created = doc.get("created", 0)
    if isinstance(created, bool) or not isinstance(created, (int, float)):
        raise ShardError(f"{where}: malformed shard: 'created' must be a number, got {_short(created)}")
    try:
        files = _convert(tuple[FileFacts, ...], doc.get("files", []), "files", repo)
        commits = _convert(tuple[Commit, ...], doc.get("commits", []), "commits", repo)
    except _Bad as exc:
        raise ShardError(f"{where}: malformed shard: {exc.at}: {exc.reason}") from None
    return Shard(repo, commit, files, commits, float(created), hashlib.sha256(data).hexdigest())


def gunzip_bounded(data: bytes, where: str) -> bytes:
    """Decompress gzip (all members), stopping as soon as the output passes the size or ratio bound."""
    limit = min(MAX_DECOMPRESSED, max(RATIO_FLOOR, MAX_RATIO * len(data)))
    out = bytearray()
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        while True:
            out += d.decompress(pending, limit + 1 - len(out))
            if len(out) > limit:
                raise ShardError(f"{where}: shard decompresses to more than {limit} bytes ({len(data)} compressed; "
                                 f"the limit is {MAX_RATIO}x its size, at most {MAX_DECOMPRESSED}): refused as a "
                                 "possible decompression bomb")
            if d.eof:
                pending = d.unused_data
                if not pending.strip(b"\0"):
                    break
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # the next gzip member
                continue
            pending = d.unconsumed_tail
            if not pending:
                raise ShardError(f"{where}: not a readable Lore shard (truncated: the gzip stream ends early)")
    except zlib.error as exc:
        raise ShardError(f"{where}: not a readable Lore shard (not gzip data: {exc})") from exc
    return bytes(out)


# -- checking the document against the fact types ----------------------------------------------------

class _Bad(Exception):
    def __init__(self, at: str, reason: str):
        super().__init__(f"{at}: {reason}")
        self.at = at
        self.reason = reason


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


_FIELDS: dict[type, list[tuple[str, Any, bool]]] = {}


def _fields(cls: type) -> list[tuple[str, Any, bool]]:
    """(name, type hint, required) per field of a fact dataclass."""
    got = _FIELDS.get(cls)
    if got is None:
        hints = typing.get_type_hints(cls)
        got = [(f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
               for f in dataclasses.fields(cls)]
        _FIELDS[cls] = got
    return got


def _check_depth(value: Any, at: str) -> None:
    """Free-form attribute values: JSON scalars, lists and string-keyed objects, nested at most
    MAX_ATTR_DEPTH deep (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (dict, list)):
            if depth >= MAX_ATTR_DEPTH:
                raise _Bad(at, f"nested more than {MAX_ATTR_DEPTH} levels deep")
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))


def _convert(tp: Any, value: Any, at: str, repo: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise _Bad(at, "must not be null")
        return _convert(next(a for a in args if a is not type(None)), value, at, repo)
    if origin is tuple:
        if not isinstance(value, list):
            raise _Bad(at, f"expected a list, got {_short(value)}")
        inner = typing.get_args(tp)[0]
        return tuple(_convert(inner, x, f"{at}[{i}]", repo) for i, x in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _Bad(at, f"expected an object, got {_short(value)}")
        _check_depth(value, at)
        return value
    if tp is Any:
        _check_depth(value, at)
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _Bad(at, f"expected an object, got {_short(value)}")
        kwargs: dict[str, Any] = {}
        for name, hint, required in _fields(tp):
            if name in value:
                kwargs[name] = _convert(hint, value[name], f"{at}.{name}", repo)
            elif required:
                raise _Bad(at, f"missing key {name!r}")
        if "repo" in kwargs and kwargs["repo"] != repo:
            raise _Bad(f"{at}.repo", f"{kwargs['repo']!r} is not the shard's repo {repo!r}; a shard holds facts of its own repo only")
        if tp is FileFacts:
            _check_path(kwargs["path"], f"{at}.path")
        return tp(**kwargs)
    if tp is str:
        if not isinstance(value, str):
            raise _Bad(at, f"expected a string, got {_short(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _Bad(at, f"expected true or false, got {_short(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(at, f"expected an integer, got {_short(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(at, f"expected a number, got {_short(value)}")
        return float(value)
    raise _Bad(at, f"unsupported field type {tp!r}")  # pragma: no cover - the model has no other types


def _check_path(path: str, at: str) -> None:
    parts = path.split("/")
    if not path or path.startswith("/") or "\0" in path or any(p in ("", ".", "..") for p in parts):
        raise _Bad(at, f"{_short(path)} is not a repo-relative path")
