"""REPOS.txt: one repository a line, `URL [NAME]`; blank lines and `#` comments ignored. The name
defaults to the URL's last path component without `.git`. Errors name the line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from indexers.git import GitError, clone_url
from indexers.shard import valid_repo_name
from indexers.workspace import WorkspaceError


@dataclass(frozen=True)
class RepoRef:
    name: str
    url: str


def parse_repo_list(path: Path) -> list[RepoRef]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: cannot read: {exc}") from exc
    out: list[RepoRef] = []
    names: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        parts = line.split()
        if len(parts) > 2:
            raise WorkspaceError(f"{path}:{n}: expected 'URL [NAME]', got {line!r}")
        url = parts[0]
        try:
            clone_url(url)
        except GitError as exc:
            raise WorkspaceError(f"{path}:{n}: {exc}") from None
        name = parts[1] if len(parts) == 2 else re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        if not valid_repo_name(name):
            raise WorkspaceError(f"{path}:{n}: {name!r} is not a simple repo name (letters, digits, '.', '_', '-'); name it: URL NAME")
        if name in names:
            raise WorkspaceError(f"{path}:{n}: repo name {name!r} already used on line {names[name]}")
        names[name] = n
        out.append(RepoRef(name, url))
    if not out:
        raise WorkspaceError(f"{path}: no repositories listed")
    return out
