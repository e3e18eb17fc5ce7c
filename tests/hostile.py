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


def fetching_remote(clone: Path, marker: Path) -> None:
    """Point the clone's remote at `ext::sh -c touch <marker>`, allowed by the repository's own config: any
    git that fetches from it (a lazy fetch of a missing object, a deepening) leaves the marker behind."""
    _git(clone, "config", "remote.origin.url", f"ext::sh -c touch% {marker}").check_returncode()
    _git(clone, "config", "protocol.ext.allow", "always").check_returncode()


def serving_bare(src: Path, tmp_path: Path) -> Path:
    """A bare copy of `src` that serves filtered (partial) clones over the file:// transport."""
    bare = tmp_path / f"{src.name}.git"
    _git(tmp_path, "clone", "-q", "--bare", str(src), str(bare)).check_returncode()
    _git(bare, "config", "uploadpack.allowFilter", "true").check_returncode()
    return bare


def partial_clone(src: Path, tmp_path: Path, marker: Path, name: str = "partial", filter_: str = "blob:none") -> Path:
    """A real partial clone (`--filter=blob:none` by default) of `src`, served from a local bare repository;
    its promisor remote then runs a command (see `fetching_remote`). Blobs of HEAD are present (checked out),
    older ones are not."""
    clone = tmp_path / name
    _git(tmp_path, "clone", "-q", f"--filter={filter_}", f"file://{serving_bare(src, tmp_path)}", str(clone)).check_returncode()
    fetching_remote(clone, marker)
    return clone


def shallow_clone(src: Path, tmp_path: Path, marker: Path, depth: int, name: str = "shallow") -> Path:
    clone = tmp_path / name
    _git(tmp_path, "clone", "-q", f"--depth={depth}", f"file://{src}", str(clone)).check_returncode()
    fetching_remote(clone, marker)
    return clone


def damaged_clone(src: Path, tmp_path: Path, marker: Path, name: str, lose: str) -> Path:
    """A full clone of `src` whose object store lacks one object (`lose`, a sha): every object is unpacked
    into a loose file and that file deleted, as a failing disk or an interrupted copy would leave it."""
    clone = tmp_path / name
    _git(tmp_path, "clone", "-q", "--no-local", str(src), str(clone)).check_returncode()
    packs = clone / ".git" / "objects" / "pack"
    for pack in sorted(packs.glob("*.pack")):
        data = pack.read_bytes()
        for f in packs.glob(f"{pack.stem}.*"):
            f.unlink()
        subprocess.run(["git", "unpack-objects", "-q"], cwd=clone, input=data, env=PLAIN_GIT_ENV, check=True)
    (clone / ".git" / "objects" / lose[:2] / lose[2:]).unlink()
    fetching_remote(clone, marker)
    return clone


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
    return partial_clone(src.path, tmp_path, marker)


def plain_git_fetches(repo: Path, marker: Path) -> bool:
    """Sanity for the fixture: plain git, as a careless tool would run it, runs the remote's command."""
    _git(repo, "log", "-p", "--all")
    ran = marker.exists()
    if ran:
        marker.unlink()
    return ran
