"""Service evidence from deployment files: docker compose services, Kubernetes workloads and Services,
Helm charts (Chart.yaml and values), and Dockerfiles (base images, exposed ports, entry points).

Per file and pure, like every extractor; images and build contexts are matched to code roots later, in
`indexers.services`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from indexers.model import FileError, Partial, ServiceDecl, Span
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename, suffix
from indexers.sources.systems.service_yaml import (
    MAX_BYTES,
    MAX_ITEMS,
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

# -- docker compose ---------------------------------------------------------------------------------

_COMPOSE = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$")


def is_remote(ref: str) -> bool:
    return "://" in ref or ref.startswith(("git@", "github.com/")) or ref.endswith(".git")


class ComposeExtractor(Extractor):
    name = "services.compose"
    version = 2  # 2: YAML the tree-sitter grammar rejects is read by a conforming parser

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
    version = 2  # 2: YAML the tree-sitter grammar rejects is read by a conforming parser

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
    version = 2  # 2: YAML the tree-sitter grammar rejects is read by a conforming parser

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
    version = 2  # 2: YAML the tree-sitter grammar rejects is read by a conforming parser

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
