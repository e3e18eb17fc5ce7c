"""History through `lore context --json`: scripted histories give exact notes. A workaround commit, a
revert of a revert (the change is back), a hotfix with an issue reference, a file rename, a merge commit,
non-ASCII messages, an empty repo and a shallow clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

BASE = """def charge(amount):
    total = amount
    timeout = 30
    retries = 0
    total = round(total, 2)
    return total
"""


def context(path: Path, line: int, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "lore", "context", f"{path}:{line}", "--json"], check=True,
                         capture_output=True, text=True, env={**os.environ, "LORE_CACHE": str(cache)})
    return json.loads(out.stdout)


def notes(ctx: dict, section: str) -> list[tuple[str, str, str]]:
    sec = next(s for s in ctx["sections"] if s["name"] == section)
    return [(n["kind"], n["text"], n["source"]) for n in sec["notes"]]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str], Path]:
    root = tmp_path_factory.mktemp("history")
    repo = GitRepo(root / "payments")
    s: dict[str, str] = {}
    s["init"] = repo.commit("Initial payments module", {"pay.py": BASE}, author="Ada Lovelace <ada@example.com>",
                            date="2024-01-02T10:00:00+00:00")
    s["wa"] = repo.commit("Work around gateway timeout (#12)\n\nThe gateway stalls for 40s under load.",
                          {"pay.py": BASE.replace("timeout = 30", "timeout = 90  # HACK: gateway stalls, see #12")},
                          author="Grace Hopper <grace@example.com>", date="2024-02-03T11:00:00+00:00")
    s["retry"] = repo.commit("Add retries", {"pay.py": repo.path.joinpath("pay.py").read_text().replace("retries = 0", "retries = 3")},
                             author="Alan Turing <alan@example.com>", date="2024-02-10T09:00:00+00:00")
    repo.git("revert", "--no-edit", s["retry"], date="2024-02-11T09:00:00+00:00")
    s["revert"] = repo.head()
    repo.git("revert", "--no-edit", s["revert"], date="2024-02-12T09:00:00+00:00")
    s["reapply"] = repo.head()
    s["hotfix"] = repo.commit("Hotfix: negative totals (PAY-88)",
                              {"pay.py": repo.path.joinpath("pay.py").read_text().replace("total = round(total, 2)", "total = max(round(total, 2), 0)")},
                              author="Grace Hopper <grace@example.com>", date="2024-03-01T08:00:00+00:00")
    repo.git("mv", "pay.py", "charge.py")
    s["rename"] = repo.commit("Rename pay.py to charge.py", date="2024-03-02T08:00:00+00:00")
    repo.git("checkout", "-q", "-b", "feature")
    s["feature"] = repo.commit("Corrige l'arrondi des montants (€) — ticket #99", {"notes.md": "ünïcödé\n"},
                               author="Zoë Ünal <zoe@example.com>", date="2024-03-03T08:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "--no-ff", "-q", "-m", "Merge branch 'feature'", "feature", date="2024-03-04T08:00:00+00:00")
    s["merge"] = repo.head()
    return repo, s, root / "cache"


def test_workaround_line(story: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, s, cache = story
    ctx = context(repo.path / "charge.py", 3, cache)
    assert notes(ctx, "history") == [
        ("workaround", f"Workaround: Work around gateway timeout (#12) ({s['wa'][:8]}, 2024-02-03, Grace Hopper)", s["wa"]),
    ]
    (marker,) = notes(ctx, "markers")
    assert marker[0] == "marker" and marker[1].startswith("HACK: gateway stalls, see #12 (added 2024-02-03 by Grace Hopper")
    assert marker[2].endswith("/charge.py:3")  # the note follows the rename


def test_revert_of_a_revert_is_a_reapply(story: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, s, cache = story
    (kind, text, source), = notes(context(repo.path / "charge.py", 4, cache), "history")
    assert kind == "reapply" and source == s["reapply"]
    assert text == (f"Re-applied after a revert: Revert \"Revert \"Add retries\"\" ({s['reapply'][:8]}, 2024-02-12, Ada Lovelace; "
                    f"undoes {s['revert'][:8]} Revert \"Add retries\") — 'This reverts commit {s['revert']}.'")


def test_hotfix_with_reference(story: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, s, cache = story
    assert notes(context(repo.path / "charge.py", 5, cache), "history") == [
        ("hotfix", f"Hotfix: negative totals (PAY-88) ({s['hotfix'][:8]}, 2024-03-01, Grace Hopper)", s["hotfix"]),
    ]


def test_ordinary_line_takes_one_note(story: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, s, cache = story
    assert notes(context(repo.path / "charge.py", 1, cache), "history") == [
        ("last_change", f"Last change: {s['init'][:8]}, 2024-01-02, Ada Lovelace: Initial payments module", s["init"]),
    ]


def test_merge_and_non_ascii(story: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, s, cache = story
    assert notes(context(repo.path / "notes.md", 1, cache), "history") == [
        ("last_change", f"Last change: {s['feature'][:8]}, 2024-03-03, Zoë Ünal: Corrige l'arrondi des montants (€) — ticket #99", s["feature"]),
    ]


def test_empty_repo(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    repo.write({"new.py": "x = 1\n"})
    ctx = context(repo.path / "new.py", 1, tmp_path / "cache")
    sec = next(s for s in ctx["sections"] if s["name"] == "history")
    assert sec["notes"] == [] and sec["empty"] == "no committed history for these lines"


def test_shallow_clone(story: tuple[GitRepo, dict[str, str], Path], tmp_path: Path) -> None:
    repo, s, _cache = story
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    (kind, text, source), = notes(context(clone / "charge.py", 3, tmp_path / "cache"), "history")
    assert kind == "last_change" and source == s["merge"]
    assert text == f"Unchanged since {s['merge'][:8]}, 2024-03-04, the start of the available (shallow) history"
