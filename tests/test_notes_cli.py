"""Team notes through the `lore` command (subprocess) on real git repositories: a note written with `lore
note add` survives insertions above it, edits inside its block, its function moving within the file and
its file being renamed through git; it is orphaned (and listed so) when its code is deleted; notes added
on two branches merge without conflict; notes appear in `lore context` and `lore context --diff`; bad
note files are named with their line and reason, and the rest goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepo

LEDGER = """import os


class Ledger:
    def __init__(self, client):
        self.client = client
        self.rows = []

    def flush(self, batch):
        for chunk in split(batch, 100):
            self.client.write(chunk)
            self.client.sync()
        return len(batch)

    def close(self):
        self.client.close()


def split(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]
"""
FLUSH = LEDGER[LEDGER.index("    def flush"):LEDGER.index("    def close")]


def lore(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def listed(cwd: Path, *args: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(lore(cwd, "note", "list", "--json", *args).stdout)
    assert doc["line_base"] == 1  # the note's lines below are 1-based, as people read them
    return {n["id"]: n for n in doc["notes"]}


def added(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout.split(" note ", 1)[1].split()[0]


@pytest.fixture
def ledger(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "ledger")
    repo.git("config", "user.name", "Ada Lovelace")
    repo.git("config", "user.email", "ada@example.com")
    repo.commit("Ledger", {"ledger.py": LEDGER})
    return repo


def two_notes(repo: GitRepo) -> tuple[str, str]:
    """A warning on the whole `flush` method (its def line) and a decision on two lines inside it."""
    whole = added(lore(repo.path, "note", "add", "ledger.py:9", "Batches over 100 are rejected by the ledger",
                       "--kind", "warning", "--ref", "INC-412"))
    inner = added(lore(repo.path, "note", "add", "ledger.py:11-12", "sync after every write: see ADR 7",
                       "--kind", "decision"))
    repo.commit("Notes on flush")
    return whole, inner


def test_add_writes_one_reviewable_file_per_note(ledger: GitRepo) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    proc = lore(ledger.path, "note", "add", "ledger.py:9", "Batches over 100 are rejected", "--kind", "warning",
                "--ref", "INC-412", "--ref", "https://example.com/inc/412")
    ident = added(proc)
    assert "Ledger.flush, the whole method" in proc.stdout
    path = ledger.path / ".lore" / "notes" / f"{ident}.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert doc["kind"] == "warning" and doc["text"].strip() == "Batches over 100 are rejected"
    assert doc["author"] == "Ada Lovelace <ada@example.com>" and "agent" not in doc
    assert doc["refs"] == ["INC-412", "https://example.com/inc/412"]
    created = datetime.fromisoformat(doc["created"])  # when it was written, in UTC, to the second
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert before <= created <= datetime.now(UTC)
    a = doc["anchor"]
    assert (a["path"], a["lines"], a["symbol"], a["whole_symbol"]) == ("ledger.py", [9, 13], "Ledger.flush", True)
    assert a["commit"] == ledger.head() and a["code"][0] == "    def flush(self, batch):"
    agent = added(lore(ledger.path, "note", "add", "ledger.py:11", "write is not idempotent", "--agent", "claude-code",
                       "--author", "Grace Hopper <grace@example.com>"))
    doc = tomllib.loads((ledger.path / ".lore" / "notes" / f"{agent}.toml").read_text(encoding="utf-8"))
    assert (doc["agent"], doc["author"], doc["anchor"]["lines"], doc["anchor"]["whole_symbol"]) == \
        ("claude-code", "Grace Hopper <grace@example.com>", [11, 11], False)
    notes = listed(ledger.path)
    assert notes[agent]["agent"] == "claude-code" and notes[ident]["status"] == "exact"
    assert notes[ident]["created"] == doc_created(ledger, ident) == created.isoformat()
    assert "agent claude-code for Grace Hopper" in lore(ledger.path, "note", "list").stdout


def doc_created(repo: GitRepo, ident: str) -> str:
    return str(tomllib.loads((repo.path / ".lore" / "notes" / f"{ident}.toml").read_text(encoding="utf-8"))["created"])


def test_list_is_scoped_to_a_file_or_a_folder(ledger: GitRepo) -> None:
    ledger.commit("Storage helpers", {"store/files.py": "def save(path, rows):\n    return len(rows)\n",
                                      "store/cache.py": "def get(key):\n    return None\n"})
    on_ledger = added(lore(ledger.path, "note", "add", "ledger.py:16", "close is idempotent"))
    on_files = added(lore(ledger.path, "note", "add", "store/files.py:1", "rows are written in order"))
    on_cache = added(lore(ledger.path, "note", "add", "store/cache.py:2", "never caches misses", "--kind", "decision"))
    assert set(listed(ledger.path)) == {on_ledger, on_files, on_cache}
    assert set(listed(ledger.path, "ledger.py")) == {on_ledger}
    assert set(listed(ledger.path, "store")) == {on_files, on_cache}
    assert set(listed(ledger.path, "store/cache.py")) == {on_cache}
    # the repository given from outside it, and a file given by an absolute path
    assert set(listed(ledger.path.parent, str(ledger.path))) == {on_ledger, on_files, on_cache}
    assert set(listed(ledger.path.parent, str(ledger.path / "store" / "files.py"))) == {on_files}
    text = lore(ledger.path, "note", "list", "store").stdout
    assert f"{on_files}  tip      ledger/store/files.py:1-2 (save)" in text and on_ledger not in text
    # a folder with no notes, and a folder that does not exist
    (ledger.path / "docs").mkdir()
    assert lore(ledger.path, "note", "list", "docs").stdout.startswith("No notes.")
    proc = lore(ledger.path, "note", "list", "nowhere", check=False)
    assert proc.returncode == 2 and "nowhere: no such file or folder" in proc.stderr


def test_notes_survive_insertions_above_and_edits_inside(ledger: GitRepo) -> None:
    whole, inner = two_notes(ledger)
    ledger.commit("Header", {"ledger.py": '"""The ledger client."""\nimport sys\n\nLIMIT = 100\n' + LEDGER})
    notes = listed(ledger.path)
    assert (notes[whole]["status"], notes[whole]["lines"], notes[whole]["symbol"]) == ("moved", [13, 17], "Ledger.flush")
    assert (notes[inner]["status"], notes[inner]["lines"]) == ("moved", [15, 16])
    # edits inside the noted block: a changed line and a new line between the noted ones
    text = (ledger.path / "ledger.py").read_text()
    text = text.replace("split(batch, 100)", "split(batch, LIMIT)").replace(
        "            self.client.write(chunk)\n", "            self.client.write(chunk)\n            metrics.count('write')\n")
    ledger.commit("Limit and metrics", {"ledger.py": text})
    notes = listed(ledger.path)
    assert (notes[whole]["status"], notes[whole]["lines"], notes[whole]["symbol"]) == ("edited", [13, 18], "Ledger.flush")
    assert (notes[inner]["status"], notes[inner]["lines"]) == ("edited", [15, 17])
    ctx = json.loads(lore(ledger.path, "context", "ledger.py:16", "--json").stdout)
    first = ctx["sections"][0]  # a warning comes first
    assert first["name"] == "notes"
    texts = [n["text"] for n in first["notes"]]
    assert texts[0].startswith("Warning: Batches over 100 are rejected by the ledger (Ada Lovelace, ")
    assert "refs INC-412" in texts[0] and "note re-attached after edits" in texts[0]
    assert texts[1].startswith("Decision: sync after every write")
    assert first["notes"][0]["source"] == f"ledger/.lore/notes/{whole}.toml:3"
    assert first["notes"][0]["data"]["lines"] == [13, 18]
    # outside both notes: no notes section content
    ctx = json.loads(lore(ledger.path, "context", "ledger.py:6", "--json").stdout)
    assert not next(s for s in ctx["sections"] if s["name"] == "notes")["notes"]


def test_notes_follow_their_function_within_the_file_and_a_renamed_file(ledger: GitRepo) -> None:
    whole, inner = two_notes(ledger)
    moved = LEDGER.replace(FLUSH, "") + "\n\nclass Batch:\n    size = 100\n\n" + "class Flusher:\n" + FLUSH
    ledger.commit("Move flush to its own class", {"ledger.py": moved})
    notes = listed(ledger.path)
    lines = moved.split("\n")
    start = lines.index("    def flush(self, batch):") + 1
    assert (notes[whole]["lines"], notes[whole]["symbol"]) == ([start, start + 4], "Flusher.flush")
    assert "Ledger.flush is now Flusher.flush" in notes[whole]["how"]
    assert notes[inner]["lines"] == [start + 2, start + 3]
    ledger.git("mv", "ledger.py", "store.py")
    ledger.commit("Rename ledger.py to store.py",
                  {"store.py": moved.replace("return len(batch)", "return len(batch)  # rows written")})
    notes = listed(ledger.path)
    assert {n["path"] for n in notes.values()} == {"store.py"}
    assert notes[whole]["lines"] == [start, start + 4] and notes[inner]["lines"] == [start + 2, start + 3]
    assert notes[whole]["how"].startswith("file renamed from ledger.py")
    ctx = json.loads(lore(ledger.path, "context", f"store.py:{start + 2}", "--json").stdout)
    assert {n["data"]["id"] for n in ctx["sections"][0]["notes"]} == {whole, inner}


def test_deleted_code_orphans_its_notes_which_are_listed_never_dropped(ledger: GitRepo) -> None:
    whole, inner = two_notes(ledger)
    ledger.commit("Flush without chunks", {"ledger.py": LEDGER.replace(
        "        for chunk in split(batch, 100):\n            self.client.write(chunk)\n            self.client.sync()\n",
        "        self.client.write_all(batch)\n")})
    notes = listed(ledger.path)
    assert notes[inner]["status"] == "orphaned" and notes[inner]["lines"] == [11, 12]
    assert notes[whole]["status"] == "edited"  # the method is still there
    ledger.commit("Drop flush", {"ledger.py": LEDGER.replace(FLUSH, "")})
    orphans = listed(ledger.path, "--orphaned")
    assert set(orphans) == {whole, inner}
    assert orphans[whole]["lines"] == [9, 13] and orphans[whole]["symbol"] == "Ledger.flush"
    text = lore(ledger.path, "note", "list", "--orphaned").stdout
    assert f"{whole}  warning  last seen at ledger/ledger.py:9-13 (Ledger.flush) [orphaned]" in text
    ctx = json.loads(lore(ledger.path, "context", "ledger.py:9", "--json").stdout)
    assert not next(s for s in ctx["sections"] if s["name"] == "notes")["notes"]
    # and a file that is gone with no rename: orphaned too, with its last location
    ledger.remove("ledger.py")
    ledger.commit("Remove the ledger")
    assert set(listed(ledger.path, "--orphaned")) == {whole, inner}


def test_notes_from_two_branches_merge_cleanly(ledger: GitRepo) -> None:
    ledger.git("checkout", "-q", "-b", "alice")
    a = added(lore(ledger.path, "note", "add", "ledger.py:9", "alice: flush is not thread-safe", "--kind", "warning"))
    ledger.commit("Alice's note")
    ledger.git("checkout", "-q", "main")
    ledger.git("checkout", "-q", "-b", "bob")
    b = added(lore(ledger.path, "note", "add", "ledger.py:15", "bob: close twice is fine"))
    ledger.commit("Bob's note", {"ledger.py": "# header\n" + LEDGER})
    ledger.git("checkout", "-q", "main")
    ledger.git("merge", "-q", "--no-edit", "alice")
    proc = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "merge", "--no-edit", "bob"], cwd=ledger.path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "CONFLICT" not in proc.stdout, proc.stdout + proc.stderr
    notes = listed(ledger.path)
    assert set(notes) == {a, b}
    assert notes[a]["lines"] == [10, 14] and notes[b]["lines"] == [16, 17]


def test_context_diff_names_the_notes_a_change_touches(ledger: GitRepo) -> None:
    whole, inner = two_notes(ledger)
    text = LEDGER.replace("            self.client.sync()\n", "").replace("def close(self):", "def close(self, force=False):")
    (ledger.path / "ledger.py").write_text(text)
    proc = lore(ledger.path, "context", "--diff")
    assert "ledger/ledger.py" in proc.stdout and "Team notes on the changed lines" in proc.stdout
    assert "Decision: sync after every write" in proc.stdout and "this change rewrites or deletes those lines" in proc.stdout
    doc = json.loads(lore(ledger.path, "context", "--diff", "--json").stdout)
    touched = [{n["data"]["id"]: n["data"]["side"] for s in h["sections"] if s["name"] == "notes" for n in s["notes"]}
               for h in doc["hunks"]]
    assert touched == [{whole: "working tree", inner: "base"}]  # the sync line; close() is not noted
    assert doc["total"] == 2 and doc["repos"] == [["ledger", ledger.head()]]
    # locations count lines from 0 (as `lore context --json`), hunks from 1 (as git does): both said
    assert (doc["line_base"], doc["column_unit"], doc["hunk_line_base"]) == (0, "utf-16", 1)
    sync = LEDGER.split("\n").index("            self.client.sync()")
    assert doc["hunks"][0]["hunk"]["old_start"] == sync + 1
    assert lore(ledger.path, "context", "--diff", "no-such-ref", check=False).returncode == 2
    assert lore(ledger.path, "context", "--diff", "--upload-pack=x", check=False).returncode == 2


def test_move_rm_and_refresh(ledger: GitRepo) -> None:
    whole, inner = two_notes(ledger)
    lore(ledger.path, "note", "move", inner[:5], "ledger.py:16")
    notes = listed(ledger.path)
    assert (notes[inner]["lines"], notes[inner]["symbol"]) == ([16, 16], "Ledger.close")
    ledger.commit("Moved", {"ledger.py": "# one\n# two\n" + LEDGER})
    assert listed(ledger.path)[whole]["status"] == "moved"
    out = lore(ledger.path, "note", "refresh").stdout
    assert f"re-anchored {whole} on ledger.py:11-15" in out
    doc = tomllib.loads((ledger.path / ".lore" / "notes" / f"{whole}.toml").read_text(encoding="utf-8"))
    assert doc["anchor"]["lines"] == [11, 15] and doc["anchor"]["whole_symbol"] and doc["text"].startswith("Batches")
    assert listed(ledger.path)[whole]["status"] == "exact"
    lore(ledger.path, "note", "rm", whole)
    assert set(listed(ledger.path)) == {inner}
    proc = lore(ledger.path, "note", "rm", "ffffffff", check=False)
    assert proc.returncode == 2 and "no note 'ffffffff'" in proc.stderr


def test_bad_note_files_are_named_with_line_and_reason(ledger: GitRepo) -> None:
    good = added(lore(ledger.path, "note", "add", "ledger.py:16", "close is idempotent"))
    folder = ledger.path / ".lore" / "notes"
    (folder / "broken.toml").write_text('kind = "tip"\ntext = "unterminated\n')
    (folder / "escape.toml").write_text('kind = "tip"\ntext = "x"\n[anchor]\npath = "../../etc/passwd"\nlines = [1, 1]\n')
    (folder / "kind.toml").write_text('kind = "rumour"\ntext = "x"\n[anchor]\npath = "ledger.py"\nlines = [1, 1]\n')
    proc = lore(ledger.path, "note", "list")
    assert good in proc.stdout
    assert "ledger/.lore/notes/broken.toml:2: not a note: not valid TOML" in proc.stderr
    assert "ledger/.lore/notes/escape.toml:4: not a note: anchor.path must be a path inside the repository" in proc.stderr
    assert "ledger/.lore/notes/kind.toml:1: not a note: kind must be one of warning, incident, decision, tip" in proc.stderr
    report = json.loads(lore(ledger.path, "index", "--json").stdout)
    assert {f["path"] for f in report["files"]["failed"]} >= {".lore/notes/broken.toml", ".lore/notes/escape.toml"}


def test_hostile_input_is_refused_or_cleaned(ledger: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (ledger.path / ".lore").symlink_to(outside, target_is_directory=True)
    proc = lore(ledger.path, "note", "add", "ledger.py:9", "x", check=False)
    assert proc.returncode == 2 and "symlink" in proc.stderr and not any(outside.iterdir())
    (ledger.path / ".lore").unlink()
    ident = added(lore(ledger.path, "note", "add", "ledger.py:9", "evil\x1b]8;;http://x\x07 text\u202e"))
    out = lore(ledger.path, "note", "list").stdout + lore(ledger.path, "context", "ledger.py:10").stdout
    assert "\x1b" not in out and "\u202e" not in out and "evil]8;;http://x text" in out
    assert lore(ledger.path, "note", "add", "ledger.py:99", "x", check=False).returncode != 0
    assert lore(ledger.path, "note", "add", f".lore/notes/{ident}.toml:1", "x", check=False).returncode == 2
    (ledger.path / ".env").write_text("TOKEN=secret\n")
    proc = lore(ledger.path, "note", "add", ".env:1", "x", check=False)
    assert proc.returncode == 2 and not any("secret" in p.read_text() for p in (ledger.path / ".lore" / "notes").glob("*.toml"))
