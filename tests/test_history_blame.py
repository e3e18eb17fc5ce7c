"""Blame, churn and the history/markers/decisions/coupling sections over one scripted history."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.history.blame import blame, blob_sha, lines_in
from indexers.history.churn import fix_regions
from indexers.history.coupling import FileCoupling
from indexers.history.mine import mine
from indexers.history.notes import coupling_section, decisions_section, history_section, markers_section
from indexers.model import Decision, Marker, Span
from tests.gitrepo import GitRepo

ADA = "Ada Lovelace <ada@example.com>"
GRACE = "Grace Hopper <grace@example.com>"


def lines(*rows: str) -> str:
    return "".join(f"{r}\n" for r in rows)


@pytest.fixture
def hist(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path / "shop")
    s: dict[str, str] = {}
    s["init"] = repo.commit("Add cart total", {
        "cart/total.go": lines("package cart", "", "func Total(xs []int) int {", "\tt := 0", "\treturn t", "}"),
        "cart/total_test.go": "package cart\n"}, author=ADA)
    s["wa"] = repo.commit("Work around overflow in Total (#41)", {
        "cart/total.go": lines("package cart", "", "func Total(xs []int) int64 {", "\tt := int64(0)", "\treturn t", "}")},
        author=GRACE)
    s["hotfix"] = repo.commit("Hotfix: negative totals, PAY-88", {
        "cart/total.go": lines("package cart", "", "func Total(xs []int) int64 {", "\tt := int64(0) // clamp",
                               "\treturn max(t, 0)", "}"),
        "cart/total_test.go": "package cart\n// test\n"}, author=ADA)
    s["disc"] = repo.commit("Add discount", {
        "cart/total.go": lines("package cart", "", "func Total(xs []int) int64 {", "\tt := int64(0) // clamp",
                               "\treturn max(t, 0)", "}", "", "func Discount() int { return 5 }")}, author=GRACE)
    s["revert"] = repo.git("revert", "--no-edit", s["disc"], author=ADA) and repo.head()
    s["reapply"] = repo.git("revert", "--no-edit", s["revert"], author=GRACE) and repo.head()
    s["docs"] = repo.commit("Document totals", {"README.md": "# cart\n"}, author=ADA)
    return repo, s


def test_blame_lines_and_cache(hist: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = hist
    cache: dict[str, object] = {}
    got = blame(repo.path, "cart/total.go", cache)
    assert [(b.line, b.sha, b.orig_line) for b in got] == [
        (0, s["init"], 0), (1, s["init"], 1), (2, s["wa"], 2), (3, s["hotfix"], 3), (4, s["hotfix"], 4),
        (5, s["init"], 5), (6, s["reapply"], 6), (7, s["reapply"], 7)]
    assert got[2].author == "Grace Hopper" and got[2].summary == "Work around overflow in Total (#41)"
    assert got[2].date.startswith("2024-01-") and not any(b.boundary for b in got)
    assert len(cache) == 1
    key = next(iter(cache))
    assert str(blob_sha(repo.path, "cart/total.go")) in key
    cache[key] = [(0, "f" * 40, 0, "Cached", "2020-01-01T00:00:00+00:00", "from cache", False)]
    assert blame(repo.path, "cart/total.go", cache)[0].author == "Cached"  # warm: no git blame
    assert [b.line for b in lines_in(got, 3, 4)] == [3, 4]


def test_blame_of_uncommitted_files_is_empty(hist: tuple[GitRepo, dict[str, str]]) -> None:
    repo, _ = hist
    (repo.path / "new.go").write_text("package x\n")
    assert blame(repo.path, "new.go") == []
    assert blame(repo.path, "missing/file.go") == []
    assert blame(repo.path.parent, "x.go") == []  # not a repository


def test_blame_in_shallow_clone_marks_the_cut(hist: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    repo, s = hist
    clone = tmp_path / "clone"
    GitRepo(tmp_path, init=False).git("clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone))
    got = blame(clone, "cart/total.go")
    assert [b.boundary for b in got] == [True] * 8  # every line comes from the grafted commit
    section = history_section({}, got, 0, 2)
    assert section.notes[0].kind == "last_change" and "shallow" in section.notes[0].text


def test_history_section(hist: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = hist
    commits = {c.sha: c for c in mine(repo.path)}
    got = blame(repo.path, "cart/total.go")
    sec = history_section(commits, got, 2, 4)
    assert sec.name == "history"
    assert [(n.kind, n.source) for n in sec.notes] == [
        ("hotfix", s["hotfix"]), ("workaround", s["wa"])]  # the hotfix is also the last change
    day = repo.git("log", "-1", "--format=%aI", s["hotfix"])[:10]
    assert sec.notes[0].text == f"Hotfix: negative totals, PAY-88 ({s['hotfix'][:8]}, {day}, Ada Lovelace)"
    assert sec.notes[1].data["refs"] == ["#41"]
    reap = history_section(commits, got, 7, 7)
    assert [n.kind for n in reap.notes] == ["reapply"]
    assert reap.notes[0].source == s["reapply"] and f"undoes {s['revert'][:8]}" in reap.notes[0].text
    plain = history_section(commits, got, 0, 1)
    day = repo.git("log", "-1", "--format=%aI", s["init"])[:10]
    assert [(n.kind, n.text) for n in plain.notes] == [
        ("last_change", f"Last change: {s['init'][:8]}, {day}, Ada Lovelace: Add cart total")]
    assert history_section(commits, got, 40, 50).empty


def test_churn_regions(hist: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = hist
    cache: dict[str, object] = {}
    # the workaround wrote lines 3-4, the hotfix rewrote 4-5: lines 4-5 (0-based 3-4) were fixed twice
    regions = fix_regions(repo.path, "cart/total.go", mine(repo.path), cache)
    assert [(r.first, r.last, r.shas) for r in regions] == [(3, 4, (s["hotfix"], s["wa"]))]
    assert len(cache) == 1 and fix_regions(repo.path, "cart/total.go", mine(repo.path), cache) == regions
    fix2 = repo.commit("Fix regression in Total clamp (#50)", {"cart/total.go": lines(
        "package cart", "", "// totals", "func Total(xs []int) int64 {", "\tt := int64(0) // clamp",
        "\treturn max(t, 1)", "}", "", "func Discount() int { return 5 }")})
    regions = fix_regions(repo.path, "cart/total.go", mine(repo.path), cache)
    # everything moved down one line; the return line has now been fixed three times
    assert [(r.first, r.last, r.shas) for r in regions] == [(4, 5, (fix2, s["hotfix"], s["wa"]))]
    assert fix_regions(repo.path, "cart/total.go", mine(repo.path), cache, min_fixes=3)[0].first == 5
    assert fix_regions(repo.path, "cart/total_test.go", mine(repo.path), cache) == []  # one fix only
    sec = history_section({c.sha: c for c in mine(repo.path)}, blame(repo.path, "cart/total.go"), 5, 5,
                          churn=regions)
    assert [n.kind for n in sec.notes] == ["regression_fix", "churn"]  # the fix is also the last change
    assert sec.notes[1].text.startswith(f"Fixed 3 times: {fix2[:8]} Fix regression in Total clamp (#50); ")


def test_markers_decisions_and_coupling_sections(hist: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = hist
    got = blame(repo.path, "cart/total.go")
    todo = Marker("todo", "TODO: handle currencies", "shop", "cart/total.go", Span(1, 0, 1, 23))
    keep = Marker("do_not_remove", "Don't remove: used by billing", "shop", "cart/total.go", Span(3, 0, 3, 30))
    far = Marker("fixme", "FIXME: far away", "shop", "cart/total.go", Span(30, 0, 30, 10))
    sec = markers_section([todo, keep, far], 3, 4, blame_lines=got)
    assert [(n.kind, n.data["marker"], n.source) for n in sec.notes] == [
        ("marker", "do_not_remove", "shop/cart/total.go:4"), ("marker", "todo", "shop/cart/total.go:2")]
    day = repo.git("log", "-1", "--format=%aI", s["hotfix"])[:10]
    assert sec.notes[0].text == f"Don't remove: used by billing (added {day} by Ada Lovelace, {s['hotfix'][:8]})"
    assert markers_section([far], 3, 4).empty

    adr = Decision("adr:shop:docs/adr/1.md", "Totals are int64", "accepted", "2024-01-01", "shop", "docs/adr/1.md",
                   ("cart/", "billing-service"))
    old = Decision("adr:shop:docs/adr/0.md", "Totals are int", "superseded", "2023-01-01", "shop", "docs/adr/0.md",
                   ("cart/total.go",))
    other = Decision("adr:shop:docs/adr/2.md", "Unrelated", "accepted", "", "shop", "docs/adr/2.md", ("carts/x.go",))
    dec = decisions_section([old, other, adr], path="cart/total.go")
    assert [(n.text, n.source) for n in dec.notes] == [
        ("Totals are int64 (accepted, 2024-01-01)", "shop/docs/adr/1.md"),
        ("Totals are int (superseded, 2023-01-01)", "shop/docs/adr/0.md")]
    assert [n.source for n in decisions_section([other, adr], path="x.go", names=["billing-service"]).notes] == [
        "shop/docs/adr/1.md"]

    coupling = FileCoupling(mine(repo.path))
    pairs = coupling.with_file("cart/total.go", min_support=1)
    assert [(p.other, p.support, p.total) for p in pairs] == [("cart/total_test.go", 2, 6)]
    cs = coupling_section(pairs, repo="shop")
    assert cs.notes[0].text == "Usually changes with cart/total_test.go (2 of 6 commits)"
    assert cs.notes[0].source == "shop/cart/total_test.go"
    assert coupling_section([], repo="shop").empty
