"""Security: a cache someone else prepared runs nothing. Lore's cache records are pickles, so whoever
could choose or fill the cache folder could run code on the next `lore index`. The attacks: a pull
request commits a cache into the checkout that CI then points LORE_CACHE at (old-style pickled records,
and records in the new layout with a forged signature), a cache folder others may write, one owned by
another account, and a cache key others may read. Each goes through the CLI."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import diskcache
import pytest
from ruamel.yaml import YAML

from indexers.model import SCHEMA_VERSION
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lore"]
NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create files owned by another account")


class Plant:
    """A pickle that creates `marker` when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def _lore(cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "LORE_CACHE": str(cache), **env})


def _plant_cache(folder: Path, marker: Path) -> None:
    """A cache as an attacker would commit it: the header and every record a run reads, as pickles
    that run code, both as diskcache stores them by default and in Lore's signed layout with a forged
    signature (a MAC of zeros), small and in a value file."""
    evil = pickle.dumps(Plant(marker))
    with diskcache.Cache(str(folder / f"v{SCHEMA_VERSION}")) as cache:
        for key in (("meta",), ("m", "repo"), ("mfp", "repo"), ("h", "repo")):
            cache.set(key, Plant(marker))
            cache.set(json.dumps(key, separators=(",", ":")), b"\0" * 32 + evil)
        cache.set('["m","repo"]', b"\0" * 32 + evil + b"\0" * 100_000)  # large: stored in a value file


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("init", {"api.proto": 'syntax = "proto3";\npackage shop;\nmessage Cart { string id = 1; }\n',
                      "main.go": "package main\n\n// HACK: cap at 500 items\nfunc main() {}\n"})
    return r


def test_a_cache_committed_into_the_checkout_runs_nothing(repo: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "RAN"
    cache = repo.path / ".lore-cache"
    _plant_cache(cache, marker)
    repo.commit("a helpful cache", {})
    out = _lore(cache, "index", str(repo.path), "--json")
    assert not marker.exists(), "a planted cache record ran code"
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["files"]["indexed"] == 2
    assert any("not signed with your cache key" in m and "moved aside" in m for m in report["messages"]), report["messages"]
    again = _lore(cache, "context", f"{repo.path}/main.go:3", "--json")
    assert again.returncode == 0, again.stderr
    assert not marker.exists()


def test_records_cannot_be_swapped_or_forged(tmp_path: Path) -> None:
    from indexers.store import Store, encode_key

    store = Store(tmp_path / "c")
    try:
        store.set(("m", "a"), {"x.proto": "A"})
        store.set(("m", "b"), {"x.proto": "B"})
        signed_a = store._cache.get(encode_key(("m", "a")))  # noqa: SLF001
        store._cache.set(encode_key(("m", "b")), signed_a)  # noqa: SLF001 - a's record under b's key
        assert store.get(("m", "b"), "dropped") == "dropped"
        assert store.get(("m", "a")) == {"x.proto": "A"}
        other = Store(tmp_path / "c", key=b"k" * 32, check=False)  # another account's key
        assert other.get(("m", "a"), "dropped") == "dropped"
        other.close()
    finally:
        store.close()


def test_a_cache_folder_others_may_write_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "RAN"
    cache = tmp_path / "shared-cache"
    _plant_cache(cache, marker)
    cache.chmod(0o777)
    out = _lore(cache, "index", str(repo.path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"cache folder {cache}: others may write it (mode 777)" in out.stderr
    assert "Traceback" not in out.stderr and not marker.exists()


@as_root
def test_a_cache_folder_another_account_owns_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "RAN"
    cache = tmp_path / "their-cache"
    _plant_cache(cache, marker)
    for dirpath, dirnames, filenames in os.walk(cache):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), NOBODY, NOBODY)
    os.chown(cache, NOBODY, NOBODY)
    out = _lore(cache, "index", str(repo.path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"cache folder {cache}: owned by uid {NOBODY}, not by you" in out.stderr
    assert not marker.exists()


def test_a_cache_key_others_may_read_is_refused(repo: GitRepo, tmp_path: Path) -> None:
    config = tmp_path / "config"
    first = _lore(tmp_path / "cache", "index", str(repo.path), XDG_CONFIG_HOME=str(config))
    assert first.returncode == 0, first.stderr
    key = config / "lore" / "cache.key"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    out = _lore(tmp_path / "cache", "index", str(repo.path), XDG_CONFIG_HOME=str(config))
    assert out.returncode == 1
    assert f"cache key {key}: others may read or write it (mode 644)" in out.stderr


def test_ci_templates_keep_the_cache_and_key_outside_the_checkout() -> None:
    for path in sorted((ROOT / "ci/github").glob("*.yml")):
        gh = YAML(typ="safe").load(path.read_text())
        assert "LORE_CACHE" not in gh["env"], path.name
        for job in gh["jobs"].values():
            steps = job["steps"]
            runs = "\n".join(s.get("run", "") for s in steps)
            for name, where in (("LORE_CACHE", "lore-cache"), ("XDG_CONFIG_HOME", "lore-config")):
                assert f'echo "{name}=$RUNNER_TEMP/{where}" >> "$GITHUB_ENV"' in runs, path.name
            cached = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))["with"]["path"]
            assert "${{ runner.temp }}/lore-cache" in cached and "workspace" not in cached, path.name
    for path in sorted((ROOT / "ci/gitlab").glob("*.yml")):
        gl = YAML(typ="safe").load(path.read_text())
        top = gl.get("variables", {}).get("LORE_CACHE")
        assert top is None or ("CI_PROJECT_DIR" not in top and top.startswith("/")), path.name
        for name, job in gl.items():
            if not isinstance(job, dict) or "LORE_CACHE" not in job.get("variables", {}):
                continue
            cache = job["variables"]["LORE_CACHE"]
            assert "CI_PROJECT_DIR" not in cache and cache.startswith("/"), (path.name, name)
            assert "cache" not in job, (path.name, name)  # GitLab caches only folders inside the checkout
