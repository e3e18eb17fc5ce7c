"""The knowledge cache: the only module that touches it (diskcache over SQLite).

Layout: `<root>/v<SCHEMA_VERSION>/` (root: `--cache DIR`, else `$LORE_CACHE`, else
`$XDG_CACHE_HOME/lore`, else `~/.cache/lore`), created with mode 0700. Records:

- `("m", repo)`        manifest: {path: FileState} — stat data, content hash and extractor versions.
- `("f", repo, path, sha256, vkey)`  the FileFacts of one file version (content-addressed).
- `("a", repo)`        the repo's FileFacts in one record (keyed by manifest digest), for fast loads.
- `("h", repo)`        mined history state (commits, last indexed HEAD).
- `("kv", ns, key)`    namespaced values for other layers (blame by blob, ...): see `namespace()`.

SQLite transactions make every write atomic, so a process killed mid-write leaves the previous records
intact. A cache that cannot be opened or read is moved aside (`v<N>.corrupt-<time>`) and rebuilt, with a
message; a stale schema version is left beside it and rebuilt, with a message. A full disk stops
writing with a clear error while the records already there stay usable.
"""

from __future__ import annotations

import errno
import os
import pickle
import sqlite3
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, NamedTuple

import diskcache

from indexers.model import SCHEMA_VERSION, FileFacts


class CacheError(RuntimeError):
    """The cache could not be written (disk full, read-only); previous records remain usable."""


class FileState(NamedTuple):
    """One manifest entry. A NamedTuple, not a dataclass: manifests of tens of thousands of files are
    unpickled on every run, and tuples load an order of magnitude faster."""

    size: int
    mtime_ns: int
    sha256: str
    vkey: str
    status: str  # indexed | failed | skipped:<reason>
    reason: str = ""


def default_root() -> Path:
    env = os.environ.get("LORE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "lore"


_DISK_ERRORS = ("disk is full", "database or disk is full", "no space left", "readonly", "read-only", "disk i/o error",
                "file too large", "quota exceeded")
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO})


def _cannot_write(exc: BaseException) -> bool:
    """A full disk, a file-size or quota limit, a read-only folder, an I/O error: not a damaged cache."""
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return True
    text = str(exc).lower()
    return isinstance(exc, (sqlite3.OperationalError, OSError)) and any(s in text for s in _DISK_ERRORS)


class Store:
    def __init__(self, root: str | Path | None = None, *, check: bool = True):
        self.root = Path(root) if root else default_root()
        self.path = self.root / f"v{SCHEMA_VERSION}"
        self.messages: list[str] = []
        self._cache = self._open(check)

    # -- opening, recovery ---------------------------------------------------------------------------
    def _open(self, check: bool) -> diskcache.Cache:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.chmod(self.root, 0o700)
        except OSError:
            pass
        stale = sorted(p.name for p in self.root.glob("v*") if p.is_dir() and p.name[1:].isdigit() and p != self.path)
        if stale and not self.path.exists():
            self.messages.append(f"cache schema changed ({', '.join(stale)} -> v{SCHEMA_VERSION}): rebuilding the index")
        try:
            cache = self._connect()
            if check:
                self._verify(cache)
            return cache
        except (sqlite3.Error, OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            if _cannot_write(exc):
                # A full disk or read-only folder is not damage: moving the cache aside would lose it.
                raise CacheError(f"cannot open the cache at {self.path}: {exc} (any previous index is kept)") from exc
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}")
            try:
                self.path.rename(aside)
                where = f"moved aside to {aside}"
            except OSError:
                where = "could not be moved aside"
            self.messages.append(f"cache at {self.path} was unreadable ({exc.__class__.__name__}: {exc}); {where}; rebuilding")
            try:
                return self._connect()
            except (sqlite3.Error, OSError) as again:
                raise CacheError(f"cannot create the cache at {self.path}: {again}") from again

    def _connect(self) -> diskcache.Cache:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path, 0o700)
        # No memory-mapped I/O: mapped pages count toward a long-running server's resident memory.
        return diskcache.Cache(str(self.path), size_limit=2**40, eviction_policy="none", timeout=60, sqlite_mmap_size=0)

    @staticmethod
    def _verify(cache: diskcache.Cache) -> None:
        con = cache._sql  # noqa: SLF001 - diskcache exposes no integrity check
        row = con("PRAGMA quick_check(1)").fetchone()
        if not row or row[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")
        meta = cache.get(("meta",), default=None, retry=True)
        if meta is None:
            cache.set(("meta",), {"schema": SCHEMA_VERSION, "created": time.time()}, retry=True)
        elif not isinstance(meta, dict):
            raise ValueError(f"cache header is a {type(meta).__name__}, not a mapping")
        elif meta.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"schema {meta.get('schema')} in a v{SCHEMA_VERSION} folder")

    def close(self) -> None:
        self._cache.close()

    # -- primitives ----------------------------------------------------------------------------------
    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        """A record, or `default` when missing or unreadable (an unreadable record is dropped)."""
        try:
            return self._cache.get(key, default=default, retry=True)
        except (sqlite3.Error, diskcache.Timeout) as exc:
            # The database itself failed (damaged, busy): a miss now; the next open checks and recovers.
            self.messages.append(f"cache record {key[:2]} unreadable ({exc.__class__.__name__}: {exc})")
            return default
        except Exception as exc:  # noqa: BLE001 - unpickling garbage can raise almost anything
            self.messages.append(f"cache record {key[:2]} unreadable ({exc.__class__.__name__}); dropped")
            self.delete(key)
            return default

    def set(self, key: tuple[Any, ...], value: Any) -> None:
        try:
            self._cache.set(key, value, retry=True)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            self._raise_write_error(exc)

    def _raise_write_error(self, exc: BaseException) -> None:
        if _cannot_write(exc) or isinstance(exc, (sqlite3.DatabaseError, diskcache.Timeout)):
            raise CacheError(f"cannot write the cache at {self.path}: {exc or exc.__class__.__name__} "
                             "(the previous index stays usable)") from exc
        raise exc

    def delete(self, key: tuple[Any, ...]) -> None:
        try:
            self._cache.delete(key, retry=True)
        except (sqlite3.Error, OSError):
            pass

    def transact(self) -> Any:
        return self._cache.transact(retry=True)

    # -- typed records -------------------------------------------------------------------------------
    def manifest(self, repo: str) -> dict[str, FileState]:
        """The repo's manifest; entries that are not well-formed FileStates are dropped (so those files
        are simply read again), never trusted."""
        value = self.get(("m", repo), {})
        if not isinstance(value, dict):
            return {}
        return {k: v for k, v in value.items() if isinstance(k, str) and _valid_state(v)}

    def put_manifest(self, repo: str, manifest: dict[str, FileState]) -> None:
        self.set(("m", repo), manifest)

    def fingerprint(self, repo: str) -> str:
        """The extractor set (names and versions) the repo's manifest was written with."""
        value = self.get(("mfp", repo), "")
        return value if isinstance(value, str) else ""

    def put_fingerprint(self, repo: str, fingerprint: str) -> None:
        self.set(("mfp", repo), fingerprint)

    def facts(self, repo: str, path: str, sha256: str, vkey: str) -> Any:
        return self.get(("f", repo, path, sha256, vkey))

    def put_facts(self, repo: str, path: str, sha256: str, vkey: str, facts: Any) -> None:
        self.set(("f", repo, path, sha256, vkey), facts)

    def put_many_facts(self, records: list[tuple[str, str, Any, Any]]) -> None:
        """Store (repo, path, FileState, FileFacts) records in one transaction: one commit per batch
        instead of one per file. All or none of a batch is written."""
        try:
            with self._cache.transact(retry=True):
                for repo, path, state, facts in records:
                    self._cache.set(("f", repo, path, state.sha256, state.vkey), facts, retry=True)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            self._raise_write_error(exc)

    def aggregate(self, repo: str, digest: str) -> Any:
        value = self.get(("a", repo))
        if isinstance(value, tuple) and len(value) == 2 and value[0] == digest and _all_facts(value[1]):
            return value[1]
        return None

    def put_aggregate(self, repo: str, digest: str, facts: Any) -> None:
        self.set(("a", repo), (digest, facts))

    def namespace(self, name: str) -> Namespace:
        return Namespace(self, name)

    def size_bytes(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.path):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    pass
        return total


def _valid_state(v: Any) -> bool:
    return (isinstance(v, FileState) and isinstance(v.size, int) and isinstance(v.mtime_ns, int)
            and isinstance(v.sha256, str) and isinstance(v.vkey, str) and isinstance(v.status, str)
            and isinstance(v.reason, str))


def _all_facts(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(ff, FileFacts) for ff in value)


class Namespace(MutableMapping[Any, Any]):
    """A mapping view of `("kv", name, key)` records, for layers that only need get/set (history)."""

    def __init__(self, store: Store, name: str):
        self._store = store
        self._name = name

    _MISSING = object()

    def __getitem__(self, key: Any) -> Any:
        value = self._store.get(("kv", self._name, key), self._MISSING)
        if value is self._MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        try:
            self._store.set(("kv", self._name, key), value)
        except CacheError:
            pass  # a lookup cache: losing a write only costs a recomputation

    def __delitem__(self, key: Any) -> None:
        self._store.delete(("kv", self._name, key))

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("namespaces are not iterable")

    def __len__(self) -> int:
        raise TypeError("namespaces are not sized")
