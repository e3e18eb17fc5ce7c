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
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from indexers.model import to_plain
from lore.map.style import FLAG_COLORS, OTHER_COLOR, PROTOCOL_COLORS, edge_caption
from lore.query.render import clean
from lore.query.system_map import SystemMap

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


def _with_hrefs(obj: Any, href: Href) -> Any:
    """Add `href` to every site ({repo, path, line}) of the plain map."""
    if isinstance(obj, dict):
        out = {k: _with_hrefs(v, href) for k, v in obj.items()}
        if set(obj) == {"repo", "path", "line"}:
            out["href"] = href(obj["repo"], obj["path"], obj["line"])
        return out
    if isinstance(obj, list):
        return [_with_hrefs(x, href) for x in obj]
    return obj


def page_data(m: SystemMap, *, links: str = "file", center: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = _with_hrefs(to_plain(m), link_maker(links, m.repos))
    for plain, edge in zip(data["edges"], m.edges, strict=True):
        plain["caption"] = edge_caption(edge)
        plain["label"] = edge.label
    for node in data["nodes"]:
        for key in ("provides", "consumes", "unprovided"):
            for c in node[key]:
                c["count"] = sum(u["count"] for u in c["uses"])
    for edge in data["edges"]:
        for c in edge["contracts"]:
            c["count"] = sum(u["count"] for u in c["uses"])
    if links not in ("file", "vscode"):
        data["repos"] = {name: None for name in data["repos"]}  # no local paths in a page meant to be shared
    data["center"] = center if center and m.node(center) is not None else None
    data["style"] = {"protocols": PROTOCOL_COLORS, "other": OTHER_COLOR, "flags": FLAG_COLORS}
    return data


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
