"""The session: open documents as immutable buffers, the current Snapshot, and per-document overlays.

Notifications (didOpen/didChange/didClose) mutate the session on the event loop only; requests and
background work read immutable values (a `Buffer`, a `Snapshot`) and never pygls' workspace documents,
which pygls edits in place. The Snapshot reference is swapped in one assignment when indexing finishes;
an overlay Snapshot (the base with one unsaved buffer re-extracted) is computed off the loop and kept
only while it matches the base it was built on.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from indexers import git
from indexers.budget import DEFAULT_FILE_BUDGET
from indexers.extract import sha256, wanted
from indexers.positions import SourceFile
from indexers.sandbox import Sandbox, not_read
from indexers.snapshot import FileKey, Snapshot, build
from lore.check import baseline
from lsp_server.convert import uri_to_path
from lsp_server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Doc:
    """A document as requests see it: an open buffer (text known) or just a URI (text None)."""

    uri: str
    path: Path | None
    version: int | None = None
    text: str | None = None

    @cached_property
    def lines(self) -> list[str] | None:
        if self.text is None:
            return None
        return self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def empty_snapshot() -> Snapshot:
    return build({}, [])


@dataclass
class Overlay:
    version: int
    base: Snapshot
    snap: Snapshot


@dataclass
class BreakingRun:
    """The breaking-change result of a buffer (`lsp_server.features.breaking.Result`) and the base
    Snapshot it was computed against; reused while both are current."""

    base: Snapshot
    result: Any


class Baselines:
    """The text of a file at the breaking-change baseline (`lore.check.baseline`: merge-base with
    the default branch, else HEAD). The base commit is resolved once per repo and indexing generation
    (a commit or branch switch re-indexes), the text once per (repo, path, base sha), so typing never
    runs git. Thread-safe: called from the request pool."""

    MAX_TEXTS = 64
    MAX_BYTES = 2_000_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shas: dict[str, tuple[tuple[Any, ...], str | None]] = {}
        self._texts: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def text(self, snap: Snapshot, repo: str, path: str) -> tuple[str, str] | None:
        """(base sha, text at the base; '' when the file is new), or None without a usable base."""
        info = snap.repos.get(repo)
        if info is None or info.root is None:
            return None
        stamp = (info.root, info.head, snap.generation)
        with self._lock:
            known = self._shas.get(repo)
        if known is not None and known[0] == stamp:
            sha = known[1]
        else:
            try:
                sha = baseline.resolve_base(info.root)
            except (baseline.BaselineError, git.GitError, OSError) as exc:
                log.info("no breaking-change baseline for %s: %s", repo, exc)
                sha = None
            with self._lock:
                self._shas[repo] = (stamp, sha)
        if sha is None:
            return None
        key = (repo, path, sha)
        with self._lock:
            if key in self._texts:
                self._texts.move_to_end(key)
                return sha, self._texts[key]
        try:
            data = baseline.read_blobs(info.root, sha, [path]).get(path, b"")
        except (git.GitError, OSError) as exc:
            log.info("cannot read %s:%s in %s: %s", sha, path, repo, exc)
            return None
        if len(data) > self.MAX_BYTES:
            return None
        text = SourceFile(repo, path, data).text
        with self._lock:
            self._texts[key] = text
            while len(self._texts) > self.MAX_TEXTS:
                self._texts.popitem(last=False)
        return sha, text


@dataclass
class Session:
    settings: Settings = field(default_factory=Settings)
    snapshot: Snapshot = field(default_factory=empty_snapshot)
    indexed: bool = False
    buffers: dict[str, Doc] = field(default_factory=dict)
    overlays: dict[str, Overlay] = field(default_factory=dict)
    breaking: dict[str, BreakingRun] = field(default_factory=dict)
    baselines: Baselines = field(default_factory=Baselines)
    note_file_uris: set[str] = field(default_factory=set)  # note files whose diagnostics were published last
    sandbox: Sandbox = field(default_factory=Sandbox)  # buffers are extracted in a process that can be killed
    file_budget: float = DEFAULT_FILE_BUDGET  # the workspace's, set when indexing is configured
    _readers: dict[str, git.BlobReader] = field(default_factory=dict)
    _readers_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- documents (event loop only) -----------------------------------------------------------------
    def open(self, uri: str, version: int, text: str) -> Doc:
        doc = Doc(uri, uri_to_path(uri), version, text)
        self.buffers[uri] = doc
        return doc

    def close(self, uri: str) -> None:
        self.buffers.pop(uri, None)
        self.overlays.pop(uri, None)
        self.breaking.pop(uri, None)

    def doc(self, uri: str) -> Doc:
        return self.buffers.get(uri) or Doc(uri, uri_to_path(uri))

    # -- snapshots -----------------------------------------------------------------------------------
    def set_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self.indexed = True

    def snapshot_for(self, uri: str) -> Snapshot:
        """The overlay of an open, changed document when one is ready for the current base; else the base."""
        base = self.snapshot
        ov = self.overlays.get(uri)
        if ov is not None and ov.base is base:
            return ov.snap
        return base

    def head_lines(self, snap: Snapshot, key: FileKey) -> list[str] | None:
        """The file's lines at HEAD (for history diagnostics), read with one cat-file process per repo."""
        root = snap.repo_root(key[0])
        if root is None:
            return None
        with self._readers_lock:
            reader = self._readers.pop(key[0], None)
            if reader is None:
                reader = git.BlobReader(root)
            self._readers[key[0]] = reader  # most recently used last
            # A cat-file process per repo ever touched would pile up across a large workspace: keep a few.
            while len(self._readers) > MAX_READERS:
                stale = self._readers.pop(next(iter(self._readers)))
                stale.close()
        data = reader.read(f"HEAD:{key[1]}")
        if data is None:
            return None
        return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def shutdown(self) -> None:
        self.sandbox.close()
        with self._readers_lock:
            readers, self._readers = list(self._readers.values()), {}
        for r in readers:
            r.close()


MAX_READERS = 4


def locate(snap: Snapshot, doc: Doc) -> FileKey | None:
    return snap.locate(doc.path) if doc.path is not None else None


def overlay(base: Snapshot, doc: Doc, sandbox: Sandbox, budget: float) -> tuple[Snapshot, str | None]:
    """The base Snapshot with the buffer's text re-extracted (worker thread; the extraction itself runs in
    `sandbox`, a process that is killed when it runs past `budget`). The base itself when the buffer
    equals what was indexed, or no extractor reads the file; with the reason when extraction failed or
    ran out of time (then the base too: the buffer is not read)."""
    key = locate(base, doc)
    if key is None or doc.text is None or not wanted(key[1]):
        return base, None
    data = doc.text.encode("utf-8", "surrogatepass")
    digest = sha256(data)
    if base.file_sha(*key) == digest:  # the buffer is what was indexed (known without reading its facts)
        return base, None
    facts = sandbox.extract(key[0], key[1], data, digest, budget)
    problem = not_read(facts)
    return (base, problem) if problem else (base.with_file(facts), None)
