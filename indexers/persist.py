"""The Snapshot saved as signed cache records, per repo, and loaded back without indexing.

After every full run the engine saves what queries read (`save`), beside the run's summary
(`indexers.summary`):

- per repo, `("q", <workspace root>, repo)`: the entity declarations in the repo's files, the links and
  possible links whose site is in it (each with its place in the Snapshot's order), the repo's team
  notes and `ops.*` usages, which of its files have usages or markers, and the content hash and version
  key of every file's facts;
- per workspace, `("qw", <workspace root>)`: the repos, what is missing, services, copies, conflicts,
  decisions and errors (small), and the order of entity ids.

Every record carries the run id of the summary written with it, so a load takes all of one run or
nothing. `load` rebuilds the Snapshot from them with the same entities, links and indexes as the run
built; the facts of a file (`files`, `usages_by_file`, `markers_by_file`) are read on first use from the
content-addressed fact record the saved hash names, so a query reads only the files it looks at. History
is the engine's usual lazy view over each repo's stored history record. Records are signed like every
cache record (indexers.store): nothing unsigned is ever unpickled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from indexers.model import Commit, Entity, FileFacts, HistoryGaps, Link
from indexers.snapshot import FileKey, RepoInfo, Snapshot
from indexers.store import CacheError, FileState, Store
from indexers.workspace import Workspace

VERSION = 1


class MissingRecord(LookupError):
    """A fact record the saved Snapshot names is gone from the cache (the caller indexes instead)."""


def ws_key(ws: Workspace) -> tuple[str, str]:
    return ("qw", str(ws.root))


def repo_key(ws: Workspace, repo: str) -> tuple[str, str, str]:
    return ("q", str(ws.root), repo)


def save(store: Store, ws: Workspace, snap: Snapshot, run: str, manifests: Mapping[str, dict[str, FileState]]) -> None:
    """Write the records of `snap` (built from `manifests`) for run `run`. Raises CacheError."""
    rank = {ident: i for i, ident in enumerate(snap.entities)}
    parts: dict[str, dict[str, Any]] = {}
    for name in snap.repos:
        manifest = manifests.get(name)
        if manifest is None:
            continue
        parts[name] = {"version": VERSION, "run": run, "entities": [], "links": [], "possible": [], "notes": [],
                       "ops": {}, "usages": [], "markers": [],
                       "files": {p: (st.sha256, st.vkey) for p, st in manifest.items()
                                 if st.sha256 and not st.status.startswith("skipped:")}}
    for ident, decls in snap.entities.items():
        for pos, e in enumerate(decls):
            if e.repo in parts:
                parts[e.repo]["entities"].append((rank[ident], pos, e))
    for field_name, items in (("links", snap.links), ("possible", snap.possible)):
        for i, lk in enumerate(items):
            if lk.repo in parts:
                parts[lk.repo][field_name].append((i, lk))
    for order, ((repo, path), usages) in enumerate(snap.usages_by_file.items()):
        if repo in parts:
            parts[repo]["usages"].append((order, path))
            ops = [u for u in usages if u.kind.startswith("ops.")]
            if ops:
                parts[repo]["ops"][path] = ops
    for order, (repo, path) in enumerate(snap.markers_by_file):
        if repo in parts:
            parts[repo]["markers"].append((order, path))
    for name, part in parts.items():
        part["notes"] = list(snap.team_notes(name))
    whole = {"version": VERSION, "run": run, "repos": snap.repos, "missing": snap.missing, "services": snap.services,
             "copies": snap.copies, "conflicts": snap.conflicts, "decisions": snap.decisions, "errors": snap.errors,
             "ids": list(snap.entities), "parts": sorted(parts)}
    for name, part in parts.items():
        store.set(repo_key(ws, name), part)
    store.set(ws_key(ws), whole)


class LazyFiles(Mapping[FileKey, FileFacts]):
    """File facts by (repo, path), each read from its fact record on first use."""

    def __init__(self, store: Store, where: dict[FileKey, tuple[str, str]]):
        self._store = store
        self._where = where
        self._got: dict[FileKey, FileFacts] = {}

    def __getitem__(self, key: FileKey) -> FileFacts:
        ff = self._got.get(key)
        if ff is None:
            sha, vkey = self._where[key]
            got = self._store.facts(key[0], key[1], sha, vkey)
            if not isinstance(got, FileFacts):
                raise MissingRecord(f"{key[0]}/{key[1]}: fact record missing from the cache")
            ff = self._got[key] = got
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


def load(store: Store, ws: Workspace, run: str, history: Callable[[dict[str, RepoInfo], dict[str, dict[str, Commit]],
                                                                    dict[str, HistoryGaps]], Any]) -> Snapshot | None:
    """The Snapshot saved by run `run`, or None when its records are missing, of another run or damaged.
    `history(repos, commits, gaps)` makes the Snapshot's history view."""
    whole = store.get(ws_key(ws))
    if not (isinstance(whole, dict) and whole.get("version") == VERSION and whole.get("run") == run):
        return None
    parts = {}
    for name in whole["parts"]:
        part = store.get(repo_key(ws, name))
        if not (isinstance(part, dict) and part.get("version") == VERSION and part.get("run") == run):
            return None
        parts[name] = part
    repos: dict[str, RepoInfo] = dict(whole["repos"])
    decls: list[tuple[int, int, Entity]] = [d for part in parts.values() for d in part["entities"]]
    decls.sort(key=lambda d: (d[0], d[1]))
    ids: list[str] = whole["ids"]
    entities: dict[str, list[Entity]] = {}
    for rank, _pos, e in decls:
        entities.setdefault(ids[rank], []).append(e)
    entities = {ident: entities[ident] for ident in ids if ident in entities}
    links: list[Link] = [lk for _i, lk in sorted((x for part in parts.values() for x in part["links"]), key=lambda x: x[0])]
    possible: list[Link] = [lk for _i, lk in sorted((x for part in parts.values() for x in part["possible"]), key=lambda x: x[0])]
    where = {(name, path): sv for name, part in parts.items() for path, sv in part["files"].items()}
    files = LazyFiles(store, where)
    commits: dict[str, dict[str, Commit]] = {}
    gaps: dict[str, HistoryGaps] = {}
    for name, info in repos.items():
        if info.root is None:
            continue
        state = store.get(("h", name))
        if not (isinstance(state, dict) and isinstance(state.get("commits"), list)):
            return None
        if state.get("head") != info.head:
            return None  # the history record moved on since the run (another workspace with this repo)
        commits[name] = {c.sha: c for c in state["commits"] if isinstance(c, Commit)}
        if isinstance(state.get("gaps"), HistoryGaps):
            gaps[name] = state["gaps"]
    snap = Snapshot(repos=repos, files=files, entities=entities, links=links,  # type: ignore[arg-type]
                    services=whole["services"], commits=commits, decisions=whole["decisions"],
                    conflicts=whole["conflicts"], copies=whole["copies"], possible=possible, missing=whole["missing"],
                    errors=whole["errors"], history=history(repos, commits, gaps))
    for decl_list in entities.values():
        for e in decl_list:
            snap.entities_by_file.setdefault((e.repo, e.path), []).append(e)
    for lk in links:
        snap.links_by_entity.setdefault(lk.entity, []).append(lk)
        snap.links_by_file.setdefault((lk.repo, lk.path), []).append(lk)
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
