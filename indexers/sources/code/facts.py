"""Structural facts of one source file, read with a single tree-sitter query run.

The queries in `indexers/queries/<family>-calls.scm` (plus `typescript-types.scm`, `java-http.scm`,
`csharp-http.scm` and `<family>-sql.scm`) name the few shapes usage extraction needs: imports, classes and
their bases, methods, calls, constructions, assignments, typed names, signature types, loops, selectors,
object keys, annotations and string literals. They are joined into one query per language, so the tree is walked once however many
purposes read it, and each match is filed under its category (the pattern's outer capture). Only the
categories some pass asked for are turned into Python objects, and what most passes never look at (a
call's name node and argument list) is computed on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tree_sitter import Query, QueryCursor

from indexers import ts

MAX_MATCHES = 200_000
# In-progress matches tree-sitter keeps while walking the tree. Unbounded, a deep nesting (16,000 chained
# calls) keeps one per level alive at every node: quadratic. Bounded, the walk is linear; ordinary code
# never comes near it, and a file that does is reported as possibly incomplete.
MATCH_LIMIT = 512
# Longest expression text read whole: a call's callee is the text of everything before it in a chain,
# so reading each in full is quadratic in a long chain (or in an IIFE around a whole bundle).
MAX_FLAT = 512
# Deepest level at which a pattern may start. Past 65,535 levels tree-sitter's query cursor slows down by
# orders of magnitude (its depth counter wraps); code that deep is generated or hostile.
MAX_START_DEPTH = 60_000
ELIDED = "(…)"  # stands for an expression too long to read; matches no name a pass looks for

LANGS = {".go": "go", ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
         ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript",
         ".cts": "typescript", ".tsx": "tsx", ".java": "java", ".cs": "csharp",
         # read by their own passes (indexers/sources/code/langs/)
         ".kt": "kotlin", ".kts": "kotlin", ".rs": "rust", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
         ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h": "cpp", ".rb": "ruby", ".php": "php"}
FAMILY = {"typescript": "javascript", "tsx": "javascript"}
_EXTRA = {"typescript": ("typescript-types.scm",), "tsx": ("typescript-types.scm",),
          "java": ("java-http.scm",), "csharp": ("csharp-http.scm",)}
CATEGORIES = ("import", "class", "method", "call", "new", "assign", "typed", "select", "map", "annotation", "string",
              "sig", "loop")
_CAPTURE = re.compile(r"@([A-Za-z_][\w.-]*)")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def family(lang: str) -> str:
    return FAMILY.get(lang, lang)


# Categories collected by a second, separate query run, only when a pass asks for them: selectors are
# the most frequent match in Go and Python and matter only in a file that uses generated messages.
LATE = frozenset({"select"})


@dataclass(frozen=True)
class Pattern:
    category: str
    rank: int  # which query file it came from (0 = calls)
    text: str


@dataclass(frozen=True)
class FileQuery:
    query: Query
    category: tuple[str, ...]  # per pattern index
    rank: tuple[int, ...]  # per pattern index


@cache
def _patterns(lang: str) -> tuple[Pattern, ...]:
    """Every pattern of the language's query files, in order."""
    fam = family(lang)
    files = (f"{fam}-calls.scm", *_EXTRA.get(lang, ()), f"{fam}-sql.scm")
    out = []
    for rank, filename in enumerate(files):
        query = ts.query(lang, filename)
        raw = ts.query_text(filename).encode("utf-8")
        for i in range(query.pattern_count):
            text = raw[query.start_byte_for_pattern(i):query.end_byte_for_pattern(i)].decode("utf-8")
            found = [c for c in CATEGORIES if c in set(_CAPTURE.findall(text))]
            if len(found) != 1:
                raise ValueError(f"{filename}: pattern {i} must have exactly one category capture, has {found}")
            out.append(Pattern(found[0], rank, text))
    return tuple(out)


@cache
def file_query(lang: str, late: bool = False) -> FileQuery | None:
    """The language's patterns (those of the LATE categories, or all others) joined into one query, so
    the tree is walked once for all of them; None if there are none.

    Some patterns carry `#match?`/`#eq?` predicates, which tree-sitter checks on strictly decoded text:
    they rely on `SourceFile` having replaced bytes that are not UTF-8."""
    pats = [p for p in _patterns(lang) if (p.category in LATE) == late]
    if not pats:
        return None
    query = Query(ts.language(lang), "\n".join(p.text for p in pats))
    return FileQuery(query, tuple(p.category for p in pats), tuple(p.rank for p in pats))


# ------------------------------------------------------------------------------------------------------
# Node helpers


def node_text(node: Any) -> str:
    """`ts.text`, reading the node's bytes once (it runs for most matches)."""
    raw = node.text if node is not None else None
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def flat(node: Any) -> str:
    """The text of an expression without whitespace, optional chaining read as plain access. An expression
    longer than MAX_FLAT bytes reads as ELIDED, followed by its last member name when it has one
    (`<long chain>.then` -> `(…).then`), so the cost is bounded per call whatever the file."""
    if node is not None and node.end_byte - node.start_byte > MAX_FLAT:
        return _elided(node)
    text = "".join(node_text(node).split())
    if "?." in text or "!." in text:
        text = text.replace("?.", ".").replace("!.", ".")
    return text


def _elided(node: Any) -> str:
    for fname in ("property", "field", "attribute", "name"):
        child = node.child_by_field_name(fname)
        if child is not None and child.end_byte - child.start_byte <= MAX_FLAT:
            return f"{ELIDED}.{node_text(child)}"
    return ELIDED


def key_of(expr: Any) -> str:
    """The tracking key of an expression naming a receiver: its last simple segment (`self.stub` -> stub;
    also `$this->stub`, `Self::stub` -> stub and Ruby's `@stub` -> stub)."""
    text = flat(expr)
    last = text.rsplit(".", 1)[-1]
    if "->" in last or "::" in last:
        last = re.split(r"->|::", last)[-1]
    last = last.lstrip("&*@")
    return last if _IDENT.fullmatch(last) else ""


def name_node(fn: Any) -> Any:
    for fname in ("field", "attribute", "property", "name"):
        child = fn.child_by_field_name(fname)
        if child is not None:
            return child
    return fn


def arg_list(args: Any) -> list[Any]:
    if args is None:
        return []
    if args.type in ("template_string", "string"):  # tagged template: gql`...`
        return [args]
    out = []
    for child in args.named_children:
        if child.type in ("comment", "line_comment", "block_comment"):
            continue
        if child.type in ("argument", "attribute_argument") and child.named_child_count:
            child = child.named_children[-1]
        out.append(child)
    return out


_WRAPPERS = frozenset({"await_expression", "unary_expression", "parenthesized_expression", "non_null_expression",
                       "as_expression"})


def unwrap(node: Any) -> Any:
    while node is not None and node.type in _WRAPPERS and node.named_child_count:
        node = node.named_children[0]
    return node


def callee_of(node: Any) -> tuple[str, Any]:
    """(callee text, node) of a call-like node, or ('', None). Constructions read as `new <type>`."""
    node = unwrap(node)
    if node is None:
        return "", None
    fn = node.child_by_field_name("function")
    if fn is not None:
        return flat(fn), node
    if node.type == "method_invocation":
        obj = node.child_by_field_name("object")
        return (flat(obj) + "." if obj is not None else "") + node_text(node.child_by_field_name("name")), node
    if node.type.endswith(("new_expression", "creation_expression", "composite_literal")):
        for fname in ("constructor", "type"):
            t = node.child_by_field_name(fname)
            if t is not None:
                return "new " + flat(t), node
    return "", None


# ------------------------------------------------------------------------------------------------------
# The facts


class Call:
    """One call: its node and callee text; the name node and argument list are read when first asked."""

    __slots__ = ("node", "callee", "_fn", "_fname", "_args_node", "_name", "_args")

    def __init__(self, node: Any, callee: str, fn: Any, fname: Any, args_node: Any):
        self.node = node
        self.callee = callee
        self._fn = fn
        self._fname = fname
        self._args_node = args_node
        self._name: Any = None
        self._args: list[Any] | None = None

    @property
    def name(self) -> Any:
        """The node naming the called function or method (for positions)."""
        if self._name is None:
            self._name = self._fname if self._fn is None else name_node(self._fn)
        return self._name

    @property
    def args(self) -> list[Any]:
        if self._args is None:
            self._args = arg_list(self._args_node)
        return self._args


@dataclass
class Facts:
    imports: list[dict[str, Any]] = field(default_factory=list)  # alias, path, module, name
    classes: list[tuple[str, Any, list[Any]]] = field(default_factory=list)  # name, node, bases
    methods: list[tuple[Any, Any]] = field(default_factory=list)  # method node, name node
    owners: dict[int, str] = field(default_factory=dict)  # go: method node id -> receiver type
    calls: list[Call] = field(default_factory=list)
    news: list[tuple[Any, str, Any]] = field(default_factory=list)  # node, type text, type node
    assigns: list[tuple[str, Any, Any]] = field(default_factory=list)  # key, left node, right node
    typed: list[tuple[str, str, Any]] = field(default_factory=list)  # key, type text, node
    selects: list[tuple[Any, Any, Any]] = field(default_factory=list)  # node, object node, field node
    sigs: list[tuple[str, Any, Any]] = field(default_factory=list)  # param name ("" for a result), type node, node
    loops: list[tuple[str, Any, Any]] = field(default_factory=list)  # loop variable, its node, iterated expression
    maps: list[tuple[str, Any, Any]] = field(default_factory=list)  # key text, key node, value node
    annotations: list[tuple[str, Any, Any]] = field(default_factory=list)  # name, args node, node
    strings: list[Any] = field(default_factory=list)
    lang: str = ""
    root: Any = None
    incomplete: bool = False  # the query walk hit MATCH_LIMIT: some matches of deeply nested code are missing

    def late_selects(self) -> list[tuple[Any, Any, Any]]:
        """`selects`, read from the tree by the late query on first use."""
        if not self.selects and self.root is not None:
            fq = file_query(self.lang, late=True)
            if fq is not None:
                _run(fq, self, self.lang, self.root, LATE)
            self.root = None
        return self.selects


def collect(lang: str, root: Any, need: frozenset[str] | set[str]) -> Facts:
    """The facts of the categories in `need` (imports always), from one run of the language's query.
    LATE categories are read on demand (`Facts.late_selects`)."""
    facts = Facts(lang=lang, root=root)
    fq = file_query(lang)
    if fq is not None:
        _run(fq, facts, lang, root, need)
    return facts


def _run(fq: FileQuery, facts: Facts, lang: str, root: Any, need: frozenset[str] | set[str]) -> None:
    cursor = QueryCursor(fq.query, match_limit=MATCH_LIMIT)
    cursor.set_max_start_depth(MAX_START_DEPTH)
    matches = cursor.matches(root)
    if len(matches) > MAX_MATCHES:
        raise OverflowError("too many syntax matches")
    if cursor.did_exceed_match_limit or deeper_than(root, MAX_START_DEPTH):
        facts.incomplete = True
    cats, ranks = fq.category, fq.rank
    late_matches: dict[str, list[tuple[int, Any]]] = {}
    for pi, caps in matches:
        cat = cats[pi]
        if cat != "import" and cat not in need:
            continue
        if ranks[pi] and cat in ("assign", "typed"):  # keep each query file's matches after the previous file's
            late_matches.setdefault(cat, []).append((pi, caps))
            continue
        _collect_one(facts, lang, cat, caps)
    for cat in ("assign", "typed"):
        for _pi, caps in sorted(late_matches.get(cat, []), key=lambda pc: ranks[pc[0]]):
            _collect_one(facts, lang, cat, caps)


def deeper_than(root: Any, limit: int) -> bool:
    """Whether the tree has a node more than `limit` levels below `root` (a walk in C-backed steps, only
    for trees with that many nodes)."""
    if root.descendant_count <= limit:
        return False
    cursor = root.walk()  # its depth is counted here: TreeCursor.depth walks the cursor's whole stack
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            if depth > limit:
                return True
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return False
            depth -= 1


def _first(caps: dict[str, list[Any]], name: str) -> Any:
    nodes = caps.get(name)
    return nodes[0] if nodes else None


def _collect_one(facts: Facts, lang: str, cat: str, caps: dict[str, list[Any]]) -> None:
    if cat == "call":
        node = caps["call"][0]
        fns = caps.get("fn")
        if fns:
            facts.calls.append(Call(node, flat(fns[0]), fns[0], None, _first(caps, "args")))
        else:  # java: object + name
            obj, fname = _first(caps, "obj"), _first(caps, "fname")
            callee = (flat(obj) + "." if obj is not None else "") + node_text(fname)
            facts.calls.append(Call(node, callee, None, fname, _first(caps, "args")))
    elif cat == "select":
        facts.selects.append((caps["select"][0], _first(caps, "obj"), _first(caps, "field")))
    elif cat == "assign":
        left, right = _first(caps, "left"), _first(caps, "right")
        k = key_of(left)
        if k and right is not None:
            facts.assigns.append((k, left, right))
    elif cat == "typed":
        k = key_of(_first(caps, "left"))
        if k:
            facts.typed.append((k, flat(_first(caps, "type")).lstrip("*&"), caps["typed"][0]))
    elif cat == "string":
        facts.strings.append(caps["string"][0])
    elif cat == "sig":
        left = _first(caps, "left")
        facts.sigs.append((node_text(left) if left is not None else "", _first(caps, "type"), caps["sig"][0]))
    elif cat == "loop":
        left = _first(caps, "left")
        facts.loops.append((node_text(left), left, _first(caps, "right")))
    elif cat == "import":
        _import(facts, lang, caps)
    elif cat == "class":
        facts.classes.append((node_text(_first(caps, "name")), caps["class"][0], caps.get("base", [])))
    elif cat == "method":
        node = caps["method"][0]
        facts.methods.append((node, _first(caps, "name")))
        owner = _first(caps, "owner")
        if owner is not None:
            facts.owners[node.id] = node_text(owner)
    elif cat == "new":
        tnode = _first(caps, "type")
        facts.news.append((caps["new"][0], flat(tnode), tnode))
    elif cat == "map":
        facts.maps.append((node_text(_first(caps, "key")), _first(caps, "key"), _first(caps, "value")))
    elif cat == "annotation":
        facts.annotations.append((node_text(_first(caps, "name")).rsplit(".", 1)[-1], _first(caps, "args"),
                                  caps["annotation"][0]))


def _import(facts: Facts, lang: str, caps: dict[str, list[Any]]) -> None:
    raw = node_text(_first(caps, "path")).strip("\"'`")
    frm = _first(caps, "from")
    if frm is not None:  # python `from a.b import c as d`: module a.b.c when c is a module, else symbol c
        facts.imports.append({"alias": node_text(_first(caps, "alias")) or raw, "path": node_text(frm) + "." + raw,
                              "module": node_text(frm), "name": raw})
        return
    names = caps.get("name") or [None]
    aliases = caps.get("alias") or []
    for i, nm in enumerate(names):
        alias = node_text(aliases[i]) if i < len(aliases) and nm is not None else ""
        if nm is None:
            alias = node_text(aliases[0]) if aliases else ""
        if lang == "go" and not alias:
            alias = raw.rstrip("/").rsplit("/", 1)[-1]
        if lang == "python" and not alias:
            alias = raw
        if lang == "java":
            alias = raw.rsplit(".", 1)[-1]
        facts.imports.append({"alias": alias or node_text(nm), "path": raw, "module": raw, "name": node_text(nm)})
