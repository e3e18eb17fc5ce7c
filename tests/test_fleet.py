"""`lore fleet index` on Dask's local engine: 50 generated repositories (file:// clones of real git repos)
cloned, indexed and published to a real S3-compatible server in parallel; a failing repo is retried and
summed up by reason while the others go on; a workspace then pulls them all and sees their links. The
clone is hardened: only the listed URL's protocol, no hooks, no submodules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexers import git
from tests.gitrepo import GitRepo
from tests.s3server import S3Server, moto_server

BUCKET = "fleet-lore"
STORE = f"s3://{BUCKET}/org"
PROTO = """syntax = "proto3";
package acme.svc{n}.v1;
service Svc{n} {{
  rpc Get(GetRequest) returns (GetResponse);
}}
message GetRequest {{ string id = 1; }}
message GetResponse {{ string name = 1; }}
"""
CLIENT = """import grpc
from acme.svc{n}.v1 import svc{n}_pb2, svc{n}_pb2_grpc


def fetch(target, ident):
    stub = svc{n}_pb2_grpc.Svc{n}Stub(grpc.insecure_channel(target))
    return stub.Get(svc{n}_pb2.GetRequest(id=ident))
"""


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_server() as server:
        server.make_bucket(BUCKET)
        yield server


def lore(s3: S3Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **s3.env})
    assert "Traceback" not in proc.stderr, proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def generate(base: Path, count: int) -> list[str]:
    """`count` repos: even ones declare a service, odd ones call the one before them."""
    lines = []
    for i in range(count):
        repo = GitRepo(base / f"repo-{i:02d}")
        n = i - i % 2
        files = {"api/svc.proto": PROTO.format(n=n)} if i % 2 == 0 else {"client.py": CLIENT.format(n=n)}
        repo.commit("initial", {**files, "README.md": f"# repo {i}\n"})
        repo.commit("hotfix: retry on timeout (INC-7)", {"README.md": f"# repo {i}\n\nretries\n"})
        lines.append(f"{repo.path.as_uri()}  # generated repo {i}")
    return lines


def test_fleet_index_50_repos_on_the_local_engine(s3: S3Server, tmp_path: Path) -> None:
    lines = generate(tmp_path / "src", 50)
    lines.append(f"{(tmp_path / 'src' / 'missing').as_uri()} missing")
    (tmp_path / "repos.txt").write_text("# the organisation\n" + "\n".join(lines) + "\n")
    proc = lore(s3, "fleet", "index", str(tmp_path / "repos.txt"), "--to", STORE, "--workers", "2", "--retries", "1",
                "--json", check=False)
    assert proc.returncode == 1, proc.stderr  # one repo failed
    doc = json.loads(proc.stdout)
    assert doc["total"] == 51 and doc["indexed"] == 50 and doc["workers"] == 2
    assert doc["failures_by_reason"] == {"clone": ["missing"]}
    assert "git clone failed" in doc["failures"][0]["reason"]
    assert "[51/51]" in proc.stderr  # progress, one line per finished repo
    first = next(r for r in doc["repos"] if r["name"] == "repo-00")
    assert first["files"] == 1 and first["facts"]["entity"] > 0 and first["published"].startswith(STORE + "/shards/repo-00/")
    listing = s3.client().list_objects_v2(Bucket=BUCKET, Prefix="org/index/")
    assert len(listing["Contents"]) == 50
    # a workspace that cloned none of them pulls the org and links clients to services
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "lore.toml").write_text(f'[shards]\nsource = "{STORE}"\n')
    pulled = json.loads(lore(s3, "shards", "pull", str(ws), "--json").stdout)
    assert len(pulled["updated"]) == 50 and pulled["failed"] == []
    graph = json.loads(lore(s3, "graph", str(ws), "--json").stdout)
    consumed = {(lk["repo"], lk["entity"]) for lk in graph["links"] if lk["role"] == "consumes"}
    assert ("repo-01", "proto:acme.svc0.v1.Svc0.Get") in consumed
    assert ("repo-49", "proto:acme.svc48.v1.Svc48.Get") in consumed

    # the organisation graph on Dask, the join split in 3 partitions by entity id, equals the one-process graph
    out = tmp_path / "org-graph"
    summary = json.loads(lore(s3, "fleet", "graph", "--from", STORE, "--out", str(out), "--partitions", "3",
                              "--chunk", "7", "--workers", "2", "--json").stdout)
    assert summary["repos"] == 50 and summary["chunks"] == 8 and summary["rejected"] == []
    parts = sorted((out / "links").glob("part-*.jsonl"))
    assert len(parts) == 3
    rows = [json.loads(line) for p in parts for line in p.read_text().splitlines()]
    org_links = {(s["repo"], s["path"], s["line"], role, r["entity"]) for r in rows
                 for role, sites in (("provides", r["providers"]), ("consumes", r["consumers"])) for s in sites}
    one_process = {(lk["repo"], lk["path"], lk["range"]["start_line"] + 1, lk["role"], lk["entity"]) for lk in graph["links"]}
    assert org_links == one_process and summary["links"] == len(one_process)
    entities = {json.loads(line)["id"] for line in (out / "entities.jsonl").read_text().splitlines()}
    assert entities == {e["id"] for e in graph["entities"]}


def test_clone_allows_only_the_named_protocol_and_runs_nothing(tmp_path: Path) -> None:
    for bad in ("ext::sh -c touch% /tmp/pwned", "fd::17", "relative/path", "-upload-pack=touch x", "ftp://host/repo"):
        with pytest.raises(git.GitError):
            git.clone_url(bad)
    assert git.clone_url("/srv/git/a.git") == ("file", "file:///srv/git/a.git")
    assert git.clone_url("git@github.com:acme/a.git")[0] == "ssh"
    # a repository whose submodule points elsewhere, and a hook that would mark a run
    sub = GitRepo(tmp_path / "sub")
    sub.commit("sub", {"x.txt": "x\n"})
    top = GitRepo(tmp_path / "top")
    top.commit("init", {"a.txt": "a\n"})
    top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.path.as_uri(), "vendor/sub")
    top.commit("add submodule")
    marker = tmp_path / "ran"
    hook = top.path / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    dest = tmp_path / "clone" / "top"
    sha = git.clone(top.path.as_uri(), dest, depth=1)
    assert sha == top.head() and (dest / "a.txt").read_text() == "a\n"
    assert not (dest / "vendor" / "sub" / "x.txt").exists()  # the submodule was not fetched
    assert not marker.exists() and not any((dest / ".git" / "hooks").glob("*"))
    assert git.is_shallow(dest)


def test_fleet_index_on_a_cluster_by_address(tmp_path: Path) -> None:
    """A Dask scheduler already running (here in this process, on loopback): `--scheduler ADDRESS` sends the
    work there; without a store the shards stay under --work."""
    from distributed import LocalCluster

    lines = generate(tmp_path / "src", 3)
    (tmp_path / "repos.txt").write_text("\n".join(lines) + "\n")
    with LocalCluster(n_workers=1, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None) as cluster:
        proc = subprocess.run([sys.executable, "-m", "lore", "fleet", "index", str(tmp_path / "repos.txt"),
                               "--scheduler", cluster.scheduler_address, "--work", str(tmp_path / "work"), "--json"],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["indexed"] == 3 and doc["workers"] == 1
    for i in range(3):
        assert (tmp_path / "work" / f"repo-{i:02d}" / f"repo-{i:02d}.lore-shard").is_file()
    usage = subprocess.run([sys.executable, "-m", "lore", "fleet", "index", str(tmp_path / "repos.txt")],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "--to" in usage.stderr
