"""`lore shards publish` and `lore shards pull`: the shard store (indexers.shardstore) from the command line.

`publish` uploads shards written by `lore index --export` (checked first, then the shard object, then
the repo's index object); `pull` brings the workspace's local mirror of its `[shards] source` up to date,
fetching only what changed. Exit codes: 0 done (a pull that could not reach the store or rejected a
shard says so and keeps the last good copies; `--strict` makes that 1), 1 the store failed, 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from indexers.shard import ShardError
from indexers.shardstore.layout import StoreError
from indexers.store import default_root
from indexers.workspace import WorkspaceError, discover
from lore.cli.errors import friendly
from lore.cli.output import echo, echo_json
from lore.query.render import safe_json


@click.group()
def shards() -> None:
    """Publish shards to a shard store and pull the workspace's shards from it."""


def _source(to: str | None, endpoint_url: str | None) -> tuple[str, str | None, str | None]:
    if to:
        return to, endpoint_url, None
    try:
        ws = discover(".")
    except WorkspaceError:
        ws = None
    if ws is None or ws.shard_source is None:
        raise WorkspaceError("no shard store: pass --to s3://bucket/prefix or set [shards] source in lore.toml")
    src = ws.shard_source
    return src.url, endpoint_url or src.endpoint_url, src.region


@shards.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", default=None, metavar="URL", help="Store URL (default: [shards] source in lore.toml).")
@click.option("--endpoint-url", default=None, help="S3 endpoint (default: [shards] endpoint_url or AWS_ENDPOINT_URL).")
@click.option("--branch", default="", help="The branch the shard was built from (recorded in the index).")
@click.option("--no-index", is_flag=True, help="Upload the shard only; leave the repo's index pointing where it was.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per shard.")
@friendly
def publish(files: tuple[Path, ...], to: str | None, endpoint_url: str | None, branch: str, no_index: bool,
            as_json: bool) -> None:
    """Publish shard FILES (from `lore index --export`) to the shard store."""
    from indexers.shardstore.publish import publish_file
    from indexers.shardstore.s3 import open_store

    url, endpoint, region = _source(to, endpoint_url)
    try:
        store = open_store(url, endpoint, region)
        for f in files:
            pub = publish_file(store, f, branch=branch, update_index=not no_index)
            if as_json:
                echo(safe_json({"repo": pub.repo, "commit": pub.commit, "url": pub.url, "sha256": pub.sha256,
                                "size": pub.size, "uploaded": pub.uploaded}, indent=None))
            else:
                what = "published" if pub.uploaded else "already in the store:"
                echo(f"{what} {pub.repo}@{(pub.commit or 'no commit')[:12]} -> {pub.url} ({pub.size} bytes)")
    except ShardError as exc:
        echo(f"lore: {exc}", err=True)
        sys.exit(2)
    except StoreError as exc:
        echo(f"lore: {exc}", err=True)
        sys.exit(1)


@shards.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache folder (default: $LORE_CACHE or $XDG_CACHE_HOME/lore).")
@click.option("--json", "as_json", is_flag=True, help="Print the pull report as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 when the store was unreachable or a shard was rejected.")
@friendly
def pull(path: Path, cache_dir: Path | None, as_json: bool, strict: bool) -> None:
    """Fetch what changed in the workspace's shard store ([shards] in lore.toml) into the local mirror."""
    from indexers.shardstore.mirror import mirror_dir
    from indexers.shardstore.mirror import pull as do_pull
    from indexers.shardstore.s3 import open_store

    ws = discover(path)
    src = ws.shard_source
    if src is None:
        raise WorkspaceError(f"{ws.config_path or ws.root}: no [shards] source to pull from")
    mirror = mirror_dir(cache_dir or default_root(), src.url)
    try:
        store = open_store(src.url, src.endpoint_url, src.region)
    except StoreError as exc:
        echo(f"lore: {exc}", err=True)
        sys.exit(1)
    report = do_pull(store, mirror, src.repos)
    if as_json:
        echo_json(report.as_json())
    else:
        echo(f"{report.store}: {report.listed} repo(s) listed, {len(report.updated)} updated, {report.unchanged} "
                   f"unchanged, {len(report.removed)} removed, {len(report.failed)} rejected ({report.seconds:.2f}s)")
        for u in report.updated:
            echo(f"  updated {u}")
    if report.offline:
        echo(f"lore: store unreachable: {report.offline}", err=True)
    for f in report.failed:
        echo(f"lore: {f['reason']}; {f['kept']}", err=True)
    if strict and (report.offline or report.failed):
        sys.exit(1)
