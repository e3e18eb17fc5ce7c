"""GitHub Actions workflow commands: one `::error`/`::warning` annotation per breaking finding, placed on
the working-tree line, with the values escaped as the runner expects (%, CR, LF; and : , in properties).
Accepted (suppressed) findings are not annotated."""

from __future__ import annotations

from collections.abc import Sequence

from lore.check.findings import ERROR, NOTE, Finding


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def commands(findings: Sequence[Finding], prefix: str = "") -> list[str]:
    """`prefix` is the repo's folder relative to the checkout root ('' when they are the same)."""
    out = []
    for f in findings:
        if f.suppressed:
            continue
        level = "error" if f.severity == ERROR else ("notice" if f.severity == NOTE else "warning")
        path = f"{prefix.rstrip('/')}/{f.at.path}" if prefix else f.at.path
        r = f.at.range
        props = [f"file={_prop(path)}", f"line={r.start_line + 1}"]
        if r.end_line > r.start_line:
            props.append(f"endLine={r.end_line + 1}")
        props.append(f"title={_prop(f'lore: {f.rule}')}")
        msg = f.message
        if f.consumers:
            msg += "\nKnown consumers that would break:\n" + "\n".join(
                f"- {c.service or '(no service)'}: {c.repo}/{c.path}:{c.line + 1}" for c in f.consumers[:20])
        out.append(f"::{level} {','.join(props)}::{_data(msg)}")
    return out
