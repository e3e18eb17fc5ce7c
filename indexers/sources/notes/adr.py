"""Architecture decision records: MADR and Nygard-style markdown files in the usual ADR folders.

MADR writes `# Title`, then `* Status: accepted` / `* Date: 2020-01-01` bullets or YAML-ish front matter
(`status:`, `date:`); Nygard (adr-tools) writes `# 1. Record architecture decisions`, `Date: 2018-01-01`
and a `## Status` section whose first line is the status. A decision names what it is about: file paths,
backticked identifiers, service-like names (`orders-service`) and contract IDs (`proto:shop.Cart`);
those become its `mentions`, which link it to code at query time. Templates and indexes are skipped.
"""

from __future__ import annotations

import re

from indexers.model import Decision, FileError, Partial
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename

FOLDERS = ("docs/adr/", "docs/adrs/", "docs/decisions/", "doc/adr/", "doc/decisions/",
           "doc/architecture/decisions/", "docs/architecture/decisions/", "docs/architecture/adr/")
STATUSES = ("proposed", "accepted", "rejected", "deprecated", "superseded", "draft", "deferred", "amended")
MAX_BYTES = 500_000
MAX_MENTIONS = 50

_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_TITLE_NUMBER = re.compile(r"^(?:ADR[-\s]?)?\d+[.:)]?\s*[-:]?\s*", re.IGNORECASE)
# Within one line ([ \t], never \s, which would run over every following blank line from each line start).
_FIELD = re.compile(r"^[ \t]*+(?:[-*+][ \t]+)?(?:\*\*)?(status|date|deciders|decision-makers)(?:\*\*)?[ \t]*:[ \t]*"
                    r"(?:\*\*)?[ \t]*+([^\n]*)$",
                    re.IGNORECASE | re.MULTILINE)
_SECTION = re.compile(r"^##\s+(status|date)\s*$", re.IGNORECASE | re.MULTILINE)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_BACKTICK = re.compile(r"`([^`\n]{2,120})`")
_CONTRACT = re.compile(
    r"\b(?:proto|graphql|sql):[A-Za-z_][\w.]*\w"
    r"|\bopenapi:[\w.-]+:(?:(?:GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS) /[\w/{}.-]*|schema:[\w.]*\w)")
_SERVICE = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)*-(?:service|svc|api|gateway|worker|server|backend|frontend)\b")
_PATH = re.compile(r"(?<![\w/.:-])(?:[\w.-]+/)+[\w.-]+\.[A-Za-z0-9]{1,8}\b|(?<![\w/.:-])(?:[\w.-]+/){2,}")
_IDENT = re.compile(r"^[A-Za-z_][\w.:/-]*(?:\(\))?$")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    fields: dict[str, str] = {}
    for line in text[4:end].splitlines()[:100]:
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "-")):
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[end + 4:]


def _status(raw: str) -> str:
    raw = raw.strip().strip("*_`[]").lower()
    for status in STATUSES:
        if raw.startswith(status):
            return status
    return raw.split("\n", 1)[0][:40]


def _section_first_line(body: str, name: str) -> str:
    for m in _SECTION.finditer(body):
        if m.group(1).lower() == name:
            for line in body[m.end():].splitlines():
                if line.strip().startswith("#"):
                    return ""
                if line.strip():
                    return line.strip()
    return ""


def _mentions(body: str) -> list[str]:
    prose = _FENCE.sub("", body)
    found: dict[str, None] = {}
    for m in _CONTRACT.finditer(prose):
        found.setdefault(m.group(0).strip().rstrip("."), None)
    for m in _BACKTICK.finditer(prose):
        token = m.group(1).strip()
        if _IDENT.match(token) or _CONTRACT.fullmatch(token):
            found.setdefault(token.removesuffix("()"), None)
    without_links = _LINK_TARGET.sub("]", prose)
    for rx in (_PATH, _SERVICE):
        for m in rx.finditer(without_links):
            token = m.group(0)
            if "://" not in without_links[max(0, m.start() - 10):m.start() + 3]:
                found.setdefault(token, None)
    return list(found)[:MAX_MENTIONS]


class AdrExtractor(Extractor):
    name = "adr"
    version = 1

    def wants(self, path: str) -> bool:
        lower = path.lower()
        name = basename(lower)
        if not lower.endswith(".md") or name in ("readme.md", "index.md", "toc.md", "summary.md"):
            return False
        if "template" in name:
            return False
        return any(lower.startswith(f) or f"/{f}" in lower for f in FOLDERS)

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"ADR larger than {MAX_BYTES} bytes: not read")])
        fields, body = _front_matter(src.text)
        m = _TITLE.search(body)
        title = fields.get("title", "") or (m.group(1) if m else "")
        title = _TITLE_NUMBER.sub("", title).strip() or title.strip()
        if not title:
            return Partial(errors=[FileError(src.repo, src.path, "ADR has no '# Title' heading or title: field", 0)])
        bullets = {k.lower(): v for k, v in ((f.group(1), f.group(2).strip()) for f in _FIELD.finditer(body)) if v}
        status = fields.get("status") or bullets.get("status") or _section_first_line(body, "status")
        date_raw = fields.get("date") or bullets.get("date") or _section_first_line(body, "date")
        date = _DATE.search(date_raw or "")
        decision = Decision(id=f"adr:{src.repo}:{src.path}", title=title[:200], status=_status(status or ""),
                            date=date.group(1) if date else "", repo=src.repo, path=src.path,
                            mentions=tuple(_mentions(body)))
        return Partial(decisions=[decision], language="markdown")


EXTRACTORS: list[Extractor] = [AdrExtractor()]
