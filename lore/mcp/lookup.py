"""What an agent names, turned into a place Lore can answer about: a contract entity by its ID or its name
(`GetCart`, `CartService.GetCart`, `POST /checkout`), a service by name, or a function/class/method of
one file by its name path (`CartServer.GetCart`, from `indexers.notes.symbols`).

Names that match nothing come back with the nearest names Lore knows (difflib), names that match several
entities with the candidates' IDs: an error an agent can act on, never a guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from indexers.model import Entity
from indexers.notes.symbols import symbols
from indexers.snapshot import Snapshot

MAX_CANDIDATES = 8


class LookupError_(ValueError):  # noqa: N801 - not the builtin LookupError
    """A name that matches nothing (with the nearest names) or several things (with the candidates)."""


@dataclass(frozen=True)
class Place:
    repo: str
    path: str
    line: int  # 0-based
    end_line: int | None  # 0-based, inclusive
    what: str  # what the name resolved to, for the answer's first line
    entity: str = ""  # the entity ID when it is one


def _names(snap: Snapshot) -> list[str]:
    out = {e.name for decls in snap.entities.values() for e in decls[:1]} | set(snap.entities)
    if snap.services is not None:
        out |= {s.name for s in snap.services.services}
    return sorted(out)


def nearest(snap: Snapshot, name: str, extra: list[str] | None = None, n: int = 5) -> list[str]:
    pool = _names(snap) + list(extra or [])
    lowered = {p.lower(): p for p in pool}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    if len(found) < n:  # a part of a longer name: 'GetCar' -> 'GetCart', 'cart.v1.Cart' -> IDs holding it
        found += [k for k in lowered if name.lower() in k and k not in found][: n - len(found)]
    return [lowered[f] for f in found]


def entities_named(snap: Snapshot, name: str) -> list[Entity]:
    """Entities whose ID is `name`, or ends with it after a separator, or whose name is `name`; exact case
    first, then any case. One per ID (the canonical declaration)."""
    name = name.strip()
    if not name:
        return []
    if name in snap.entities and snap.entities[name]:
        return [snap.entities[name][0]]
    for fold in (False, True):
        q = name.lower() if fold else name
        hits = []
        for ident, decls in snap.entities.items():
            if not decls:
                continue
            i, n = (ident.lower(), decls[0].name.lower()) if fold else (ident, decls[0].name)
            if n == q or i.endswith(("." + q, ":" + q)):
                hits.append(decls[0])
        if hits:
            return sorted(hits, key=lambda e: e.id)
    return []


def entity(snap: Snapshot, name: str) -> Entity:
    """The one entity `name` names; LookupError_ naming the candidates or the nearest names."""
    hits = entities_named(snap, name)
    if len(hits) == 1:
        return hits[0]
    if hits:
        ids = ", ".join(e.id for e in hits[:MAX_CANDIDATES]) + (", ..." if len(hits) > MAX_CANDIDATES else "")
        raise LookupError_(f"{name!r} names {len(hits)} contract entities: {ids}; pass one of these IDs")
    close = nearest(snap, name)
    hint = f"; nearest names: {', '.join(close)}" if close else "; find names with lore_search"
    raise LookupError_(f"unknown contract entity {name!r}{hint}")


def place(snap: Snapshot, symbol: str, *, repo: str | None = None, path: str | None = None, text: str | None = None) -> Place:
    """Where `symbol` is: in the file `path` of `repo` (with its `text`) a code symbol by name path, else a
    contract entity, else a service. LookupError_ otherwise."""
    symbol = symbol.strip()
    if not symbol:
        raise LookupError_("symbol must not be empty")
    local: list[str] = []
    if repo is not None and path is not None and text is not None:
        syms = symbols(path, text)
        local = [s.name for s in syms]
        hits = [s for s in syms if s.name == symbol] or [s for s in syms if s.name.endswith("." + symbol) or s.name.split(".")[-1] == symbol]
        if len(hits) > 1:
            raise LookupError_(f"{symbol!r} names {len(hits)} symbols in {repo}/{path}: "
                               f"{', '.join(f'{s.name} (line {s.name_line + 1 if s.name_line >= 0 else s.start_line + 1})' for s in hits[:MAX_CANDIDATES])}; "
                               "pass the full name path or a line")
        if hits:
            s = hits[0]
            return Place(repo, path, s.name_line if s.name_line >= 0 else s.start_line, s.end_line, f"{s.kind} {s.name}")
    ents = entities_named(snap, symbol)
    if path is not None and len(ents) > 1:  # a name several files declare: the one in this file
        mine = [e for e in ents if e.path == path and (repo is None or e.repo == repo)]
        ents = mine or ents
    if len(ents) == 1:
        e = ents[0]
        return Place(e.repo, e.path, e.range.start_line, None, f"contract entity {e.id}", e.id)
    if ents:
        entity(snap, symbol)  # raises, naming the candidates
    services = [s for s in (snap.services.services if snap.services is not None else ()) if s.name == symbol]
    if len(services) == 1:
        svc = services[0]
        ev = next((ev for ev in svc.evidence if ev.path), None)
        if ev is not None:
            return Place(ev.repo, ev.path, ev.line or 0, None, f"service {svc.name} (repo {svc.repo}, root {svc.root or '.'})")
    close = nearest(snap, symbol, local)
    where = f" in {repo}/{path} or" if path is not None else ""
    hint = f"; nearest names: {', '.join(close)}" if close else (
        f"; symbols in that file: {', '.join(local[:MAX_CANDIDATES])}" if local else "")
    more = "" if path is not None else " (a function or class needs its file: pass path too)"
    raise LookupError_(f"{symbol!r} is no symbol{where} contract entity or service Lore knows{more}{hint}")
