"""Evidence that a service exists, one file at a time. This module holds the Backstage catalog and
CODEOWNERS extractors and the `EXTRACTORS` list for the whole family; deployment files (compose,
Kubernetes, Helm, Dockerfile) are read in `deploy`, module manifests (go.mod, package.json, ...) in
`modules`, and the shared path and YAML helpers live in `service_yaml`.

Each extractor turns one file into `ServiceDecl` facts that say what the file claims (a name, a root
folder, an owner, images, dependencies) and where it says it. Nothing here looks at other files: roots that
need several files (a Kubernetes image built by a Dockerfile elsewhere, a values.yaml beside its
Chart.yaml) are settled in `indexers.services`.
"""

from __future__ import annotations

import re

from ruamel.yaml.nodes import Node

from indexers.model import FileError, Partial, ServiceDecl, Span
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename, suffix
from indexers.sources.systems.deploy import (
    ComposeExtractor,
    DockerfileExtractor,
    HelmExtractor,
    KubernetesExtractor,
)
from indexers.sources.systems.modules import ModuleExtractor
from indexers.sources.systems.service_yaml import (
    MAX_BYTES,
    doc_line,
    folder,
    get,
    join_rel,
    pairs,
    scalar,
    skipped,
    span,
    strings,
    yaml_docs,
)

__all__ = ["EXTRACTORS", "folder", "join_rel", "skipped"]


# -- Backstage catalog ------------------------------------------------------------------------------

CATALOG_KINDS = frozenset({"Component", "API", "System", "Resource"})
CATALOG_LISTS = ("providesApis", "consumesApis", "dependsOn", "dependencyOf", "subcomponentOf")


class CatalogExtractor(Extractor):
    name = "services.catalog"
    version = 2  # 2: YAML the tree-sitter grammar rejects is read by a conforming parser

    def wants(self, path: str) -> bool:
        base = basename(path)
        return base.startswith("catalog-info") and suffix(base) in (".yaml", ".yml") and not skipped(path)

    def extract(self, src: SourceFile) -> Partial:
        docs, err = yaml_docs(src)
        out = Partial(errors=[err] if err else [])
        here = folder(src.path)
        for doc in docs:
            kind = scalar(get(doc, "kind"))
            if kind not in CATALOG_KINDS:
                continue
            meta, spec = get(doc, "metadata"), get(doc, "spec")
            name_node = get(meta, "name")
            name = scalar(name_node)
            if not name or name_node is None:
                out.errors.append(FileError(src.repo, src.path, f"catalog {kind} without metadata.name", doc_line(doc)))
                continue
            attrs: dict[str, object] = {"kind": kind}
            for key in ("namespace", "title", "description"):
                if value := scalar(get(meta, key)):
                    attrs[key] = value
            for key in ("owner", "system", "lifecycle", "type", "domain"):
                if value := scalar(get(spec, key)):
                    attrs[key] = value
            if (owner := get(spec, "owner")) is not None and "owner" in attrs:
                attrs["owner_line"] = owner.start_mark.line
            for key in CATALOG_LISTS:
                if values := strings(get(spec, key)):
                    attrs[key] = values
            annotations = {k.value: v for k, n in pairs(get(meta, "annotations")) if (v := scalar(n))}
            if annotations:
                attrs["annotations"] = annotations
            if kind == "API":
                attrs.update(api_definition(get(spec, "definition"), here))
            out.services.append(ServiceDecl(name, src.repo, here, "catalog", src.path, span(src, name_node), attrs))
        return out


def api_definition(node: Node | None, here: str) -> dict[str, object]:
    """Where an API's definition lives: a repo path (`$text: ./openapi.yaml`), a URL, or inline text."""
    for key, value in pairs(node):
        ref = scalar(value)
        if key.value in ("$text", "$openapi", "$json", "$yaml", "$asyncapi") and ref:
            if "://" in ref:
                return {"definition_url": ref}
            if not ref.startswith("/"):
                return {"definition": join_rel(here, ref)}
    if scalar(node):
        return {"definition_inline": True}
    return {}


# -- CODEOWNERS -------------------------------------------------------------------------------------

CODEOWNERS_PATHS = frozenset({"CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"})
_OWNER = re.compile(r"^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9_.-]+)?|[^@\s/]+@[^@\s/]+\.[A-Za-z]{2,})$")
_SECTION = re.compile(r"^\^?\[[^\]]+\](?:\[\d+\])?(?:\s|$)")  # GitLab sections: not rules


def split_rule(line: str) -> list[str]:
    """Whitespace-separated tokens; backslash escapes kept in tokens; an unescaped `#` starts a comment."""
    tokens: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur.append(line[i:i + 2])
            i += 2
            continue
        if ch.isspace():
            if cur:
                tokens.append("".join(cur))
                cur = []
        elif ch == "#" and not cur:
            break
        else:
            cur.append(ch)
        i += 1
    if cur:
        tokens.append("".join(cur))
    return tokens


class CodeownersExtractor(Extractor):
    name = "services.codeowners"
    version = 1

    def wants(self, path: str) -> bool:
        return path in CODEOWNERS_PATHS

    def extract(self, src: SourceFile) -> Partial:
        out = Partial()
        if len(src.data) > MAX_BYTES:
            out.errors.append(FileError(src.repo, src.path, "file too large to read"))
            return out
        rules: list[dict[str, object]] = []
        for n, raw in enumerate(src.lines):
            line = raw.strip()
            if not line or line.startswith("#") or _SECTION.match(line):
                continue
            tokens = split_rule(line)
            if not tokens:
                continue
            pattern, owners = tokens[0], tokens[1:]
            if pattern.startswith("!") or re.search(r"(?<!\\)\[", pattern):
                out.errors.append(FileError(src.repo, src.path, f"unsupported pattern syntax in {pattern!r}; rule ignored", n))
                continue
            bad = [o for o in owners if not _OWNER.match(o)]
            if bad:
                out.errors.append(FileError(src.repo, src.path, f"invalid owner {bad[0]!r}; rule ignored", n))
                continue
            rules.append({"pattern": pattern, "owners": owners, "line": n})
        out.services.append(ServiceDecl("CODEOWNERS", src.repo, "", "codeowners", src.path, Span.line(0), {"rules": rules}))
        return out


EXTRACTORS: list[Extractor] = [CatalogExtractor(), CodeownersExtractor(), ComposeExtractor(), KubernetesExtractor(),
                               HelmExtractor(), DockerfileExtractor(), ModuleExtractor()]
