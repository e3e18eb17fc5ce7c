"""The ready-made GitHub Actions job, run for real: its shell steps (build the shard, publish it on a push
to the default branch, pull the others' shards on a pull request, check) executed with bash against a
real S3-compatible server. Two service repositories publish; a pull request on the contracts repository
that deletes an rpc fails and names the consumer in a repository the runner never cloned."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers.positions import SourceFile
from indexers.sources.yaml.load import Budget, load, to_plain
from tests.s3server import moto_server

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "ci-lore"


def steps() -> dict[str, dict[str, Any]]:
    rel = "github/lore-check.yml"
    loaded = load(SourceFile("repo", rel, (ROOT / "ci" / rel).read_bytes()))
    doc = to_plain(loaded.root, Budget())
    assert doc["env"]["LORE_SHARDS"] == "${{ vars.LORE_SHARDS }}" and doc["env"]["LORE_INSTALL"] == "lore-lsp[org]"
    return {s["name"]: s for s in doc["jobs"]["lore"]["steps"] if "name" in s}


def run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As the runner does: `bash -e` with the step's script."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env, "PATH": path})


def test_github_job_publishes_on_push_and_pulls_for_pull_requests(tmp_path: Path) -> None:
    job = steps()
    assert job["Publish the shard"]["if"] == "github.event_name == 'push' && env.LORE_SHARDS != ''"
    assert job["Pull the other repositories' shards"]["if"] == "github.event_name == 'pull_request' && env.LORE_SHARDS != ''"
    shop = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    (shop / "lore.toml").unlink()  # every repository is checked out alone, as on a runner
    with moto_server() as s3:
        s3.make_bucket(BUCKET)
        env = {**s3.env, "LORE_SHARDS": f"s3://{BUCKET}/shards"}
        for repo in ("cart-service", "checkout-service"):  # push to main
            runner = {**env, "REPO_NAME": repo, "BRANCH": "main", "LORE_CACHE": str(tmp_path / f"cache-{repo}")}
            for name in ("Build the shard", "Publish the shard"):
                proc = run_step(job[name], shop / repo, runner)
                assert proc.returncode == 0, proc.stderr
            assert f"published {repo}@" in proc.stdout
        # a pull request on contracts deletes an rpc that checkout-service calls
        contracts = shop / "contracts"
        proto = contracts / "proto" / "shop" / "cart" / "v1" / "cart.proto"
        proto.write_text(proto.read_text().replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""))
        runner = {**env, "REPO_NAME": "contracts", "BASE_REF": "HEAD", "LORE_CACHE": str(tmp_path / "cache-pr")}
        pulled = run_step(job["Pull the other repositories' shards"], contracts, runner)
        assert pulled.returncode == 0 and "2 updated" in pulled.stdout, pulled.stdout + pulled.stderr
        check = run_step(job["Breaking changes"], contracts, runner)
        assert check.returncode == 1, check.stdout + check.stderr
        assert "RPC_NO_DELETE" in check.stdout and "checkout-service" in check.stdout
        assert (contracts / "lore.sarif").is_file()
    shutil.rmtree(shop)


@pytest.mark.parametrize("name", ["Build the shard", "Publish the shard"])
def test_steps_use_plain_environment_variables(name: str) -> None:
    assert "${{" not in steps()[name]["run"]  # expressions live in env:, so the script runs anywhere
