"""`lore check`: report the contract changes in the working tree (or at --head) that break consumers,
judged against the base (the merge base with the default branch, or --base REF).

Exit codes: 0 nothing breaking, 1 breaking changes found (accepted ones do not count), 2 usage or
configuration error (bad lore.toml, unknown base ref, shallow clone without the base). Registered in
`lore.cli.main` with `main.add_command(check)`; self-contained so that import order does not matter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from indexers import git
from indexers.engine import Engine
from indexers.model import to_plain
from indexers.store import CacheError, Store
from indexers.workspace import Workspace, WorkspaceError, discover
from lore.check.baseline import BaselineError
from lore.check.compare import check_repo
from lore.check.findings import ERROR, CheckResult
from lore.check.github import commands
from lore.check.report import render_text
from lore.check.sarif import to_sarif
from lore.check.suppress import ConfigError, parse_config
from lore.cli.output import echo
from lore.query.render import safe_json, safe_text


def _fail(msg: str) -> None:
    echo(f"lore: {msg}", err=True)
    sys.exit(2)


def _repos(ws: Workspace, path: Path) -> list[Any]:
    """The repo that contains PATH, or every checked-out repo when PATH is the workspace root."""
    p = path.absolute()
    if p.resolve() != ws.root.resolve():
        found = ws.locate(p)
        if found is not None:
            return [found[0]]
    return list(ws.repos)


def _prefix(root: Path, base: Path) -> str:
    try:
        rel = root.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--base", "base_ref", default=None, metavar="REF", help="Compare against the merge base with REF (default: the default branch).")
@click.option("--head", "head_ref", default=None, metavar="REF", help="Check a commit instead of the working tree.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the report to FILE.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
def check(path: Path, base_ref: str | None, head_ref: str | None, fmt: str, output: Path | None, cache_dir: Path | None) -> None:
    """Breaking changes to contracts (protobuf, OpenAPI, GraphQL, SQL) and to what production reads (metrics,
    labels, spans and flags that alerts, SLOs, dashboards and code depend on), and the consumers they break."""
    try:
        ws = discover(path)
        ws.require_repos()
        ignore = parse_config(ws.check, str(ws.config_path or "lore.toml"))
        repos = _repos(ws, path)
        if not repos:
            _fail(f"{ws.root}: no checked-out repository to check")
        snap, report = Engine(ws, Store(cache_dir), progress=False).refresh()
        results: list[tuple[str, CheckResult]] = []
        for spec in repos:
            res = check_repo(snap, spec.name, spec.root, base=base_ref, head=head_ref, ignore=ignore,
                             exclude=ws.exclude, max_file_size=ws.max_file_size)
            results.append((spec.name, res))
    except (WorkspaceError, ConfigError, BaselineError, CacheError, git.GitError) as exc:
        _fail(str(exc))
        return
    findings = [f for _r, res in results for f in res.findings]
    prefixes = {spec.name: _prefix(spec.root, ws.root if len(ws.repos) > 1 else spec.root) for spec in repos}
    if fmt == "json":
        doc = {"line_base": 0, "column_unit": "utf-16", "results": [{"repo": r, "base": res.base.split("@", 1)[-1], "findings": to_plain(res.findings),
                            "notes": res.notes} for r, res in results],
               "breaking": sum(len(res.breaking) for _r, res in results)}
        text = safe_json(doc)
    elif fmt == "sarif":
        text = safe_json(to_sarif(findings, prefixes))
    elif fmt == "github":
        here = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
        text = "\n".join(line for spec in repos for line in commands(
            [f for f in findings if f.at.repo == spec.name], _prefix(spec.root, here)))
    else:
        text = render_text(results)
    if fmt in ("text", "github"):
        text = safe_text(text)
    if output is not None:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            _fail(f"{output}: cannot write: {exc.strerror or exc}")
        errors = sum(1 for f in findings if f.breaking and f.severity == ERROR)
        echo(f"lore check: {sum(1 for f in findings if f.breaking)} breaking change(s), {errors} with known consumers; "
                   f"report in {output}", err=True)
    elif text:
        echo(text)
    for msg in report.messages:
        echo(f"lore: {msg}", err=True)
    sys.exit(1 if any(f.breaking for f in findings) else 0)
