"""Accepted breaking changes: `lore:ignore RULE reason` comments and `[check] ignore` in lore.toml.

A comment covers a finding on its own line or the line below it, in the working-tree file; for a
deletion (nothing left to comment on), the comment may sit in the base version around the deleted
element (its first line or the line above) or on the enclosing element in the working tree. RULE is a
rule ID or `*`. In lore.toml:

    [check]
    ignore = [{rule = "FIELD_NO_DELETE", entity = "proto:shop.Cart.*", reason = "no clients yet"}]

`rule` and `entity` are globs (either may be left out, not both); `reason` is required.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

_IGNORE = re.compile(r"lore:ignore[ \t]+([A-Za-z0-9_*.-]+)[ \t]*(.*)")


class ConfigError(ValueError):
    """An invalid [check] table: a configuration error (exit 2)."""


@dataclass(frozen=True)
class IgnoreRule:
    rule: str
    entity: str
    reason: str

    def matches(self, rule: str, entity: str) -> bool:
        return fnmatch.fnmatchcase(rule, self.rule or "*") and fnmatch.fnmatchcase(entity, self.entity or "*")


def parse_config(check: dict[str, Any], where: str = "lore.toml") -> list[IgnoreRule]:
    raw = check.get("ignore", [])
    unknown = set(check) - {"ignore"}
    if unknown:
        raise ConfigError(f"{where}: [check] unknown key {sorted(unknown)[0]!r} (expected 'ignore')")
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: [check] ignore must be a list of tables")
    out: list[IgnoreRule] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: [check] ignore[{i}] must be a table like {{rule = ..., entity = ..., reason = ...}}")
        bad = set(item) - {"rule", "entity", "reason"}
        if bad:
            raise ConfigError(f"{where}: [check] ignore[{i}]: unknown key {sorted(bad)[0]!r}")
        rule, entity, reason = item.get("rule", ""), item.get("entity", ""), item.get("reason", "")
        if not all(isinstance(x, str) for x in (rule, entity, reason)):
            raise ConfigError(f"{where}: [check] ignore[{i}]: rule, entity and reason must be strings")
        if not rule and not entity:
            raise ConfigError(f"{where}: [check] ignore[{i}] needs 'rule' or 'entity'")
        if not reason.strip():
            raise ConfigError(f"{where}: [check] ignore[{i}] needs a 'reason'")
        out.append(IgnoreRule(rule, entity, reason.strip()))
    return out


def inline(lines: list[str] | None, line: int, rule: str) -> str | None:
    """The reason of a `lore:ignore` comment for `rule` on `line` or the line above, if any."""
    if lines is None:
        return None
    for ln in (line, line - 1):
        if 0 <= ln < len(lines) and "lore:ignore" in lines[ln]:
            for m in _IGNORE.finditer(lines[ln]):
                if m.group(1) in (rule, "*"):
                    reason = re.sub(r"\s*(\*/|-->)\s*$", "", m.group(2)).strip()
                    return reason or "lore:ignore"
    return None


def config_reason(rules: list[IgnoreRule], rule: str, entity: str) -> str | None:
    for r in rules:
        if r.matches(rule, entity):
            return r.reason
    return None

