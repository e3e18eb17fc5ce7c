"""Cross-file `$ref` resolution for OpenAPI, at link time over every file's facts.

Per file, a `$ref` into another local file is left pending as `<k>_file`/`<k>_pointer` attrs (the file
cannot see its target). `resolve` looks every pending pair up among the entities of the workspace by
(repo, file, pointer), follows chains of pure-`$ref` schemas across files with cycle detection, fills
`<k>_id`, and reports targets that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from indexers.model import Entity, FileError, FileFacts
from indexers.sources.base import Resolution

_SCHEMA_POINTER = re.compile(r"^/(components/schemas|definitions)/")


def _fill_ids(attrs: Any, lookup: Any) -> bool:
    """Resolve every pending `<k>_file`/`<k>_pointer` pair in `attrs` (nested too) with `lookup(file,
    pointer) -> (id | None, done)`; `done` drops the pending keys. True when anything changed."""
    changed = False
    if isinstance(attrs, list):
        for x in attrs:
            changed = _fill_ids(x, lookup) or changed
    elif isinstance(attrs, dict):
        for key in [k for k in attrs if k.endswith("_file")]:
            base = key[:-5]
            pointer = attrs.get(f"{base}_pointer")
            if not isinstance(pointer, str) or not isinstance(attrs[key], str):
                continue
            target, done = lookup(attrs[key], pointer)
            if target:
                attrs[f"{base}_id"] = target
                changed = True
            if done:
                del attrs[key], attrs[f"{base}_pointer"]
                changed = True
        for value in attrs.values():
            if isinstance(value, (dict, list)):
                changed = _fill_ids(value, lookup) or changed
    return changed


def resolve(facts: Sequence[FileFacts]) -> Resolution:
    """Cross-file `$ref`s: fill `<k>_id` for every pending `<k>_file`/`<k>_pointer`, following chains of
    pure `$ref` schemas (A -> B -> C) across files, with cycle detection. Every copy of a changed ID is
    re-emitted, since `replaces` drops entities by ID."""
    by_pointer: dict[tuple[str, str, str], Entity] = {}
    openapi_files: set[tuple[str, str]] = set()
    known_files: set[tuple[str, str]] = set()
    pending: list[Entity] = []
    for ff in facts:
        known_files.add((ff.repo, ff.path))
        for e in ff.entities:
            if not e.kind.startswith("openapi."):
                continue
            openapi_files.add((e.repo, e.path))
            ptr = e.attrs.get("pointer")
            if isinstance(ptr, str):
                by_pointer.setdefault((e.repo, e.path, ptr), e)
            if _has_pending(e.attrs):
                pending.append(e)
    out = Resolution()
    changed: dict[str, list[Entity]] = {}
    for ent in pending:
        attrs = _copy(ent.attrs)
        problems: list[str] = []

        def lookup(file: str, pointer: str, ent: Entity = ent, problems: list[str] = problems) -> tuple[str | None, bool]:
            seen: set[tuple[str, str]] = set()
            repo = ent.repo
            while True:
                if (file, pointer) in seen:
                    problems.append(f"cyclic $ref chain through '{file}#{pointer}'")
                    return None, True
                seen.add((file, pointer))
                target = by_pointer.get((repo, file, pointer))
                if target is None:
                    if (repo, file) not in known_files:
                        problems.append(f"unresolved $ref to '{file}#{pointer}': file not found")
                    elif (repo, file) in openapi_files and _SCHEMA_POINTER.match(pointer):
                        problems.append(f"unresolved $ref to '{file}#{pointer}': no such target")
                    return None, False
                final = target.attrs.get("ref_id")
                if isinstance(final, str):
                    return final, True
                nxt_file, nxt_ptr = target.attrs.get("ref_file"), target.attrs.get("ref_pointer")
                if isinstance(nxt_file, str) and isinstance(nxt_ptr, str):
                    file, pointer = nxt_file, nxt_ptr
                    continue
                return target.id, True

        if _fill_ids(attrs, lookup):
            changed.setdefault(ent.id, []).append(replace(ent, attrs=attrs))
        for reason in dict.fromkeys(problems):
            out.errors.append(FileError(ent.repo, ent.path, reason, ent.range.start_line))
    if changed:
        for ff in facts:
            for e in ff.entities:
                if e.id in changed and not any(e is c or (c.repo, c.path, c.range) == (e.repo, e.path, e.range)
                                               for c in changed[e.id]):
                    changed[e.id].append(e)
        out.replaces = set(changed)
        out.entities = [e for group in changed.values() for e in group]
    return out


def _has_pending(attrs: Any) -> bool:
    if isinstance(attrs, dict):
        return any(k.endswith("_file") for k in attrs) or any(_has_pending(v) for v in attrs.values())
    if isinstance(attrs, list):
        return any(_has_pending(x) for x in attrs)
    return False


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
