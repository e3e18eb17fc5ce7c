"""The fact model: typed, immutable, plain data shared by every layer.

Every fact names where it came from (repo, repo-relative POSIX path, 0-based range, or a commit sha) so
that each note Lore shows can be verified by its reader. Facts never hold LSP types: the server converts.

Ranges are 0-based lines and 0-based columns counted in UTF-16 code units, the unit LSP uses, so that the
server never needs the file text to place a fact (see `indexers.positions`).

Stable string IDs make facts comparable across repos, shards and runs:
`proto:pkg.Service.Rpc`, `proto:pkg.Message.field`, `openapi:<api>:GET /path`,
`openapi:<api>:schema:Name.prop`, `graphql:Type.field`, `sql:table.column`.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from dataclasses import dataclass, field
from typing import Any

# Bump when the shape of any fact changes: the cache lives under v<SCHEMA_VERSION>/ and shards carry it.
SCHEMA_VERSION = 6


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A 0-based range; columns in UTF-16 code units; end exclusive."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def contains(self, line: int, col: int | None = None) -> bool:
        """Whether (line, col) lies in the span; with col None, whether the line overlaps it."""
        if line < self.start_line or line > self.end_line:
            return False
        if col is None:
            return True
        if line == self.start_line and col < self.start_col:
            return False
        if line == self.end_line and col > self.end_col:
            return False
        return True

    def overlaps_lines(self, first: int, last: int) -> bool:
        return not (self.end_line < first or self.start_line > last)

    @property
    def size(self) -> tuple[int, int]:
        """Sort key for 'innermost first'."""
        return (self.end_line - self.start_line, self.end_col - self.start_col)

    @staticmethod
    def line(line: int, start_col: int = 0, end_col: int = 0) -> Span:
        return Span(line, start_col, line, end_col)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a fact came from: a file location, a commit, or both, with a short human description."""

    repo: str
    path: str = ""
    line: int | None = None  # 0-based
    sha: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    """A contract entity declaration: proto message/field/service/rpc/enum, OpenAPI operation/schema,
    GraphQL type/field, SQL table/column.

    `kind` is `<format>.<thing>`, e.g. `proto.message`, `proto.field`, `proto.rpc`, `openapi.operation`,
    `openapi.property`, `graphql.field`, `sql.column`. `attrs` holds JSON-able attributes (type, number,
    label, deprecated, ...). `parent` is the parent entity's ID (field -> message)."""

    id: str
    kind: str
    name: str
    repo: str
    path: str
    range: Span
    attrs: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    # The whole declaration (e.g. the full `message Foo { ... }` block), for 'innermost at position' lookups.
    extent: Span | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """A place in code that touches something contract-shaped, before linking resolves it to an entity.

    kind examples: `grpc.server` (qualifier=service, name=''), `grpc.server_method` (qualifier=service,
    name=rpc), `grpc.client` (qualifier=service), `grpc.call` (qualifier=receiver/service, name=method),
    `proto.message_type`, `proto.field_access`, `http.route` (attrs: method, path), `http.call`
    (attrs: method, path), `graphql.resolver`, `graphql.operation`, `sql.statement`.
    role: 'provides' | 'consumes' | '' when decided by linking."""

    repo: str
    path: str
    range: Span
    kind: str
    name: str
    qualifier: str = ""
    role: str = ""
    language: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class ServiceDecl:
    """One piece of evidence that a service exists (catalog entry, compose service, module root, ...).

    Linking merges declarations into `Service`s. `source` is the evidence kind, in order of trust:
    catalog, codeowners, compose, kubernetes, helm, dockerfile, module."""

    name: str
    repo: str
    root: str  # repo-relative folder ('' = repo root)
    source: str
    path: str  # the file that declares it
    range: Span
    attrs: dict[str, Any] = field(default_factory=dict)  # owner, system, lifecycle, providesApis, ...


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    repo: str
    root: str
    owner: str = ""
    languages: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    """A resolved provides/consumes relation between code and a contract entity."""

    service: str  # '' when the file belongs to no known service
    entity: str
    role: str  # 'provides' | 'consumes'
    repo: str
    path: str
    range: Span
    confidence: float
    evidence: str = ""
    kind: str = ""  # the usage kind it came from
    # 'repo/path' of the declaration the usage resolved through, when the entity is declared in several
    # files (copies of one contract) and the usage's import or repo names one of them; '' otherwise
    copy: str = ""


@dataclass(frozen=True, slots=True)
class Marker:
    """A TODO/FIXME/HACK/XXX/WORKAROUND/NOTE/'do not remove' comment."""

    kind: str
    text: str
    repo: str
    path: str
    range: Span
    ref: str = ""  # linked reference (#123, ABC-12, URL)


@dataclass(frozen=True, slots=True)
class Decision:
    """An architecture decision record."""

    id: str  # e.g. 'adr:<repo>:docs/adr/0003-use-grpc.md'
    title: str
    status: str
    date: str
    repo: str
    path: str
    mentions: tuple[str, ...] = ()  # file paths, service names, entity IDs it names


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    date: str  # ISO 8601 author date
    author: str
    subject: str
    kinds: tuple[str, ...] = ()  # workaround, hotfix, revert, regression_fix, incident, temporary, security
    refs: tuple[str, ...] = ()
    reverts: str = ""  # full sha of the reverted commit, when resolved
    body: str = ""
    files: tuple[str, ...] = ()
    # (kind, the words or trailer that decided it), one per kind in `kinds`, for a reader to check the call
    evidence: tuple[tuple[str, str], ...] = ()
    # kinds that only one bullet of a squashed body speaks of, with that bullet: not kinds of the commit
    mentions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryGaps:
    """What a repository's history could not give, read without ever fetching: a shallow clone's cut, a
    partial clone's missing objects, a damaged clone's unreadable commits. Readers are told what is
    missing; absence of notes is never presented as a fact when the data is missing."""

    shallow: bool = False
    boundary: str = ""  # a shallow clone's oldest (cut-off) commit mined, when shallow
    boundary_date: str = ""
    partial: bool = False  # a partial clone: file contents (and maybe trees) were left on the server
    unreadable: int = 0  # commits the history names whose objects are missing (their line of history ends)
    unreadable_sample: tuple[str, ...] = ()
    no_files: int = 0  # commits read without their file list (their trees are missing)
    reason: str = ""  # git's own words for the first failure

    def __bool__(self) -> bool:
        return self.shallow or self.partial or bool(self.unreadable or self.no_files or self.reason)


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a team note was written, and enough of the code to find the place again after edits: the
    enclosing symbol (tree-sitter name path, e.g. `CartStore.flush`), a fingerprint of the anchored lines
    (whitespace-normalised) and the lines themselves (the first `indexers.notes.anchor.MAX_CODE`) with a
    little context. Lines are 0-based, inclusive."""

    path: str
    start_line: int
    end_line: int
    symbol: str = ""
    symbol_kind: str = ""
    symbol_start: int | None = None  # 0-based first line of the symbol when anchored
    whole_symbol: bool = False  # the anchored lines are the symbol's whole declaration
    fingerprint: str = ""
    code: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    commit: str = ""  # HEAD when anchored: where renames are followed from


@dataclass(frozen=True, slots=True)
class TeamNote:
    """A note a person or an agent wrote about some lines (`.lore/notes/<id>.toml`): what they learned
    and why the code must stay so. `path` is the note file; `anchor.path` the code it is about. `text`
    is plain repository text (renderers escape it)."""

    id: str
    repo: str
    path: str
    kind: str  # warning | decision | incident | tip
    text: str
    anchor: Anchor
    author: str = ""
    agent: str = ""  # the agent that wrote it ('' when a person did)
    created: str = ""  # ISO 8601
    refs: tuple[str, ...] = ()
    line: int = 0  # 0-based line of the note's text in its file (for diagnostics on the note file)


@dataclass(frozen=True, slots=True)
class FileError:
    """A per-file problem: never fatal, always named."""

    repo: str
    path: str
    reason: str
    line: int | None = None  # 0-based


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything extracted from one file. Cached per (repo, path, content hash, extractor version)."""

    repo: str
    path: str
    sha256: str
    language: str = ""
    generated: bool = False
    entities: tuple[Entity, ...] = ()
    usages: tuple[Usage, ...] = ()
    services: tuple[ServiceDecl, ...] = ()
    markers: tuple[Marker, ...] = ()
    decisions: tuple[Decision, ...] = ()
    errors: tuple[FileError, ...] = ()
    notes: tuple[TeamNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Partial:
    """What one extractor returns for one file; the indexer merges partials into FileFacts."""

    entities: list[Entity] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)
    services: list[ServiceDecl] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    notes: list[TeamNote] = field(default_factory=list)
    language: str = ""
    generated: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    repo: str
    path: str
    range: Span


@dataclass(frozen=True, slots=True)
class Note:
    """One line of context shown to a reader. `text` is plain text exactly as the repository says it
    (renderers escape it, never producers); `source` is the citation a reader can verify:
    'repo/path:line', a commit sha, a spec location."""

    text: str
    source: str
    kind: str = ""  # service, entity, provider, consumer, workaround, revert, hotfix, last_change, marker, ...
    location: Location | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of notes in `lore context`, the hover, and agent output. `name` is stable
    (service, contract, links, history, markers, decisions, coupling); `empty` says what is absent."""

    name: str
    title: str
    notes: tuple[Note, ...] = ()
    empty: str = ""


def _reducer(cls: type) -> Any:
    """Pickle as (class, field values): unpickling then runs the generated __init__ instead of the
    generic slots-dataclass __setstate__, which looks up the field list again for every object. The
    cache holds hundreds of thousands of these, and workers send them back by pickle: the field values
    are read by one `attrgetter` (a tuple built in C; every class here has several fields)."""
    names = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    values = operator.attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))

    def reduce(self: Any) -> tuple[Any, tuple[Any, ...]]:
        if self.__class__ is cls:
            return (cls, values(self))
        return (self.__class__, tuple(getattr(self, name) for name in self.__dataclass_fields__))  # a subclass

    return reduce


for _cls in (Span, Evidence, Entity, Usage, ServiceDecl, Service, Link, Marker, Decision, Commit, HistoryGaps, Anchor,
             TeamNote,
             FileError, FileFacts, Location, Note, Section):
    _cls.__reduce__ = _reducer(_cls)  # type: ignore[assignment,method-assign]


# ---------------------------------------------------------------------------------------------------
# Plain-data conversion (JSON for --json, shards and the agent interface). Driven by the type hints, so
# a new field needs no code here.

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def to_plain(obj: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, recursively; Span -> [l0, c0, l1, c1] is NOT used: spans are
    dicts with named fields so JSON consumers can read them."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    return obj


def from_plain(cls: Any, data: Any) -> Any:
    """Inverse of `to_plain` for the fact types above."""
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        args = [a for a in typing.get_args(cls) if a is not type(None)]
        return from_plain(args[0], data)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(cls)
        return tuple(from_plain(inner, x) for x in data)
    if origin is list:
        (inner,) = typing.get_args(cls)
        return [from_plain(inner, x) for x in data]
    if origin is dict:
        return dict(data)
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        hints = _hints(cls)
        kwargs = {f.name: from_plain(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
        return cls(**kwargs)
    return data
