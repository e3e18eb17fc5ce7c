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

This module reads the API entity and the operations and holds the extractor; the schema walk and in-file
`$ref` following are `openapi_schema`, and cross-file `$ref` resolution is `openapi_resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from indexers.model import Entity, FileError, FileFacts, Partial
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, Resolution, suffix
from indexers.sources.contracts.openapi.resolve import resolve
from indexers.sources.contracts.openapi.schema import (
    MAX_PROPERTY_DEPTH,
    MAX_VALUE_NODES,
    SpecFile,
    bool_of,
    escape_token,
    ref_fields,
    str_of,
    value_of,
)
from indexers.sources.gcpause import paused_gc
from indexers.sources.yaml.load import BudgetExceeded, Mapping, Pair, Scalar, YNode, load
from indexers.sources.yaml.load import Sequence as YSeq

__all__ = ["EXTRACTORS", "MAX_BYTES", "MAX_PROPERTY_DEPTH", "MAX_VALUE_NODES", "METHODS", "OpenAPIExtractor",
           "api_name", "ref_fields", "resolve"]

MAX_BYTES = 8 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
GENERIC_STEMS = {"openapi", "swagger", "api", "spec", "index", "main", "root"}
GENERIC_DIRS = {"openapi", "swagger", "api", "apis", "spec", "specs", "doc", "docs", "schema", "schemas",
                "contract", "contracts", "resources", "src", "static", "public", ""}
_VERSION_DIR = re.compile(r"^v?\d+(\.\d+)*$")
_SNIFF_DOC = re.compile(rb"""^(?:openapi|swagger|"openapi"|"swagger"|'openapi'|'swagger')[ \t]*:|"(?:openapi|swagger)"\s*:""", re.M)
_SNIFF_FRAGMENT = re.compile(rb"""^(?:components|"components")[ \t]*:|"components"\s*:""", re.M)
_JSONISH = ("application/json", "application/problem+json")
REF_KEYS = ("ref", "schema", "items")  # attrs `<k>_ref` (raw), `<k>_id` (resolved), `<k>_file`/`<k>_pointer` (pending)


def api_name(path: str, root: Mapping | None, repo: str = "") -> str:
    """The API's name in entity IDs: `info.x-api-id`; else the spec's file name; for a generic file name
    (`openapi.yml` in every service) the nearest telling folder; at a repository's root, the spec's
    `info.title`, else the repository's name. So five services' `openapi.yml` are five APIs, while copies
    of one spec (same file name, or same title) stay one."""
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
    title = info.get("title") if isinstance(info, Mapping) else None
    if isinstance(title, Scalar) and isinstance(title.value, str):
        slug = _SLUG.sub("-", title.value.strip().lower()).strip("-")
        if slug and slug not in GENERIC_STEMS:
            return slug
    return repo or stem


_SLUG = re.compile(r"[^a-z0-9]+")


class _File(SpecFile):
    """One spec being extracted: the schema walk of `SpecFile`, plus the API entity and the operations."""

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
                if not item_ref and (value_of(ppair.value) is not None or ppair.value.start != ppair.value.end):
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
                self.operation(path, method, opair, shared, consumes, produces, f"/paths/{escape_token(path)}/{method}")

    def media(self, node: YNode | None) -> list[str] | None:
        return sorted({m for m in (str_of(x) for x in node.items) if m}) if isinstance(node, YSeq) else None

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
            pname, pin = str_of(entry[1].get("name")), str_of(entry[1].get("in"))
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
                body = {"required": bool_of(obj.get("required")), "media_types": consumes or ["application/json"]}
                body.update(self.schema_attrs(obj.get("schema"), "schema"))
                continue
            if pin == "formData":
                body = body or {"required": False, "media_types": consumes or ["application/x-www-form-urlencoded"],
                                "form": {}}
                body.setdefault("form", {})[pname] = bool_of(obj.get("required"))
                body["required"] = body["required"] or bool_of(obj.get("required"))
            attrs = {"name": pname, "in": pin, "required": pin == "path" or bool_of(obj.get("required")),
                     "deprecated": bool_of(obj.get("deprecated")), **ref_fields("param", ref)}
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
                body = {"required": bool_of(rb.get("required")), **ref_fields("body", rb_ref), **self.content(rb.get("content"))}
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
            "method": method.upper(), "path": path, "operationId": str_of(op.get("operationId")),
            "summary": str_of(op.get("summary")), "deprecated": bool_of(op.get("deprecated")),
            "tags": [t for t in (str_of(x) for x in tags.items) if t] if isinstance(tags, YSeq) else [],
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
                    headers[hname.lower()] = {"required": bool_of(hobj.get("required")),
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
            "title": str_of(info.get("title")) if info else None,
            "version": self.raw(info.get("version")) if info else None,
            "spec_version": self.spec, "spec_version_full": version,
        }
        if self.spec == "2.0":
            attrs["basePath"] = str_of(self.root.get("basePath"))
            attrs["host"] = str_of(self.root.get("host"))
            attrs["schemes"] = self.media(self.root.get("schemes"))
        else:
            servers = self.root.get("servers")
            attrs["servers"] = [u for u in (str_of(s.get("url")) for s in servers.items if isinstance(s, Mapping)) if u] \
                if isinstance(servers, YSeq) else []
        if key_pair is None:
            return
        name = attrs["title"] or self.api
        ident = f"openapi:{self.api}"
        self.entities.append(Entity(ident, "openapi.api", name, self.src.repo, self.src.path, self.span(key_pair.key),
                                    {"api": self.api, "pointer": "", **attrs}, None,
                                    self.src.span_from_points(self.root.start, self.root.end)))


def _spec_version(node: YNode | None, f: _File | None = None) -> str:
    value = node.value if isinstance(node, Scalar) else None
    if value is None:
        return ""
    return str(value) if f is None else (f.raw(node) or "")


class OpenAPIExtractor(Extractor):
    name = "openapi"
    version = 3  # 2: API names for generic file names at a repo root; 3: YAML read by a conforming parser

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
        f = _File(src, loaded, root, api_name(src.path, root, src.repo), spec)
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


_COMPONENT_TYPES = {"schemas", "parameters", "responses", "requestBodies", "headers", "securitySchemes",
                    "examples", "links", "callbacks", "pathItems"}


EXTRACTORS = [OpenAPIExtractor()]
