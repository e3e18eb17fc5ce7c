"""`lore graph --format dot`: the system map as a Graphviz digraph. Services are boxes in one cluster
per group (repo or owner); each edge goes from the provider to the consumer, labelled with the
contracts, the protocol and the number of call sites, coloured by protocol (red: a breaking change,
orange: drift) and dashed when it uses deprecated entities."""

from __future__ import annotations

from lore.map.style import edge_caption, edge_color, node_lines
from lore.query.render import clean
from lore.query.system_map import SystemMap


def quote(text: str) -> str:
    """A dot double-quoted string: backslashes and quotes escaped, so no escape sequence (\\N, \\G,
    \\l) or HTML-like label can come from repository text; newlines and control characters dropped."""
    return '"' + clean(text, 400).replace("\\", "\\\\").replace('"', '\\"') + '"'


def label(lines: list[str]) -> str:
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines) + '"'


def render_dot(m: SystemMap) -> str:
    out = ["// The system map from `lore graph --format dot`: services, and contracts from provider to consumer.",
           'digraph "lore" {',
           '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.4, ranksep=0.9];',
           '  node [shape=box, style="rounded,filled", fillcolor="#f7fafc", color="#4a5568", fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];']
    members: dict[str, list[str]] = {g.id: [] for g in m.groups}
    for n in m.nodes:
        attrs = [f"label={label(node_lines(n))}"]
        if n.kind == "repo":
            attrs.append('style="rounded,dashed"')
        if n.id == m.focus:
            attrs.append("penwidth=2.5")
        members.setdefault(n.group, []).append(f"    {quote(n.id)} [{', '.join(attrs)}];")
    for i, g in enumerate(m.groups, 1):
        out.append(f"  subgraph {quote(f'cluster_{i}')} {{")
        out.append(f"    label={quote(f'{g.kind}: {g.name}')}; style=\"rounded\"; color=\"#cbd5e0\"; fontcolor=\"#4a5568\";")
        out.extend(members.get(g.id, []))
        out.append("  }")
    for e in m.edges:
        color = edge_color(e)
        attrs = [f"label={quote(edge_caption(e))}", f'color="{color}"', f'fontcolor="{color}"']
        if "deprecated" in e.flags:
            attrs.append("style=dashed")
        if "breaking" in e.flags or "drift" in e.flags:
            attrs.append("penwidth=2")
        out.append(f"  {quote(e.source)} -> {quote(e.target)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"

