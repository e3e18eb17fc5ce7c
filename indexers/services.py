"""Service boundaries for the whole workspace: which folder of which repo is which service, who owns it.

Per-file `ServiceDecl`s (see `indexers.sources.systems.catalog`) are claims of different strength. They are
merged by (repo, root) in order of trust: catalog > codeowners (owner only) > compose > kubernetes/helm >
dockerfile > module; a name read from a file beats a name guessed from a folder. A folder with only
module/Dockerfile evidence inside a catalog component is part of that component; otherwise the innermost
root wins. Kubernetes and Helm
claims have no folder of their own: they join a service only when one of their images names exactly one
compose image or Dockerfile folder; otherwise they stay in `ServiceMap.unplaced`. A root claimed by two
catalog components is ambiguous and maps no files (precision first). A file belongs to the innermost
service root containing it, or to none.

CODEOWNERS follows GitHub: the first of .github/, root, docs/ is used; gitignore-like patterns; the last
matching rule wins; a rule without owners leaves the path unowned.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from indexers.model import Evidence, Service, ServiceDecl

TRUST = {"catalog": 0, "codeowners": 1, "compose": 2, "kubernetes": 3, "helm": 3, "dockerfile": 4, "module": 5}
CODEOWNERS_ORDER = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
SOURCE_LOCATION = "backstage.io/source-location"
LANGUAGES = {".go": "go", ".py": "python", ".pyi": "python", ".ts": "typescript", ".tsx": "typescript",
             ".mts": "typescript", ".cts": "typescript", ".js": "javascript", ".jsx": "javascript",
             ".mjs": "javascript", ".cjs": "javascript", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
             ".cs": "csharp", ".rs": "rust", ".rb": "ruby", ".php": "php", ".scala": "scala", ".swift": "swift",
             ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".ex": "elixir", ".exs": "elixir"}


# -- CODEOWNERS matching ----------------------------------------------------------------------------

STAR, ANY = "\x00*", "\x00?"  # a segment's wildcards, apart from literal `*` and `?` (escaped in the pattern)
DEEP, REST = "**/", "**"  # any number of whole segments; one or more to the end (a final `**`)


@dataclass(frozen=True, slots=True)
class _Pattern:
    parts: tuple[Any, ...]  # per path segment: DEEP, REST, or a tuple of literal characters and STAR/ANY
    dir_only: bool  # `apps/`: directories only (so everything below them)
    children_only: bool  # `docs/*`: direct children only, as GitHub documents


def _parts(body: str, anchored: bool) -> tuple[Any, ...]:
    parts: list[Any] = [] if anchored else [DEEP]
    seg: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        at_segment = i == 0 or body[i - 1] == "/"
        if ch == "\\" and i + 1 < len(body):
            seg.append(body[i + 1])
            i += 2
        elif at_segment and body.startswith("**/", i):
            if not parts or parts[-1] != DEEP:
                parts.append(DEEP)
            i += 3
        elif at_segment and body.startswith("**", i) and i + 2 == len(body):
            parts.append(REST)
            i += 2
        elif ch == "/":
            parts.append(tuple(seg))
            seg = []
            i += 1
        elif ch == "*":
            while i + 1 < len(body) and body[i + 1] == "*":
                i += 1
            if not seg or seg[-1] != STAR:
                seg.append(STAR)
            i += 1
        else:
            seg.append(ANY if ch == "?" else ch)
            i += 1
    if seg or (body and not body.endswith(("/", "**"))):
        parts.append(tuple(seg))
    return tuple(parts)


def _segment_matches(pat: tuple[str, ...], text: str) -> bool:
    """Wildcard match of one path segment, the classic way: on a mismatch, only the last `*` takes one
    more character (time O(len(pat) * len(text)) at worst, never exponential)."""
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pat) and pat[p] != STAR and (pat[p] == ANY or pat[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pat) and pat[p] == STAR:
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pat) and pat[p] == STAR:
        p += 1
    return p == len(pat)


def _matches(parts: tuple[Any, ...], segments: list[str]) -> tuple[bool, bool]:
    """(the whole path matches, some proper prefix of its segments matches): one pass over the segments
    with the set of pattern positions reached (a glob as an automaton; no backtracking)."""
    done, accept = len(parts), len(parts) + 1  # accept: past a final `**`, takes any further segment

    def close(states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            while i < done and parts[i] == DEEP:
                i += 1
                out.add(i)
        return out

    states = close({0})
    prefix = False
    for n, seg in enumerate(segments):
        nxt: set[int] = set()
        for i in states:
            if i == accept:
                nxt.add(accept)
            elif i < done:
                part = parts[i]
                if part == DEEP:
                    nxt.add(i)
                elif part == REST:
                    nxt.add(accept)
                elif _segment_matches(part, seg):
                    nxt.add(i + 1)
        states = close(nxt)
        if not states:
            return False, prefix
        if n < len(segments) - 1 and (done in states or accept in states):
            prefix = True
    return done in states or accept in states, prefix


@lru_cache(maxsize=8192)
def compile_pattern(pattern: str) -> _Pattern:
    dir_only = pattern.endswith("/") and not pattern.endswith("\\/")
    body = pattern.rstrip("/") if dir_only else pattern
    anchored = body.startswith("/") or "/" in body
    body = body.lstrip("/") or "**"
    children_only = anchored and not dir_only and body.endswith("/*") and not body.endswith("\\*")
    return _Pattern(_parts(body, anchored), dir_only, children_only)


def pattern_matches(pattern: str, path: str, is_dir: bool = False) -> bool:
    """Whether a CODEOWNERS pattern covers `path` (a file, or a folder when `is_dir`). Matched segment by
    segment without regular expressions: a pattern's wildcards cannot make it slow (as a regex,
    `*a*a*a*a*a*a*a*b` took minutes against one long name)."""
    pat = compile_pattern(pattern)
    whole, prefix = _matches(pat.parts, path.split("/"))
    if whole and (is_dir or not pat.dir_only) and not (is_dir and pat.children_only):
        return True
    return prefix and not pat.children_only


def owners_for(rules: Sequence[Mapping[str, Any]], path: str, is_dir: bool = False) -> tuple[list[str], int] | None:
    """(owners, 0-based line) of the last rule matching `path`; owners empty when that rule has none."""
    for rule in reversed(rules):
        if pattern_matches(str(rule["pattern"]), path, is_dir):
            return list(rule.get("owners") or []), int(rule["line"])
    return None


# -- the map ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Declared:
    """Relations a catalog declares for one service (entity refs as written), for later diagnostics."""

    service: str
    repo: str
    provides_apis: tuple[str, ...] = ()
    consumes_apis: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    evidence: Evidence | None = None


@dataclass
class ServiceMap:
    services: tuple[Service, ...] = ()
    catalog: tuple[ServiceDecl, ...] = ()  # catalog API / System / Resource entities
    unplaced: tuple[ServiceDecl, ...] = ()  # claims that could not be tied to a folder
    declared: dict[tuple[str, str], Declared] = field(default_factory=dict)  # (repo, service name)
    _roots: dict[str, dict[str, Service]] = field(default_factory=dict)
    _codeowners: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def service_for(self, repo: str, path: str) -> Service | None:
        roots = self._roots.get(repo)
        if not roots:
            return None
        parts = path.strip("/").split("/")
        for n in range(len(parts), -1, -1):
            hit = roots.get("/".join(parts[:n]))
            if hit is not None:
                return hit
        return None

    def owner_for(self, repo: str, path: str) -> tuple[str, Evidence] | None:
        svc = self.service_for(repo, path)
        if svc is not None and svc.attrs.get("owner_source") == "catalog":
            ev = next(e for e in svc.evidence if e.detail.startswith("owner"))
            return svc.owner, ev
        found = self._codeowners.get(repo)
        if not found:
            return None
        hit = owners_for(found[1], path)
        if hit is None or not hit[0]:
            return None
        return " ".join(hit[0]), Evidence(repo, found[0], hit[1], detail="owner from CODEOWNERS")

    def by_name(self, name: str) -> list[Service]:
        return [s for s in self.services if s.name == name]

    @property
    def apis(self) -> dict[str, ServiceDecl]:
        return {d.name: d for d in self.catalog if d.attrs.get("kind") == "API"}


def entity_ref(ref: str, default_kind: str = "component") -> tuple[str, str, str]:
    """Backstage `[kind:][namespace/]name` -> (kind, namespace, name), lower-cased kind."""
    kind, _, rest = ref.partition(":") if ":" in ref else (default_kind, "", ref)
    namespace, _, name = rest.rpartition("/")
    return kind.lower(), namespace or "default", name


def image_keys(image: str) -> tuple[str, str]:
    """(repository without tag/digest, its last path segment), lower-cased."""
    ref = image.split("@", 1)[0].strip().lower()
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last) + last.index(":")]
    return ref, ref.rsplit("/", 1)[-1]


def _dirs(paths: Sequence[str]) -> set[str]:
    out = {""}
    for p in paths:
        parts = p.split("/")
        for n in range(1, len(parts)):
            out.add("/".join(parts[:n]))
    return out


# A repository name starts after a `/` (or at the start): the lookbehind keeps the search from retrying
# the name from every one of its characters (quadratic in a long annotation).
_SOURCE_URL = re.compile(r"(?<![^/])([^/]+?)(?:\.git)?/(?:-/)?(?:tree|blob|src)/[^/]+/?(.*)$")


def catalog_home(decl: ServiceDecl, dirs: Mapping[str, set[str]]) -> tuple[str, str]:
    """(repo, root) of a catalog component: where `backstage.io/source-location` points when that is a
    folder of a known repo, else the folder of the catalog file (Backstage's convention)."""
    value = str((decl.attrs.get("annotations") or {}).get(SOURCE_LOCATION, ""))
    value = value.removeprefix("url:").removeprefix("dir:")
    if m := _SOURCE_URL.search(value):
        name, rel = m.group(1).lower(), m.group(2).strip("/")
        other = next((r for r in dirs if r.lower() == name and r != decl.repo), None)
        if other is not None and rel in dirs[other]:
            return other, rel
        if rel in dirs.get(decl.repo, ()):
            return decl.repo, rel
    elif value.startswith("."):
        from indexers.sources.systems.catalog import join_rel  # its YAML reader is not needed to load a map

        rel = join_rel(decl.root, value)
        if rel in dirs.get(decl.repo, ()):
            return decl.repo, rel
    return decl.repo, decl.root


@dataclass
class _Claim:
    repo: str
    root: str
    decl: ServiceDecl

    @property
    def rank(self) -> tuple[int, int, str, int]:
        guessed = 1 if self.decl.attrs.get("name_guessed") else 0
        return guessed, TRUST.get(self.decl.source, 9), self.decl.path, self.decl.range.start_line


def derive_services(decls: Sequence[ServiceDecl], files: Mapping[str, Sequence[str]]) -> ServiceMap:
    dirs = {repo: _dirs(paths) for repo, paths in files.items()}
    smap = ServiceMap()
    claims: list[_Claim] = []
    catalog: list[ServiceDecl] = []
    unplaced: list[ServiceDecl] = []
    charts: dict[tuple[str, str], ServiceDecl] = {}
    owners_files: dict[str, dict[str, ServiceDecl]] = {}

    def place(decl: ServiceDecl, repo: str, root: str) -> None:
        # A root must be a folder with files; a repo whose file list is unknown (a shard) is taken on trust.
        if (root in dirs[repo]) if repo in dirs else not root.startswith(".."):
            claims.append(_Claim(repo, root, decl))
        else:
            unplaced.append(decl)

    for d in decls:
        if d.source == "codeowners":
            owners_files.setdefault(d.repo, {})[d.path] = d
        elif d.source == "catalog":
            if d.attrs.get("kind") != "Component":
                catalog.append(d)
                continue
            place(d, *catalog_home(d, dirs))
        elif d.source == "compose" and d.root.startswith("../"):
            parts = d.root.split("/")  # `../<repo>/...`: a build context in a sibling repository
            if len(parts) >= 2 and parts[1] != ".." and parts[1] in files:
                place(d, parts[1], "/".join(parts[2:]))
            else:
                unplaced.append(d)
        elif d.source in ("compose", "dockerfile", "module"):
            place(d, d.repo, d.root)
        elif d.source == "helm" and d.attrs.get("kind") == "chart":
            charts[(d.repo, d.root)] = d
    for repo, found in owners_files.items():
        path = next((p for p in CODEOWNERS_ORDER if p in found), None)
        if path is not None:
            smap._codeowners[repo] = (path, list(found[path].attrs.get("rules") or []))

    # Images -> folders: exact repository names of compose images first, then unique last segments.
    full: dict[str, set[tuple[str, str]]] = {}
    short: dict[str, set[tuple[str, str]]] = {}
    for c in claims:
        if c.decl.source == "compose" and (image := c.decl.attrs.get("image")):
            f, s = image_keys(str(image))
            full.setdefault(f, set()).add((c.repo, c.root))
            short.setdefault(s, set()).add((c.repo, c.root))
        elif c.decl.source == "dockerfile":
            short.setdefault((c.root.rsplit("/", 1)[-1] or c.repo).lower(), set()).add((c.repo, c.root))

    def by_image(image: str) -> tuple[str, str] | None:
        if "{{" in image or "$" in image:
            return None
        f, s = image_keys(image)
        for found in (full.get(f), short.get(s)):
            if found and len(found) == 1:
                return next(iter(found))
            if found:
                return None
        return None

    for d in decls:
        if d.source == "kubernetes" or (d.source == "helm" and d.attrs.get("kind") == "values"):
            if d.source == "helm":
                chart = charts.get((d.repo, d.root))
                if chart is None:
                    continue  # a values.yaml with no Chart.yaml beside it
                if not d.attrs.get("component"):
                    d = ServiceDecl(chart.name, d.repo, d.root, d.source, d.path, d.range,
                                    {**d.attrs, "chart": chart.name, "chart_at": [chart.path, chart.range.start_line]})
            targets = {t for img in d.attrs.get("images") or [] if (t := by_image(str(img)))}
            if len(targets) == 1:
                repo, root = targets.pop()
                claims.append(_Claim(repo, root, d))
            else:
                unplaced.append(d)

    groups: dict[tuple[str, str], list[_Claim]] = {}
    for c in claims:
        groups.setdefault((c.repo, c.root), []).append(c)
    _fold_into_components(groups)
    services: list[tuple[Service, bool]] = []
    for (repo, root), group in sorted(groups.items()):
        group.sort(key=lambda c: c.rank)
        comps = sorted({c.decl.name for c in group if c.decl.source == "catalog"})
        if len(comps) > 1:
            for c in group:
                if c.decl.source == "catalog":
                    services.append((_merge(repo, root, [c], smap, ambiguous=True), False))
                else:
                    unplaced.append(c.decl)
            continue
        services.append((_merge(repo, root, group, smap), True))

    for svc, indexed in services:
        if indexed:
            smap._roots.setdefault(svc.repo, {})[svc.root] = svc
    from indexers.sources.systems.catalog import skipped

    counts: dict[tuple[str, str], Counter[str]] = {}
    for repo, paths in files.items():
        for path in paths:
            lang = LANGUAGES.get(path[path.rfind("."):].lower()) if "." in path.rsplit("/", 1)[-1] else None
            if lang and not skipped(path) and (owner := smap.service_for(repo, path)) is not None:
                counts.setdefault((repo, owner.root), Counter())[lang] += 1
    final: list[Service] = []
    for svc, indexed in services:
        langs = counts.get((svc.repo, svc.root)) if indexed else None
        if langs:
            ordered = tuple(sorted(langs, key=lambda lang: (-langs[lang], lang)))
            svc = Service(svc.name, svc.repo, svc.root, svc.owner, ordered, svc.attrs, svc.evidence)
            smap._roots[svc.repo][svc.root] = svc
        final.append(svc)
    smap.services = tuple(final)
    smap.catalog = tuple(catalog)
    smap.unplaced = tuple(unplaced)
    return smap


def _fold_into_components(groups: dict[tuple[str, str], list[_Claim]]) -> None:
    """A module or Dockerfile folder inside a catalog component (a .csproj under `src/`, a tools go.mod)
    is part of that component, not a service of its own."""
    components = {key for key, group in groups.items()
                  if len({c.decl.name for c in group if c.decl.source == "catalog"}) == 1}
    weak = ("module", "dockerfile")
    for repo, root in sorted(groups, key=lambda k: -k[1].count("/")):
        group = groups[(repo, root)]
        if not root or (repo, root) in components or any(c.decl.source not in weak for c in group):
            continue
        parts = root.split("/")
        for n in range(len(parts) - 1, -1, -1):
            if (repo, "/".join(parts[:n])) in components:
                groups[(repo, "/".join(parts[:n]))].extend(group)
                del groups[(repo, root)]
                break


def _merge(repo: str, root: str, group: list[_Claim], smap: ServiceMap, ambiguous: bool = False) -> Service:
    """One service from the claims on one root, most trusted first."""
    head = group[0].decl
    evidence = [Evidence(head.repo, head.path, head.range.start_line, detail=f"name from {head.source}")]
    attrs: dict[str, Any] = {"sources": sorted({c.decl.source for c in group}, key=lambda s: TRUST.get(s, 9))}
    images: list[str] = []
    for c in group[1:]:
        evidence.append(Evidence(c.decl.repo, c.decl.path, c.decl.range.start_line,
                                 detail=f"{c.decl.source}: {c.decl.name}"))
    for c in group:
        if at := c.decl.attrs.get("chart_at"):  # a values.yaml named by its Chart.yaml
            evidence.append(Evidence(c.decl.repo, str(at[0]), int(at[1]), detail=f"helm chart: {c.decl.name}"))
    for c in reversed(group):  # least trusted first, so more trusted values win
        a = c.decl.attrs
        if c.decl.source == "catalog":
            attrs.update({k: v for k, v in a.items() if k not in ("owner_line",)})
        elif c.decl.source == "compose":
            attrs.update({k: a[k] for k in ("depends_on", "ports", "dockerfile") if k in a})
            images += [str(a["image"])] if "image" in a else []
        elif c.decl.source in ("kubernetes", "helm"):
            key = "deployments" if c.decl.source == "kubernetes" else "charts"
            attrs.setdefault(key, []).append(c.decl.name)
            images += [str(i) for i in a.get("images") or []]
        elif c.decl.source == "dockerfile":
            attrs["base_images"] = a.get("base_images", [])
            if a.get("ports"):
                attrs.setdefault("ports", a["ports"])
        elif c.decl.source == "module":
            attrs.setdefault("modules", []).append(c.decl.path)
    if images:
        attrs["images"] = sorted(set(images))
    if ambiguous:
        attrs["ambiguous_root"] = True
    owner = ""
    catalog_owner = next((c.decl for c in group if c.decl.source == "catalog" and c.decl.attrs.get("owner")), None)
    if catalog_owner is not None:
        owner = str(catalog_owner.attrs["owner"])
        line = catalog_owner.attrs.get("owner_line", catalog_owner.range.start_line)
        evidence.append(Evidence(catalog_owner.repo, catalog_owner.path, int(line), detail="owner from catalog"))
        attrs["owner_source"] = "catalog"
    elif repo in smap._codeowners:
        path, rules = smap._codeowners[repo]
        hit = owners_for(rules, root, is_dir=True)
        if hit and hit[0]:
            owner = " ".join(hit[0])
            evidence.append(Evidence(repo, path, hit[1], detail="owner from CODEOWNERS"))
            attrs["owner_source"] = "codeowners"
            attrs["owners"] = hit[0]
    if head.source == "catalog":
        smap.declared[(repo, head.name)] = Declared(
            head.name, repo, tuple(head.attrs.get("providesApis") or ()), tuple(head.attrs.get("consumesApis") or ()),
            tuple(head.attrs.get("dependsOn") or ()), evidence[0])
    return Service(head.name, repo, root, owner, (), attrs, tuple(evidence))
