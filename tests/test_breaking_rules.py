"""Table-driven rule tests: each tests/fixtures/breaking/cases/*.case holds a file before and after a change
and the exact findings (`RULE ENTITY LINE`, LINE 1-based where the finding is reported), in report order."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.snapshot import build
from lore.check.compare import findings_for_text

CASES = sorted((Path(__file__).parent / "fixtures" / "breaking" / "cases").glob("*.case"))


def parse_case(path: Path) -> tuple[str, str, str, list[str]]:
    sections: dict[str, list[str]] = {}
    name = ""
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("--- "):
            words = line[4:].split()
            current = sections.setdefault(words[0], [])
            if len(words) > 1:
                name = words[1]
            continue
        if current is not None:
            current.append(line)
    expect = [ln.strip() for ln in sections.get("expect", []) if ln.strip() and not ln.startswith("#")]
    return name, "\n".join(sections["before"]), "\n".join(sections["after"]), expect


def run_case(path: Path) -> tuple[list[str], list[str]]:
    name, before, after, expect = parse_case(path)
    found = findings_for_text(build({}, []), "repo", name, after, before)
    got = [f"{f.rule} {f.entity} {f.at.range.start_line + 1}" for f in found]
    return got, expect


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_rule_case(case: Path) -> None:
    got, expect = run_case(case)
    assert got == expect


def test_cases_cover_every_rule() -> None:
    from lore.check.sarif import DESCRIPTIONS

    seen = {line.split()[0] for c in CASES for line in parse_case(c)[3]}
    # rules that need several files (a new migration, a rename in history) are covered in test_breaking_check;
    # the operational ones (code and the alerts, SLOs, dashboards or flag files that read it) in test_ops_system
    multi_file = {"SQL_TABLE_RENAMED", "SQL_COLUMN_RENAMED", "COPY_DRIFT", "OPS_METRIC_REMOVED",
                  "OPS_METRIC_LABEL_REMOVED", "OPS_SPAN_REMOVED", "OPS_FLAG_REMOVED"}
    assert set(DESCRIPTIONS) - seen - multi_file == set()
