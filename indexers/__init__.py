"""Lore's indexers: extraction, the fact model, the knowledge cache and the query layer (no LSP here)."""
