"""The shard store end to end, through the CLI against a real S3-compatible server (moto's server mode,
started on loopback by the fixture): two repos publish their shards, a third workspace that cloned
neither pulls them and gets the cross-repo links and `lore check` consumers; a pull fetches only what
changed; a corrupt or truncated shard in the store is rejected with a clear message and the last good
one is kept; an unreachable store leaves the workspace working from its mirror."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3server import S3Server, moto_server

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "org-lore"
STORE = f"s3://{BUCKET}/shards"
P = "proto:shop.cart.v1."


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_server() as server:
        server.make_bucket(BUCKET)
        yield server


def lore(s3: S3Server, *args: str, cwd: Path | None = None, check: bool = True, extra_env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **s3.env, **(extra_env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def org(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example system: cart-service and checkout-service publish from their CI; the contracts
    team's workspace has only contracts checked out and pulls the rest from the store."""
    base = tmp_path_factory.mktemp("org")
    shop = base / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    (shop / "lore.toml").unlink()  # each repo is its own CI checkout
    for repo in ("cart-service", "checkout-service"):
        shard = base / "ci" / f"{repo}.lore-shard"
        lore(s3, "index", str(shop / repo), "--export", str(shard), "--json", "--cache", str(base / "ci-cache" / repo))
        out = lore(s3, "shards", "publish", str(shard), "--to", STORE, "--branch", "main", "--json").stdout
        assert json.loads(out)["repo"] == repo
    ws = base / "ws"
    ws.mkdir()
    shutil.move(shop / "contracts", ws / "contracts")
    (ws / "lore.toml").write_text(f'[[repo]]\nname = "contracts"\npath = "contracts"\n\n'
                                  f'[shards]\nsource = "{STORE}"\nrepos = ["*-service"]\n')
    return {"shop": shop, "ws": ws, "cache": base / "ws-cache", "base": base}


def _graph(s3: S3Server, org: dict[str, Path]) -> dict:
    return json.loads(lore(s3, "graph", str(org["ws"]), "--json", "--cache", str(org["cache"])).stdout)


def test_pull_gives_cross_repo_links_and_check_consumers(s3: S3Server, org: dict[str, Path]) -> None:
    pulled = json.loads(lore(s3, "shards", "pull", str(org["ws"]), "--json", "--cache", str(org["cache"])).stdout)
    assert sorted(u.split("@")[0] for u in pulled["updated"]) == ["cart-service", "checkout-service"]
    assert pulled["failed"] == [] and pulled["offline"] == ""
    graph = _graph(s3, org)
    links = {(lk["repo"], lk["path"], lk["range"]["start_line"] + 1, lk["role"], lk["entity"]) for lk in graph["links"]}
    assert ("checkout-service", "checkout/cart_client.py", 19, "consumes", P + "CartService.GetCart") in links
    assert ("checkout-service", "checkout/cart_client.py", 27, "consumes", P + "CartService.RemoveItem") in links
    assert any(r == "cart-service" and role == "provides" and e == P + "CartService.GetCart" for r, _p, _l, role, e in links)
    # a second pull fetches nothing: every index ETag is unchanged
    again = json.loads(lore(s3, "shards", "pull", str(org["ws"]), "--json", "--cache", str(org["cache"])).stdout)
    assert again["updated"] == [] and again["unchanged"] == 2
    # lore check in the contracts repo names the consumers in repos this workspace never cloned
    proto = org["ws"] / "contracts" / "proto" / "shop" / "cart" / "v1" / "cart.proto"
    original = proto.read_text()
    proto.write_text(original.replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""))
    try:
        proc = lore(s3, "check", str(org["ws"] / "contracts"), "--format", "json", check=False,
                    cwd=org["ws"], extra_env={"LORE_CACHE": str(org["cache"])})
    finally:
        proto.write_text(original)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    findings = json.loads(proc.stdout)
    text = json.dumps(findings)
    assert "RPC_NO_DELETE" in text and "checkout-service" in text and "cart_client.py" in text


def _consumer_links(graph: dict, repo: str) -> int:
    return sum(1 for lk in graph["links"] if lk["repo"] == repo)


def _republish_broken(s3: S3Server, org: dict[str, Path], repo: str, broken: bytes, *, size: int, sha: str) -> None:
    """Point the repo's index at a shard object holding `broken`, as a faulty uploader would."""
    key = f"shards/shards/{repo}/{'f' * 40}/{sha}.lore-shard"
    client = s3.client()
    client.put_object(Bucket=BUCKET, Key=key, Body=broken)
    index = {"format": "lore-shard-index", "version": 1, "repo": repo, "commit": "f" * 40, "branch": "main",
             "key": key, "sha256": sha, "size": size, "published": 0}
    client.put_object(Bucket=BUCKET, Key=f"shards/index/{repo}.json", Body=json.dumps(index).encode())


def test_corrupt_or_truncated_shard_is_rejected_and_the_last_good_one_kept(s3: S3Server, org: dict[str, Path]) -> None:
    lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]))
    before = _consumer_links(_graph(s3, org), "checkout-service")
    assert before > 0
    good = (org["base"] / "ci" / "checkout-service.lore-shard").read_bytes()
    # 1. truncated in transit or upload: the bytes do not match the digest the index names
    newer = gzip.compress(gzip.decompress(good), compresslevel=1, mtime=1)
    _republish_broken(s3, org, "checkout-service", newer[: len(newer) // 2], size=len(newer),
                      sha=hashlib.sha256(newer).hexdigest())
    proc = lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]))
    assert "corrupt or truncated" in proc.stderr and "keeping the last good shard of checkout-service" in proc.stderr
    assert _consumer_links(_graph(s3, org), "checkout-service") == before
    # 2. published truncated (the digest matches the broken bytes): the gzip stream ends early
    cut = good[: len(good) - 20]
    _republish_broken(s3, org, "checkout-service", cut, size=len(cut), sha=hashlib.sha256(cut).hexdigest())
    proc = lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]), "--strict", check=False)
    assert proc.returncode == 1
    assert "truncated" in proc.stderr and "keeping the last good shard of checkout-service" in proc.stderr
    # 3. corrupt content: valid gzip, but not a shard's structure
    bad = gzip.compress(json.dumps({"format": "lore-shard", "schema": json.loads(gzip.decompress(good))["schema"],
                                    "repo": "checkout-service", "commit": "f" * 40, "files": [{"repo": "checkout-service"}]}).encode())
    _republish_broken(s3, org, "checkout-service", bad, size=len(bad), sha=hashlib.sha256(bad).hexdigest())
    proc = lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]))
    assert "malformed shard: files[0]: missing key 'path'" in proc.stderr
    assert _consumer_links(_graph(s3, org), "checkout-service") == before
    # the good shard published again: the index names the digest the mirror already has, nothing to fetch
    lore(s3, "shards", "publish", str(org["base"] / "ci" / "checkout-service.lore-shard"), "--to", STORE)
    out = json.loads(lore(s3, "shards", "pull", str(org["ws"]), "--json", "--cache", str(org["cache"])).stdout)
    assert out["updated"] == [] and out["unchanged"] == 2 and out["failed"] == []


def test_unreachable_store_keeps_the_mirror_working(s3: S3Server, org: dict[str, Path]) -> None:
    lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]))
    dead = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    proc = lore(s3, "shards", "pull", str(org["ws"]), "--cache", str(org["cache"]), extra_env=dead)
    assert "store unreachable" in proc.stderr and "using the 2 shard(s) pulled before" in proc.stderr
    graph = json.loads(lore(s3, "graph", str(org["ws"]), "--json", "--cache", str(org["cache"]), extra_env=dead).stdout)
    assert _consumer_links(graph, "checkout-service") > 0


def test_publish_refuses_a_bad_shard_and_usage_errors(s3: S3Server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.lore-shard"
    bad.write_bytes(b"not gzip")
    proc = lore(s3, "shards", "publish", str(bad), "--to", STORE, check=False)
    assert proc.returncode == 2 and str(bad) in proc.stderr and "not a readable Lore shard" in proc.stderr
    proc = lore(s3, "shards", "publish", str(bad), "--to", "ftp://x/y", check=False)
    assert proc.returncode == 1 and "not a shard store URL" in proc.stderr
    (tmp_path / "lore.toml").write_text('[shards]\nsource = "https://example.org"\n')
    proc = lore(s3, "shards", "pull", str(tmp_path), check=False)
    assert proc.returncode == 2 and "lore.toml" in proc.stderr and "'source'" in proc.stderr


async def test_server_pulls_the_store_and_marks_shard_consumers(s3: S3Server, org: dict[str, Path], tmp_path: Path) -> None:
    """`lore serve` over stdio with an empty cache: it pulls [shards] before its first index, so a hover
    on the contract names the consumers in repos never cloned, marked as coming from their shards."""
    from lsprotocol import types as t
    from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

    from tests.lsp_helpers import open_doc

    client: LanguageClient = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "lsp_server", env={**os.environ, **s3.env})
    try:
        await client.initialize_session(t.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=org["ws"].as_uri(),
            workspace_folders=[t.WorkspaceFolder(org["ws"].as_uri(), "ws")],
            initialization_options={"cacheDir": str(tmp_path / "server-cache")}))
        stats = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="lore.reindex"))
        assert stats["links"] > 10, (stats, [m.message for m in client.messages], [m.message for m in client.log_messages][-10:])
        proto = org["ws"] / "contracts" / "proto" / "shop" / "cart" / "v1" / "cart.proto"
        open_doc(client, proto, "proto")
        line = next(i for i, text in enumerate(proto.read_text().split("\n")) if "rpc GetCart(" in text)
        hover = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(proto.as_uri()),
                                                                     t.Position(line, 7)))
        assert hover is not None
        text = hover.contents.value.replace("\\", "")  # markdown escapes aside
        consumers = next(line for line in text.split("\n") if line.startswith("- **Consumers**"))
        assert "checkout-service `cart_client.py:19`" in consumers and "[from shard checkout-service@" in consumers
    finally:
        await client.shutdown_session()
