"""Faults: the indexer killed at random points, damaged cache records, two indexers at once, a full disk.

Each test drives the real CLI in subprocesses and checks the three promises of the cache: it stays
consistent (the next open passes SQLite's integrity check and moves nothing aside), the next run
completes, and nothing indexed before is lost (the final `lore graph --json` equals one built from a
clean cache).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from indexers.engine import Engine
from indexers.model import SCHEMA_VERSION
from indexers.store import FileState, Store, encode_key
from indexers.workspace import discover
from lore.query import context as query
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "lore"]


def lore(*args: str, check: bool = True, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=180, preexec_fn=preexec)
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


def index(path: Path, cache: Path, *extra: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(lore("index", str(path), "--json", "--cache", str(cache), *extra).stdout)
    return out


def graph(path: Path, cache: Path) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(lore("graph", str(path), "--json", "--cache", str(cache)).stdout)
    return out


def proto(i: int) -> str:
    return (f'syntax = "proto3";\npackage gen.p{i}.v1;\n\nservice S{i} {{\n  rpc Get{i}(Req{i}) returns (Resp{i});\n}}\n'
            f"message Req{i} {{\n  string id = 1;\n  int64 n = 2;\n}}\nmessage Resp{i} {{\n  repeated string items = 1;\n}}\n")


def python(i: int) -> str:
    return (f"import grpc\nfrom gen.p{i}.v1 import p{i}_pb2_grpc\n\n\ndef call_{i}(channel):\n"
            f"    # TODO(#{i}): retry on UNAVAILABLE\n    stub = p{i}_pb2_grpc.S{i}Stub(channel)\n"
            f"    return stub.Get{i}(None)\n")


def openapi(i: int) -> str:
    return (f"openapi: 3.0.3\ninfo:\n  title: api{i}\n  version: '1'\npaths:\n  /items{i}/{{id}}:\n    get:\n"
            f"      operationId: getItem{i}\n      responses:\n        '200':\n          description: ok\n")


def generated_repo(path: Path, n: int) -> GitRepo:
    """A repo of about `n` files in three formats (contracts, code, specs) with a few commits."""
    repo = GitRepo(path)
    third = n // 3
    repo.commit("contracts", {f"proto/p{i}/api.proto": proto(i) for i in range(third)})
    repo.commit("clients", {f"src/client_{i}.py": python(i) for i in range(third)})
    repo.commit("specs", {f"specs/api{i}.yaml": openapi(i) for i in range(n - 2 * third)})
    return repo


def assert_consistent(cache: Path) -> None:
    """The cache opens with its integrity check passing and nothing is moved aside."""
    store = Store(cache)
    try:
        assert store.messages == [], store.messages
    finally:
        store.close()
    assert not [p for p in cache.iterdir() if ".corrupt-" in p.name]


# -- SIGKILL at random points ------------------------------------------------------------------------

N_FILES = 200


def _kill_after(args: list[str], delay: float, until: Callable[[], bool] | None = None) -> int | None:
    """Start `lore ...` in its own process group and SIGKILL the whole group (workers included, as an OOM
    killer or a closed laptop lid would) after `delay` seconds, or as soon as `until()` holds. Returns the
    exit code when the run finished before the kill, else None."""
    proc = subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and not (until is not None and until()):
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return None


def _grew(cache: Path, before: int) -> bool:
    return _records(cache) > before


def _records(cache: Path) -> int:
    """How many records the cache holds right now (read-only, beside a running writer)."""
    db = cache / f"v{SCHEMA_VERSION}" / "cache.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM Cache").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], float]:
    """A generated repo of N_FILES files, its reference graph from a clean cache, and how long a cold index took."""
    root = tmp_path_factory.mktemp("big")
    repo = generated_repo(root / "big", N_FILES)
    t0 = time.monotonic()
    first = index(repo.path, root / "ref-cache")
    cold = time.monotonic() - t0
    assert first["files"]["indexed"] == N_FILES and first["files"]["failed"] == []
    return repo.path, graph(repo.path, root / "ref-cache"), cold


# Kill points as fractions of a cold run: start-up and discovery, extraction, batch writes, linking.
KILL_FRACTIONS = (0.3, 0.75, 0.95)


def test_killed_first_index_resumes_and_loses_nothing(big_repo: tuple[Path, dict[str, Any], float], tmp_path: Path) -> None:
    path, reference, cold = big_repo
    cache = tmp_path / "cache"
    rng = random.Random(1234)
    args = ["index", str(path), "--json", "--cache", str(cache)]
    killed = 0
    for frac in KILL_FRACTIONS:
        if _kill_after(args, cold * frac * rng.uniform(0.9, 1.1)) is None:
            killed += 1
        assert_consistent(cache)
        # One more kill as soon as the first extracted batch is stored: mid-extraction, mid-writes.
        stored = _records(cache)
        if _kill_after(args, cold * 2, until=partial(_grew, cache, stored)) is None:
            killed += 1
        assert_consistent(cache)
    assert killed >= 2, "the first kills (start-up, first stored batch) must interrupt their runs"
    final = index(path, cache)
    assert final["messages"] == [], final["messages"]
    assert final["files"]["failed"] == []
    assert final["files"]["indexed"] + final["files"]["unchanged"] == N_FILES
    assert final["files"]["unchanged"] > 0, "records stored before a kill are reused (resume, not restart)"
    assert graph(path, cache) == reference
    assert_consistent(cache)


def test_killed_reindex_keeps_the_previous_index(big_repo: tuple[Path, dict[str, Any], float], tmp_path: Path) -> None:
    path, reference, cold = big_repo
    cache = tmp_path / "cache"
    index(path, cache)
    for frac in KILL_FRACTIONS[1:]:
        _kill_after(["index", str(path), "--json", "--force", "--cache", str(cache)], cold * frac)
        assert_consistent(cache)
    # Every record of the complete run survived the interrupted --force runs: nothing is re-extracted.
    after = index(path, cache)
    assert after["files"]["indexed"] == 0, after["files"]
    assert after["files"]["unchanged"] == N_FILES
    assert graph(path, cache) == reference


# -- damaged records ---------------------------------------------------------------------------------

SMALL_FILES = 6

def _small_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "small")
    files: dict[str, str | bytes] = {f"proto/p{i}.proto": proto(i) for i in range(4)}
    # One file with enough facts that its record is kept in a value file beside the database.
    wide = "\n".join(f"  string f{j} = {j + 1};" for j in range(300))
    repo.commit("init", {**files, "src/c.py": python(0), "proto/wide.proto": f"syntax = \"proto3\";\npackage wide;\nmessage W {{\n{wide}\n}}\n"})
    return repo


def _rewrite(cache: Path, fn: Callable[[Store], None]) -> None:
    store = Store(cache)
    try:
        fn(store)
    finally:
        store.close()


def _keys(store: Store, kind: str) -> list[tuple[Any, ...]]:
    keys = [tuple(json.loads(k)) for k in store._cache.iterkeys()]  # noqa: SLF001 - keys are JSON text
    return [k for k in keys if k and k[0] == kind]


def _set_all(kind: str, value: Callable[[Any], Any]) -> Callable[[Store], None]:
    def fn(store: Store) -> None:
        for key in _keys(store, kind):
            store.set(key, value(store.get(key)))
    return fn


def _garbage_value_files(store: Store) -> None:
    """Overwrite every value file diskcache keeps beside the database (large records) with garbage."""
    files = list(store.path.rglob("*.val"))
    assert files, "the fixture should have records in value files"
    for p in files:
        p.write_bytes(b"\x80\x05garbage" + os.urandom(64))


def _pickle_garbage_in_db(store: Store) -> None:
    """Every value stored inside the database (all but the header) becomes garbage: a signed record
    whose pickle is garbage, so that the MAC verifies and unpickling fails."""
    for key in [tuple(json.loads(k)) for k in store._cache.iterkeys()]:  # noqa: SLF001
        if key != ("meta",):
            blob = b"\x80\x05\x95garbage"
            store._cache._sql("UPDATE Cache SET value = ? WHERE mode = 1 AND key = ?",  # noqa: SLF001
                              (store._mac(key, blob) + blob, encode_key(key)))  # noqa: SLF001


# Each variant damages the cache of an indexed repo in a different way (records of the wrong type, values
# that no longer unpickle, a wrong header); the next run must complete with the same graph.
CORRUPTIONS: dict[str, Callable[[Store], None]] = {
    "manifest_not_a_dict": _set_all("m", lambda v: ["not", "a", "manifest"]),
    "manifest_values_wrong_type": _set_all("m", lambda v: {p: "garbage" for p in v}),
    "manifest_state_fields_wrong": _set_all("m", lambda v: {p: FileState("big", None, 3, 4, 5) for p in v}),  # type: ignore[arg-type]
    "facts_wrong_type": _set_all("f", lambda v: 42),
    "facts_other_dataclass": _set_all("f", lambda v: FileState(1, 2, "x", "y", "indexed")),
    "history_wrong_commits": _set_all("h", lambda v: {"head": v["head"], "commits": [1, "two"]}),
    "history_not_a_list": _set_all("h", lambda v: {"head": v["head"], "commits": "abc"}),
    "history_head_wrong_type": _set_all("h", lambda v: {"head": 5, "commits": v["commits"]}),
    "header_not_a_dict": lambda s: s.set(("meta",), "not a header"),
    "header_other_schema": lambda s: s.set(("meta",), {"schema": 999}),
    "pickle_garbage_in_db": _pickle_garbage_in_db,
    "value_files_garbage": _garbage_value_files,
}


def index_here(path: Path, cache: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Index in this process (the same engine the CLI runs, minus interpreter start-up): report, graph."""
    store = Store(cache)
    try:
        snap, report = Engine(discover(path), store, jobs=1).refresh()
        return report.as_json(), query.graph(snap)
    finally:
        store.close()


@pytest.fixture(scope="module")
def small_indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("small")
    repo = _small_repo(root)
    _report, reference = index_here(repo.path, root / "ref-cache")
    return repo.path, root / "ref-cache", reference


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_damaged_records_are_dropped_not_fatal(name: str, small_indexed: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    path, ref_cache, reference = small_indexed
    cache = tmp_path / "cache"
    shutil.copytree(ref_cache, cache)
    _rewrite(cache, CORRUPTIONS[name])
    # First with nothing changed (the fast path must not trust a damaged record), then with every
    # file's stat changed (manifest entries are re-checked against the per-file records).
    doc, got = index_here(path, cache)
    assert got == reference
    assert doc["files"]["failed"] == [] and doc["files"]["indexed"] + doc["files"]["unchanged"] == SMALL_FILES
    _rewrite(cache, CORRUPTIONS[name])
    for p in path.rglob("*.proto"):
        os.utime(p, ns=(time.time_ns(), time.time_ns()))
    doc, got = index_here(path, cache)
    assert got == reference
    assert doc["files"]["failed"] == [] and doc["files"]["indexed"] + doc["files"]["unchanged"] == SMALL_FILES
    if name.startswith("header_"):
        # A wrong header is the one damage that moves the whole cache aside (with a message).
        assert any("moved aside" in m for m in doc["messages"]), doc["messages"]
    else:
        assert_consistent(cache)


def test_damaged_cache_through_the_cli(small_indexed: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> None:
    path, ref_cache, _reference = small_indexed
    cache = tmp_path / "cache"
    shutil.copytree(ref_cache, cache)
    _rewrite(cache, CORRUPTIONS["manifest_values_wrong_type"])
    _rewrite(cache, CORRUPTIONS["facts_wrong_type"])
    proc = lore("index", str(path), "--json", "--cache", str(cache), check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["files"]["failed"] == []


def test_store_get_never_raises_on_garbage(tmp_path: Path) -> None:
    """Unpickling garbage raises many exception types (UnpicklingError, KeyError, IndexError, struct.error,
    ImportError, ...); every one must be a dropped record, never an exception."""
    store = Store(tmp_path / "c")
    try:
        rng = random.Random(7)
        for i in range(GARBAGE_RECORDS):
            key = ("f", "repo", f"p{i}", "sha", "v")
            store.set(key, {"a": [1, 2, 3]})
            blob = rng.choice([b"\x80\x05", b"\x80\x04", b"c", b"("]) + rng.randbytes(rng.randint(0, 40))
            signed = i % 2 == 0  # half verify and then fail to unpickle; half fail the MAC
            value = store._mac(key, blob) + blob if signed else blob  # noqa: SLF001
            store._cache._sql("UPDATE Cache SET value = ? WHERE key = ?", (value, encode_key(key)))  # noqa: SLF001
            got = store.get(key, "missing")
            assert got == "missing" or not isinstance(got, Exception)
        assert sum("unreadable" in m for m in store.messages) > GARBAGE_RECORDS // 4
        assert any("not signed with your cache key" in m for m in store.messages)
    finally:
        store.close()


GARBAGE_RECORDS = 200


# -- two indexers at once ----------------------------------------------------------------------------

def test_two_cli_processes_index_the_same_workspace(big_repo: tuple[Path, dict[str, Any], float], tmp_path: Path) -> None:
    path, reference, _cold = big_repo
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([*CLI, "index", str(path), "--json", "--cache", str(cache)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
        doc = json.loads(out)
        assert doc["files"]["failed"] == [] and doc["files"]["indexed"] + doc["files"]["unchanged"] == N_FILES
        assert not [m for m in doc["messages"] if "unreadable" in m or "cannot" in m], doc["messages"]
    assert_consistent(cache)
    assert index(path, cache)["files"]["indexed"] == 0
    assert graph(path, cache) == reference


# -- a full disk ---------------------------------------------------------------------------------------

def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _largest_file(folder: Path) -> int:
    return max((p.stat().st_size for p in folder.rglob("*") if p.is_file()), default=0)


@pytest.mark.parametrize("headroom", [1, 200_000])
def test_disk_full_is_a_clear_error_and_keeps_the_previous_cache(headroom: int, tmp_path: Path) -> None:
    """headroom 1: the cache cannot even be opened for writing (SQLite's WAL cannot grow); 200 kB: it
    opens and fails part way through writing the new records."""
    repo = _small_repo(tmp_path)
    cache = tmp_path / "cache"
    index(repo.path, cache)
    reference = graph(repo.path, cache)
    # New content with many facts, so that the run has to write more than the limit allows (one file's
    # fact record alone is larger than the largest file of the cache before).
    fields = "\n".join(f"  string field_{j} = {j + 1};" for j in range(6000))
    repo.write({f"proto/big{i}.proto": f'syntax = "proto3";\npackage big{i};\nmessage Big {{\n{fields}\n}}\n' for i in range(3)})
    limit = _largest_file(cache) + headroom
    proc = lore("index", str(repo.path), "--json", "--cache", str(cache), "--force", check=False,
                preexec=_file_size_limit(limit))
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    if headroom == 1:
        assert proc.returncode == 1 and proc.stderr.startswith("lore: cannot open the cache"), proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr[-3000:]
        doc = json.loads(proc.stdout)
        assert doc["files"]["indexed"] == SMALL_FILES + 3  # the run itself completes; only saving it failed
        assert any("cannot write the cache" in m for m in doc["messages"]), doc["messages"]
    assert not [p for p in cache.iterdir() if ".corrupt-" in p.name], "a full disk is not a damaged cache"
    # The previous cache is still there and usable; with space again, the next run completes.
    for p in repo.path.glob("proto/big*.proto"):
        p.unlink()
    assert_consistent(cache)
    assert graph(repo.path, cache) == reference


def test_disk_full_on_a_new_cache(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path)
    proc = lore("index", str(repo.path), "--json", "--cache", str(tmp_path / "cache"), check=False,
                preexec=_file_size_limit(4096))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.startswith("lore: cannot open the cache"), proc.stderr
