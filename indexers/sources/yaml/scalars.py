"""YAML scalar decoding: plain scalars resolved by the YAML 1.2 core schema, line folding, double-quoted
escapes, and block scalars (`|`, `>`) handed to ruamel.yaml on the snippet alone.

Separate from the tree walk because these follow the YAML spec's text rules, not the parse tree's shape,
and are tested through `yamlpos.load` on the scalar forms one by one.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAYBE_TYPED = frozenset("-+.0123456789~nNtTfF")  # plain scalars starting otherwise are strings
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
    "P": "\u2029",
}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}


def resolve_plain(sub: str, text: str) -> Any:
    if sub == "null_scalar":
        return None
    if sub == "boolean_scalar":
        return text.lower() == "true"
    if sub == "integer_scalar":
        try:
            return int(text, 0)
        except ValueError:
            try:
                return int(text, 10)
            except ValueError:
                return text
    if sub == "float_scalar":
        low = text.lower()
        if low.endswith(".inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            return text
    return text


def fold_plain(raw: str, quoted: bool = False) -> str:
    """YAML line folding: a single line break becomes a space, each further empty line a newline."""
    lines = raw.split("\n")
    out: list[str] = []
    pending_breaks = 0
    for i, line in enumerate(lines):
        line = line.rstrip("\r")
        if i > 0:
            line = line.lstrip(" \t")
        if i < len(lines) - 1:
            line = line.rstrip(" \t")
        if not line and 0 < i < len(lines) - 1:
            pending_breaks += 1
            continue
        if out:
            out.append("\n" * pending_breaks if pending_breaks else " ")
        pending_breaks = 0
        out.append(line)
    return "".join(out)


def decode_double(inner: str) -> str:
    if "\\" not in inner and "\n" not in inner:
        return inner
    out: list[str] = []
    i, size = 0, len(inner)
    while i < size:
        ch = inner[i]
        if ch == "\\" and i + 1 < size:
            nxt = inner[i + 1]
            if nxt in "\r\n":  # escaped line break: join without a space
                i += 2 if inner[i + 1: i + 3] != "\r\n" else 3
                while i < size and inner[i] in " \t":
                    i += 1
                continue
            if nxt in _HEX_LEN:
                digits = inner[i + 2: i + 2 + _HEX_LEN[nxt]]
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    out.append(inner[i: i + 2 + len(digits)])
                i += 2 + len(digits)
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch in "\r\n":  # unescaped line break: fold
            while out and out[-1] in (" ", "\t"):
                out.pop()
            j, breaks = i, 0
            while j < size and inner[j] in " \t\r\n":
                breaks += inner[j] == "\n"
                j += 1
            out.append("\n" * (breaks - 1) if breaks > 1 else " ")
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_BLOCK_LOADER: Any = None
_SIMPLE_HEADS = {"|", "|-", ">", ">-"}
# Characters ruamel.yaml reads as themselves in a block scalar: no tab, CR, other line breaks (NEL, LS, PS),
# BOM or non-printable characters, whose handling is left to ruamel.
_UNSIMPLE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                       "\U00010000-\U0010ffff]")


def _simple_block(head: str, rest: str) -> str | None:
    """The common block scalar decoded directly, as ruamel.yaml would: clip or strip chomping, no indentation
    indicator, every content line at one indentation (no more-indented lines, no whitespace-only lines).
    None for anything else, which ruamel.yaml decodes (ruamel costs ~2 ms a scalar)."""
    if _UNSIMPLE.search(rest):
        return None
    lines = rest.split("\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines or not lines[0]:
        return None
    indent = len(lines[0]) - len(lines[0].lstrip(" "))
    if indent == 0:
        return None
    pad = " " * indent
    body: list[str] = []
    for line in lines:
        if line:
            if len(line) <= indent or line[indent] == " " or not line.startswith(pad):
                return None
            line = line[indent:]
        body.append(line)
    if head[0] == "|":
        text = "\n".join(body)
    else:  # folded: a break between two lines is a space; each empty line between them one newline
        parts = [body[0]]
        empties = 0
        for line in body[1:]:
            if not line:
                empties += 1
                continue
            parts.append("\n" * empties if empties else " ")
            parts.append(line)
            empties = 0
        text = "".join(parts)
    return text if head.endswith("-") else text + "\n"


def decode_block(raw: str) -> str:
    """A block scalar (`|`, `>`, with chomping/indent indicators) decoded as ruamel.yaml does (by it, but for
    the common simple forms, which `_simple_block` decodes directly)."""
    global _BLOCK_LOADER
    if _BLOCK_LOADER is None:
        from ruamel.yaml import YAML

        _BLOCK_LOADER = YAML(typ="safe", pure=True)
    head, _, rest = raw.partition("\n")
    if head in _SIMPLE_HEADS:
        simple = _simple_block(head, rest)
        if simple is not None:
            return simple
    try:
        value = _BLOCK_LOADER.load(head + "\n" + rest + "\n")
    except Exception:  # noqa: BLE001 - any ruamel failure: keep the raw text
        return rest
    return value if isinstance(value, str) else rest
