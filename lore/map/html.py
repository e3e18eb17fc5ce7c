"""`lore graph --format html`: one self-contained, offline HTML page of the system map. The page inlines
the map as JSON, its script and style (assets/map.js, map.css) and the graph library (assets/vendor/:
Cytoscape.js with the fCoSE layout, copied from npm by web/build.mjs and committed); it loads nothing
at view time, and its Content-Security-Policy allows only its own inline scripts (by nonce) and styles.

Repository text reaches the page only inside the JSON data block, where `<`, `>`, `&` and the line
separators are \\u-escaped (so no `</script>` can close it); the script puts strings into the page as
text, never as markup. Links to files are built here: `file://` URIs (default), `vscode://file/...`
URIs, none, or an http(s) URL template with {repo}, {path} and {line} filled in percent-encoded.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lore.map.style import FLAG_COLORS, OTHER_COLOR, PROTOCOL_COLORS, edge_caption, node_lines
from lore.query.render import clean
from lore.query.system_map import Contract, NodeOps, OpsRule, Site, SystemMap, Use

LINK_MODES = ("file", "vscode", "none")
Href = Callable[[str, str, int | None], str | None]


class LinkError(ValueError):
    pass


@cache
def asset(name: str) -> str:
    return (resources.files("lore.map") / "assets" / name).read_text(encoding="utf-8")


@cache
def vendor_scripts() -> tuple[str, ...]:
    manifest = json.loads(asset("vendor/vendor.json"))
    return tuple(asset(f"vendor/{f['file']}") for f in manifest["files"])


def link_maker(links: str, repos: dict[str, str | None]) -> Href:
    """href(repo, path, 0-based line) for the link mode: file, vscode, none or an http(s) URL template."""
    if links == "none":
        return lambda repo, path, line: None
    if links in ("file", "vscode"):
        def local(repo: str, path: str, line: int | None) -> str | None:
            root = repos.get(repo)
            if not root:
                return None
            full = quote((Path(root) / path).as_posix(), safe="/")
            if links == "vscode":
                return f"vscode://file{full}" + (f":{line + 1}:1" if line is not None else "")
            return f"file://{full}" + (f"#L{line + 1}" if line is not None else "")
        return local
    if not re.match(r"^https?://", links) or "{path}" not in links:
        raise LinkError(f"--links {links!r}: expected file, vscode, none or an http(s) URL template with {{path}}")

    def template(repo: str, path: str, line: int | None) -> str | None:
        return (links.replace("{repo}", quote(repo, safe="")).replace("{path}", quote(path, safe="/"))
                .replace("{line}", str(line + 1) if line is not None else "1"))
    return template


class _Tables:
    """The page's compact form of the map: contracts and entities once each in a table, referred to by
    index; sites as [repo, path, line]; nodes by index in edges. (The map's own JSON stays readable in
    `SystemMap`; this is only what the page parses.)"""

    def __init__(self) -> None:
        self.entities: list[dict[str, Any]] = []
        self.contracts: list[dict[str, Any]] = []
        self._e: dict[str, int] = {}
        self._c: dict[tuple[str, str], int] = {}

    def entity(self, u: Use) -> int:
        i = self._e.get(u.entity)
        if i is None:
            i = self._e[u.entity] = len(self.entities)
            self.entities.append({"id": u.entity, "name": u.name, "kind": u.kind, "declared": site(u.declared),
                                  "flags": list(u.flags), "notes": list(u.notes)})
        return i

    def contract(self, c: Contract) -> int:
        key = (c.id, c.protocol)
        i = self._c.get(key)
        if i is None:
            i = self._c[key] = len(self.contracts)
            self.contracts.append({"id": c.id, "name": c.name, "protocol": c.protocol, "declared": site(c.declared),
                                   "flags": list(c.flags)})
        return i

    def uses(self, contracts: Sequence[Contract], with_sites: bool) -> list[list[Any]]:
        """[[contract, flags, [[entity, count, sites?], ...]], ...]"""
        return [[self.contract(c), list(c.flags),
                 [[self.entity(u), u.count, *([[site(s) for s in u.sites]] if with_sites else [])] for u in c.uses]]
                for c in contracts]


def site(s: Site | None) -> list[Any] | None:
    return None if s is None else [s.repo, s.path, s.line]


def rule(r: OpsRule) -> dict[str, Any]:
    return {"name": r.name, "site": site(r.site), "reads": [[x.kind, x.name, site(x.site)] for x in r.reads],
            "via": list(r.via), "details": list(r.details)}


def node_ops(o: NodeOps) -> dict[str, Any] | None:
    """A node's alerts, SLOs and pipelines (None when it has none: most nodes of a large map)."""
    if not (o.alert_count or o.slo_count or o.pipeline_count):
        return None
    return {"alerts": [rule(r) for r in o.alerts], "slos": [rule(r) for r in o.slos],
            "pipelines": [{"kind": p.kind, "text": p.text, "why": p.why, "site": site(p.site)} for p in o.pipelines],
            "counts": {"alert": o.alert_count, "slo": o.slo_count, "pipeline": o.pipeline_count}}


def page_data(m: SystemMap, *, links: str = "file", center: str | None = None) -> dict[str, Any]:
    """What the page script reads (see map.js): the map in compact form, the link mode and the style."""
    link_maker(links, m.repos)  # validates
    t = _Tables()
    index = {n.id: i for i, n in enumerate(m.nodes)}
    nodes = [{"id": n.id, "kind": n.kind, "name": n.name, "repo": n.repo, "root": n.root, "owner": n.owner,
              "group": n.group, "label": node_lines(n), "languages": list(n.languages), "declared": site(n.declared), "flags": list(n.flags),
              "provides": t.uses(n.provides, False), "consumes": t.uses(n.consumes, False),
              "unprovided": t.uses(n.unprovided, True),
              "history": [{"sha": h.sha, "date": h.date, "subject": h.subject, "kinds": list(h.kinds), "site": site(h.site)}
                          for h in n.history], "history_notes": list(n.history_notes), "ops": node_ops(n.ops)}
             for n in m.nodes]
    edges = [{"source": index[e.source], "target": index[e.target], "protocol": e.protocol, "count": e.count,
              "flags": list(e.flags), "label": e.label, "caption": edge_caption(e), "contracts": t.uses(e.contracts, True)}
             for e in m.edges]
    local = links in ("file", "vscode")
    return {"nodes": nodes, "edges": edges, "entities": t.entities, "contracts": t.contracts,
            "groups": [{"id": g.id, "kind": g.kind, "name": g.name} for g in m.groups], "group_by": m.group_by,
            "repos": {name: (root if local else None) for name, root in m.repos.items()},
            "ops_kinds": list(m.ops_kinds), "links": links, "focus": m.focus, "center": center if center in index else None, "notes": list(m.notes),
            "style": {"protocols": PROTOCOL_COLORS, "other": OTHER_COLOR, "flags": FLAG_COLORS}}


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>`, `&` or line separators."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def escape_html(text: str) -> str:
    return (clean(text, 200).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def render_html(m: SystemMap, *, links: str = "file", center: str | None = None, title: str = "System map") -> str:
    nonce = secrets.token_urlsafe(18)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src data:; "
           "font-src 'none'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'")
    scripts = "\n".join(f'<script nonce="{nonce}">{_no_close(js)}\n</script>' for js in (*vendor_scripts(), asset("map.js")))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lore graph --format html">
<title>Lore: {escape_html(title)}</title>
<style nonce="{nonce}">{asset("map.css")}</style>
<style nonce="{nonce}" id="__________cytoscape_stylesheet">.__________cytoscape_container {{ position: relative; }}</style>
</head>
<body>
<div id="app">
  <div id="bar">
    <h1>Lore: {escape_html(title)}</h1>
    <div id="search-box"><input id="search" type="search" placeholder="Search services, owners, contracts (/)" autocomplete="off" spellcheck="false" aria-label="Search"><ul id="results" role="listbox"></ul></div>
    <button id="fit" type="button" title="Show the whole map">Whole map</button>
    <span id="stats"></span>
    <div id="legend"></div>
  </div>
  <div id="cy" role="img" aria-label="System map"></div>
  <aside id="panel" aria-live="polite"></aside>
</div>
<script type="application/json" id="lore-map-data">{script_json(page_data(m, links=links, center=center))}</script>
{scripts}
</body>
</html>
"""


def _no_close(js: str) -> str:
    """A bundled script must not end its own <script> element early."""
    return js.replace("</script", "<\\/script")
