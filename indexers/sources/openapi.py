"""OpenAPI 3.0/3.1 and Swagger 2.0 contracts: the API, each operation, its parameters, and every schema
and property as an `Entity` with a stable ID (`openapi:<api>:GET /cart/{id}`, `openapi:<api>:schema:Cart`,
`openapi:<api>:schema:Cart.items`), the key token as `range` and the whole key/value as `extent`.

Attributes are complete and normalised (booleans default to false, lists sorted where order carries no
meaning, status codes as strings) because later steps compare two versions for breaking changes.
`$ref`s keep the raw text (`ref`, `schema_ref`, `items_ref`) and gain the entity they resolve to (`ref_id`,
`schema_id`, `items_id`): within the file here, following alias chains with cycle detection; across local
files in `resolve`, which sees every file's facts. A ref whose target is missing is a `FileError` naming
the line and the target.

The API's id is `info.x-api-id`, else the file's stem, else (for generic names such as `openapi.yaml`)
the nearest folder whose name is not generic. Files are sniffed cheaply before parsing: only documents
with a top-level `openapi`/`swagger` key, or `components` fragments that other files reference, are read.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from ..model import Entity, FileError, FileFacts, Partial, Span
from ..positions import SourceFile
from .base import Extractor, Resolution, suffix
from .yamlpos import Budget, BudgetExceeded, Loaded, Mapping, Pair, Scalar, YNode, load, paused_gc, to_plain
from .yamlpos import Sequence as YSeq

MAX_BYTES = 8 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
MAX_PROPERTY_DEPTH = 6
MAX_VALUE_NODES = 100_000
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
GENERIC_STEMS = {"openapi", "swagger", "api", "spec", "index", "main", "root"}
GENERIC_DIRS = {"openapi", "swagger", "api", "apis", "spec", "specs", "doc", "docs", "schema", "schemas",
                "contract", "contracts", "resources", "src", "static", "public", ""}
_VERSION_DIR = re.compile(r"^v?\d+(\.\d+)*$")
_SNIFF_DOC = re.compile(rb"""^(?:openapi|swagger|"openapi"|"swagger"|'openapi'|'swagger')[ \t]*:|"(?:openapi|swagger)"\s*:""", re.M)
_SNIFF_FRAGMENT = re.compile(rb"""^(?:components|"components")[ \t]*:|"components"\s*:""", re.M)
_ENTITY_POINTER = re.compile(r"^/(?:components/schemas|definitions)/([^/]+)((?:/(?:allOf/\d+/)?properties/[^/]+)*)$")
_PROP_STEP = re.compile(r"properties/([^/]+)")
_JSONISH = ("application/json", "application/problem+json")
REF_KEYS = ("ref", "schema", "items")  # attrs `<k>_ref` (raw), `<k>_id` (resolved), `<k>_file`/`<k>_pointer` (pending)


def api_name(path: str, root: Mapping | None) -> str:
    info = root.get("info") if root is not None else None
    if isinstance(info, Mapping):
        explicit = info.get("x-api-id")
        if isinstance(explicit, Scalar) and isinstance(explicit.value, str) and explicit.value.strip():
            return explicit.value.strip()
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if stem.lower() not in GENERIC_STEMS:
        return stem
    for folder in reversed(parts[:-1]):
        if folder.lower() not in GENERIC_DIRS and not _VERSION_DIR.match(folder):
            return folder
    return stem


def _val(node: YNode | None) -> Any:
    return node.value if isinstance(node, Scalar) else None


def _str(node: YNode | None) -> str | None:
    v = _val(node)
    return v if isinstance(v, str) else None


def _bool(node: YNode | None) -> bool:
    return _val(node) is True


def ref_fields(prefix: str, ref: dict[str, str]) -> dict[str, str]:
    """`{ref, file, pointer}` as attrs: `ref`/`ref_file`/`ref_pointer`, or `<prefix>_ref`/`_file`/`_pointer`."""
    base = prefix or "ref"
    return {(f"{prefix}_ref" if prefix else "ref") if k == "ref" else f"{base}_{k}": v for k, v in ref.items()}


def _token(token: str) -> str:
    """One JSON-pointer reference token, unescaped."""
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _File:
    """One spec being extracted: the loaded tree, its API id, errors and the pointer -> entity map."""

    def __init__(self, src: SourceFile, loaded: Loaded, root: Mapping, api: str, spec: str):
        self.src, self.loaded, self.root, self.api, self.spec = src, loaded, root, api, spec
        self.errors: list[FileError] = []
        self.entities: list[Entity] = []
        self.budget = Budget()
        self.seen: set[str] = set()
        self.folder = posixpath.dirname(src.path)

    def error(self, node: YNode | None, reason: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(FileError(self.src.repo, self.src.path, reason, node.start[0] if node else None))

    def span(self, node: YNode) -> Span:
        return self.loaded.span(node)

    def extent(self, pair: Pair) -> Span:
        return self.src.span_from_points(pair.key.start, pair.value.end)

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
            token = _token(token)
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
            raw = _str(pair.value)
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
        props = [_token(p) for p in _PROP_STEP.findall(m.group(2))]
        if len(props) > MAX_PROPERTY_DEPTH:
            return None
        return f"openapi:{self.api}:schema:{_token(m.group(1))}" + "".join("." + p for p in props)

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
        nullable = _bool(node.get("nullable")) or _bool(node.get("x-nullable"))
        if isinstance(raw_type, Scalar) and isinstance(raw_type.value, str):
            types = [raw_type.value]
        elif isinstance(raw_type, YSeq):
            types = [t for t in (_str(x) for x in raw_type.items) if t]
        if "null" in types:
            nullable = True
            types = [t for t in types if t != "null"]
        key = f"{prefix}_type" if prefix else "type"
        out[key] = types[0] if len(types) == 1 else (sorted(types) if types else None)
        out[f"{prefix}_nullable" if prefix else "nullable"] = nullable
        fmt = _str(node.get("format"))
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
            elif isinstance(_val(extra), bool):
                out["additionalProperties"] = _val(extra)
            disc = node.get("discriminator")
            disc_name = _str(disc.get("propertyName")) if isinstance(disc, Mapping) else _str(disc)
            if disc_name:
                out["discriminator"] = disc_name
            for flag in ("deprecated", "readOnly", "writeOnly"):
                out[flag] = _bool(node.get(flag))
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
            pointer = f"{base}/{_escape(name)}"
            attrs = self.schema_attrs(pair.value)
            if not isinstance(pair.value, Mapping) and not (self.spec == "3.1" and isinstance(_val(pair.value), bool)):
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
        names = {x for x in (_str(i) for i in req.items) if x} if isinstance(req, YSeq) else set()
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
                ptr = f"{pointer}/properties/{_escape(name)}"
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

    # -- operations ---------------------------------------------------------------------------------
    def operations(self) -> None:
        paths = self.root.get("paths")
        if paths is None:
            return
        if not isinstance(paths, Mapping):
            self.error(paths, "paths must be a mapping")
            return
        consumes = self.media(self.root.get("consumes"))
        produces = self.media(self.root.get("produces"))
        for path, ppair in paths.entries.items():
            item, item_ref = self.deref(ppair.value)
            if not isinstance(item, Mapping):
                if not item_ref and (_val(ppair.value) is not None or ppair.value.start != ppair.value.end):
                    self.error(ppair.value, f"path item {path!r} must be a mapping")
                continue
            shared = self.param_list(item.get("parameters"))
            for method in METHODS:
                opair = item.pair(method)
                if opair is None:
                    continue
                if not isinstance(opair.value, Mapping):
                    self.error(opair.value, f"operation {method.upper()} {path} must be a mapping")
                    continue
                self.operation(path, method, opair, shared, consumes, produces, f"/paths/{_escape(path)}/{method}")

    def media(self, node: YNode | None) -> list[str] | None:
        return sorted({m for m in (_str(x) for x in node.items) if m}) if isinstance(node, YSeq) else None

    def param_list(self, node: YNode | None) -> list[tuple[YNode, Mapping, dict[str, str]]]:
        """[(node to point at, resolved parameter object, ref attrs)] of a `parameters` list."""
        if node is None:
            return []
        if not isinstance(node, YSeq):
            self.error(node, "parameters must be a list")
            return []
        out = []
        for raw in node.items:
            target, ref = self.deref(raw)
            if isinstance(target, Mapping):
                anchor = target.get("name") if not ref else raw.get("$ref") if isinstance(raw, Mapping) else raw
                out.append((anchor or raw, target, ref))
            elif ref.get("file"):  # defined in another file: kept as a reference, resolved in `resolve`
                out.append((raw, Mapping(raw.start, raw.end), ref))
            elif not ref:
                self.error(raw, "a parameter must be a mapping")
        return out

    def operation(self, path: str, method: str, pair: Pair, shared: list[tuple[YNode, Mapping, dict[str, str]]],
                  consumes: list[str] | None, produces: list[str] | None, pointer: str) -> None:
        op = pair.value
        assert isinstance(op, Mapping)
        name = f"{method.upper()} {path}"
        ident = f"openapi:{self.api}:{name}"
        own = self.param_list(op.get("parameters"))
        merged: dict[tuple[str, str], tuple[YNode, Mapping, dict[str, str]]] = {}
        external: list[dict[str, Any]] = []
        for entry in shared + own:  # operation-level parameters override path-level ones
            pname, pin = _str(entry[1].get("name")), _str(entry[1].get("in"))
            if pname is not None and pin is not None:
                merged[(pin, pname)] = entry
            elif entry[2].get("file"):
                external.append(ref_fields("param", entry[2]))
        consumes = self.media(op.get("consumes")) or consumes
        produces = self.media(op.get("produces")) or produces
        params: list[dict[str, Any]] = []
        body: dict[str, Any] | None = None
        children: list[tuple[str, YNode, dict[str, Any]]] = []
        for (pin, pname), (anchor, obj, ref) in sorted(merged.items()):
            if pin == "body":
                body = {"required": _bool(obj.get("required")), "media_types": consumes or ["application/json"]}
                body.update(self.schema_attrs(obj.get("schema"), "schema"))
                continue
            if pin == "formData":
                body = body or {"required": False, "media_types": consumes or ["application/x-www-form-urlencoded"],
                                "form": {}}
                body.setdefault("form", {})[pname] = _bool(obj.get("required"))
                body["required"] = body["required"] or _bool(obj.get("required"))
            attrs = {"name": pname, "in": pin, "required": pin == "path" or _bool(obj.get("required")),
                     "deprecated": _bool(obj.get("deprecated")), **ref_fields("param", ref)}
            schema = obj.get("schema") if self.spec != "2.0" else obj
            if schema is None and isinstance(obj.get("content"), Mapping):
                content = obj.get("content")
                assert isinstance(content, Mapping)
                first = next(iter(content.entries.values()), None)
                schema = first.value.get("schema") if first and isinstance(first.value, Mapping) else None
            info = self.schema_attrs(schema, "schema")
            attrs.update(info)
            params.append(attrs)
            children.append((f"{ident}:param:{pin}.{pname}", anchor, attrs))
        if self.spec != "2.0":
            rb, rb_ref = self.deref(op.get("requestBody"))
            if isinstance(rb, Mapping):
                body = {"required": _bool(rb.get("required")), **ref_fields("body", rb_ref), **self.content(rb.get("content"))}
            elif rb_ref:
                body = ref_fields("body", rb_ref)
        responses: dict[str, Any] = {}
        resp = op.get("responses")
        if isinstance(resp, Mapping):
            for status, rpair in resp.entries.items():
                responses[status] = self.response(rpair.value, produces)
        elif resp is not None:
            self.error(resp, "responses must be a mapping")
        tags = op.get("tags")
        security = op.get("security") if op.get("security") is not None else self.root.get("security")
        attrs = {
            "method": method.upper(), "path": path, "operationId": _str(op.get("operationId")),
            "summary": _str(op.get("summary")), "deprecated": _bool(op.get("deprecated")),
            "tags": [t for t in (_str(x) for x in tags.items) if t] if isinstance(tags, YSeq) else [],
            "parameters": params + external, "request_body": body, "responses": responses,
            "security": sorted({k for req in security.items if isinstance(req, Mapping) for k in req.entries})
            if isinstance(security, YSeq) else None,
        }
        self.add("openapi.operation", ident, name, pair, pair.key, attrs, f"openapi:{self.api}", pointer)
        for child_id, anchor, pattrs in children:
            self.entities.append(Entity(child_id, "openapi.parameter", str(pattrs["name"]), self.src.repo,
                                        self.src.path, self.span(anchor), {"api": self.api, **pattrs}, ident))

    def content(self, node: YNode | None) -> dict[str, Any]:
        """media_types and the schema of the JSON (else first) media type of a 3.x `content` map."""
        if not isinstance(node, Mapping) or not node.entries:
            return {"media_types": []}
        types = sorted(node.entries)
        pick = next((t for t in types if t in _JSONISH or t.endswith("+json")), types[0])
        media = node.get(pick)
        schema = media.get("schema") if isinstance(media, Mapping) else None
        return {"media_types": types, **self.schema_attrs(schema, "schema")}

    def response(self, node: YNode | None, produces: list[str] | None) -> dict[str, Any]:
        obj, ref = self.deref(node)
        out: dict[str, Any] = ref_fields("response", ref)
        if not isinstance(obj, Mapping):
            return out
        if self.spec == "2.0":
            schema = obj.get("schema")
            out["media_types"] = (produces or ["application/json"]) if schema is not None else []
            out.update(self.schema_attrs(schema, "schema"))
        else:
            out.update(self.content(obj.get("content")))
        headers: dict[str, Any] = {}
        hnode = obj.get("headers")
        if isinstance(hnode, Mapping):
            for hname, hpair in hnode.entries.items():
                hobj, _ = self.deref(hpair.value)
                if isinstance(hobj, Mapping):
                    schema = hobj.get("schema") if self.spec != "2.0" else hobj
                    headers[hname.lower()] = {"required": _bool(hobj.get("required")),
                                              **self.schema_attrs(schema, "schema")}
        out["headers"] = headers
        return out

    def raw(self, node: YNode | None) -> str | None:
        """A scalar as written (`version: 1.10` is '1.10', not the float 1.1)."""
        if not isinstance(node, Scalar) or node.value is None:
            return None
        if isinstance(node.value, str):
            return node.value
        if node.start[0] == node.end[0]:
            return self.src.line_bytes[node.start[0]][node.start[1]:node.end[1]].decode("utf-8", "replace").strip()
        return str(node.value)

    def api_entity(self, key_pair: Pair | None, version: str) -> None:
        info = self.root.get("info")
        info = info if isinstance(info, Mapping) else None
        attrs: dict[str, Any] = {
            "title": _str(info.get("title")) if info else None,
            "version": self.raw(info.get("version")) if info else None,
            "spec_version": self.spec, "spec_version_full": version,
        }
        if self.spec == "2.0":
            attrs["basePath"] = _str(self.root.get("basePath"))
            attrs["host"] = _str(self.root.get("host"))
            attrs["schemes"] = self.media(self.root.get("schemes"))
        else:
            servers = self.root.get("servers")
            attrs["servers"] = [u for u in (_str(s.get("url")) for s in servers.items if isinstance(s, Mapping)) if u] \
                if isinstance(servers, YSeq) else []
        if key_pair is None:
            return
        name = attrs["title"] or self.api
        ident = f"openapi:{self.api}"
        self.entities.append(Entity(ident, "openapi.api", name, self.src.repo, self.src.path, self.span(key_pair.key),
                                    {"api": self.api, "pointer": "", **attrs}, None,
                                    self.src.span_from_points(self.root.start, self.root.end)))


def _fill_ids(attrs: Any, lookup: Any) -> bool:
    """Resolve every pending `<k>_file`/`<k>_pointer` pair in `attrs` (nested too) with `lookup(file,
    pointer) -> (id | None, done)`; `done` drops the pending keys. True when anything changed."""
    changed = False
    if isinstance(attrs, list):
        for x in attrs:
            changed = _fill_ids(x, lookup) or changed
    elif isinstance(attrs, dict):
        for key in [k for k in attrs if k.endswith("_file")]:
            base = key[:-5]
            pointer = attrs.get(f"{base}_pointer")
            if not isinstance(pointer, str) or not isinstance(attrs[key], str):
                continue
            target, done = lookup(attrs[key], pointer)
            if target:
                attrs[f"{base}_id"] = target
                changed = True
            if done:
                del attrs[key], attrs[f"{base}_pointer"]
                changed = True
        for value in attrs.values():
            if isinstance(value, (dict, list)):
                changed = _fill_ids(value, lookup) or changed
    return changed


def _spec_version(node: YNode | None, f: _File | None = None) -> str:
    value = node.value if isinstance(node, Scalar) else None
    if value is None:
        return ""
    return str(value) if f is None else (f.raw(node) or "")


class OpenAPIExtractor(Extractor):
    name = "openapi"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml", ".json")

    def extract(self, src: SourceFile) -> Partial:
        with paused_gc():
            return self._extract(src)

    def _extract(self, src: SourceFile) -> Partial:
        head = src.data[:SNIFF_BYTES]
        is_doc = _SNIFF_DOC.search(head) is not None
        if not is_doc and _SNIFF_FRAGMENT.search(head) is None:
            return Partial()
        if len(src.data) > MAX_BYTES:
            reason = f"OpenAPI file too large ({len(src.data)} bytes, limit {MAX_BYTES}); skipped"
            return Partial(errors=[FileError(src.repo, src.path, reason)] if is_doc else [])
        loaded = load(src)
        root = loaded.root
        load_errors = [FileError(src.repo, src.path, e.reason, e.line) for e in loaded.errors]
        if not isinstance(root, Mapping):
            return Partial(errors=load_errors if is_doc else [], language="openapi" if is_doc else "")
        key_pair = root.pair("openapi") or root.pair("swagger")
        if key_pair is None:
            comps = root.get("components")
            if not isinstance(comps, Mapping) or not set(comps.entries) & _COMPONENT_TYPES:
                return Partial()  # not OpenAPI: the sniff matched a nested key
            spec, version = "3.0", ""
        else:
            version = _spec_version(key_pair.value)
            if not re.match(r"^\d+(\.\d+)*$", version):
                return Partial()  # `openapi:` as a setting (`openapi: {enabled: true}`), not a spec
            word = key_pair.name
            spec = "2.0" if version.startswith("2") else version[:3] if version.startswith("3.") else ""
            if word == "swagger" and spec != "2.0" or word == "openapi" and spec == "2.0" or not spec:
                reason = f"unsupported {word} version {version!r}; only Swagger 2.0 and OpenAPI 3.x are read"
                return Partial(errors=load_errors + [FileError(src.repo, src.path, reason, key_pair.key.start[0])])
            spec = "3.1" if spec not in ("2.0", "3.0") else spec
        f = _File(src, loaded, root, api_name(src.path, root), spec)
        f.errors.extend(load_errors)
        try:
            if key_pair is not None:
                f.api_entity(key_pair, f.raw(key_pair.value) or version)
            f.schemas()
            f.operations()
        except BudgetExceeded as exc:
            f.error(None, f"{exc}; the rest of the spec is skipped")
        return Partial(entities=f.entities, errors=f.errors, language="openapi")

    def resolve(self, facts: Sequence[FileFacts]) -> Resolution | None:
        return resolve(facts)


_SCHEMA_POINTER = re.compile(r"^/(components/schemas|definitions)/")
_COMPONENT_TYPES = {"schemas", "parameters", "responses", "requestBodies", "headers", "securitySchemes",
                    "examples", "links", "callbacks", "pathItems"}


def resolve(facts: Sequence[FileFacts]) -> Resolution:
    """Cross-file `$ref`s: fill `<k>_id` for every pending `<k>_file`/`<k>_pointer`, following chains of
    pure `$ref` schemas (A -> B -> C) across files, with cycle detection. Every copy of a changed ID is
    re-emitted, since `replaces` drops entities by ID."""
    by_pointer: dict[tuple[str, str, str], Entity] = {}
    openapi_files: set[tuple[str, str]] = set()
    known_files: set[tuple[str, str]] = set()
    pending: list[Entity] = []
    for ff in facts:
        known_files.add((ff.repo, ff.path))
        for e in ff.entities:
            if not e.kind.startswith("openapi."):
                continue
            openapi_files.add((e.repo, e.path))
            ptr = e.attrs.get("pointer")
            if isinstance(ptr, str):
                by_pointer.setdefault((e.repo, e.path, ptr), e)
            if _has_pending(e.attrs):
                pending.append(e)
    out = Resolution()
    changed: dict[str, list[Entity]] = {}
    for ent in pending:
        attrs = _copy(ent.attrs)
        problems: list[str] = []

        def lookup(file: str, pointer: str, ent: Entity = ent, problems: list[str] = problems) -> tuple[str | None, bool]:
            seen: set[tuple[str, str]] = set()
            repo = ent.repo
            while True:
                if (file, pointer) in seen:
                    problems.append(f"cyclic $ref chain through '{file}#{pointer}'")
                    return None, True
                seen.add((file, pointer))
                target = by_pointer.get((repo, file, pointer))
                if target is None:
                    if (repo, file) not in known_files:
                        problems.append(f"unresolved $ref to '{file}#{pointer}': file not found")
                    elif (repo, file) in openapi_files and _SCHEMA_POINTER.match(pointer):
                        problems.append(f"unresolved $ref to '{file}#{pointer}': no such target")
                    return None, False
                final = target.attrs.get("ref_id")
                if isinstance(final, str):
                    return final, True
                nxt_file, nxt_ptr = target.attrs.get("ref_file"), target.attrs.get("ref_pointer")
                if isinstance(nxt_file, str) and isinstance(nxt_ptr, str):
                    file, pointer = nxt_file, nxt_ptr
                    continue
                return target.id, True

        if _fill_ids(attrs, lookup):
            changed.setdefault(ent.id, []).append(replace(ent, attrs=attrs))
        for reason in dict.fromkeys(problems):
            out.errors.append(FileError(ent.repo, ent.path, reason, ent.range.start_line))
    if changed:
        for ff in facts:
            for e in ff.entities:
                if e.id in changed and not any(e is c or (c.repo, c.path, c.range) == (e.repo, e.path, e.range)
                                               for c in changed[e.id]):
                    changed[e.id].append(e)
        out.replaces = set(changed)
        out.entities = [e for group in changed.values() for e in group]
    return out


def _has_pending(attrs: Any) -> bool:
    if isinstance(attrs, dict):
        return any(k.endswith("_file") for k in attrs) or any(_has_pending(v) for v in attrs.values())
    if isinstance(attrs, list):
        return any(_has_pending(x) for x in attrs)
    return False


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


EXTRACTORS = [OpenAPIExtractor()]
