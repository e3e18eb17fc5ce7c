"""The Snapshot saved as signed cache records, per repo, and loaded back without indexing.

After every full run the engine saves what queries read (`save`), beside the run's summary
(`indexers.summary`):

- per repo, `("q", <workspace root>, repo)`: the repo's team notes and `ops.*` usages, which of its
  files have usages or markers, and the content hash and version key of every file's facts;
- entity buckets, `("qe", <workspace root>, b)`: per entity id (of a group of relatives, `group_of`),
  its declarations and place in the Snapshot's order, the links to it and its children's ids;
- file buckets, `("qf", <workspace root>, b)`: per file, the entities it declares, the links and
  possible links whose site is in it (each with its place in the Snapshot's order);
- per workspace, `("qw", <workspace root>)`: the repos, what is missing, services, copies, conflicts,
  decisions and errors (small), and the number of buckets (about 100 entities and links each).

Every record carries the run id of the summary written with it, and the workspace record is written
last in the same transaction, so a load takes all of one run or nothing. `load` reads the small records
only: a lookup (an entity by id, the links to it, a file's declarations and links) reads the one bucket
that holds it, and iterating a table reads them all, so the Snapshot answers exactly what the run built
while `lore context` on 276k entities reads a few thousand. The facts of a file (`files`,
`usages_by_file`, `markers_by_file`) are read on first use from the content-addressed fact record the
saved hash names, so a query reads only the files it looks at. History, per repo, `("qh", <workspace
root>, repo)`: the commits' shas, with the commits as plain rows in chunk records (`"qhc"`) and an index
of the commits touching each path in bucket records (`"qhp"`), so one file's question reads the few
chunks its commits are in. Records are signed like every cache record (indexers.store): nothing unsigned
is ever unpickled.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexers.model import Commit, Entity, FileError, FileFacts, HistoryGaps, Link
from indexers.snapshot import FileKey, RepoInfo, Snapshot
from indexers.store import CacheError, FileState, Store
from indexers.workspace import Workspace

VERSION = 3
MAX_BUCKETS = 4096
PER_BUCKET = 100  # entities and links per bucket record, about: a query reads a few buckets, never all


Loaded = Callable[[], None] | None  # called after a record was read on demand


class MissingRecord(LookupError):
    """A record the saved Snapshot names is gone from the cache or of another run (the caller indexes
    instead)."""


def ws_key(ws: Workspace) -> tuple[str, str]:
    return ("qw", str(ws.root))


def repo_key(ws: Workspace, repo: str) -> tuple[str, str, str]:
    return ("q", str(ws.root), repo)


def bucket_key(ws: Workspace, kind: str, n: int) -> tuple[str, str, int]:
    return (kind, str(ws.root), n)


def _items(store: Store, key: tuple[Any, ...], token: str | None, what: str) -> Any:
    """The items of a record a saved run wrote (its version, and the run's `token`), or MissingRecord
    naming `what` when it is gone or of another run."""
    rec = store.get(key)
    if not (isinstance(rec, dict) and rec.get("version") == VERSION and token is not None and rec.get("token") == token
            and "items" in rec):
        raise MissingRecord(f"{what} missing from the cache or of another run")
    return rec["items"]


_PROTO_GROUP = re.compile(r"proto:(?:[a-z0-9_][^.]*\.)*[A-Z][^.]*")


def group_of(ident: str) -> str:
    """The part of an entity id its relatives share, so that a contract and the entities a query reads
    with it (a message's fields, a service's rpcs, an API's operations and schemas) land in one bucket:
    `proto:` up to the first capitalised name (the message or service), `openapi:` the API, else the
    first dotted name. Any deterministic answer is correct; this one keeps reads few."""
    if ident.startswith("proto:"):
        m = _PROTO_GROUP.match(ident)  # names that start lower-case, then the first capitalised one
        if m is not None:
            return m.group(0)
    return plain_group(ident)  # what the pattern leaves: no capitalised name, or one starting otherwise


def plain_group(ident: str) -> str:
    """`group_of` read name by name (what `_PROTO_GROUP` answers faster where it can)."""
    kind, sep, rest = ident.partition(":")
    if not sep:
        return ident
    if kind == "proto":
        names = rest.split(".")
        for i, name in enumerate(names):
            if name[:1].isupper():
                return "proto:" + ".".join(names[: i + 1])
        return ident
    if kind == "openapi":
        return "openapi:" + rest.partition(":")[0]
    return kind + ":" + rest.partition(".")[0]


def _hash(text: str, n: int) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % n


def entity_bucket(ident: str, n: int) -> int:
    return _hash(group_of(ident), n)


def file_bucket(key: FileKey, n: int) -> int:
    return _hash(key[0] + "\0" + key[1], n)


def bucket_count(items: int) -> int:
    return max(1, min(MAX_BUCKETS, items // PER_BUCKET + 1))


def save(store: Store, ws: Workspace, snap: Snapshot, run: str, manifests: Mapping[str, dict[str, FileState]]) -> None:
    """Write the records of `snap` (built from `manifests`) for run `run`, in one transaction. Raises
    CacheError. (Making and signing them in a forked child while this process wrote them was measured
    slower on googleapis' 276k declarations: the child's pickling touches every object of the Snapshot,
    and copying those pages on write cost more than the overlap saved.)"""
    store.set_many(records(ws, snap, run, manifests))


def records(ws: Workspace, snap: Snapshot, run: str, manifests: Mapping[str, dict[str, FileState]]) -> list[tuple[tuple[Any, ...], Any]]:
    """The records of `snap` for run `run` (key, value), the workspace record last: a load takes all of
    one run or nothing."""
    from indexers.linking import cross_file

    parts: dict[str, dict[str, Any]] = {}
    for name in snap.repos:
        manifest = manifests.get(name)
        if manifest is None:
            continue
        parts[name] = {"version": VERSION, "token": run, "notes": [], "ops": {}, "cross": {}, "usages": [],
                       "markers": [], "files": {p: (st.sha256, st.vkey) for p, st in manifest.items()
                                                if st.sha256 and not st.status.startswith("skipped:")}}
    kept: dict[str, list[Entity]] = {}
    for ident, decls in snap.entities.items():
        mine = [e for e in decls if e.repo in parts]
        if mine:
            kept[ident] = mine
    links = [(i, lk) for i, lk in enumerate(snap.links) if lk.repo in parts]
    possible = [(i, lk) for i, lk in enumerate(snap.possible) if lk.repo in parts]
    n = bucket_count(len(kept) + len(links) + len(possible))
    # entity buckets: id -> [rank, declarations, [(order, link)], children]; file buckets: (repo, path) ->
    # [first rank, declarations, [(order, link)], [(order, possible link)]]
    ents: list[dict[str, list[Any]]] = [{} for _ in range(n)]
    files: list[dict[FileKey, list[Any]]] = [{} for _ in range(n)]

    bucket_of: dict[str, int] = {}  # an id's bucket, worked out once (an entity, its parent, its links)

    def entry(ident: str) -> list[Any]:
        b = bucket_of.get(ident)
        if b is None:
            b = bucket_of[ident] = entity_bucket(ident, n)
        return _slot(ents[b], ident)

    def file_entry(key: FileKey, first: int) -> list[Any]:
        return _slot(files[file_bucket(key, n)], key, first)

    for rank, (ident, decls) in enumerate(kept.items()):
        here = entry(ident)
        here[0], here[1] = rank, decls
        if decls[0].parent:
            entry(decls[0].parent)[3].append(ident)
        for e in decls:
            file_entry((e.repo, e.path), rank)[1].append(e)
    for i, lk in links:
        entry(lk.entity)[2].append((i, lk))
        file_entry((lk.repo, lk.path), -1)[2].append((i, lk))
    for i, lk in possible:
        file_entry((lk.repo, lk.path), -1)[3].append((i, lk))
    for order, ((repo, path), usages) in enumerate(snap.usages_by_file.items()):
        if repo in parts:
            parts[repo]["usages"].append((order, path))
            ops = [u for u in usages if u.kind.startswith("ops.")]
            if ops:
                parts[repo]["ops"][path] = ops
            cross = [u for u in usages if cross_file(u)]
            if cross:
                parts[repo]["cross"][path] = cross
    for order, (repo, path) in enumerate(snap.markers_by_file):
        if repo in parts:
            parts[repo]["markers"].append((order, path))
    for name, part in parts.items():
        part["notes"] = list(snap.team_notes(name))
    whole = {"version": VERSION, "run": run, "repos": snap.repos, "missing": snap.missing, "services": snap.services,
             "copies": snap.copies, "conflicts": snap.conflicts, "decisions": snap.decisions,
             "errors": _split_errors(snap), "parts": sorted(parts), "buckets": n,
             "next": [len(snap.links), len(snap.possible)], "count": [len(links), len(possible)], "entities": len(kept),
             "tokens": {**{f"q:{name}": run for name in parts}, **{f"{k}:{b}": run for b in range(n) for k in ("qe", "qf")}}}
    out: list[tuple[tuple[Any, ...], Any]] = [(repo_key(ws, name), part) for name, part in parts.items()]
    for b in range(n):
        out.append((bucket_key(ws, "qe", b), {"version": VERSION, "token": run, "items": ents[b]}))
        out.append((bucket_key(ws, "qf", b), {"version": VERSION, "token": run, "items": files[b]}))
    gaps = getattr(snap.history, "gaps", None) or {}
    for name, info in snap.repos.items():
        if name in parts and info.root is not None:
            out.extend(history_records(ws, name, run, info.head, snap.commits.get(name, {}).values(), gaps.get(name)))
    out.append((ws_key(ws), whole))  # last: a load takes all of one run or nothing
    return out


# -- history for one question -----------------------------------------------------------------------
# `lore context` asks about one file: the commits that touched it and those its lines were last changed
# in. A repo's history holds tens of thousands of commits, and unpickling them is most of the cost of
# reading it. The run's copy for queries holds each commit as a plain tuple of its fields (the body left
# out), pickled in chunks of _CHUNK commits, with the shas in log order and, per path, the positions of
# the commits that touched it (in hash buckets): a question unpickles the chunks of the commits it names
# and makes a Commit only when asked for one.

_FIELDS = tuple(Commit.__dataclass_fields__)  # type: ignore[attr-defined]
_FILES = _FIELDS.index("files")
# No query reads a commit's body (what it says is in its kinds, evidence, refs and mentions): the rows
# leave it out, a third of the bytes of a history.
_BODY = _FIELDS.index("body")
_CHUNK = 256  # commits per pickled chunk
_PATHS_PER_BUCKET = 512  # paths per pickled bucket of the path index


def history_key(ws: Workspace, repo: str) -> tuple[str, str, str]:
    return ("qh", str(ws.root), repo)


def _row(c: Commit) -> tuple[Any, ...]:
    return tuple("" if i == _BODY else getattr(c, f) for i, f in enumerate(_FIELDS))


def _path_bucket(path: str, buckets: int) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % buckets


def history_records(ws: Workspace, name: str, run: str, head: str | None, commits: Iterable[Commit],
                    gaps: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """The records of a repo's history for queries: the head record (HEAD, gaps, count, the shas in log
    order, how many chunks and path buckets) and one record per chunk of rows and per bucket of the path
    index, each carrying the run id."""
    rows = [_row(c) for c in commits]
    touching: dict[str, list[int]] = {}
    for pos, row in enumerate(rows):
        for f in row[_FILES]:
            got = touching.setdefault(f, [])
            if not got or got[-1] != pos:  # a path listed twice in one commit counts once
                got.append(pos)
    n_paths = max(1, -(-len(touching) // _PATHS_PER_BUCKET))
    paths: list[dict[str, tuple[int, ...]]] = [{} for _ in range(n_paths)]
    for f, positions in touching.items():
        paths[_path_bucket(f, n_paths)][f] = tuple(positions)
    chunks = [rows[i:i + _CHUNK] for i in range(0, len(rows), _CHUNK)]
    root = str(ws.root)
    out: list[tuple[tuple[Any, ...], Any]] = [
        ((_HISTORY_CHUNK, root, name, k), {"version": VERSION, "token": run, "items": chunk}) for k, chunk in enumerate(chunks)]
    out += [((_HISTORY_PATHS, root, name, k), {"version": VERSION, "token": run, "items": table})
            for k, table in enumerate(paths)]
    out.append((history_key(ws, name), {"version": VERSION, "token": run, "head": head, "gaps": gaps, "count": len(rows),
                                        "shas": "\n".join(r[0] for r in rows), "chunks": len(chunks), "paths": n_paths}))
    return out


_HISTORY_CHUNK, _HISTORY_PATHS = "qhc", "qhp"
Fetch = Callable[[str, int], Any]  # (kind, number) -> the items of that record of the history, or MissingRecord


class SavedCommits(Mapping[str, Commit]):
    """A repo's commits by sha, newest first, from their saved records (`history_records`): a chunk of rows
    read when one of its commits is asked for, each Commit made on first use. A record that is missing,
    of another run or not what the head record promises raises MissingRecord (the caller indexes instead)."""

    def __init__(self, rec: dict[str, Any], repo: str, fetch: Fetch, loaded: Loaded = None):
        self._rec = rec
        self._repo = repo
        self._fetch = fetch
        self._loaded = loaded
        self._shas: list[str] | None = None
        self._at: dict[str, int] | None = None
        self._chunks: dict[int, list[tuple[Any, ...]]] = {}
        self._paths: dict[int, dict[str, tuple[int, ...]]] = {}
        self._got: dict[str, Commit] = {}

    def _damaged(self, what: str) -> MissingRecord:
        return MissingRecord(f"{self._repo}: the saved history's {what} is missing or damaged")

    def _list(self) -> list[str]:
        if self._shas is None:
            shas = self._rec["shas"].split("\n") if self._rec["count"] else []
            if len(shas) != self._rec["count"]:
                raise self._damaged("list of commits")
            self._shas = shas
        return self._shas

    def _index(self) -> dict[str, int]:
        if self._at is None:
            self._at = {sha: i for i, sha in enumerate(self._list())}
        return self._at

    def _row(self, pos: int) -> tuple[Any, ...]:
        k = pos // _CHUNK
        rows = self._chunks.get(k)
        if rows is None:
            rows = self._fetch(_HISTORY_CHUNK, k)
            if not (isinstance(rows, list) and all(isinstance(r, tuple) and len(r) == len(_FIELDS) for r in rows)):
                raise self._damaged(f"chunk {k}")
            self._chunks[k] = rows
            if self._loaded is not None:
                self._loaded()
        try:
            return rows[pos % _CHUNK]
        except IndexError:
            raise self._damaged(f"chunk {k}") from None

    def _commit(self, sha: str, pos: int) -> Commit:
        got = self._got.get(sha)
        if got is None:
            row = self._row(pos)
            if row[0] != sha:
                raise self._damaged(f"commit {sha[:12]}")
            got = self._got[sha] = Commit(*row)
        return got

    def __getitem__(self, sha: str) -> Commit:
        return self._commit(sha, self._index()[sha])

    def __contains__(self, sha: object) -> bool:
        return sha in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __len__(self) -> int:
        return int(self._rec["count"])

    def touching(self, path: str) -> list[Commit]:
        """The commits that changed `path`, newest first (from the path index: one bucket read)."""
        k = _path_bucket(path, self._rec["paths"])
        table = self._paths.get(k)
        if table is None:
            table = self._fetch(_HISTORY_PATHS, k)
            if not isinstance(table, dict):
                raise self._damaged(f"path index {k}")
            self._paths[k] = table
        shas = self._list()
        try:
            return [self._commit(shas[pos], pos) for pos in table.get(path, ())]
        except (IndexError, TypeError):
            raise self._damaged(f"path index {k}") from None


def _saved_history(store: Store, ws: Workspace, name: str, head: str | None,
                   loaded: Loaded = None) -> tuple[SavedCommits, Any] | None:
    """(commits, gaps) of the run's copy for queries, or None when it is missing or of another HEAD."""
    rec = store.get(history_key(ws, name))
    if not (isinstance(rec, dict) and rec.get("version") == VERSION and rec.get("head") == head
            and isinstance(rec.get("count"), int) and isinstance(rec.get("shas"), str)
            and rec.get("chunks") == -(-rec["count"] // _CHUNK) and isinstance(rec.get("paths"), int)
            and rec["paths"] >= 1 and isinstance(rec.get("token"), str)):
        return None
    root, token = str(ws.root), rec["token"]

    def fetch(kind: str, k: int) -> Any:
        return _items(store, (kind, root, name, k), token, f"{name}: the saved history's record {kind}/{k}")

    return SavedCommits(rec, name, fetch, loaded), rec.get("gaps")


def _slot(table: dict[Any, list[Any]], key: Any, first: int = -1) -> list[Any]:
    """A bucket's entry for `key` ([rank or first rank, declarations, links, children or possible links]),
    made empty when missing."""
    got = table.get(key)
    if got is None:
        got = table[key] = [first, [], [], []]
    return got


def _split_errors(snap: Snapshot) -> tuple[list[tuple[FileKey, list[FileError]]], list[FileError]] | list[FileError]:
    """The Snapshot's errors as (per file, in file order; the rest: the resolve steps'), which a patch can
    replace file by file; the plain list when they are not in that shape (then no patch)."""
    per_file: list[tuple[FileKey, list[FileError]]] = []
    flat: list[FileError] = []
    for key in snap.files:
        ff = snap.files[key]
        if ff.errors:
            per_file.append((key, list(ff.errors)))
            flat.extend(ff.errors)
    if snap.errors[: len(flat)] != flat:
        return list(snap.errors)
    return per_file, list(snap.errors[len(flat):])


def _join_errors(saved: Any) -> list[FileError]:
    if isinstance(saved, tuple):
        per_file, rest = saved
        return [e for _key, errs in per_file for e in errs] + list(rest)
    return list(saved)


class LazyFiles(Mapping[FileKey, FileFacts]):
    """File facts by (repo, path), each read from its fact record on first use."""

    def __init__(self, store: Store, where: dict[FileKey, tuple[str, str]], loaded: Loaded = None,
                 errors: dict[FileKey, list[FileError]] | None = None):
        self._store = store
        self._where = where
        self._got: dict[FileKey, FileFacts] = {}
        self._loaded = loaded
        self._errors = errors  # each file's own errors, as the run saved them (None: read from the facts)

    def sha_of(self, key: FileKey) -> str | None:
        """The content hash of a file's facts as the run saved it, without reading them."""
        got = self._where.get(key)
        return got[0] if got is not None else None

    def errors_of(self, key: FileKey) -> tuple[FileError, ...]:
        """A file's own errors without reading its facts (the first hover in a large contract file would
        otherwise unpickle all of them: 42 of 59 ms in googleapis' migrationcenter.proto)."""
        if self._errors is None:
            ff = self.get(key)
            return ff.errors if ff is not None else ()
        return tuple(self._errors.get(key, ()))  # a file the run did not read has none either

    def __getitem__(self, key: FileKey) -> FileFacts:
        ff = self._got.get(key)
        if ff is None:
            sha, vkey = self._where[key]
            got = self._store.facts(key[0], key[1], sha, vkey)
            if not isinstance(got, FileFacts):
                raise MissingRecord(f"{key[0]}/{key[1]}: fact record missing from the cache")
            ff = self._got[key] = got
            if self._loaded is not None:
                self._loaded()
        return ff

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def __iter__(self) -> Iterator[FileKey]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


class LazyLists(Mapping[FileKey, list[Any]]):
    """A per-file list of facts (usages, markers) for the files known to have some, read on first use.
    The same list object is returned for a file every time (callers memoise by identity)."""

    def __init__(self, files: LazyFiles, keys: list[FileKey], attr: str):
        self._files = files
        self._keys = dict.fromkeys(keys)
        self._attr = attr
        self._got: dict[FileKey, list[Any]] = {}

    def __getitem__(self, key: FileKey) -> list[Any]:
        got = self._got.get(key)
        if got is None:
            if key not in self._keys:
                raise KeyError(key)
            got = self._got[key] = list(getattr(self._files[key], self._attr))
        return got

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[FileKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class Buckets:
    """The bucket records of one saved run, each read (and verified: the token the workspace record
    names for it) on first use."""

    def __init__(self, store: Store, ws: Workspace, tokens: dict[str, str], n: int, loaded: Loaded = None):
        self._store, self._ws, self._tokens, self.n = store, ws, tokens, n
        self._got: dict[tuple[str, int], dict[Any, list[Any]]] = {}
        self._loaded = loaded

    def items(self, kind: str, b: int) -> dict[Any, list[Any]]:
        got = self._got.get((kind, b))
        if got is None:
            items = _items(self._store, bucket_key(self._ws, kind, b), self._tokens.get(f"{kind}:{b}"),
                           f"query record {kind}/{b}")
            if not isinstance(items, dict):
                raise MissingRecord(f"query record {kind}/{b} damaged")
            got = self._got[(kind, b)] = items
            if self._loaded is not None:
                self._loaded()
        return got

    def entity(self, ident: str) -> list[Any] | None:
        return self.items("qe", entity_bucket(ident, self.n)).get(ident)

    def file(self, key: FileKey) -> list[Any] | None:
        return self.items("qf", file_bucket(key, self.n)).get(key)

    def every(self, kind: str) -> Iterator[tuple[Any, list[Any]]]:
        for b in range(self.n):
            yield from self.items(kind, b).items()


class _Table(Mapping[Any, list[Any]]):
    """A lookup table of the Snapshot (id or file -> list) read from buckets: a lookup reads one bucket;
    iterating reads them all (never on a query's path). Empty lists are absent, as in a built Snapshot;
    the same list object is returned for a key every time."""

    def __init__(self, buckets: Buckets, kind: str, field: int, ordered: bool, count: int | None = None):
        self._buckets, self._kind, self._field, self._ordered = buckets, kind, field, ordered
        self._got: dict[Any, list[Any]] = {}
        self._all: list[Any] | None = None
        self._count = count  # its length, when the workspace record says it (then len() reads no bucket)

    def _value(self, got: list[Any]) -> list[Any]:
        value = got[self._field]
        return [x for _i, x in value] if self._ordered else value

    def __getitem__(self, key: Any) -> list[Any]:
        found = self._got.get(key)
        if found is None:
            got = self._buckets.entity(key) if self._kind == "qe" else self._buckets.file(key)
            if got is None or not got[self._field]:
                raise KeyError(key)
            found = self._got[key] = self._value(got)
        return found

    def _keys(self) -> list[Any]:
        if self._all is None:
            found = [(self._first(got), key) for key, got in self._buckets.every(self._kind) if got[self._field]]
            self._all = [key for _o, key in sorted(found, key=lambda x: x[0])]
        return self._all

    def _first(self, got: list[Any]) -> int:
        return int(got[self._field][0][0]) if self._ordered else int(got[0])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys())

    def __len__(self) -> int:
        return self._count if self._count is not None and self._all is None else len(self._keys())


class _LinkList(Sequence[Link]):
    """The Snapshot's links (or possible links) in their order, read from every file bucket on first use
    (its length from the workspace record, without reading one)."""

    def __init__(self, buckets: Buckets, field: int, count: int | None = None):
        self._buckets, self._field = buckets, field
        self._all: list[Link] | None = None
        self._count = count

    def _items(self) -> list[Link]:
        if self._all is None:
            found = [x for _key, got in self._buckets.every("qf") for x in got[self._field]]
            self._all = [lk for _i, lk in sorted(found, key=lambda x: x[0])]
        return self._all

    def __getitem__(self, i: Any) -> Any:
        return self._items()[i]

    def __len__(self) -> int:
        return self._count if self._count is not None and self._all is None else len(self._items())

    def __iter__(self) -> Iterator[Link]:
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (list, _LinkList)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _records(store: Store, ws: Workspace, run: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    """The workspace record of run `run` and its per-repo records, or None (missing, of another run)."""
    whole = store.get(ws_key(ws))
    if not (isinstance(whole, dict) and whole.get("version") == VERSION and whole.get("run") == run
            and isinstance(whole.get("buckets"), int) and 0 < whole["buckets"] <= MAX_BUCKETS
            and isinstance(whole.get("tokens"), dict)):
        return None
    parts = {}
    for name in whole["parts"]:
        part = store.get(repo_key(ws, name))
        if not (isinstance(part, dict) and part.get("version") == VERSION
                and part.get("token") == whole["tokens"].get(f"q:{name}")):
            return None
        parts[name] = part
    return whole, parts


def load(store: Store, ws: Workspace, run: str, history: Callable[[dict[str, RepoInfo], dict[str, dict[str, Commit]],
                                                                    dict[str, HistoryGaps]], Any],
         loaded: Loaded = None) -> Snapshot | None:
    """The Snapshot saved by run `run`, or None when its records are missing, of another run or damaged.
    Entities and links are read from their buckets as queries look them up (`MissingRecord` when one is
    gone since). `history(repos, commits, gaps)` makes the Snapshot's history view. `loaded()` is called
    after each record read on demand (a long-lived process freezes what it holds: `lsp_server.memory`)."""
    got = _records(store, ws, run)
    if got is None:
        return None
    whole, parts = got
    repos: dict[str, RepoInfo] = dict(whole["repos"])
    buckets = Buckets(store, ws, whole["tokens"], whole["buckets"], loaded)
    where = {(name, path): sv for name, part in parts.items() for path, sv in part["files"].items()}
    saved_errors = whole["errors"]
    per_file = {key: errs for key, errs in saved_errors[0]} if isinstance(saved_errors, tuple) else None
    files = LazyFiles(store, where, loaded, per_file)
    commits: dict[str, dict[str, Commit]] = {}
    gaps: dict[str, HistoryGaps] = {}
    for name, info in repos.items():
        if info.root is None:
            continue
        saved = _saved_history(store, ws, name, info.head, loaded)
        if saved is not None:
            commits[name] = saved[0]  # type: ignore[assignment]
            if isinstance(saved[1], HistoryGaps):
                gaps[name] = saved[1]
            continue
        state = store.get(("h", name))
        if not (isinstance(state, dict) and isinstance(state.get("commits"), list)):
            return None
        if state.get("head") != info.head:
            return None  # the history record moved on since the run (another workspace with this repo)
        commits[name] = {c.sha: c for c in state["commits"] if isinstance(c, Commit)}
        if isinstance(state.get("gaps"), HistoryGaps):
            gaps[name] = state["gaps"]
    counted = whole.get("entities")
    links, possible = whole["count"]
    snap = Snapshot(repos=repos, files=files,  # type: ignore[arg-type]
                    entities=_Table(buckets, "qe", 1, False, counted if isinstance(counted, int) else None),  # type: ignore[arg-type]
                    links=_LinkList(buckets, 2, links), services=whole["services"], commits=commits,  # type: ignore[arg-type]
                    decisions=whole["decisions"], conflicts=whole["conflicts"], copies=whole["copies"],
                    possible=_LinkList(buckets, 3, possible), missing=whole["missing"],  # type: ignore[arg-type]
                    errors=_join_errors(whole["errors"]), history=history(repos, commits, gaps))
    snap.entities_by_file = _Table(buckets, "qf", 1, False)  # type: ignore[assignment]
    snap.links_by_file = _Table(buckets, "qf", 2, True)  # type: ignore[assignment]
    snap.links_by_entity = _Table(buckets, "qe", 2, True)  # type: ignore[assignment]
    snap.__dict__["_children"] = _Table(buckets, "qe", 3, False)
    snap.__dict__["_possible_by_file"] = _Table(buckets, "qf", 3, True)
    usage_keys = sorted((order, (n, p)) for n, part in parts.items() for order, p in part["usages"])
    marker_keys = sorted((order, (n, p)) for n, part in parts.items() for order, p in part["markers"])
    snap.usages_by_file = LazyLists(files, [k for _o, k in usage_keys], "usages")  # type: ignore[assignment]
    snap.markers_by_file = LazyLists(files, [k for _o, k in marker_keys], "markers")  # type: ignore[assignment]
    snap.__dict__["_team_notes"] = {name: part["notes"] for name, part in parts.items() if part["notes"]}
    # the `ops.*` usages in the Snapshot's file order (lore.query.ops reads them without every file's facts)
    snap.__dict__["_ops_usages"] = [u for _o, (n, p) in usage_keys for u in parts[n]["ops"].get(p, ())]
    return snap


# -- what the history view derives from a whole repo's commits ------------------------------------------
# Services that change together (`HistoryIndex.service_pairs`) are computed from every commit of every
# repo and the Snapshot's services, both fixed for one run: once a query has computed them from a loaded
# Snapshot they are kept for that run, and the next load starts with them.

def pairs_key(ws: Workspace, run: str) -> tuple[str, str, str]:
    return ("qsp", str(ws.root), run)


def seed_history(store: Store, ws: Workspace, run: str, history: Any) -> None:
    """Give a loaded Snapshot's history view the service pairs kept for `run`, if any."""
    kept = store.get(pairs_key(ws, run))
    if isinstance(kept, list) and getattr(history, "_service_pairs", False) is None:
        history._service_pairs = kept
        history.__dict__["_seeded_pairs"] = True


def keep_history(store: Store, ws: Workspace, run: str, history: Any) -> None:
    """Keep the service pairs a query computed from a loaded Snapshot, for the next load of `run`."""
    pairs = getattr(history, "_service_pairs", None)
    if pairs is None or getattr(history, "__dict__", {}).get("_seeded_pairs"):
        return
    try:
        store.set(pairs_key(ws, run), list(pairs))
    except CacheError:
        pass  # a saving only: the next query computes them again


# -- a few files changed: the records patched in place ------------------------------------------------
# When the files a run re-read declare exactly what they declared before (entities, services, decisions,
# team notes), had usages and markers before exactly when they have them now, and offer other files the
# same cross-file usages, nothing outside them changes: contract resolution, copies and services read
# only declarations and paths, and other files' links read only their own usages, the entities and the
# cross-file usages. Only the changed files' links, possible links, operational usages and errors change,
# so only the records holding them are rewritten (`patch`), under new tokens, with the workspace record.

@dataclass
class Patched:
    records: list[tuple[tuple[Any, ...], Any]]  # to write, in one transaction with the run's other records
    old: list[FileFacts]  # the changed files' facts before
    links: int  # links and possible links of the workspace after the patch
    possible: int


def patch(store: Store, ws: Workspace, run: str, new_run: str, changes: Sequence[tuple[FileFacts, str]]) -> Patched | None:
    """The records that turn run `run`'s into `new_run`'s for `changes` ((new facts, version key) per file),
    or None when a change is not one a patch can carry (see above). Writes nothing."""
    from indexers.linking import cross_file
    from indexers.snapshot import relink_file

    got = _records(store, ws, run)
    if got is None or not isinstance(got[0].get("errors"), tuple) or not isinstance(got[0].get("count"), list):
        return None
    whole, parts = got
    olds: list[FileFacts] = []
    for new, _vkey in changes:
        part = parts.get(new.repo)
        if part is None or new.path not in part["files"]:
            return None  # a new file: the services' languages count files
        sha, vkey = part["files"][new.path]
        old = store.facts(new.repo, new.path, sha, vkey)
        if not isinstance(old, FileFacts):
            return None
        olds.append(old)
        if ((old.entities, old.services, old.decisions, old.notes, old.language, old.generated)
                != (new.entities, new.services, new.decisions, new.notes, new.language, new.generated)):
            return None
        if (bool(old.usages), bool(old.markers)) != (bool(new.usages), bool(new.markers)):
            return None
        if part["cross"].get(new.path, []) != [u for u in new.usages if cross_file(u)]:
            return None
    n = whole["buckets"]
    buckets = Buckets(store, ws, whole["tokens"], n)
    entities: list[Entity] | None = None

    def all_entities() -> list[Entity]:
        nonlocal entities
        if entities is None:
            table = _Table(buckets, "qe", 1, False)
            entities = [e for ident in table for e in table[ident]]
        return entities

    order = sorted((o, (name, p)) for name, part in parts.items() for o, p in part["usages"])
    helpers = [u for _o, (name, p) in order for u in parts[name]["cross"].get(p, ())]
    next_link, next_possible = whole["next"]
    count = list(whole["count"])
    dirty: set[tuple[str, int]] = set()
    per_file, rest = whole["errors"]
    errors = dict(per_file)
    for new, vkey in changes:
        key = (new.repo, new.path)
        links, possible = relink_file(new, [u for u in helpers if (u.repo, u.path) != key], all_entities,
                                      whole["services"])
        fb = file_bucket(key, n)
        entry = _slot(buckets.items("qf", fb), key)
        count = [count[0] + len(links) - len(entry[2]), count[1] + len(possible) - len(entry[3])]
        numbered = list(zip(range(next_link, next_link + len(links)), links, strict=True))
        next_link += len(links)
        idents = {lk.entity for _i, lk in entry[2]} | {lk.entity for lk in links}
        for ident in idents:
            eb = entity_bucket(ident, n)
            eentry = _slot(buckets.items("qe", eb), ident)
            eentry[2] = [x for x in eentry[2] if (x[1].repo, x[1].path) != key] + [x for x in numbered if x[1].entity == ident]
            dirty.add(("qe", eb))
        entry[2] = numbered
        entry[3] = list(zip(range(next_possible, next_possible + len(possible)), possible, strict=True))
        next_possible += len(possible)
        dirty.add(("qf", fb))
        part = parts[new.repo]
        part["files"][new.path] = (new.sha256, vkey)
        ops = [u for u in new.usages if u.kind.startswith("ops.")]
        if ops:
            part["ops"][new.path] = ops
        else:
            part["ops"].pop(new.path, None)
        if new.errors:
            errors[key] = list(new.errors)
        else:
            errors.pop(key, None)
    changed_repos = {new.repo for new, _v in changes}
    tokens = dict(whole["tokens"])
    records: list[tuple[tuple[Any, ...], Any]] = []
    for name in changed_repos:
        tokens[f"q:{name}"] = new_run
        records.append((repo_key(ws, name), {**parts[name], "token": new_run}))
    for kind, b in sorted(dirty):
        tokens[f"{kind}:{b}"] = new_run
        records.append((bucket_key(ws, kind, b), {"version": VERSION, "token": new_run, "items": buckets.items(kind, b)}))
    repo_rank = {name: i for i, name in enumerate(whole["repos"])}  # a run's file order: repos, then paths
    file_errors = sorted(errors.items(), key=lambda kv: (repo_rank.get(kv[0][0], len(repo_rank)), kv[0][1]))
    kept = store.get(pairs_key(ws, run))  # services that change together: same services, same commits
    if isinstance(kept, list):
        records.append((pairs_key(ws, new_run), kept))
    records.append((ws_key(ws), {**whole, "run": new_run, "tokens": tokens, "errors": (file_errors, rest),
                                 "next": [next_link, next_possible], "count": count}))
    return Patched(records, olds, count[0], count[1])
