"""The knowledge cache: the only module that touches it (diskcache over SQLite).

Layout: `<root>/v<SCHEMA_VERSION>/` (root: `--cache DIR`, else `$LORE_CACHE`, else
`$XDG_CACHE_HOME/lore`, else `~/.cache/lore`), created with mode 0700. Records:

- `("m", repo)`        manifest: {path: FileState} — stat data, content hash and extractor versions.
- `("f", repo, path, sha256, vkey)`  the FileFacts of one file version (content-addressed).
- `("h", repo)`        mined history state (commits, last indexed HEAD).
- `("kv", ns, key)`    namespaced values for other layers (blame by blob, ...): see `namespace()`.
- `("summary", root)`  the last full run's report and what it ran from (indexers.summary): a no-op run.
- `("q", root, repo)`, `("qw", root)`, `("qsp", root, run)`  the last full run's Snapshot as query records
  and the service pairs derived from it (indexers.persist): `lore context` without indexing.

Trust: a record is code-free data only if this user wrote it, and pickles can run code, so every record
is signed. Values are pickled here and stored as raw bytes, `HMAC-SHA256(key, record key + pickle)`
first; a record is unpickled only after its MAC checks out under the user's cache key (`key_path()`:
`$XDG_CONFIG_HOME/lore/cache.key`, else `~/.config/lore/cache.key`, created 0600, refused when others
may read or write it), which lives outside the cache. Binding the record key into the MAC keeps records
from being swapped. Record keys are stored as JSON text and values as bytes, so diskcache itself never
unpickles anything (`_RawDisk` refuses a row stored any other way). A cache root owned by another account
or writable by others is refused with a message. A cache someone else prepared (committed into a
checkout, copied from another account) therefore runs nothing: its header does not verify, so it is
moved aside and rebuilt, like a damaged one.

SQLite transactions make every write atomic, so a process killed mid-write leaves the previous records
intact. A cache that cannot be opened or read is moved aside (`v<N>.corrupt-<time>`) and rebuilt, with a
message; a stale schema version is left beside it and rebuilt, with a message. A full disk stops
writing with a clear error while the records already there stay usable.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import hmac
import json
import os
import pickle
import re
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, NamedTuple

import diskcache
import diskcache.core

from indexers.model import SCHEMA_VERSION


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


class ForeignRecord(ValueError):
    """A record not signed with this user's cache key (written by someone else, or damaged)."""


_MAC = 32
_VALUE_FILE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{28}\.val")


class _RawDisk(diskcache.Disk):
    """diskcache's storage, narrowed to what this module writes: JSON-text keys and bytes values. A row
    stored as a pickle (which diskcache would unpickle) or text, or a value file named outside diskcache's
    own layout, is refused before anything is read."""

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise ForeignRecord("a pickled key")
        return super().get(key, raw)

    def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_RAW:
            return super().fetch(mode, filename, value, read)
        if mode == diskcache.core.MODE_BINARY and isinstance(filename, str) and _VALUE_FILE.fullmatch(filename):
            return super().fetch(mode, filename, value, read)
        raise ForeignRecord(f"a record stored in mode {mode}, not as signed bytes")


def key_path() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "lore" / "cache.key"


def _private_file_problem(st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by you"
    if st.st_mode & 0o077:
        return f"others may read or write it (mode {stat.S_IMODE(st.st_mode):03o}); chmod 600 it"
    return None


def load_key(path: Path | None = None) -> bytes:
    """The user's cache key, created on first use (32 random bytes, hex, in a 0600 file). CacheError when
    the file is not the user's own private file."""
    path = path or key_path()
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            _create_key(path)
            continue
        except OSError as exc:
            raise CacheError(f"cache key {path}: cannot read it: {exc.strerror or exc}") from exc
        try:
            problem = _private_file_problem(os.fstat(fd))
            if problem:
                raise CacheError(f"cache key {path}: {problem} (the key signs the cache; nobody else may see it)")
            text = os.read(fd, 4096).decode("ascii", "replace").strip()
        finally:
            os.close(fd)
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise CacheError(f"cache key {path}: not a key (remove the file: a new one is made, and the cache rebuilt)")
        return key
    raise CacheError(f"cache key {path}: could not be created")


def _create_key(path: Path) -> None:
    """Write a new key atomically: a private temporary file, linked into place (a concurrent creator's
    key wins; ours is discarded)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise CacheError(f"cache key {path}: cannot create it: {exc.strerror or exc}") from exc


def folder_problem(path: Path, *, private: bool = False) -> str | None:
    """Why `path` may not hold a cache: not a folder, owned by another account, writable by others (or,
    with `private`, open to others at all). None when it is fine or does not exist yet (it is then
    created 0700)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    mode = stat.S_IMODE(st.st_mode)
    if not stat.S_ISDIR(st.st_mode):
        return "not a folder"
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by you"
    if mode & 0o022:
        return f"others may write it (mode {mode:03o})"
    if private and mode & 0o077:
        return f"others may read it (mode {mode:03o}); chmod 700 it"
    return None


def encode_key(key: tuple[Any, ...]) -> str:
    return json.dumps(key, ensure_ascii=False, separators=(",", ":"))


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
    def __init__(self, root: str | Path | None = None, *, check: bool = True, key: bytes | None = None):
        self.root = Path(root) if root else default_root()
        self.path = self.root / f"v{SCHEMA_VERSION}"
        self.messages: list[str] = []
        self._key = key if key is not None else load_key()
        self._foreign = 0  # records dropped because their MAC did not verify
        self._cache = self._open(check)
        self._closed = False
        atexit.register(self._close_at_exit)

    def _close_at_exit(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):  # exiting: a stamp not written only costs the next open a check
                self.close()

    # -- opening, recovery ---------------------------------------------------------------------------
    def _open(self, check: bool) -> diskcache.Cache:
        for folder in (self.root, self.path):
            problem = folder_problem(folder)
            if problem:
                raise CacheError(f"cache folder {folder}: {problem}; not used (a cache others can write could "
                                 "plant results): choose a folder of your own with --cache or LORE_CACHE")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.chmod(self.root, 0o700)  # ours, and nobody else could write it: tightened (a 0755 one too)
        except OSError:
            pass
        stale = sorted(p.name for p in self.root.glob("v*") if p.is_dir() and p.name[1:].isdigit() and p != self.path)
        if stale and not self.path.exists():
            self.messages.append(f"cache schema changed ({', '.join(stale)} -> v{SCHEMA_VERSION}): rebuilding the index")
        try:
            known = self._left_as_closed()
            cache = self._connect()
            if check:
                self._verify(cache, known)
            return cache
        except (sqlite3.Error, OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:  # ForeignRecord too
            if _cannot_write(exc):
                # A full disk or read-only folder is not damage: moving the cache aside would lose it.
                raise CacheError(f"cannot open the cache at {self.path}: {exc} (any previous index is kept)") from exc
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}")
            try:
                self.path.rename(aside)
                where = f"moved aside to {aside}"
            except OSError:
                where = "could not be moved aside"
            self.messages.append(f"cache at {self.path} was unreadable ({exc.__class__.__name__}: {exc}); {where}; rebuilding")
            try:
                cache = self._connect()
                if check:
                    self._verify(cache)  # writes the new header
                return cache
            except (sqlite3.Error, OSError, ValueError) as again:
                raise CacheError(f"cannot create the cache at {self.path}: {again}") from again

    def _connect(self) -> diskcache.Cache:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path, 0o700)
        # No memory-mapped I/O: mapped pages count toward a long-running server's resident memory.
        return diskcache.Cache(str(self.path), disk=_RawDisk, size_limit=2**40, eviction_policy="none", timeout=60,
                               sqlite_mmap_size=0)

    def _db_stamp(self) -> str:
        """The database files as they are now (size, modification time, inode of the database and its
        write-ahead log): equal stamps, same bytes as far as anything but a disk fault can tell."""
        parts = []
        for name in ("cache.db", "cache.db-wal"):
            try:
                st = os.stat(self.path / name)
                parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
            except OSError:
                parts.append(f"{name}:-")
        return " ".join(parts)

    def _verify(self, cache: diskcache.Cache, known: bool = False) -> None:
        """The database passes SQLite's quick check and holds our header (a new one gets it). The quick
        check reads the whole database (50 ms at 50 MB): `known` skips it when the files are as the last
        process that closed this cache left them (`close`: a stamp in this folder, ours alone)."""
        if not known:
            con = cache._sql  # noqa: SLF001 - diskcache exposes no integrity check
            row = con("PRAGMA quick_check(1)").fetchone()
            if not row or row[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")
        raw = cache.get(encode_key(("meta",)), default=None, retry=True)
        if raw is None:
            if len(cache):
                raise ForeignRecord("records without a header")
            cache.set(encode_key(("meta",)), self._seal(("meta",), {"schema": SCHEMA_VERSION, "created": time.time()}),
                      retry=True)
            return
        try:
            meta = self._open_record(("meta",), raw)
        except ForeignRecord:
            raise ForeignRecord("its records are not signed with your cache key (another account or tool "
                                "wrote them, or the key changed)") from None
        if not isinstance(meta, dict):
            raise ValueError(f"cache header is a {type(meta).__name__}, not a mapping")
        elif meta.get("schema") != SCHEMA_VERSION:
            raise ValueError(f"schema {meta.get('schema')} in a v{SCHEMA_VERSION} folder")

    def close(self) -> None:
        """Close the database and record the files' stamp: the next open that finds them so skips the
        quick check (a write by any other process, a copy or a truncation changes the stamp)."""
        self._closed = True
        self._cache.close()
        with contextlib.suppress(OSError):
            tmp = self.path / f"checked.{os.getpid()}"
            tmp.write_text(self._db_stamp(), encoding="ascii")
            os.replace(tmp, self.path / "checked")

    def _left_as_closed(self) -> bool:
        try:
            stamp = (self.path / "checked").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return False
        with contextlib.suppress(OSError):
            (self.path / "checked").unlink()  # one use: this process's own close writes it again
        return stamp == self._db_stamp()

    # -- signed records --------------------------------------------------------------------------------
    def _mac(self, key: tuple[Any, ...], blob: bytes | memoryview) -> bytes:
        mac = hmac.new(self._key, encode_key(key).encode("utf-8", "surrogatepass") + b"\0", hashlib.sha256)
        mac.update(blob)
        return mac.digest()

    def _seal(self, key: tuple[Any, ...], value: Any) -> bytes:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return self._mac(key, blob) + blob

    def _open_record(self, key: tuple[Any, ...], raw: Any) -> Any:
        """The value of a stored record, unpickled only once its MAC verifies."""
        if not isinstance(raw, bytes) or len(raw) <= _MAC:
            raise ForeignRecord("not a signed record")
        blob = memoryview(raw)[_MAC:]
        if not hmac.compare_digest(raw[:_MAC], self._mac(key, blob)):
            raise ForeignRecord("its MAC does not verify")
        return pickle.loads(blob)

    # -- primitives ----------------------------------------------------------------------------------
    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        """A record, or `default` when missing or unreadable (an unreadable record is dropped)."""
        try:
            raw = self._cache.get(encode_key(key), default=None, retry=True)
            return default if raw is None else self._open_record(key, raw)
        except (sqlite3.Error, diskcache.Timeout) as exc:
            # The database itself failed (damaged, busy): a miss now; the next open checks and recovers.
            self.messages.append(f"cache record {key[:2]} unreadable ({exc.__class__.__name__}: {exc})")
            return default
        except ForeignRecord:
            self._foreign += 1
            if self._foreign == 1:
                self.messages.append(f"cache records not signed with your cache key were dropped (first: {key[:2]})")
            self.delete(key)
            return default
        except Exception as exc:  # noqa: BLE001 - a signed record that does not load (another Lore version)
            self.messages.append(f"cache record {key[:2]} unreadable ({exc.__class__.__name__}); dropped")
            self.delete(key)
            return default

    def set(self, key: tuple[Any, ...], value: Any) -> None:
        try:
            self._cache.set(encode_key(key), self._seal(key, value), retry=True)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            self._raise_write_error(exc)

    def _raise_write_error(self, exc: BaseException) -> None:
        if _cannot_write(exc) or isinstance(exc, (sqlite3.DatabaseError, diskcache.Timeout)):
            raise CacheError(f"cannot write the cache at {self.path}: {exc or exc.__class__.__name__} "
                             "(the previous index stays usable)") from exc
        raise exc

    def delete(self, key: tuple[Any, ...]) -> None:
        try:
            self._cache.delete(encode_key(key), retry=True)
        except (sqlite3.Error, OSError):
            pass

    def transact(self) -> Any:
        return self._cache.transact(retry=True)

    # -- typed records -------------------------------------------------------------------------------
    def manifest(self, repo: str) -> dict[str, FileState]:
        """The repo's manifest; entries that are not well-formed FileStates are dropped (so those files
        are simply read again), never trusted."""
        return manifest_of(self.get(self.manifest_key(repo), {}))

    def raw(self, key: tuple[Any, ...]) -> bytes | None:
        """A record's stored bytes, not verified yet (`opened` verifies them, in another process if need
        be); None when missing or unreadable."""
        try:
            raw = self._cache.get(encode_key(key), default=None, retry=True)
        except (sqlite3.Error, diskcache.Timeout, ForeignRecord):
            return None
        return raw if isinstance(raw, bytes) else None

    def opened(self, key: tuple[Any, ...], raw: bytes | None, default: Any = None) -> Any:
        """The value of `raw` (from `raw(key)`), unpickled once its MAC verifies; `default` when it is
        missing, does not verify or does not load. Touches no database: safe in a forked child."""
        if raw is None:
            return default
        try:
            return self._open_record(key, raw)
        except Exception:  # noqa: BLE001 - any failure is a miss; the next run reading it properly drops it
            return default

    @staticmethod
    def manifest_key(repo: str) -> tuple[str, str]:
        return ("m", repo)

    def put_manifest(self, repo: str, manifest: dict[str, FileState]) -> None:
        self.set(self.manifest_key(repo), manifest)

    def fingerprint(self, repo: str) -> str:
        """The extractor set (names and versions) the repo's manifest was written with."""
        value = self.get(self.fingerprint_key(repo), "")
        return value if isinstance(value, str) else ""

    @staticmethod
    def fingerprint_key(repo: str) -> tuple[str, str]:
        return ("mfp", repo)

    def put_fingerprint(self, repo: str, fingerprint: str) -> None:
        self.set(self.fingerprint_key(repo), fingerprint)

    @staticmethod
    def facts_key(repo: str, path: str, sha256: str, vkey: str) -> tuple[str, str, str, str, str]:
        return ("f", repo, path, sha256, vkey)

    def facts(self, repo: str, path: str, sha256: str, vkey: str) -> Any:
        return self.get(self.facts_key(repo, path, sha256, vkey))

    def put_facts(self, repo: str, path: str, sha256: str, vkey: str, facts: Any) -> None:
        self.set(self.facts_key(repo, path, sha256, vkey), facts)

    def put_many_facts(self, records: list[tuple[str, str, Any, Any]], pickled: list[bytes | None] | None = None) -> None:
        """Store (repo, path, FileState, FileFacts) records in one transaction: one commit per batch
        instead of one per file. All or none of a batch is written. `pickled`: beside each record, its
        FileFacts as pickled bytes when the caller has them (a worker sent them so): signed as they are."""
        keyed = ((self.facts_key(repo, path, state.sha256, state.vkey), facts, blob)
                 for (repo, path, state, facts), blob in zip(records, pickled or [None] * len(records), strict=True))
        self._write_sealed((key, self._seal(key, facts) if blob is None else self._mac(key, blob) + blob)
                           for key, facts, blob in keyed)

    def set_many(self, records: list[tuple[tuple[Any, ...], Any]]) -> None:
        """Store (key, value) records in one transaction: all or none of them is written."""
        self._write_sealed((key, self._seal(key, value)) for key, value in records)

    def _write_sealed(self, sealed: Iterable[tuple[tuple[Any, ...], bytes]]) -> None:
        """Write (key, signed bytes) records, made as they are written, in one transaction."""
        try:
            with self._cache.transact(retry=True):
                for key, blob in sealed:
                    self._cache.set(encode_key(key), blob, retry=True)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            self._raise_write_error(exc)

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


def manifest_of(value: Any) -> dict[str, FileState]:
    """A stored manifest's well-formed entries (see `Store.manifest`)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and _valid_state(v)}


def _valid_state(v: Any) -> bool:
    return (isinstance(v, FileState) and isinstance(v.size, int) and isinstance(v.mtime_ns, int)
            and isinstance(v.sha256, str) and isinstance(v.vkey, str) and isinstance(v.status, str)
            and isinstance(v.reason, str))


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
