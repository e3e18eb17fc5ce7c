"""Names both GraphQL readers (tree-sitter, graphql-core) use, apart from graphql-core so that loading the
extractor does not import it (only a document the tree-sitter reader cannot take needs it)."""

from __future__ import annotations

ROOTS = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
DEFAULT_REASON = "No longer supported"
