"""Placing a team note in a repository's working tree: read the anchored file (or the editor's buffer of
it), re-attach (`attach`), and when the file is gone follow its renames through git (`follow`), else look
for the code in files of the same name. Cached by the file's content, so a hover over an unchanged file
costs a dictionary lookup.

Files are read the way the indexer reads them: never through a symlink, never a file that holds secrets,
never more than `MAX_BYTES`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from indexers import git
from indexers.discover import skip_reason_by_name, stat_file
from indexers.model import Anchor, TeamNote
from indexers.notes.anchor import split_lines
from indexers.notes.attach import Placement, Prepared, attach, orphan, prepare
from indexers.notes.follow import files_with, index_stamp, renames
from indexers.notes.symbols import Symbol, symbols
from indexers.positions import SourceFile

MAX_BYTES = 2_000_000
MAX_SAME_NAME = 20  # files of the anchored file's name tried when a file is gone and git names no rename
ELSEWHERE = 0.6  # share of the anchored lines a file that is not the anchored one must hold
_CACHE_SIZE = 4096
_TEXTS = 16  # prepared texts kept (lines, index, symbols)

_cache: OrderedDict[tuple[Anchor, str, str], Placement] = OrderedDict()
_gone_cache: OrderedDict[tuple[Anchor, str, str, int], Placement] = OrderedDict()  # by (anchor, repo, HEAD, index)
_lock = threading.Lock()


_last_digest: tuple[str, str] | None = None  # (text, its digest): the same buffer asked about for every note
_texts: OrderedDict[tuple[str, str], tuple[list[str], Prepared, tuple[Symbol, ...]]] = OrderedDict()


def _digest(text: str) -> str:
    global _last_digest
    last = _last_digest
    if last is not None and last[0] is text:
        return last[1]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    _last_digest = (text, digest)
    return digest


def _prepared(path: str, text: str, digest: str) -> tuple[list[str], Prepared, tuple[Symbol, ...]]:
    """A text's lines, normalised index and symbols, made once for all the notes placed in it."""
    key = (path, digest)
    with _lock:
        hit = _texts.get(key)
        if hit is not None:
            _texts.move_to_end(key)
            return hit
    lines = split_lines(text)
    made = (lines, prepare(lines), symbols(path, text))
    with _lock:
        _texts[key] = made
        while len(_texts) > _TEXTS:
            _texts.popitem(last=False)
    return made


def place_in_text(anchor: Anchor, path: str, text: str, strict: bool = False) -> Placement:
    """Where `anchor` is in `text` (the content of `path`), cached by content. `strict`: `path` is another
    file than the anchored one (see `attach`)."""
    digest = _digest(text)
    key = (anchor, path, digest + ("!" if strict else ""))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    lines, ready, syms = _prepared(path, text, digest)
    found = attach(anchor, path, lines, syms, strict, ready)
    with _lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def read_text(root: Path, path: str) -> str | None:
    """A repository file's text as the indexer would read it, or None (missing, a symlink, a secret, too
    large, binary)."""
    if skip_reason_by_name(path) == "secret":
        return None
    cand, _reason = stat_file(root, path, MAX_BYTES)
    if cand is None:
        return None
    try:
        fd = os.open(root / path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES or b"\0" in data[:8192]:
        return None
    return SourceFile("", path, data).text


TextOf = Callable[[str], str | None]


def place(note: TeamNote, root: Path | None, texts: Mapping[str, str] | None = None,
          text_of: TextOf | None = None, listed: Callable[[], list[str]] | None = None,
          head: str | None = None, worktree: bool = True) -> Placement:
    """Where a note is now in the repository at `root` (None: a repo known only from a shard, where the
    anchor cannot be checked: its anchored lines are reported as they were written, status 'unverified').
    `texts` holds editor buffers by path; `text_of` reads any other file (default: the working tree);
    `head`: the repository's HEAD when the caller knows it (saves a git call), or the commit to place the
    note at (with `worktree` False: renames are followed up to `head` only, as in a bare repository)."""
    a = note.anchor
    if root is None:
        return Placement("unverified", a.path, a.start_line, a.end_line, a.symbol, 0.0,
                         "not checked: the repository is known only from a shard")
    buffers = texts or {}
    read = text_of or (lambda p: read_text(root, p))

    def text(p: str) -> str | None:
        return buffers[p] if p in buffers else read(p)

    current = text(a.path)
    if current is not None:
        return place_in_text(a, a.path, current)
    head = head or git.head(root) or ""
    if texts or text_of or listed or not worktree:
        return _gone(a, root, text, listed, head, worktree)
    key = (a, str(root), head, index_stamp(root))
    with _lock:
        hit = _gone_cache.get(key)
    if hit is None:
        hit = _gone(a, root, text, listed, head, worktree)
        with _lock:
            _gone_cache[key] = hit
            while len(_gone_cache) > _CACHE_SIZE:
                _gone_cache.popitem(last=False)
    return hit


def _gone(a: Anchor, root: Path, text: TextOf, listed: Callable[[], list[str]] | None, head: str,
          worktree: bool = True) -> Placement:
    """A note whose file is not where it was: renamed (git), or another file of the same name holds its code."""
    moved = renames(root, a.commit, rev=head or "HEAD", worktree=worktree).get(a.path)
    if moved and (found := text(moved)) is not None:
        got = place_in_text(a, moved, found)
        if got.attached:
            return _renamed(got, a.path)
        return Placement("orphaned", moved, a.start_line, a.end_line, a.symbol, 0.0,
                         f"file renamed from {a.path}, and the code is no longer in it", a.path)
    for other in _same_name(a.path, listed or (lambda: _tracked(root))):
        found = text(other)
        if found is None:
            continue
        got = place_in_text(a, other, found, strict=True)
        if got.attached and got.score >= 0.8:
            return _renamed(got, a.path)
    elsewhere = _elsewhere(a, root, text, None if worktree else head)
    if elsewhere is not None:
        return elsewhere
    return orphan(a, f"{a.path} is gone and git names no file it was renamed to")


def needles(a: Anchor, count: int = 3) -> list[str]:
    """The anchored lines most worth searching for: the longest, stripped, at least 16 characters."""
    lines = sorted({x.strip() for x in a.code if len(x.strip()) >= 16}, key=lambda x: (-len(x), x))
    return lines[:count]


def _elsewhere(a: Anchor, root: Path, text: TextOf, rev: str | None) -> Placement | None:
    """The code of a note whose file is gone, found in another file (files merged, code moved): the files
    holding its most telling lines, the one where it re-attaches clearly best; None when none or several."""
    found: list[Placement] = []
    for other in files_with(root, needles(a), rev):
        if other == a.path or (body := text(other)) is None:
            continue
        got = place_in_text(a, other, body, strict=True)
        if got.attached and got.score >= ELSEWHERE:
            found.append(got)
    found.sort(key=lambda p: p.score, reverse=True)
    if not found or (len(found) > 1 and found[0].score - found[1].score < 0.15):
        return None
    best = found[0]
    how = f"moved to {best.path} from {a.path}, which is gone" + (f"; {best.how}" if best.how else "")
    return Placement(best.status if best.status != "exact" else "moved", best.path, best.start_line, best.end_line,
                     best.symbol, best.score, how, a.path)


def _renamed(p: Placement, old: str) -> Placement:
    how = f"file renamed from {old}" + (f"; {p.how}" if p.how else "")
    return Placement(p.status if p.status != "exact" else "moved", p.path, p.start_line, p.end_line, p.symbol, p.score,
                     how, old)


def _tracked(root: Path) -> list[str]:
    try:
        return git.list_files(root)
    except git.GitError:
        return []


def _same_name(path: str, listed: Callable[[], list[str]]) -> list[str]:
    name = path.rsplit("/", 1)[-1]
    return [p for p in listed() if p.rsplit("/", 1)[-1] == name and p != path][:MAX_SAME_NAME]
