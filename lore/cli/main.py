"""`lore`: the one command line. A thin view over the engine and the query layer.

Errors are one clear line on stderr and a non-zero exit code (2 for usage and configuration errors).
`lore serve` starts the LSP server; it is imported only then, so this package never loads pygls.

Start-up is part of every command's cost (`lore index` on an unchanged workspace must answer in a few
hundred milliseconds), so this module imports only what every command needs: the engine, the query
layer, the map writers and the other commands' modules are imported inside the commands that use them
(`LoreGroup` loads a command's module when that command is asked for).
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from indexers.store import Store
from indexers.workspace import Workspace, WorkspaceError, discover
from lore import DISTRIBUTION
from lore import version as lore_version
from lore.cli.errors import InputError, OneLineErrors, friendly
from lore.cli.output import echo, echo_json

if TYPE_CHECKING:
    from indexers.engine import Engine
    from lore.query.system_map import Break

F = TypeVar("F", bound=Callable[..., Any])

# Commands that live in their own modules, imported when they are asked for (`lore --help` imports them
# all, to show their help lines).
LAZY_COMMANDS = {"check": "lore.cli.check", "mcp": "lore.cli.mcp", "shards": "lore.cli.shards",
                 "fleet": "lore.cli.fleet", "note": "lore.cli.note", "review": "lore.cli.review"}


class LoreGroup(OneLineErrors):
    """The `lore` group, with the commands of `LAZY_COMMANDS` loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in LAZY_COMMANDS:
            import importlib

            found = getattr(importlib.import_module(LAZY_COMMANDS[cmd_name]), cmd_name)
            self.add_command(found, cmd_name)
        return found


class LoreUsageError(click.UsageError):
    """A usage error a command finds itself (options that disagree): one line, exit 2 (`OneLineErrors`)."""

    exit_code = 2


def cache_option(fn: F) -> F:
    return click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")(fn)


def open_engine(path: Path | str, cache_dir: Path | None, *, progress: bool = False, jobs: int | None = None,
                max_file_size: int | None = None, file_budget: float | None = None,
                opened: tuple[Workspace, Store] | None = None) -> tuple[Workspace, Engine]:
    if opened is None:
        ws = discover(path, max_file_size=max_file_size, file_budget=file_budget)
        ws.require_repos()
        store = Store(cache_dir)
    else:
        ws, store = opened
    from indexers.engine import Engine

    # A batch command is one short run that builds millions of long-lived, acyclic objects (facts, the
    # Snapshot, pickled records): the cyclic collector only rescans them, over and over (7 of 17 s of a
    # one-file run on 276k entities, same peak memory without it). Reference counting frees the rest, and
    # the process ends with the command. Extraction workers are fresh processes that collect as usual.
    gc.disable()
    # one run: no memory to save by sharing strings; what it built is saved for the next command
    return ws, Engine(ws, store, jobs=jobs, progress=progress, share=False, save=True)


@click.group(cls=LoreGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION, prog_name="lore")
@click.option("-v", "--verbose", count=True, help="More logging on stderr.")
def main(verbose: int) -> None:
    """Lore: system context (services, contracts, history) at the line you are editing."""
    from lore.query.render import SafeFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("lore: %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2), handlers=[handler])


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@cache_option
@click.option("--force", is_flag=True, help="Ignore cached records and re-extract everything.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the report.")
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path), help="Write a shard of one repo's facts.")
@click.option("--repo", "repo_name", help="With --export: which repo of the workspace (default: the only one).")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Worker processes (default: all cores).")
@click.option("--max-file-size", type=click.IntRange(1), default=None, help="Skip files larger than this many bytes (default 2 MB).")
@click.option("--file-budget", type=click.FloatRange(0, 3600, min_open=True), default=None, metavar="SECONDS",
              help="Stop reading a file after this long and report it (default 10 s, or [index] file_budget).")
@friendly
def index(path: Path, cache_dir: Path | None, force: bool, as_json: bool, export: Path | None, repo_name: str | None,
          jobs: int | None, max_file_size: int | None, file_budget: float | None) -> None:
    """Index the workspace at PATH (incremental; only changed files are re-read)."""
    ws = discover(path, max_file_size=max_file_size, file_budget=file_budget)
    ws.require_repos()
    store = Store(cache_dir)
    report = None
    planned: list[Any] = []
    if not force and export is None:  # nothing changed since the last run: manifests and stats only
        from indexers.summary import unchanged

        report = unchanged(ws, store, planned)
        if report is not None:
            logging.getLogger("lore.cli").info("nothing changed since the last run: report from its summary")
    if report is None:
        ws, engine = open_engine(path, cache_dir, progress=not as_json or sys.stderr.isatty(), jobs=jobs, opened=(ws, store))
        if not force and export is None:  # a few files changed, declaring what they declared: the last run patched
            report = engine.patch_saved(planned[0] if planned else None)
        if report is None:
            snap, report = engine.refresh(force=force)
            if export is not None:
                _export(ws, snap, export, repo_name, report)
    if as_json:
        echo_json(report.as_json())
        return
    for text in index_summary(len(ws.repos), report):
        echo(text)


def index_summary(repos: int, report: Any) -> list[str]:
    """The lines `lore index` prints for a report."""
    f = report.as_json()["files"]
    out = [f"Indexed {repos} repo(s) in {report.seconds:.2f}s: {f['indexed']} indexed, {f['unchanged']} unchanged, "
           f"{sum(f['skipped'].values())} skipped, {len(f['failed'])} with errors"]
    if f["skipped"]:
        out.append("  skipped: " + ", ".join(f"{k} {v}" for k, v in f["skipped"].items()))
    out.append("  facts: " + ", ".join(f"{k} {v}" for k, v in sorted(report.facts.items()) if v))
    for fail in f["failed"][:20]:
        out.append(f"  error: {fail['repo']}/{fail['path']}: {fail['reason']}")
    if len(f["failed"]) > 20:
        out.append(f"  ... and {len(f['failed']) - 20} more files with errors (see --json)")
    out += [f"  note: {msg}" for msg in report.messages]
    out += [f"  warning: {msg}" for msg in report.warnings]
    return out


def _export(ws: Workspace, snap: Any, export: Path, repo_name: str | None, report: Any) -> None:
    from indexers.shard import write_shard

    if repo_name is None:
        if len(ws.repos) != 1:
            raise WorkspaceError(f"--export needs --repo NAME in a workspace of {len(ws.repos)} repos ({', '.join(r.name for r in ws.repos)})")
        repo_name = ws.repos[0].name
    if ws.repo(repo_name) is None:
        raise WorkspaceError(f"--repo {repo_name!r}: no such repo in the workspace")
    files = [ff for (r, _p), ff in sorted(snap.files.items()) if r == repo_name]
    commits = list(snap.commits.get(repo_name, {}).values())
    head = snap.repos[repo_name].head if repo_name in snap.repos else None
    size = write_shard(export, repo_name, head, files, commits)
    report.messages.append(f"exported {len(files)} files of {repo_name} at {head[:12] if head else 'no commit'} to {export} ({size} bytes)")


def parse_location(spec: str) -> tuple[Path, int, int | None]:
    """FILE:LINE[:COL] with 1-based line and column."""
    parts = spec.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        path, line, col = Path(parts[0]), int(parts[1]), int(parts[2])
    else:
        head, _, tail = spec.rpartition(":")
        if not (head and tail.isdigit()):
            raise InputError(f"expected FILE:LINE[:COL] (1-based), got {spec!r}")
        path, line, col = Path(head), int(tail), None
    if line < 1:
        raise InputError(f"{spec}: line {line}: lines are counted from 1")
    if col is not None and col < 1:
        raise InputError(f"{spec}: column {col}: columns are counted from 1")
    return path, line, col


def line_count(path: Path) -> int:
    """How many lines an editor shows for the file (an empty file has one, empty line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return max(1, len(text.split(b"\n")) - (1 if text.endswith(b"\n") else 0))


def check_lines(path: Path, line: int, end_line: int | None) -> None:
    """The 1-based LINE (and --end-line) exist in the file, in order; else an InputError naming them."""
    n = line_count(path)
    if line > n:
        raise InputError(f"{path}:{line}: past the end of the file ({n} line{'s' if n != 1 else ''})")
    if end_line is not None and end_line < line:
        raise InputError(f"{path}: --end-line {end_line} is before the start line {line}")
    if end_line is not None and end_line > n:
        raise InputError(f"{path}: --end-line {end_line} is past the end of the file ({n} line{'s' if n != 1 else ''})")


@main.command()
@click.argument("location", required=False)
@cache_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the context as JSON (the agent interface; lines in it are 0-based, as `line_base` says).")
@click.option("--end-line", type=int, default=None, help="Last line of a range (1-based).")
@click.option("--diff", "diff_base", is_flag=False, flag_value="HEAD", default=None, metavar="[BASE]",
              help="Context of a change: each hunk of the working tree against BASE (default HEAD); LOCATION is then "
                   "an optional path (repo, folder or file). BASE... compares with the merge base of BASE and HEAD.")
@click.option("--max-chars", type=click.IntRange(200), default=None,
              help="With --diff: cut the least important notes until the answer fits, saying what was cut.")
@friendly
def context(location: str | None, cache_dir: Path | None, as_json: bool, end_line: int | None, diff_base: str | None,
            max_chars: int | None) -> None:
    """Everything Lore knows about FILE:LINE[:COL] (1-based), or with --diff about each hunk of a change.

    Answers from the last index without re-indexing (it says when files changed since: run `lore index`
    to refresh); with no index yet, it indexes first."""
    if diff_base is not None:
        from lore.cli.context_diff import context_diff

        context_diff(Path(location or "."), diff_base, cache_dir, as_json, max_chars)
        return
    if max_chars is not None:
        raise LoreUsageError("--max-chars applies to --diff")
    if location is None:
        raise LoreUsageError("expected FILE:LINE[:COL] (or --diff [BASE])")
    path, line, col = parse_location(location)
    if not path.exists():
        raise WorkspaceError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    check_lines(path, line, end_line)
    ws = discover(path)
    ws.require_repos()
    found = ws.locate(path.absolute())
    if found is None:
        raise WorkspaceError(f"{path}: not inside any repo of the workspace at {ws.root}")
    store = Store(cache_dir)
    from indexers.summary import stale_check

    # Started before anything else is imported or read: git's listing and the stat of every file run
    # beside the answer, in a child process (whether the index is stale is said with the answer).
    changes = stale_check(ws, store) if not ws.shards else (lambda: None)
    ws, engine = open_engine(path, cache_dir, opened=(ws, store))
    repo, rel = found
    where = (repo.name, rel, line - 1, None if col is None else col - 1, end_line - 1 if end_line else None)
    ctx, freshness = from_cache(engine, where, changes)
    from indexers.model import to_plain
    from lore.query import context as query
    from lore.query.render import render_text

    if ctx is None:  # no index yet (or not one this Lore and configuration can read): index first
        snap, report = engine.refresh()
        for msg in report.messages:
            echo(f"lore: {msg}", err=True)
        for msg in report.warnings:
            echo(f"lore: warning: {msg}", err=True)
        ctx = query.context(snap, *where)
    if as_json:
        doc = query.with_line_base(to_plain(ctx))
        doc.update(freshness or {"stale": False, "stale_files": []})
        echo_json(doc)
    else:
        echo(render_text(ctx))


def from_cache(engine: Engine, where: tuple[Any, ...],
               changes: Callable[[], list[tuple[str, str]] | None]) -> tuple[Any, dict[str, Any] | None]:
    """The context at `where` answered from the last index without indexing, and {stale, stale_files}:
    whether anything changed since, and which files (empty when that cannot be told file by file; from
    `changes`, `indexers.summary.stale_check` started by the caller); (None, None) when there is no index
    to answer from. A stale answer says so in its `problems`, with how to refresh."""
    import dataclasses

    from indexers.persist import MissingRecord
    from lore.query import context as query

    snap = engine.saved_snapshot()
    if snap is None:  # no saved run to answer from
        changes()
        return None, None
    try:
        ctx = query.context(snap, *where)
    except MissingRecord as exc:
        logging.getLogger("lore.cli").info("answering from the cache failed (%s): indexing", exc)
        changes()
        return None, None
    engine.keep_derived(snap)
    changed = changes()
    stale = changed is None or bool(changed)
    if stale:
        ctx = dataclasses.replace(ctx, problems=(*ctx.problems, stale_problem(changed, where[0], where[1])))
    return ctx, {"stale": stale, "stale_files": [f"{r}/{p}" for r, p in (changed or [])[:100]]}


def stale_problem(changed: list[tuple[str, str]] | None, repo: str, path: str) -> str:
    """What the stale-index problem says: how much changed, whether this file did, how to refresh."""
    if changed is None:
        what = "the repositories or the configuration changed since the last `lore index` (HEAD, lore.toml or Lore itself)"
    else:
        names = ", ".join(f"{r}/{p}" for r, p in changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        what = f"{len(changed)} file{'s' if len(changed) != 1 else ''} changed since the last `lore index` ({names})"
        if (repo, path) in changed:
            what += "; this file is one of them, so lines may have moved"
    return f"stale index: {what}; answered from the index as it was: run `lore index` to refresh"


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@cache_option
@click.option("--json", "as_json", is_flag=True, help="Print the graph as JSON (same as --format json).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dot", "mermaid", "html"]), default=None,
              help="text (default), json (the whole graph), or the system map as Graphviz dot, Mermaid or one offline HTML page.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE instead of stdout.")
@click.option("--focus", default=None, metavar="SERVICE", help="Map only SERVICE and its neighbours (dot, mermaid, html).")
@click.option("--depth", type=click.IntRange(0, 50), default=None, help="With --focus: neighbours up to N links away (default 1).")
@click.option("--group-by", type=click.Choice(["repo", "owner"]), default="repo", show_default=True, help="Group services by repo or by owner.")
@click.option("--links", default="file", show_default=True, metavar="file|vscode|none|URL",
              help="HTML: link files as file:// or vscode:// URIs, not at all, or by an http(s) URL template with {repo}, {path}, {line}.")
@click.option("--breaking", is_flag=True, help="Mark the links that the contract changes in the working tree break (as `lore check`).")
@click.option("--base", "base_ref", default=None, metavar="REF", help="With --breaking: compare against the merge base with REF.")
@friendly
def graph(path: Path, cache_dir: Path | None, as_json: bool, fmt: str | None, output: Path | None, focus: str | None,
          depth: int | None, group_by: str, links: str, breaking: bool, base_ref: str | None) -> None:
    """The system graph: contract entities, services and links; or the system map (--format dot|mermaid|html)."""
    if as_json and fmt not in (None, "json"):
        raise LoreUsageError(f"--json and --format {fmt} disagree; use one of them")
    fmt = "json" if as_json else (fmt or "text")
    if fmt in ("json", "text") and (focus is not None or depth is not None):
        raise LoreUsageError("--focus and --depth apply to --format dot, mermaid and html")
    if depth is not None and focus is None:
        raise LoreUsageError("--depth needs --focus SERVICE")
    if (breaking or base_ref) and fmt in ("json", "text"):
        raise LoreUsageError("--breaking and --base apply to --format dot, mermaid and html")
    if base_ref and not breaking:
        raise LoreUsageError("--base needs --breaking")
    from lore.map.render import MapOptionError, check_links, render_map
    from lore.query import context as query
    from lore.query.render import safe_json

    try:
        check_links(links)
        ws, engine = open_engine(path, cache_dir)
        snap, _report = engine.refresh()
        if fmt in ("dot", "mermaid", "html"):
            breaks = map_breaks(ws, snap, base_ref) if breaking else []
            _emit(render_map(snap, fmt, focus=focus, depth=depth, group_by=group_by, links=links, breaking=breaks), output)
            return
    except MapOptionError as exc:
        raise LoreUsageError(str(exc)) from exc
    doc = query.graph(snap)
    if fmt == "json":
        _emit(safe_json(query.with_line_base(doc)) + "\n", output)
        return
    lines = [f"{len(doc['entities'])} entity declarations, {len(doc['services'])} services, {len(doc['links'])} links"]
    for s in doc["services"]:
        owner = f" owner {s['owner']}" if s["owner"] else ""
        lines.append(f"service {s['name']} ({s['repo']}/{s['root'] or '.'}){owner} [{', '.join(s['languages'])}]")
    for e in doc["entities"]:
        lines.append(f"{e['id']}  {e['kind']}  {e['repo']}/{e['path']}:{e['range']['start_line'] + 1}")
    for lk in doc["links"]:
        lines.append(f"{lk['repo']}/{lk['path']}:{lk['range']['start_line'] + 1}  {lk['role']}  {lk['entity']}  ({lk['service'] or '-'})")
    for g in doc["copies"]:
        for dr in g["drift"]:
            lines.append(f"drift {g['id']}: {dr['repo']}/{dr['path']}:{dr['line'] + 1} differs from the canonical "
                         f"{g['canonical']['repo']}/{g['canonical']['path']}:{g['canonical']['line'] + 1}: "
                         f"{dr['differences'][0] if dr['differences'] else 'shape differs'}")
    for c in doc["conflicts"]:
        first = c["differences"][0] if c["differences"] else "shapes differ"
        lines.append(f"conflict {c['id']}: {first}; to resolve: {c['what_to_do']}")
    _emit("\n".join(lines) + "\n", output)


def map_breaks(ws: Workspace, snap: Any, base_ref: str | None) -> list[Break]:
    """The breaking changes `lore check` finds in every checked-out repo, for the map."""
    from indexers import git
    from lore.check.baseline import BaselineError
    from lore.check.compare import check_repo
    from lore.check.suppress import ConfigError, parse_config
    from lore.query.system_map import Break, Site

    out: list[Break] = []
    try:
        ignore = parse_config(ws.check, str(ws.config_path or "lore.toml"))
        for spec in ws.repos:
            res = check_repo(snap, spec.name, spec.root, base=base_ref, ignore=ignore, exclude=ws.exclude,
                             max_file_size=ws.max_file_size)
            out.extend(Break(f.entity, f"{f.rule}: {f.message}", tuple(Site(c.repo, c.path, c.line) for c in f.consumers))
                       for f in res.findings if f.breaking)
    except (BaselineError, ConfigError, git.GitError) as exc:
        raise LoreUsageError(f"--breaking: {exc}") from exc
    return out


def _emit(text: str, output: Path | None) -> None:
    from lore.query.render import safe_text

    text = safe_text(text)  # a file written here is read in a terminal too
    if output is None:
        echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LoreUsageError(f"--output {output}: {exc.strerror or exc}") from exc
    echo(f"lore: wrote {output} ({len(text.encode('utf-8')):,} bytes)", err=True)


def tcp_address(value: str | None) -> str | None:
    """--tcp HOST:PORT, checked before the server starts: a usage error (exit 2) otherwise."""
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or any(c.isspace() for c in host):
        raise click.BadParameter(f"expected HOST:PORT with a port from 0 (any free port) to 65535, got {value!r}")
    return value


@main.command()
@click.option("--stdio", is_flag=True, default=True, help="Talk LSP over stdin/stdout (default).")
@click.option("--tcp", "tcp", default=None, metavar="HOST:PORT", callback=lambda _c, _p, v: tcp_address(v),
              help="Listen on TCP instead of stdio: a loopback address only; one client, which must send the token.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --tcp: the token, read from FILE (yours, mode 0600); default: a new one, printed on stderr.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also log to this file.")
@click.option("--check", is_flag=True, help="Check that the server can start (imports it), print the version, exit.")
def serve(stdio: bool, tcp: str | None, token_file: Path | None, log_file: Path | None, check: bool) -> None:
    """Run the LSP server (stdio by default)."""
    import importlib

    if check:  # the editors' preflight: a missing or broken install fails here, with its cause
        importlib.import_module("lsp_server.setup")
        click.echo(f"{DISTRIBUTION} {lore_version() or '(not installed: running from a source tree)'} "
                   f"(python {sys.version.split()[0]} at {sys.executable})")
        return
    server_main = importlib.import_module("lsp_server.main")
    server_main.run(tcp=tcp, log_file=log_file, token_file=token_file)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Run the benchmarks (same options as `python -m benchmarks`, e.g. --quick, --sizes S,M,L)."""
    import importlib

    try:
        bench_main = importlib.import_module("benchmarks.__main__").main
    except ImportError as exc:
        raise click.ClickException(f"benchmarks are not installed with this copy of Lore ({exc})") from exc
    sys.exit(bench_main(list(args)))


def run() -> None:
    """The `lore` command: `main`, then a quick exit. A command that answered from a large cache holds
    millions of objects, and the interpreter's teardown frees them one by one before the process ends
    (40 ms of a 0.3 s `lore context`, measured). So when only the main thread is left, the output is
    flushed, the exit handlers run (the cache's close stamp, worker pools, temporary files), and the
    process ends without the teardown; otherwise (a thread still running, output that cannot be
    flushed) it exits as usual."""
    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - e.g. a closed pipe: the usual exit reports it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
