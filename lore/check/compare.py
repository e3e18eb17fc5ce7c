"""Compare a repository's contracts at a base ref with the working tree (or a head ref) and explain what
breaks, for whom.

Both sides are extracted with the contract extractors and resolved the way the Snapshot resolves them
(proto type names across files and repos, OpenAPI `$ref`s, SQL migrations folded into the current
schema), then compared per format by the rules modules. Consumers come from linking the workspace's code
usages against the *base* contracts, since a deleted element has no links left in the working tree.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from indexers.discover import looks_binary, skip_reason_by_name
from indexers.extract import sha256
from indexers.model import Entity, FileError, FileFacts, Link, Location, Span
from indexers.positions import SourceFile
from indexers.sources import registry
from lore.check import baseline, graphql_rules, openapi_rules, proto_rules, sql_rules
from lore.check.findings import ERROR, WARNING, Change, CheckResult, Consumer, Finding
from lore.check.fixes import fixes_for
from lore.check.suppress import IgnoreRule, config_reason, inline
from lore.check.view import View

FORMATS: dict[str, Callable[[View, View], list[Change]]] = {
    "proto": proto_rules.compare, "openapi": openapi_rules.compare, "graphql": graphql_rules.compare, "sql": sql_rules.compare,
}
_DECL_KINDS = ("proto.package", "proto.file", "proto.message", "proto.enum", "proto.service")


def contract_extractors(path: str) -> list[Any]:
    return [e for e in registry.for_path(path) if e.name in FORMATS]


def is_contract_path(path: str) -> bool:
    return bool(contract_extractors(path))


def extract(repo: str, path: str, data: bytes) -> FileFacts:
    """Contract facts of one file (the contract extractors only), never raising."""
    src = SourceFile(repo, path, data)
    entities: list[Entity] = []
    errors: list[FileError] = []
    for ex in contract_extractors(path):
        try:
            part = ex.extract(src)
        except Exception as exc:  # noqa: BLE001 - one extractor never stops the check
            errors.append(FileError(repo, path, f"{ex.name} extractor failed: {exc.__class__.__name__}: {exc}"))
            continue
        entities += part.entities
        errors += part.errors
    return FileFacts(repo, path, sha256(data), entities=tuple(entities), errors=tuple(errors))


def _fmt(e: Entity) -> str:
    return e.kind.split(".", 1)[0]


def resolve(files: Iterable[FileFacts], context: Sequence[FileFacts] = ()) -> list[Entity]:
    """The contract entities of `files` after every contract extractor's workspace-level resolve step;
    `context` (other repos' files) only helps resolve names."""
    own = list(files)
    repos = {ff.repo for ff in own}
    every = own + list(context)
    entities = [e for ff in every for e in ff.entities if _fmt(e) in FORMATS]
    for ex in registry.extractors():
        if ex.name not in FORMATS:
            continue
        try:
            res = ex.resolve(every)
        except Exception:  # noqa: BLE001 - as in the Snapshot: a failing resolve step loses only its additions
            continue
        if res is None:
            continue
        if res.replaces:
            entities = [e for e in entities if e.id not in res.replaces]
        entities.extend(e for e in res.entities if _fmt(e) in FORMATS)
    return [e for e in entities if e.repo in repos]


def proto_context(files: Iterable[FileFacts], exclude_repo: str) -> list[FileFacts]:
    """Other repos' proto declarations (no references), enough to resolve type names that cross repos."""
    out = []
    for ff in files:
        if ff.repo == exclude_repo or not ff.path.endswith(".proto"):
            continue
        decls = tuple(e for e in ff.entities if e.kind in _DECL_KINDS)
        if decls:
            out.append(FileFacts(ff.repo, ff.path, ff.sha256, entities=decls))
    return out


def diff(base: Sequence[Entity], head: Sequence[Entity]) -> tuple[list[Change], dict[str, tuple[View, View]]]:
    changes: list[Change] = []
    views: dict[str, tuple[View, View]] = {}
    for fmt, rules in FORMATS.items():
        b = View(e for e in base if _fmt(e) == fmt)
        h = View(e for e in head if _fmt(e) == fmt)
        views[fmt] = (b, h)
        if b.by_id:
            changes += rules(b, h)
    return changes, views


class Consumers:
    """Consumer links by entity id, for 'the entity or any of its children' look-ups."""

    def __init__(self, links: Iterable[Link]):
        seen: set[tuple[Any, ...]] = set()
        rows: list[tuple[str, Link]] = []
        for lk in links:
            key = (lk.entity, lk.repo, lk.path, lk.range)
            if lk.role == "consumes" and key not in seen:
                seen.add(key)
                rows.append((lk.entity, lk))
        rows.sort(key=lambda r: (r[0], r[1].repo, r[1].path, r[1].range))
        self.keys = [r[0] for r in rows]
        self.links = [r[1] for r in rows]

    def of(self, ident: str) -> list[Consumer]:
        out: list[Consumer] = []
        i = bisect.bisect_left(self.keys, ident)
        while i < len(self.keys) and self.keys[i].startswith(ident):
            rest = self.keys[i][len(ident):]
            if rest == "" or rest[0] in ".:":
                lk = self.links[i]
                out.append(Consumer(lk.service, lk.repo, lk.path, lk.range.start_line, lk.entity, lk.confidence))
            i += 1
        return out


def consumer_links(usages: Sequence[Any], entities: Sequence[Entity], service_of: Callable[[str, str], str]) -> list[Link]:
    if not usages:
        return []
    from indexers.linking import link

    return link(usages, entities, service_of)


def _loc(e: Entity | None) -> Location | None:
    return Location(e.repo, e.path, e.range) if e is not None else None


def _broken(base_files: Mapping[str, FileFacts], head_files: Mapping[str, FileFacts]) -> set[str]:
    """Working-tree files with more errors than at the base: half-typed or broken, so deletions that
    they seem to show are not trusted."""
    out = set()
    for path, ff in head_files.items():
        before = len(base_files[path].errors) if path in base_files else 0
        if len(ff.errors) > before:
            out.add(path)
    return out


_DELETIONS = ("NO_DELETE", "REMOVED", "DROPPED", "removed-without-deprecation")


def assemble(repo: str, changes: Sequence[Change], views: Mapping[str, tuple[View, View]], *, consumers: Consumers,
             base_text: Callable[[str], str | None], head_text: Callable[[str], str | None],
             ignore: Sequence[IgnoreRule] = (), broken: Iterable[str] = (), notes: list[str] | None = None) -> list[Finding]:
    out: list[Finding] = []
    skipped: set[str] = set()
    broken_set = set(broken)
    for ch in changes:
        old_path = ch.old.path if ch.old is not None else None
        if ch.new is None and old_path in broken_set and any(s in ch.rule for s in _DELETIONS):
            skipped.add(old_path or "")
            continue
        fmt = ch.entity.split(":", 1)[0]
        bview, hview = views.get(fmt, (View(()), View(())))
        at = _at(ch, head_text)
        found = consumers.of(ch.entity)
        editions = False
        if fmt == "proto" and ch.old is not None:
            pkg = next((e for e in hview.by_id.values() if e.path == ch.old.path and e.kind in ("proto.package", "proto.file")), None)
            editions = pkg is not None and pkg.attrs.get("syntax") == "editions"
        fixes = fixes_for(ch, bview, hview, base_text(ch.old.path) if ch.old else None,
                          head_text(ch.old.path) if ch.old else None, editions)
        reason, by = _suppressed(ch, at, base_text, head_text, ignore)
        out.append(Finding(ch.rule, ch.message, ch.entity, _loc(ch.old), _loc(ch.new), at, ERROR if found else WARNING,
                           tuple(found), fixes, reason or "", by))
    if notes is not None:
        for p in sorted(skipped):
            notes.append(f"{repo}/{p}: has new parse errors; deletions in it are not reported until it parses")
    out.sort(key=lambda f: (f.at.path, f.at.range.start_line, f.rule, f.entity))
    return out


def _at(ch: Change, head_text: Callable[[str], str | None]) -> Location:
    if ch.new is not None:
        return Location(ch.new.repo, ch.new.path, ch.new.range)
    assert ch.old is not None
    if ch.anchor is not None and ch.anchor.path == ch.old.path:
        return Location(ch.anchor.repo, ch.anchor.path, ch.anchor.range)
    text = head_text(ch.old.path)
    if text is not None:  # the file is still there: the line where the element was, within the file
        line = min(ch.old.range.start_line, max(text.count("\n") - (1 if text.endswith("\n") else 0), 0))
        return Location(ch.old.repo, ch.old.path, Span(line, 0, line, 0))
    return Location(ch.old.repo, ch.old.path, ch.old.range)


def _suppressed(ch: Change, at: Location, base_text: Callable[[str], str | None], head_text: Callable[[str], str | None],
                ignore: Sequence[IgnoreRule]) -> tuple[str | None, str]:
    lines = (head_text(at.path) or "").split("\n")
    reason = inline(lines, at.range.start_line, ch.rule)
    if reason is None and ch.new is None and ch.old is not None:
        reason = inline((base_text(ch.old.path) or "").split("\n"), ch.old.range.start_line, ch.rule)
        if reason is None and ch.old.extent is not None and ch.old.extent.start_line != ch.old.range.start_line:
            reason = inline((base_text(ch.old.path) or "").split("\n"), ch.old.extent.start_line, ch.rule)
    if reason is not None:
        return reason, "inline"
    reason = config_reason(list(ignore), ch.rule, ch.entity)
    return (reason, "config") if reason is not None else (None, "")


# -- the editor's entry point ------------------------------------------------------------------------
def findings_for_text(snapshot: Any, repo: str, path: str, new_text: str, base_text: str, *,
                      ignore: Sequence[IgnoreRule] = ()) -> list[Finding]:
    """Breaking changes of one file whose working-tree text is `new_text` against `base_text` (its text at
    the base ref; '' for a new file). The other files of the workspace come from `snapshot`. Pure: no
    git, no disk. Each Finding carries its fixes as plain text edits on `path`."""
    base_ff = extract(repo, path, base_text.encode("utf-8"))
    head_ff = extract(repo, path, new_text.encode("utf-8"))
    others = [ff for (r, p), ff in snapshot.files.items() if r == repo and p != path and is_contract_path(p)]
    context = proto_context(snapshot.files.values(), repo)
    base_ents = resolve([*others, base_ff], context)
    head_ents = resolve([*others, head_ff], context)
    changes, views = diff(base_ents, head_ents)
    changes = [c for c in changes if (c.old is not None and c.old.path == path) or (c.new is not None and c.new.path == path)]
    if not changes:
        return []
    consumers = Consumers(_links_for_base(snapshot, repo, base_ents))
    texts_b = {path: base_text}
    texts_h = {path: new_text}
    return assemble(repo, changes, views, consumers=consumers, base_text=texts_b.get, head_text=texts_h.get, ignore=ignore,
                    broken=_broken({path: base_ff}, {path: head_ff}))


def _links_for_base(snapshot: Any, repo: str, base_ents: Sequence[Entity]) -> list[Link]:
    """Links of the workspace's code to the base contracts of `repo` (plus the Snapshot's own links).

    Memoized on the snapshot (a per-snapshot cache, never shared across snapshots): while a contract is
    edited the base entities stay the same, so each keystroke reuses the links instead of re-linking the
    workspace."""
    memo = snapshot.__dict__.setdefault("_base_links_memo", {}) if hasattr(snapshot, "__dict__") else {}
    key = (repo, tuple(sorted((e.id, e.path, e.range) for e in base_ents)))
    hit = memo.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    links = _link_base(snapshot, repo, base_ents)
    if len(memo) > 16:
        memo.clear()
    memo[key] = links
    return links


def _link_base(snapshot: Any, repo: str, base_ents: Sequence[Entity]) -> list[Link]:
    world = [e for decls in snapshot.entities.values() for e in decls if not (e.repo == repo and _fmt(e) in FORMATS)]
    world += base_ents
    usages = [u for us in snapshot.usages_by_file.values() for u in us]
    services = snapshot.services

    def service_of(r: str, p: str) -> str:
        if services is None:
            return ""
        s = services.service_for(r, p)
        return s.name if s is not None else ""

    return consumer_links(usages, world, service_of) + list(snapshot.links)


# -- the CLI's entry point ---------------------------------------------------------------------------
def check_repo(snapshot: Any, repo: str, root: Path, *, base: str | None = None, head: str | None = None,
               ignore: Sequence[IgnoreRule] = (), exclude: tuple[str, ...] = (), max_file_size: int = 2_000_000) -> CheckResult:
    """Compare `repo`'s contracts in the working tree (or at `head`) with the base (see `baseline`)."""
    result = CheckResult()
    base_sha = baseline.resolve_base(root, base, head or "HEAD")
    result.base = f"{repo}@{base_sha}"
    indexed = {p: ff for (r, p), ff in snapshot.files.items() if r == repo and is_contract_path(p)}
    head_blobs: dict[str, bytes] = {}
    if head is None:
        head_files = indexed
    else:
        head_sha = baseline.resolve_base(root, head, head)
        paths = [p for p in baseline.list_paths(root, head_sha) if is_contract_path(p) and skip_reason_by_name(p, exclude) is None]
        head_blobs = baseline.read_blobs(root, head_sha, paths)
        head_files = {p: indexed[p] if p in indexed and indexed[p].sha256 == sha256(d) else extract(repo, p, d)
                      for p, d in head_blobs.items() if len(d) <= max_file_size and not looks_binary(d)}
    base_paths = [p for p in baseline.list_paths(root, base_sha)
                  if is_contract_path(p) and skip_reason_by_name(p, exclude) is None and (p in head_files or not _present(root, p, head_blobs if head else None))]
    base_blobs = baseline.read_blobs(root, base_sha, base_paths)
    base_files: dict[str, FileFacts] = {}
    for p, data in base_blobs.items():
        if len(data) > max_file_size or looks_binary(data):
            continue
        same = head_files.get(p)
        base_files[p] = same if same is not None and same.sha256 == sha256(data) else extract(repo, p, data)
    if all(base_files.get(p) is ff for p, ff in head_files.items()) and set(base_files) == set(head_files):
        return result  # nothing changed in any contract file
    context = proto_context(snapshot.files.values(), repo)
    base_ents = resolve(base_files.values(), context)
    head_ents = resolve(head_files.values(), context)
    changes, views = diff(base_ents, head_ents)
    if not changes:
        return result

    def base_text(p: str) -> str | None:
        data = base_blobs.get(p)
        return SourceFile(repo, p, data).text if data is not None else None

    def head_text(p: str) -> str | None:
        if head is not None:
            data = head_blobs.get(p)
        else:
            try:
                data = (root / p).read_bytes() if _present(root, p, None) else None
            except OSError:
                data = None
        return SourceFile(repo, p, data).text if data is not None else None

    consumers = Consumers(_links_for_base(snapshot, repo, base_ents))
    result.findings = assemble(repo, changes, views, consumers=consumers, base_text=_cached(base_text),
                               head_text=_cached(head_text), ignore=ignore, broken=_broken(base_files, head_files),
                               notes=result.notes)
    return result


def _present(root: Path, path: str, blobs: Mapping[str, bytes] | None) -> bool:
    """Whether the file exists on the head side (a regular file in the work tree, or a blob at --head)."""
    if blobs is not None:
        return path in blobs
    p = root / path
    return p.is_file() and not p.is_symlink()


def _cached(fn: Callable[[str], str | None]) -> Callable[[str], str | None]:
    memo: dict[str, str | None] = {}

    def get(p: str) -> str | None:
        if p not in memo:
            memo[p] = fn(p)
        return memo[p]

    return get
