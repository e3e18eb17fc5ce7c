"""Helpers shared by the service-evidence extractors (`services`, `deploy`, `modules`): repository paths
(folders, vendored directories, relative references) and YAML read as a node graph.

YAML is composed (never constructed), so aliases are shared rather than expanded and every value keeps
its position; merge keys are followed to a bounded depth; large files and deep nesting become a
`FileError`, never an exception.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections.abc import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from indexers.model import FileError, Span
from indexers.positions import SourceFile

MAX_BYTES = 2_000_000
MERGE_DEPTH = 8
MAX_ITEMS = 2_000  # per list or mapping read from a YAML file
MAX_FLOW_DEPTH = 64  # `[[[...`: the YAML composer recurses per level and gets slow long before it fails
MAX_INDENT = 256
_BRACKETS = re.compile(r"[\[\]{}]")
_DOC_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.M)
_DIRECTIVES_ONLY = re.compile(r"(?:[ \t]*(?:[%#][^\n]*)?\n)*[ \t]*(?:[%#][^\n]*)?\Z")
_DEEP_INDENT = re.compile(rf"^ {{{MAX_INDENT}}}", re.M)
SKIP_DIRS = frozenset({"node_modules", "vendor", "third_party", "testdata", "fixtures", "__fixtures__", ".git"})


def folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def skipped(path: str) -> bool:
    return any(part in SKIP_DIRS for part in path.split("/")[:-1])


def join_rel(base: str, rel: str) -> str:
    """`rel` resolved against repo folder `base`, normalised; '' for the repo root, '../x' when it leaves."""
    out = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
    return "" if out == "." else out


# -- YAML nodes -------------------------------------------------------------------------------------

def yaml_docs(src: SourceFile, want: re.Pattern[str] | None = None) -> tuple[list[Node], FileError | None]:
    """The documents of a YAML stream as node graphs, and the first error met (if any).

    The stream is cut at `---` lines (a document marker in column 0 can never be inside a scalar) and
    each document is composed on its own: a broken document costs only itself, and with `want` only the
    documents whose text matches are parsed at all (the pure-Python composer is slow: ~0.1 MB/s)."""
    if len(src.data) > MAX_BYTES:
        return [], FileError(src.repo, src.path, f"file too large to read ({len(src.data)} bytes)")
    text = src.text
    cuts = [0] + [m.start() for m in _DOC_START.finditer(text) if m.start() > 0] + [len(text)]
    docs: list[Node] = []
    first_error: FileError | None = None
    offset = 0
    for begin, end in zip(cuts, cuts[1:], strict=False):
        chunk = text[begin:end]
        if _DIRECTIVES_ONLY.match(chunk):  # `%YAML 1.2` before the first `---`: nothing to compose
            offset += chunk.count("\n")
            continue
        if (want is None or want.search(chunk)) and (line := too_deep(chunk)) is not None:
            first_error = first_error or FileError(src.repo, src.path, "invalid YAML: nesting too deep", line + offset)
        elif want is None or want.search(chunk):
            found, err = _compose(src, chunk, offset)
            docs.extend(found)
            first_error = first_error or err
        offset += chunk.count("\n")
    return docs, first_error


def _compose(src: SourceFile, chunk: str, offset: int) -> tuple[list[Node], FileError | None]:
    docs: list[Node] = []
    try:
        with warnings.catch_warnings():  # e.g. ReusedAnchorWarning: repository text is not our console's
            warnings.simplefilter("ignore")
            for doc in YAML(typ="safe", pure=True).compose_all(chunk):
                if doc is not None:
                    shift_lines(doc, offset)
                    docs.append(doc)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "stream end" in str(exc.problem):
            mark = exc.context_mark  # an unclosed bracket: name where it opened, not the end of the file
        reason = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        return docs, FileError(src.repo, src.path, reason, mark.line + offset if mark is not None else None)
    except RecursionError:
        return docs, FileError(src.repo, src.path, "invalid YAML: nesting too deep")
    except (YAMLError, ValueError, TypeError) as exc:
        return docs, FileError(src.repo, src.path, f"invalid YAML: {exc}")
    return docs, None


def shift_lines(root: Node, lines: int) -> None:
    """Move the marks of a document composed on its own to its place in the file (aliases visited once)."""
    if not lines:
        return
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for mark in (node.start_mark, node.end_mark):
            if mark is not None and id(mark) not in seen:
                seen.add(id(mark))
                mark.line += lines
        if isinstance(node, MappingNode):
            stack.extend(x for pair in node.value for x in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def too_deep(text: str) -> int | None:
    """The line where nesting gets unreasonably deep (brackets counted roughly, quotes ignored), if any."""
    if m := _DEEP_INDENT.search(text):
        return text.count("\n", 0, m.start())
    depth = 0
    for m in _BRACKETS.finditer(text):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_DEPTH:
            return text.count("\n", 0, m.start())
    return None


def pairs(node: Node | None, depth: int = 0) -> Iterator[tuple[ScalarNode, Node]]:
    """(key, value) pairs of a mapping with scalar keys; merge keys (`<<`) followed, explicit keys first."""
    if not isinstance(node, MappingNode) or depth > MERGE_DEPTH:
        return
    merges: list[Node] = []
    for i, (key, value) in enumerate(node.value):
        if i >= MAX_ITEMS:
            break
        if (key.tag or "").endswith(":merge") or (isinstance(key, ScalarNode) and key.value == "<<" and key.style is None):
            merges.extend(value.value[:MAX_ITEMS] if isinstance(value, SequenceNode) else [value])
        elif isinstance(key, ScalarNode):
            yield key, value
    for merged in merges:
        yield from pairs(merged, depth + 1)


def get(node: Node | None, key: str) -> Node | None:
    for k, value in pairs(node):
        if k.value == key:
            return value
    return None


def scalar(node: Node | None) -> str | None:
    if not isinstance(node, ScalarNode) or (node.tag or "").endswith(":null"):
        return None
    if node.style is None and node.value in ("", "~", "null", "Null", "NULL"):
        return None
    return str(node.value)


def strings(node: Node | None) -> list[str]:
    """A scalar or a list of scalars as strings (other items ignored)."""
    if isinstance(node, SequenceNode):
        return [s for item in node.value[:MAX_ITEMS] if (s := scalar(item))]
    s = scalar(node)
    return [s] if s else []


def span(src: SourceFile, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    if end.line > start.line and isinstance(node, ScalarNode) and node.style is None:
        # a plain scalar's end mark may sit on a later line: keep the range on its first line
        return src.span_from_chars(start.line, start.column, start.line, start.column + len(node.value))
    return src.span_from_chars(start.line, start.column, end.line, end.column)


def doc_line(doc: Node) -> int:
    return int(doc.start_mark.line)
