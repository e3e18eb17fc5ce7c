"""The ready-made review jobs, run for real: the GitHub Actions step and the GitLab job's script, executed
with bash in a clone whose pull-request branch deletes a field its own code reads and edits a workaround
line, against a fake code host on loopback (tests/fake_codehost.py). The first run posts one comment
(after the 120 comments already on the pull request); the next push updates that same comment; a token
the host refuses leaves the review in the job summary without failing the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexers.positions import SourceFile
from indexers.sources.yaml.load import Budget, load, to_plain
from tests.fake_codehost import CodeHost, code_host
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- lore-review -->"

PROTO = """syntax = "proto3";
package shop.cart.v1;

service CartService {
  rpc GetCart(GetCartRequest) returns (Cart);
}

message GetCartRequest {
  string user_id = 1;
  int32 page = 2;
}

message Cart {
  string id = 1;
}
"""

CLIENT = """from shop.cart.v1 import cart_pb2
from shop.cart.v1 import cart_pb2_grpc


class Carts:
    def __init__(self, channel):
        self.stub = cart_pb2_grpc.CartServiceStub(channel)

    def get(self, user_id):
        return self.stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)
"""

CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: shop
spec:
  type: service
  owner: team-shop
"""


def load_yaml(rel: str) -> dict[str, Any]:
    return to_plain(load(SourceFile("repo", rel, (ROOT / "ci" / rel).read_bytes())).root, Budget())  # type: ignore[no-any-return]


@pytest.fixture
def clone(tmp_path: Path) -> GitRepo:
    """A clone of `origin` (main: the contract, its client, a workaround commit) on a pull-request branch that
    deletes user_id and edits the workaround line."""
    origin = GitRepo(tmp_path / "origin-src")
    origin.commit("Add the cart API and its client", {"proto/cart.proto": PROTO, "client.py": CLIENT, "catalog-info.yaml": CATALOG})
    origin.commit("Work around slow carts: 2s timeout (#7)", {"client.py": CLIENT.replace("timeout=2.0", "timeout=9.0")})
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(origin.path), str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(tmp_path / "shop")], check=True)
    repo = GitRepo(tmp_path / "shop", init=False)
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("Drop user_id; faster timeout", {"proto/cart.proto": PROTO.replace("  string user_id = 1;\n", ""),
                                                 "client.py": CLIENT.replace("timeout=2.0", "timeout=1.0")})
    return repo


def run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env, "PATH": path})


def github_env(host: CodeHost, tmp: Path, token: str = "test-token") -> dict[str, str]:
    event = tmp / "event.json"
    event.write_text(json.dumps({"number": 12, "pull_request": {"number": 12}}))
    return {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_API_URL": host.url, "GITHUB_TOKEN": token, "GITHUB_EVENT_PATH": str(event), "BASE_REF": "origin/main",
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "LORE_CACHE": str(tmp / "cache")}


def test_github_job_posts_one_comment_and_updates_it(clone: GitRepo, tmp_path: Path) -> None:
    doc = load_yaml("github/lore-review.yml")
    assert doc["on"] == {"pull_request": None} and doc["permissions"]["pull-requests"] == "write"
    step = next(s for s in doc["jobs"]["review"]["steps"] if s.get("name") == "Review")
    assert step["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}", "BASE_REF": "origin/${{ github.base_ref }}"}
    thread = "/repos/acme/shop/issues/12/comments"
    with code_host() as host:
        for i in range(120):  # an active pull request: the review's comment is on the second page
            host.add(thread, f"comment {i}")
        env = github_env(host, tmp_path)
        proc = run(step["run"], clone.path, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert host.writes() == [("POST", thread)]
        mine = [c for c in host.comments[thread] if c["body"].startswith(MARKER)]
        assert len(mine) == 1
        body = mine[0]["body"]
        assert body == (clone.path / "lore-review.md").read_text(encoding="utf-8")
        assert (tmp_path / "summary.md").read_text(encoding="utf-8") == body
        head = clone.head()
        workaround = clone.git("log", "--format=%H", "--grep=Work around slow carts")
        assert "**1 breaking change** · **1 workaround line edit** · 2 of 2 hunks with context" in body
        assert "against the merge base with origin/main" in body
        assert ("- FIELD_NO_DELETE: field 1 'user_id' of shop.cart.v1.GetCartRequest was deleted without reserving its "
                "number and name; breaks 1 consumer: shop (shop/client.py:10)") in body
        base = clone.git("merge-base", "HEAD", "origin/main")
        assert f"[shop/proto/cart.proto:9](https://github.example/acme/shop/blob/{base}/proto/cart.proto#L9)" in body
        assert (f"this change rewrites line 10 from workaround commit {workaround[:8]}" in body
                and f"[{workaround[:12]}](https://github.example/acme/shop/commit/{workaround})" in body)
        assert f"(https://github.example/acme/shop/blob/{head}/client.py#L10)" in body

        # the next push: the same comment is edited (found on page 2), none is added
        (clone.path / "lore-review.md").unlink()  # the runner's file, never committed
        clone.commit("Also drop page", {"proto/cart.proto": PROTO.replace("  string user_id = 1;\n", "").replace("  int32 page = 2;\n", "")})
        host.requests.clear()
        proc = run(step["run"], clone.path, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert host.writes() == [("PATCH", f"/repos/acme/shop/issues/comments/{mine[0]['id']}")]
        assert [c for c in host.comments[thread] if c["body"].startswith(MARKER)] == mine  # the same, edited
        assert "**2 breaking changes** · **1 workaround line edit** · 2 of 2 hunks with context" in mine[0]["body"]
        assert len(host.comments[thread]) == 121

        # a fork's read-only token: the host refuses, the job warns and keeps the review in the summary
        (tmp_path / "summary.md").unlink()
        proc = run(step["run"], clone.path, github_env(host, tmp_path, token="read-only"))
        assert proc.returncode == 0 and "::warning title=lore review::" in proc.stdout
        assert "HTTP 401" in proc.stderr and (tmp_path / "summary.md").read_text(encoding="utf-8").startswith(MARKER)


def test_gitlab_job_posts_one_note_and_updates_it(clone: GitRepo, tmp_path: Path) -> None:
    job = load_yaml("gitlab/lore-review.gitlab-ci.yml")["lore-review"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    script = "\n".join(job["script"])
    notes = "/api/v4/projects/7/merge_requests/3/notes"
    with code_host() as host:
        env = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example/acme/shop", "CI_API_V4_URL": f"{host.url}/api/v4",
               "CI_PROJECT_ID": "7", "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
               "LORE_GITLAB_TOKEN": "test-token", "LORE_SHARDS": "", "LORE_CACHE": str(tmp_path / "cache")}
        proc = run(script, clone.path, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert host.writes() == [("POST", notes)]
        body = host.comments[notes][0]["body"]
        assert body.startswith(MARKER) and "FIELD_NO_DELETE" in body
        assert f"(https://gitlab.example/acme/shop/-/blob/{clone.head()}/client.py#L10)" in body
        host.requests.clear()
        proc = run(script, clone.path, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert host.writes() == [("PUT", f"{notes}/{host.comments[notes][0]['id']}")] and len(host.comments[notes]) == 1
        # without a token the review is only the artifact
        host.requests.clear()
        proc = run(script, clone.path, {**env, "LORE_GITLAB_TOKEN": ""})
        assert proc.returncode == 0 and host.requests == [] and "set LORE_GITLAB_TOKEN" in proc.stdout
        assert (clone.path / "lore-review.md").read_text(encoding="utf-8").startswith(MARKER)


def test_posting_refuses_what_it_should(clone: GitRepo, tmp_path: Path) -> None:
    lore = [sys.executable, "-m", "lore", "review", "--base", "origin/main", "--post", "github"]
    base = {**os.environ, "PYTHONPATH": str(ROOT), "LORE_CACHE": str(tmp_path / "cache"), "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_TOKEN": "t", "GITHUB_REF": "refs/pull/5/merge"}
    cases = [({"GITHUB_TOKEN": ""}, "needs GITHUB_TOKEN"),
             ({"GITHUB_API_URL": "http://api.example.com"}, "https only"),
             ({"GITHUB_REF": "refs/heads/main"}, "no pull request number")]
    for extra, needle in cases:
        proc = subprocess.run(lore, cwd=clone.path, env={**base, **extra}, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    # nothing to say and no earlier comment: nothing is posted
    clone.git("checkout", "-q", "main")
    with code_host() as host:
        proc = subprocess.run(lore, cwd=clone.path, env={**base, "GITHUB_API_URL": host.url, "GITHUB_TOKEN": host.token},
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and "review comment skipped" in proc.stderr and host.writes() == []
