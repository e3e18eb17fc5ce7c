"""`lore graph --format mermaid`: the system map as a Mermaid flowchart for docs and pull requests
(GitHub renders it in a ```mermaid block). One subgraph per group; edges from the provider to the
consumer, labelled with the contracts, protocol and call sites; `linkStyle` colours them by protocol
(red: breaking change, orange: drift) and dashes the ones that use deprecated entities.

Mermaid parses labels, so every repository string is written inside double quotes with each character
outside a small safe set as a Mermaid entity code (`#35;` for `#`, `#60;` for `<`, ...): no markup,
no link, no directive can come from a service or contract name. Node ids are our own (n1, n2, ...)."""

from __future__ import annotations

import re

from lore.map.style import edge_caption, edge_color, node_lines
from lore.query.render import clean
from lore.query.system_map import SystemMap

MERMAID_MAX_EDGES = 500  # Mermaid's default maxEdges
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:/@+=*'()\[\]!?%-]")


def text(value: str, limit: int = 400) -> str:
    """Repository text for a quoted Mermaid label: unsafe characters as `#<code point>;`."""
    return _UNSAFE.sub(lambda m: f"#{ord(m.group(0))};", clean(value, limit))


def render_mermaid(m: SystemMap) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(m.nodes, 1)}
    out = ["%% The system map from `lore graph --format mermaid`: services, and contracts from provider to consumer."]
    if len(m.edges) > MERMAID_MAX_EDGES:
        out.append(f"%% {len(m.edges)} links: Mermaid draws at most {MERMAID_MAX_EDGES} unless its maxEdges setting is raised; "
                   "--focus SERVICE keeps one neighbourhood")
    out.append("flowchart LR")
    members: dict[str, list[str]] = {g.id: [] for g in m.groups}
    for n in m.nodes:
        caption = "<br>".join(text(line) for line in node_lines(n))
        members.setdefault(n.group, []).append(f'    {ids[n.id]}["{caption}"]')
    for i, g in enumerate(m.groups, 1):
        out.append(f'  subgraph g{i}["{text(f"{g.kind}: {g.name}")}"]')
        out.append("    direction LR")
        out.extend(members.get(g.id, []))
        out.append("  end")
    styles = []
    for i, e in enumerate(m.edges):
        out.append(f'  {ids[e.source]} -->|"{text(edge_caption(e))}"| {ids[e.target]}')
        style = f"stroke:{edge_color(e)},color:{edge_color(e)}"
        if "deprecated" in e.flags:
            style += ",stroke-dasharray:6 4"
        if "breaking" in e.flags or "drift" in e.flags:
            style += ",stroke-width:3px"
        styles.append(f"  linkStyle {i} {style}")
    out.extend(styles)
    repo_nodes = [ids[n.id] for n in m.nodes if n.kind == "repo"]
    out.append("  classDef service fill:#f7fafc,stroke:#4a5568")
    out.append("  classDef repo fill:#ffffff,stroke:#a0aec0,stroke-dasharray:4 3")
    services = [ids[n.id] for n in m.nodes if n.kind == "service"]
    if services:
        out.append(f"  class {','.join(services)} service")
    if repo_nodes:
        out.append(f"  class {','.join(repo_nodes)} repo")
    if m.focus in ids:
        out.append(f"  style {ids[m.focus]} stroke-width:3px")
    return "\n".join(out) + "\n"
