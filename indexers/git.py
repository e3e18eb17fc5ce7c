"""The only module that runs git. Every invocation is hardened so that nothing from the repository
runs: no hooks, no fsmonitor, no pager, no external diff or textconv, no filters, no ssh, no transport
at all (every protocol set to `never` on the command line, which beats a repository's per-protocol
setting, and `GIT_NO_LAZY_FETCH=1`, so a partial clone's missing object is an error, never a fetch from
a promisor remote); system config ignored; optional locks off so that reading never writes into the repo.
Repository-set options that would change what history says (`blame.ignoreRevsFile`, replace refs) are
ignored. Git's ownership check (`safe.directory`) stays on: a repository owned by another account is
refused with `UntrustedRepo`, unless the user trusts its path (git's own global `safe.directory`, or
`LORE_TRUST`, a list of paths separated by the OS path separator).

Committed content is read with one long-lived `git cat-file --batch` process (`BlobReader`), never
through checkouts or filters.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

HARDENING = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "core.sshCommand=false",
    "-c", "protocol.allow=never",
    "-c", "core.untrackedCache=false",
    "-c", "core.quotePath=false",
    "-c", "color.ui=false",
    "-c", "log.showSignature=false",
    # Transports: a repository's own `protocol.<name>.allow=always` would beat `protocol.allow=never`,
    # so every transport and remote helper git ships is named (the repo's other names: `repo_overrides`).
    *(arg for name in ("ext", "fd", "file", "ssh", "git", "http", "https", "ftp", "ftps", "testgit")
      for arg in ("-c", f"protocol.{name}.allow=never")),
    "-c", "credential.helper=",
    "-c", "core.alternateRefsCommand=",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
    # Memory: pack windows mapped and delta bases cached are capped (git's defaults map up to 8 GiB and
    # cache 96 MiB per process; a blame on a 57k-commit history held 125-150 MB of resident pages).
    "-c", "core.packedGitWindowSize=16m",
    "-c", "core.packedGitLimit=64m",
    "-c", "core.deltaBaseCacheLimit=16m",
    # History as committed: a repository may not hide commits from blame.
    "-c", "blame.ignoreRevsFile=",
    "-c", "blame.markIgnoredLines=false",
    "-c", "blame.markUnblamableLines=false",
)

class GitError(RuntimeError):
    """git failed; the message names the repository and git's own reason."""


class UntrustedRepo(GitError):
    """git refused a repository owned by another account (its `safe.directory` check)."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_OPTIONAL_LOCKS="0",
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_ASKPASS="/bin/false",
        SSH_ASKPASS="/bin/false",
        GIT_PAGER="cat",
        GIT_EXTERNAL_DIFF="",
        GIT_NO_LAZY_FETCH="1",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_PROTOCOL_FROM_USER="0",
        LC_ALL="C.UTF-8",
    )
    # Never let a repository's global-config lookalike redirect us.
    env.setdefault("HOME", os.environ.get("HOME", "/nonexistent"))
    return env


def trusted_paths() -> tuple[str, ...]:
    """Paths the user trusts although another account owns them (`LORE_TRUST`)."""
    raw = os.environ.get("LORE_TRUST", "")
    return tuple(str(Path(p).absolute()) for p in raw.split(os.pathsep) if p.strip())


def _trust_args() -> tuple[str, ...]:
    return tuple(arg for p in trusted_paths() for arg in ("-c", f"safe.directory={p}"))


_OVERRIDES: dict[str, tuple[float, tuple[str, ...]]] = {}
_DRIVER_KEY = re.compile(r"^(filter|diff|merge)\.(.+)\.(clean|smudge|process|textconv|command|driver)$")
_PROTOCOL_KEY = re.compile(r"^protocol\.(.+)\.allow$")
_DUBIOUS = re.compile(r"detected dubious ownership in repository at '(?P<path>[^']*)'")


def repo_overrides(repo: str | Path) -> tuple[str, ...]:
    """`-c` settings that blank every filter/diff/merge driver the repository's config defines, so that
    no clean/smudge/process filter, textconv or external diff command can run even where git would
    apply .gitattributes, and set every transport it allows by name to `never`. Reading config runs
    nothing; cached per repo until its config changes."""
    cfg = Path(repo) / ".git" / "config"
    try:
        mtime = cfg.stat().st_mtime
    except OSError:
        mtime = -1.0
    key = str(repo)
    hit = _OVERRIDES.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    proc = subprocess.run(["git", "--no-pager", *HARDENING, *_trust_args(), "-C", key, "config", "--null", "--get-regexp",
                           r"^((filter|diff|merge)\..*\.(clean|smudge|process|textconv|command|driver)|protocol\..*\.allow)$"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=_env(), timeout=30)
    out: list[str] = []
    for rec in proc.stdout.split(b"\0"):
        name = rec.split(b"\n", 1)[0].decode("utf-8", "replace")
        if _PROTOCOL_KEY.match(name):
            out += ["-c", f"{name}=never"]
            continue
        m = _DRIVER_KEY.match(name)
        if m:
            out += ["-c", f"{name}="]
            if m.group(1) == "filter":
                out += ["-c", f"filter.{m.group(2)}.required=false"]
    result = tuple(out)
    _OVERRIDES[key] = (mtime, result)
    return result


def command(repo: str | Path, *args: str) -> list[str]:
    if args and args[0] == "blame":  # the config reset above does not reach a repo-set list; the flag does
        args = ("blame", "--ignore-revs-file=", *args[1:])
    return ["git", "--no-pager", *HARDENING, *_trust_args(), *repo_overrides(repo), "-C", str(repo), *args]


def _failure(repo: str | Path, args: Sequence[str], stderr: bytes, code: int) -> GitError:
    reason = stderr.decode("utf-8", "replace").strip()
    m = _DUBIOUS.search(reason)
    if m:
        return UntrustedRepo(untrusted_message(m.group("path") or str(repo)))
    lines = [ln for ln in reason.splitlines() if ln.strip()]
    return GitError(f"{repo}: git {args[0] if args else ''} failed: {lines[-1] if lines else f'exit {code}'}")


def untrusted_message(path: str) -> str:
    try:
        owner = Path(path).stat().st_uid
        whose = f"owned by uid {owner}, not by you (uid {os.geteuid()})"
    except OSError:
        whose = "owned by another account"
    return (f"{path}: skipped: the repository is {whose}; git refuses it and so does Lore. "
            f"If you trust it, run `git config --global --add safe.directory {path}` or set LORE_TRUST={path}")


# How much lower than the process's own the priority of `run(..., background=True)` children is (0: the
# same). A long-lived process that answers requests (the server) sets it: a `git blame` read ahead of the
# hovers then takes the cores the hovers leave idle, not the ones they need.
BACKGROUND_NICENESS = 0


def run(repo: str | Path, *args: str, check: bool = True, input: bytes | None = None,
        timeout: float | None = 600, background: bool = False) -> bytes:
    """Run a hardened git command and return stdout bytes. With `background`, at the priority
    `BACKGROUND_NICENESS` says."""
    if background and BACKGROUND_NICENESS > 0:
        return Started(repo, *args, timeout=timeout, input=input, niceness=BACKGROUND_NICENESS).result(check=check)
    try:
        proc = subprocess.run(command(repo, *args), input=input, capture_output=True, env=_env(), timeout=timeout,
                              check=False, stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError as exc:  # pragma: no cover - git missing
        raise GitError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"{repo}: git {args[0]} timed out") from exc
    if check and proc.returncode != 0:
        raise _failure(repo, args, proc.stderr, proc.returncode)
    return proc.stdout


def popen(repo: str | Path, *args: str, stderr: IO[bytes] | None = None,
          stdin: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """A streaming hardened git process (stdout piped; stderr to `stderr` and stdin from `stdin`, files,
    when given)."""
    return subprocess.Popen(command(repo, *args), stdout=subprocess.PIPE, stderr=stderr or subprocess.DEVNULL,
                            stdin=stdin or subprocess.DEVNULL, env=_env())


def last_line(stderr: bytes) -> str:
    """git's own reason for a failure: the last non-empty line of its stderr."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def toplevel(path: str | Path) -> Path | None:
    """The work tree root containing `path`, or None when it is not inside a git work tree."""
    p = Path(path)
    if p.is_file():
        p = p.parent
    if not p.is_dir():
        return None
    try:
        out = run(p, "rev-parse", "--show-toplevel", timeout=30).decode("utf-8", "replace").strip()
    except UntrustedRepo:
        raise
    except GitError:
        return None
    return Path(out) if out else None


def ownership_problem(path: str | Path) -> str | None:
    """Why git would refuse the repository at `path` (another account owns it), or None."""
    try:
        run(path, "rev-parse", "--git-dir", timeout=30)
    except UntrustedRepo as exc:
        return str(exc)
    except GitError:
        return None
    return None


def is_repo_root(path: Path) -> bool:
    return (path / ".git").exists()


def head(repo: str | Path, rev: str = "HEAD") -> str | None:
    """HEAD's sha (or `rev`'s), or None for a repository without commits."""
    try:
        return run(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", timeout=30).decode().strip() or None
    except GitError:
        return None


_LIST = ("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate")


def list_files(repo: str | Path, paths: Sequence[str] | None = None) -> list[str]:
    """Tracked files plus untracked files that are not ignored (so .gitignore holds), repo-relative;
    with `paths`, only those of them (literal pathspecs) that git lists."""
    spec = ["--", *(f":(literal){p}" for p in paths)] if paths is not None else []
    if paths is not None and not paths:
        return []
    return parse_listing(run(repo, *_LIST, *spec))


def parse_listing(out: bytes) -> list[str]:
    """`ls-files -z` output as paths, each once, in git's order."""
    seen: dict[str, None] = {}
    for raw in out.split(b"\0"):
        if raw:
            seen.setdefault(raw.decode("utf-8", "surrogateescape"), None)
    return list(seen)


class Started:
    """A hardened git command running while the caller goes on, its output gathered in a temporary file
    (no pipe to drain); `result()` waits for it. A short batch command overlaps git with its own work
    this way (`indexers.plan.start_listing`); `run(background=True)` runs it `niceness` steps below this
    process's priority."""

    def __init__(self, repo: str | Path, *args: str, timeout: float | None = 600, input: bytes | None = None,
                 niceness: int = 0):
        self.repo, self.args, self.timeout = repo, args, timeout
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.inp = tempfile.TemporaryFile() if input is not None else None
        if self.inp is not None and input is not None:
            self.inp.write(input)
            self.inp.seek(0)
        try:
            self.proc = subprocess.Popen(command(repo, *args), stdout=self.out, stderr=self.err,
                                         stdin=self.inp if self.inp is not None else subprocess.DEVNULL, env=_env())
        except FileNotFoundError as exc:  # pragma: no cover - git missing
            self._close()
            raise GitError("git is not installed") from exc
        if niceness > 0:
            try:
                os.setpriority(os.PRIO_PROCESS, self.proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + niceness))
            except (OSError, AttributeError):
                pass  # it runs at the usual priority

    def _close(self) -> None:
        self.out.close()
        self.err.close()
        if self.inp is not None:
            self.inp.close()

    def result(self, *, check: bool = True) -> bytes:
        """Its stdout once it ended; GitError when it failed (with `check`) or ran out of time."""
        try:
            try:
                code = self.proc.wait(self.timeout)
            except subprocess.TimeoutExpired as exc:
                self.proc.kill()
                self.proc.wait()
                raise GitError(f"{self.repo}: git {self.args[0]} timed out") from exc
            self.out.seek(0)
            out = self.out.read()
            if check and code != 0:
                self.err.seek(0)
                raise _failure(self.repo, self.args, self.err.read(), code)
            return out
        finally:
            self._close()


def submodule_paths(repo: str | Path) -> set[str]:
    """Gitlink entries (submodules): listed by ls-files but not files of this repo."""
    out = run(repo, "ls-files", "-z", "--stage")
    paths: set[str] = set()
    for rec in out.split(b"\0"):
        if rec.startswith(b"160000 "):
            paths.add(rec.split(b"\t", 1)[1].decode("utf-8", "surrogateescape"))
    return paths


def head_and_shallow(repo: str | Path) -> tuple[str | None, bool]:
    """HEAD's sha (None without commits) and whether the clone is shallow, in one git call."""
    return parse_head(run(repo, *_HEAD, check=False, timeout=30))


_HEAD = ("rev-parse", "--is-shallow-repository", "HEAD")


def parse_head(out: bytes) -> tuple[str | None, bool]:
    words = out.decode("utf-8", "replace").split()
    shallow = bool(words) and words[0] == "true"
    sha = words[1] if len(words) > 1 and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", words[1]) else None
    return sha, shallow


def start_listing(repo: str | Path) -> tuple[Started, Started]:
    """`list_files(repo)` and `head_and_shallow(repo)`, both started (see `Started`)."""
    files = Started(repo, *_LIST)
    try:
        return files, Started(repo, *_HEAD, timeout=30)
    except GitError:
        files.result(check=False)
        raise


def shallow_commits(repo: str | Path) -> set[str]:
    """The grafted (cut-off) commits of a shallow clone; empty when the clone is complete."""
    try:
        rel = run(repo, "rev-parse", "--git-path", "shallow", timeout=30).decode().strip()
        path = Path(rel) if Path(rel).is_absolute() else Path(repo) / rel
        return set(path.read_text(encoding="ascii", errors="replace").split()) if path.is_file() else set()
    except (GitError, OSError):
        return set()


def is_partial(repo: str | Path) -> bool:
    """A partial clone (`--filter=...`): objects are missing on purpose and a promisor remote would serve
    them. Lore never fetches (`GIT_NO_LAZY_FETCH`): what needs them falls back or says what is missing."""
    try:
        out = run(repo, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$", check=False,
                  timeout=30)
    except GitError:
        return False
    for line in out.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key.lower() == "extensions.partialclone" or value.strip().lower() in ("true", "yes", "on", "1"):
            return True
    return False


def missing_objects(repo: str | Path, shas: Iterable[str]) -> set[str]:
    """Which of `shas` the object store does not hold (one `cat-file --batch-check`, never a fetch)."""
    wanted = [s for s in dict.fromkeys(shas) if s and "\n" not in s]
    if not wanted:
        return set()
    out = run(repo, "cat-file", "--batch-check", input="\n".join(wanted).encode() + b"\n", check=False, timeout=600)
    return {line.split()[0].decode("ascii", "replace") for line in out.splitlines()
            if line.endswith(b" missing") and line.split()}


def is_shallow(repo: str | Path) -> bool:
    try:
        return run(repo, "rev-parse", "--is-shallow-repository", timeout=30).strip() == b"true"
    except GitError:
        return False


class BlobReader:
    """One long-lived `git cat-file --batch` process for reading committed content by `<rev>:<path>`
    or blob sha. Thread-safe; restart on failure."""

    def __init__(self, repo: str | Path):
        self.repo = str(repo)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(command(self.repo, "cat-file", "--batch"), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
        return self._proc

    def read(self, spec: str) -> bytes | None:
        """Content of `spec` (e.g. 'HEAD:path/to/file' or a blob sha), or None when missing."""
        if "\n" in spec:
            return None
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
                proc.stdin.flush()
                header = proc.stdout.readline()
            except (BrokenPipeError, OSError):
                self.close()
                return None
            parts = header.split()
            if len(parts) < 3 or parts[-1] == b"missing":
                return None
            size = int(parts[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # trailing newline
            return data

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.terminate()
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort
                proc.kill()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ls_tree(repo: str | Path, rev: str, paths: Sequence[str] = ()) -> list[str]:
    out = run(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", *paths)
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


CLONE_SCHEMES = ("https", "http", "ssh", "file")


def clone_url(url: str) -> tuple[str, str]:
    """(scheme, URL) for a clone the user named: https://, http://, ssh:// or scp-like user@host:path,
    file:// or a local path (turned into a file:// URL so that --depth applies). GitError otherwise."""
    url = url.strip()
    m = re.match(r"([a-z][a-z0-9+.-]*)://", url)
    if m:
        scheme = m.group(1)
    elif re.match(r"[^/@:]+@[^/:]+:", url):
        scheme = "ssh"
    elif url.startswith("/"):
        scheme, url = "file", Path(url).as_uri()
    else:
        raise GitError(f"{url}: not a clone URL (https://, ssh://, user@host:path, file:// or an absolute path)")
    if scheme not in CLONE_SCHEMES or url.startswith("-"):
        raise GitError(f"{url}: protocol {scheme!r} is not allowed (allowed: {', '.join(CLONE_SCHEMES)})")
    return scheme, url


def clone(url: str, dest: Path, *, depth: int | None = None, timeout: float = 1800) -> str:
    """Clone an explicit URL the user asked for into `dest` and check out its default branch; returns
    HEAD's sha. The one fetch Lore makes, and only for a command that names the repository: the URL's own
    protocol is allowed for this command alone (never a protocol a repository configures: no submodules,
    no other remotes), no hook template is copied, no tags, one branch, optionally shallow; the checkout
    runs hardened like every other command here (no hooks, no filter, smudge or LFS process)."""
    scheme, url = clone_url(url)
    allow = ["-c", f"protocol.{scheme}.allow=always"]
    if scheme == "ssh":
        allow += ["-c", "core.sshCommand=ssh -o BatchMode=yes"]
    shallow = ["--depth", str(depth)] if depth else []
    dest.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["git", "--no-pager", *HARDENING, *allow, "-C", str(dest.parent), "clone", "--quiet", "--no-checkout",
           "--template=", "--no-tags", "--single-branch", "--no-recurse-submodules", *shallow, "--", url, dest.name]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=_env(), timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"{url}: git clone timed out after {timeout:.0f}s") from exc
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"{url}: git clone failed: {reason[-1] if reason else proc.returncode}")
    sha = head(dest)
    if sha is not None:
        run(dest, "checkout", "--quiet", "--force", sha, timeout=timeout)
    return sha or ""
