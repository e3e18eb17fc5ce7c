"""Mining scripted histories: reverts resolved against history, renames, merges, non-ASCII messages,
empty repositories, shallow clones, detached HEAD and incremental runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexers.history.mine import mine, mine_history, mine_update, reverted_now
from tests.gitrepo import GitRepo


@pytest.fixture
def shop(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path / "shop")
    s: dict[str, str] = {}
    s["init"] = repo.commit("Add cart service", {"cart/cart.go": "package cart\n\nfunc Total() int { return 0 }\n"})
    s["pool"] = repo.commit("Add connection pooling", {"cart/pool.go": "package cart\n// pool\n"})
    s["wa"] = repo.commit("Work around flaky DNS lookups in the pool (#41)",
                          {"cart/dns.go": "package cart\n// retry dns\n"})
    s["revert"] = repo.git("revert", "--no-edit", s["pool"]) and repo.head()
    s["reapply"] = repo.git("revert", "--no-edit", s["revert"]) and repo.head()
    s["hotfix"] = repo.commit("Hotfix: cart total overflow, PAY-88", {"cart/cart.go": "package cart\n\nfunc Total() int64 { return 0 }\n"},
                              author="Grace Hopper <grace@example.com>")
    repo.git("mv", "cart/cart.go", "cart/total.go")
    s["rename"] = repo.commit("Move total into its own file")
    repo.git("checkout", "-q", "-b", "feature")
    s["feat"] = repo.commit("Ajoute la devise — café ☕", {"cart/currency.go": "package cart\n"},
                            author="Émile Zola <emile@example.com>")
    repo.git("checkout", "-q", "main")
    s["side"] = repo.commit("Document the cart", {"README.md": "# cart\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "Merge branch 'feature' (hotfix/1.2)")
    s["merge"] = repo.head()
    return repo, s


def test_mine_full_history(shop: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = shop
    commits = mine(repo.path)
    by = {c.sha: c for c in commits}
    assert commits[0].sha == s["merge"]
    assert len(commits) == 10
    assert by[s["wa"]].kinds == ("workaround",) and by[s["wa"]].refs == ("#41",)
    assert by[s["revert"]].kinds == ("revert",) and by[s["revert"]].reverts == s["pool"]
    assert by[s["reapply"]].kinds == ("revert", "reapply") and by[s["reapply"]].reverts == s["revert"]
    assert by[s["hotfix"]].kinds == ("hotfix",) and by[s["hotfix"]].refs == ("PAY-88",)
    assert by[s["hotfix"]].author == "Grace Hopper"
    assert by[s["rename"]].files == ("cart/cart.go", "cart/total.go")
    assert by[s["feat"]].subject == "Ajoute la devise — café ☕" and by[s["feat"]].author == "Émile Zola"
    assert by[s["merge"]].kinds == () and by[s["merge"]].files == ()
    assert by[s["pool"]].files == ("cart/pool.go",) and by[s["pool"]].date.startswith("2024-01-")
    # the pool commit was reverted, then the revert was reverted: the change is back
    assert reverted_now(commits) == {}


def test_reverted_now_follows_chains(shop: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = shop
    third = repo.git("revert", "--no-edit", s["reapply"]) and repo.head()
    commits = mine(repo.path)
    assert reverted_now(commits) == {s["pool"]: third}


def test_incremental_and_force_push(shop: tuple[GitRepo, dict[str, str]]) -> None:
    repo, s = shop
    head = repo.head()
    assert mine(repo.path, since=head) == []
    newer = repo.commit("Revert \"Add cart service\"", {"cart/x.go": "package cart\n"})
    got = mine(repo.path, since=head)
    assert [c.sha for c in got] == [newer]
    assert got[0].kinds == ("revert",) and got[0].reverts == s["init"]  # resolved by subject, before `since`
    trailer = repo.commit(f"Back out the currency\n\nThis reverts commit {s['feat'][:10]}.")
    got = mine(repo.path, since=newer)
    assert got[0].sha == trailer and got[0].reverts == s["feat"] and got[0].kinds == ("revert",)
    repo.git("reset", "-q", "--hard", s["side"])  # force-push: `since` is no longer an ancestor
    assert mine_update(repo.path, since=s["init"])[1] is False
    rewritten, complete = mine_update(repo.path, since=trailer)
    assert complete and rewritten[0].sha == s["side"] and len(rewritten) == 8


def test_unresolvable_revert_keeps_its_kind(tmp_path: Path) -> None:
    """A revert of a commit this history does not hold (a cherry-picked revert, a cut-off clone) is still a
    revert: only what it undoes is unknown."""
    repo = GitRepo(tmp_path / "r")
    repo.commit("init", {"a.txt": "a\n"})
    sha = repo.commit('Revert "Add retries"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.')
    (c, _) = mine(repo.path)
    assert c.sha == sha and c.kinds == ("revert",) and c.reverts == ""
    assert c.evidence == (("revert", "This reverts commit 0123456789abcdef0123456789abcdef01234567."),)


def test_squash_body_quoting_reverts(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    a = repo.commit("Add retries", {"a.go": "package a\n"})
    b = repo.commit("Add jitter", {"b.go": "package a\n"})
    squash = repo.commit(f'Payments cleanup (#812)\n\n* Revert "Add retries"\n\nThis reverts commit {a}.\n\n'
                         f'* Revert "Add jitter"\n\nThis reverts commit {b}.', {"c.go": "package a\n"})
    assert mine(repo.path)[0].sha == squash and mine(repo.path)[0].kinds == ()


def test_empty_repo_and_detached_head(tmp_path: Path) -> None:
    empty = GitRepo(tmp_path / "empty")
    assert mine(empty.path) == []
    repo = GitRepo(tmp_path / "r")
    first = repo.commit("one", {"a": "1"})
    repo.commit("two", {"a": "2"})
    repo.git("checkout", "-q", "--detach", first)
    assert [c.sha for c in mine(repo.path)] == [first]


def test_shallow_clone(shop: tuple[GitRepo, dict[str, str]], tmp_path: Path) -> None:
    repo, s = shop
    clone = tmp_path / "clone"
    GitRepo(tmp_path, init=False).git("clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    commits, _complete, gaps = mine_history(clone)
    assert [c.sha for c in commits] == [s["merge"]]
    assert commits[0].files == ()  # git shows the cut-off commit adding every file: its real change is unknown
    assert gaps.shallow and gaps.boundary == s["merge"] and not gaps.unreadable and not gaps.reason
    deeper = tmp_path / "deeper"
    GitRepo(tmp_path, init=False).git("clone", "-q", "--depth", "6", "--no-single-branch", f"file://{repo.path}",
                                      str(deeper))
    by = {c.sha: c for c in mine(deeper)}
    # the reapply's target (a revert) is in the clone, but the revert's target is cut off: a revert of an
    # unknown commit
    assert s["pool"] not in by
    assert by[s["reapply"]].kinds == ("revert", "reapply")
    assert by[s["revert"]].kinds == ("revert",) and by[s["revert"]].reverts == ""


def test_advisory_merge_brings_in_security_commits(tmp_path: Path) -> None:
    """The commits a two-parent advisory merge brings in (fix, test, changelog, credits) are part of the
    security fix; the main line's commits are not."""
    repo = GitRepo(tmp_path / "r")
    repo.commit("init", {"web/redirect.py": "def go(u):\n    return u\n"})
    repo.git("checkout", "-q", "-b", "ghsa-v6wp-4m6f-gcjg")
    fix = repo.commit("Strip extra leading slashes in the Location header", {"web/redirect.py": "def go(u):\n    return '/' + u.lstrip('/')\n"})
    credit = repo.commit("Credit the reporter in the change note", {"CHANGES/redirect.bugfix": "fixed\n"})
    repo.git("checkout", "-q", "main")
    other = repo.commit("Add a logo", {"logo.svg": "<svg/>\n"})
    repo.git("merge", "-q", "--no-ff", "ghsa-v6wp-4m6f-gcjg", "-m", "Merge branch 'ghsa-v6wp-4m6f-gcjg' into master")
    by = {c.sha: c for c in mine(repo.path)}
    merge = repo.head()
    assert by[merge].kinds == ("security",)
    for sha in (fix, credit):
        assert by[sha].kinds == ("security",)
        assert dict(by[sha].evidence)["security"].startswith(f"brought in by advisory merge {merge[:10]}")
    assert by[other].kinds == ()


def test_security_request_without_advisory_keeps_its_commits_kinds(tmp_path: Path) -> None:
    """A request that fixes a vulnerability in words alone (no advisory id, not an advisory merge) is a security
    fix itself, but the refactors it brings in keep their own kinds."""
    repo = GitRepo(tmp_path / "r")
    repo.commit("init", {"lib/sources.rb": "def add(s)\n  s\nend\n"})
    repo.git("checkout", "-q", "-b", "source-fixes")
    rename = repo.commit("Improve naming in the source list", {"lib/sources.rb": "def add(src)\n  src\nend\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("Add a logo", {"logo.svg": "<svg/>\n"})
    repo.git("merge", "-q", "--no-ff", "source-fixes", "-m",
             "Merge pull request #46 from someone/source-fixes\n\nFix request smuggling in the chunked parser")
    by = {c.sha: c for c in mine(repo.path)}
    assert by[repo.head()].kinds == ("security",)
    assert by[rename].kinds == ()


def test_merge_takes_kinds_of_what_it_brings_in(tmp_path: Path) -> None:
    """A request's merge is the change its commits make: it takes the kinds of the commit it brings in, or of
    the commits its title names; not of a preparatory commit, of a fix to a commit of the same branch, or of a
    plain `Merge branch 'x'` (a forward merge's commits are backports with kinds of their own)."""
    repo = GitRepo(tmp_path / "r")
    base = repo.commit("Add the client", {"client.go": "package c\n"})
    n = 0

    def branch(name: str, *messages: str) -> list[str]:
        nonlocal n
        repo.git("checkout", "-q", "-b", name, "main")
        shas = []
        for msg in messages:
            n += 1
            shas.append(repo.commit(msg.replace("PREVIOUS", shas[-1] if shas else base), {f"f{n}.go": "package c\n"}))
        repo.git("checkout", "-q", "main")
        n += 1
        repo.commit(f"Unrelated work {n}", {f"f{n}.go": "package c\n"})
        return shas

    def merge(name: str, message: str) -> str:
        repo.git("merge", "-q", "--no-ff", name, "-m", message)
        return repo.head()

    (wa,) = branch("proxy", "Use a fixed port\n\nThis works around the proxy bug.")
    one = merge("proxy", "Merge pull request #12 from acme/proxy\n\nUse a fixed port")
    branch("reset", "tests: drop a wrong setting\n\nFixes: PREVIOUS", "Reset failed units on delete")
    feature = merge("reset", "Merge pull request #13 from acme/reset\n\nReset failed units on delete")
    _, fix = branch("cache", "Add a cache", "cache: fix eviction\n\nFixes: PREVIOUS")
    wip = merge("cache", "Merge pull request #14 from acme/cache\n\ncache: fix eviction")
    branch("release", "Work around the proxy bug in the client")
    forward = merge("release", "Merge branch 'release'")
    by = {c.sha: c for c in mine(repo.path)}
    assert by[wa].kinds == ("workaround",) and by[one].kinds == ("workaround",)
    assert dict(by[one].evidence)["workaround"] == f'{wa[:10]} "Use a fixed port": This works around the proxy bug.'
    assert by[feature].kinds == ()  # the title names the feature commit, not the clean-up with a Fixes: trailer
    assert by[fix].kinds == ("regression_fix",) and by[wip].kinds == ()  # it fixes a commit of its own branch
    assert by[forward].kinds == ()


def test_commits_classified_while_git_writes_equal_those_classified_after(
        shop: tuple[GitRepo, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Most commits are classified as `git log` streams them; those naming another commit (a revert, a
    `Fixes:` trailer, a quoted subject) wait for the whole history. Either way the result is what
    classifying every commit after the read gives."""
    repo, s = shop
    s["fix"] = repo.commit(f"Fix the pool size\n\nFixes: {s['pool'][:12]} (\"Add connection pooling\")",
                           {"cart/pool.go": "package cart\n// pool 2\n"})
    s["quoted"] = repo.commit('Revert "Document the cart"', {"README.md": "# cart (draft)\n"})
    streamed, complete, gaps = mine_history(repo.path)

    from indexers.history import log as log_module
    from indexers.history import mine as mine_module

    plain = log_module.log
    calls: list[object] = []

    def log_without_stream(*args: object, each: object = None, **kw: object) -> object:
        calls.append(each)
        return plain(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mine_module, "log", log_without_stream)
    after, complete2, gaps2 = mine_history(repo.path)
    assert calls and calls[0] is not None  # the stream was asked for, and refused here
    assert streamed == after and complete == complete2 and gaps == gaps2
    by_sha = {c.sha: c for c in streamed}
    assert by_sha[s["revert"]].reverts == s["pool"]
    assert by_sha[s["fix"]].kinds == ("regression_fix",)
    assert by_sha[s["quoted"]].reverts == s["side"]


def test_commits_classified_by_a_child_process_equal_those_classified_here(
        shop: tuple[GitRepo, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """What git has written is classified whenever it has nothing new; the commits left when it is done
    are split with a child process (on a large history). Nothing classified while streaming and every
    history split: the same commits, kinds, evidence and resolved reverts as classifying them here."""
    repo, s = shop
    s["fix"] = repo.commit(f"Fix the pool size\n\nFixes: {s['pool'][:12]} (\"Add connection pooling\")",
                           {"cart/pool.go": "package cart\n// pool 2\n"})
    s["temp"] = repo.commit("Temporarily disable the flaky checkout test until PAY-90 is fixed",
                            {"cart/total_test.go": "package cart\n"})
    here, complete, gaps = mine_history(repo.path)

    from indexers.history import mine as mine_module

    monkeypatch.setattr(mine_module, "_IDLE_BATCH", 0)
    monkeypatch.setattr(mine_module, "_SPLIT_FROM", 2)
    split, complete2, gaps2 = mine_history(repo.path)
    assert split == here and (complete2, gaps2) == (complete, gaps)
    # and in a fresh, single-threaded interpreter, where the child process does take half of them
    code = ("import json, sys, threading\nfrom indexers.history import mine\n"
            "mine._IDLE_BATCH, mine._SPLIT_FROM = 0, 2\n"
            "commits, _c, _g = mine.mine_history(sys.argv[1])\n"
            "print(json.dumps([threading.active_count(), [[c.sha, list(c.kinds), c.reverts, [list(e) for e in c.evidence],"
            " [list(e) for e in c.mentions], list(c.refs)] for c in commits]]))")
    out = subprocess.run([sys.executable, "-c", code, str(repo.path)], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, check=True)
    threads, plain = json.loads(out.stdout)
    assert threads == 1 and plain == [[c.sha, list(c.kinds), c.reverts, [list(e) for e in c.evidence],
                                       [list(e) for e in c.mentions], list(c.refs)] for c in here]
    by_sha = {c.sha: c for c in split}
    assert by_sha[s["hotfix"]].kinds == ("hotfix",) and by_sha[s["revert"]].reverts == s["pool"]
    assert "temporary" in by_sha[s["temp"]].kinds and by_sha[s["fix"]].kinds == ("regression_fix",)
