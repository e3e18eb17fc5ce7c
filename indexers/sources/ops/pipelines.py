"""The pipelines that build and deploy services: GitHub Actions workflows, GitLab CI, Argo CD
`Application`s and Flux `Kustomization`/`HelmRelease`s.

A CI job is kept when it builds or deploys something: a container build (`docker build`, the
build-push action, kaniko, buildah, `ko`, Jib), a deploy command (`kubectl apply`, `helm upgrade`,
`argocd app`, `flux`, `kustomize`, `skaffold`, `terraform apply`, `gcloud run deploy`, ...) or an
`environment`. Each job records the folders it names (path filters, build contexts, working directories,
Dockerfiles, chart paths), from which linking finds the services it ships. A GitOps object records the
repository and path it deploys from and its destination.

Facts: `ops.pipeline` at the job's key (attrs: system, workflow, job, environment, builds, deploys,
paths, triggers) and `ops.deploy` at a GitOps object's name (attrs: system, repo_url, path, namespace).
"""

from __future__ import annotations

import re
from typing import Any

from indexers.model import Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, basename, suffix
from indexers.sources.ops.doc import MAX_ITEMS, get, items, load_doc, mappings, plain, span, text
from indexers.sources.yaml.load import Loaded, Mapping, Scalar, YNode

_BUILD = re.compile(r"docker(?:/build-push-action|\s+(?:buildx\s+)?build)|\bkaniko\b|\bbuildah\s+bud\b|\bko\s+(?:build|apply|publish)\b"
                    r"|\bjib(?:Build|DockerBuild)?\b|\bpack\s+build\b|spring-boot:build-image|\bbuildpacks?\b", re.I)
_DEPLOY = re.compile(r"\bkubectl\s+(?:apply|rollout|set\s+image)|\bhelm\s+(?:upgrade|install)\b|\bargocd\s+app\b|\bflux\s+"
                     r"|\bkustomize\s+(?:build|edit)|\bskaffold\s+(?:run|deploy)\b|\bterraform\s+apply\b|gcloud\s+run\s+deploy"
                     r"|\baws\s+ecs\s+update-service\b|\bserverless\s+deploy\b|azure/webapps-deploy|\bfly\s+deploy\b"
                     r"|\bcf\s+push\b|deploy-cloudrun|appleboy/ssh-action", re.I)
_PATHISH = re.compile(r"(?:^|[\s=])(?:-f\s+|--file[= ]|--context[= ]|-C\s+|--chdir[= ]|cd\s+)?(\.{0,2}/?[\w.-]+(?:/[\w.*-]+)+/?)")
_GITOPS_KINDS = {("argoproj.io", "Application"), ("kustomize.toolkit.fluxcd.io", "Kustomization"),
                 ("helm.toolkit.fluxcd.io", "HelmRelease")}
_GITLAB_KEYS = frozenset({"stages", "variables", "default", "include", "workflow", "image", "services", "before_script",
                          "after_script", "cache", "pages"})
MAX_PATHS = 20


def _clean_path(p: str) -> str:
    p = p.strip().strip("'\"")
    p = re.sub(r"^\./", "", p)
    p = re.split(r"[*{]", p, maxsplit=1)[0]
    return p.rstrip("/")


def _strings(node: YNode | None, depth: int = 0) -> list[str]:
    if depth > 6 or node is None:
        return []
    if isinstance(node, Scalar):
        t = text(node)
        return [t] if t else []
    if isinstance(node, Mapping):
        return [s for p in list(node.entries.values())[:200] for s in _strings(p.value, depth + 1)]
    return [s for x in items(node)[:200] for s in _strings(x, depth + 1)]


class _Job:
    def __init__(self) -> None:
        self.builds = False
        self.deploys = False
        self.paths: list[str] = []

    def see(self, s: str) -> None:
        self.builds = self.builds or bool(_BUILD.search(s))
        self.deploys = self.deploys or bool(_DEPLOY.search(s))

    def path(self, p: str | None) -> None:
        if p and "$" not in p and "://" not in p:
            c = _clean_path(p)
            if c and c not in self.paths and len(self.paths) < MAX_PATHS:
                self.paths.append(c)


class PipelinesExtractor(Extractor):
    name = "ops.pipelines"
    version = 1

    def wants(self, path: str) -> bool:
        return suffix(path) in (".yaml", ".yml") and "/node_modules/" not in f"/{path}"

    def extract(self, src: SourceFile) -> Partial:
        data = src.data
        if src.path.startswith(".github/workflows/"):
            return self._run(src, "github")
        if basename(src.path) == ".gitlab-ci.yml" or src.path.endswith(".gitlab-ci.yml"):
            return self._run(src, "gitlab")
        if (b"argoproj.io" in data and b"Application" in data) or b"toolkit.fluxcd.io" in data:
            return self._run(src, "gitops")
        return Partial()

    def _run(self, src: SourceFile, system: str) -> Partial:
        loaded, errors = load_doc(src)
        if loaded is None:
            return Partial(errors=errors)
        out: list[Usage] = []
        for doc in loaded.documents:
            if not isinstance(doc, Mapping):
                continue
            if system == "github":
                out += _github(src, loaded, doc)
            elif system == "gitlab":
                out += _gitlab(src, loaded, doc)
            else:
                out += _gitops(src, loaded, doc)
        return Partial(usages=out[:MAX_ITEMS], errors=errors if system != "gitops" or out else [])


def _environment(node: YNode | None) -> str:
    return text(node) or text(get(node, "name")) or ""


def _github(src: SourceFile, loaded: Loaded, doc: Mapping) -> list[Usage]:
    workflow = text(doc.get("name")) or basename(src.path)
    on = doc.get("on") or doc.get("true")  # YAML 1.1 readers turn `on` into true; ours keeps it, but be safe
    triggers = list(on.entries)[:10] if isinstance(on, Mapping) else _strings(on)[:10]
    filters: list[str] = []
    for trig in ("push", "pull_request"):
        for p in _strings(get(on, trig, "paths")):
            if not p.startswith("!"):
                filters.append(_clean_path(p))
    out = []
    jobs = doc.get("jobs")
    for key, pair in (list(jobs.entries.items())[:MAX_ITEMS] if isinstance(jobs, Mapping) else []):
        job_node = pair.value
        if not isinstance(job_node, Mapping):
            continue
        job = _Job()
        env = _environment(job_node.get("environment"))
        for p in filters:
            job.path(p)
        job.path(text(get(job_node, "defaults", "run", "working-directory")))
        for step in mappings(job_node.get("steps")):
            uses = text(step.get("uses")) or ""
            run = text(step.get("run")) or ""
            job.see(uses)
            job.see(run)
            with_ = step.get("with")
            for k in ("context", "file", "dockerfile", "path", "chart", "working-directory", "app-path", "manifests"):
                for s in _strings(get(with_, k)):
                    job.path(s)
            job.path(text(step.get("working-directory")))
            if run and (job.builds or job.deploys):
                for m in _PATHISH.finditer(run):
                    job.path(m.group(1))
        if not (job.builds or job.deploys or env):
            continue
        out.append(Usage(src.repo, src.path, span(loaded, pair.key), "ops.pipeline", key, workflow, "", "", {
            "system": "github-actions", "workflow": plain(workflow), "job": plain(key), "environment": plain(env),
            "builds": job.builds, "deploys": job.deploys or bool(env), "paths": job.paths,
            "triggers": [plain(t) for t in triggers]}))
    return out


def _gitlab(src: SourceFile, loaded: Loaded, doc: Mapping) -> list[Usage]:
    out = []
    for key, pair in list(doc.entries.items())[:MAX_ITEMS]:
        job_node = pair.value
        if key in _GITLAB_KEYS or key.startswith(".") or not isinstance(job_node, Mapping):
            continue
        if "script" not in job_node.entries and "trigger" not in job_node.entries:
            continue
        job = _Job()
        env = _environment(job_node.get("environment"))
        for part in ("script", "before_script", "image"):
            for s in _strings(job_node.get(part)):
                job.see(s)
                if job.builds or job.deploys:
                    for m in _PATHISH.finditer(s):
                        job.path(m.group(1))
        for rule in mappings(job_node.get("rules")):
            for p in _strings(rule.get("changes")):
                job.path(p)
        for p in _strings(get(job_node, "only", "changes")):
            job.path(p)
        stage = text(job_node.get("stage")) or ""
        if not (job.builds or job.deploys or env):
            continue
        out.append(Usage(src.repo, src.path, span(loaded, pair.key), "ops.pipeline", key, ".gitlab-ci.yml", "", "", {
            "system": "gitlab-ci", "workflow": ".gitlab-ci.yml", "job": plain(key), "stage": plain(stage),
            "environment": plain(env), "builds": job.builds, "deploys": job.deploys or bool(env), "paths": job.paths,
            "triggers": []}))
    return out


def _gitops(src: SourceFile, loaded: Loaded, doc: Mapping) -> list[Usage]:
    api = (text(doc.get("apiVersion")) or "").split("/", 1)[0]
    kind = text(doc.get("kind")) or ""
    if (api, kind) not in _GITOPS_KINDS:
        return []
    name_node = get(doc, "metadata", "name")
    name = text(name_node)
    if not name or name_node is None:
        return []
    spec = doc.get("spec")
    attrs: dict[str, Any] = {"system": "argocd" if api == "argoproj.io" else "flux", "kind": kind}
    if api == "argoproj.io":
        sources = [get(spec, "source")] + mappings(get(spec, "sources"))
        for s in sources:
            if isinstance(s, Mapping) and (url := text(s.get("repoURL"))):
                attrs["repo_url"] = plain(url, 400)
                attrs["path"] = plain(_clean_path(text(s.get("path")) or text(s.get("chart")) or ""))
                break
        attrs["namespace"] = plain(text(get(spec, "destination", "namespace")) or "")
        attrs["environment"] = plain(text(get(spec, "project")) or "")
    elif kind == "Kustomization":
        attrs["path"] = plain(_clean_path(text(get(spec, "path")) or ""))
        attrs["source"] = plain(text(get(spec, "sourceRef", "name")) or "")
        attrs["namespace"] = plain(text(get(spec, "targetNamespace")) or "")
    else:
        attrs["path"] = plain(_clean_path(text(get(spec, "chart", "spec", "chart")) or ""))
        attrs["source"] = plain(text(get(spec, "chart", "spec", "sourceRef", "name")) or "")
        attrs["namespace"] = plain(text(get(spec, "targetNamespace")) or "")
    return [Usage(src.repo, src.path, span(loaded, name_node), "ops.deploy", name, kind, "", "", attrs)]


EXTRACTORS: list[Extractor] = [PipelinesExtractor()]
