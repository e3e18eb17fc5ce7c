"""What the renderers share: protocol colours, flag colours and the captions of nodes and edges (plain
text, cleaned of control characters; each writer escapes them for its format)."""

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


def node_lines(node: Node) -> list[str]:
    """The node's name, then its owner (or where its files are, for a repo's unowned files)."""
    if node.kind == "repo":
        return [clean(node.repo, 80), "(files in no service)"]
    lines = [clean(node.name, 80)]
    if node.owner:
        lines.append(clean(node.owner, 80))
    return lines


def edge_caption(edge: Edge, limit: int = 3) -> str:
    names = [clean(c.name, 60) for c in edge.contracts]
    shown = ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")
    flags = [FLAG_WORDS[f] for f in edge.flags if f in FLAG_WORDS]
    return f"{shown} ({edge.protocol}, {edge.count})" + (f" [{', '.join(flags)}]" if flags else "")
