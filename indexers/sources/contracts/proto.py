"""Protocol Buffers contracts (proto2, proto3, editions): every package, message, field, oneof, enum,
enum value, service, rpc and extension of a `.proto` file as an `Entity` with a stable ID
(`proto:<package>.<Outer>.<Inner>.<field>`), its name token as `range` and its declaration as `extent`.

Attributes are complete and normalised (ints as ints, bools as bools) because breaking-change detection
compares two versions of them. Options are kept as written (`options`: name -> value) and the ones that
matter to compatibility are promoted (`deprecated`, `json_name`, `allow_alias`).

The tree-sitter `proto` grammar misses four valid constructs; a same-length rewrite of the bytes before
parsing (`_patch`) keeps every offset valid: proto2 groups (`repeated group Result = 3 {` parses as
`message Result {`, and the group's field is emitted beside its message), `extend .absolute.Name`,
options on extension ranges (`extensions 1000 to max [declaration = {...}]`, blanked) and single-quoted
`syntax = 'proto3'`. Syntax errors are reported with their line; what parsed is kept,
except declarations whose nesting in the partial tree disagrees with the brace depth of the text (their
IDs would be wrong: a wrong fact is worse than a missing one).

`resolve` runs at link time over the whole workspace and adds the fully qualified names of the types
that fields and rpcs name, following protoc's scoping rules across files and repos.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from indexers import ts
from indexers.model import Entity, FileError, FileFacts, Partial, Span
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, Resolution, suffix

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # nested declaration scopes
MAX_ENTITIES = 200_000
MAX_ERRORS = 20
FIELD_MAX = 536_870_911  # `max` in a message's reserved/extensions ranges
ENUM_MAX = 2_147_483_647  # `max` in an enum's reserved ranges
SCALARS = frozenset(
    "double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes".split()
)
LABELS = frozenset(("optional", "required", "repeated"))

_TOKENS = re.compile(
    rb"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*(?:\"|$)|'(?:[^'\\\n]|\\.)*(?:'|$)|[{}]|\b(?:group|extend|syntax|edition|extensions)\b",
    re.S | re.M,
)
_GROUP = re.compile(rb"group\s+([A-Za-z_]\w*)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*(\[[^\]{}]*\])?\s*\{")
_GROUP_LABEL = re.compile(rb"(optional|required|repeated)\s+$")
_EXTEND_DOT = re.compile(rb"extend\s+\.")
_SYNTAX_SQ = re.compile(rb"(?:syntax|edition)\s*=\s*'[\w.]*'")
_EXTENSIONS_OPTS = re.compile(rb"extensions\s+\d[^;\[{}]*\[")  # a digit: not a field named `extensions`
_BRACKETS = re.compile(rb"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|//[^\n]*|/\*.*?\*/|[\[\]]", re.S)
# A field or enum value as the grammar accepted it, when it has no comment or line break inside: read from
# its text in one regex rather than node by node (node access dominates extraction time).
_FIELD_FAST = re.compile(rb"\s*(\.?\w+(?:\.\w+)*)\s+(\w+)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*(\[|;|$)")
_VALUE_FAST = re.compile(rb"(\w+)\s*=\s*(-)?\s*(0[xX][0-9a-fA-F]+|\d+)\s*(\[|;|$)")
_DEPRECATED = re.compile(rb"\bdeprecated\s*=\s*true\b")
_STRING_PART = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'", re.S)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE_ESC = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


class Group:
    """A proto2 group seen by `_patch`: its field facts, keyed by the byte offset of its name."""

    __slots__ = ("label", "number", "deprecated")

    def __init__(self, label: str, number: int, deprecated: bool):
        self.label, self.number, self.deprecated = label, number, deprecated


def _blank(buf: bytearray, start: int, end: int) -> None:
    for i in range(start, end):
        if buf[i] not in (10, 13):
            buf[i] = 32


def _patch(data: bytes) -> tuple[bytes, dict[int, Group]]:
    """Same-length rewrites for constructs the grammar misses (see the module docstring)."""
    # Each rewrite needs its pattern to match somewhere in the file: without one (the common case, even in
    # files whose comments say "group" or "don't"), nothing is rewritten and the tokens need not be read.
    if not (_GROUP.search(data) or _EXTEND_DOT.search(data) or _EXTENSIONS_OPTS.search(data) or _single_quoted(data)):
        return data, {}
    return _rewrite(data)


def _rewrite(data: bytes) -> tuple[bytes, dict[int, Group]]:
    buf = bytearray(data)
    groups: dict[int, Group] = {}
    for tok in _TOKENS.finditer(data):
        word, p = tok.group(), tok.start()
        if word == b"group" and (m := _GROUP.match(data, p)):
            label_m = _GROUP_LABEL.search(data, max(0, p - 64), p)
            start = label_m.start() if label_m else p
            if m.start(1) - start < 7 or b"\n" in data[start : start + 7]:
                continue
            _blank(buf, start, m.start(1))
            buf[start : start + 7] = b"message"
            _blank(buf, m.end(1), m.end() - 1)
            groups[m.start(1)] = Group(label_m.group(1).decode() if label_m else "", int(m.group(2), 0), bool(m.group(3) and _DEPRECATED.search(m.group(3))))
        elif word == b"extend" and (m := _EXTEND_DOT.match(data, p)):
            buf[m.end() - 1] = 32
        elif word == b"extensions" and (m := _EXTENSIONS_OPTS.match(data, p)):
            depth = 0  # extension range options (`[declaration = {...}]`) carry nothing we extract
            for b in _BRACKETS.finditer(data, m.end() - 1):
                depth += 1 if b.group() == b"[" else -1 if b.group() == b"]" else 0
                if depth == 0:
                    _blank(buf, m.end() - 1, b.end())
                    break
        elif word in (b"syntax", b"edition") and (m := _SYNTAX_SQ.match(data, p)):
            buf[m.end() - 1] = buf[data.index(b"'", p)] = 34
    return bytes(buf), groups


def _single_quoted(data: bytes) -> bool:
    """Whether `_SYNTAX_SQ` matches anywhere: tried where its words are (a search from every offset of a
    file costs more than the rest of `_patch`)."""
    for word in (b"syntax", b"edition"):
        at = data.find(word)
        while at >= 0:
            if _SYNTAX_SQ.match(data, at):
                return True
            at = data.find(word, at + 1)
    return False


def _brace_depths(data: bytes) -> tuple[list[int], list[int]]:
    """Offsets of code braces and the depth after each: the lexical nesting the tree must agree with."""
    offsets: list[int] = []
    depths: list[int] = []
    depth = 0
    for tok in _TOKENS.finditer(data):
        c = tok.group()
        if c == b"{" or c == b"}":
            depth += 1 if c == b"{" else -1
            offsets.append(tok.start())
            depths.append(depth)
    return offsets, depths


@functools.lru_cache(maxsize=65536)
def json_name(name: str) -> str:
    """protoc's default JSON name: drop underscores, capitalise the letter after each. (Remembered: field
    names repeat across a repository's files, `name`, `parent`, `page_size`.)"""
    out: list[str] = []
    upper = False
    for ch in name:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


def _unescape(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "xX" and len(e) > 1:
        return chr(int(e[1:], 16))
    if e[0] in "01234567":
        return chr(int(e, 8))
    if e[0] in "uU" and len(e) > 1:
        code = int(e[1:], 16)
        return chr(code) if code <= 0x10FFFF else "\ufffd"
    return chr(_SIMPLE_ESC[e]) if e in _SIMPLE_ESC else e


def string_value(text: str) -> str:
    """The value of a (possibly concatenated) proto string literal."""
    return "".join(_ESCAPE.sub(_unescape, m.group(1) if m.group(1) is not None else m.group(2)) for m in _STRING_PART.finditer(text))


def _int(node: Any) -> int | None:
    return _int_text(ts.text(node))


def _int_text(t: str) -> int | None:
    """An `int_lit` (decimal, 0x hex or 0-prefixed octal) as an int."""
    try:
        return int(t, 8) if len(t) > 1 and t[0] == "0" and t[1] not in "xX" else int(t, 0)
    except ValueError:
        return None


def constant(node: Any) -> Any:
    """A `constant` node as a JSON value: bool, int, float, str (strings decoded, identifiers as written)
    or, for aggregate `{...}` values, their text with whitespace collapsed."""
    sign = 1
    for c in node.children:
        t = c.type
        if t == "-":
            sign = -1
        elif t == "bool":
            return ts.text(c) == "true"
        elif t == "int_lit":
            n = _int(c)
            return None if n is None else sign * n
        elif t == "float_lit":
            f = sign * float(ts.text(c))
            return f if f == f and abs(f) != float("inf") else str(f)  # JSON has no inf/nan
        elif t == "string":
            return string_value(ts.text(c))
        elif t in ("full_ident", "identifier"):
            return ts.text(c)
        elif t == "block_lit":
            return " ".join(ts.text(c).split())
    return " ".join(ts.text(node).split())


def option(node: Any) -> tuple[str, Any] | None:
    """(name as written, value) of an `option`/`field_option`/`enum_value_option` node."""
    parts: list[str] = []
    value: Any = None
    seen_eq = False
    for c in node.children:
        if c.type == "=":
            seen_eq = True
        elif seen_eq and c.type == "constant":
            value = constant(c)
        elif not seen_eq and c.type != "option":
            parts.append("".join(ts.text(c).split()))
    return ("".join(parts), value) if parts and seen_eq else None


def _child(node: Any, kind: str) -> Any:
    for c in node.children:
        if c.type == kind:
            return c
    return None


def _kids(node: Any) -> dict[str, list[Any]]:
    """A node's children grouped by type, in order: one pass (each `.children` call builds new nodes)."""
    out: dict[str, list[Any]] = {}
    for c in node.children:
        out.setdefault(c.type, []).append(c)
    return out


def _first(kids: dict[str, list[Any]], kind: str) -> Any:
    found = kids.get(kind)
    return found[0] if found else None


def _broken(node: Any) -> bool:
    """Whether a declaration holds an ERROR node (a missing token alone leaves its parts trustworthy)."""
    if not node.has_error:
        return False
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error:
            return True
        stack.extend(c for c in n.children if c.has_error)
    return False


def _type_text(node: Any) -> str:
    return "".join(ts.text(node).split())


class _Walk:
    """One file's extraction state; methods mirror the grammar's declaration nodes."""

    def __init__(self, src: SourceFile, data: bytes, groups: dict[int, Group], braces: tuple[list[int], list[int]] | None):
        self.src, self.groups, self.braces = src, groups, braces
        self.original, self.data = src.data, data  # as read, and as parsed (after `_patch`)
        self.entities: list[Entity] = []
        self.errors: list[FileError] = []
        self.full = False
        # Rows whose byte columns are UTF-16 columns (ASCII): their spans skip the conversion.
        self.ascii: list[bool] | None = None if src.data.isascii() else [r.isascii() for r in src.line_bytes]

    def span(self, node: Any) -> Span:
        (l0, c0), (l1, c1) = node.start_point, node.end_point
        if self.ascii is None or (self.ascii[l0] and self.ascii[l1]):
            return Span(l0, c0, l1, c1)
        return self.src.span_from_points((l0, c0), (l1, c1))

    def span_at(self, row: int, c0: int, c1: int) -> Span:
        if self.ascii is None or self.ascii[row]:
            return Span(row, c0, row, c1)
        return self.src.span_from_points((row, c0), (row, c1))

    # -- helpers -----------------------------------------------------------------------------------
    def error(self, reason: str, line: int | None) -> None:
        self.errors.append(FileError(self.src.repo, self.src.path, reason, line))

    def placed(self, node: Any, depth: int) -> bool:
        """Whether the brace depth of the text at `node` is the nesting the tree gives it."""
        if self.braces is None:
            return True
        offsets, depths = self.braces
        i = bisect.bisect_left(offsets, node.start_byte)
        return (depths[i - 1] if i else 0) == depth

    def add(self, ident: str, kind: str, name_at: Any, decl: Any, parent: str | None, attrs: dict[str, Any]) -> bool:
        """Record an entity; `name_at` is the name's node or its `Span`."""
        if len(self.entities) >= MAX_ENTITIES:
            if not self.full:
                self.full = True
                self.error(f"more than {MAX_ENTITIES} declarations; the rest are skipped", decl.start_point[0])
            return False
        name = ident[6:] if kind == "proto.package" else ident[6:].rsplit(".", 1)[-1]
        self.entities.append(Entity(ident, kind, name, self.src.repo, self.src.path, name_at if isinstance(name_at, Span) else self.span(name_at), attrs, parent, self.span(decl)))
        return True

    @staticmethod
    def options(nodes: Iterable[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for n in nodes:
            kv = option(n)
            if kv is not None:
                out[kv[0]] = kv[1]
        return out

    @staticmethod
    def ranges(node: Any, top: int) -> list[list[int]]:
        out: list[list[int]] = []
        for r in node.children:
            if r.type != "range":
                continue
            nums = [_int(c) for c in r.children if c.type == "int_lit"]
            if not nums or any(n is None for n in nums):
                continue
            lo = int(nums[0])  # type: ignore[arg-type]
            hi = top if _child(r, "max") is not None else int(nums[-1])  # type: ignore[arg-type]
            out.append([lo, hi])
        return out

    def reserved(self, kids: dict[str, list[Any]], attrs: dict[str, Any], top: int) -> None:
        numbers: list[list[int]] = []
        names: list[str] = []
        extensions: list[list[int]] = []
        for c in kids.get("reserved", ()):
            if _broken(c):
                continue
            k = _kids(c)
            for rng in k.get("ranges", ()):
                numbers.extend(self.ranges(rng, top))
            for fnames in k.get("reserved_field_names", ()):
                names.extend(string_value(ts.text(n)) or ts.text(n) for n in fnames.children if n.type == "reserved_identifier")
        for c in kids.get("extensions", ()):
            if not _broken(c) and (rng := _child(c, "ranges")) is not None:
                extensions.extend(self.ranges(rng, top))
        attrs["reserved_numbers"] = numbers
        attrs["reserved_names"] = names
        if top == FIELD_MAX:
            attrs["extension_ranges"] = extensions

    # -- declarations ------------------------------------------------------------------------------
    def decls(self, kids: dict[str, list[Any]], scope: str, parent: str | None, depth: int, at: Any, errors: int = 0) -> None:
        """Messages, enums, services and extensions among `kids` (the children of a body, by type);
        `errors` counts the ERROR nodes entered on the way, bounded like nesting."""
        if depth + errors > MAX_DEPTH:
            self.error(f"declarations nested deeper than {MAX_DEPTH} levels are skipped", at.start_point[0])
            return
        for t in ("message", "enum", "service", "extend"):
            for c in kids.get(t, ()):
                if self.placed(c, depth):
                    getattr(self, t)(c, scope, parent, depth)
        for c in kids.get("ERROR", ()):  # declarations the parser recovered inside an error, if correctly placed
            self.decls(_kids(c), scope, parent, depth, c, errors + 1)

    def message(self, node: Any, scope: str, parent: str | None, depth: int) -> None:
        k = _kids(node)
        name_node = _first(k, "message_name")
        body = _first(k, "message_body")
        name_node = name_node and _child(name_node, "identifier")
        if name_node is None or body is None:
            return
        name = ts.text(name_node)
        fqn = f"{scope}.{name}" if scope else name
        ident = "proto:" + fqn
        bk = _kids(body)
        opts = self.options(bk.get("option", ()))
        attrs: dict[str, Any] = {"options": opts, "deprecated": opts.get("deprecated") is True}
        self.reserved(bk, attrs, FIELD_MAX)
        group = self.groups.get(name_node.start_byte)
        if group is not None:
            attrs["group"] = True
        if not self.add(ident, "proto.message", name_node, node, parent, attrs):
            return
        if group is not None:  # the group's field lives in the enclosing scope
            fname = name.lower()
            gattrs = {"type": name, "number": group.number, "label": group.label, "json_name": json_name(fname)}
            gattrs.update(deprecated=group.deprecated, options={}, group=True)
            self.add(f"proto:{scope}.{fname}" if scope else "proto:" + fname, "proto.field", name_node, node, parent, gattrs)
        fields = [c for t in ("field", "map_field") for c in bk.get(t, ())]
        fields.sort(key=lambda c: c.start_byte)  # keep declaration order
        for c in fields:
            if self.placed(c, depth + 1):
                self.field(c, fqn, ident, None)
        for c in bk.get("oneof", ()):
            if self.placed(c, depth + 1):
                self.oneof(c, fqn, ident, depth + 1)
        self.decls(bk, fqn, ident, depth + 1, body)

    def field(self, node: Any, scope: str, parent: str, oneof: str | None, kind: str = "proto.field") -> None:
        if _broken(node):
            return
        text = self.data[node.start_byte : node.end_byte]
        m = None
        if node.type != "map_field" and b"/" not in text:
            first = node.child(0)
            label = first.type if first is not None and first.type in LABELS else ""
            m = _FIELD_FAST.match(text, len(label))
        if m is not None and b"\n" not in text[: m.end(2)]:
            row, col = node.start_point
            name, name_at = m.group(2).decode(), self.span_at(row, col + m.start(2), col + m.end(2))
            attrs: dict[str, Any] = {"type": m.group(1).decode(), "number": _int_text(m.group(3).decode()), "label": label}
            opts_node = _first(_kids(node), "field_options") if m.group(4) == b"[" else None
        else:  # node by node
            k = _kids(node)
            name_node, type_node, num_node = _first(k, "identifier"), _first(k, "type"), _first(k, "field_number")
            num_node = num_node and _child(num_node, "int_lit")
            if name_node is None or type_node is None or num_node is None:
                return
            name, name_at = ts.text(name_node), name_node
            attrs = {"type": _type_text(type_node), "number": _int(num_node), "label": next((t for t in LABELS if t in k), "")}
            if node.type == "map_field":
                key = _type_text(_first(k, "key_type") or type_node)
                attrs.update(type=f"map<{key},{attrs['type']}>", key_type=key, value_type=attrs["type"])
            opts_node = _first(k, "field_options")
        opts = self.options([c for c in opts_node.children if c.type == "field_option"]) if opts_node is not None else {}
        if oneof is not None:
            attrs["oneof"] = oneof
        jn = opts.get("json_name")
        attrs.update(json_name=jn if isinstance(jn, str) else json_name(name), deprecated=opts.get("deprecated") is True, options=opts)
        self.add(f"proto:{scope}.{name}" if scope else "proto:" + name, kind, name_at, node, parent, attrs)

    def oneof(self, node: Any, scope: str, parent: str, depth: int) -> None:
        k = _kids(node)
        name_node = _first(k, "identifier")
        if name_node is None:
            return
        name = ts.text(name_node)
        fields = [c for c in k.get("oneof_field", ()) if self.placed(c, depth + 1)]
        names = [ts.text(n) for n in (_child(f, "identifier") for f in fields) if n is not None]
        opts = self.options(k.get("option", ()))
        self.add(f"proto:{scope}.{name}", "proto.oneof", name_node, node, parent, {"fields": names, "options": opts})
        for f in fields:
            self.field(f, scope, parent, name)

    def enum(self, node: Any, scope: str, parent: str | None, depth: int) -> None:
        k = _kids(node)
        name_node, body = _first(k, "enum_name"), _first(k, "enum_body")
        name_node = name_node and _child(name_node, "identifier")
        if name_node is None or body is None:
            return
        fqn = f"{scope}.{ts.text(name_node)}" if scope else ts.text(name_node)
        ident = "proto:" + fqn
        bk = _kids(body)
        opts = self.options(bk.get("option", ()))
        attrs: dict[str, Any] = {"options": opts, "deprecated": opts.get("deprecated") is True, "allow_alias": opts.get("allow_alias") is True}
        self.reserved(bk, attrs, ENUM_MAX)
        if not self.add(ident, "proto.enum", name_node, node, parent, attrs):
            return
        for c in bk.get("enum_field", ()):
            if not self.placed(c, depth + 1) or _broken(c):
                continue
            self.value(c, ident)

    def value(self, node: Any, parent: str) -> None:
        text = self.data[node.start_byte : node.end_byte]
        m = _VALUE_FAST.match(text) if b"/" not in text else None
        if m is not None:
            row, col = node.start_point
            name, name_at = m.group(1).decode(), self.span_at(row, col + m.start(1), col + m.end(1))
            value, negative = _int_text(m.group(3).decode()), m.group(2) is not None
            opt_nodes = _kids(node).get("enum_value_option", []) if m.group(4) == b"[" else []
        else:
            vk = _kids(node)
            vname, num = _first(vk, "identifier"), _first(vk, "int_lit")
            if vname is None or num is None:
                return
            name, name_at, value, negative = ts.text(vname), vname, _int(num), "-" in vk
            opt_nodes = vk.get("enum_value_option", [])
        if value is None:
            return
        vopts = self.options(opt_nodes)
        vattrs = {"number": -value if negative else value, "deprecated": vopts.get("deprecated") is True, "options": vopts}
        self.add(f"{parent}.{name}", "proto.enum_value", name_at, node, parent, vattrs)

    def service(self, node: Any, scope: str, parent: str | None, depth: int) -> None:
        k = _kids(node)
        name_node = _first(k, "service_name")
        name_node = name_node and _child(name_node, "identifier")
        if name_node is None:
            return
        ident = f"proto:{scope}.{ts.text(name_node)}" if scope else "proto:" + ts.text(name_node)
        opts = self.options(k.get("option", ()))
        if not self.add(ident, "proto.service", name_node, node, parent, {"options": opts, "deprecated": opts.get("deprecated") is True}):
            return
        for rpc in k.get("rpc", ()):
            if self.placed(rpc, depth + 1) and not _broken(rpc):
                self.rpc(rpc, ident)

    def rpc(self, node: Any, parent: str) -> None:
        rname = None
        types: list[str] = []
        streaming: list[bool] = []
        stream = False
        opts: list[Any] = []
        for c in node.children:
            t = c.type
            if t == "stream":
                stream = True
            elif t == "message_or_enum_type":
                types.append(_type_text(c))
                streaming.append(stream)
                stream = False
            elif t == "rpc_name":
                rname = _child(c, "identifier")
            elif t == "option":
                opts.append(c)
        if rname is None or len(types) != 2:
            return
        ropts = self.options(opts)
        attrs = {"request": types[0], "response": types[1], "client_streaming": streaming[0], "server_streaming": streaming[1]}
        attrs.update(deprecated=ropts.get("deprecated") is True, options=ropts)
        self.add(f"{parent}.{ts.text(rname)}", "proto.rpc", rname, node, parent, attrs)

    def extend(self, node: Any, scope: str, parent: str | None, depth: int) -> None:
        k = _kids(node)
        target, body = _first(k, "full_ident"), _first(k, "message_body")
        if target is None or body is None:
            return
        extendee = _type_text(target)
        if self.original[target.start_byte - 1 : target.start_byte] == b".":
            extendee = "." + extendee  # `_patch` blanked the leading dot the grammar rejects
        before = len(self.entities)
        for c in _kids(body).get("field", ()):
            if self.placed(c, depth + 1):
                self.field(c, scope, parent or "", None, kind="proto.extension")
        for i in range(before, len(self.entities)):
            self.entities[i].attrs["extendee"] = extendee


def _syntax_errors(w: _Walk, root: Any) -> None:
    found: list[tuple[int, str]] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.is_missing:
            found.append((n.start_byte, f"syntax error: missing {n.type!r}"))
        elif n.is_error:
            snippet = " ".join(ts.text(n).split())
            found.append((n.start_byte, f"syntax error: unexpected {snippet[:40] + ('...' if len(snippet) > 40 else '')!r}"))
        else:
            stack.extend(c for c in n.children if c.has_error or c.is_missing)
    found.sort()
    lines = {b: w.src.data.count(b"\n", 0, b) for b, _ in found[:MAX_ERRORS]}
    for b, reason in found[:MAX_ERRORS]:
        w.error(reason, lines[b])
    if len(found) > MAX_ERRORS:
        w.error(f"{len(found) - MAX_ERRORS} more syntax errors not listed", None)


def _header(w: _Walk, root: Any) -> tuple[str, str]:
    """The file entity (`proto.package`, or `proto.file` without a package): syntax, imports, options.
    Returns (package, the entity ID that top-level declarations name as parent)."""
    attrs: dict[str, Any] = {"syntax": "proto2", "imports": [], "public_imports": [], "weak_imports": []}
    pkg_node = decl = None
    opts: list[Any] = []
    for c in root.children:
        if c.type == "syntax":
            quoted = [ts.text(x) for x in c.children if x.type not in ("syntax", "=", ";")]
            attrs["syntax"] = string_value("".join(quoted))
        elif c.type == "edition":
            attrs["syntax"] = "editions"
            attrs["edition"] = string_value(ts.text(c.child_by_field_name("year")))
        elif c.type == "package" and (ident := _child(c, "full_ident")) is not None:
            if pkg_node is not None:
                w.error("more than one package statement; the first one is used", c.start_point[0])
                continue
            pkg_node, decl = ident, c
        elif c.type == "import" and (path := c.child_by_field_name("path")) is not None:
            value = string_value(ts.text(path))
            attrs["imports"].append(value)
            if _child(c, "public") is not None:
                attrs["public_imports"].append(value)
            if _child(c, "weak") is not None:
                attrs["weak_imports"].append(value)
        elif c.type == "option":
            opts.append(c)
    attrs["options"] = w.options(opts)
    if pkg_node is not None:
        package = _type_text(pkg_node)
        w.add("proto:" + package, "proto.package", pkg_node, decl, None, attrs)
        return package, "proto:" + package
    ident = "proto:file:" + w.src.path
    w.entities.append(Entity(ident, "proto.file", w.src.path, w.src.repo, w.src.path, Span(0, 0, 0, 0), attrs, None, w.src.node_span(root)))
    return "", ident


class ProtoExtractor(Extractor):
    name = "proto"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) == ".proto"

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, f"file larger than {MAX_BYTES} bytes; not parsed")], language="proto")
        data, groups = _patch(src.data)
        # Unpatched, the tree is the file's own, shared with the other extractors reading it (markers).
        root = (src.tree("proto") if data == src.data else ts.parse("proto", data)).root_node
        w = _Walk(src, data, groups, _brace_depths(data) if root.has_error else None)
        if root.has_error:
            _syntax_errors(w, root)
        package, parent = _header(w, root)
        w.decls(_kids(root), package, parent, 0, root)
        return Partial(entities=w.entities, errors=w.errors, language="proto")

    def resolve(self, facts: Sequence[FileFacts]) -> Resolution | None:
        return resolve(facts)


# -- workspace resolution ------------------------------------------------------------------------------
_TYPES = {"proto.message": True, "proto.enum": True, "proto.service": False}  # True: a type; False: only a scope
_REFS = {"proto.field": ("type", "value_type", "extendee"), "proto.extension": ("type", "value_type", "extendee"), "proto.rpc": ("request", "response")}


class _ProtoFile:
    """What resolution needs of one file: its package, imports, declared names and references."""

    def __init__(self, ff: FileFacts):
        self.repo, self.path = ff.repo, ff.path
        self.package = ""
        self.imports: list[str] = []
        self.public: list[str] = []
        self.symbols: dict[str, bool] = {}
        self.refs: list[Entity] = []
        for e in ff.entities:
            if e.kind in ("proto.package", "proto.file"):
                self.package = e.name if e.kind == "proto.package" else ""
                self.imports = [i for i in e.attrs.get("imports", []) if isinstance(i, str)]
                self.public = [i for i in e.attrs.get("public_imports", []) if isinstance(i, str)]
            elif e.kind in _TYPES:
                self.symbols[e.id[6:]] = _TYPES[e.kind]
            elif e.kind in _REFS:
                self.refs.append(e)


def _lookup(name: str, relative_to: str, chain: list[dict[str, bool]]) -> str | None:
    """protoc's scoping (DescriptorBuilder::LookupSymbol): try the first component of `name` in each scope
    from the innermost outwards; the first scope where it exists decides, if it can contain the rest."""

    def find(fqn: str) -> bool | None:
        found = None
        for d in chain:
            v = d.get(fqn)
            if v:
                return True
            if v is not None:
                found = v
        return found

    if name.startswith("."):
        return name[1:] if find(name[1:]) else None
    first = name.split(".", 1)[0]
    scope = relative_to
    while True:
        dot = scope.rfind(".")
        if dot < 0:
            return name if find(name) else None
        scope = scope[:dot]
        kind = find(f"{scope}.{first}")
        if kind is None:
            continue
        if first != name:  # found the first part of a compound name: the rest must be inside it
            return f"{scope}.{name}" if find(f"{scope}.{name}") else None
        if kind:
            return f"{scope}.{name}"


def resolve(facts: Sequence[FileFacts]) -> Resolution:
    """Fully qualified names for the types that fields, extensions and rpcs name (`type_fqn`,
    `value_type_fqn`, `extendee_fqn`, `request_fqn`, `response_fqn`), seen from each file: its own
    declarations, its package (in any file), and the files it imports (matched by path suffix, the same
    repo first, `import public` followed). Names that resolve nowhere (well-known types not in the
    workspace) keep no fqn. Every copy of a changed ID is re-emitted, since `replaces` drops by ID."""
    files = [_ProtoFile(ff) for ff in facts if suffix(ff.path) == ".proto"]
    by_pkg: dict[str, dict[str, bool]] = {}
    by_name: dict[str, list[_ProtoFile]] = {}
    for f in files:
        by_pkg.setdefault(f.package, {}).update(f.symbols)
        by_name.setdefault(f.path.rsplit("/", 1)[-1], []).append(f)

    def targets(f: _ProtoFile, imp: str) -> list[_ProtoFile]:
        cands = [g for g in by_name.get(imp.rsplit("/", 1)[-1], []) if g.path == imp or g.path.endswith("/" + imp)]
        return [g for g in cands if g.repo == f.repo] or cands

    results: list[tuple[Entity, dict[str, Any] | None]] = []
    changed: set[str] = set()
    for f in files:
        if not f.refs:
            continue
        visible: dict[int, _ProtoFile] = {id(f): f}
        todo = [(imp, f) for imp in f.imports]
        while todo and len(visible) < 10_000:
            imp, importer = todo.pop()
            for g in targets(importer, imp):
                if id(g) not in visible:
                    visible[id(g)] = g
                    todo.extend((p, g) for p in g.public)
        packages: dict[str, bool] = {}
        for g in [*visible.values(), f]:
            parts = g.package.split(".") if g.package else []
            for i in range(1, len(parts) + 1):
                packages.setdefault(".".join(parts[:i]), False)
        chain = [g.symbols for g in visible.values()] + [by_pkg.get(f.package, {}), packages]
        for e in f.refs:
            extra: dict[str, Any] = {}
            for key in _REFS[e.kind]:
                written = e.attrs.get(key)
                if isinstance(written, str) and written and written not in SCALARS and not written.startswith("map<"):
                    fqn = _lookup(written, e.id[6:], chain)
                    if fqn is not None:
                        extra[key + "_fqn"] = fqn
            results.append((e, extra or None))
            if extra:
                changed.add(e.id)
    out = [
        Entity(e.id, e.kind, e.name, e.repo, e.path, e.range, {**e.attrs, **extra} if extra else e.attrs, e.parent, e.extent)
        for e, extra in results
        if e.id in changed
    ]
    return Resolution(entities=out, replaces=changed)


EXTRACTORS: list[Extractor] = [ProtoExtractor()]
