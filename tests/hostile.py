"""Hostile repositories for the security tests: built with plain git in a temp dir, never fetched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.gitrepo import GitRepo

PLAIN_GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, capture_output=True, text=True,
                          env=PLAIN_GIT_ENV)


def promisor_clone(tmp_path: Path, marker: Path) -> Path:
    """A blob-less partial clone whose promisor remote is `ext::sh -c touch <marker>` with the ext
    transport allowed by the repository's own config. Blobs of HEAD are present; older blobs (a renamed
    file, the previous version of main.go) are missing, so blame, rename detection or `log -p` would
    make an unhardened git run the remote's command."""
    src = GitRepo(tmp_path / "upstream")
    src.commit("Add the cart api", {"api.proto": 'syntax = "proto3";\npackage evil;\nmessage M { string a = 1; }\n',
                                    "main.go": "package main\n\nfunc main() {}\n",
                                    "old_name.go": "package main\n\n// helper\nfunc helper() int { return 1 }\n"})
    src.git("mv", "old_name.go", "helper.go")
    src.commit("Rename the helper")
    src.commit("Work around the slow cart store (#42)",
               {"main.go": "package main\n\n// HACK: cap at 500 items until SHOP-118 is fixed\nfunc main() {}\n"})
    bare = tmp_path / "upstream.git"
    _git(tmp_path, "clone", "-q", "--bare", str(src.path), str(bare)).check_returncode()
    _git(bare, "config", "uploadpack.allowFilter", "true").check_returncode()
    clone = tmp_path / "partial"
    _git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{bare}", str(clone)).check_returncode()
    _git(clone, "config", "remote.origin.url", f"ext::sh -c touch% {marker}").check_returncode()
    _git(clone, "config", "protocol.ext.allow", "always").check_returncode()
    return clone


def plain_git_fetches(repo: Path, marker: Path) -> bool:
    """Sanity for the fixture: plain git, as a careless tool would run it, runs the remote's command."""
    _git(repo, "log", "-p", "--all")
    ran = marker.exists()
    if ran:
        marker.unlink()
    return ran
