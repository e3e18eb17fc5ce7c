"""`lore context --diff [BASE] [PATH] [--max-chars N]`: the context of a change, hunk by hunk
(`lore.review.report`: ranked, deduplicated, cut to N characters saying what was cut).

Text: the owners to notify, then each hunk with something to say, most important first. JSON (`--json`):
`{"line_base": 0, "column_unit": "utf-16", "hunk_line_base": 1, "base", "repos": [[repo, sha]], "hunks": [{"repo",
"path", "old_path", "hunk": {...}, "sections": [...]}], "total", "files", "owners", "folded", "lower_bound",
"problems", "cut"}`: note locations count lines from 0 (as `lore context --json` does), each hunk's
`old_start`/`new_start` from 1, as git numbers them; both say so.
"""

from __future__ import annotations

import os
from pathlib import Path

from indexers.model import to_plain
from indexers.snapshot import Snapshot
from indexers.workspace import RepoSpec, Workspace, WorkspaceError
from lore.cli.output import echo
from lore.query.context import with_line_base
from lore.query.render import safe_json
from lore.review.report import ChangeReport, ReviewError, build_report, fit
from lore.review.text import render_text


def scopes_for(ws: Workspace, path: Path) -> list[tuple[RepoSpec, tuple[str, ...]]]:
    """The repos (and paths in them) a change is read from: the repo holding PATH, limited to PATH when it
    is a file or folder inside it; every repo of the workspace for its root."""
    found = ws.locate(Path(os.path.normpath(path.absolute())))
    if found is not None and (found[1] == ".." or found[1].startswith("../")):
        found = None
    if found is not None and found[1] not in ("", "."):
        return [(found[0], (found[1],))]
    if found is not None:
        return [(found[0], ())]
    scopes = [(r, ()) for r in ws.repos]
    if not scopes:
        raise WorkspaceError(f"{path}: no repository to compare")
    return scopes  # type: ignore[return-value]


def report_json(report: ChangeReport, indent: int | None = 2) -> str:
    return safe_json(with_line_base({"hunk_line_base": 1, **to_plain(report)}), indent=indent)


def compact_json(report: ChangeReport) -> str:
    return report_json(report, None)


def open_change(path: Path, cache_dir: Path | None) -> tuple[Workspace, list[tuple[RepoSpec, tuple[str, ...]]], Snapshot]:
    """The workspace holding PATH, the repos (and paths) a change is read from, and a fresh Snapshot; the
    index's messages on stderr. `lore context --diff` and `lore review` both start here."""
    from lore.cli.main import open_engine

    if not path.exists():
        raise WorkspaceError(f"{path}: no such file or folder")
    ws, engine = open_engine(path, cache_dir)
    scopes = scopes_for(ws, path)
    snap, report = engine.refresh()
    for msg in report.messages:
        echo(f"lore: {msg}", err=True)
    return ws, scopes, snap


def context_diff(path: Path, base: str, cache_dir: Path | None, as_json: bool, max_chars: int | None = None) -> None:
    ws, scopes, snap = open_change(path, cache_dir)
    try:
        found = build_report(snap, ws, scopes, base)
    except ReviewError as exc:
        raise WorkspaceError(str(exc)) from exc
    if as_json:
        # within a budget the JSON is compact: indentation would spend it on spaces
        echo(report_json(found) if max_chars is None else compact_json(fit(found, compact_json, max_chars)))
        return
    echo(render_text(fit(found, render_text, max_chars)))
