"""One pure function per LSP feature, over an immutable Snapshot and a `Doc`; no server, no I/O beyond
reading small files a feature edits. `lsp_server.setup` wires them to LSP methods."""
