"""The one place that turns query results into text and markdown, and the one place that escapes
repository-controlled text (commit messages, comments, spec descriptions, file names).

Markdown output never carries raw HTML or links that a repository wrote: every repository string goes
through `escape_md` (or `escape_inline` mid-line, or `code` as a code span), which escapes the markdown
punctuation that could form markup, a link, an image or emphasis, and nothing more (editors that show
markdown source, like Neovim, show every needless backslash); turns `<` that could open a tag and `&`
that could form an entity into entities (so no HTML), and breaks `command:`/`vscode:` schemes. The only
links in the output are `file://` links Lore builds itself from paths it percent-encodes.

Text for a terminal goes through `safe_text` (and JSON through `safe_json`): the one sanitiser for every
output, which drops C0 controls but tab and newline (so no ESC sequence: OSC 8 links, clear-screen,
cursor moves; no carriage return to overwrite a line), DEL, the C1 controls U+0080-U+009F (U+009B is
a one-character CSI, U+009D an OSC) and the bidi embeddings, overrides and isolates that reorder what
the reader sees.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from indexers.model import Location, Section

if TYPE_CHECKING:
    from lore.query.context import Context

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# What markdown needs escaped, and no more (Neovim shows every backslash it does not need): code spans,
# emphasis, links and images, strikethrough; `_` only where it can open or close emphasis (not inside
# snake_case); `]` only where it could close a link; `\` only before punctuation; `<` only where it could
# open HTML or an autolink; `&` only where it would form an entity.
_ALWAYS = re.compile(r"[`*\[~]")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_CLOSE_BRACKET = re.compile(r"\](?=[(\[:])")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?]|$)")  # at the end, too: the next fragment may start a tag
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_BLOCK_START = re.compile(r"^([#+\-=>|])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")
_SCHEMES = re.compile(r"(?i)\b(command|vscode|vscode-insiders|javascript|data)\s*:")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # json.dumps escapes C0 itself


def safe_text(text: str) -> str:
    """Text for a terminal: every control character but tab and newline, and every bidi control, removed."""
    return _CONTROL.sub("", text)


def safe_json(value: object, indent: int | None = 2) -> str:
    """JSON whose strings keep their values but cannot act on a terminal: what `safe_text` would drop is
    written as a \\u escape (JSON text has such characters only inside strings)."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeFormatter(logging.Formatter):
    """Log records (which quote file names and messages from repositories) through `safe_text`."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_text(super().format(record))


def clean(text: str, limit: int = 400) -> str:
    """Collapse whitespace, drop control and bidi-override characters, truncate."""
    text = _CONTROL.sub("", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_md(text: str, limit: int = 400) -> str:
    """Repository text as inert markdown: it reads as written, and no markup, HTML or link can form."""
    text = escape_inline(text, limit)
    text = _BLOCK_START.sub(r"\\\1", text)
    return _ORDERED_START.sub(r"\1\\\2", text)


def escape_inline(text: str, limit: int = 400) -> str:
    """`escape_md` for text placed after other text on a line, where it cannot start a block (a heading,
    a list item, a quote): `#57` stays `#57`."""
    text = clean(text, limit)
    text = _BACKSLASH.sub(r"\\\\", text)
    text = _ALWAYS.sub(lambda m: "\\" + m.group(0), text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _CLOSE_BRACKET.sub(r"\\]", text)
    text = _ENTITY.sub("&amp;", text)
    text = _TAG_OPEN.sub("&lt;", text)
    return _SCHEMES.sub(lambda m: m.group(1) + "\u200b:", text)


def code(text: str, limit: int = 200) -> str:
    """Text as a code span: shown literally by every renderer, so nothing inside needs escaping."""
    text = clean(text, limit)
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def file_uri(path: Path, line: int | None = None) -> str:
    uri = "file://" + quote(str(path.absolute()), safe="/")
    return f"{uri}#L{line + 1}" if line is not None else uri


LinkResolver = Callable[[Location], str | None]


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
