"""`lore fleet index` and `lore fleet graph`: organisation scale on Dask (lore.fleet)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from lore.cli.errors import friendly
from lore.cli.output import echo, echo_json


@click.group()
def fleet() -> None:
    """Index many repositories in parallel and build the organisation graph (Dask: local or a cluster)."""


@fleet.command("index")
@click.argument("repos_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", default=None, metavar="URL", help="Publish shards to this store (s3://bucket/prefix); "
              "without it they are written under --work.")
@click.option("--endpoint-url", default=None, help="S3 endpoint (default: AWS_ENDPOINT_URL).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--workers", type=click.IntRange(1, 512), default=None, help="Local cluster workers (default: cores, at most 8).")
@click.option("--retries", type=click.IntRange(0, 10), default=2, help="Retries per repository.")
@click.option("--depth", type=click.IntRange(0), default=200, help="Shallow clone depth (history mined); 0 for full history.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None, help="Work folder (default: a temporary one).")
@click.option("--keep", is_flag=True, help="Keep the checkouts under --work.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly
def index_cmd(repos_file: Path, to: str | None, endpoint_url: str | None, scheduler: str | None, workers: int | None,
              retries: int, depth: int, work: Path | None, keep: bool, as_json: bool) -> None:
    """Clone (shallow, hooks and filters off), index and publish every repository in REPOS_FILE
    (`URL [NAME]` per line). Exit 0: all indexed; 1: some failed (summary by reason); 2: usage."""
    from lore.fleet.repos import parse_repo_list
    from lore.fleet.run import fleet_index, print_progress
    from lore.fleet.task import StoreConfig

    if to is None and work is None:
        raise click.UsageError("pass --to s3://bucket/prefix to publish the shards, or --work DIR to keep them there")
    refs = parse_repo_list(repos_file)
    store = StoreConfig(to, endpoint_url) if to else None
    if store is not None:
        from indexers.shardstore.layout import StoreError, StoreURL

        try:
            StoreURL.parse(to or "")
        except StoreError as exc:
            raise click.UsageError(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="lore-fleet-") as tmp:
        base = work or Path(tmp)
        report = fleet_index(refs, base, store, scheduler=scheduler, workers=workers, retries=retries,
                             depth=depth or None, keep=keep, on_done=print_progress)
    doc = report.as_json()
    if as_json:
        echo_json(doc)
    else:
        echo(f"{doc['indexed']}/{doc['total']} repositories indexed on {doc['workers']} worker(s) in {doc['seconds']:.1f}s")
        for stage, names in doc["failures_by_reason"].items():
            echo(f"  {stage} failed: {len(names)} ({', '.join(names[:10])}{', ...' if len(names) > 10 else ''})")
        for f in doc["failures"][:20]:
            echo(f"  {f['name']}: {f['stage']}: {f['reason']}")
    if report.failed:
        sys.exit(1)


@fleet.command("graph")
@click.option("--from", "source", default=None, metavar="URL", help="Shard store to pull first (default: [shards] source in lore.toml).")
@click.option("--shards", "shards_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Build from the .lore-shard files in this folder instead of a store.")
@click.option("--endpoint-url", default=None, help="S3 endpoint (default: AWS_ENDPOINT_URL).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("lore-org-graph"),
              show_default=True, help="Output folder.")
@click.option("--partitions", type=click.IntRange(1, 4096), default=8, show_default=True, help="Partitions of the link join (by entity id).")
@click.option("--chunk", type=click.IntRange(1, 100_000), default=50, show_default=True, help="Repositories per task.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--workers", type=click.IntRange(1, 512), default=None, help="Local cluster workers (default: cores, at most 8).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Cache folder (the store's mirror).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@friendly
def graph_cmd(source: str | None, shards_dir: Path | None, endpoint_url: str | None, out: Path, partitions: int, chunk: int,
              scheduler: str | None, workers: int | None, cache_dir: Path | None, as_json: bool) -> None:
    """Build the organisation graph (entities, services, providers and consumers per entity) from every
    shard in the store, on Dask, the link join partitioned by entity id."""
    from indexers.shard import SUFFIX
    from indexers.shardstore.mirror import mirror_dir, mirrored_shards, pull
    from indexers.shardstore.s3 import open_store
    from indexers.store import default_root
    from indexers.workspace import WorkspaceError, discover
    from lore.fleet.graph import build_graph
    from lore.fleet.run import dask_client

    if shards_dir is not None:
        paths = sorted(shards_dir.glob(f"*{SUFFIX}"))
    else:
        region = None
        if source is None:
            try:
                src = discover(".").shard_source
            except WorkspaceError:
                src = None
            if src is None:
                raise WorkspaceError("no shards: pass --from s3://bucket/prefix, --shards DIR, or set [shards] source in lore.toml")
            source, endpoint_url, region = src.url, endpoint_url or src.endpoint_url, src.region
        mirror = mirror_dir(cache_dir or default_root(), source)
        pulled = pull(open_store(source, endpoint_url, region), mirror)
        if pulled.offline:
            echo(f"lore: store unreachable: {pulled.offline}", err=True)
        for f in pulled.failed:
            echo(f"lore: {f['reason']}; {f['kept']}", err=True)
        paths = mirrored_shards(mirror, ["*"])
    if not paths:
        raise WorkspaceError("no shards to build the graph from")
    with dask_client(scheduler, workers) as client:
        report = build_graph(client, paths, out, partitions=partitions, chunk=chunk,
                             on_step=lambda msg: echo(f"lore: {msg}", err=True))
    doc = report.as_json()
    if as_json:
        echo_json(doc)
    else:
        echo(f"{doc['repos']} repos, {doc['entities']} entities, {doc['services']} services, {doc['links']} links "
                   f"in {doc['seconds']['total']:.1f}s -> {out}")
    for msg in report.rejected:
        echo(f"lore: {msg}", err=True)
