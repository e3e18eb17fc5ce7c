"""Evidence that a service exists, one file at a time: Backstage catalogs, CODEOWNERS, compose files,
Kubernetes manifests, Helm charts, Dockerfiles and module manifests (go.mod, package.json, ...).

Each extractor turns one file into `ServiceDecl` facts that say what the file claims (a name, a root
folder, an owner, images, dependencies) and where it says it. Nothing here looks at other files: roots that
need several files (a Kubernetes image built by a Dockerfile elsewhere, a values.yaml beside its
Chart.yaml) are settled in `indexers.services`. YAML is read as a node graph (`compose`, never
`construct`), so aliases are shared rather than expanded and every value keeps its position; merge keys
are followed to a bounded depth; large files and deep nesting become a `FileError`, never an exception.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections.abc import Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..model import FileError, Partial, ServiceDecl, Span
from ..positions import SourceFile
from .base import Extractor, basename, suffix

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


# -- Backstage catalog ------------------------------------------------------------------------------

CATALOG_KINDS = frozenset({"Component", "API", "System", "Resource"})
CATALOG_LISTS = ("providesApis", "consumesApis", "dependsOn", "dependencyOf", "subcomponentOf")


class CatalogExtractor(Extractor):
    name = "services.catalog"
    version = 1

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


# -- docker compose ---------------------------------------------------------------------------------

_COMPOSE = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$")


def is_remote(ref: str) -> bool:
    return "://" in ref or ref.startswith(("git@", "github.com/")) or ref.endswith(".git")


class ComposeExtractor(Extractor):
    name = "services.compose"
    version = 1

    def wants(self, path: str) -> bool:
        return bool(_COMPOSE.match(basename(path))) and not skipped(path)

    def extract(self, src: SourceFile) -> Partial:
        docs, err = yaml_docs(src)
        out = Partial(errors=[err] if err else [])
        here = folder(src.path)
        for doc in docs[:1]:
            for key, svc in pairs(get(doc, "services")):
                build = get(svc, "build")
                if not isinstance(build, (ScalarNode, MappingNode)):
                    continue  # no build: runs someone else's image, not code of this system
                context = scalar(build) if isinstance(build, ScalarNode) else scalar(get(build, "context")) or "."
                if not context or "$" in context or is_remote(context) or context.startswith("/"):
                    continue
                root = join_rel(here, context)
                attrs: dict[str, object] = {"context": context}
                if dockerfile := scalar(get(build, "dockerfile")):
                    attrs["dockerfile"] = join_rel(root, dockerfile) if "$" not in dockerfile else dockerfile
                if image := scalar(get(svc, "image")):
                    attrs["image"] = image
                deps = get(svc, "depends_on")
                depends = [k.value for k, _ in pairs(deps)] if isinstance(deps, MappingNode) else strings(deps)
                if depends:
                    attrs["depends_on"] = depends
                if ports := compose_ports(get(svc, "ports")):
                    attrs["ports"] = ports
                out.services.append(ServiceDecl(str(key.value), src.repo, root, "compose", src.path, span(src, key), attrs))
        return out


def compose_ports(node: Node | None) -> list[str]:
    if not isinstance(node, SequenceNode):
        return []
    ports: list[str] = []
    for item in node.value[:MAX_ITEMS]:
        if isinstance(item, MappingNode):
            target, published = scalar(get(item, "target")), scalar(get(item, "published"))
            if target:
                ports.append(f"{published}:{target}" if published else target)
        elif value := scalar(item):
            ports.append(value)
    return ports


# -- Kubernetes and Helm ----------------------------------------------------------------------------

K8S_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Service", "Pod",
                       "Rollout", "DeploymentConfig"})
_K8S_HINT = re.compile(r"^kind:\s*[\"']?(?:" + "|".join(sorted(K8S_KINDS)) + r"|List)\b", re.M)
_OWN_YAML = re.compile(r"^(?:catalog-info.*|(?:docker-)?compose.*|Chart|values.*)\.ya?ml$")


def pod_spec(doc: Node, kind: str) -> Node | None:
    spec = get(doc, "spec")
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = get(get(spec, "jobTemplate"), "spec")
    return get(get(spec, "template"), "spec")


class KubernetesExtractor(Extractor):
    name = "services.kubernetes"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml") and not _OWN_YAML.match(basename(path)) and not skipped(path) \
            and not path.startswith(".github/")

    def extract(self, src: SourceFile) -> Partial:
        if not (_K8S_HINT.search(src.text) and re.search(r"^apiVersion:", src.text, re.M)):
            return Partial()
        docs, err = yaml_docs(src, want=_K8S_HINT)
        out = Partial()
        if err and "{{" not in src.text:  # templated manifests (Helm, ...) are not YAML until rendered
            out.errors.append(err)
        items: list[Node] = []
        for doc in docs:
            items.extend(get(doc, "items").value[:MAX_ITEMS] if scalar(get(doc, "kind")) == "List"  # type: ignore[union-attr]
                         and isinstance(get(doc, "items"), SequenceNode) else [doc])
        for doc in items:
            kind = scalar(get(doc, "kind"))
            name_node = get(get(doc, "metadata"), "name")
            name = scalar(name_node)
            if kind not in K8S_KINDS or not name or name_node is None or not scalar(get(doc, "apiVersion")):
                continue
            attrs: dict[str, object] = {"kind": kind}
            if namespace := scalar(get(get(doc, "metadata"), "namespace")):
                attrs["namespace"] = namespace
            knative = (scalar(get(doc, "apiVersion")) or "").startswith("serving.knative.dev/")
            if knative:
                attrs["kind"] = "KnativeService"
            if kind == "Service" and not knative:
                selector = {k.value: v for k, n in pairs(get(get(doc, "spec"), "selector")) if (v := scalar(n))}
                if selector:
                    attrs["selector"] = selector
            else:
                pod = pod_spec(doc, kind)
                images = [img for part in ("initContainers", "containers") for c in seq(get(pod, part))
                          if (img := scalar(get(c, "image")))]
                if not images:
                    continue
                attrs["images"] = images
            out.services.append(ServiceDecl(name, src.repo, "", "kubernetes", src.path, span(src, name_node), attrs))
        return out


def seq(node: Node | None) -> list[Node]:
    return list(node.value[:MAX_ITEMS]) if isinstance(node, SequenceNode) else []


def helm_image(node: Node | None) -> str | None:
    """`image: repo:tag` or `image: {registry, repository, tag}` -> the image name."""
    if isinstance(node, ScalarNode):
        return scalar(node)
    repo = scalar(get(node, "repository")) or scalar(get(node, "name"))
    if not repo or "{{" in repo:
        return None
    registry = scalar(get(node, "registry"))
    return f"{registry}/{repo}" if registry and "{{" not in registry else repo


class HelmExtractor(Extractor):
    name = "services.helm"
    version = 1

    def wants(self, path: str) -> bool:
        return basename(path) in ("Chart.yaml", "Chart.yml", "values.yaml", "values.yml") and not skipped(path)

    def extract(self, src: SourceFile) -> Partial:
        docs, err = yaml_docs(src)
        out = Partial(errors=[err] if err else [])
        here = folder(src.path)
        for doc in docs[:1]:
            if basename(src.path).startswith("Chart"):
                name_node = get(doc, "name")
                if (name := scalar(name_node)) and name_node is not None:
                    attrs: dict[str, object] = {"kind": "chart"}
                    for prop in ("version", "appVersion", "type"):
                        if value := scalar(get(doc, prop)):
                            attrs[prop] = value
                    out.services.append(ServiceDecl(name, src.repo, here, "helm", src.path, span(src, name_node), attrs))
                continue
            found: list[tuple[str, ScalarNode, Node]] = []
            for key, body in pairs(doc):  # `image:` at the top, or one per component (umbrella charts)
                if key.value == "image":
                    found.insert(0, ("", key, body))
                elif isinstance(body, MappingNode):
                    found.extend((str(key.value), k, v) for k, v in pairs(body) if k.value == "image")
            for component, key, node in found:
                if image := helm_image(node):
                    attrs = {"kind": "values", "images": [image]}
                    if component:
                        attrs["component"] = component
                    out.services.append(ServiceDecl(component or basename(here) or src.repo, src.repo, here, "helm",
                                                    src.path, span(src, key), attrs))
        return out


# -- Dockerfile -------------------------------------------------------------------------------------

_NOT_DOCKERFILE = frozenset({".dockerignore", ".md", ".txt", ".vim", ".so", ".json", ".yaml", ".yml", ".sh", ".py",
                             ".go", ".js", ".ts", ".orig", ".bak", ".swp", ".rej", ".tmpl", ".template", ".j2", ".in",
                             ".erb", ".tpl", ".mustache", ".hbs", ".el", ".lock"})
_HEREDOC = re.compile(r"<<-?([\"']?)(\w+)\1")
_VAR = re.compile(r"\$\{?(\w+)(?::-([^}]*))?\}?")


def is_dockerfile(base: str) -> bool:
    """`Dockerfile`, `Dockerfile.<variant>`, `<variant>.Dockerfile`; not editor plug-ins, templates, ignores."""
    if base.lower() == "dockerfile" or base.endswith((".Dockerfile", ".dockerfile")):
        return True
    return base.startswith("Dockerfile.") and suffix(base) not in _NOT_DOCKERFILE


def instructions(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuations joined; the escape directive honoured."""
    escape = "\\"
    for line in lines:  # parser directives: leading `# key=value` comments
        if not (m := re.match(r"#\s*(\w+)\s*=\s*(\S*)", line.strip())):
            break
        if m.group(1).lower() == "escape" and m.group(2):
            escape = m.group(2)[0]
    start, buf, heredoc = -1, "", ""
    for n, raw in enumerate(lines):
        stripped = raw.strip()
        if heredoc:  # the body of `RUN <<EOF`: not instructions
            heredoc = "" if stripped == heredoc else heredoc
            continue
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if start < 0:
            start = n
        if stripped.endswith(escape):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        word, _, rest = buf.partition(" ")
        if m := _HEREDOC.search(rest):
            heredoc = m.group(2)
        yield start, word.upper(), rest.strip()
        start, buf = -1, ""
    if buf:
        word, _, rest = buf.partition(" ")
        yield start, word.upper(), rest.strip()


class DockerfileExtractor(Extractor):
    name = "services.dockerfile"
    version = 1

    def wants(self, path: str) -> bool:
        return is_dockerfile(basename(path)) and not skipped(path) and ".devcontainer" not in path.split("/")

    def extract(self, src: SourceFile) -> Partial:
        out = Partial()
        if len(src.data) > MAX_BYTES:
            out.errors.append(FileError(src.repo, src.path, "file too large to read"))
            return out
        stages: set[str] = set()
        bases: list[str] = []
        ports: list[str] = []
        first_from: int | None = None
        args_before: dict[str, str] = {}  # `ARG BASE=golang:1.22` before the first FROM
        for n, word, args in instructions(src.lines):
            if word == "ARG" and first_from is None:
                key, eq, default = args.partition("=")
                if eq:
                    args_before[key.strip()] = default.strip().strip("\"'")
            elif word == "FROM":
                expanded = _VAR.sub(lambda m: args_before.get(m.group(1), m.group(2) or m.group(0)), args)
                tokens = [t for t in expanded.split() if not t.startswith("--")]
                if not tokens:
                    out.errors.append(FileError(src.repo, src.path, "FROM without an image", n))
                    continue
                first_from = n if first_from is None else first_from
                if tokens[0].lower() not in stages and tokens[0] != "scratch" and tokens[0] not in bases:
                    bases.append(tokens[0])
                if len(tokens) >= 3 and tokens[1].lower() == "as":
                    stages.add(tokens[2].lower())
            elif word == "EXPOSE":
                for token in args.split():
                    if (port := token.split("/")[0]) not in ports:
                        ports.append(port)
        if first_from is None:
            out.errors.append(FileError(src.repo, src.path, "no FROM instruction", 0))
            return out
        here = folder(src.path)
        attrs: dict[str, object] = {"base_images": bases, "name_guessed": True}
        if ports:
            attrs["ports"] = ports
        base = basename(src.path)
        if base.lower() != "dockerfile":
            attrs["variant"] = base[len("dockerfile."):] if base.lower().startswith("dockerfile.") else base[:-len(".dockerfile")]
        rng = Span.line(first_from, 0, len(src.lines[first_from]))
        out.services.append(ServiceDecl(basename(here) or src.repo, src.repo, here, "dockerfile", src.path, rng, attrs))
        return out


# -- module manifests -------------------------------------------------------------------------------

MODULE_FILES = {"go.mod": "go", "package.json": "npm", "pyproject.toml": "pyproject", "setup.cfg": "setupcfg",
                "pom.xml": "maven", "build.gradle": "gradle", "build.gradle.kts": "gradle",
                "settings.gradle": "gradle-settings", "settings.gradle.kts": "gradle-settings", "Cargo.toml": "cargo"}
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")
_DOCTYPE = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.I)


def module_kind(base: str) -> str | None:
    if base in MODULE_FILES:
        return MODULE_FILES[base]
    return "csproj" if base.endswith(".csproj") and len(base) > len(".csproj") else None


def key_line(src: SourceFile, key: str, value: str, after: int = 0) -> Span:
    """The span of `value` on the first line at or after `after` that mentions `key` and `value`."""
    for n in range(after, len(src.lines)):
        line = src.lines[n]
        if key in line and (col := line.find(value, line.find(key) + len(key))) >= 0:
            return src.span_from_chars(n, col, n, col + len(value))
    return Span.line(0)


def toml_table(src: SourceFile, tables: list[str]) -> tuple[dict[str, object] | None, FileError | None]:
    import tomllib

    try:
        data = tomllib.loads(src.text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        line = int(m.group(1)) - 1 if m else max(len(src.lines) - 1, 0)
        return None, FileError(src.repo, src.path, f"invalid TOML: {_TOML_POS.sub('', str(exc)).strip()}", line)
    except RecursionError:
        return None, FileError(src.repo, src.path, "invalid TOML: nesting too deep")
    for dotted in tables:
        node: object = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            return node, None
    return None, None


def safe_xml(src: SourceFile) -> tuple[object | None, FileError | None]:
    """Parse XML with no DTD at all: DOCTYPE or ENTITY declarations are refused, not expanded."""
    import xml.etree.ElementTree as ET

    if m := _DOCTYPE.search(src.text):
        line = src.text.count("\n", 0, m.start())
        return None, FileError(src.repo, src.path, "DOCTYPE/ENTITY declarations are not allowed", line)
    try:
        return ET.fromstring(src.text), None
    except ET.ParseError as exc:
        line = exc.position[0] - 1 if getattr(exc, "position", None) else None
        return None, FileError(src.repo, src.path, f"invalid XML: {exc}", line)
    except RecursionError:
        return None, FileError(src.repo, src.path, "invalid XML: nesting too deep")


def module_decl(src: SourceFile) -> tuple[str, str, Span, dict[str, object]] | FileError | None:
    """(name, language, range, extra attrs) for one manifest, a FileError, or None (not a module root)."""
    import json

    base = basename(src.path)
    kind = module_kind(base)
    if kind == "go":
        for n, line in enumerate(src.lines):
            if m := re.match(r'^\s*module\s+"?([^\s"/]+(?:/[^\s"/]+)*)"?', line):
                parts = m.group(1).split("/")
                name = parts[-2] if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]) else parts[-1]
                return name, "go", src.span_from_chars(n, m.start(1), n, m.end(1)), {"module": m.group(1)}
        return FileError(src.repo, src.path, "go.mod without a module directive", 0)
    if kind == "npm":
        try:
            data = json.loads(src.text)
        except json.JSONDecodeError as exc:
            return FileError(src.repo, src.path, f"invalid JSON: {exc.msg}", exc.lineno - 1)
        except RecursionError:
            return FileError(src.repo, src.path, "invalid JSON: nesting too deep")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            return None
        if data.get("private") is True and data.get("workspaces"):
            return None  # a workspace root: its packages are the modules
        deps = {**(data.get("dependencies") or {}), **(data.get("devDependencies") or {})} \
            if all(isinstance(data.get(k, {}), dict) for k in ("dependencies", "devDependencies")) else {}
        ts = "typescript" in deps or "types" in data or "typings" in data
        return data["name"], "typescript" if ts else "javascript", key_line(src, '"name"', data["name"]), {}
    if kind in ("pyproject", "cargo"):
        tables = ["project", "tool.poetry"] if kind == "pyproject" else ["package"]
        table, err = toml_table(src, tables)
        if err or table is None:
            return err
        name = str(table["name"])
        return name, "python" if kind == "pyproject" else "rust", key_line(src, "name", name), {}
    if kind == "setupcfg":
        for n, line in enumerate(src.lines):
            if line.strip().lower() == "[metadata]":
                for k in range(n + 1, len(src.lines)):
                    if src.lines[k].startswith("["):
                        break
                    if m := re.match(r"^name\s*[=:]\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*$", src.lines[k]):
                        return m.group(1), "python", src.span_from_chars(k, m.start(1), k, m.end(1)), {}
        return None
    if kind in ("maven", "csproj"):
        root, err = safe_xml(src)
        if err or root is None:
            return err
        if kind == "csproj":
            return base[: -len(".csproj")], "csharp", Span.line(0), {}
        tag = getattr(root, "tag", "")
        ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        art = root.find(f"{ns}artifactId")  # type: ignore[attr-defined]
        if not tag.endswith("project") or art is None or not (art.text or "").strip():
            return None
        name = art.text.strip()
        lang = "kotlin" if "kotlin-maven-plugin" in src.text else "java"
        return name, lang, key_line(src, "<artifactId>", name), {}
    if kind == "gradle":
        lang = "kotlin" if re.search(r"kotlin\(|org\.jetbrains\.kotlin", src.text) else "java"
        return basename(folder(src.path)) or src.repo, lang, Span.line(0), {"name_guessed": True}
    if kind == "gradle-settings":
        for n, line in enumerate(src.lines):
            if m := re.search(r"rootProject\.name\s*=\s*[\"']([^\"']+)[\"']", line):
                return m.group(1), "", src.span_from_chars(n, m.start(1), n, m.end(1)), {}
        return None
    return None


class ModuleExtractor(Extractor):
    name = "services.module"
    version = 1

    def wants(self, path: str) -> bool:
        return module_kind(basename(path)) is not None and not skipped(path)

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial(errors=[FileError(src.repo, src.path, "file too large to read")])
        found = module_decl(src)
        if isinstance(found, FileError):
            return Partial(errors=[found])
        if found is None:
            return Partial()
        name, lang, rng, extra = found
        attrs: dict[str, object] = {"manifest": basename(src.path), **extra}
        if lang:
            attrs["language"] = lang
        return Partial(services=[ServiceDecl(name, src.repo, folder(src.path), "module", src.path, rng, attrs)])


EXTRACTORS: list[Extractor] = [CatalogExtractor(), CodeownersExtractor(), ComposeExtractor(), KubernetesExtractor(),
                               HelmExtractor(), DockerfileExtractor(), ModuleExtractor()]
