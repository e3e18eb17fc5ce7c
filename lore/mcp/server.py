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
from lore.notes.write import NoteError
from lore.notes.write import add_note as write_note
from lore.query import context as query
from lore.query import navigation
from lore.query import notes as notes_query
from lore.query.render import clean, render_sections_plain

log = logging.getLogger(__name__)

MAX_LINKS = 200  # provider/consumer rows per role in one answer
MAX_SEARCH = 200
MAX_RANGE = 2000  # lines in one lore_context range

INSTRUCTIONS = (
    "Lore indexes the git repositories of one software system. Before changing code, call lore_context "
    "on the file and line to learn the owning service, the data contract (protobuf/OpenAPI/GraphQL/SQL) "
    "used or declared there with its providers and consumers in other repos, and history (workarounds, "
    "reverts, hotfixes, TODO/HACK markers, decisions) and operations (the alerts, SLOs and dashboards that read a "
    "metric or span, a flag's definition and evaluation sites, a route's auth guard, the pipeline that ships "
    "the service). lore_search finds contract entities and services "
    "by name; lore_consumers lists who provides and consumes an entity; lore_check reports breaking "
    "contract changes, and removed metrics, labels, spans and flags that production reads, in the working "
    "tree and which consumers they break. Every fact cites its source "
    "(repo/path:line or a commit). Team notes are what people and agents learned about some lines (why "
    "the code must stay so): lore_context shows them, notes_for lists them for a file or range, and "
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
        if found is None or (not found[1] and not folders) or found[1].startswith("../"):
            names = ", ".join(r.name for r in self.ws.repos)
            raise ToolFailure(f"{path}: not inside any repo of the workspace at {self.ws.root} (repos: {names})")
        repo, rel = found
        try:
            real = p.resolve()
            real.relative_to(repo.root.resolve())
        except (OSError, ValueError) as exc:
            raise ToolFailure(f"{path}: resolves outside the repo {repo.name}") from exc
        if folders and real.is_dir():
            return repo, rel, real
        if not real.is_file():
            raise ToolFailure(f"{path}: no such file in repo {repo.name}" if not real.exists() else f"{path}: not a file")
        return repo, rel, real

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
    def context(self, path: str, line: int, end_line: int | None = None) -> Answer:
        """Sections for a location (1-based line, optional last line of a range)."""
        return self._guarded(lambda: self._context(path, line, end_line))

    def _context(self, path: str, line: int, end_line: int | None) -> Answer:
        repo, rel, real = self.locate(path)
        total = max(self._line_count(real), 1)
        if line < 1 or line > total:
            raise ToolFailure(f"line {line} is outside {repo.name}/{rel} (1..{total})")
        if end_line is not None and (end_line < line or end_line > total):
            raise ToolFailure(f"end_line {end_line} must be between line {line} and {total}")
        if end_line is not None and end_line - line >= MAX_RANGE:
            raise ToolFailure(f"range too long: at most {MAX_RANGE} lines at a time")
        snap = self._snapshot()
        ctx = query.context(snap, repo.name, rel, line - 1, None, end_line - 1 if end_line else None)
        where = f"{repo.name}/{rel}:{line}" + (f"-{end_line}" if end_line and end_line != line else "")
        out = [f"Lore context for {clean(where)}"]
        body = render_sections_plain(ctx.sections)
        out.append(body or "Lore knows nothing about this location (no service, contract, history, markers or decisions).")
        if ctx.entity_ids:
            out.append("Entity IDs here (for lore_consumers): " + ", ".join(ctx.entity_ids))
        if ctx.problems:
            out.append("## Problems in this file\n" + "\n".join(f"- {clean(p)}" for p in ctx.problems[:10]))
        return "\n".join(out), to_plain(ctx)

    def notes_for(self, path: str, line: int | None = None, end_line: int | None = None) -> Answer:
        """Team notes on a file (or folder), or on a line range of a file (1-based)."""
        return self._guarded(lambda: self._notes_for(path, line, end_line))

    def _notes_for(self, path: str, line: int | None, end_line: int | None) -> Answer:
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
        out = [f"{len(found)} team note{'s' if len(found) != 1 else ''} on {clean(where)}:"]
        rows = []
        for p in found:
            note = notes_query.to_note(p)
            state = "orphaned (its code is gone), last seen at " if not p.at.attached else ""
            out.append(f"- {clean(note.text, 4000)} [{state}{clean(p.at.path)}:{p.at.start_line + 1}-{p.at.end_line + 1}; "
                       f"note {p.note.id}, {clean(note.source)}]")
            rows.append(note.data)
        return "\n".join(out), {"path": rel, "repo": repo.name, "notes": rows}

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

    def consumers(self, entity_id: str) -> Answer:
        return self._guarded(lambda: self._consumers(entity_id.strip()))

    def _consumers(self, ident: str) -> Answer:
        snap = self._snapshot()
        ent = snap.entity(ident)
        if ent is None:
            raise ToolFailure(f"unknown contract entity {ident!r}; find IDs with lore_search or lore_context")
        decls = [_origin({"repo": d.repo, "path": d.path, "line": d.range.start_line + 1}, snap) for d in snap.declarations(ident)]
        out = [f"{ident}: {query.describe_entity(ent)}"]
        out += [f"- {'canonical declaration' if i == 0 and len(decls) > 1 else 'declared'} at {d['repo']}/{d['path']}:{d['line']}{_shard_tag(d)}"
                if i == 0 else f"- copy at {d['repo']}/{d['path']}:{d['line']}{_shard_tag(d)}" for i, d in enumerate(decls)]
        out += [f"- {n.text}" for n in query.copy_notes(snap, ent) if n.kind in ("drift", "conflict")]
        not_read = query.unseen(snap)
        if not_read:
            out.append(f"Counts below are a lower bound; not read: {'; '.join(not_read)}")
        data: dict[str, Any] = {"entity": {"id": ident, "kind": ent.kind, "name": ent.name, "declarations": decls},
                                "lower_bound": bool(not_read), "not_read": not_read}
        for role, label in (("provides", "providers"), ("consumes", "consumers")):
            links = sorted(_sites(snap, ident, role), key=lambda lk: (lk.service, lk.repo, lk.path, lk.range))
            repos = sorted({lk.repo for lk in links})
            out.append(f"{label.capitalize()}: {len(links)} site{'' if len(links) == 1 else 's'} in {len(repos)} "
                       f"repo{'' if len(repos) == 1 else 's'}" if links else f"{label.capitalize()}: none known")
            out += [_link_line(lk, ident) + _shard_tag(_origin({}, snap, lk.repo)) for lk in links[:MAX_LINKS]]
            if len(links) > MAX_LINKS:
                out.append(f"- ... and {len(links) - MAX_LINKS} more")
            data[label] = [_origin(_link_data(lk), snap) for lk in links[:MAX_LINKS]]
            data[f"{label}_total"] = len(links)
        return "\n".join(out), data

    def search(self, text: str, limit: int = 30) -> Answer:
        return self._guarded(lambda: self._search(text.strip(), limit))

    def _search(self, text: str, limit: int) -> Answer:
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
        if not rows:
            return f"No contract entity or service matches {text!r}.", {"query": text, "results": []}
        out = [f"{len(rows)} match{'es' if len(rows) != 1 else ''} for {clean(text)!r}:"]
        for r in rows:
            what = f"service {r['name']} ({r['root']})" if r["kind"] == "service" else f"{r['id']} ({r['kind']}, {r['consumer_sites']} consumer site{'' if r['consumer_sites'] == 1 else 's'})"
            out.append(f"- {clean(what)} [{clean(r['repo'] + '/' + r['path'])}:{r['line']}]{_shard_tag(r)}")
        return "\n".join(out), {"query": text, "results": rows}

    def check(self, repo: str | None = None, base: str | None = None) -> Answer:
        return self._guarded(lambda: self._check(repo, base))

    def _check(self, repo_name: str | None, base: str | None) -> Answer:
        if repo_name:
            spec = self.ws.repo(repo_name.strip())
            if spec is None:
                raise ToolFailure(f"unknown repo {repo_name!r} (repos: {', '.join(r.name for r in self.ws.repos)})")
            specs = [spec]
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
        doc = {"breaking": breaking,
               "results": [{"repo": r, "base": res.base.split("@", 1)[-1], "findings": to_plain(res.findings),
                            "notes": res.notes} for r, res in results]}
        return head + ".\n" + render_check(results), doc


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

    @server.tool(annotations=read_only)
    def lore_context(path: PathArg,
                     line: Annotated[int, Field(ge=1, description="1-based line number.")],
                     end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based) of a range.")] = None,
                     ) -> CallToolResult:
        """System context at a file location: the owning service and owner, the contract entity declared or
        used there (protobuf/OpenAPI/GraphQL/SQL) with its providers and consumers in other repos, history
        (workarounds, reverts, hotfixes, last change), TODO/HACK markers and decisions (ADRs). Each fact
        cites its source. Call it before editing code you did not write."""
        return answer("lore_context", lambda: tools.context(path, line, end_line))

    @server.tool(annotations=read_only)
    def lore_consumers(entity_id: Annotated[str, Field(description="Contract entity ID, e.g. 'proto:shop.cart.v1.CartService.GetCart' (from lore_search or lore_context).")],
                       ) -> CallToolResult:
        """Who provides and who consumes a contract entity, across all repos, with service and file:line.
        For a service, message, schema or table this includes its members (rpcs, fields, columns)."""
        return answer("lore_consumers", lambda: tools.consumers(entity_id))

    @server.tool(annotations=read_only)
    def lore_search(query: Annotated[str, Field(description="A name or part of one, e.g. 'CartService' or 'orders'.")],
                    limit: Annotated[int, Field(ge=1, le=MAX_SEARCH, description="Most results to return.")] = 30,
                    ) -> CallToolResult:
        """Find contract entities (rpcs, messages, fields, HTTP operations, GraphQL types, SQL tables) and
        services by name; exact name matches first. Returns entity IDs for lore_consumers."""
        return answer("lore_search", lambda: tools.search(query, limit))

    @server.tool(annotations=read_only)
    def notes_for(path: Annotated[str, Field(description="A file or folder: absolute, or relative to the workspace root.")],
                  line: Annotated[int | None, Field(ge=1, description="Optional first line (1-based) of a range.")] = None,
                  end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based) of the range.")] = None,
                  ) -> CallToolResult:
        """Team notes on a file, folder or line range: what people and agents learned about that code and
        why it must stay so (warnings, incidents, decisions, tips), each with who wrote it, when, its
        references and where it is now (notes follow their code through edits and renames; a note whose
        code is gone is 'orphaned'). Read them before changing the code."""
        return answer("notes_for", lambda: tools.notes_for(path, line, end_line))

    @server.tool(annotations=writes)
    def add_note(path: PathArg,
                 line: Annotated[int, Field(ge=1, description="First line (1-based). A single line declaring a function, method or class notes the whole declaration.")],
                 text: Annotated[str, Field(min_length=1, max_length=4000, description="What the next person or agent touching these lines must know, and why.")],
                 end_line: Annotated[int | None, Field(ge=1, description="Optional last line (1-based).")] = None,
                 kind: Annotated[str, Field(pattern="^(warning|incident|decision|tip)$", description="warning | incident | decision | tip")] = "tip",
                 refs: Annotated[list[str] | None, Field(max_length=20, description="Issue keys or URLs the note rests on.")] = None,
                 agent: Annotated[str | None, Field(max_length=100, description="Your name as an agent (default: the MCP client's name).")] = None,
                 ctx: Context | None = None,
                 ) -> CallToolResult:
        """Record what you learned about some lines while working on them (a workaround's reason, an
        incident, a decision, a trap), so the next person or agent sees it at those lines. Writes one file,
        .lore/notes/<id>.toml, in the file's repository: commit it with your change. The note says an
        agent wrote it."""
        who = (agent or "").strip() or _client_name(ctx)
        return answer("add_note", lambda: tools.add_note(path, line, end_line, text, kind, refs, who))

    @server.tool(annotations=read_only)
    def lore_check(repo: Annotated[str | None, Field(description="Repo name in the workspace (default: every repo).")] = None,
                   base: Annotated[str | None, Field(description="Git ref to compare against (default: merge base with the default branch).")] = None,
                   ) -> CallToolResult:
        """Breaking contract changes (protobuf, OpenAPI, GraphQL, SQL) in the working tree compared with the
        baseline, each with the consumers in other repos that would break. Run it after editing contracts."""
        return answer("lore_check", lambda: tools.check(repo, base))

    return server


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
