"""Where a review comment's citations point. A note cites a line in the working tree, a line of the base
(what a hunk deleted) or a commit; `Links` turns that into a URL:

- `template`: an http(s) URL with `{repo}`, `{path}`, `{line}` and `{sha}` (the commit of the side cited:
  the repo's HEAD, or the base for deleted lines), e.g. `https://github.com/acme/{repo}/blob/{sha}/{path}#L{line}`;
- `github` / `gitlab`: the code host of the repository under review, from the CI environment
  (GITHUB_SERVER_URL + GITHUB_REPOSITORY; CI_PROJECT_URL), for that repo only (a repo known from a shard
  has no known address: its citations stay text); commits link to their page;
- `relative`: a path relative to the workspace root (`repo/path#L12`), for a comment read next to a
  checkout; `none`: citations as text.

URLs are built from percent-encoded parts only; nothing a repository wrote becomes a scheme or a host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from indexers.model import Note

MODES = ("auto", "github", "gitlab", "relative", "none")
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_HOST = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/-]*)?$")


class LinkError(ValueError):
    """A link mode or template that cannot be used."""


@dataclass(frozen=True)
class Links:
    mode: str = "relative"  # github | gitlab | template | relative | none
    prefix: str = ""  # github/gitlab: the repository's web address; template: the template
    repo: str = ""  # github/gitlab: the workspace repo that address is for
    heads: Mapping[str, str] = field(default_factory=dict)  # repo -> HEAD commit
    bases: Mapping[str, str] = field(default_factory=dict)  # repo -> base commit

    def for_note(self, note: Note) -> str | None:
        """The URL a note's citation links to, or None (cited as text)."""
        loc = note.location
        if _SHA.match(note.source or ""):  # a commit cited: its page, else the line it wrote
            url = self.commit(note.source)
            if url is not None or loc is None:
                return url
        if loc is not None:
            side = "base" if note.data.get("side") == "base" else "head"
            return self.line(loc.repo, loc.path, loc.range.start_line, side)
        return None

    def line(self, repo: str, path: str, line: int, side: str = "head") -> str | None:
        sha = (self.bases if side == "base" else self.heads).get(repo, "")
        if self.mode == "none" or not path:
            return None
        if self.mode == "relative":
            return f"{quote(repo, safe='')}/{quote(path, safe='/')}#L{line + 1}" if side == "head" else None
        if self.mode == "template":
            if "{sha}" in self.prefix and not sha:
                return None
            return (self.prefix.replace("{repo}", quote(repo, safe="")).replace("{path}", quote(path, safe="/"))
                    .replace("{line}", str(line + 1)).replace("{sha}", sha))
        if repo != self.repo or not sha:
            return None
        sep = "/-/blob/" if self.mode == "gitlab" else "/blob/"
        return f"{self.prefix}{sep}{sha}/{quote(path, safe='/')}#L{line + 1}"

    def commit(self, sha: str) -> str | None:
        if self.mode == "github":
            return f"{self.prefix}/commit/{sha}"
        if self.mode == "gitlab":
            return f"{self.prefix}/-/commit/{sha}"
        return None


def links(mode: str, template: str | None, repos: Mapping[str, tuple[str, str]], reviewed: str,
          env: Mapping[str, str] | None = None) -> Links:
    """`repos`: repo -> (HEAD commit, base commit); `reviewed`: the repo a CI job checked out (the one the
    code host's address is for). `auto`: github under GitHub Actions, gitlab under GitLab CI, else relative."""
    env = os.environ if env is None else env
    heads = {r: h for r, (h, _b) in repos.items() if h}
    bases = {r: b for r, (_h, b) in repos.items() if b}
    if template:
        if not re.match(r"^https?://", template) or "{path}" not in template:
            raise LinkError(f"--link-template {template!r}: expected an http(s) URL with {{path}} (and {{repo}}, {{line}}, {{sha}})")
        return Links("template", template, "", heads, bases)
    if mode not in MODES:
        raise LinkError(f"--links {mode!r}: expected one of {', '.join(MODES)}")
    if mode == "auto":
        mode = "github" if env.get("GITHUB_ACTIONS") == "true" else "gitlab" if env.get("GITLAB_CI") else "relative"
    if mode == "github":
        server, slug = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"), env.get("GITHUB_REPOSITORY", "")
        if not slug or not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", slug):
            raise LinkError("--links github needs GITHUB_REPOSITORY (owner/name), as GitHub Actions sets it")
        return Links("github", _address(f"{server}/{slug}"), reviewed, heads, bases)
    if mode == "gitlab":
        url = env.get("CI_PROJECT_URL", "").rstrip("/")
        if not url:
            raise LinkError("--links gitlab needs CI_PROJECT_URL, as GitLab CI sets it")
        return Links("gitlab", _address(url), reviewed, heads, bases)
    return Links(mode, "", "", heads, bases)


def _address(url: str) -> str:
    if not _HOST.match(url):
        raise LinkError(f"{url!r} is not a web address Lore links to")
    return url
