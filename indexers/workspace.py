"""What a workspace is: the git repositories that together form one system, plus imported shards.

`lore.toml` at the workspace root lists them:

    [[repo]]
    name = "contracts"
    path = "contracts"          # relative to lore.toml

    [[shard]]
    path = "shards/payments.lore-shard"

    [shards]                    # a shard store that each repo's CI publishes to (indexers.shardstore)
    source = "s3://org-lore/shards"
    repos = ["payments", "team-*"]      # which repos to pull (globs; default: all)
    endpoint_url = "http://127.0.0.1:9000"  # optional: MinIO, R2, GCS interoperability, ...

    [index]
    max_file_size = 2000000     # bytes, or "2MB"
    exclude = ["docs/generated/**"]
    file_budget = 10            # seconds of extraction per file; a file that takes longer is skipped

Without `[shards]`, the LORE_SHARDS environment variable names the store (as CI jobs set it). Without
lore.toml: the git repository that contains the path; or, for a folder of checkouts, every git
repository directly under it. Errors in `lore.toml` name the line and the key.

Trust: a `lore.toml` is read only when it is owned by the user (or root) and nobody else may write it,
so another account cannot plant one in a shared parent folder; a repository owned by another account
is skipped with a message (git's own ownership check, see `indexers.git`). What was skipped is in
`Workspace.warnings`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers import git
from indexers.budget import DEFAULT_FILE_BUDGET

CONFIG_NAME = "lore.toml"
DEFAULT_MAX_FILE_SIZE = 2_000_000


class WorkspaceError(ValueError):
    """A workspace that cannot be used; the message is one clear line."""


@dataclass(frozen=True)
class RepoSpec:
    name: str
    root: Path


@dataclass(frozen=True)
class ShardSource:
    """`[shards]`: a shard store to pull from (see indexers.shardstore)."""

    url: str
    repos: tuple[str, ...] = ("*",)
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Workspace:
    root: Path
    repos: tuple[RepoSpec, ...]
    shards: tuple[Path, ...] = ()
    config_path: Path | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: tuple[str, ...] = ()
    file_budget: float = DEFAULT_FILE_BUDGET  # seconds of extraction per file
    check: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what discovery skipped and why (untrusted lore.toml or repos)
    shard_source: ShardSource | None = None
    # [[repo]] paths of lore.toml that are not folders: the server indexes the rest and says so, a command
    # line run stops on them (`require_repos`), since a CI job or a script should not pass on half a system
    absent: tuple[str, ...] = ()

    def require_repos(self) -> None:
        """Raise a WorkspaceError naming the first [[repo]] path of lore.toml that does not exist."""
        if self.absent:
            raise WorkspaceError(self.absent[0])

    def repo(self, name: str) -> RepoSpec | None:
        return next((r for r in self.repos if r.name == name), None)

    def locate(self, path: str | Path) -> tuple[RepoSpec, str] | None:
        """The repo containing an absolute path and the repo-relative POSIX path."""
        found = locate_in(((r.name, r.root) for r in self.repos), path)
        return (self.repo(found[0]), found[1]) if found else None  # type: ignore[return-value]


def locate_in(roots: Iterable[tuple[str, Path]], path: str | Path) -> tuple[str, str] | None:
    """(name, repo-relative POSIX path) of the innermost root containing `path` (symlinks resolved when
    the plain path is outside every root), or None."""
    p = Path(path).absolute()
    best: tuple[str, str] | None = None
    best_len = -1
    for name, root in roots:
        try:
            rel = p.relative_to(root)
        except ValueError:
            try:
                rel = p.resolve().relative_to(root.resolve())
            except (ValueError, OSError):
                continue
        if len(str(root)) > best_len:
            best, best_len = (name, rel.as_posix() if str(rel) != "." else ""), len(str(root))
    return best


# The keys lore.toml may hold, per table; a misspelled one is an error naming its line.
KEYS: dict[str, frozenset[str]] = {
    "repo": frozenset({"name", "path"}),
    "shard": frozenset({"path"}),
    "shards": frozenset({"source", "repos", "endpoint_url", "region"}),
    "index": frozenset({"max_file_size", "exclude", "file_budget"}),
    "check": frozenset({"ignore"}),
    "server": frozenset(),
}


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of {', '.join(sorted(known))})" if known else " (this table takes no keys yet)"


def _no_unknown_keys(table: dict[str, Any], known: frozenset[str], label: str, text: str, path: Path,
                     line: int | None = None) -> None:
    for key in table:
        if key not in known:
            at = _line_of(text, r"^[ \t]*[\"']?" + re.escape(key) + r"[\"']?[ \t]*=")
            at = at if at > 1 or line is None else line
            raise WorkspaceError(f"{path}:{at}: {label} unknown key {key!r}{_did_you_mean(key, known)}")


def _line_of(text: str, pattern: str, occurrence: int = 0) -> int:
    hits = [m.start() for m in re.finditer(pattern, text, re.M)]
    if len(hits) > occurrence:
        return text.count("\n", 0, hits[occurrence]) + 1
    return 1


def _size(value: Any, where: str) -> int:
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*", value)
        if m:
            mult = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[m.group(2).lower()]
            return int(float(m.group(1)) * mult)
    raise WorkspaceError(f"{where}: max_file_size must be a positive number of bytes or a size like '2MB', got {value!r}")


def load_config(path: Path) -> Workspace:
    """Parse lore.toml; every error names the file, the line and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: {exc}") from exc
    base = path.parent
    for key in data:
        if key not in KEYS:
            line = _line_of(text, r"^[ \t]*\[*" + re.escape(key) + r"\b")
            raise WorkspaceError(f"{path}:{line}: unknown key {key!r}{_did_you_mean(key, KEYS)}")
    for table in ("index", "check", "server", "shards"):
        if isinstance(data.get(table), dict):
            _no_unknown_keys(data[table], KEYS[table], f"[{table}]", text, path)
    repos: list[RepoSpec] = []
    raw_repos = data.get("repo", [])
    if not isinstance(raw_repos, list):
        at = _line_of(text, r"^[ \t]*\[?repo\b")
        raise WorkspaceError(f"{path}:{at}: 'repo' must be an array of tables ([[repo]])")
    names: set[str] = set()
    absent: list[str] = []
    for i, entry in enumerate(raw_repos):
        line = _line_of(text, r"^[ \t]*\[\[\s*repo\s*\]\]", i)
        if not isinstance(entry, dict):
            raise WorkspaceError(f"{path}:{line}: [[repo]] entry must be a table")
        rel = entry.get("path")
        if not isinstance(rel, str) or not rel:
            raise WorkspaceError(f"{path}:{line}: [[repo]] is missing the key 'path'")
        root = (base / rel).resolve() if not Path(rel).is_absolute() else Path(rel)
        name = entry.get("name", root.name)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise WorkspaceError(f"{path}:{line}: [[repo]] key 'name' must be a simple name, got {name!r}")
        if name in names:
            raise WorkspaceError(f"{path}:{line}: [[repo]] key 'name': duplicate repo name {name!r}")
        _no_unknown_keys(entry, KEYS["repo"], "[[repo]]", text, path, line)
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            absent.append(f"{path}:{line}: [[repo]] {name!r}: path {rel!r} {what} ({root})")
        names.add(name)
        repos.append(RepoSpec(name, root))
    shards: list[Path] = []
    for i, entry in enumerate(data.get("shard", []) if isinstance(data.get("shard", []), list) else []):
        line = _line_of(text, r"^[ \t]*\[\[\s*shard\s*\]\]", i)
        rel = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not rel:
            raise WorkspaceError(f"{path}:{line}: [[shard]] is missing the key 'path'")
        _no_unknown_keys(entry, KEYS["shard"], "[[shard]]", text, path, line)
        shards.append((base / rel).resolve())
    index = data.get("index", {})
    if not isinstance(index, dict):
        at = _line_of(text, r"^[ \t]*index\b")
        raise WorkspaceError(f"{path}:{at}: 'index' must be a table")
    max_size = DEFAULT_MAX_FILE_SIZE
    if "max_file_size" in index:
        at = _line_of(text, r"^[ \t]*max_file_size\b")
        max_size = _size(index["max_file_size"], f"{path}:{at}: key 'index.max_file_size'")
    budget = index.get("file_budget", DEFAULT_FILE_BUDGET)
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget <= 3600:
        at = _line_of(text, r"^[ \t]*file_budget\b")
        raise WorkspaceError(f"{path}:{at}: key 'index.file_budget' must be a number of seconds (0 < n <= 3600), got {budget!r}")
    exclude = index.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        at = _line_of(text, r"^[ \t]*exclude\b")
        raise WorkspaceError(f"{path}:{at}: key 'index.exclude' must be a list of glob strings")
    check = data.get("check", {})
    if not isinstance(check, dict):
        at = _line_of(text, r"^[ \t]*check\b")
        raise WorkspaceError(f"{path}:{at}: 'check' must be a table")
    source = _shard_source(data.get("shards"), text, path)
    if not repos and not shards and source is None:
        raise WorkspaceError(f"{path}:1: no [[repo]], [[shard]] or [shards] entries")
    trusted, warnings = _trusted_repos(repos)
    if repos and not trusted and not shards and source is None:
        raise WorkspaceError("; ".join(warnings))
    return Workspace(base.resolve(), tuple(trusted), tuple(shards), path, max_size, tuple(exclude), float(budget),
                     check, tuple(warnings), source, tuple(absent))


SHARD_SCHEMES = ("s3://",)


def _shard_source(raw: Any, text: str, path: Path) -> ShardSource | None:
    if raw is None:
        return None
    at = _line_of(text, r"^[ \t]*\[shards\]")
    if not isinstance(raw, dict):
        raise WorkspaceError(f"{path}:{at}: 'shards' must be a table ([shards])")
    url = raw.get("source")
    if not isinstance(url, str) or not url.startswith(SHARD_SCHEMES) or len(url.split("/")) < 3 or not url.split("/")[2]:
        raise WorkspaceError(f"{path}:{at}: [shards] key 'source' must be a store URL like 's3://bucket/prefix', got {url!r}")
    repos = raw.get("repos", ["*"])
    if not isinstance(repos, list) or not repos or not all(isinstance(x, str) and x for x in repos):
        raise WorkspaceError(f"{path}:{at}: [shards] key 'repos' must be a non-empty list of repo names or globs")
    for key in ("endpoint_url", "region"):
        if key in raw and not (isinstance(raw[key], str) and raw[key]):
            raise WorkspaceError(f"{path}:{at}: [shards] key {key!r} must be a non-empty string")
    return ShardSource(url.rstrip("/"), tuple(repos), raw.get("endpoint_url"), raw.get("region"))


def _trusted_repos(repos: Iterable[RepoSpec]) -> tuple[list[RepoSpec], list[str]]:
    """The repos git accepts as the user's; a message for each one another account owns."""
    kept: list[RepoSpec] = []
    warnings: list[str] = []
    for spec in repos:
        problem = git.ownership_problem(spec.root) if spec.root.is_dir() else None
        if problem:
            warnings.append(problem)
        else:
            kept.append(spec)
    return kept, warnings


def config_problem(path: Path) -> str | None:
    """Why a lore.toml may not be trusted: owned by another account, or writable by others."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"{path}: cannot read: {exc}"
    if st.st_uid not in (os.geteuid(), 0):
        return f"{path}: ignored: owned by uid {st.st_uid}, not by you or root"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path}: ignored: others may write it (mode {stat.S_IMODE(st.st_mode):o}); run chmod go-w on it"
    return None


def find_config(start: Path, warnings: list[str] | None = None) -> Path | None:
    """The nearest trusted lore.toml at or above `start`; untrusted ones are skipped (and named in
    `warnings`)."""
    p = start if start.is_dir() else start.parent
    for folder in (p, *p.parents):
        cand = folder / CONFIG_NAME
        if cand.is_file():
            problem = config_problem(cand)
            if problem is None:
                return cand
            if warnings is not None:
                warnings.append(problem)
    return None


def discover(path: str | Path = ".", *, max_file_size: int | None = None, file_budget: float | None = None) -> Workspace:
    """The workspace for a path: lore.toml (here or above), else the enclosing git repo, else every git
    repo directly under the folder."""
    start = Path(path).absolute()
    if not start.exists():
        raise WorkspaceError(f"{start}: no such file or folder")
    warnings: list[str] = []
    cfg = find_config(start, warnings)
    if cfg is not None:
        ws = load_config(cfg)
    else:
        try:
            top = git.toplevel(start)
        except git.UntrustedRepo as exc:  # a .git another account owns, here or in a parent folder
            warnings.append(str(exc))
            top = None
        if top is not None:
            ws = Workspace(top, (RepoSpec(top.name, top),))
        elif start.is_dir():
            found = sorted(d for d in start.iterdir() if d.is_dir() and git.is_repo_root(d))
            trusted, skipped = _trusted_repos(RepoSpec(d.name, d.resolve()) for d in found)
            warnings += skipped
            if not trusted:
                why = f" ({'; '.join(warnings)})" if warnings else ""
                raise WorkspaceError(f"{start}: not a git repository, no lore.toml, and no git repositories directly under it{why}")
            ws = Workspace(start, tuple(trusted))
        else:
            why = f" ({'; '.join(warnings)})" if warnings else ""
            raise WorkspaceError(f"{start}: not inside a git repository and no lore.toml found{why}")
    ws = dataclasses.replace(ws, max_file_size=max_file_size if max_file_size is not None else ws.max_file_size,
                             file_budget=file_budget if file_budget is not None else ws.file_budget,
                             warnings=(*warnings, *ws.warnings))
    env = os.environ.get("LORE_SHARDS", "").strip()
    if ws.shard_source is None and env:  # CI: the store without a [shards] table in the repo
        if not env.startswith(SHARD_SCHEMES) or len(env.split("/")) < 3 or not env.split("/")[2]:
            raise WorkspaceError(f"LORE_SHARDS: must be a store URL like 's3://bucket/prefix', got {env!r}")
        ws = dataclasses.replace(ws, shard_source=ShardSource(env.rstrip("/")))
    return ws
