"""The CI templates parse as YAML and wire the steps that matter: the shard export and `lore check` on
pull/merge requests against the target branch, with the report kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexers.positions import SourceFile
from indexers.sources.yaml.load import Budget, load, to_plain

CI = Path(__file__).parent.parent / "ci"


def _load(rel: str) -> Any:
    src = SourceFile("repo", rel, (CI / rel).read_bytes())
    loaded = load(src)
    assert not loaded.errors, loaded.errors
    return to_plain(loaded.root, Budget())


def test_github_workflow() -> None:
    doc = _load("github/lore-check.yml")
    assert "pull_request" in doc["on"] and doc["permissions"]["security-events"] == "write"
    steps = doc["jobs"]["lore"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "lore index . --export" in runs
    check = next(s for s in steps if "lore check" in s.get("run", ""))
    assert check["if"] == "github.event_name == 'pull_request'"
    assert "--format sarif --output lore.sarif" in check["run"] and "--format github" in check["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "lore.sarif"


def test_gitlab_jobs() -> None:
    doc = _load("gitlab/lore-check.gitlab-ci.yml")
    assert "lore index . --export" in " ".join(doc["lore-shard"]["script"])
    assert doc["lore-shard"]["artifacts"]["paths"] == ["lore-shard/"]
    check = doc["lore-check"]
    assert check["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    script = "\n".join(check["script"])
    assert '--base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"' in script and script.rstrip().endswith("exit $code")
    assert doc[".lore"]["variables"]["GIT_DEPTH"] == "0"
