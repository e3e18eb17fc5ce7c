"""String literals, string templates and URL paths, as usage extraction reads them.

A literal's value is read from its content, escape and interpolation nodes (every interpolation becomes
`DYN`); an expression built from literals (`+`, `%`, `.format`, `Sprintf`, `String.format`) becomes a
template with `DYN` for whatever is only known at run time; `url_path` turns such a template into the
normalised path that HTTP routes and calls are compared by (parameters as `{}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
_NOT_EXPR = {"interpolation_brace", "format_specifier", "type_conversion", "interpolation_alignment_clause",
             "interpolation_format_clause"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "`": "`", "/": "/", "0": "\0"}


def string_text(node: Any, sub: Callable[[Any], str] | None = None) -> str | None:
    """The value of a string literal node, with DYN for each interpolation (or what `sub` makes of the
    interpolated expression); None if not a string."""
    if node is None or not any(k in node.type for k in ("string", "template")):
        return None
    parts: list[str] = []
    saw = False
    for child in node.named_children:
        if child.type in _CONTENT:
            parts.append(ts.text(child))
            saw = True
        elif child.type in _DYNAMIC:
            inner = [c for c in child.named_children if c.type not in _NOT_EXPR]
            parts.append(sub(inner[0]) if sub is not None and len(inner) == 1 else DYN)
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


Resolve = Callable[[Any, int], "str | None"]


def template(node: Any, depth: int = 0, resolve: Resolve | None = None) -> str:
    """An expression as a string template: literal parts kept, everything dynamic as DYN. `resolve(node,
    depth)` may give the value of a name or call (see `values.Values`); None leaves it to this function."""
    if node is None or depth > MAX_DEPTH:
        return DYN
    if resolve is not None:
        got = resolve(node, depth)
        if got is not None:
            return got
    s = string_text(node, (lambda n: template(n, depth + 1, resolve)) if resolve is not None else None)
    if s is not None:
        if node.type == "string" and ts.text(node)[:2].lower() in ("f'", 'f"') and not any(
                c.type == "interpolation" for c in node.named_children):
            s = re.sub(r"\{[^{}]*\}", DYN, s)
        return s
    t = node.type
    if t in ("parenthesized_expression", "argument", "await_expression") and node.named_child_count:
        return template(node.named_children[-1], depth + 1, resolve)
    if t in ("binary_expression", "binary_operator"):
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is not None and ts.text(op) == "+":
            return template(left, depth + 1, resolve) + template(right, depth + 1, resolve)
        if op is not None and ts.text(op) == "%":
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]", DYN, template(left, depth + 1, resolve))
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
            return re.sub(r"%[-+ #0-9.]*[sdvqxfi]|\{\d+[^{}]*\}", DYN, template(args[0], depth + 1, resolve))
    return DYN


# Bracketed parameters are bounded in length: unbounded, a run of `<` or `{` without its closer made
# every opener scan to the end of the segment.
_PARAM_SEG = re.compile(r"\{[^}]{0,200}\}|:[\w.]+\??|<[^>]{1,200}>|\*\w*|\[[^\]]{1,200}\]")


_RELATIVE = re.compile(r"^[A-Za-z_~{][\w~{}:-]*(/|$|\?)")


def url_path(tmpl: str, relative: bool = False) -> str | None:
    """A URL template's path part, normalised: parameters as `{}` segments; None if no path can be read.
    `relative`: a path without its leading slash (`api/catalog/items`, resolved against a client's base
    address or a route group) is read as one when its first segment is a plain word (not a host name)."""
    s = tmpl.strip()
    if relative and _RELATIVE.match(s) and "://" not in s:
        s = "/" + s
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
    s = re.split(r"[?#](?![^{]*\})", s, maxsplit=1)[0]  # the query, not an optional parameter `{id?}`
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
