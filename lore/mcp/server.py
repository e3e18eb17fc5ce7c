"""`lore mcp`: Lore's context for AI coding agents over the Model Context Protocol (stdio).

Another thin view over the query layer, like `lore context --json` and the LSP `lore/context` request:
`LoreTools` answers each tool call from one long-lived Engine (refreshed before every call; incremental
and cheap when nothing changed) and returns (plain text with citations, JSON-able data). `build_server`
wires those answers to the official `mcp` SDK, imported only there so that this module, and `lore`,
load without it. Expected failures (a path outside the workspace, an unknown entity, a bad ref) are
`ToolFailure`s that reach the agent as tool errors; nothing a caller sends takes the server down.
Never imports pygls or lsprotocol.
"""

# No `from __future__ import annotations`: the SDK reads the tool functions' annotations (Annotated
# descriptions) at run time, and those functions are defined inside build_server.

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from indexers import git
from indexers.engine import Engine
from indexers.model import Link, to_plain
from indexers.snapshot import Snapshot
from indexers.store import CacheError, Store
from indexers.workspace import RepoSpec, WorkspaceError, discover
from lore.check.baseline import BaselineError
from lore.check.compare import check_repo
from lore.check.report import render_text as render_check
from lore.check.suppress import ConfigError, parse_config
from lore.mcp import budget, lookup
from lore.notes.write import NoteError
from lore.notes.write import add_note as write_note
from lore.query import context as query
from lore.query import navigation
from lore.query import notes as notes_query
from lore.query.render import clean
from lore.review.report import ReviewError, build_report, fit
from lore.review.text import render_text as render_change

log = logging.getLogger(__name__)

MAX_LINKS = 200  # provider/consumer rows per role in one answer
MAX_SEARCH = 200
MAX_RANGE = 2000  # lines in one lore_context range

INSTRUCTIONS = (
    "Lore indexes the git repositories of one software system. Before changing code, call lore_context on the "
    "file and line (or on a symbol: an entity, service, function or class name) to learn the owning service, "
    "the data contract (protobuf/OpenAPI/GraphQL/SQL) used or declared there with its providers and consumers "
    "in other repos, team notes, history (workarounds, reverts, hotfixes, TODO/HACK markers, decisions) and "
    "operations (the alerts, SLOs and dashboards that read a metric or span, a flag's definition and "
    "evaluation sites, a route's auth guard, the pipeline that ships the service). "
    "lore_search finds contract entities and services by name; lore_consumers lists who provides and consumes "
    "an entity; lore_check reports breaking contract changes, and removed metrics, labels, spans and flags that "
    "production reads, in the working tree and which consumers they break; lore_diff gives the context of your "
    "whole change before you finish it (what it breaks and for whom, workaround lines it edits, deprecated "
    "calls it adds, owners to notify). Every fact cites its source "
    "(repo/path:line or a commit); a count that may be incomplete says so (lower_bound). Every tool takes "
    "max_chars and says what it cut to fit. Team notes are what people and agents learned about some lines "
    "(why the code must stay so): lore_context shows them, notes_for lists them for a file or range, and "
    "add_note records what you learned while fixing something, for the next person or agent who touches "
    "those lines (it writes a file under .lore/notes/ to commit with the change)."
)


class ToolFailure(Exception):
    """A failure the caller can fix (bad path, unknown entity, bad ref); the message is one clear line."""


Answer = tuple[str, dict[str, Any]]


class LoreTools:
    """The MCP tools as plain functions over one Engine; thread-safe (one call at a time)."""

    def __init__(self, root: Path | str = ".", cache_dir: Path | None = None):
        self.ws = discover(root)
        self.engine = Engine(self.ws, Store(cache_dir), progress=False)
        self._lock = threading.Lock()
        self._told: set[str] = set()

    # -- plumbing ------------------------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        try:
            snap, report = self.engine.refresh()
        except (WorkspaceError, CacheError, git.GitError) as exc:
            raise ToolFailure(f"indexing failed: {exc}") from exc
        for msg in report.messages:
            if msg not in self._told:
                self._told.add(msg)
                log.warning("%s", msg)
        return snap

    def locate(self, path: str, folders: bool = False) -> tuple[RepoSpec, str, Path]:
        """A path (absolute, relative to the workspace root, or a file:// URI) -> (repo, repo-relative
        POSIX path, absolute path). Only existing files (and with `folders`, folders) inside a repo of
        the workspace are accepted."""
        raw = path.strip()
        if not raw:
            raise ToolFailure("path must not be empty")
        if raw.startswith("file://"):
            raw = unquote(urlparse(raw).path)
        p = Path(raw)
        if not p.is_absolute():
            p = self.ws.root / p
        p = Path(os.path.normpath(p))  # lexical '..' must not walk out of a repo
        found = self.ws.locate(p)
        if found is None or (not found[1] and not folders) or found[1] == ".." or found[1].startswith("../"):
            raise ToolFailure(f"{path}: not inside any repo of the workspace at {self.ws.root}; {self.roots()}")
        repo, rel = found
        try:
            real = p.resolve()
            real.relative_to(repo.root.resolve())
        except (OSError, ValueError) as exc:
            raise ToolFailure(f"{path}: resolves outside the repo {repo.name}") from exc
        if folders and real.is_dir():
            return repo, rel, real
        if not real.is_file():
            if real.exists():
                raise ToolFailure(f"{path}: not a file")
            close = self._nearest_files(repo.name, rel)
            raise ToolFailure(f"{path}: no such file in repo {repo.name} (root {repo.root})"
                              + (f"; nearest indexed files: {', '.join(close)}" if close else ""))
        return repo, rel, real

    def roots(self) -> str:
        """The indexed repos and their roots, for an error about a path outside them."""
        repos = ", ".join(f"{r.name} ({r.root})" for r in self.ws.repos[:20]) + (", ..." if len(self.ws.repos) > 20 else "")
        return f"indexed repos: {repos}" if repos else "no repository is indexed here (lore mcp --root names the workspace)"

    def _nearest_files(self, repo: str, rel: str) -> list[str]:
        import difflib

        try:
            snap = self._snapshot()
        except ToolFailure:
            return []
        files = [p for (r, p) in snap.files if r == repo]
        by_name = [p for p in files if p.rsplit("/", 1)[-1] == rel.rsplit("/", 1)[-1]]
        return [f"{repo}/{p}" for p in (by_name or difflib.get_close_matches(rel, files, n=3, cutoff=0.5))[:3]]

    @staticmethod
    def _line_count(path: Path) -> int:
        n, last = 0, b"\n"
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                n += chunk.count(b"\n")
                last = chunk[-1:]
        return n + (0 if last == b"\n" else 1)

    def warm(self) -> None:
        """Index once in the background; a failure here is reported again by the first tool call."""
        try:
            self.engine.refresh()
        except Exception:  # noqa: BLE001 - the calls themselves report it
            log.warning("initial index failed", exc_info=True)

    def _guarded(self, fn: Callable[[], Answer]) -> Answer:
        with self._lock:
            return fn()

    # -- tools ---------------------------------------------------------------------------------------
    def context(self, path: str | None = None, line: int | None = None, end_line: int | None = None,
                symbol: str | None = None, max_chars: int = budget.DEFAULT) -> Answer:
        """Sections for a location (1-based line, optional last line of a range), or for what `symbol` names
        (a contract entity, a service, or with `path` a function or class of that file)."""
        return self._guarded(lambda: self._context(path, line, end_line, symbol, max_chars))

    def _context(self, path: str | None, line: int | None, end_line: int | None, symbol: str | None, max_chars: int) -> Answer:
        symbol = (symbol or "").strip() or None
        if symbol is None and (path is None or line is None):
            raise ToolFailure("pass path and line, or symbol (a contract entity ID or name, a service, or with path a "
                              "function or class of that file)")
        what = ""
        if symbol is not None and line is None:
            snap = self._snapshot()
            spec = rel = None
            text = None
            if path is not None:
                spec, rel, real = self.locate(path)
                text = real.read_text(encoding="utf-8", errors="replace")
            try:
                at = lookup.place(snap, symbol, repo=spec.name if spec else None, path=rel, text=text)
            except lookup.LookupError_ as exc:
                raise ToolFailure(str(exc)) from exc
            repo_name, rel_path, first = at.repo, at.path, at.line
            last = min(at.end_line, first + MAX_RANGE - 1) if at.end_line is not None else None
            what = at.what
        else:
            assert path is not None and line is not None
            spec, rel_path, real = self.locate(path)
            repo_name = spec.name
            total = max(self._line_count(real), 1)
            if line < 1 or line > total:
                raise ToolFailure(f"line {line} is outside {repo_name}/{rel_path} (1..{total})")
            if end_line is not None and (end_line < line or end_line > total):
                raise ToolFailure(f"end_line {end_line} must be between line {line} and {total}")
            if end_line is not None and end_line - line >= MAX_RANGE:
                raise ToolFailure(f"range too long: at most {MAX_RANGE} lines at a time")
            first, last = line - 1, (end_line - 1 if end_line else None)
            snap = self._snapshot()
        ctx = query.context(snap, repo_name, rel_path, first, None, last)
        where = f"{repo_name}/{rel_path}:{first + 1}" + (f"-{last + 1}" if last is not None and last != first else "")
        head = [f"Lore context for {clean(where)}" + (f" ({clean(what)})" if what else "")]
        if ctx.entity_ids:
            head.append("Entity IDs here (for lore_consumers): " + ", ".join(ctx.entity_ids))
        items = [(sec.title, f"- {clean(n.text, 4000)} [{clean(n.source, 200)}]") for sec in ctx.sections for n in sec.notes]
        problems = ["## Problems in this file"] + [f"- {clean(p)}" for p in ctx.problems[:10]] if ctx.problems else []
        not_read = query.unseen(snap)
        bound = [f"Provider and consumer counts are a lower bound; not read: {'; '.join(not_read)}"] if not_read and any(
            sec.name == "links" and sec.notes for sec in ctx.sections) else []

        def render(k: int) -> str:
            out = list(head)
            title = None
            for t, item in items[:k]:
                if t != title:
                    out.append(f"## {clean(t)}")
                    title = t
                out.append(item)
            if not items:
                out.append("Lore knows nothing about this location (no service, contract, history, markers or decisions).")
            if k < len(items):
                out.append(budget.notice(len(items) - k, "note", max_chars, "a narrower range"))
            return "\n".join(out + bound + problems)

        k = budget.largest(render, len(items), max_chars)
        doc = to_plain(ctx)
        if k < len(items):
            kept = 0
            for sec in doc["sections"]:
                room = max(k - kept, 0)
                kept += min(room, len(sec["notes"]))
                sec["notes"] = sec["notes"][:room]
            doc["truncated"] = {"notes": len(items) - k, "max_chars": max_chars}
        doc.update({"resolved": what, "lower_bound": bool(not_read), "not_read": not_read})
        return budget.clip(render(k), max_chars), doc

    def notes_for(self, path: str, line: int | None = None, end_line: int | None = None, max_chars: int = budget.DEFAULT) -> Answer:
        """Team notes on a file (or folder), or on a line range of a file (1-based)."""
        return self._guarded(lambda: self._notes_for(path, line, end_line, max_chars))

    def _notes_for(self, path: str, line: int | None, end_line: int | None, max_chars: int = budget.DEFAULT) -> Answer:
        repo, rel, real = self.locate(path, folders=True)
        snap = self._snapshot()
        if real.is_dir():
            if line is not None:
                raise ToolFailure("line applies to a file, not a folder")
            prefix = "" if rel in ("", ".") else rel.rstrip("/") + "/"
            found = [p for p in notes_query.placed_notes(snap, repo.name)
                     if not prefix or any(x.startswith(prefix) for x in (p.at.path, p.note.anchor.path))]
        else:
            first = last = None
            if line is not None:
                total = max(self._line_count(real), 1)
                last_line = end_line if end_line is not None else line
                if not 1 <= line <= last_line <= total:
                    raise ToolFailure(f"lines {line}..{last_line} are outside {repo.name}/{rel} (1..{total})")
                first, last = line - 1, last_line - 1
            found = notes_query.notes_for(snap, repo.name, rel, first, last)
            if line is None:  # the file's orphans too: notes on code of this file that is gone
                found += [p for p in notes_query.orphans(snap, repo.name) if p.note.anchor.path == rel]
        where = f"{repo.name}/{rel}" + (f":{line}" + (f"-{end_line}" if end_line and end_line != line else "") if line else "")
        if not found:
            return f"No team notes on {clean(where)}.", {"path": rel, "repo": repo.name, "notes": []}
        head = f"{len(found)} team note{'s' if len(found) != 1 else ''} on {clean(where)}:"
        lines, rows = [], []
        for p in found:
            note = notes_query.to_note(p)
            state = "orphaned (its code is gone), last seen at " if not p.at.attached else ""
            lines.append(f"- {clean(note.text, 4000)} [{state}{clean(p.at.path)}:{p.at.start_line + 1}-{p.at.end_line + 1}; "
                         f"note {p.note.id}, {clean(note.source)}]")
            rows.append(note.data)

        def render(k: int) -> str:
            cut = [budget.notice(len(lines) - k, "note", max_chars, "a narrower range")] if k < len(lines) else []
            return "\n".join([head, *lines[:k], *cut])

        k = budget.largest(render, len(lines), max_chars)
        doc: dict[str, Any] = {"path": rel, "repo": repo.name, "notes": rows[:k]}
        if k < len(rows):
            doc["truncated"] = {"notes": len(rows) - k, "max_chars": max_chars}
        return budget.clip(render(k), max_chars), doc

    def add_note(self, path: str, line: int, end_line: int | None, text: str, kind: str = "tip",
                 refs: list[str] | None = None, agent: str = "") -> Answer:
        """Write a team note on lines of a file (1-based) as `agent`."""
        return self._guarded(lambda: self._add_note(path, line, end_line, text, kind, refs or [], agent))

    def _add_note(self, path: str, line: int, end_line: int | None, text: str, kind: str, refs: list[str],
                  agent: str) -> Answer:
        repo, rel, real = self.locate(path)
        total = max(self._line_count(real), 1)
        last = end_line if end_line is not None else line
        if not 1 <= line <= last <= total:
            raise ToolFailure(f"lines {line}..{last} are outside {repo.name}/{rel} (1..{total})")
        try:
            made, target = write_note(repo.root, rel, line - 1, last - 1, text, kind=kind, refs=refs,
                                      agent=agent or "an MCP agent")
        except NoteError as exc:
            raise ToolFailure(str(exc)) from exc
        a = made.anchor
        what = f"{a.symbol} (the whole {a.symbol_kind})" if a.whole_symbol else (f"lines in {a.symbol}" if a.symbol else "these lines")
        msg = (f"Added {kind} note {made.id} on {clean(repo.name)}/{clean(rel)}:{a.start_line + 1}-{a.end_line + 1}, "
               f"anchored to {clean(what)}. It is the file {made.path} in {repo.name}: commit it with your change.")
        return msg, {"id": made.id, "repo": repo.name, "note_file": made.path, "path": rel,
                     "lines": [a.start_line + 1, a.end_line + 1], "symbol": a.symbol, "whole_symbol": a.whole_symbol,
                     "kind": kind, "agent": made.agent, "author": made.author, "file": str(target)}

    def consumers(self, entity_id: str, max_chars: int = budget.DEFAULT) -> Answer:
        return self._guarded(lambda: self._consumers(entity_id.strip(), max_chars))

    def _consumers(self, name: str, max_chars: int = budget.DEFAULT) -> Answer:
        snap = self._snapshot()
        try:
            ent = lookup.entity(snap, name)
        except lookup.LookupError_ as exc:
            raise ToolFailure(str(exc)) from exc
        ident = ent.id
        decls = [_origin({"repo": d.repo, "path": d.path, "line": d.range.start_line + 1}, snap) for d in snap.declarations(ident)]
        head = [f"{ident}: {query.describe_entity(ent)}" + (f" (for {name!r})" if name != ident else "")]
        head += [f"- {'canonical declaration' if i == 0 and len(decls) > 1 else 'declared'} at {d['repo']}/{d['path']}:{d['line']}{_shard_tag(d)}"
                 if i == 0 else f"- copy at {d['repo']}/{d['path']}:{d['line']}{_shard_tag(d)}" for i, d in enumerate(decls)]
        head += [f"- {n.text}" for n in query.copy_notes(snap, ent) if n.kind in ("drift", "conflict")]
        not_read = query.unseen(snap)
        if not_read:
            head.append(f"Counts below are a lower bound; not read: {'; '.join(not_read)}")
        data: dict[str, Any] = {"entity": {"id": ident, "kind": ent.kind, "name": ent.name, "declarations": decls},
                                "lower_bound": bool(not_read), "not_read": not_read}
        roles: list[tuple[str, list[Link]]] = []
        for role, label in (("provides", "providers"), ("consumes", "consumers")):
            links = sorted(_sites(snap, ident, role), key=lambda lk: (lk.service, lk.repo, lk.path, lk.range))
            roles.append((label, links[:MAX_LINKS]))
            data[f"{label}_total"] = len(links)

        def render(k: int) -> str:  # k rows of each role at most: providers and consumers cut alike
            out = list(head)
            for label, links in roles:
                total = data[f"{label}_total"]
                repos = sorted({lk.repo for lk in links})
                out.append(f"{label.capitalize()}: {total} site{'' if total == 1 else 's'} in {len(repos)} "
                           f"repo{'' if len(repos) == 1 else 's'}" if links else f"{label.capitalize()}: none known")
                out += [_link_line(lk, ident) + _shard_tag(_origin({}, snap, lk.repo)) for lk in links[:k]]
                if total > min(k, len(links)):
                    out.append(f"- ... and {total - min(k, len(links))} more"
                               + (f" (cut to fit max_chars={max_chars}; ask with a larger max_chars)" if k < len(links) else ""))
            return "\n".join(out)

        most = max((len(links) for _l, links in roles), default=0)
        k = budget.largest(render, most, max_chars)
        for label, links in roles:
            data[label] = [_origin(_link_data(lk), snap) for lk in links[:k]]
        if k < most:
            data["truncated"] = {"rows_per_role": k, "max_chars": max_chars}
        return budget.clip(render(k), max_chars), data

    def search(self, text: str, limit: int = 30, max_chars: int = budget.DEFAULT) -> Answer:
        return self._guarded(lambda: self._search(text.strip(), limit, max_chars))

    def _search(self, text: str, limit: int, max_chars: int = budget.DEFAULT) -> Answer:
        if not text:
            raise ToolFailure("query must not be empty")
        limit = max(1, min(limit, MAX_SEARCH))
        snap = self._snapshot()
        rows: list[dict[str, Any]] = []
        for sym in navigation.workspace_symbols(snap, text, limit):
            at = sym.location
            row: dict[str, Any] = {"name": sym.name, "kind": sym.kind, "repo": at.repo, "path": at.path,
                                   "line": at.range.start_line + 1}
            if sym.kind == "service":
                row["root"] = sym.detail
            else:
                row["id"] = sym.detail
                row["consumer_sites"] = len(_sites(snap, sym.detail, "consumes"))
            rows.append(_origin(row, snap))
        not_read = query.unseen(snap)
        if not rows:
            close = lookup.nearest(snap, text)
            hint = f" Nearest names: {', '.join(close)}." if close else ""
            return (f"No contract entity or service matches {text!r}.{hint}",
                    {"query": text, "results": [], "nearest": close, "lower_bound": bool(not_read), "not_read": not_read})
        lines = []
        for r in rows:
            what = f"service {r['name']} ({r['root']})" if r["kind"] == "service" else f"{r['id']} ({r['kind']}, {r['consumer_sites']} consumer site{'' if r['consumer_sites'] == 1 else 's'})"
            lines.append(f"- {clean(what)} [{clean(r['repo'] + '/' + r['path'])}:{r['line']}]{_shard_tag(r)}")
        bound = [f"Consumer counts are a lower bound; not read: {'; '.join(not_read)}"] if not_read else []

        def render(k: int) -> str:
            cut = [budget.notice(len(lines) - k, "match", max_chars, "a narrower query")] if k < len(lines) else []
            return "\n".join([f"{len(rows)} match{'es' if len(rows) != 1 else ''} for {clean(text)!r}:", *lines[:k], *cut, *bound])

        k = budget.largest(render, len(lines), max_chars)
        doc: dict[str, Any] = {"query": text, "results": rows[:k], "lower_bound": bool(not_read), "not_read": not_read}
        if k < len(rows):
            doc["truncated"] = {"results": len(rows) - k, "max_chars": max_chars}
        return budget.clip(render(k), max_chars), doc

    def check(self, repo: str | None = None, base: str | None = None, max_chars: int = budget.DEFAULT) -> Answer:
        return self._guarded(lambda: self._check(repo, base, max_chars))

    def _repo(self, name: str) -> RepoSpec:
        spec = self.ws.repo(name.strip())
        if spec is None:
            import difflib

            close = difflib.get_close_matches(name.strip(), [r.name for r in self.ws.repos], n=3, cutoff=0.5)
            raise ToolFailure(f"unknown repo {name!r}" + (f"; nearest: {', '.join(close)}" if close else "") + f"; {self.roots()}")
        return spec

    def _check(self, repo_name: str | None, base: str | None, max_chars: int = budget.DEFAULT) -> Answer:
        if repo_name:
            specs = [self._repo(repo_name)]
        else:
            specs = list(self.ws.repos)
        if not specs:
            raise ToolFailure(f"{self.ws.root}: no checked-out repository to check")
        try:
            ignore = parse_config(self.ws.check, str(self.ws.config_path or "lore.toml"))
            snap = self._snapshot()
            results = [(s.name, check_repo(snap, s.name, s.root, base=base or None, ignore=ignore,
                                           exclude=self.ws.exclude, max_file_size=self.ws.max_file_size)) for s in specs]
        except (ConfigError, BaselineError, WorkspaceError, CacheError, git.GitError) as exc:
            raise ToolFailure(str(exc)) from exc
        breaking = sum(len(res.breaking) for _r, res in results)
        head = (f"{breaking} breaking contract change(s) in the working tree" if breaking
                else "No breaking contract changes in the working tree")
        not_read = query.unseen(snap)
        doc = {"breaking": breaking, "lower_bound": bool(not_read), "not_read": not_read,
               "results": [{"repo": r, "base": res.base.split("@", 1)[-1], "findings": to_plain(res.findings),
                            "notes": res.notes} for r, res in results]}
        lines = render_check(results).split("\n")

        def render(k: int) -> str:
            cut = [budget.notice(len(lines) - k, "line", max_chars, "repo set to one repository")] if k < len(lines) else []
            return "\n".join([head + ".", *lines[:k], *cut])

        k = budget.largest(render, len(lines), max_chars)
        if k < len(lines):
            doc["truncated"] = {"lines": len(lines) - k, "max_chars": max_chars}
        return budget.clip(render(k), max_chars), doc

    def diff(self, base: str | None = None, path: str | None = None, max_chars: int = budget.DEFAULT) -> Answer:
        """The context of the working tree's change against `base` (default HEAD: what is not committed yet;
        `main...`: what a branch changes since it forked), in every repo or under `path`."""
        return self._guarded(lambda: self._diff(base, path, max_chars))

    def _diff(self, base: str | None, path: str | None, max_chars: int) -> Answer:
        if path:
            spec, rel, _real = self.locate(path, folders=True)
            scopes = [(spec, (rel,) if rel not in ("", ".") else ())]
        else:
            scopes = [(r, ()) for r in self.ws.repos]
        if not scopes:
            raise ToolFailure(f"{self.ws.root}: no checked-out repository; {self.roots()}")
        snap = self._snapshot()
        try:
            report = build_report(snap, self.ws, scopes, (base or "HEAD").strip() or "HEAD")
        except ReviewError as exc:
            raise ToolFailure(f"{exc} (base: a commit, branch or tag; HEAD for uncommitted changes; BRANCH... for "
                              "what this branch changes since it forked from BRANCH)") from exc
        def render(r: Any) -> str:
            return render_change(r, "max_chars")

        report = fit(report, render, max_chars)
        not_read = query.unseen(snap)
        doc = to_plain(report)
        doc.update({"lower_bound": bool(report.lower_bound), "not_read": not_read if report.lower_bound else []})
        return budget.clip(render(report), max_chars), doc


def _sites(snap: Snapshot, ident: str, role: str) -> list[Link]:
    """Provider or consumer links of an entity and, for a container (service, message, table), of its
    members: what a reader means by 'who uses this'. One link per site and entity."""
    ent = snap.entity(ident)
    ids = [ident] + (navigation.children(snap, ident) if ent is not None and ent.kind in navigation.CONTAINER_KINDS else [])
    return list({(lk.repo, lk.path, lk.range, lk.entity): lk for i in ids for lk in snap.links_for(i, role)}.values())


def _origin(row: dict[str, Any], snap: Snapshot, repo: str | None = None) -> dict[str, Any]:
    """The row with `from_shard` set when its repo is known only from a shard (text another party wrote)."""
    origin = query.shard_origin(snap, repo or row["repo"])
    if origin is not None:
        row["from_shard"] = origin
    return row


def _shard_tag(row: dict[str, Any]) -> str:
    origin = row.get("from_shard")
    return f" [{clean(query.shard_label(origin))}]" if origin else ""


def _link_line(lk: Link, ident: str) -> str:
    via = f", via {lk.entity}" if lk.entity != ident else ""
    how = clean(lk.evidence or lk.kind, 120)
    return (f"- {clean(lk.service or '(no service)')}: {clean(f'{lk.repo}/{lk.path}')}:{lk.range.start_line + 1}"
            f" ({how}, confidence {lk.confidence:.2f}{via})")


def _link_data(lk: Link) -> dict[str, Any]:
    return {"service": lk.service, "repo": lk.repo, "path": lk.path, "line": lk.range.start_line + 1,
            "entity": lk.entity, "kind": lk.kind, "evidence": lk.evidence, "confidence": round(lk.confidence, 3)}


# -- the SDK side --------------------------------------------------------------------------------------
def build_server(tools: LoreTools) -> Any:
    """An `mcp` MCPServer exposing the tools. Imports the SDK (mcp>=2); ImportError when missing."""
    from contextlib import asynccontextmanager
    from typing import Annotated

    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import CallToolResult, TextContent, ToolAnnotations
    from pydantic import Field

    from lore import version as installed_version

    lore_version = installed_version()

    @asynccontextmanager
    async def lifespan(_server: Any) -> AsyncIterator[dict[str, Any]]:
        # Index while the client gets going, so the first call does not wait for a cold index alone. Started
        # here, once the transport has moved stdout out of reach, so no worker process inherits the wire.
        threading.Thread(target=tools.warm, name="lore-warm", daemon=True).start()
        yield {}

    server = MCPServer(name="lore", title="Lore", version=lore_version, instructions=INSTRUCTIONS, log_level="WARNING",
                       lifespan=lifespan)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

    def answer(name: str, call: Callable[[], Answer]) -> CallToolResult:
        try:
            text, data = call()
        except ToolFailure as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - one failing call never takes the server down
            log.exception("%s failed", name)
            raise ToolError(f"{name} failed: {exc.__class__.__name__}: {exc}") from exc
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)

    PathArg = Annotated[str, Field(description="File path: absolute, or relative to the workspace root (e.g. 'repo/src/file.go').")]
    Budget = Annotated[int, Field(ge=budget.MINIMUM, le=budget.MAXIMUM, description=(
        "Most characters in the answer: the least important items are cut first and the answer says how many."))]

    @server.tool(annotations=read_only)
    def lore_context(path: Annotated[str | None, Field(description="File path: absolute, or relative to the workspace root (e.g. 'repo/src/file.go'). With symbol, the file the symbol is in.")] = None,
                     line: Annotated[int | None, Field(ge=1, description="1-based line number (or give symbol instead).")] = None,
                     end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based) of a range.")] = None,
                     symbol: Annotated[str | None, Field(description="Instead of a line: a contract entity ID or name ('GetCart', 'CartService.GetCart', 'POST /checkout'), a service name, or with path a function/class/method name ('CartServer.GetCart').")] = None,
                     max_chars: Budget = budget.DEFAULT,
                     ) -> CallToolResult:
        """System context at a file location or for a named symbol: the owning service and owner, the
        contract entity declared or used there (protobuf/OpenAPI/GraphQL/SQL) with its providers and
        consumers in other repos, team notes, history (workarounds, reverts, hotfixes, last change), TODO/HACK
        markers and decisions (ADRs): the sections the editor's hover shows, most important first. Each fact
        cites its source; counts that may be incomplete say so. Call it before editing code you did not write."""
        return answer("lore_context", lambda: tools.context(path, line, end_line, symbol, max_chars))

    @server.tool(annotations=read_only)
    def lore_consumers(entity_id: Annotated[str, Field(description="Contract entity ID ('proto:shop.cart.v1.CartService.GetCart') or name ('CartService.GetCart', 'GetCart').")],
                       max_chars: Budget = budget.DEFAULT,
                       ) -> CallToolResult:
        """Who provides and who consumes a contract entity, across all repos, with service and file:line.
        For a service, message, schema or table this includes its members (rpcs, fields, columns)."""
        return answer("lore_consumers", lambda: tools.consumers(entity_id, max_chars))

    @server.tool(annotations=read_only)
    def lore_search(query: Annotated[str, Field(description="A name or part of one, e.g. 'CartService' or 'orders'.")],
                    limit: Annotated[int, Field(ge=1, le=MAX_SEARCH, description="Most results to return.")] = 30,
                    max_chars: Budget = budget.DEFAULT,
                    ) -> CallToolResult:
        """Find contract entities (rpcs, messages, fields, HTTP operations, GraphQL types, SQL tables) and
        services by name; exact name matches first. Returns entity IDs for lore_consumers."""
        return answer("lore_search", lambda: tools.search(query, limit, max_chars))

    @server.tool(annotations=read_only)
    def lore_diff(base: Annotated[str | None, Field(description="What to compare the working tree with: HEAD (default: uncommitted changes), a commit, branch or tag, or 'main...' (what this branch changes since it forked from main).")] = None,
                  path: Annotated[str | None, Field(description="Only this repo, folder or file (default: every repo).")] = None,
                  max_chars: Budget = budget.DEFAULT,
                  ) -> CallToolResult:
        """The context of a change, hunk by hunk, most important first: breaking contract changes with the
        consumers in other repos they break, workaround/hotfix/revert lines edited, calls to deprecated
        contracts added, contracts touched with their providers and consumers, the owners to notify, team
        notes, markers and decisions. Call it before you finish a change, and fix what it reports."""
        return answer("lore_diff", lambda: tools.diff(base, path, max_chars))

    @server.tool(annotations=read_only)
    def notes_for(path: Annotated[str, Field(description="A file or folder: absolute, or relative to the workspace root.")],
                  line: Annotated[int | None, Field(ge=1, description="Optional first line (1-based) of a range.")] = None,
                  end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based) of the range.")] = None,
                  max_chars: Budget = budget.DEFAULT,
                  ) -> CallToolResult:
        """Team notes on a file, folder or line range: what people and agents learned about that code and
        why it must stay so (warnings, incidents, decisions, tips), each with who wrote it, when, its
        references and where it is now (notes follow their code through edits and renames; a note whose
        code is gone is 'orphaned'). Read them before changing the code."""
        return answer("notes_for", lambda: tools.notes_for(path, line, end_line, max_chars))

    @server.tool(annotations=writes)
    def add_note(path: PathArg,
                 line: Annotated[int, Field(ge=1, description="First line (1-based). A single line declaring a function, method or class notes the whole declaration.")],
                 text: Annotated[str, Field(min_length=1, max_length=4000, description="What the next person or agent touching these lines must know, and why.")],
                 end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based).")] = None,
                 kind: Annotated[str, Field(pattern="^(warning|incident|decision|tip)$", description="warning | incident | decision | tip")] = "tip",
                 refs: Annotated[list[str] | None, Field(max_length=20, description="Issue keys or URLs the note rests on.")] = None,
                 agent: Annotated[str | None, Field(max_length=100, description="Your name as an agent (default: the MCP client's name).")] = None,
                 max_chars: Budget = budget.DEFAULT,
                 ctx: Context | None = None,
                 ) -> CallToolResult:
        """Record what you learned about some lines while working on them (a workaround's reason, an
        incident, a decision, a trap), so the next person or agent sees it at those lines. Writes one file,
        .lore/notes/<id>.toml, in the file's repository: commit it with your change. The note says an
        agent wrote it."""
        who = (agent or "").strip() or _client_name(ctx)
        return answer("add_note", lambda: _clipped(tools.add_note(path, line, end_line, text, kind, refs, who), max_chars))

    @server.tool(annotations=read_only)
    def lore_check(repo: Annotated[str | None, Field(description="Repo name in the workspace (default: every repo).")] = None,
                   base: Annotated[str | None, Field(description="Git ref to compare against (default: merge base with the default branch).")] = None,
                   max_chars: Budget = budget.DEFAULT,
                   ) -> CallToolResult:
        """Breaking contract changes (protobuf, OpenAPI, GraphQL, SQL) in the working tree compared with the
        baseline, each with the consumers in other repos that would break. Run it after editing contracts."""
        return answer("lore_check", lambda: tools.check(repo, base, max_chars))

    return server


def _clipped(result: Answer, max_chars: int) -> Answer:
    return budget.clip(result[0], max_chars), result[1]


def _client_name(ctx: Any) -> str:
    """The MCP client's own name (its initialize clientInfo), to say which agent wrote a note."""
    try:
        info = ctx.session.client_params.client_info
        return str(info.name)[:100] if info and info.name else ""
    except Exception:  # noqa: BLE001 - only a label
        return ""


def run(root: Path | str = ".", cache_dir: Path | None = None) -> None:
    """Serve MCP over stdin/stdout until the client disconnects."""
    build_server(LoreTools(root, cache_dir)).run("stdio")
