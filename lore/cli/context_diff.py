"""`lore context --diff [BASE] [PATH]`: the context of a change, hunk by hunk (`lore.query.changes`).

Text: the hunks that have something to say, each with its sections; a last line counts the rest. JSON
(`--json`): every hunk of every changed file, `{"repo", "base", "files": [{"path", "old_path", "hunks":
[{"hunk": {...}, "sections": [...]}]}]}` per repo.
"""

from __future__ import annotations

from pathlib import Path

from indexers import git
from indexers.model import to_plain
from indexers.workspace import RepoSpec, WorkspaceError
from lore.cli.output import echo, echo_json
from lore.query.changes import DiffContext, diff_context
from lore.query.render import clean


def context_diff(path: Path, base: str, cache_dir: Path | None, as_json: bool) -> None:
    from lore.cli.main import open_engine

    if not path.exists():
        raise WorkspaceError(f"{path}: no such file or folder")
    ws, engine = open_engine(path, cache_dir)
    target = path.absolute()
    found = ws.locate(target)
    scopes: list[tuple[RepoSpec, tuple[str, ...]]]
    if found is not None and found[1] not in ("", ".") and not found[1].startswith("../"):
        scopes = [(found[0], (found[1],))]
    elif found is not None:
        scopes = [(found[0], ())]
    else:
        scopes = [(r, ()) for r in ws.repos]
    if not scopes:
        raise WorkspaceError(f"{path}: no repository to compare")
    snap, report = engine.refresh()
    for msg in report.messages:
        echo(f"lore: {msg}", err=True)
    results: list[DiffContext] = []
    for repo, paths in scopes:
        try:
            results.append(diff_context(snap, repo.name, repo.root, base, paths))
        except git.GitError as exc:
            raise WorkspaceError(f"{repo.name}: {exc}") from exc
    if as_json:
        echo_json([to_plain(r) for r in results])
        return
    echo(render(results, base))


def render(results: list[DiffContext], base: str) -> str:
    out: list[str] = []
    hunks = quiet = 0
    for res in results:
        for f in res.files:
            shown = [h for h in f.hunks if any(s.notes for s in h.sections)]
            hunks += len(f.hunks)
            quiet += len(f.hunks) - len(shown)
            if not shown:
                continue
            name = f.path or f.old_path
            renamed = f" (renamed from {f.old_path})" if f.old_path and f.path and f.old_path != f.path else ""
            deleted = " (deleted)" if not f.path else ""
            out.append(clean(f"{res.repo}/{name}{renamed}{deleted}", 600))
            for h in shown:
                k = h.hunk
                out.append(f"  @@ -{k.old_start},{k.old_count} +{k.new_start},{k.new_count} @@")
                for sec in h.sections:
                    if not sec.notes:
                        continue
                    out.append(f"    {clean(sec.title)}")
                    out.extend(f"      - {clean(n.text)}  [{clean(n.source, 200)}]" for n in sec.notes)
    sha = results[0].base[:12] if results else base
    out.append(f"{hunks} hunk{'s' if hunks != 1 else ''} against {clean(base)} ({sha})"
               + (f"; {quiet} with nothing to say" if quiet else ""))
    return "\n".join(out)
