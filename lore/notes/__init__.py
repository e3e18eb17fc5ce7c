"""Writing team notes (`lore note`, the editor, agents): the one place Lore writes into a repository."""
