"""A `lore index` in a new process where a few files changed and declare what they declared before: the
saved run patched instead of every file's facts read back and the whole workspace linked again.

A full run of a workspace rebuilds its Snapshot from every file's facts (on 276k entities: seconds of
reading records, resolving contracts and linking) even when one file changed. When the files that
changed declare exactly what they declared before (see `indexers.persist.patch`: the same entities,
services, decisions and team notes; usages and markers present exactly when they were; the same
cross-file usages) and HEAD has not moved, only their own links, possible links, operational usages and
errors can change. Then the run extracts them, relinks them alone against the saved entities, and writes
the records that hold them, the new manifests and a summary the next no-op run and `lore context` read:
everything a full run would have written. Anything else (a new or removed file, a
changed declaration, a moved HEAD, shards, another configuration) is a full run, as before.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from typing import Any

from indexers import persist, summary
from indexers.indexer import Indexer, _reason, fact_counts
from indexers.model import FileFacts
from indexers.plan import IndexReport, manifest_digest
from indexers.store import Store
from indexers.workspace import Workspace

QUICK_LIMIT = 64  # changed files up to which a run patches the saved one


def patch_saved(ws: Workspace, store: Store, indexer: Indexer, planned: Any = None) -> IndexReport | None:
    """The report of a run that patched the saved one (see the module doc), or None when this run must be
    a full one (then nothing was written: the full run reads the changed files again and reports them as
    a run that patched nothing would). `planned`: what `indexers.summary.unchanged` planned.
    Raises CacheError when the cache cannot be written."""
    from indexers.sources import registry

    if ws.shards or ws.shard_source is not None:
        return None
    prev = summary.saved(ws, store)
    if prev is None or prev.get("fingerprint") != registry.fingerprint():
        return None
    if planned is None and any(manifest_digest(store.manifest(r.name)) != prev["repos"][r.name]["digest"] for r in ws.repos):
        # another process (the server) indexed since the saved run: the records are not what the manifests
        # say (with `planned`, summary.unchanged compared them already)
        return None
    t0 = planned[2] if planned is not None else time.perf_counter()
    report, fresh = indexer.run(assemble=False, planned=planned)
    if report.removed or len(report.changed) > QUICK_LIMIT or not indexer.wrote:
        return None
    for info in report.repos:
        mine = prev["repos"].get(info["name"])
        if info.get("error") or mine is None or (info.get("head"), bool(info.get("shallow"))) != (mine["head"], mine["shallow"]):
            return None  # another HEAD: its history is mined by a full run
    by_key = {(ff.repo, ff.path): ff for flist in fresh.values() for ff in flist}
    changed = [by_key[k] for k in report.changed if k in by_key]
    if len(changed) != len(report.changed):
        return None
    t1 = time.perf_counter()
    run = secrets.token_hex(8)
    patched = persist.patch(store, ws, prev["run"], run, [(ff, indexer.manifests[ff.repo][ff.path].vkey) for ff in changed])
    if patched is None:
        return None
    _finish(report, prev, changed, patched)
    for info in report.repos:
        info.update(prev["repos"][info["name"]]["extra"])
    report.messages.extend(ws.warnings)
    report.messages.extend(prev["tail"])
    report.warnings = list(prev["warnings"])
    digests = {name: manifest_digest(m) for name, m in indexer.manifests.items()}
    value = summary.record(ws, report, fingerprint=prev["fingerprint"], digests=digests,
                           load_errors=list(prev["load_errors"]), tail=list(prev["tail"]), run=run)
    records: list[tuple[tuple[Any, ...], Any]] = [(Store.facts_key(r, p, st.sha256, st.vkey), ff)
                                                    for r, p, st, ff in indexer.unwritten]
    records += [(Store.manifest_key(name), indexer.manifests[name]) for name in sorted(indexer.moved)]
    records += patched.records
    records.append((summary.key(ws), value))
    store.set_many(records)  # all of the run or none of it
    report.timings["history"] = 0.0
    report.timings["link"] = time.perf_counter() - t1
    report.seconds = time.perf_counter() - t0
    return report


def _finish(report: IndexReport, prev: dict[str, Any], changed: list[FileFacts], patched: persist.Patched) -> None:
    """The report's fact counts and failed files: the last run's, with the changed files' before and after."""
    facts: Counter[str] = Counter(prev["facts"])
    for old in patched.old:
        facts.subtract(fact_counts(old))
    for ff in changed:
        facts.update(fact_counts(ff))
    facts["link"] = patched.links
    report.facts = facts
    keys = {(ff.repo, ff.path) for ff in changed}
    seen = {(f["repo"], f["path"]) for f in report.failed}
    for f in prev["failed"]:
        if (f["repo"], f["path"]) not in keys and (f["repo"], f["path"]) not in seen:
            report.failed.append(f)
            seen.add((f["repo"], f["path"]))
    for ff in changed:
        if ff.errors and (ff.repo, ff.path) not in seen:
            report.failed.append({"repo": ff.repo, "path": ff.path, "reason": _reason(ff)})
    report.failed.sort(key=lambda f: (f["repo"], f["path"]))

