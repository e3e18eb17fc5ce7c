from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

# The cache key (indexers.store.key_path) of every Lore process the tests start, in-process or not: a
# private folder for the session, never the user's own ~/.config/lore.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="lore-test-config-")


@pytest.fixture
def make_repo(tmp_path: Path):
    """make_repo('name', {'path': 'content'}, message='init') -> GitRepo with one commit."""

    def _make(name: str, files: dict[str, str | bytes] | None = None, message: str = "initial commit") -> GitRepo:
        repo = GitRepo(tmp_path / name)
        if files is not None:
            repo.commit(message, files)
        return repo

    return _make


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own cache folder unless it passes --cache explicitly."""
    monkeypatch.setenv("LORE_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("LORE_SHARDS", raising=False)
    yield
