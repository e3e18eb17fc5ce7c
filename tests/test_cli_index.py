"""Foundation through the CLI: discovery and ignore rules, incremental re-index, --force, corrupt-cache
recovery, shard export/import, workspace errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepo

PROTO = """syntax = "proto3";
package shop.cart.v1;
service CartService {
  rpc GetCart(GetCartRequest) returns (Cart);
}
message GetCartRequest { string user_id = 1; }
message Cart { repeated string items = 1; }
"""


def lore(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def index_json(path: Path, *extra: str, cache: Path | None = None) -> dict:
    args = ["index", str(path), "--json", *extra]
    if cache is not None:
        args += ["--cache", str(cache)]
    return json.loads(lore(*args).stdout)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "cart")
    r.commit("initial", {
        "proto/cart.proto": PROTO,
        "proto/other.proto": PROTO.replace("shop.cart.v1", "shop.other.v1"),
        "README.md": "# cart\n",
        ".gitignore": "build/\n*.log\n",
        "node_modules/dep/x.proto": PROTO,
        "gen/cart_pb2.py": "# generated\n",
        ".env": "API_TOKEN=hunter2\n",
        "keys/server.pem": "-----BEGIN PRIVATE KEY-----\n",
        "proto/blob.proto": b"\x00\x01\x02binary\x00" * 10,
    })
    # ignored and untracked files
    r.write({"build/out.proto": PROTO, "debug.log": "x", "proto/untracked.proto": PROTO.replace("shop.cart.v1", "shop.untracked.v1")})
    r.write({"proto/huge.proto": "// " + "x" * 3_000_000 + "\n"})
    (r.path / "proto" / "link.proto").symlink_to("/etc/passwd")
    return r


def test_discovery_and_skip_reasons(repo: GitRepo) -> None:
    out = index_json(repo.path)
    files = out["files"]
    assert files["indexed"] == 3, files  # cart.proto, other.proto, untracked.proto
    assert files["unchanged"] == 0
    skipped = files["skipped"]
    assert skipped["secret"] == 2  # .env, server.pem: never read
    assert skipped["vendored"] == 1  # node_modules
    assert skipped["generated"] == 1  # *_pb2.py
    assert skipped["binary"] == 1
    assert skipped["too_large"] == 1
    assert skipped["symlink"] == 1
    assert "build/out.proto" not in json.dumps(out)  # .gitignore holds
    assert out["repos"][0]["name"] == "cart"
    assert out["facts"]["entity"] > 0
    assert files["failed"] == []


def test_incremental_reindex_and_force(repo: GitRepo) -> None:
    first = index_json(repo.path)
    assert first["files"]["indexed"] == 3
    second = index_json(repo.path)
    assert second["files"]["indexed"] == 0
    assert second["files"]["unchanged"] == 3
    # touching without changing content re-reads but does not re-extract
    os.utime(repo.path / "proto/other.proto", ns=(1, 1))
    touched = index_json(repo.path)
    assert touched["files"]["indexed"] == 0 and touched["files"]["unchanged"] == 3
    # one file changed: exactly one re-indexed
    (repo.path / "proto/cart.proto").write_text(PROTO.replace("user_id = 1", "user_id = 1; string note = 2"))
    third = index_json(repo.path)
    assert third["files"]["indexed"] == 1, third
    assert third["files"]["unchanged"] == 2
    forced = index_json(repo.path, "--force")
    assert forced["files"]["indexed"] == 3 and forced["files"]["unchanged"] == 0


def test_cache_location_and_permissions(repo: GitRepo, tmp_path: Path) -> None:
    cache = tmp_path / "mycache"
    index_json(repo.path, cache=cache)
    vdirs = [p for p in cache.iterdir() if p.name.startswith("v")]
    assert len(vdirs) == 1
    assert (cache.stat().st_mode & 0o777) == 0o700
    assert (vdirs[0].stat().st_mode & 0o777) == 0o700
    # Lore never writes into the indexed repository
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=repo.path, capture_output=True, text=True).stdout
    assert ".lore" not in status and "cache" not in status


def test_corrupt_cache_is_moved_aside_and_rebuilt(repo: GitRepo, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    index_json(repo.path, cache=cache)
    vdir = next(p for p in cache.iterdir() if p.name.startswith("v"))
    (vdir / "cache.db").write_bytes(b"this is not a database" * 100)
    out = index_json(repo.path, cache=cache)
    assert out["files"]["indexed"] == 3
    assert any("unreadable" in m and "moved aside" in m for m in out["messages"]), out["messages"]
    assert any(p.name.startswith(vdir.name + ".corrupt-") for p in cache.iterdir())
    again = index_json(repo.path, cache=cache)
    assert again["files"]["unchanged"] == 3 and again["messages"] == []


def test_truncated_cache_is_recovered(repo: GitRepo, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    index_json(repo.path, cache=cache)
    db = next(p for p in cache.iterdir() if p.name.startswith("v")) / "cache.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    out = index_json(repo.path, cache=cache)
    assert out["files"]["indexed"] + out["files"]["unchanged"] == 3


def test_shard_export_import_round_trip(tmp_path: Path) -> None:
    contracts = GitRepo(tmp_path / "ci" / "contracts")
    contracts.commit("add proto", {"cart.proto": PROTO})
    shard = tmp_path / "shards" / "contracts.lore-shard"
    out = index_json(contracts.path, "--export", str(shard))
    assert shard.exists() and any("exported" in m for m in out["messages"])
    # an editor's workspace: one checked-out repo plus the shard of a repo it never cloned
    ws = tmp_path / "ws"
    app = GitRepo(ws / "app")
    app.commit("init", {"api.proto": PROTO.replace("shop.cart.v1", "shop.app.v1")})
    (ws / "lore.toml").write_text('[[repo]]\nname = "app"\npath = "app"\n\n[[shard]]\npath = "../shards/contracts.lore-shard"\n')
    graph = json.loads(lore("graph", str(ws), "--json").stdout)
    repos = {e["repo"] for e in graph["entities"]}
    assert repos == {"app", "contracts"}
    ids = {e["id"] for e in graph["entities"] if e["repo"] == "contracts"}
    assert "proto:shop.cart.v1.CartService.GetCart" in ids
    rpc = next(e for e in graph["entities"] if e["id"] == "proto:shop.cart.v1.CartService.GetCart")
    assert rpc["path"] == "cart.proto" and rpc["range"]["start_line"] == 3


def test_bad_shard_is_a_message_not_a_crash(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    app = GitRepo(ws / "app")
    app.commit("init", {"api.proto": PROTO})
    (ws / "bad.lore-shard").write_bytes(b"garbage")
    (ws / "lore.toml").write_text('[[repo]]\npath = "app"\n[[shard]]\npath = "bad.lore-shard"\n')
    out = index_json(ws)
    assert out["files"]["indexed"] == 1
    assert any("bad.lore-shard" in m and "not a readable Lore shard" in m for m in out["messages"])


def test_lore_toml_errors_name_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "lore.toml").write_text('[[repo]]\nname = "a"\npath = "a"\n\n[[repo]]\nname = "b"\n')
    proc = lore("index", str(tmp_path), check=False)
    assert proc.returncode == 2
    assert "lore.toml:5" in proc.stderr and "'path'" in proc.stderr
    assert "Traceback" not in proc.stderr
    (tmp_path / "lore.toml").write_text('[[repo]]\npath = "a"\n[index]\nmax_file_size = "lots"\n')
    proc = lore("index", str(tmp_path), check=False)
    assert proc.returncode == 2 and "lore.toml:4" in proc.stderr and "max_file_size" in proc.stderr
    (tmp_path / "lore.toml").write_text('[[repo]\npath = "a"\n')
    proc = lore("index", str(tmp_path), check=False)
    assert proc.returncode == 2 and "line 1" in proc.stderr


def test_folder_of_checkouts_and_not_a_repo(tmp_path: Path) -> None:
    GitRepo(tmp_path / "org" / "one").commit("a", {"a.proto": PROTO})
    GitRepo(tmp_path / "org" / "two").commit("b", {"b.proto": PROTO.replace("shop.cart.v1", "shop.two")})
    (tmp_path / "org" / "notes").mkdir()
    out = index_json(tmp_path / "org")
    assert sorted(r["name"] for r in out["repos"]) == ["one", "two"]
    assert out["files"]["indexed"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = lore("index", str(empty), check=False)
    assert proc.returncode == 2 and "not a git repository" in proc.stderr


def test_context_on_a_contract_line(repo: GitRepo) -> None:
    out = lore("context", f"{repo.path}/proto/cart.proto:4").stdout
    assert "proto:shop.cart.v1.CartService.GetCart" in out
    assert "[cart/proto/cart.proto:4]" in out
    doc = json.loads(lore("context", f"{repo.path}/proto/cart.proto:4:9", "--json").stdout)
    assert doc["entity_ids"] == ["proto:shop.cart.v1.CartService.GetCart"]
    names = [s["name"] for s in doc["sections"]]
    assert names[:3] == ["service", "contract", "links"]
    bad = lore("context", "nope.proto", check=False)
    assert bad.returncode != 0 and "expected FILE:LINE" in bad.stderr


def test_help_on_every_command() -> None:
    for cmd in ("index", "context", "graph", "serve"):
        assert "Usage:" in lore(cmd, "--help").stdout


def test_the_integrity_check_runs_whenever_the_database_changed_since_a_clean_close(repo: GitRepo, tmp_path: Path,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick check reads the whole database; a cache left as the last process closed it skips it, and
    any change since (a write, a page damaged in place, even one that keeps its size) runs it again."""
    from indexers.store import Store

    cache = tmp_path / "c"
    index_json(repo.path, cache=cache)  # the CLI closes its cache at exit: the stamp is written
    checks: list[bool] = []
    real = Store._verify

    def counting(self: Store, db: Any, known: bool = False) -> None:
        checks.append(not known)
        real(self, db, known)

    monkeypatch.setattr(Store, "_verify", counting)
    Store(cache).close()
    Store(cache).close()
    assert checks == [False, False]  # left as closed: no quick check
    db = next(p for p in cache.iterdir() if p.name.startswith("v")) / "cache.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64  # a damaged page, same size
    db.write_bytes(bytes(data))
    Store(cache).close()
    assert checks[-1] is True  # changed since the close: checked (and moved aside when the check fails)


def test_facts_extracted_by_workers_read_back_as_linked(tmp_path: Path) -> None:
    """With a process pool, every record the run stored reads back, verified, as the facts it linked, and
    a second run re-reads nothing."""
    from indexers.engine import Engine
    from indexers.store import Store
    from indexers.workspace import discover

    repo = GitRepo(tmp_path / "many")
    files = {f"proto/p{i}.proto": PROTO.replace("shop.cart.v1", f"shop.p{i}.v1") for i in range(60)}
    files.update({f"src/c{i}.py": f"import requests\nrequests.get('http://cart/v{i}')\n" for i in range(20)})
    repo.commit("many files", files)
    cache = tmp_path / "c"
    snap, report = Engine(discover(repo.path), Store(cache), jobs=2, isolate=True).refresh()
    assert report.indexed == 80 and not report.failed
    store = Store(cache)
    manifest = store.manifest(repo.path.name)
    for (name, path), ff in snap.files.items():
        st = manifest[path]
        assert store.facts(name, path, st.sha256, st.vkey) == ff
    assert store.messages == []  # nothing dropped as unsigned
    _snap, again = Engine(discover(repo.path), Store(cache), jobs=2, isolate=True).refresh()
    assert again.indexed == 0 and again.unchanged == 80
