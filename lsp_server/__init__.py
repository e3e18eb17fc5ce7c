"""The Lore language server: the only package that imports pygls/lsprotocol.

`server.py` builds the server, `setup.py` registers every handler, `features/` holds one pure function
per LSP feature over an immutable Snapshot, `state.py` the session (documents, snapshots), `indexing.py`
the background indexing and file watching.
"""
