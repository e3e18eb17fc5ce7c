"""`lore review [PATH] [--base REF]`: the context of a change as one pull-request comment in markdown
(`lore.review`), written to stdout or `--output`, or posted with `--post github|gitlab` as ONE comment per
pull request that later runs update in place.

The base defaults to the merge base with the default branch (as `lore check`); `--base REF` compares with
the merge base of REF and HEAD (what a pull request changes). Exit 0 when the comment was written or
posted; 1 when the code host refused it; 2 for usage and configuration errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from indexers.workspace import WorkspaceError
from lore.cli.errors import friendly
from lore.cli.output import echo
from lore.review.links import MODES, LinkError, links
from lore.review.markdown import GITHUB_LIMIT, MARKER, render_markdown
from lore.review.post import PostError, github_target, gitlab_target, post
from lore.review.report import ReviewError, build_report, fit


@click.command("review")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--base", "base_ref", default=None, metavar="REF",
              help="Compare with the merge base of REF and HEAD (default: the default branch; HEAD: uncommitted changes).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
@click.option("--max-chars", type=click.IntRange(500, GITHUB_LIMIT), default=60_000, show_default=True,
              help="Cut the least important notes until the comment fits, saying what was cut.")
@click.option("--links", "link_mode", type=click.Choice(MODES), default="auto", show_default=True,
              help="Link citations to the code host (github, gitlab: the repository under review, from the CI "
                   "environment), to paths relative to the workspace, or not at all; auto picks by CI.")
@click.option("--link-template", default=None, metavar="URL",
              help="Link every repo's lines by a template: {repo}, {path}, {line}, {sha}.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the comment to FILE.")
@click.option("--post", "post_to", type=click.Choice(["github", "gitlab"]), default=None,
              help="Post (or update) the pull request's comment through the code host's API.")
@click.option("--pr", type=click.IntRange(1), default=None, help="With --post: the pull / merge request number (default: from CI).")
@click.option("--marker", default=MARKER, show_default=True, help="The hidden first line that identifies the comment.")
@friendly
def review(path: Path, base_ref: str | None, cache_dir: Path | None, max_chars: int, link_mode: str, link_template: str | None,
           output: Path | None, post_to: str | None, pr: int | None, marker: str) -> None:
    """The context of a change (PATH: a workspace, repo, folder or file) as a pull-request comment."""
    from lore.cli.context_diff import open_change
    from lore.cli.main import LoreUsageError

    if not (marker.startswith("<!--") and marker.endswith("-->") and "\n" not in marker and "--" not in marker[4:-3]):
        raise LoreUsageError("--marker must be one HTML comment, e.g. '<!-- lore-review -->'")
    ws, scopes, snap = open_change(path, cache_dir)
    try:
        found = build_report(snap, ws, scopes, f"{base_ref}..." if base_ref else "")
        heads = {name: (info.head or "") for name, info in snap.repos.items()}
        repos = {r: (heads.get(r, ""), sha) for r, sha in found.repos}
        reviewed = next((s.name for s, _p in scopes if s.root.resolve() == Path(os.getcwd()).resolve()), scopes[0][0].name)
        target = links(link_mode, link_template, repos, reviewed)
    except ReviewError as exc:
        raise WorkspaceError(str(exc)) from exc
    except LinkError as exc:
        raise LoreUsageError(str(exc)) from exc
    body = render_markdown(fit(found, lambda r: render_markdown(r, target, marker=marker), max_chars), target, marker=marker)
    if output is not None:
        try:
            output.write_text(body, encoding="utf-8")
        except OSError as exc:
            raise LoreUsageError(f"--output {output}: {exc.strerror or exc}") from exc
    elif post_to is None:
        echo(body, nl=False)
    if post_to is not None:
        try:
            where = github_target(os.environ, pr) if post_to == "github" else gitlab_target(os.environ, pr)
            done = post(where, body, marker, empty=not found.hunks)
        except PostError as exc:
            echo(f"lore: {exc}", err=True)
            sys.exit(2 if exc.usage else 1)
        echo(f"lore: review comment {done}", err=True)
