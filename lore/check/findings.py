"""The result of a breaking-change check as plain data: no LSP or SARIF types.

A `Change` is what a rules module sees (rule, entity, the two declarations); `compare` turns it into a
`Finding` with the consumers that would break (from the cross-repo Snapshot), a severity, the place to
report it in the working tree, suppression, and the fixes an editor can offer as exact text edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indexers.model import Entity, Location, Span

ERROR = "error"
WARNING = "warning"
NOTE = "note"  # reported, never a reason for `lore check` to fail (copy drift)


@dataclass(frozen=True, slots=True)
class Change:
    """One breaking change found by a rules module. `old`/`new` are the declarations at the base and in
    the working tree (`new` None for a deletion); `anchor` is a working-tree entity to report a deletion
    at (the enclosing message, table, ...); `fixes` names the fix kinds that apply (reserve, deprecate,
    restore)."""

    rule: str
    message: str
    entity: str
    old: Entity | None
    new: Entity | None = None
    anchor: Entity | None = None
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Consumer:
    service: str
    repo: str
    path: str
    line: int  # 0-based
    entity: str  # the entity the consumer's code uses (the finding's entity or one of its children)
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `range` of `path` (in `repo`) with `new_text`; an empty range inserts."""

    repo: str
    path: str
    range: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    kind: str  # reserve | deprecate | restore
    title: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    message: str
    entity: str
    old: Location | None  # at the base ref
    new: Location | None  # in the working tree (None when the element is gone)
    at: Location  # where to report it: `new`, else the enclosing element in the working tree, else `old`
    severity: str = WARNING  # error when consumers are known
    consumers: tuple[Consumer, ...] = ()
    fixes: tuple[Fix, ...] = ()
    suppressed: str = ""  # the reason, when a lore:ignore comment or lore.toml entry covers it
    suppressed_by: str = ""  # inline | config

    @property
    def breaking(self) -> bool:
        """Whether it fails `lore check`: not accepted, and not a note (copy drift is reported, not a blocker)."""
        return not self.suppressed and self.severity != NOTE


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files skipped, parse errors, base used
    base: str = ""  # the base commit per repo, 'repo@sha'

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]
