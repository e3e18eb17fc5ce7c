"""Run fleet work on Dask: a local cluster on this machine by default (worker processes on loopback, no
dashboard), or an existing cluster by its scheduler address (`tcp://host:8786`).

Dask rather than Ray: dask + distributed are pure-Python wheels that start a local cluster in about a
second and join a remote one with the same `Client(address)`; Ray brings a large native runtime (object
store in shared memory, several daemons per node) whose start-up and memory are a poor fit for a
2-core CI runner and a developer laptop, for work that is whole tasks (one repository each) rather than
fine-grained actors. See ARCHITECTURE.md.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexers.workspace import WorkspaceError
from lore.fleet.repos import RepoRef
from lore.fleet.task import StoreConfig, TaskFailed, index_repo
from lore.query.render import safe_text


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A Dask client: to the scheduler at `scheduler`, else to a local cluster started (and stopped) here."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise WorkspaceError("lore fleet needs Dask: pip install 'lore-lsp[org]'") from exc
    import logging

    import dask

    for name in ("distributed", "tornado"):  # the scheduler and nannies run in this process: only errors
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with dask.config.set({"distributed.worker.daemon": False, "distributed.logging.distributed": "error"}):
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s")
            except OSError as exc:
                raise WorkspaceError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from exc
            try:
                yield client
            finally:
                client.close()
            return
        import os

        n = workers or max(1, min(os.cpu_count() or 1, 8))
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
            client.run(_quiet_worker)  # a failed task is reported once, by the summary, not by worker logs
            yield client


def _quiet_worker() -> None:
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)


@dataclass
class FleetReport:
    total: int = 0
    ok: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {name, url, stage, reason}
    seconds: float = 0.0
    workers: int = 0

    def as_json(self) -> dict[str, Any]:
        by_reason: dict[str, list[str]] = defaultdict(list)
        for f in self.failed:
            by_reason[f["stage"]].append(f["name"])
        return {"total": self.total, "indexed": len(self.ok), "failed": len(self.failed),
                "failures_by_reason": {k: sorted(v) for k, v in sorted(by_reason.items())},
                "failures": self.failed, "repos": self.ok, "seconds": round(self.seconds, 3), "workers": self.workers}


def fleet_index(refs: Sequence[RepoRef], work: Path, store: StoreConfig | None, *, scheduler: str | None = None,
                workers: int | None = None, retries: int = 2, depth: int | None = 200, keep: bool = False,
                on_done: Callable[[int, int, str, str], None] | None = None) -> FleetReport:
    """Index and publish every repository on the cluster; each finished one calls on_done(done, total,
    name, 'ok' | failure)."""
    from distributed import as_completed

    t0 = time.perf_counter()
    report = FleetReport(total=len(refs))
    work.mkdir(parents=True, exist_ok=True)
    with dask_client(scheduler, workers) as client:
        report.workers = len(client.scheduler_info().get("workers", {}))
        futures = {client.submit(index_repo, r.name, r.url, str(work), store, depth, keep, key=f"lore-index-{r.name}",
                                 retries=retries, pure=False): r for r in refs}
        for done, fut in enumerate(as_completed(futures), 1):
            ref = futures[fut]
            if fut.status == "finished":
                report.ok.append(fut.result())
                status = "ok"
            else:
                exc = fut.exception()
                stage = exc.stage if isinstance(exc, TaskFailed) else "error"
                reason = exc.message if isinstance(exc, TaskFailed) else f"{exc.__class__.__name__}: {exc}"
                report.failed.append({"name": ref.name, "url": ref.url, "stage": stage, "reason": reason})
                status = f"{stage}: {reason}"
            if on_done is not None:
                on_done(done, len(refs), ref.name, status)
    report.ok.sort(key=lambda r: r["name"])
    report.failed.sort(key=lambda r: r["name"])
    report.seconds = time.perf_counter() - t0
    return report


def print_progress(done: int, total: int, name: str, status: str) -> None:
    print(safe_text(f"[{done}/{total}] {name}: {status}"), file=sys.stderr, flush=True)
