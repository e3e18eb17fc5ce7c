"""GraphQL operation documents: `.graphql` / `.gql` files holding queries, mutations and fragments (Apollo
Kotlin, Apollo iOS, graphql-codegen and Relay all keep a client's operations in such files next to the
schema). Each selected field is a `graphql.operation` usage (see `code_gqlops`).

The schema extractor reads the same files for types and reports their syntax errors; a file with no
executable definition (a schema) is skipped after one regex search.
"""

from __future__ import annotations

from indexers.model import Partial, Usage
from indexers.positions import SourceFile
from indexers.sources.base import Extractor, suffix
from indexers.sources.code.gqlops import EXECUTABLE, selections
from indexers.sources.spans import OffsetSpans

MAX_BYTES = 2 * 1024 * 1024


class OperationsExtractor(Extractor):
    name = "graphql-operations"
    version = 2  # 2: operations whose header declares variables (`query Q($id: ID!) {`) are read

    def wants(self, path: str) -> bool:
        return suffix(path) in (".graphql", ".gql")

    def extract(self, src: SourceFile) -> Partial:
        if len(src.data) > MAX_BYTES:
            return Partial()
        text = src.text
        if not EXECUTABLE.search(text):
            return Partial()
        found, _error = selections(text)  # syntax errors are the schema extractor's to report
        spans = OffsetSpans(src)
        usages = []
        for s in found:
            attrs: dict[str, object] = {"operation": s.operation, "definition": s.definition}
            if s.via:
                attrs["via"] = list(s.via)
            usages.append(Usage(src.repo, src.path, spans.span(s.offset, s.offset + len(s.name)), "graphql.operation",
                                s.name, s.start, "consumes", "graphql", attrs))
        return Partial(usages=usages, language="graphql")


EXTRACTORS: list[Extractor] = [OperationsExtractor()]
