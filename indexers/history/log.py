"""One streaming `git log` and its parser: commit records (sha, parents, author, date, subject, body, files).

`-z --name-status --no-renames`: file lists come from tree diffs alone, so no file content (blob) is read,
which a partial clone may lack; a rename is its two paths, as rename detection would list them anyway.
When git stops (a missing object), the records it wrote before are complete and kept, and git's own reason
is returned for the caller to report.
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from indexers import git

# Header fields per commit; the record starts with \x1e so a commit boundary is unmistakable.
FORMAT = "%x1e%H%x00%P%x00%aI%x00%an%x00%s%x00%b%x00"
_HEADER_FIELDS = 6
MAX_FILES = 5000  # per commit: a vendoring commit's file list is not worth keeping


def _tokens(stream: Iterator[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in stream:
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _chunks(proc_stdout: IO[bytes], size: int = 1 << 20, idle: Callable[[], bool] | None = None) -> Iterator[bytes]:
    """What git has written so far, as soon as it is there (`read1`): records are parsed (and classified,
    see `log`'s `each`) while git goes on writing, instead of waiting for a full chunk. With `idle`, the
    pipe is read without blocking and `idle()` runs whenever nothing is there yet (it returns whether it
    did some work; when it did none, the read waits for git)."""
    if idle is not None:
        try:
            fd = proc_stdout.fileno()
            os.set_blocking(fd, False)
        except (AttributeError, OSError, ValueError):
            idle = None
    if idle is None:
        read = getattr(proc_stdout, "read1", proc_stdout.read)
        while True:
            chunk = read(size)
            if not chunk:
                return
            yield chunk
    while True:
        try:
            chunk = os.read(fd, size)
        except BlockingIOError:
            if not idle():
                select.select([fd], [], [])
            continue
        if not chunk:
            return
        yield chunk


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class LogRecord:
    __slots__ = ("sha", "parents", "date", "author", "subject", "body", "files")

    def __init__(self, sha: str, parents: list[str], date: str, author: str, subject: str, body: str,
                 files: list[str] | None = None):
        self.sha = sha
        self.parents = parents
        self.date = date
        self.author = sys.intern(author)  # interned: a repo's authors repeat thousands of times
        self.subject = subject
        self.body = body
        self.files: list[str] = files if files is not None else []

    @classmethod
    def from_header(cls, header: list[bytes]) -> LogRecord:
        return cls(_text(header[0][1:]), _text(header[1]).split(), _text(header[2]), _text(header[3]),
                   _text(header[4]), _text(header[5]).strip("\n"))


def _parse(tokens: Iterator[bytes]) -> Iterator[LogRecord]:
    """Records: header fields, an empty terminator, then status/path tokens (two paths for R/C)."""
    current: LogRecord | None = None
    header: list[bytes] = []
    pending_paths = 0
    paths: dict[bytes, str] = {}  # each path decoded and interned once (it recurs in many commits)
    for tok in tokens:
        if pending_paths:
            if current is not None and len(current.files) < MAX_FILES:
                path = paths.get(tok)
                if path is None:
                    path = paths[tok] = sys.intern(_path(tok))  # shared with other commits and the manifest
                current.files.append(path)
            pending_paths -= 1
            continue
        if tok.startswith(b"\x1e") and not header:
            if current is not None:
                yield current
                current = None
            header = [tok]
            continue
        if header:
            if len(header) < _HEADER_FIELDS:
                header.append(tok)
                continue
            current = LogRecord.from_header(header)  # this token is the empty terminator after the body
            header = []
            continue
        status = tok.lstrip(b"\n")
        if not status:
            continue
        pending_paths = 2 if status[:1] in (b"R", b"C") else 1
    if header and len(header) >= _HEADER_FIELDS:
        current = LogRecord.from_header(header)
    if current is not None:
        yield current


def _widen(pipe: IO[bytes]) -> None:
    """Let git write ahead by up to 1 MiB while records are parsed (Linux; elsewhere the default pipe)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError, AttributeError):
        pass


def log(repo: str | Path, *args: str, stdin: IO[bytes] | None = None,
        each: Callable[[LogRecord], None] | None = None,
        idle: Callable[[], bool] | None = None) -> tuple[list[LogRecord], str | None]:
    """Run `git log <args>` with the record format; (records, None) when git finished, else (the records
    it wrote before it stopped, git's reason). `each(record)` is called on every record as soon as it is
    read, while git is still writing the next ones (a record is complete then); `idle()` whenever git has
    written nothing new yet (see `_chunks`): work done there never makes git wait."""
    with tempfile.TemporaryFile() as err:
        proc = git.popen(repo, "log", "-z", "--encoding=UTF-8", "--no-textconv", "--no-ext-diff", "--no-color",
                         "--no-renames", "--name-status", f"--format={FORMAT}", *args, stderr=err, stdin=stdin)
        try:
            assert proc.stdout is not None
            _widen(proc.stdout)
            records = []
            for record in _parse(_tokens(_chunks(proc.stdout, idle=idle))):
                records.append(record)
                if each is not None:
                    each(record)
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
            code = proc.wait()
        if code == 0:
            return records, None
        size = err.seek(0, 2)
        err.seek(max(0, size - 64 * 1024))  # git's reason is its last line
        return records, git.last_line(err.read()) or f"exit {code}"
