"""Plain-text report of `lore check` results: one block per repo, used by the CLI and MCP."""

from __future__ import annotations

from lore.check.findings import CheckResult, Finding


def render_text(results: list[tuple[str, CheckResult]]) -> str:
    lines: list[str] = []
    for repo, res in results:
        breaking = res.breaking
        accepted = [f for f in res.findings if f.suppressed]
        base = res.base.split("@", 1)[-1][:12]
        lines.append(f"{repo}: {len(breaking)} breaking change(s) against {base}" + (f", {len(accepted)} accepted" if accepted else ""))
        for f in breaking:
            lines += _finding_text(f)
        for f in accepted:
            lines.append(f"  accepted  {f.at.path}:{f.at.range.start_line + 1}  {f.rule}  {f.message}  ({f.suppressed})")
        for f in res.findings:
            if not f.suppressed and not f.breaking:
                lines += _finding_text(f)
        lines += [f"  note: {n}" for n in res.notes]
    return "\n".join(lines)


def _finding_text(f: Finding) -> list[str]:
    out = [f"  {f.severity:<7}  {f.at.path}:{f.at.range.start_line + 1}  {f.rule}  {f.message}"]
    if f.consumers:
        # Operational findings break readers (alerts, SLOs, dashboards, flag evaluations), named by their entity.
        shown = ", ".join(f"{(c.entity if f.rule.startswith('OPS_') else c.service) or '(no service)'} "
                          f"({c.repo}/{c.path}:{c.line + 1})" for c in f.consumers[:5])
        more = f" and {len(f.consumers) - 5} more" if len(f.consumers) > 5 else ""
        out.append(f"           consumers: {shown}{more}")
    if f.fixes:
        out.append(f"           fixes: {', '.join(x.kind for x in f.fixes)}")
    return out
