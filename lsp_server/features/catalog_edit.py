"""The one edit Lore makes to a repository file: add an entry to `spec.dependsOn` / `spec.consumesApis`
of a Backstage `catalog-info.yaml`, as a minimal text insertion that keeps comments, quoting and layout.

Positions come from the YAML node graph (ruamel `compose`, never `construct`). The edit is applied to a
copy and re-read: unless the result parses and the list then holds the new value, no edit is offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1_000_000
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9:/._-]*")


@dataclass(frozen=True)
class Insertion:
    line: int  # 0-based
    col: int  # UTF-16 code units
    text: str


def _docs(text: str) -> list[Node]:
    return [d for d in YAML(typ="rt", pure=True).compose_all(text) if d is not None]


def _get(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _component(docs: list[Node], service: str) -> Node | None:
    for doc in docs:
        if _scalar(_get(doc, "kind")) == "Component" and _scalar(_get(_get(doc, "metadata"), "name")) == service:
            return doc
    return None


def _quote(value: str) -> str:
    return value if _PLAIN.fullmatch(value) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf16(line: str, col: int) -> int:
    return len(line[:col].encode("utf-16-le")) // 2


def _last_line(node: Node) -> int:
    """The last line holding text of a block node (its end mark may sit at column 0 of the next line)."""
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _values(text: str, service: str, key: str) -> list[str] | None:
    try:
        doc = _component(_docs(text), service)
    except (YAMLError, RecursionError, ValueError):
        return None
    node = _get(_get(doc, "spec"), key)
    if isinstance(node, SequenceNode):
        return [v for item in node.value if (v := _scalar(item)) is not None]
    return None


def insertion(text: str, service: str, key: str, value: str) -> Insertion | None:
    """Where and what to insert so that the catalog Component `service` lists `value` under spec.<key>."""
    if len(text) > MAX_BYTES or key not in ("dependsOn", "consumesApis"):
        return None
    try:
        doc = _component(_docs(text), service)
    except (YAMLError, RecursionError, ValueError):
        return None
    spec = _get(doc, "spec")
    if not isinstance(spec, MappingNode) or spec.flow_style or not spec.value:
        return None
    lines = text.split("\n")
    node = _get(spec, key)
    item = _quote(value)
    ins: Insertion | None
    if isinstance(node, SequenceNode):
        if value in [_scalar(i) for i in node.value]:
            return None
        if node.flow_style:
            end = node.end_mark
            line = lines[end.line]
            close = end.column - 1
            if close < 0 or line[close:close + 1] != "]":
                return None
            sep = ", " if node.value else ""
            ins = Insertion(end.line, _utf16(line, close), sep + item)
        elif node.value:
            dash = node.start_mark.column
            first = node.value[0].start_mark.column
            gap = max(first - dash - 1, 1)
            last = _last_line(node.value[-1])
            entry = " " * dash + "-" + " " * gap + item
            ins = (Insertion(last + 1, 0, entry + "\n") if last + 1 < len(lines)
                   else Insertion(last, _utf16(lines[last], len(lines[last])), "\n" + entry))
        else:
            return None
    elif node is None or (isinstance(node, ScalarNode) and node.value == "" and (node.tag or "").endswith(":null")):
        indent = spec.value[0][0].start_mark.column
        if node is not None:
            key_node = next(k for k, v in spec.value if v is node)
            text_block = f"{' ' * (indent + 2)}- {item}\n"
            at = key_node.start_mark.line + 1
        else:
            text_block = f"{' ' * indent}{key}:\n{' ' * (indent + 2)}- {item}\n"
            at = max(_last_line(v) for _k, v in spec.value) + 1
        ins = (Insertion(at, 0, text_block) if at < len(lines)
               else Insertion(at - 1, _utf16(lines[at - 1], len(lines[at - 1])), "\n" + text_block.rstrip("\n")))
    else:
        return None
    after = apply(text, ins)
    found = _values(after, service, key)
    if found is None or value not in found:
        return None
    return ins


def apply(text: str, ins: Insertion) -> str:
    """The text with an insertion applied (for checking the edit and for tests)."""
    lines = text.split("\n")
    if ins.line >= len(lines):
        return text + ins.text
    line = lines[ins.line]
    units = line.encode("utf-16-le")
    cp = len(units[: ins.col * 2].decode("utf-16-le", "replace"))
    lines[ins.line] = line[:cp] + ins.text + line[cp:]
    return "\n".join(lines)
