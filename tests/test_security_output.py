"""Security: names and text a repository chose cannot act on the terminal that shows Lore's output.

The repository names a file and a folder with an OSC 8 hyperlink and a clear-screen sequence, a service
with a one-character CSI (U+009B), and writes a HACK comment with an OSC (U+009D) and a bidi override.
Every command's text output (index, graph, context, check) shows the names without the controls; the
JSON output keeps the values, escaped, so it stays exact and inert."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

CLI = [sys.executable, "-m", "lore"]
OSC8 = "\x1b]8;;https:evil.example\x1b\\"  # file names cannot hold a slash
CLEAR = "\x1b[2J"
CSI = "\u009b"
OSC = "\u009d"
RLO = "\u202e"
BAD = ("\x1b", "\x07", "\r", CSI, OSC, "\u0085", RLO)


def _lore(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def _assert_inert(text: str) -> None:
    found = sorted({repr(c) for c in BAD if c in text})
    assert not found, f"control characters reached the terminal: {found}"


@pytest.fixture()
def hostile(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    proto_dir = f"api{CLEAR}"
    repo.commit("Hostile names", {
        f"{proto_dir}/{OSC8}cart.proto": 'syntax = "proto3";\npackage cart;\nservice Cart { rpc Get(M) returns (M); }\nmessage M {}\n',
        f"{OSC8}broken.proto": "syntax = \"proto3\";\nmessage {\n",
        "package.json": json.dumps({"name": f"cart{CSI}2J", "version": "1.0.0"}),
        "main.go": f"package main\n\n// HACK: cap at 500 {OSC}0;pwned\u0007 items {RLO}until fixed\nfunc main() {{}}\n",
    })
    return repo


def test_index_prints_names_without_controls(hostile: GitRepo, tmp_path: Path) -> None:
    out = _lore(tmp_path, "index", str(hostile.path))
    assert out.returncode == 0, out.stderr
    _assert_inert(out.stdout + out.stderr)
    assert "]8;;https:evil.example\\broken.proto" in out.stdout  # the name is shown, defanged
    report = _lore(tmp_path, "index", str(hostile.path), "--json")
    _assert_inert(report.stdout)
    failed = [f["path"] for f in json.loads(report.stdout)["files"]["failed"]]
    assert f"{OSC8}broken.proto" in failed  # JSON keeps the exact value, escaped


def test_graph_prints_names_without_controls(hostile: GitRepo, tmp_path: Path) -> None:
    out = _lore(tmp_path, "graph", str(hostile.path))
    assert out.returncode == 0, out.stderr
    _assert_inert(out.stdout + out.stderr)
    assert "service cart2J" in out.stdout and "[2J/]8;;https:evil.example\\cart.proto" in out.stdout
    doc = _lore(tmp_path, "graph", str(hostile.path), "--json")
    _assert_inert(doc.stdout)
    assert f"cart{CSI}2J" in [s["name"] for s in json.loads(doc.stdout)["services"]]


def test_context_strips_c1_controls_and_bidi_overrides(hostile: GitRepo, tmp_path: Path) -> None:
    out = _lore(tmp_path, "context", f"{hostile.path}/main.go:3")
    assert out.returncode == 0, out.stderr
    _assert_inert(out.stdout + out.stderr)
    assert "cap at 500 0;pwned items until fixed" in out.stdout
    as_json = _lore(tmp_path, "context", f"{hostile.path}/main.go:3", "--json")
    _assert_inert(as_json.stdout)
    assert "\\u009d" in as_json.stdout  # kept in JSON, as an escape


def test_check_report_has_no_controls(hostile: GitRepo, tmp_path: Path) -> None:
    name = f"api{CLEAR}/{OSC8}cart.proto"
    hostile.write({name: 'syntax = "proto3";\npackage cart;\nservice Cart { }\nmessage M {}\n'})
    out = _lore(tmp_path, "check", str(hostile.path), "--base", "HEAD")
    assert out.returncode == 1, out.stdout + out.stderr
    _assert_inert(out.stdout + out.stderr)
    assert "cart.Cart.Get" in out.stdout
    sarif = _lore(tmp_path, "check", str(hostile.path), "--base", "HEAD", "--format", "sarif")
    _assert_inert(sarif.stdout)
    json.loads(sarif.stdout)
