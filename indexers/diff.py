"""The hunks of a change: `git diff -U0 -M BASE` of the working tree (tracked files), per file with its
old and new path. Through `indexers.git` (hardened, never fetching); the base is verified to be a commit
before anything else runs, so a base that looks like an option is refused, never passed on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from indexers import git

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OCTAL = re.compile(rb"\\([0-7]{3})")
_ESCAPES = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"r": b"\r", b"v": b"\v"}
MAX_FILES = 5000
MAX_HUNKS = 20_000


@dataclass(frozen=True, slots=True)
class Hunk:
    """One changed stretch, as git numbers it: 1-based starts; a count of 0 is an insertion (old) or a
    deletion (new) after that line."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int

    @property
    def old_lines(self) -> tuple[int, int] | None:
        """0-based, inclusive lines of the base this hunk removes or rewrites, or None (a pure insertion)."""
        return (self.old_start - 1, self.old_start + self.old_count - 2) if self.old_count else None

    @property
    def new_lines(self) -> tuple[int, int] | None:
        """0-based, inclusive lines of the working tree it adds or rewrites, or None (a pure deletion)."""
        return (self.new_start - 1, self.new_start + self.new_count - 2) if self.new_count else None


@dataclass(frozen=True, slots=True)
class FileDiff:
    old_path: str | None  # None: the file is new
    new_path: str | None  # None: the file was deleted
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def resolve(root: Path | str, base: str) -> str:
    """The commit sha `base` names in the repository at `root`; GitError when it names none."""
    if not base or base.startswith("-") or any(c in base for c in "\0\n"):
        raise git.GitError(f"{base!r} is not a revision")
    out = git.run(root, "rev-parse", "--verify", "-q", "--end-of-options", f"{base}^{{commit}}", check=False, timeout=30)
    sha = out.decode("utf-8", "replace").strip()
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
        raise git.GitError(f"{root}: {base!r} names no commit")
    return sha


def diff(root: Path | str, base: str = "HEAD", paths: tuple[str, ...] = ()) -> tuple[str, list[FileDiff]]:
    """(base sha, the files the working tree changes against it with their hunks)."""
    sha = resolve(root, base)
    spec = ["--", *(f":(literal){p}" for p in paths)] if paths else ["--"]
    out = git.run(root, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/",
                  "--dst-prefix=b/", sha, *spec, timeout=300)
    return sha, parse(out)


def parse(out: bytes) -> list[FileDiff]:
    files: list[FileDiff] = []
    old: str | None = None
    new: str | None = None
    hunks: list[Hunk] = []
    started = False

    def flush() -> None:
        if started and (old is not None or new is not None) and len(files) < MAX_FILES:
            files.append(FileDiff(old, new, tuple(hunks[:MAX_HUNKS])))

    in_hunks = False  # past the file's header: '--- x' is a removed line '-- x', not a header
    for raw in out.split(b"\n"):
        if raw.startswith(b"diff --git "):
            flush()
            started, old, new, hunks, in_hunks = True, None, None, [], False
        elif raw.startswith(b"@@ "):
            in_hunks = True
            m = _HUNK.match(raw)
            if m:
                hunks.append(Hunk(int(m.group(1)), int(m.group(2)) if m.group(2) is not None else 1,
                                  int(m.group(3)), int(m.group(4)) if m.group(4) is not None else 1))
        elif in_hunks:
            continue
        elif raw.startswith(b"--- "):
            old = _path(raw[4:], b"a/")
        elif raw.startswith(b"+++ "):
            new = _path(raw[4:], b"b/")
        elif raw.startswith(b"rename from "):
            old = _unquote(raw[len(b"rename from "):])
        elif raw.startswith(b"rename to "):
            new = _unquote(raw[len(b"rename to "):])
    flush()
    return files


def _path(raw: bytes, prefix: bytes) -> str | None:
    if raw.rstrip(b"\t") == b"/dev/null":
        return None
    text = raw.rstrip(b"\t")
    if text.startswith(b'"'):
        return _unquote(text)[len(prefix):]
    return text[len(prefix):].decode("utf-8", "surrogateescape") if text.startswith(prefix) else text.decode("utf-8", "surrogateescape")


def _unquote(raw: bytes) -> str:
    """A path as git prints it: C-quoted ("a\\tb", octal bytes) when it holds unusual characters."""
    if not (raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2):
        return raw.decode("utf-8", "surrogateescape")
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i:i + 1]
        if ch == b"\\" and i + 1 < len(body):
            m = _OCTAL.match(body, i)
            if m:
                out.append(int(m.group(1), 8))
                i += 4
                continue
            out += _ESCAPES.get(body[i + 1:i + 2], body[i + 1:i + 2])
            i += 2
            continue
        out += ch
        i += 1
    return bytes(out).decode("utf-8", "surrogateescape")
