"""The anatomy of a commit message: prefixes, prose, trailers, bullets, quotations, and what files a change
touched. Shared by the structural rules (`classify`) and the word rules (`words`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Leading bracket tags: backport bots (`[PR #123/abc backport][3.12]`), `[Security]`, `[ci skip]`.
TAGS = re.compile(r"^(?:\[[^\]\n]{1,60}\]\s*)+")
_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^)]*)\))?!?:\s+")
# `path/to/thing: ` or `a.go, b.go: `: a first word of path characters with a `/` or `.` in it (checked
# by the lookahead); possessive repeats, as the word's characters never include the `,` or `:` after it.
_PATH_PREFIX = re.compile(r"^(?=[\w-]*+[/.])[\w./-]++(?:,\s*+[\w./-]++)*+:\s+")
ADVISORY = re.compile(r"\b(?:CVE-\d{4}-\d{4,7}|GHSA(?:-[0-9a-z]{4}){3})\b", re.IGNORECASE)
# Trailers: who signed, reviewed, reported; links and issue numbers. Not the author's prose.
TRAILERS = re.compile(
    r"^(?:[\w-]+-by|Cc|Link|Closes|Fixes|Refs?|References|Bug|Bugs|Issue|Issues|Ticket|Change-Id|PR-URL|Reviewed-on|"
    r"See-also|Signed-off-by|Co-authored-by|Fixes-issue|Resolves|URL|Discussion|git-svn-id)\s*:.*$\n?",
    re.MULTILINE | re.IGNORECASE)
QUOTED_PHRASE = re.compile(r'"[^"\n]{12,200}"|“[^”\n]{12,200}”')
BULLET_LINE = re.compile(r"^\s{0,3}[*-]\s+(\S.*)$", re.MULTILINE)
BULLET = re.compile(r"^\s{0,3}[*-]\s+\S", re.MULTILINE)
SHORTLOG_HEAD = re.compile(r"^\S[^():\n]{0,80}\(\d+\):$")

_BUMP = re.compile(
    r"^(?:bump|update|upgrade|pin|downgrade|lock)\s+(?:the\s+)?(?:dependency|dependencies|module|crate|package|"
    r"gem|rust crate|npm package|\S+ group|\S+)\b.*\b(?:from|to|requirement|digest|version)\b", re.IGNORECASE)
_DEPS_SCOPE = re.compile(r"^(?:deps|dependencies|dep|deps-dev|npm|pip|go|cargo|gomod|docker|gh-actions)$", re.I)
BOT_BODY = ("Bumps ", "Updates the requirements", "This PR contains", "| datasource", "Bumps the ")

_DOC_EXT = (".md", ".rst", ".txt", ".adoc", ".markdown")
_CI_PARTS = (".github/", ".gitlab-ci", ".circleci/", "Jenkinsfile", ".buildkite/", "azure-pipelines", ".travis")


def strip_prefix(subject: str) -> tuple[str, str, str]:
    """(type, scope, rest) of a subject, without its leading bracket tags and its conventional-commit or
    `path/to/thing: ` prefix."""
    subject = TAGS.sub("", subject)
    m = _CONVENTIONAL.match(subject)
    if m:
        return m.group("type").lower(), (m.group("scope") or "").lower(), subject[m.end():]
    m = _PATH_PREFIX.match(subject)
    if m:
        return "", "", subject[m.end():]
    return "", "", subject


def body_prose(body: str) -> str:
    """The prose of a body: no trailers, no quoted lines, no diffs or code blocks; bounded."""
    lines: list[str] = []
    fenced = shortlog = False
    for ln in body[:4000].splitlines():
        if ln.lstrip().startswith("```"):
            fenced = not fenced
            continue
        # A shortlog ("Jane Doe (3):" and the indented subjects under it) quotes other commits' subjects.
        shortlog = bool(SHORTLOG_HEAD.match(ln)) or (shortlog and ln[:1].isspace())
        if fenced or shortlog or ln.startswith((">", "    ", "\t", "+", "|", "<")):
            continue
        lines.append(ln)
    # Quoted phrases are someone else's words: another commit's subject, an error message.
    return QUOTED_PHRASE.sub('""', TRAILERS.sub("", "\n".join(lines))) if lines else ""


def quote(text: str, m: re.Match[str], width: int = 100) -> str:
    """The line of `text` holding the match, trimmed to about `width` characters around it."""
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = text[start:end if end >= 0 else len(text)]
    a, b = m.start() - start, m.end() - start
    if len(line) > width:
        lo = max(0, min(a - (width - (b - a)) // 2, len(line) - width))
        line = ("…" if lo else "") + line[lo:lo + width].strip() + ("…" if lo + width < len(line) else "")
    return " ".join(line.split())


def on_bullet(text: str, m: re.Match[str]) -> bool:
    start = text.rfind("\n", 0, m.start()) + 1
    return bool(BULLET.match(text, start))


def only(files: Sequence[str], test: Callable[[str], bool]) -> bool:
    return bool(files) and all(test(f) for f in files)


def is_doc(path: str) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    if name == "cmakelists.txt" or name.startswith(("requirements", "constraints")) or "requirements/" in low:
        return False  # build and dependency files that happen to end in .txt
    return low.endswith(_DOC_EXT) or path.startswith(("docs/", "doc/")) or "/docs/" in path


def is_test(path: str) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    return (low.startswith(("test/", "tests/", "spec/", "testing/")) or any(f"/{d}/" in low for d in ("test", "tests", "spec"))
            or name.startswith("test_") or name.endswith(("_test.go", "_test.py", "_spec.rb", "_test.rb", ".test.js",
                                                          ".test.ts", ".spec.js", ".spec.ts")))


def is_ci(path: str) -> bool:
    return any(part in path for part in _CI_PARTS)


def is_bump(scope: str, rest: str) -> bool:
    return bool(_DEPS_SCOPE.match(scope)) or bool(_BUMP.match(rest)) or rest.lower().startswith(
        ("update dependency", "update module", "update rust crate", "bump the ", "bump "))



def quoted_free(body: str) -> str:
    """The body without quoted lines (`>`), HTML and code blocks: trailers kept (`Ref: ...GHSA-...`)."""
    if "cve" not in body.lower() and "ghsa" not in body.lower():
        return ""
    return "\n".join(ln for ln in body[:8000].splitlines() if not ln.startswith((">", "<", "|", "    ", "\t")))

