"""Renderers of the system map (`lore.query.system_map.SystemMap`): Graphviz dot, Mermaid and one
self-contained HTML page. Thin writers: the map itself is computed in the query layer; every string a
repository controls is escaped here for its output format."""
