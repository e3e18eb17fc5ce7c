"""History of one synthetic repository, written as a `git fast-import` stream.

Why fast-import: the L workspace needs 20,000+ commits, and one `git commit` per commit would take
many minutes; a single fast-import stream takes seconds. This is test set-up only (the product runs git
through indexers/git.py). Reverts need the sha of the commit they revert, so the stream is interactive:
`get-mark` asks fast-import for a commit's sha while the stream is still being written.

The history mixes what real ones have: files added in batches, ordinary refactors and fixes (with PR
numbers), workarounds ("Work around X (#123)") that leave a comment in the code, hotfixes,
`git revert`-style reverts that really restore the previous content, commits that remove a workaround,
dependency bumps by a bot, renames, several authors in several time zones, and dates that move forward
irregularly.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.gen_filler import BLOCKS, NOUNS, VERBS, pascal

AUTHORS = (("Ada Lovelace", "ada@acme.example", "+0000"), ("Grace Hopper", "grace@acme.example", "-0500"),
           ("Linus Svensson", "linus.s@acme.example", "+0100"), ("Mei Chen", "mei@acme.example", "+0800"),
           ("Ravi Iyer", "ravi@acme.example", "+0530"), ("Sofia Rossi", "sofia@acme.example", "+0100"),
           ("Kwame Mensah", "kwame@acme.example", "+0000"), ("Olga Petrova", "olga@acme.example", "+0300"),
           ("Diego Alvarez", "diego@acme.example", "-0300"), ("Hana Sato", "hana@acme.example", "+0900"),
           ("Tom Becker", "tom@acme.example", "+0100"), ("Priya Nair", "priya@acme.example", "+0530"))
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "+0000")
ISSUES = ("flaky upstream timeout in {dep}", "grpc keepalive disconnects", "clock skew between regions",
          "duplicate events from the queue", "pagination off-by-one in the {dep} API", "stale cache after deploy",
          "missing index on {noun} lookups", "race in connection pool shutdown", "UTF-8 BOM in partner CSV files",
          "retry storm when {dep} is down")


@dataclass
class FileState:
    """A file as header + blocks + footer; history edits blocks so earlier lines keep their positions."""

    lang: str | None
    header: str
    blocks: list[str] = field(default_factory=list)
    footer: str = ""
    kind: str = "filler"                         # filler | code | contract | static
    regen: Callable[[int], str] | None = None    # re-render the header at a new generation (bumps, contracts)
    gen: int = 0

    def text(self) -> bytes:
        return (self.header + "".join(self.blocks) + self.footer).encode("utf-8")

    def snapshot(self) -> tuple[str, list[str], str, int]:
        return self.header, list(self.blocks), self.footer, self.gen

    def restore(self, snap: tuple[str, list[str], str, int]) -> None:
        self.header, self.blocks, self.footer, self.gen = snap[0], list(snap[1]), snap[2], snap[3]


@dataclass
class Plan:
    """Everything needed to build one repository's history deterministically."""

    name: str
    seed: str
    scaffold: dict[str, FileState]       # in the first commit
    pending: list[tuple[str, FileState]]  # added over time, in batches
    commits: int
    start: int                            # unix time of the first commit
    gap: float                            # mean seconds between commits
    deps: list[str]                       # names used in messages
    nouns: list[str]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C.UTF-8")
    return env


GIT = ("git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "init.defaultBranch=main",
       "-c", "gc.auto=0")


class Stream:
    """A running `git fast-import` with helpers to write commits and ask for marks' shas."""

    def __init__(self, repo: Path):
        subprocess.run([*GIT, "init", "-q", "-b", "main", str(repo)], check=True, env=_env(), capture_output=True)
        self.repo = repo
        self.proc = subprocess.Popen([*GIT, "-C", str(repo), "fast-import", "--quiet", "--done"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.out, self.inp = self.proc.stdin, self.proc.stdout
        self.mark = 0

    def commit(self, who: tuple[str, str, str], when: int, message: str,
               changes: list[tuple[str, str, bytes | str | None]]) -> int:
        """changes: ("M", path, data) | ("D", path, None) | ("R", old, new)."""
        self.mark += 1
        name, email, tz = who
        msg = message.encode("utf-8")
        parts = [f"commit refs/heads/main\nmark :{self.mark}\nauthor {name} <{email}> {when} {tz}\n"
                 f"committer {name} <{email}> {when} {tz}\ndata {len(msg)}\n".encode(), msg, b"\n"]
        for op, path, data in changes:
            if op == "M":
                assert isinstance(data, bytes)
                parts += [f"M 100644 inline {path}\ndata {len(data)}\n".encode(), data, b"\n"]
            elif op == "D":
                parts.append(f"D {path}\n".encode())
            else:
                assert isinstance(data, str)
                parts.append(f"R {path} {data}\n".encode())
        parts.append(b"\n")
        self.out.write(b"".join(parts))
        return self.mark

    def sha(self, mark: int) -> str:
        self.out.write(f"get-mark :{mark}\n".encode())
        self.out.flush()
        return self.inp.readline().decode().strip()

    def finish(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"{self.repo}: git fast-import failed")
        subprocess.run([*GIT, "-C", str(self.repo), "reset", "-q", "--hard", "main"], check=True, env=_env(),
                       capture_output=True)


KINDS = (("change", 62), ("workaround", 5), ("hotfix", 4), ("revert", 3), ("remove_workaround", 2),
         ("bump", 3), ("rename", 1), ("regression_test", 2), ("contract", 6))


def build(plan: Plan, dest: Path) -> dict[str, int]:
    """Write the repository at `dest`; returns counts by commit kind."""
    return _Builder(plan).run(dest)


class _Builder:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.rng = rng = random.Random(plan.seed)
        self.files: dict[str, FileState] = dict(plan.scaffold)
        self.files.setdefault("CHANGELOG.md", FileState(None, "# Changelog\n", kind="doc"))
        self.team = rng.sample(AUTHORS, rng.randint(3, 6))
        self.recent: list[tuple[int, str, dict[str, tuple[str, list[str], str, int]]]] = []
        self.last_touch: dict[str, int] = {}
        self.workarounds: list[tuple[str, str, str]] = []  # (path, block text, issue)
        self.pr = rng.randint(10, 300)

    def author(self) -> tuple[str, str, str]:
        rng = self.rng
        return self.team[min(int(rng.expovariate(0.9)), len(self.team) - 1)] if rng.random() < 0.93 else rng.choice(AUTHORS)

    def pick(self, kind: str = "filler") -> str | None:
        names = [p for p, f in self.files.items() if f.kind == kind and f.lang]
        return self.rng.choice(names) if names else None

    def issue(self) -> str:
        return self.rng.choice(ISSUES).format(dep=self.rng.choice(self.plan.deps or ["upstream"]),
                                              noun=self.rng.choice(self.plan.nouns))

    def run(self, dest: Path) -> dict[str, int]:
        plan, rng, files = self.plan, self.rng, self.files
        stream = Stream(dest)
        pending = list(plan.pending)
        n_add = min(max(plan.commits - 1, 0), (len(pending) + 7) // 8) if pending else 0
        add_at = sorted(rng.sample(range(1, plan.commits), n_add)) if n_add else []
        per_add = [len(pending) // n_add + (1 if i < len(pending) % n_add else 0) for i in range(n_add)]
        when = plan.start
        stream.commit(rng.choice(self.team), when, "Initial commit\n",
                      [("M", p, f.text()) for p, f in sorted(files.items())])
        counts = {"initial": 1}
        adds = dict(zip(add_at, per_add, strict=True))
        for i in range(1, plan.commits):
            when += int(rng.expovariate(1 / plan.gap)) + 60
            if i in adds:
                batch, pending = pending[:adds[i]], pending[adds[i]:]
                files.update(batch)
                self.pr += 1
                area = os.path.dirname(batch[0][0]) or "root"
                msg = f"Add {area} {rng.choice(('module', 'helpers', 'package', 'handlers'))} (#{self.pr})\n"
                stream.commit(self.author(), when, msg, [("M", p, f.text()) for p, f in batch])
                counts["add"] = counts.get("add", 0) + 1
                continue
            kind, who, msg, changes, before = self.one(stream, i)
            mark = stream.commit(who, when, msg, changes)
            for op, path, data in changes:
                self.last_touch[str(data) if op == "R" else path] = mark
            counts[kind] = counts.get(kind, 0) + 1
            if kind not in ("revert", "rename") and before:
                self.recent.append((mark, msg.splitlines()[0], before))
                del self.recent[:-20]
        stream.finish()
        return counts

    def one(self, stream: Stream, i: int) -> tuple[str, tuple[str, str, str], str, list, dict]:
        """One commit other than an add: (kind, author, message, changes, contents before)."""
        plan, rng, files = self.plan, self.rng, self.files
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        changes: list[tuple[str, str, bytes | str | None]] = []
        before: dict[str, tuple[str, list[str], str, int]] = {}
        who = self.author()
        self.pr += 1
        pr = self.pr

        def edit(path: str, note: str | None = None, append: bool = False) -> str:
            f = files[path]
            before.setdefault(path, f.snapshot())
            block = BLOCKS[f.lang](rng, note) if f.lang else f"- {note or i}\n"
            if f.kind == "filler" and f.blocks and not append and rng.random() < 0.7:
                f.blocks[rng.randrange(len(f.blocks))] = block
            else:
                f.blocks.append(block)
            changes.append(("M", path, f.text()))
            return block

        revertible = [r for r in self.recent if all(self.last_touch.get(p) == r[0] and p in files for p in r[2])]
        if kind == "revert" and revertible:
            entry = rng.choice(revertible)
            self.recent.remove(entry)
            mark, subject, prior = entry
            for rpath, snap in sorted(prior.items()):
                before[rpath] = files[rpath].snapshot()
                files[rpath].restore(snap)
                changes.append(("M", rpath, files[rpath].text()))
            return kind, who, f"Revert \"{subject}\"\n\nThis reverts commit {stream.sha(mark)}.\n", changes, before
        if kind == "workaround" and (path := self.pick() or self.pick("code")):
            text = self.issue()
            block = edit(path, note=f"Workaround: {text}. Remove once fixed upstream (#{pr}).", append=True)
            self.workarounds.append((path, block, text))
            return (kind, who, f"Work around {text} (#{pr})\n\nThe real fix belongs upstream; this keeps "
                    "production healthy meanwhile.\n", changes, before)
        if kind == "hotfix" and (path := self.pick("code") or self.pick()):
            text = self.issue()
            edit(path, note=f"Hotfix for {text}.", append=True)
            return kind, who, rng.choice((f"Hotfix: {text}\n", f"hotfix({plan.name}): {text} (#{pr})\n")), changes, before
        live = [w for w in self.workarounds if w[0] in files and w[1] in files[w[0]].blocks]
        if kind == "remove_workaround" and live:
            path, block, text = entry2 = rng.choice(live)
            self.workarounds.remove(entry2)
            before[path] = files[path].snapshot()
            files[path].blocks.remove(block)
            changes.append(("M", path, files[path].text()))
            return kind, who, f"Remove workaround for {text} (#{pr})\n\nFixed upstream.\n", changes, before
        regen = sorted(p for p, f in files.items() if f.regen and f.kind == ("static" if kind == "bump" else "contract"))
        if kind in ("bump", "contract") and regen:
            path = rng.choice(regen)
            f = files[path]
            before[path] = f.snapshot()
            f.gen += 1
            f.header = f.regen(f.gen)  # type: ignore[misc]
            changes.append(("M", path, f.text()))
            if kind == "bump":
                return kind, BOT, f"Bump dependencies in {path} (#{pr})\n\nBumps the grpc and framework versions.\n", changes, before
            return kind, who, f"Add attribute_{f.gen - 1} to {os.path.basename(path)} (#{pr})\n", changes, before
        if kind == "rename" and (path := self.pick()):
            parent, base = os.path.split(path)
            new = os.path.join(parent, f"{rng.choice(VERBS)}_{base}")
            if new in files:
                new = os.path.join(parent, f"{i}_{base}")
            files[new] = files.pop(path)
            self.workarounds = [(new if p == path else p, b, t) for p, b, t in self.workarounds]
            changes.append(("R", path, new))
            return kind, who, f"Move {base} to {os.path.basename(new)} (#{pr})\n", changes, before
        if kind == "regression_test" and (path := self.pick()):
            edit(path, append=True)
            return kind, who, f"Add regression test for {rng.choice(plan.nouns)} {rng.choice(NOUNS)} parsing (#{pr})\n", changes, before
        path = self.pick() or self.pick("code") or "CHANGELOG.md"
        second = self.pick() if rng.random() < 0.25 else None
        for p in sorted({path, second or path}):
            edit(p)
        verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
        msg = rng.choice((f"Refactor {verb} {noun} helpers", f"Fix {noun} {verb} edge case",
                          f"Improve logging in {os.path.dirname(path) or 'root'}", f"Extract {pascal(verb, noun)}",
                          f"Speed up {noun} {verb}", f"Clean up {noun} handling"))
        return "change", who, msg + (f" (#{pr})\n" if rng.random() < 0.8 else "\n"), changes, before
