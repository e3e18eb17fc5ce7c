"""Post a review as ONE comment per pull request, updated in place on every push: the previous comment is
found by the hidden marker its first line carries (`markdown.MARKER`), then edited; else one is created.
A change with nothing to say creates no comment, but empties a previous one so it never goes stale.

- GitHub (REST): GET/POST `/repos/{owner}/{repo}/issues/{number}/comments`, PATCH
  `/repos/{owner}/{repo}/issues/comments/{id}`; `Authorization: Bearer <token>` (the workflow's
  GITHUB_TOKEN with `pull-requests: write`).
- GitLab (REST v4): GET/POST `/projects/{id}/merge_requests/{iid}/notes`, PUT `.../notes/{note_id}`;
  `PRIVATE-TOKEN: <token>` (a project access token with the `api` scope).

The token goes only to the API address the CI environment names, and never over plain http except to a
loopback address. Standard library only (urllib); every request has a timeout.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

PER_PAGE = 100
MAX_PAGES = 50
TIMEOUT = 30.0


class PostError(RuntimeError):
    """The comment could not be posted: missing configuration (`usage`) or the API refused."""

    def __init__(self, message: str, usage: bool = False):
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Target:
    host: str  # github | gitlab
    api: str  # API root, no trailing slash
    thread: str  # the comments collection: /repos/o/r/issues/12/comments or /projects/7/merge_requests/3/notes
    edit: str  # the path one comment is edited at, with {id}
    edit_method: str
    headers: dict[str, str]


Opener = Callable[[urllib.request.Request, float], Any]


def _open(req: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - https (or loopback http) only, checked by _api


def _api(url: str) -> str:
    url = url.rstrip("/")
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise PostError(f"{url!r}: the token is sent over https only (or http to a loopback address)", usage=True)
    return url


def github_target(env: Mapping[str, str], pr: int | None = None) -> Target:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    slug = env.get("GITHUB_REPOSITORY", "")
    if not token:
        raise PostError("--post github needs GITHUB_TOKEN (the workflow's token with pull-requests: write)", usage=True)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", slug):
        raise PostError("--post github needs GITHUB_REPOSITORY (owner/name)", usage=True)
    number = pr if pr is not None else _github_pr(env)
    if number is None:
        raise PostError("--post github: no pull request number (pass --pr N, or run on a pull_request event)", usage=True)
    api = _api(env.get("GITHUB_API_URL", "https://api.github.com"))
    return Target("github", api, f"/repos/{slug}/issues/{number}/comments", f"/repos/{slug}/issues/comments/{{id}}", "PATCH",
                  {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"})


def _github_pr(env: Mapping[str, str]) -> int | None:
    path = env.get("GITHUB_EVENT_PATH")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                event = json.load(fh)
            number = (event.get("pull_request") or {}).get("number") or event.get("number")
            if isinstance(number, int) and number > 0:
                return number
        except (OSError, ValueError, AttributeError):
            pass
    m = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF", ""))
    return int(m.group(1)) if m else None


def gitlab_target(env: Mapping[str, str], mr: int | None = None) -> Target:
    token = env.get("LORE_GITLAB_TOKEN") or env.get("GITLAB_TOKEN")
    project = env.get("CI_PROJECT_ID", "")
    iid = mr if mr is not None else (int(env["CI_MERGE_REQUEST_IID"]) if env.get("CI_MERGE_REQUEST_IID", "").isdigit() else None)
    if not token:
        raise PostError("--post gitlab needs LORE_GITLAB_TOKEN (a project access token with the api scope)", usage=True)
    if not project:
        raise PostError("--post gitlab needs CI_PROJECT_ID", usage=True)
    if iid is None:
        raise PostError("--post gitlab: no merge request (pass --pr N, or run in a merge request pipeline)", usage=True)
    api = _api(env.get("CI_API_V4_URL", "https://gitlab.com/api/v4"))
    pid = quote(project, safe="")
    return Target("gitlab", api, f"/projects/{pid}/merge_requests/{iid}/notes", f"/projects/{pid}/merge_requests/{iid}/notes/{{id}}",
                  "PUT", {"PRIVATE-TOKEN": token})


def _call(t: Target, method: str, path: str, body: dict[str, Any] | None, opener: Opener) -> Any:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    headers = {**t.headers, "User-Agent": "lore-review", **({"Content-Type": "application/json"} if data else {})}
    req = urllib.request.Request(t.api + path, data=data, method=method, headers=headers)
    try:
        with opener(req, TIMEOUT) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace") if exc.fp is not None else ""
        raise PostError(f"{t.host} API {method} {path}: HTTP {exc.code} {exc.reason} {detail}".strip()) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PostError(f"{t.host} API {method} {path}: {exc}") from exc
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:
        raise PostError(f"{t.host} API {method} {path}: the answer is not JSON") from exc


def find(t: Target, marker: str, opener: Opener = _open) -> int | None:
    """The id of the first comment whose body starts with `marker` (page by page, oldest first)."""
    for page in range(1, MAX_PAGES + 1):
        sep = "&" if "?" in t.thread else "?"
        extra = "&sort=asc&order_by=created_at" if t.host == "gitlab" else ""
        rows = _call(t, "GET", f"{t.thread}{sep}per_page={PER_PAGE}&page={page}{extra}", None, opener)
        if not isinstance(rows, list):
            raise PostError(f"{t.host} API GET {t.thread}: expected a list of comments")
        for row in rows:
            body = row.get("body") if isinstance(row, dict) else None
            if isinstance(body, str) and body.lstrip().startswith(marker) and isinstance(row.get("id"), int):
                return int(row["id"])
        if len(rows) < PER_PAGE:
            return None
    return None


def post(t: Target, body: str, marker: str, *, empty: bool = False, opener: Opener = _open) -> str:
    """'updated <id>' / 'created <id>' / 'skipped': one comment per thread, found by `marker`. `empty`: the
    review has nothing to say (no comment is created for it; an existing one is updated)."""
    found = find(t, marker, opener)
    if found is not None:
        _call(t, t.edit_method, t.edit.format(id=found), {"body": body}, opener)
        return f"updated {found}"
    if empty:
        return "skipped"
    made = _call(t, "POST", t.thread, {"body": body}, opener)
    return f"created {made.get('id') if isinstance(made, dict) else ''}".strip()
