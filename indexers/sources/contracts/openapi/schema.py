"""The schema half of reading one OpenAPI/Swagger file: JSON-pointer and `$ref` following inside the file,
and every schema and property under `components.schemas` (or Swagger's `definitions`) as an entity.

`SpecFile` holds what one spec's walk shares (loaded tree, API id, errors, budget, emitted IDs); the
operation walk in `openapi.py` extends it. `$ref`s keep their raw text and gain the ID they land on when
the chain ends in this file; a chain that leaves the file is left pending (`<k>_file`/`<k>_pointer`) for
`openapi_resolve`. Every walk spends from one `Budget`, so alias bombs stop early.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import unquote

from indexers.model import Entity, FileError, Span
from indexers.positions import SourceFile
from indexers.sources.spans import PointSpans
from indexers.sources.yaml.load import Budget, Loaded, Mapping, Pair, Scalar, YNode, to_plain
from indexers.sources.yaml.load import Sequence as YSeq

MAX_PROPERTY_DEPTH = 6
MAX_VALUE_NODES = 100_000
_ENTITY_POINTER = re.compile(r"^/(?:components/schemas|definitions)/([^/]+)((?:/(?:allOf/\d+/)?properties/[^/]+)*)$")
_PROP_STEP = re.compile(r"properties/([^/]+)")


def value_of(node: YNode | None) -> Any:
    return node.value if isinstance(node, Scalar) else None


def str_of(node: YNode | None) -> str | None:
    v = value_of(node)
    return v if isinstance(v, str) else None


def bool_of(node: YNode | None) -> bool:
    return value_of(node) is True


def ref_fields(prefix: str, ref: dict[str, str]) -> dict[str, str]:
    """`{ref, file, pointer}` as attrs: `ref`/`ref_file`/`ref_pointer`, or `<prefix>_ref`/`_file`/`_pointer`."""
    base = prefix or "ref"
    return {(f"{prefix}_ref" if prefix else "ref") if k == "ref" else f"{base}_{k}": v for k, v in ref.items()}


def unescape_token(token: str) -> str:
    """One JSON-pointer reference token, unescaped."""
    return token.replace("~1", "/").replace("~0", "~")


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SpecFile:
    """One spec being extracted (loaded tree, API id, errors, emitted IDs): its `$ref`s and schemas."""

    def __init__(self, src: SourceFile, loaded: Loaded, root: Mapping, api: str, spec: str):
        self.src, self.loaded, self.root, self.api, self.spec = src, loaded, root, api, spec
        self.errors: list[FileError] = []
        self.entities: list[Entity] = []
        self.budget = Budget()
        self.seen: set[str] = set()
        self.folder = posixpath.dirname(src.path)
        self.spans = PointSpans(src)  # the same spans as `loaded.span`, with a per-row table

    def error(self, node: YNode | None, reason: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(FileError(self.src.repo, self.src.path, reason, node.start[0] if node else None))

    def span(self, node: YNode) -> Span:
        return self.spans.span(node.start, node.end)

    def extent(self, pair: Pair) -> Span:
        return self.spans.span(pair.key.start, pair.value.end)

    def plain(self, node: YNode | None, at: Pair | None = None) -> Any:
        """A value (enum, default) as plain data; one that expands past MAX_VALUE_NODES is dropped."""
        if node is not None and node.weight > MAX_VALUE_NODES:
            self.error(at.key if at else node, f"value expands to {node.weight} nodes (limit {MAX_VALUE_NODES}); not read")
            return None
        return to_plain(node, self.budget)

    # -- $ref ---------------------------------------------------------------------------------------
    def pointer(self, pointer: str) -> YNode | None:
        node: YNode | None = self.root
        for token in pointer.split("/")[1:] if pointer else []:
            token = unescape_token(token)
            if isinstance(node, Mapping):
                node = node.get(token)
            elif isinstance(node, YSeq) and token.isdigit() and int(token) < len(node.items):
                node = node.items[int(token)]
            else:
                return None
        return node

    def deref(self, node: YNode | None) -> tuple[YNode | None, dict[str, str]]:
        """Follow `$ref`s from `node` within this file. Returns the final local object (None when the chain
        leaves the file or breaks) and the ref attrs of the first ref: raw, plus pending file/pointer."""
        if not isinstance(node, Mapping) or node.pair("$ref") is None:
            return node, {}
        first: dict[str, str] = {}
        seen: set[str] = set()
        while isinstance(node, Mapping) and (pair := node.pair("$ref")) is not None:
            self.budget.spend()
            raw = str_of(pair.value)
            if raw is None:
                self.error(pair.value, "$ref must be a string")
                return None, first
            if not first:
                first["ref"] = raw
            target_file, _, fragment = raw.partition("#")
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", target_file):
                return None, first  # a URL: not followed
            pointer = unquote(fragment)  # stays a JSON pointer: `~1` is unescaped per token
            path = posixpath.normpath(posixpath.join(self.folder, target_file)) if target_file else self.src.path
            if path.startswith("../") or path == "..":
                return None, first
            first["file"], first["pointer"] = path, pointer
            if target_file and path != self.src.path:
                return None, first  # resolved across files in `resolve`
            if pointer in seen:
                self.error(pair.value, f"cyclic $ref chain through '{raw}'")
                del first["file"], first["pointer"]
                return None, first
            seen.add(pointer)
            target = self.pointer(pointer)
            if target is None:
                self.error(pair.value, f"unresolved $ref '{raw}': no such target in this file")
                first.pop("file")
                first.pop("pointer")
                return None, first
            node = target
        if first.get("file") == self.src.path:  # ends in this file: name the entity it lands on
            pointer = first.pop("pointer")
            del first["file"]
            ident = self.pointer_id(pointer)
            if ident:
                first["id"] = ident
        return node, first

    def pointer_id(self, pointer: str) -> str | None:
        """The schema/property entity that this file emits for a JSON pointer, if any."""
        m = _ENTITY_POINTER.match(pointer)
        if m is None:
            return None
        props = [unescape_token(p) for p in _PROP_STEP.findall(m.group(2))]
        if len(props) > MAX_PROPERTY_DEPTH:
            return None
        return f"openapi:{self.api}:schema:{unescape_token(m.group(1))}" + "".join("." + p for p in props)

    # -- schemas ------------------------------------------------------------------------------------
    def schema_attrs(self, node: YNode | None, prefix: str = "") -> dict[str, Any]:
        """Normalised attributes of a schema object (no `$ref` following beyond the first hop)."""
        out: dict[str, Any] = {}
        if not isinstance(node, Mapping):
            return out
        if node.pair("$ref") is not None:
            return ref_fields(prefix, self.deref(node)[1])
        raw_type = node.get("type")
        types: list[str] = []
        nullable = bool_of(node.get("nullable")) or bool_of(node.get("x-nullable"))
        if isinstance(raw_type, Scalar) and isinstance(raw_type.value, str):
            types = [raw_type.value]
        elif isinstance(raw_type, YSeq):
            types = [t for t in (str_of(x) for x in raw_type.items) if t]
        if "null" in types:
            nullable = True
            types = [t for t in types if t != "null"]
        key = f"{prefix}_type" if prefix else "type"
        out[key] = types[0] if len(types) == 1 else (sorted(types) if types else None)
        out[f"{prefix}_nullable" if prefix else "nullable"] = nullable
        fmt = str_of(node.get("format"))
        if fmt:
            out[f"{prefix}_format" if prefix else "format"] = fmt
        enum = node.get("enum")
        if isinstance(enum, YSeq):
            out[f"{prefix}_enum" if prefix else "enum"] = self.plain(enum, node.pair("enum"))
        elif "const" in node.entries:
            out[f"{prefix}_enum" if prefix else "enum"] = [self.plain(node.get("const"), node.pair("const"))]
        items = node.get("items")
        if isinstance(items, Mapping) and prefix != "items":
            out.update(self.schema_attrs(items, "items"))
        if not prefix:
            for word in ("allOf", "oneOf", "anyOf"):
                parts = node.get(word)
                if isinstance(parts, YSeq):
                    out[word] = [self.schema_attrs(p, "schema") or {"schema_type": None} for p in parts.items]
            extra = node.get("additionalProperties")
            if isinstance(extra, Mapping):
                out["additionalProperties"] = self.schema_attrs(extra, "schema")
            elif isinstance(value_of(extra), bool):
                out["additionalProperties"] = value_of(extra)
            disc = node.get("discriminator")
            disc_name = str_of(disc.get("propertyName")) if isinstance(disc, Mapping) else str_of(disc)
            if disc_name:
                out["discriminator"] = disc_name
            for flag in ("deprecated", "readOnly", "writeOnly"):
                out[flag] = bool_of(node.get(flag))
            if "default" in node.entries:
                out["default"] = self.plain(node.get("default"), node.pair("default"))
        return out

    def add(self, kind: str, ident: str, name: str, pair: Pair, key: YNode, attrs: dict[str, Any],
            parent: str | None, pointer: str) -> None:
        if ident in self.seen:  # e.g. a property declared both directly and in an `allOf` member
            return
        self.seen.add(ident)
        attrs = {"api": self.api, "pointer": pointer, **attrs}
        self.entities.append(Entity(ident, kind, name, self.src.repo, self.src.path, self.span(key), attrs,
                                    parent, self.extent(pair)))

    def schemas(self) -> None:
        if self.spec == "2.0":
            holder, base = self.root.get("definitions"), "/definitions"
        else:
            comps = self.root.get("components")
            holder, base = (comps.get("schemas") if isinstance(comps, Mapping) else None), "/components/schemas"
        if holder is None:
            return
        if not isinstance(holder, Mapping):
            self.error(holder, f"{base[1:].replace('/', '.')} must be a mapping")
            return
        for name, pair in holder.entries.items():
            ident = f"openapi:{self.api}:schema:{name}"
            pointer = f"{base}/{escape_token(name)}"
            attrs = self.schema_attrs(pair.value)
            if not isinstance(pair.value, Mapping) and not (self.spec == "3.1" and isinstance(value_of(pair.value), bool)):
                self.error(pair.value, f"schema {name!r} must be a mapping")
            required = self.required(pair.value)
            attrs["required"] = sorted(required)
            self.add("openapi.schema", ident, name, pair, pair.key, attrs, f"openapi:{self.api}", pointer)
            self.properties(pair.value, ident, pointer, required, 1)

    def required(self, node: YNode | None) -> set[str]:
        """Required property names, including those of inline `allOf` members."""
        if not isinstance(node, Mapping):
            return set()
        req = node.get("required")
        names = {x for x in (str_of(i) for i in req.items) if x} if isinstance(req, YSeq) else set()
        all_of = node.get("allOf")
        for member in all_of.items if isinstance(all_of, YSeq) else ():
            if isinstance(member, Mapping) and member.pair("$ref") is None:
                names |= self.required(member)
        return names

    def properties(self, node: YNode | None, parent: str, pointer: str, required: set[str], depth: int) -> None:
        """Properties of an object schema, including inline `allOf` members and nested inline objects."""
        if not isinstance(node, Mapping) or depth > MAX_PROPERTY_DEPTH:
            return
        self.budget.spend()
        props = node.get("properties")
        if isinstance(props, Mapping):
            for name, pair in props.entries.items():
                ident = f"{parent}.{name}"
                ptr = f"{pointer}/properties/{escape_token(name)}"
                attrs = self.schema_attrs(pair.value)
                attrs["required"] = name in required
                self.add("openapi.property", ident, name, pair, pair.key, attrs, parent, ptr)
                if isinstance(pair.value, Mapping) and pair.value.pair("$ref") is None:
                    self.properties(pair.value, ident, ptr, self.required(pair.value), depth + 1)
        elif props is not None and not (isinstance(props, Scalar) and props.value is None):
            self.error(props, "properties must be a mapping")
        all_of = node.get("allOf")
        if isinstance(all_of, YSeq):
            for i, member in enumerate(all_of.items):
                if isinstance(member, Mapping) and member.pair("$ref") is None:
                    self.properties(member, parent, f"{pointer}/allOf/{i}", required, depth)
