"""Build small real git repositories with scripted history for tests (several repos = one system).

Uses plain `git` with a fixed identity and explicit dates so histories are deterministic. Test set-up
only: the product reads repositories through `indexers.git`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitRepo:
    def __init__(self, path: Path, init: bool = True):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._tick = 0
        if init:
            self.git("init", "-q", "-b", "main")

    def git(self, *args: str, author: str = "Ada Lovelace <ada@example.com>", date: str | None = None) -> str:
        name, _, email = author.partition(" <")
        env = dict(os.environ)
        env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email.rstrip(">"), GIT_COMMITTER_NAME=name,
                   GIT_COMMITTER_EMAIL=email.rstrip(">"), GIT_CONFIG_NOSYSTEM="1", HOME=str(self.path.parent))
        if date is None:
            self._tick += 1
            date = f"2024-01-{1 + self._tick % 28:02d}T12:{self._tick // 28 % 60:02d}:00+00:00"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        out = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args],
                             cwd=self.path, env=env, check=True, capture_output=True)
        return out.stdout.decode("utf-8", "replace").strip()

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            p = self.path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8")

    def remove(self, *rels: str) -> None:
        self.git("rm", "-q", *rels)

    def commit(self, message: str, files: dict[str, str | bytes] | None = None, *, author: str = "Ada Lovelace <ada@example.com>",
               date: str | None = None) -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author, date=date)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")
