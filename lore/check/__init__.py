"""Breaking-change detection for contracts (protobuf, OpenAPI, GraphQL, SQL).

`compare.check_repo` compares a repository's contract files in the working tree (or at a ref) against a
baseline ref; `compare.findings_for_text` does the same for one editor buffer. Both return plain
`Finding`s (see `findings`) that the CLI renders as text, JSON, SARIF or GitHub annotations and that the
LSP server turns into diagnostics and code actions.
"""

from lore.check.findings import Consumer, Edit, Finding, Fix

__all__ = ["Consumer", "Edit", "Finding", "Fix"]
