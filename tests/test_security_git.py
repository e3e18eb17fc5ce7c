"""Untrusted repositories: nothing a repository configures may run when Lore reads it.

The test repo's own .git/config and .gitattributes try every hook point we know to create a marker file:
core.fsmonitor, hooks (via core.hooksPath and .git/hooks), clean/smudge/process filters, diff textconv,
diff.external, core.sshCommand, core.pager, and an alias. Lore then indexes it, mines its history, blames
its files and exports a shard; no marker may appear."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from indexers import git
from tests.gitrepo import GitRepo

HOOKS = ("pre-commit", "post-checkout", "post-index-change", "post-merge", "pre-auto-gc", "reference-transaction",
         "post-rewrite", "fsmonitor-watchman")


def _script(path: Path, marker: Path) -> str:
    path.write_text(f"#!/bin/sh\necho ran >> '{marker}'\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def hostile_repo(tmp_path: Path) -> tuple[GitRepo, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = GitRepo(tmp_path / "evil")
    repo.commit("init", {"api.proto": 'syntax = "proto3";\npackage evil;\nmessage M { string a = 1; }\n',
                         "main.go": "package main\n// TODO: nothing\nfunc main() {}\n"})
    repo.commit("Work around everything (#1)", {"main.go": "package main\n// HACK: still nothing\nfunc main() {}\n"})
    tools = tmp_path / "tools"
    tools.mkdir()
    hooks = repo.path / ".git" / "hooks"
    for name in HOOKS:
        _script(hooks / name, markers / f"hook-{name}")
    evil_hooks = tmp_path / "evil-hooks"
    evil_hooks.mkdir()
    for name in HOOKS:
        _script(evil_hooks / name, markers / f"hookspath-{name}")
    cfg = {
        "core.fsmonitor": _script(tools / "fsmonitor", markers / "fsmonitor"),
        "core.hooksPath": str(evil_hooks),
        "core.sshCommand": _script(tools / "ssh", markers / "ssh"),
        "core.pager": _script(tools / "pager", markers / "pager"),
        "pager.log": _script(tools / "pagerlog", markers / "pager-log"),
        "filter.evil.clean": _script(tools / "clean", markers / "filter-clean"),
        "filter.evil.smudge": _script(tools / "smudge", markers / "filter-smudge"),
        "filter.evil.process": _script(tools / "process", markers / "filter-process"),
        "filter.evil.required": "false",
        "diff.evil.textconv": _script(tools / "textconv", markers / "textconv"),
        "diff.external": _script(tools / "extdiff", markers / "diff-external"),
        "blame.ignoreRevsFile": "",
        "alias.ls-files": "!" + _script(tools / "alias", markers / "alias"),
    }
    for key, value in cfg.items():
        subprocess.run(["git", "config", key, value], cwd=repo.path, check=True)
    (repo.path / ".gitattributes").write_text("* filter=evil diff=evil\n")
    # make the index stale so that a status/ls-files would refresh it (and run fsmonitor/hooks)
    os.utime(repo.path / "main.go", ns=(10**18, 10**18))
    return repo, markers


def test_nothing_from_the_repository_runs(tmp_path: Path) -> None:
    repo, markers = hostile_repo(tmp_path)
    # sanity: an unhardened git in this repo does run the fsmonitor
    subprocess.run(["git", "status", "--porcelain"], cwd=repo.path, capture_output=True)
    assert (markers / "fsmonitor").exists(), "the fixture's fsmonitor should fire under plain git"
    (markers / "fsmonitor").unlink()
    for leftover in markers.iterdir():
        leftover.unlink()

    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    cli = [sys.executable, "-m", "lore"]
    out = subprocess.run([*cli, "index", str(repo.path), "--json", "--export", str(tmp_path / "evil.shard")],
                         capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout)["files"]["indexed"] >= 2
    subprocess.run([*cli, "context", f"{repo.path}/main.go:2"], capture_output=True, text=True, env=env, check=True)
    # the hardened primitives directly too
    git.list_files(repo.path)
    git.run(repo.path, "log", "-p", "--no-textconv", "--no-ext-diff")
    git.run(repo.path, "blame", "--porcelain", "--no-textconv", "HEAD", "--", "main.go")
    git.run(repo.path, "diff", "--no-textconv", "--no-ext-diff", "HEAD~1")
    git.run(repo.path, "status", "--porcelain")
    with git.BlobReader(repo.path) as reader:
        assert reader.read("HEAD:main.go") is not None
    ran = sorted(p.name for p in markers.iterdir())
    assert ran == [], f"repository-controlled commands ran: {ran}"
