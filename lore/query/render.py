"""The one place that turns query results into text and markdown, and the one place that escapes
repository-controlled text (commit messages, comments, spec descriptions, file names).

Markdown output never carries raw HTML or links that a repository wrote: every repository string goes
through `escape_md`, which backslash-escapes markdown punctuation (so no link, image or emphasis can
form), turns `<`/`>`/`&` into entities (so no HTML), and breaks `command:`/`vscode:` schemes. The only
links in the output are `file://` links Lore builds itself from paths it percent-encodes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from indexers.model import Location, Section
from lore.query.context import Context

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|~$])")
_BLOCK_START = re.compile(r"^([#+\-=>])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")
_SCHEMES = re.compile(r"(?i)\b(command|vscode|vscode-insiders|javascript|data)\s*:")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean(text: str, limit: int = 400) -> str:
    """Collapse whitespace, drop control and bidi-override characters, truncate."""
    text = _CONTROL.sub("", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_md(text: str, limit: int = 400) -> str:
    text = clean(text, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _BLOCK_START.sub(r"\\\1", text)
    text = _ORDERED_START.sub(r"\1\\\2", text)
    return _SCHEMES.sub(lambda m: m.group(1) + "\u200b:", text)


def file_uri(path: Path, line: int | None = None) -> str:
    uri = "file://" + quote(str(path.absolute()), safe="/")
    return f"{uri}#L{line + 1}" if line is not None else uri


LinkResolver = Callable[[Location], str | None]


def render_markdown(ctx: Context, *, max_notes: int = 8, resolve: LinkResolver | None = None, show_empty: bool = False) -> str:
    """Concise markdown for a hover: each section a bold title and a few bullet notes with citations."""
    out: list[str] = []
    budget = max_notes
    for sec in ctx.sections:
        if not sec.notes:
            if show_empty and sec.empty:
                out.append(f"**{escape_md(sec.title)}** — _{escape_md(sec.empty)}_")
            continue
        if budget <= 0:
            break
        lines = [f"**{escape_md(sec.title)}**"]
        for note in sec.notes[:budget]:
            lines.append(f"- {escape_md(note.text)}{_citation(note.source, note.location, resolve)}")
        budget -= min(len(sec.notes), budget)
        out.append("\n".join(lines))
    # History gaps are announced once per session (a window message) and in the History section itself;
    # repeating them under every hover would bury the file's own problems.
    problems = [p for p in ctx.problems if not p.startswith("history: ")]
    if problems:
        out.append("**Problems in this file**\n" + "\n".join(f"- {escape_md(p)}" for p in problems[:3]))
    return "\n\n".join(out)


def _citation(source: str, location: Location | None, resolve: LinkResolver | None) -> str:
    if not source:
        return ""
    text = escape_md(source, 160)
    target = resolve(location) if (resolve is not None and location is not None) else None
    if target:
        return f" — [{text}]({target})"
    plain = clean(source, 160).replace("`", "'")
    return f" — `{plain}`"


def render_text(ctx: Context, *, max_notes: int = 50) -> str:
    """Plain text for the terminal: every section, empty ones saying so."""
    head = clean(f"{ctx.repo}/{ctx.path}") + f":{ctx.line + 1}" + (f":{ctx.col + 1}" if ctx.col is not None else "")
    out = [head]
    for sec in ctx.sections:
        out.append(f"\n{clean(sec.title)}")
        if not sec.notes:
            out.append(f"  {clean(sec.empty)}")
            continue
        for note in sec.notes[:max_notes]:
            src = f"  [{clean(note.source, 200)}]" if note.source else ""
            out.append(f"  - {clean(note.text)}{src}")
    if ctx.problems:
        out.append("\nProblems in this file")
        out.extend(f"  - {clean(p)}" for p in ctx.problems)
    return "\n".join(out)


def render_sections_plain(sections: Sequence[Section]) -> str:
    """Sections as plain text for an AI prompt (copy context)."""
    out: list[str] = []
    for sec in sections:
        if not sec.notes:
            continue
        out.append(f"## {clean(sec.title)}")
        out.extend(f"- {clean(n.text)} [{clean(n.source, 200)}]" for n in sec.notes)
    return "\n".join(out)


def escape_html(text: str, limit: int = 400) -> str:
    """Repository text for an HTML context inside markdown (a `<summary>`, where markdown is not read):
    cleaned, `&<>"'` as entities, `command:`-like schemes broken."""
    text = html.escape(clean(text, limit), quote=True)
    return _SCHEMES.sub(lambda m: m.group(1) + "\u200b:", text)
