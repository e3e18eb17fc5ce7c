"""What the ops-file readers share: YAML/JSON loaded with positions, scalar access, token spans inside a
scalar (a metric name inside an `expr`), and the `ops.read` usages a query yields.

Facts of this family travel as `Usage` records whose kind starts with `ops.` (see the package docstring);
every one carries exact positions: the key or value token it is about.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import FileError, Span, Usage
from indexers.positions import SourceFile
from indexers.sources.ops.promql import Parsed
from indexers.sources.yaml.load import Loaded, Mapping, Scalar, Sequence, YNode, load

MAX_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 5_000  # rules, panels, flags ... read from one file
MAX_TEXT = 2_000  # characters of an expression kept in a fact


def load_doc(src: SourceFile) -> tuple[Loaded | None, list[FileError]]:
    """The file loaded (None when too large), with its load errors as `FileError`s."""
    if len(src.data) > MAX_BYTES:
        return None, [FileError(src.repo, src.path, f"file larger than {MAX_BYTES} bytes: not read")]
    loaded = load(src)
    return loaded, [FileError(src.repo, src.path, e.reason, e.line) for e in loaded.errors]


def get(node: YNode | None, *keys: str) -> YNode | None:
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def text(node: YNode | None) -> str | None:
    """A scalar's value as text (numbers and booleans spelled as YAML would), None for anything else."""
    if not isinstance(node, Scalar) or node.value is None:
        return None
    v = node.value
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def items(node: YNode | None) -> list[YNode]:
    return node.items[:MAX_ITEMS] if isinstance(node, Sequence) else []


def mappings(node: YNode | None) -> list[Mapping]:
    return [x for x in items(node) if isinstance(x, Mapping)]


def span(loaded: Loaded, node: YNode) -> Span:
    return loaded.span(node)


def plain(value: Any, limit: int = 200) -> Any:
    """A small JSON-able copy of a scalar value for a fact's attributes."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)[:limit]


class Tokens:
    """Finds tokens inside one scalar's source text, in order (the second `x` after the first)."""

    def __init__(self, loaded: Loaded, node: YNode):
        self.src = loaded.src
        self.node = node
        self.cursor: dict[str, tuple[int, int]] = {}

    def find(self, token: str) -> Span:
        """The span of the next whole-word occurrence of `token` in the scalar; the scalar's own span when
        the token cannot be found (an escape inside it, say)."""
        (r0, b0), (r1, b1) = self.node.start, self.node.end
        lines = self.src.line_bytes
        pat = re.compile(rb"(?<![\w:])" + re.escape(token.encode("utf-8")) + rb"(?![\w:])")
        row, col = self.cursor.get(token, (r0, b0))
        while row <= r1 and row < len(lines):
            line = lines[row]
            stop = b1 if row == r1 else len(line)
            m = pat.search(line, col, stop)
            if m is not None:
                self.cursor[token] = (row, m.end())
                return self.src.span_from_points((row, m.start()), (row, m.end()))
            row, col = row + 1, 0
        return self.src.span_from_points(self.node.start, self.node.end)


def owner_of(kind: str, name: str, at: Span, **extra: Any) -> dict[str, Any]:
    """How an `ops.read` names the rule, panel or objective it belongs to (same file)."""
    return {"kind": kind, "name": name[:200], "line": at.start_line, **extra}


def reads(src: SourceFile, loaded: Loaded, node: YNode, parsed: Parsed, owner: dict[str, Any],
          query_lang: str = "promql") -> list[Usage]:
    """One `ops.read` usage per metric the parsed query selects, at the metric's name in the file."""
    tokens = Tokens(loaded, node)
    out = []
    for ref in parsed.refs:
        at = tokens.find(ref.name)
        out.append(Usage(src.repo, src.path, at, "ops.read", ref.name, owner["kind"], "consumes", query_lang,
                         {"owner": owner, "labels": list(ref.labels),
                          "matchers": [list(m) for m in ref.matchers[:20]]}))
    return out


def expr_attrs(expr: str, parsed: Parsed) -> dict[str, Any]:
    out: dict[str, Any] = {"expr": expr[:MAX_TEXT]}
    if parsed.error:
        out["error"] = parsed.error
    if parsed.dynamic:
        out["dynamic"] = True
    return out
