"""Compare a repository's contracts at a base ref with the working tree (or a head ref) and explain what
breaks, for whom.

Both sides are extracted with the contract extractors and resolved the way the Snapshot resolves them
(proto type names across files and repos, OpenAPI `$ref`s, SQL migrations folded into the current
schema), then compared per format by the rules modules. Consumers come from linking the workspace's code
usages against the *base* contracts, since a deleted element has no links left in the working tree.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from indexers.copies import NEVER_COPIES, CopyGroup, catalog_definitions
from indexers.copies import group as group_copies
from indexers.discover import looks_binary, skip_reason_by_name
from indexers.extract import sha256
from indexers.model import Entity, FileError, FileFacts, Link, Location, Span
from indexers.positions import SourceFile
from indexers.sources import registry
from lore.check import baseline, graphql_rules, openapi_rules, proto_rules, sql_rules
from lore.check.findings import ERROR, NOTE, WARNING, Change, CheckResult, Consumer, Finding
from lore.check.fixes import fixes_for
from lore.check.suppress import IgnoreRule, config_reason, inline
from lore.check.view import View
from lore.query.context import unseen

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


def copy_colours(base: Sequence[Entity], head: Sequence[Entity]) -> dict[tuple[str, str], int]:
    """Files that declare an id another file declares too (copies of one contract), coloured so that no
    two files of one colour declare the same id: each colour is one copy, compared on its own. Files
    with no such id are left out (they belong to every colour)."""
    files_of: dict[str, set[tuple[str, str]]] = {}
    ids_of: dict[tuple[str, str], set[str]] = {}
    for e in (*base, *head):
        if e.kind in NEVER_COPIES:
            continue
        files_of.setdefault(e.id, set()).add((e.repo, e.path))
        ids_of.setdefault((e.repo, e.path), set()).add(e.id)
    shared = {i for i, fs in files_of.items() if len(fs) > 1}
    colours: dict[tuple[str, str], int] = {}
    taken: list[set[str]] = []
    for f in sorted(f for f, ids in ids_of.items() if ids & shared):
        mine = ids_of[f] & shared
        c = next((k for k, used in enumerate(taken) if not used & mine), len(taken))
        if c == len(taken):
            taken.append(set())
        taken[c] |= mine
        colours[f] = c
    return colours


class Views:
    """The base and head Views each change was found in (one pair per format and copy colour)."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, int], tuple[View, View]] = {}
        self.colour_of: dict[int, int] = {}  # id(change) -> colour

    def of(self, ch: Change) -> tuple[View, View]:
        fmt = ch.entity.split(":", 1)[0]
        return self.pairs.get((fmt, self.colour_of.get(id(ch), 0)), (View(()), View(())))


def diff(base: Sequence[Entity], head: Sequence[Entity]) -> tuple[list[Change], Views]:
    """Breaking changes from `base` to `head`. Every copy of a contract is compared with its own base,
    so that deleting an element from one copy is found although another copy still declares it."""
    colours = copy_colours(base, head)
    changes: list[Change] = []
    views = Views()
    seen: set[tuple[str, str, str, str, str]] = set()
    for colour in range(max(colours.values(), default=0) + 1):
        def mine(e: Entity, c: int = colour) -> bool:
            return colours.get((e.repo, e.path), c) == c

        for fmt, rules in FORMATS.items():
            b = View(e for e in base if _fmt(e) == fmt and mine(e))
            h = View(e for e in head if _fmt(e) == fmt and mine(e))
            views.pairs[(fmt, colour)] = (b, h)
            if not b.by_id:
                continue
            for ch in rules(b, h):
                at = ch.old or ch.new
                where = (at.repo, at.path) if at is not None else ("", "")
                if colours.get(where, 0) != colour:
                    continue  # a file outside every copy: its changes are reported once, with colour 0
                key = (ch.rule, ch.entity, ch.message, *where)
                if key not in seen:
                    seen.add(key)
                    changes.append(ch)
                    views.colour_of[id(ch)] = colour
    return changes, views


class Consumers:
    """Consumer links by entity id, for 'the entity or any of its children' look-ups. With `copies`
    (the base's copy groups), a change to one copy of a contract breaks the consumers of that copy and
    of the copies that agree with it, and those bound to no copy."""

    def __init__(self, links: Iterable[Link], copies: Mapping[str, CopyGroup] | None = None):
        self.copies = dict(copies or {})
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

    def of(self, ident: str, at: Entity | None = None) -> list[Consumer]:
        out: list[Consumer] = []
        keys = self._copy_keys(ident, at)
        i = bisect.bisect_left(self.keys, ident)
        while i < len(self.keys) and self.keys[i].startswith(ident):
            rest = self.keys[i][len(ident):]
            if rest == "" or rest[0] in ".:":
                lk = self.links[i]
                if keys is None or not lk.copy or lk.copy in keys:
                    out.append(Consumer(lk.service, lk.repo, lk.path, lk.range.start_line, lk.entity, lk.confidence))
            i += 1
        return out

    def _copy_keys(self, ident: str, at: Entity | None) -> set[str] | None:
        """The copies whose consumers a change at `at` reaches; None: every consumer."""
        grp = self.copies.get(ident)
        if grp is None or at is None or not grp.drift:
            return None
        here = (at.repo, at.path)
        agreeing = {(d.repo, d.path) for d in grp.agreeing}
        if here in agreeing:
            return {f"{r}/{p}" for r, p in agreeing}
        return {f"{at.repo}/{at.path}"}


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


def assemble(repo: str, changes: Sequence[Change], views: Views, *, consumers: Consumers,
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
        bview, hview = views.of(ch)
        at = _at(ch, head_text)
        found = consumers.of(ch.entity, ch.old)
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
    consumers = Consumers(*_links_for_base(snapshot, repo, base_ents))
    texts_b = {path: base_text}
    texts_h = {path: new_text}
    return assemble(repo, changes, views, consumers=consumers, base_text=texts_b.get, head_text=texts_h.get, ignore=ignore,
                    broken=_broken({path: base_ff}, {path: head_ff}))


def _links_for_base(snapshot: Any, repo: str, base_ents: Sequence[Entity]) -> tuple[list[Link], dict[str, CopyGroup]]:
    """Links of the workspace's code to the base contracts of `repo` (plus the Snapshot's own links), and
    the copy groups of the contracts at the base.

    Memoized on the snapshot (a per-snapshot cache, never shared across snapshots): while a contract is
    edited the base entities stay the same, so each keystroke reuses the links instead of re-linking the
    workspace."""
    memo = snapshot.__dict__.setdefault("_base_links_memo", {}) if hasattr(snapshot, "__dict__") else {}
    key = (repo, tuple(sorted((e.id, e.path, e.range) for e in base_ents)))
    hit = memo.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    found = _link_base(snapshot, repo, base_ents)
    if len(memo) > 16:
        memo.clear()
    memo[key] = found
    return found


def _link_base(snapshot: Any, repo: str, base_ents: Sequence[Entity]) -> tuple[list[Link], dict[str, CopyGroup]]:
    world = [e for decls in snapshot.entities.values() for e in decls if not (e.repo == repo and _fmt(e) in FORMATS)]
    world += base_ents
    groups = group_copies(world, catalog_definitions(snapshot.services))
    order = {id(d): i for g in groups.values() for i, d in enumerate(g.declarations)}
    world.sort(key=lambda e: order.get(id(e), 0))  # canonical declarations first, as in the Snapshot
    usages = [u for us in snapshot.usages_by_file.values() for u in us]
    services = snapshot.services

    def service_of(r: str, p: str) -> str:
        if services is None:
            return ""
        s = services.service_for(r, p)
        return s.name if s is not None else ""

    return consumer_links(usages, world, service_of) + list(snapshot.links), groups


# -- the CLI's entry point ---------------------------------------------------------------------------
def check_repo(snapshot: Any, repo: str, root: Path, *, base: str | None = None, head: str | None = None,
               ignore: Sequence[IgnoreRule] = (), exclude: tuple[str, ...] = (), max_file_size: int = 2_000_000) -> CheckResult:
    """Compare `repo`'s contracts, and what production reads from its code (metrics, labels, spans, flags:
    `ops_rules`), in the working tree (or at `head`) with the base (see `baseline`)."""
    from lore.check.ops_rules import check_ops

    result = check_contracts(snapshot, repo, root, base=base, head=head, ignore=ignore, exclude=exclude,
                             max_file_size=max_file_size)
    found, notes = check_ops(snapshot, repo, root, result.base.split("@", 1)[1], head, ignore=ignore, exclude=exclude,
                             max_file_size=max_file_size)
    result.findings += found
    result.notes += notes
    return result


def check_contracts(snapshot: Any, repo: str, root: Path, *, base: str | None = None, head: str | None = None,
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
    result.findings = new_drift(snapshot, repo, base_ents, head_ents, changes)
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

    consumers = Consumers(*_links_for_base(snapshot, repo, base_ents))
    not_read = unseen(snapshot)
    if not_read:
        result.notes.append("consumer lists are a lower bound; not read: " + "; ".join(not_read))
    result.findings = assemble(repo, changes, views, consumers=consumers, base_text=_cached(base_text),
                               head_text=_cached(head_text), ignore=ignore, broken=_broken(base_files, head_files),
                               notes=result.notes) + result.findings
    return result


def _unlined(text: str) -> str:
    """A difference without its line numbers, so that the same drift matches at the base and now."""
    return re.sub(r":\d+\b", "", text)


def new_drift(snapshot: Any, repo: str, base_ents: Sequence[Entity], head_ents: Sequence[Entity],
              changes: Sequence[Change]) -> list[Finding]:
    """COPY_DRIFT notes: copies of a contract that agreed at the base and differ now, because this repo
    changed its copy or the canonical declaration. Drift that a breaking change already explains (the
    same element changed in the same file), and drift that was there at the base, are not repeated."""
    others = [e for decls in snapshot.entities.values() for e in decls if not (e.repo == repo and _fmt(e) in FORMATS)]
    defs = catalog_definitions(snapshot.services)
    before = group_copies([*others, *base_ents], defs)
    after = group_copies([*others, *head_ents], defs)
    old = {(g.id, d.copy.repo, d.copy.path): {_unlined(x) for x in d.differences} for g in before.values() for d in g.drift}
    explained = {(ch.entity, (ch.old or ch.new).path) for ch in changes if (ch.old or ch.new) is not None}  # type: ignore[union-attr]
    out: list[Finding] = []
    for g in sorted(after.values(), key=lambda g: g.id):
        if g.conflict:
            continue
        drifted = {d.copy.path for d in g.drift}
        for d in g.drift:
            mine = d.copy if d.copy.repo == repo else d.canonical if d.canonical.repo == repo else None
            fresh = [x for x in d.differences if _unlined(x) not in old.get((g.id, d.copy.repo, d.copy.path), set())]
            if mine is None or not fresh:
                continue
            parent = after.get(d.copy.parent or "")
            if parent is not None and any(x.copy.path in drifted and (x.copy.repo, x.copy.path) == (d.copy.repo, d.copy.path)
                                          for x in parent.drift):
                continue  # reported once, at the enclosing message or service
            if any(ent == g.id or g.id.startswith(ent + ".") for ent, path in explained if path == mine.path):
                continue
            c = d.canonical
            out.append(Finding(
                "COPY_DRIFT", f"the copy of {g.id} in {d.copy.repo}/{d.copy.path}:{d.copy.range.start_line + 1} no longer "
                              f"matches the canonical declaration in {c.repo}/{c.path}:{c.range.start_line + 1}: "
                              f"{fresh[0]}" + (f" (+{len(fresh) - 1} more)" if len(fresh) > 1 else ""),
                g.id, None, Location(mine.repo, mine.path, mine.range), Location(mine.repo, mine.path, mine.range), NOTE))
    return out


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
