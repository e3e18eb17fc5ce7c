"""What the renderers share: protocol colours, flag colours and the captions of nodes (name, owner, SLOs
and alerts) and edges (plain text, cleaned of control characters; each writer escapes them for its
format)."""

from __future__ import annotations

from lore.query.render import clean
from lore.query.system_map import Edge, Node

PROTOCOL_COLORS = {"grpc": "#2b6cb0", "http": "#2f855a", "graphql": "#b83280", "sql": "#b7791f"}
OTHER_COLOR = "#718096"
FLAG_COLORS = {"breaking": "#c53030", "drift": "#dd6b20"}
FLAG_WORDS = {"breaking": "breaking", "drift": "drift", "deprecated": "deprecated"}


def protocol_color(protocol: str) -> str:
    return PROTOCOL_COLORS.get(protocol, OTHER_COLOR)


def edge_color(edge: Edge) -> str:
    """The protocol's colour, unless a breaking change (red) or drift (orange) touches the edge."""
    for flag in ("breaking", "drift"):
        if flag in edge.flags:
            return FLAG_COLORS[flag]
    return protocol_color(edge.protocol)


def ops_line(node: Node) -> str:
    """`1 SLO, 2 alerts` for a node with SLOs or alerts over it, else ''."""
    o = node.ops
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((o.slo_count, "SLO"), (o.alert_count, "alert")) if n]
    return ", ".join(parts)


def node_lines(node: Node) -> list[str]:
    """The node's name, then its owner (or where its files are, for a repo's unowned files), then how
    many SLOs and alerts are over it, if any."""
    if node.kind == "repo":
        lines = [clean(node.repo, 80), "(files in no service)"]
    else:
        lines = [clean(node.name, 80)]
        if node.owner:
            lines.append(clean(node.owner, 80))
    if ops := ops_line(node):
        lines.append(ops)
    return lines


def edge_caption(edge: Edge, limit: int = 3) -> str:
    names = [clean(c.name, 60) for c in edge.contracts]
    shown = ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")
    flags = [FLAG_WORDS[f] for f in edge.flags if f in FLAG_WORDS]
    return f"{shown} ({edge.protocol}, {edge.count})" + (f" [{', '.join(flags)}]" if flags else "")
