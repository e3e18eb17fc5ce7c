"""The baseline a change is judged against, read from git without touching the work tree.

The base commit is `git merge-base HEAD <default branch>` (origin/HEAD, else main, else master), else
HEAD itself (what is uncommitted); an explicit `--base REF` is merged-base with HEAD the same way, so a
pull request is judged against the point where it forked. Contract files are listed with `ls-tree` and
read with one `cat-file --batch` process (`git.BlobReader`), never through checkouts.
"""

from __future__ import annotations

from pathlib import Path

from indexers import git


class BaselineError(ValueError):
    """The base cannot be determined (unknown ref, shallow clone, no commits): a configuration error."""


def _verify(root: Path, ref: str) -> str | None:
    if not ref or ref.startswith("-"):
        return None
    try:
        out = git.run(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", timeout=30).decode().strip()
    except git.GitError:
        return None
    return out or None


def default_branch(root: Path) -> str | None:
    try:
        sym = git.run(root, "symbolic-ref", "-q", "refs/remotes/origin/HEAD", timeout=30).decode().strip()
    except git.GitError:
        sym = ""
    if sym.startswith("refs/remotes/") and _verify(root, sym):
        return sym[len("refs/remotes/"):]
    for cand in ("main", "master", "origin/main", "origin/master"):
        if _verify(root, cand):
            return cand
    return None


def resolve_base(root: Path, ref: str | None = None, head: str = "HEAD") -> str:
    """The base commit sha for `head` (see the module docstring)."""
    head_sha = _verify(root, head)
    if head_sha is None:
        raise BaselineError(f"{root}: {head!r} is not a commit (a repository without commits?)")
    target = ref if ref is not None else default_branch(root)
    if target is None:
        return head_sha
    target_sha = _verify(root, target)
    if target_sha is None:
        hint = " (in CI, fetch it: actions/checkout with fetch-depth: 0)" if ref else ""
        raise BaselineError(f"{root.name}: base ref {target!r} not found{hint}")
    try:
        mb = git.run(root, "merge-base", head_sha, target_sha, timeout=60).decode().strip()
    except git.GitError:
        mb = ""
    if mb:
        return mb
    if git.is_shallow(root):
        raise BaselineError(f"{root.name}: no merge base of {head} and {target} in this shallow clone; fetch more history "
                            "(fetch-depth: 0) or pass --base with a commit that is present")
    return target_sha  # unrelated histories: compare with the ref as it is


def list_paths(root: Path, rev: str) -> list[str]:
    return git.ls_tree(root, rev)


def read_blobs(root: Path, rev: str, paths: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with git.BlobReader(root) as reader:
        for p in paths:
            data = reader.read(f"{rev}:{p}")
            if data is not None:
                out[p] = data
    return out


def changed_paths(root: Path, base: str, head: str | None = None) -> list[str]:
    """Paths that differ between `base` and `head` (or the work tree, tracked files, when `head` is None),
    deletions included."""
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base]
    if head is not None:
        args.append(head)
    out = git.run(root, *args, "--", timeout=120)
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
