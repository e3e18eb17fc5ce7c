"""The Snapshot: an immutable view of everything Lore knows about a workspace, built by linking.

Every query (CLI, LSP, agents) reads one Snapshot; the server swaps in a new one atomically when
indexing finishes, so a request never waits for indexing and never sees half an update. Snapshots are
never mutated after `build()` returns; `with_file()` returns a new Snapshot with one file's facts
replaced (used for unsaved editor buffers) and shares everything else.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexers.copies import CopyGroup, catalog_definitions
from indexers.copies import group as group_copies
from indexers.model import Commit, Decision, Entity, FileError, FileFacts, Link, Marker, Service, Usage
from indexers.services import derive_services
from indexers.sources.gcpause import paused_gc
from indexers.workspace import locate_in

if TYPE_CHECKING:
    from indexers.model import TeamNote

FileKey = tuple[str, str]  # (repo, path)


@dataclass(frozen=True)
class RepoInfo:
    name: str
    root: Path | None  # None for repos known only through an imported shard
    head: str | None = None
    shard: str = ""  # the shard file it came from
    unindexed: tuple[tuple[str, int], ...] = ()  # (language, files) of code Lore reads no usages from


@dataclass(frozen=True)
class Conflict:
    """The same entity ID declared in several places with different wire shapes, and nothing that
    decides which one is the contract (see `indexers.copies`)."""

    id: str
    declarations: tuple[Entity, ...]
    differences: tuple[str, ...]
    what_to_do: str = ("exclude the copy that is not the contract ([index] exclude in lore.toml), or name the "
                       "definition in a catalog API entity (catalog-info.yaml, kind: API, spec.definition)")


@dataclass
class Snapshot:
    repos: dict[str, RepoInfo]
    files: dict[FileKey, FileFacts]
    entities: dict[str, list[Entity]]  # id -> declarations (first = canonical, see indexers.copies)
    links: list[Link]
    services: Any  # indexers.services.ServiceMap (or None when no service facts)
    commits: dict[str, dict[str, Commit]] = field(default_factory=dict)  # repo -> sha -> Commit
    decisions: list[Decision] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    copies: dict[str, CopyGroup] = field(default_factory=dict)  # ids declared in several files
    # lower-confidence candidates where evidence could not choose (several services of one name, an HTTP route
    # nothing ties to the API, a generic path): never links
    possible: list[Link] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # repos of the workspace that could not be indexed, each with its reason
    errors: list[FileError] = field(default_factory=list)
    history: Any = None  # lazily blames lines; see indexers.history
    generation: int = 0
    # derived indexes
    entities_by_file: dict[FileKey, list[Entity]] = field(default_factory=dict)
    links_by_entity: dict[str, list[Link]] = field(default_factory=dict)
    links_by_file: dict[FileKey, list[Link]] = field(default_factory=dict)
    usages_by_file: dict[FileKey, list[Usage]] = field(default_factory=dict)
    markers_by_file: dict[FileKey, list[Marker]] = field(default_factory=dict)

    # -- lookups ---------------------------------------------------------------------------------------
    def entity(self, ident: str) -> Entity | None:
        decls = self.entities.get(ident)
        return decls[0] if decls else None

    def declarations(self, ident: str) -> list[Entity]:
        return self.entities.get(ident, [])

    def children(self, ident: str) -> list[str]:
        """IDs of the entities whose parent is `ident` (a message's fields, a service's rpcs)."""
        table = self.__dict__.get("_children")
        if table is None:  # built on first use; the Snapshot itself never changes
            table = {}
            for child, decls in self.entities.items():
                if decls and decls[0].parent:
                    table.setdefault(decls[0].parent, []).append(child)
            self.__dict__["_children"] = table
        return table.get(ident, [])  # type: ignore[no-any-return]

    def team_notes(self, repo: str) -> list[TeamNote]:
        """The team notes (`.lore/notes/`) of a repo, by id; built on first use."""
        table = self.__dict__.get("_team_notes")
        if table is None:  # built on first use; the Snapshot itself never changes
            table = {}
            for ff in self.files.values():
                for note in ff.notes:
                    table.setdefault(note.repo, []).append(note)
            for notes in table.values():
                notes.sort(key=lambda n: n.id)
            self.__dict__["_team_notes"] = table
        return table.get(repo, [])  # type: ignore[no-any-return]

    def service_for(self, repo: str, path: str) -> Service | None:
        if self.services is None:
            return None
        return self.services.service_for(repo, path)  # type: ignore[no-any-return]

    def owner_for(self, repo: str, path: str) -> Any:
        if self.services is None:
            return None
        return self.services.owner_for(repo, path)

    def file_sha(self, repo: str, path: str) -> str | None:
        """The content hash of a file as indexed, or None when it was not."""
        saved = getattr(self.files, "sha_of", None)  # a Snapshot loaded from records knows it unread
        if saved is not None:
            return saved((repo, path))  # type: ignore[no-any-return]
        ff = self.files.get((repo, path))
        return ff.sha256 if ff is not None else None

    def file_errors(self, repo: str, path: str) -> tuple[FileError, ...]:
        """The errors of one file's own extraction (those of the link steps are in `errors` only)."""
        saved = getattr(self.files, "errors_of", None)  # a Snapshot loaded from records knows them apart
        if saved is not None:
            return saved((repo, path))  # type: ignore[no-any-return]
        ff = self.files.get((repo, path))
        return ff.errors if ff is not None else ()

    def entities_at(self, repo: str, path: str, line: int, col: int | None = None) -> list[Entity]:
        """Entities whose name is under the position, else whose declaration encloses it (innermost
        first)."""
        ents = self.entities_by_file.get((repo, path), [])
        on_name = [e for e in ents if e.range.contains(line, col)]
        if on_name:
            return sorted(on_name, key=lambda e: e.range.size)
        enclosing = [e for e in ents if e.extent is not None and e.extent.contains(line, col)]
        return sorted(enclosing, key=lambda e: e.extent.size if e.extent else (0, 0))

    def links_at(self, repo: str, path: str, line: int, col: int | None = None) -> list[Link]:
        return [lk for lk in self.links_by_file.get((repo, path), []) if lk.range.contains(line, col)]

    def links_for(self, ident: str, role: str | None = None) -> list[Link]:
        links = self.links_by_entity.get(ident, [])
        return [lk for lk in links if role is None or lk.role == role]

    def markers_in(self, repo: str, path: str, first: int, last: int) -> list[Marker]:
        return [m for m in self.markers_by_file.get((repo, path), []) if m.range.overlaps_lines(first, last)]

    def repo_root(self, repo: str) -> Path | None:
        info = self.repos.get(repo)
        return info.root if info else None

    def locate(self, path: str | Path) -> FileKey | None:
        """(repo, repo-relative path) for an absolute path inside a workspace repo."""
        return locate_in(((name, info.root) for name, info in self.repos.items() if info.root is not None), path)

    def with_file(self, facts: FileFacts) -> Snapshot:
        """A new Snapshot where one file's facts are replaced (an unsaved buffer); the rest is shared.

        A code file (no contract entities before or after) is re-linked on its own: linking is per file
        against the workspace's entities, so only that file's links change. A contract file changes
        entities other files link to, so it takes a full build."""
        key = (facts.repo, facts.path)
        old = self.files.get(key)
        files = dict(self.files)
        files[key] = facts
        if facts.entities or (old is not None and old.entities) or (old is not None and old.services != facts.services):
            return build(self.repos, files.values(), services=None, commits=self.commits,
                         history=self.history, generation=self.generation)
        from indexers.linking import cross_file  # linking is imported by what builds, not by what reads

        helpers = self.__dict__.get("_cross_file")
        if helpers is None:  # usages of other files that resolve this one's (see linking.cross_file)
            helpers = [u for us in self.usages_by_file.values() for u in us if cross_file(u)]
        context = [u for u in helpers if (u.repo, u.path) != key]
        new_links, new_possible = relink_file(facts, context, lambda: [e for decls in self.entities.values() for e in decls],
                                              self.services)
        possible = [lk for lk in self.possible if (lk.repo, lk.path) != key] + new_possible
        old_links = self.links_by_file.get(key, [])
        links = [lk for lk in self.links if (lk.repo, lk.path) != key] + new_links if old_links or new_links else self.links
        by_entity = dict(self.links_by_entity)
        for ident in {lk.entity for lk in old_links} | {lk.entity for lk in new_links}:
            kept = [lk for lk in by_entity.get(ident, []) if (lk.repo, lk.path) != key]
            kept += [lk for lk in new_links if lk.entity == ident]
            if kept:
                by_entity[ident] = kept
            else:
                by_entity.pop(ident, None)
        by_file = dict(self.links_by_file)
        if new_links:
            by_file[key] = new_links
        else:
            by_file.pop(key, None)
        usages = dict(self.usages_by_file)
        markers = dict(self.markers_by_file)
        if facts.usages:
            usages[key] = list(facts.usages)
        else:
            usages.pop(key, None)
        if facts.markers:
            markers[key] = list(facts.markers)
        else:
            markers.pop(key, None)
        snap = dataclasses.replace(self, files=files, links=links, possible=possible, links_by_entity=by_entity,
                                   links_by_file=by_file,
                                   usages_by_file=usages, markers_by_file=markers,
                                   decisions=[d for ff in files.values() for d in ff.decisions] if (facts.decisions or (old and old.decisions)) else self.decisions,
                                   errors=[e for e in self.errors if (e.repo, e.path) != key] + list(facts.errors))
        snap.__dict__["_cross_file"] = context + [u for u in facts.usages if cross_file(u)]
        return snap


def relink_file(facts: FileFacts, context: Sequence[Usage], entities: Callable[[], Sequence[Entity]],
                services: Any) -> tuple[list[Link], list[Link]]:
    """(links, possible links) sited in one file whose usages changed, against the workspace's entities
    (`entities()`: canonical declarations first; asked only when the file has usages) and the usages of
    other files that resolve this one's (`context`, see linking.cross_file)."""
    if not facts.usages:
        return [], []
    key = (facts.repo, facts.path)
    links, possible = _link([*facts.usages, *context], entities(), _service_namer(services), services)
    return [lk for lk in links if (lk.repo, lk.path) == key], [lk for lk in possible if (lk.repo, lk.path) == key]


def _from_shard(repos: Mapping[str, RepoInfo], repo: str) -> bool:
    info = repos.get(repo)
    return info is None or info.root is None


def _service_namer(services: Any) -> Any:
    if services is None:
        return lambda repo, path: ""
    return lambda repo, path: (s.name if (s := services.service_for(repo, path)) else "")


def _resolve_contracts(files: Sequence[FileFacts]) -> tuple[list[Entity], list[FileError]]:
    """Per-file entities, with every extractor's workspace-level resolve step applied."""
    from indexers.sources import registry

    entities: list[Entity] = [e for ff in files for e in ff.entities]
    errors: list[FileError] = []
    for ex in registry.extractors():
        try:
            res = ex.resolve(files)
        except Exception as exc:  # noqa: BLE001 - a failing resolve step loses only its own additions
            errors.append(FileError("", "", f"{ex.name} resolve step failed: {exc.__class__.__name__}: {exc}"))
            continue
        if res is None:
            continue
        if res.replaces:
            entities = [e for e in entities if e.id not in res.replaces]
        entities.extend(res.entities)
        errors.extend(res.errors)
    return entities, errors


def build(repos: Mapping[str, RepoInfo], files: Iterable[FileFacts], *, services: Any = None,
          commits: Mapping[str, Mapping[str, Commit]] | None = None, history: Any = None, generation: int = 0,
          extra_links: Sequence[Link] | None = None) -> Snapshot:
    # The cyclic collector is paused: building allocates hundreds of thousands of acyclic objects
    # (resolved entities, links, indexes) beside the workspace's facts, and each burst made it rescan
    # every fact again: half of the build time on a repository of 7,000 contract files.
    with paused_gc():
        return _build(repos, files, services=services, commits=commits, history=history, generation=generation,
                      extra_links=extra_links)


def _build(repos: Mapping[str, RepoInfo], files: Iterable[FileFacts], *, services: Any,
           commits: Mapping[str, Mapping[str, Commit]] | None, history: Any, generation: int,
           extra_links: Sequence[Link] | None) -> Snapshot:
    files_list = [ff for ff in files]
    file_map = {(ff.repo, ff.path): ff for ff in files_list}
    entities, errors = _resolve_contracts(files_list)
    errors = [e for ff in files_list for e in ff.errors] + errors
    if services is None:
        services = _derive_services(files_list)
    by_id: dict[str, list[Entity]] = defaultdict(list)
    for e in entities:
        by_id[e.id].append(e)
    # A repo checked out here outranks every shard: its declaration is canonical whenever it has one.
    copies = group_copies(entities, catalog_definitions(services),
                          local={name for name, info in repos.items() if not _from_shard(repos, name)})
    for ident, grp in copies.items():  # the canonical declaration first; the rest of the id's in file order
        rest = sorted((e for e in by_id[ident] if e not in grp.declarations), key=lambda e: (e.repo, e.path, e.range))
        by_id[ident] = [*grp.declarations, *rest]
    conflicts = [Conflict(g.id, g.declarations, tuple(d for dr in g.drift for d in dr.differences))
                 for g in copies.values() if g.conflict]
    ordered = [e for decls in by_id.values() for e in decls]
    service_of = _service_namer(services)
    usages = [u for ff in files_list for u in ff.usages]
    links, possible = _link(usages, ordered, service_of, services)
    if extra_links:
        links.extend(extra_links)
    snap = Snapshot(
        repos=dict(repos), files=file_map, entities=dict(by_id), links=links, services=services,
        commits={k: dict(v) for k, v in (commits or {}).items()},
        decisions=[d for ff in files_list for d in ff.decisions], conflicts=conflicts, copies=copies, errors=errors,
        possible=possible,
        history=history, generation=generation,
    )
    for e in ordered:
        snap.entities_by_file.setdefault((e.repo, e.path), []).append(e)
    for lk in links:
        snap.links_by_entity.setdefault(lk.entity, []).append(lk)
        snap.links_by_file.setdefault((lk.repo, lk.path), []).append(lk)
    for ff in files_list:
        if ff.usages:
            snap.usages_by_file[(ff.repo, ff.path)] = list(ff.usages)
        if ff.markers:
            snap.markers_by_file[(ff.repo, ff.path)] = list(ff.markers)
    return snap


def _derive_services(files: Sequence[FileFacts]) -> Any:
    decls = [d for ff in files for d in ff.services]
    paths: dict[str, list[str]] = defaultdict(list)
    for ff in files:
        paths[ff.repo].append(ff.path)
    return derive_services(decls, paths)


def _link(usages: Sequence[Usage], entities: Sequence[Entity], service_of: Any,
          services: Any = None) -> tuple[list[Link], list[Link]]:
    """(links, possible links)."""
    if not usages:
        return [], []
    possible: list[Link] = []
    from indexers.linking import link

    return list(link(usages, entities, service_of, possible, services=services)), possible


# The same steps, by public name, for the organisation graph (lore.fleet.graph), which runs them per chunk of
# repositories on a cluster instead of over one workspace.
resolve_contracts = _resolve_contracts
derive_file_services = _derive_services
service_namer = _service_namer
