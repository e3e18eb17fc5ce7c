"""A change report as one pull-request comment (`lore review`): a hidden marker (so a CI job finds and
updates its own comment), a one-line summary, the owners to notify, then one collapsible `<details>`
block per hunk, most important first (open when it breaks something), each note linked to its line.

Repository text reaches the comment only through `lore.query.render`: `escape_md` in markdown,
`escape_html` inside `<summary>` (HTML, where markdown is not read). Links are built by `links.Links`.
"""

from __future__ import annotations

from indexers.model import Note
from lore.query.render import clean, escape_html, escape_md
from lore.review.links import Links
from lore.review.report import ChangeReport, HunkReport, base_label
from lore.review.text import cut_text

MARKER = "<!-- lore-review -->"
GITHUB_LIMIT = 65536  # characters GitHub accepts in one comment
_SHORT = {"breaking": "breaking", "history": "workaround lines", "deprecated": "deprecated call", "contract": "contracts",
          "owners": "owners", "notes": "team notes", "markers": "markers", "decisions": "decisions"}


def render_markdown(report: ChangeReport, links: Links | None = None, *, title: str = "Lore: what this change touches",
                    marker: str = MARKER) -> str:
    links = links or Links("none")
    out = [marker, f"### {escape_md(title, 200)}", "", _summary_line(report)]
    if report.owners:
        out += ["", "**Owners to notify**"]
        out += [f"- {_note(n, links)}" for n in report.owners]
    for i, h in enumerate(report.hunks, 1):
        out += ["", _hunk(i, h, links)]
    tail = _footer(report)
    if tail:
        out += ["", f"<sub>{tail}</sub>"]
    return "\n".join(out) + "\n"


def _summary_line(report: ChangeReport) -> str:
    counts = report.counts()
    bits = []
    for name, one, many in (("breaking", "breaking change", "breaking changes"), ("history", "workaround line edit", "workaround line edits"),
                            ("deprecated", "deprecated call", "deprecated calls")):
        n = counts.get(name, 0)
        if n:
            bits.append(f"**{n} {one if n == 1 else many}**")
    shown = len(report.hunks) + (report.cut.hunks if report.cut else 0)
    bits.append(f"{shown} of {report.total} hunk{'s' if report.total != 1 else ''} with context")
    bases = ", ".join(f"{escape_md(r, 100)} `{sha[:12]}`" for r, sha in report.repos[:4]) + (", ..." if len(report.repos) > 4 else "")
    label = escape_md(base_label(report.base), 100)
    bits.append(f"against {label} ({bases})" if bases else f"against {label}")
    if not report.total:
        return f"No change against {label}."
    return " · ".join(bits)


def _hunk(i: int, h: HunkReport, links: Links) -> str:
    opened = " open" if any(s.name == "breaking" for s in h.sections) else ""
    kinds = ", ".join(dict.fromkeys(_SHORT.get(s.name, s.name) for s in h.sections))
    target = links.line(h.repo, h.path, h.line - 1) if h.path else None
    where = escape_html(h.where, 300)
    head = f"<summary><b>{i}.</b> <code>{where}</code> — {escape_html(h.what, 100)} · {escape_html(kinds, 200)}</summary>"
    body = [f"<details{opened}>", head, ""]
    if target:
        body.append(f"[{escape_md(h.where, 300)}]({target})" + (f" (renamed from {escape_md(h.old_path, 300)})"
                                                             if h.old_path and h.path and h.old_path != h.path else ""))
        body.append("")
    for s in h.sections:
        if s.name == "owners":
            body.append(f"**{escape_md(s.title)}**: " + ", ".join(escape_md(str(n.data.get('owner', '')), 200) for n in s.notes))
            body.append("")
            continue
        body.append(f"**{escape_md(s.title)}**")
        body += [f"- {_note(n, links)}" for n in s.notes]
        body.append("")
    body.append("</details>")
    return "\n".join(body)


def _note(n: Note, links: Links) -> str:
    text = escape_md(n.text, 800)
    if not n.source:
        return text
    url = links.for_note(n)
    cite = escape_md(n.source[:12] if _is_sha(n.source) else n.source, 200)
    return f"{text} — [{cite}]({url})" if url else f"{text} — `{n.source[:12] if _is_sha(n.source) else _code(n.source)}`"


def _is_sha(s: str) -> bool:
    return len(s) in (40, 64) and all(c in "0123456789abcdef" for c in s)


def _code(s: str) -> str:
    """A citation inside backticks: no backtick or control character can close or break it."""
    return clean(s, 200).replace("`", "'")


def _footer(report: ChangeReport) -> str:
    bits = []
    if report.bound:
        bits.append(f"Provider and consumer lists are a {escape_md(report.bound, 400)}.")
    bits += [escape_md(p, 300) for p in report.problems[:5]]
    if report.quiet:
        bits.append(f"{report.quiet} hunk{'s' if report.quiet != 1 else ''} with nothing to say.")
    if report.folded:
        bits.append(f"{report.folded} repeated fact{'s' if report.folded != 1 else ''} shown once.")
    if report.cut is not None:
        bits.append(escape_md(cut_text(report.cut, "--max-chars"), 400))
    return " · ".join(bits)
