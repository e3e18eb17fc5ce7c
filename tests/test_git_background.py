"""git.run(background=True): where a long-lived process lowered the priority of background git
(`BACKGROUND_NICENESS`, the server's), the command gives the same output and the same errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers import git
from tests.gitrepo import GitRepo


def test_background_git_answers_as_usual(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.commit("Add a file", {"a.txt": "one\ntwo\n"})
    usual = git.run(repo.path, "blame", "--porcelain", "HEAD", "--", "a.txt")
    monkeypatch.setattr(git, "BACKGROUND_NICENESS", 5)
    assert git.run(repo.path, "blame", "--porcelain", "HEAD", "--", "a.txt", background=True) == usual
    assert git.run(repo.path, "hash-object", "--stdin", input=b"x\n", background=True).strip()
    with pytest.raises(git.GitError, match="git show failed"):
        git.run(repo.path, "show", "no-such-rev", background=True)
    assert git.run(repo.path, "show", "no-such-rev", check=False, background=True) == b""
