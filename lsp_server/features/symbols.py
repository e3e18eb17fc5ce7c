"""Workspace symbols: contract entities and services of the whole system."""

from __future__ import annotations

from lsprotocol import types as t

from indexers.snapshot import Snapshot
from lore.query import navigation
from lsp_server.convert import to_location

KINDS = {
    "service": t.SymbolKind.Module, "proto.service": t.SymbolKind.Interface, "proto.rpc": t.SymbolKind.Method,
    "proto.message": t.SymbolKind.Struct, "proto.field": t.SymbolKind.Field, "proto.enum": t.SymbolKind.Enum,
    "proto.enum_value": t.SymbolKind.EnumMember, "proto.package": t.SymbolKind.Package,
    "openapi.operation": t.SymbolKind.Method, "openapi.schema": t.SymbolKind.Struct,
    "openapi.property": t.SymbolKind.Property, "graphql.type": t.SymbolKind.Class,
    "graphql.field": t.SymbolKind.Field, "sql.table": t.SymbolKind.Struct, "sql.column": t.SymbolKind.Field,
}
LIMIT = 500


def workspace_symbols(snap: Snapshot, query: str) -> list[t.SymbolInformation]:
    out: list[t.SymbolInformation] = []
    for sym in navigation.workspace_symbols(snap, query, LIMIT):
        loc = to_location(snap, sym.location)
        if loc is None:
            continue
        out.append(t.SymbolInformation(name=sym.name, kind=KINDS.get(sym.kind, t.SymbolKind.Object), location=loc,
                                       container_name=f"{sym.detail}" if sym.kind != "service" else sym.container))
    return out
