"""Named scopes of a source file (functions, methods, classes, ...) from tree-sitter: what a team note is
anchored to, so that it follows its function when the function moves.

Each language's declarations are listed in `indexers/queries/<language>-symbols.scm` (the capture on the
declaration names the kind, `@name` its name); nesting gives the name path (`Cart.add`), a Go method is
named by its receiver type, a Rust impl block by its type, a JavaScript/TypeScript callback by the call
and the string that name it (`test('closes')`, `describe("pool")`). Python decorators belong to the
declaration they decorate. Results are cached by content: hovers over an unchanged file parse nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from indexers import ts

log = logging.getLogger(__name__)

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".go": "go", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".java": "java", ".cs": "csharp", ".rs": "rust", ".c": "c", ".h": "cpp", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".rb": "ruby", ".php": "php", ".kt": "kotlin",
    ".kts": "kotlin",
}
CONTAINERS = frozenset({"class", "interface", "struct", "impl", "trait", "enum", "module", "namespace"})
MAX_BYTES = 2_000_000
MAX_SYMBOLS = 20_000
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str  # name path: enclosing names joined by '.', e.g. 'CartStore.flush'
    kind: str  # function | method | class | interface | struct | enum | impl | trait | module | namespace | type
    start_line: int  # 0-based, inclusive (decorators included)
    end_line: int  # 0-based, inclusive
    name_line: int = -1  # 0-based line of the name (after decorators and annotations)

    def contains(self, first: int, last: int) -> bool:
        return self.start_line <= first and last <= self.end_line

    @property
    def size(self) -> int:
        return self.end_line - self.start_line


def language_of(path: str) -> str | None:
    dot = path.rfind(".")
    return LANGUAGES.get(path[dot:].lower()) if dot > path.rfind("/") else None


_cache: OrderedDict[tuple[str, str], tuple[Symbol, ...]] = OrderedDict()
_lock = threading.Lock()


def symbols(path: str, text: str) -> tuple[Symbol, ...]:
    """Every named scope of a file, in source order (outer before inner); () for a language Lore has no
    symbol query for, a file too large, or one that does not parse at all."""
    lang = language_of(path)
    if lang is None:
        return ()
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BYTES:
        return ()
    key = (lang, hashlib.sha256(data).hexdigest())
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        found = tuple(_scan(lang, data))
    except Exception:  # noqa: BLE001 - no symbols is a weaker anchor, never a failure
        log.debug("symbols failed for %s", path, exc_info=True)
        found = ()
    with _lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found


def _scan(lang: str, data: bytes) -> list[Symbol]:
    tree = ts.parse(lang, data)
    raw: dict[tuple[int, int], tuple[str, str, int, int, int]] = {}  # (start, end byte) -> (kind, name, first, last, name line)
    for _idx, caps in ts.matches(lang, f"{lang}-symbols.scm", tree.root_node):
        kind = next((k for k in caps if k not in ("name", "receiver", "callee")), "")
        decl, name_nodes = (caps.get(kind) or [None])[0], caps.get("name") or []
        if decl is None or not name_nodes:
            continue
        name = _name(kind, ts.text(name_nodes[0]), caps.get("receiver"))
        if caps.get("callee"):  # a named callback: test('closes', ...) is test('closes'), x.on('data', ...) on('data')
            callee = caps["callee"][0]
            prop = callee.child_by_field_name("property") if callee.type == "member_expression" else callee
            name = f"{' '.join(ts.text(prop).split())[:60]}({name[:120]})"
        if not name:
            continue
        node = decl
        if node.parent is not None and node.parent.type == "decorated_definition":
            node = node.parent  # Python: the decorators are part of what they decorate
        raw.setdefault((node.start_byte, node.end_byte),
                       (kind, name, node.start_point[0], _last_line(node), name_nodes[0].start_point[0]))
        if len(raw) >= MAX_SYMBOLS:
            break
    out: list[Symbol] = []
    stack: list[tuple[int, int, str, str]] = []  # (start byte, end byte, name path, kind) of enclosing scopes
    for (start, end), (kind, name, first, last, name_line) in sorted(raw.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        while stack and not (stack[-1][0] <= start and end <= stack[-1][1]):
            stack.pop()
        outer = stack[-1] if stack else None
        path = f"{outer[2]}.{name}" if outer else name
        if kind == "function" and outer is not None and outer[3] in CONTAINERS:
            kind = "method"
        out.append(Symbol(path, kind, first, last, name_line))
        stack.append((start, end, path, kind))
    return out


def _name(kind: str, text: str, receiver: list[object] | None) -> str:
    name = " ".join(text.split())
    if kind == "impl":
        cut = name.find("<")  # `impl<T> Foo<T>` -> `impl`: from the first `<` when the name ends with `>`
        if cut >= 0 and name.endswith(">"):  # (by hand: `<.*>$` as a regex retried the rest from every `<`)
            name = name[:cut].strip()
    if receiver:
        recv = _receiver_type(receiver[0])
        if recv:
            name = f"{recv}.{name}"
    return name[:200]


def _receiver_type(node: object) -> str:
    """The type a Go method's receiver names (`(s *Store[T])` -> 'Store')."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if getattr(cur, "type", "") == "type_identifier":
            return ts.text(cur)
        stack.extend(reversed(getattr(cur, "children", [])))
    return ""


def _last_line(node: object) -> int:
    """The last line of a node; a node ending at column 0 ends on the line before (its trailing newline)."""
    end_row, end_col = node.end_point  # type: ignore[attr-defined]
    start_row = node.start_point[0]  # type: ignore[attr-defined]
    return max(start_row, end_row - 1) if end_col == 0 else end_row


def innermost(syms: Sequence[Symbol], first: int, last: int) -> Symbol | None:
    """The smallest scope containing lines first..last."""
    best: Symbol | None = None
    for s in syms:
        if s.contains(first, last) and (best is None or s.size <= best.size):
            best = s
    return best


def starting_at(syms: Sequence[Symbol], line: int) -> Symbol | None:
    """The outermost scope whose declaration starts on `line` (its decorators, or the line of its name)."""
    found = [s for s in syms if line in (s.start_line, s.name_line)]
    return max(found, key=lambda s: s.size) if found else None
