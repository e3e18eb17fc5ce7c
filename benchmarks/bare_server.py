"""The hover-latency baseline: a bare pygls server over stdio that answers hover, definition and
references with constant results and does no work.

Why: an LSP round trip over stdio through pygls has a fixed cost (JSON-RPC framing, the event loop,
two processes). Measuring it with the same client in the same run separates that floor from what
Lore's handlers add. Run as `python -m benchmarks.bare_server`.
"""

from __future__ import annotations

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-baseline", "1")


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover:
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="**baseline** hover"),
                     range=lsp.Range(params.position, params.position))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    return [lsp.Location(uri=params.text_document.uri, range=lsp.Range(params.position, params.position))]


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    return [lsp.Location(uri=params.text_document.uri, range=lsp.Range(params.position, params.position))]


if __name__ == "__main__":
    server.start_io()
