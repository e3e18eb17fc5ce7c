"""The fixes an editor offers for a finding, as exact text edits on the working-tree file:

- reserve: a deleted protobuf field or enum value gets `reserved N;` and `reserved "name";` in its
  message or enum, which makes the deletion safe;
- deprecate: the deleted element comes back, marked deprecated (`[deprecated = true]`,
  `option deprecated = true;`, `deprecated: true`, `@deprecated`), to be removed after consumers moved;
- restore: the deleted element comes back as it was at the base.

Re-inserted text goes after the nearest preceding sibling that still exists, else before the next one,
else first in the enclosing block, else at the end of the file.
"""

from __future__ import annotations

import re

from indexers.model import Entity, Span
from indexers.positions import utf16_len, utf16_to_char_col
from lore.check.findings import Change, Edit, Fix
from lore.check.view import View

_NUMBER = re.compile(r"=\s*-?\s*(?:0[xX][0-9a-fA-F]+|\d+)\s*(\[)?")


def _slice(lines: list[str], span: Span) -> tuple[str, bool]:
    """The text of `span` and whether it covers whole lines (only blanks around it)."""
    first, last = lines[span.start_line], lines[span.end_line]
    c0 = utf16_to_char_col(first, span.start_col)
    c1 = utf16_to_char_col(last, span.end_col)
    whole = not first[:c0].strip() and (not last[c1:].strip() or last[c1:].lstrip().startswith(("//", "#", "--")))
    if whole:
        return "\n".join(lines[span.start_line : span.end_line + 1]).rstrip() + "\n", True
    if span.start_line == span.end_line:
        return first[c0:c1], False
    return "\n".join([first[c0:], *lines[span.start_line + 1 : span.end_line], last[:c1]]), False


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _decl_text(old: Entity, base_lines: list[str]) -> str | None:
    if old.extent is None or old.extent.end_line >= len(base_lines):
        return None
    text, whole = _slice(base_lines, old.extent)
    if not whole:
        text = _indent(base_lines[old.extent.start_line]) + text.strip() + "\n"
    return text


def _deprecated(old: Entity, text: str) -> str | None:
    fmt = old.kind.split(".")[0]
    if fmt == "proto":
        if old.kind in ("proto.field", "proto.enum_value"):
            m = _NUMBER.search(text)
            if m is None:
                return None
            if m.group(1):
                return text[: m.end()] + "deprecated = true, " + text[m.end():]
            return text[: m.end()].rstrip() + " [deprecated = true]" + text[m.end():]
        brace = text.find("{")
        if brace < 0 and old.kind == "proto.rpc":
            semi = text.rfind(";")
            return text[:semi].rstrip() + " { option deprecated = true; }" + text[semi + 1:] if semi >= 0 else None
        if brace < 0:
            return None
        indent = _indent(text) + "  "
        return text[: brace + 1] + f"\n{indent}option deprecated = true;" + text[brace + 1:]
    if fmt == "openapi":
        if old.path.endswith(".json"):
            return None
        lines = text.split("\n")
        if len(lines) < 2 or not lines[1].strip():
            return None
        return "\n".join([lines[0], _indent(lines[1]) + "deprecated: true", *lines[1:]])
    if fmt == "graphql" and old.kind in ("graphql.field", "graphql.enum_value"):
        body = text.rstrip("\n")
        return body + " @deprecated" + text[len(body):]
    return None


def _after_open_brace(e: Entity, lines: list[str]) -> int | None:
    """The line after the one holding the `{` that opens `e`'s block in the working tree."""
    if e.extent is None:
        return None
    for ln in range(e.range.start_line, min(e.extent.end_line, len(lines) - 1) + 1):
        start = utf16_to_char_col(lines[ln], e.range.end_col) if ln == e.range.start_line else 0
        if "{" in lines[ln][start:]:
            return ln + 1
    return None


def _insert_line(old: Entity, base: View, head: View, head_lines: list[str]) -> int | None:
    """Where to re-insert `old` in the working-tree file (a line number to insert before)."""
    same = [e for e in (base.kids(old.parent) if old.parent else base.by_id.values())
            if e.extent is not None and e.path == old.path and e.id != old.id and (old.parent or e.parent is None)]
    same.sort(key=lambda e: e.extent.start_line if e.extent else 0)
    assert old.extent is not None
    before = [e for e in same if e.extent and e.extent.end_line < old.extent.start_line]
    after = [e for e in same if e.extent and e.extent.start_line > old.extent.end_line]
    for e in reversed(before):
        h = head.get(e.id)
        if h is not None and h.path == old.path and h.extent is not None:
            return h.extent.end_line + 1
    for e in after:
        h = head.get(e.id)
        if h is not None and h.path == old.path and h.extent is not None:
            return h.extent.start_line
    parent = head.get(old.parent)
    if parent is not None and parent.path == old.path and parent.kind.split(".")[1] in ("message", "enum", "service", "type"):
        return _after_open_brace(parent, head_lines)
    if old.parent is None or (parent is not None and parent.kind in ("proto.package", "openapi.api")) or parent is None:
        return len(head_lines)
    return None


def _insert(repo: str, path: str, line: int, text: str, head_lines: list[str]) -> Edit:
    if line >= len(head_lines):  # past the last line: append, with a line break first if needed
        last = len(head_lines) - 1
        col = utf16_len(head_lines[last]) if last >= 0 else 0
        sep = "\n" if last >= 0 and head_lines[last] != "" else ""
        return Edit(repo, path, Span(max(last, 0), col, max(last, 0), col), sep + text)
    return Edit(repo, path, Span(line, 0, line, 0), text)


def _reserve(change: Change, head: View, head_lines: list[str], editions: bool) -> Fix | None:
    old, parent = change.old, change.anchor
    if old is None or parent is None or parent.path != old.path:
        return None
    line = _after_open_brace(parent, head_lines)
    if line is None:
        return None
    kids = [k for k in head.kids(parent.id) if k.extent is not None]
    indent = _indent(head_lines[kids[0].extent.start_line]) if kids and kids[0].extent else \
        _indent(head_lines[parent.range.start_line]) + "  "
    num = old.attrs.get("number")
    numbers = parent.attrs.get("reserved_numbers") or []
    names = parent.attrs.get("reserved_names") or []
    text = ""
    if isinstance(num, int) and not any(isinstance(r, list) and len(r) == 2 and r[0] <= num <= r[1] for r in numbers):
        text += f"{indent}reserved {num};\n"
    if old.name not in names:
        text += f"{indent}reserved {old.name};\n" if editions else f'{indent}reserved "{old.name}";\n'
    if not text:
        return None
    return Fix("reserve", f"Reserve number {num} and name '{old.name}'", (_insert(old.repo, old.path, line, text, head_lines),))


def fixes_for(change: Change, base: View, head: View, base_text: str | None, head_text: str | None,
              editions: bool = False) -> tuple[Fix, ...]:
    old = change.old
    if not change.fixes or old is None or change.new is not None or base_text is None or head_text is None:
        return ()
    base_lines, head_lines = base_text.split("\n"), head_text.split("\n")
    out: list[Fix] = []
    if "reserve" in change.fixes:
        fix = _reserve(change, head, head_lines, editions)
        if fix is not None:
            out.append(fix)
    text = _decl_text(old, base_lines) if old.extent is not None else None
    line = _insert_line(old, base, head, head_lines) if text is not None else None
    if text is None or line is None:
        return tuple(out)
    if "deprecate" in change.fixes:
        dep = _deprecated(old, text)
        if dep is not None:
            out.append(Fix("deprecate", f"Keep '{old.name}', marked deprecated", (_insert(old.repo, old.path, line, dep, head_lines),)))
    if "restore" in change.fixes:
        out.append(Fix("restore", f"Restore '{old.name}'", (_insert(old.repo, old.path, line, text, head_lines),)))
    return tuple(out)
