"""The context of a change (`lore context --diff`, `lore review`, MCP `lore_diff`): per hunk, what it breaks
and for whom, the workaround lines it edits, the deprecated contracts it calls, the contracts it touches
with their providers and consumers, the owners to notify, team notes, markers and decisions; ranked,
deduplicated, cut to a size budget; rendered as text, JSON, or a pull-request comment in markdown."""
