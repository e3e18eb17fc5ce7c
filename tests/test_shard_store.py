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
