"""String literals, string templates and URL paths, as usage extraction reads them.

A literal's value is read from its content, escape and interpolation nodes (every interpolation becomes
`DYN`); an expression built from literals (`+`, `%`, `.format`, `Sprintf`, `String.format`) becomes a
template with `DYN` for whatever is only known at run time; `url_path` turns such a template into the
normalised path that HTTP routes and calls are compared by (parameters as `{}`).
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.sources.code.facts import arg_list, callee_of

MAX_DEPTH = 40
DYN = "\x00"
_CONTENT = {"string_content", "string_fragment", "interpreted_string_literal_content", "string_literal_content",
            "raw_string_literal_content", "raw_string_content", "verbatim_string_literal_content",
            "multiline_string_fragment"}
_DYNAMIC = {"interpolation", "template_substitution", "interpolated_identifier", "interpolated_expression",
            "variable_name"}  # Kotlin "$x"/"${x}", PHP "$x"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "`": "`", "/": "/", "0": "\0"}


def string_text(node: Any) -> str | None:
    """The value of a string literal node, with DYN for each interpolation; None if not a string."""
    if node is None or not any(k in node.type for k in ("string", "template")):
        return None
    parts: list[str] = []
    saw = False
    for child in node.named_children:
        if child.type in _CONTENT:
            parts.append(ts.text(child))
            saw = True
        elif child.type in _DYNAMIC:
            parts.append(DYN)
            saw = True
        elif child.type == "escape_sequence":
            raw = ts.text(child)
            parts.append(_ESCAPES.get(raw[1:2], raw[1:]) if len(raw) == 2 else raw)
            saw = True
    if saw:
        return "".join(parts)
    raw = ts.text(node)
    m = re.fullmatch(r'(?s)[$@furbFURB]*("""|\'\'\'|"|\'|`)(.*)\1', raw)
    return m.group(2) if m else ("" if node.named_child_count == 0 and raw in ('""', "''", "``") else None)


def template(node: Any, depth: int = 0) -> str:
    """An expression as a string template: literal parts kept, everything dynamic as DYN."""
    if node is None or depth > MAX_DEPTH:
        return DYN
    s = string_text(node)
    if s is not None:
        if node.type == "string" and ts.text(node)[:2].lower() in ("f'", 'f"') and DYN not in s:
            s = re.sub(r"\{[^{}]*\}", DYN, s)
        return s
    t = node.type
    if t in ("parenthesized_expression", "argument", "await_expression") and node.named_child_count:
        return template(node.named_children[-1], depth + 1)
    if t in ("binary_expression", "binary_operator"):
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is not None and ts.text(op) == "+":
            return template(left, depth + 1) + template(right, depth + 1)
        if op is not None and ts.text(op) == "%":
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]", DYN, template(left, depth + 1))
        return DYN
    if t in ("call_expression", "call", "method_invocation", "invocation_expression"):
        callee, _ = callee_of(node)
        last = callee.rsplit(".", 1)[-1]
        args = arg_list(node.child_by_field_name("arguments"))
        fn = node.child_by_field_name("function")
        obj = fn.child_by_field_name("object") if fn is not None else None
        if last == "format" and obj is not None and string_text(obj) is not None:  # python "...".format(x)
            return re.sub(r"\{[^{}]*\}", DYN, string_text(obj) or "")
        if last in ("Sprintf", "format", "Format") and args:  # Go, Java String.format, C# string.Format
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]|\{\d+[^{}]*\}", DYN, template(args[0], depth + 1))
    return DYN


# Bracketed parameters are bounded in length: unbounded, a run of `<` or `{` without its closer made
# every opener scan to the end of the segment.
_PARAM_SEG = re.compile(r"\{[^}]{0,200}\}|:[\w.]+\??|<[^>]{1,200}>|\*\w*|\[[^\]]{1,200}\]")


def url_path(tmpl: str) -> str | None:
    """A URL template's path part, normalised: parameters as `{}` segments; None if no path can be read."""
    s = tmpl.strip()
    m = re.match(r"^[a-zA-Z][\w+.-]*://[^/?#]*", s)
    if m:
        s = s[m.end():] or "/"
    elif s.startswith(DYN):
        m = re.match(rf"^{DYN}+(?::\d+)?(?=/|$)", s)
        if not m:
            return None
        s = s[m.end():]
        if not s:
            return None
    if not s.startswith("/"):
        return None
    s = re.split(r"[?#]", s, maxsplit=1)[0]
    segs = []
    for seg in s.split("/"):
        if not seg:
            continue
        if DYN in seg or _PARAM_SEG.search(seg):
            segs.append("{}")
        else:
            segs.append(seg)
    return "/" + "/".join(segs)


def join_paths(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix.rstrip("/") + "/" + path.lstrip("/") if path else prefix
