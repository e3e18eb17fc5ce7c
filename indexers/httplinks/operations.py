"""HTTP operations as linking compares them: every OpenAPI operation (and every REST binding a gRPC rpc
declares with `google.api.http`, served by the rpc through grpc-gateway, Envoy or Cloud Endpoints) by
method and normalised path segments, with its API's declared base paths, title and version. Specs that
share a title and differ in `info.version` are one API *family*, told apart by version.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from indexers.httplinks.rendered import rendered_rpcs
from indexers.model import Entity
from indexers.sources.code.strings import url_path

# Words that name no API in particular (spec titles, service names).
_GENERIC_WORDS = frozenset({"api", "apis", "service", "services", "svc", "server", "http", "https", "rest", "openapi",
                            "swagger", "definition", "spec", "app", "web", "backend", "the", "of", "and", "for", "a",
                            "microservice", "v1", "v2", "v3"})
_HTTP_RULE = re.compile(r"\b(get|put|post|delete|patch)\s*:\s*\"([^\"]+)\"")
# possessive blanks: "custom" and a long run of blanks must not be re-split at every position (linear)
_CUSTOM_RULE = re.compile(r"custom\s*+:?\s*+\{\s*+kind\s*+:\s*+\"([A-Za-z]+)\"\s*+path\s*+:\s*+\"([^\"]+)\"")


def words(text: str) -> set[str]:
    """Lower-case words of a name (camelCase, snake_case, kebab-case, dotted), generic ones left out."""
    split = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return {w for w in re.split(r"[^a-z0-9]+", split.lower()) if w and w not in _GENERIC_WORDS and not w.isdigit()}


def norm_version(v: object) -> str:
    """'v2', '2.0', '2.0.0' -> '2'; '1.1' stays '1.1'."""
    s = str(v or "").strip().lower().lstrip("v")
    while s.endswith(".0"):
        s = s[:-2]
    return s


def segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


def alnum(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


@dataclass
class Op:
    entity: Entity
    method: str
    segs: tuple[str, ...]
    api: str
    op_id: str = ""
    tags: tuple[str, ...] = ()
    homes: list[tuple[str, str]] = field(default_factory=list)  # (repo, path) of every declaration
    transcoded: bool = False  # an rpc's `google.api.http` binding (entity: the rpc)
    family: str = ""
    version: str = ""
    title: str = ""
    hosts: tuple[str, ...] = ()


@dataclass
class _Api:
    title: str = ""
    version: str = ""
    bases: list[tuple[str, ...]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # first labels of server hosts (`http://orders:8080` -> orders)


class HttpIndex:
    """Operations by segment count, API versions and families, declared base paths; `rendered`: the rpcs
    whose transcoding an OpenAPI operation is (rpc id -> the operations' entities)."""

    def __init__(self, entities: Sequence[Entity]):
        self.ops: list[Op] = []
        self.rendered: dict[str, list[Entity]] = {}
        self.by_len: dict[int, list[Op]] = defaultdict(list)
        self.by_opid: dict[str, list[Op]] = defaultdict(list)
        apis: dict[str, _Api] = defaultdict(_Api)
        seen: dict[tuple[str, str, str], Op] = {}
        for e in entities:
            if e.kind in ("openapi.api", "openapi.document") or (e.kind.startswith("openapi.") and "servers" in e.attrs):
                api = str(e.attrs.get("api", e.id.split(":", 2)[1] if e.id.count(":") >= 1 else ""))
                info = apis[api]
                if e.kind == "openapi.api":
                    info.title = info.title or str(e.attrs.get("title") or "")
                    info.version = info.version or norm_version(e.attrs.get("version"))
                for base in _base_paths(e.attrs):
                    if base not in info.bases:
                        info.bases.append(base)
                for host in _hosts(e.attrs):
                    if host not in info.hosts:
                        info.hosts.append(host)
            if e.kind == "openapi.operation":
                self._add_openapi(e, seen)
            elif e.kind == "proto.rpc" and isinstance(e.attrs.get("options"), dict):
                self._add_transcoded(e, seen)
        self.apis = dict(apis)
        titles: dict[str, set[str]] = defaultdict(set)
        for api, info in apis.items():
            if info.title.strip():
                titles[info.title.strip().lower()].add(api)
        for op in self.ops:
            info = apis.get(op.api, _Api())
            op.version, op.title, op.hosts = info.version, info.title, tuple(info.hosts)
        self._spec_of: dict[str, Op] = {}  # gRPC service id -> an operation of the spec rendering its bindings
        self._render()
        for op in self.ops:
            info = apis.get(op.api, _Api())
            group = titles.get(info.title.strip().lower(), set()) if info.title.strip() else set()
            versions = {apis[a].version for a in group}
            op.family = "title:" + info.title.strip().lower() if len(group) > 1 and len(versions) == len(group) else op.api
            self.by_len[len(op.segs)].append(op)
            if op.op_id:
                self.by_opid[alnum(op.op_id)].append(op)
        for op in self.ops:  # a rendered service's other bindings belong to the spec's API too
            if op.transcoded and op.api in self._spec_of:
                op.family = self._spec_of[op.api].family

    def _render(self) -> None:
        """An OpenAPI operation generated from an rpc's binding stands for it: the rpc's providers provide the
        operation, and the binding of the same method and path is dropped (a caller of the path consumes the
        spec's operation; a binding the spec writes another way stays)."""
        found = rendered_rpcs([op for op in self.ops if not op.transcoded], [op for op in self.ops if op.transcoded])
        if not found:
            return
        dropped: set[tuple[str, str, tuple[str, ...]]] = set()
        for op in self.ops:
            for rpc in found.get(id(op), []):
                targets = self.rendered.setdefault(rpc.id, [])
                if op.entity not in targets:
                    targets.append(op.entity)
                dropped.add((rpc.id, op.method, op.segs))
                if rpc.parent:
                    self._spec_of.setdefault(rpc.parent, op)
        self.ops = [op for op in self.ops if not (op.transcoded and (op.entity.id, op.method, op.segs) in dropped)]

    def _add_openapi(self, e: Entity, seen: dict[tuple[str, str, str], Op]) -> None:
        method = str(e.attrs.get("method", "")).upper()
        path = e.attrs.get("path")
        if not method or not isinstance(path, str):
            m = re.fullmatch(r"openapi:([^:]*):([A-Z]+) (/.*)", e.id)
            if not m:
                return
            method, path = m.group(2), m.group(3)
        npath = url_path(path)
        if npath is None:
            return
        key = (e.id, method, npath)
        if key in seen:  # a copy of the same spec: one operation, declared in several places
            seen[key].homes.append((e.repo, e.path))
            return
        tags = e.attrs.get("tags") or []
        op = Op(e, method, segments(npath), str(e.attrs.get("api", "")), str(e.attrs.get("operationId") or ""),
                tuple(str(t) for t in tags) if isinstance(tags, list) else (), [(e.repo, e.path)])
        seen[key] = op
        self.ops.append(op)

    def _add_transcoded(self, e: Entity, seen: dict[tuple[str, str, str], Op]) -> None:
        """grpc-gateway / Envoy / Cloud Endpoints: `option (google.api.http) = { get: "/v1/x/{id}" }` declares a
        REST operation served by the rpc."""
        rule = next((v for k, v in e.attrs["options"].items() if k.replace(" ", "") == "(google.api.http)"), None)
        if not isinstance(rule, str):
            return
        bindings = [(m.upper(), p) for m, p in _HTTP_RULE.findall(rule)]
        bindings += [(m.upper(), p) for m, p in _CUSTOM_RULE.findall(rule)]
        for method, raw in bindings:
            npath = url_path(_grpc_template(raw))
            if npath is None:
                continue
            key = (e.id, method, npath)
            if key in seen:
                if (e.repo, e.path) not in seen[key].homes:
                    seen[key].homes.append((e.repo, e.path))
                continue
            op = Op(e, method, segments(npath), e.parent or e.id, e.name, (), [(e.repo, e.path)], transcoded=True)
            seen[key] = op
            self.ops.append(op)

    def match(self, method: str, segs: tuple[str, ...], *, fold: bool, loose: bool, fill: bool
              ) -> list[tuple[Op, bool]]:
        """Operations a method (or '' = any) and path name: exact segments first (a declared base path
        stripped when the usage carries it); else, when `fill`, literal segments filling parameters."""
        for allow_fill in ((False, True) if fill else (False,)):
            out: list[tuple[Op, bool, int]] = []
            for op in self._near(len(segs)):
                if method and op.method != method:
                    continue
                if _same(segs, op.segs, fold, loose, allow_fill):
                    out.append((op, False, _filled(segs, op.segs)))
                    continue
                for base in self.apis.get(op.api, _Api()).bases:
                    if len(segs) == len(base) + len(op.segs) and _same(segs[:len(base)], base, fold, loose, False) \
                            and _same(segs[len(base):], op.segs, fold, loose, allow_fill):
                        out.append((op, True, _filled(segs[len(base):], op.segs)))
                        break
            if out:  # a literal filling a parameter only where no declared literal segment matches it
                least = min(f for _o, _s, f in out)
                return [(op, s) for op, s, f in out if f == least]
        return []

    def _near(self, n: int) -> list[Op]:
        if not any(a.bases for a in self.apis.values()):
            return self.by_len.get(n, [])
        return [op for k, ops in self.by_len.items() if k <= n for op in ops]


def _grpc_template(raw: str) -> str:
    """`/v1/{name=shelves/*}/books` -> `/v1/shelves/{}/books`; `{id}` -> `{}`; a `:verb` suffix kept."""
    def sub(m: re.Match[str]) -> str:
        pattern = m.group(2)
        return pattern.replace("**", "{}").replace("*", "{}") if pattern else "{}"
    return re.sub(r"\{([\w.]+)(?:=([^}]*))?\}", sub, raw)


def _filled(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    return sum(1 for x, y in zip(a, b, strict=False) if y == "{}" and x != "{}")


def _same(a: tuple[str, ...], b: tuple[str, ...], fold: bool, loose: bool, fill: bool) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if x == "{}" or (y == "{}" and not fill):
            return False
        if y == "{}":
            continue
        if fold and x.lower() == y.lower():
            continue
        if loose and alnum(x) == alnum(y):
            continue
        return False
    return True


def _hosts(attrs: dict[str, Any]) -> list[str]:
    """The service a spec's server URLs name: the first label of each host (`http://orders:8080/api` ->
    `orders`, `https://catalog-api.internal` -> `catalog-api`), not `localhost`, an address or a template."""
    out = []
    urls = [s.get("url") if isinstance(s, dict) else s for s in attrs.get("servers") or [] if s]
    if isinstance(attrs.get("host"), str):
        urls.append("//" + attrs["host"])
    for url in urls:
        m = re.match(r"^(?:[a-z][\w+.-]*:)?//([^/:?#]+)", url) if isinstance(url, str) else None
        label = m.group(1).split(".", 1)[0].lower() if m else ""
        if label and "{" not in label and label not in ("localhost", "www", "api") and not label.isdigit():
            out.append(label)
    return out


def _base_paths(attrs: dict[str, Any]) -> list[tuple[str, ...]]:
    out = []
    servers = attrs.get("servers") or []
    for s in servers if isinstance(servers, list) else []:
        url = s.get("url") if isinstance(s, dict) else s
        if isinstance(url, str):
            p = url_path(re.sub(r"\{[^}]*\}", "\x00", url))
            if p and p != "/" and "{}" not in p:
                out.append(segments(p))
    for key in ("basePath", "base_path"):
        bp = attrs.get(key)
        if isinstance(bp, str) and bp.strip("/"):
            out.append(segments("/" + bp.strip("/")))
    return out


