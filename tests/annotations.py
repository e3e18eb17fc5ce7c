"""Data-driven extraction tests: annotated fixture files and one `check()` helper.

A fixture is a source file with expectation lines written beside the line they name. An expectation line
starts with the file's comment prefix, then `^` marks under the columns of the previous source line:

    message Cart {
    //      ^^^^ proto:shop.Cart kind=proto.message
      repeated Item items = 2;
    //              ^^^^^ proto:shop.Cart.items number=2 label=repeated type=Item

    `@ <id> ...` instead of carets names the entity without pinning its columns (line only).
    `! <text>` expects a per-file error on the previous source line whose reason contains <text>.
    `!! <text>` expects a per-file error anywhere in the file.
    A first line `<prefix> lore:exact` makes the set of annotated entity IDs exact: any extra is an error.

Attribute values are parsed as JSON when they can be (`number=2`, `deprecated=true`, `tags=["a"]`), else
taken as strings. Expectation lines are removed before extraction, so positions are those of the clean
file. Languages without comments (JSON) keep expectations in a sidecar `<file>.expect` whose lines read
`<line1based>:<col0>-<col1> <id> key=value ...`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers.model import Entity, FileError, Span

PREFIXES = ("//", "#", "--")
_CARET = re.compile(r"^(\s*)(//|#|--)(\s*)(\^+)\s+(\S+)(.*)$")
_AT = re.compile(r"^\s*(//|#|--)\s*@\s+(\S+)(.*)$")
_ERR = re.compile(r"^\s*(//|#|--)\s*(!!?)\s+(.*)$")


@dataclass
class Expectation:
    id: str
    line: int
    cols: tuple[int, int] | None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fixture:
    text: str  # the clean file (expectation lines removed)
    expectations: list[Expectation]
    line_errors: list[tuple[int, str]]
    file_errors: list[str]
    exact: bool


def _attrs(rest: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tok in shlex.split(rest):
        if "=" not in tok:
            continue
        key, value = tok.split("=", 1)
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def parse_fixture(raw: str, sidecar: str | None = None) -> Fixture:
    clean: list[str] = []
    exps: list[Expectation] = []
    line_errors: list[tuple[int, str]] = []
    file_errors: list[str] = []
    lines = raw.split("\n")
    exact = bool(lines) and lines[0].strip() in {f"{p} lore:exact" for p in PREFIXES}
    if exact:
        lines = lines[1:]
    for line in lines:
        m = _CARET.match(line)
        if m and clean:
            start = len(m.group(1)) + len(m.group(2)) + len(m.group(3))
            cols = (start, start + len(m.group(4)))
            exps.append(Expectation(m.group(5), len(clean) - 1, cols, _attrs(m.group(6))))
            continue
        m = _AT.match(line)
        if m and clean:
            exps.append(Expectation(m.group(2), len(clean) - 1, None, _attrs(m.group(3))))
            continue
        m = _ERR.match(line)
        if m and clean:
            if m.group(2) == "!!":
                file_errors.append(m.group(3).strip())
            else:
                line_errors.append((len(clean) - 1, m.group(3).strip()))
            continue
        clean.append(line)
    if sidecar:
        for row in sidecar.splitlines():
            row = row.strip()
            if not row or row.startswith("#"):
                continue
            if row.startswith("!!"):
                file_errors.append(row[2:].strip())
                continue
            pos, ident, *rest = row.split(" ", 2)
            line_s, _, cols_s = pos.partition(":")
            cols = tuple(int(c) for c in cols_s.split("-")) if cols_s else None
            exps.append(Expectation(ident, int(line_s) - 1, cols, _attrs(rest[0] if rest else "")))  # type: ignore[arg-type]
    return Fixture("\n".join(clean), exps, line_errors, file_errors, exact)


def load_fixture(path: Path) -> Fixture:
    sidecar = path.with_name(path.name + ".expect")
    return parse_fixture(path.read_text(encoding="utf-8"), sidecar.read_text(encoding="utf-8") if sidecar.exists() else None)


def check(entities: Iterable[Entity], errors: Iterable[FileError], fixture: Fixture) -> None:
    """Assert that extraction output matches every expectation of the fixture; report all mismatches."""
    entities = list(entities)
    errors = list(errors)
    by_id: dict[str, list[Entity]] = {}
    for e in entities:
        by_id.setdefault(e.id, []).append(e)
    problems: list[str] = []
    for exp in fixture.expectations:
        cands = by_id.get(exp.id, [])
        if not cands:
            problems.append(f"line {exp.line + 1}: missing entity {exp.id}")
            continue
        if exp.cols is not None:
            want = Span(exp.line, exp.cols[0], exp.line, exp.cols[1])
            here = [e for e in cands if e.range == want]
        else:
            here = [e for e in cands if e.range.start_line == exp.line]
        if not here:
            got = ", ".join(f"{e.range}" for e in cands)
            problems.append(f"line {exp.line + 1}: {exp.id} at {exp.cols} expected, found at {got}")
            continue
        ent = here[0]
        for key, value in exp.attrs.items():
            actual = ent.kind if key == "kind" else ent.parent if key == "parent" else ent.name if key == "name" else ent.attrs.get(key, "<absent>")
            if actual != value:
                problems.append(f"line {exp.line + 1}: {exp.id} {key}={actual!r}, expected {value!r}")
    if fixture.exact:
        annotated = {e.id for e in fixture.expectations}
        for ident in sorted(set(by_id) - annotated):
            problems.append(f"unexpected entity {ident} at {by_id[ident][0].range}")
    for line, text in fixture.line_errors:
        if not any(err.line == line and text.lower() in err.reason.lower() for err in errors):
            problems.append(f"line {line + 1}: expected an error containing {text!r}; got {[(e.line, e.reason) for e in errors]}")
    for text in fixture.file_errors:
        if not any(text.lower() in err.reason.lower() for err in errors):
            problems.append(f"expected a file error containing {text!r}; got {[(e.line, e.reason) for e in errors]}")
    if not fixture.line_errors and not fixture.file_errors and errors:
        problems.append(f"unexpected errors: {[(e.line, e.reason) for e in errors]}")
    assert not problems, "\n".join(problems)
