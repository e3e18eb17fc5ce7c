"""A change report as plain text for the terminal and for agents (`lore context --diff`, MCP `lore_diff`):
the owners to notify, then each hunk with something to say, most important first, every note with its
citation; repository text through `render.clean` (control and bidi characters dropped)."""

from __future__ import annotations

from lore.query.render import clean
from lore.review.report import ChangeReport, Cut, base_label


def render_text(report: ChangeReport, option: str = "--max-chars") -> str:
    out = [headline(report)]
    if report.owners:
        out.append("\nOwners to notify")
        out.extend(f"  - {clean(n.text, 600)}{_src(n.source)}" for n in report.owners)
    for i, h in enumerate(report.hunks, 1):
        renamed = f" (renamed from {h.old_path})" if h.old_path and h.path and h.old_path != h.path else ""
        deleted = " (file deleted)" if not h.path else ""
        out.append(f"\n{i}. {clean(h.where, 600)}{clean(renamed, 600)}{deleted} - {h.what}")
        for s in h.sections:
            if s.name == "owners":  # the reasons are in the summary on top
                out.append(f"   {clean(s.title)}: {', '.join(clean(str(n.data.get('owner', '')), 200) for n in s.notes)}")
                continue
            out.append(f"   {clean(s.title)}")
            out.extend(f"     - {clean(n.text, 800)}{_src(n.source)}" for n in s.notes)
    tail = footer(report, option)
    if tail:
        out.append("")
        out.extend(tail)
    return "\n".join(out)


def _src(source: str) -> str:
    return f"  [{clean(source, 200)}]" if source else ""


def headline(report: ChangeReport) -> str:
    shas = ", ".join(f"{r} {sha[:12]}" for r, sha in report.repos[:6]) + (", ..." if len(report.repos) > 6 else "")
    if not report.total:
        return f"No change against {clean(base_label(report.base))}" + (f" ({shas})." if shas else ".")
    shown = len(report.hunks) + (report.cut.hunks if report.cut else 0)
    return (f"Change against {clean(base_label(report.base))} ({shas}): {shown} of {report.total} hunk{'s' if report.total != 1 else ''} "
            f"in {report.files} file{'s' if report.files != 1 else ''} {'has' if shown == 1 else 'have'} context.")


def footer(report: ChangeReport, option: str = "--max-chars") -> list[str]:
    out = []
    if report.bound:
        out.append(f"Provider and consumer lists are a {clean(report.bound, 600)}.")
    out.extend(f"Note: {clean(p, 600)}" for p in report.problems)
    rest = []
    if report.quiet:
        rest.append(f"{report.quiet} hunk{'s' if report.quiet != 1 else ''} with nothing to say")
    if report.folded:
        rest.append(f"{report.folded} repeated fact{'s' if report.folded != 1 else ''} shown once")
    if rest:
        out.append("; ".join(rest) + ".")
    if report.cut is not None:
        out.append(cut_text(report.cut, option))
    return out


def cut_text(cut: Cut, option: str) -> str:
    parts = ", ".join(f"{name} {n}" for name, n in sorted(cut.by_section.items(), key=lambda kv: -kv[1]))
    hunks = f" and {cut.hunks} hunk{'s' if cut.hunks != 1 else ''}" if cut.hunks else ""
    return (f"Cut to fit {cut.max_chars} characters: {cut.notes} note{'s' if cut.notes != 1 else ''}"
            + (f" ({parts})" if parts else "") + f"{hunks}, the least important first; ask again with a larger {option} "
            "or for fewer paths.")
