"""GraphQL operations: every field an executable document selects, as a path linking can type.

An operation consumes every field it selects — nested selections, inline fragments and named fragments
included, not only its root fields. Extraction cannot see the schema, so each selected field is written
as the type its path starts from and the fields read on the way: `query { cart { items { sku } } }`
gives `Query.cart`, `Query [cart] .items`, `Query [cart, items] .sku`; a fragment's fields start from its
type condition (`fragment P on Product { id }` -> `Product.id`), wherever the fragment is spread, and so
do an inline fragment's (`... on Book { isbn }`). Linking follows the path through the fields' declared
types and checks that the whole definition validates against the graph (see `indexers.linking`).

Left out: meta fields (`__typename`, introspection) and fields marked `@client` (Apollo Client local
state: resolved in the client, never sent to the server), with everything selected under them.
Aliases are read as the real field (`speakers: speakersPage` selects `speakersPage`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TOKENS = 50_000
MAX_FIELDS = 20_000
_ROOT = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
# Where an executable definition starts: an operation keyword or fragment at the start of a line, or an
# anonymous query (`{` in column 0). Schema documents have none of these (`schema { query: Query }` has a
# colon where an operation's header has its name, variables or `{`).
# An operation's header: the keyword, an optional name, optional variable definitions in parentheses
# (`($id: ID!, $first: Int = 10)`: colons and defaults), optional directives, then `{`. Every part is
# bounded: unbounded, every line starting with `query` scanned the rest of the text (quadratic in a file
# of such lines).
EXECUTABLE = re.compile(r"(?m)^[ \t]*(?:(?:query|mutation|subscription)(?:[ \t]+[_A-Za-z]\w{0,200})?\s{0,200}"
                        r"(?:\([^()]{0,2000}\)\s{0,200})?(?:@\w{1,100}\s{0,50}(?:\([^()]{0,500}\)\s{0,50})?){0,5}\{"
                        r"|fragment\s+\w+\s+on\s)|^\{")
_DEF_START = re.compile(r"(?m)^(?=(?:query|mutation|subscription|fragment|type|extend|schema|interface|enum|"
                        r"union|scalar|input|directive)\b|\{|\"\"\")")


@dataclass(frozen=True)
class Selected:
    """One selected field: `name` read on the type reached from `start` through `via`."""

    name: str
    offset: int  # code-point offset of the field's name in the document text
    start: str  # root operation type (Query/Mutation/Subscription) or a type condition
    via: tuple[str, ...]  # fields read from `start` before this one
    definition: str  # '<line>:<keyword> <name>' of the enclosing operation or fragment, unique per document
    operation: str  # the operation's or fragment's name ('' for an anonymous operation)


def selections(text: str) -> tuple[list[Selected], tuple[str, int] | None]:
    """The fields every executable definition of `text` selects, and the first syntax error (its message
    and 0-based line in `text`; None when the document parses). A document that fails to parse as a whole is read definition by
    definition, so one broken operation loses only itself."""
    from graphql import GraphQLError, parse

    try:
        doc = parse(text, no_location=False, max_tokens=MAX_TOKENS)
    except (GraphQLError, RecursionError) as exc:
        message = exc.message if isinstance(exc, GraphQLError) else "document nested too deeply"
        locations = getattr(exc, "locations", None) or []
        error = (message, locations[0].line - 1 if locations else 0)
        out: list[Selected] = []
        starts = [m.start() for m in _DEF_START.finditer(text)] + [len(text)]
        for a, b in zip(starts, starts[1:], strict=False):
            chunk = text[a:b]
            if not EXECUTABLE.search(chunk):
                continue
            try:
                part = parse(chunk, no_location=False, max_tokens=MAX_TOKENS)
            except (GraphQLError, RecursionError):
                continue
            out += _walk(part, text, a)
        return out, error
    return _walk(doc, text, 0), None


def _walk(doc: object, text: str, base: int) -> list[Selected]:
    from graphql.language import ast

    out: list[Selected] = []
    assert isinstance(doc, ast.DocumentNode)
    for d in doc.definitions:
        if isinstance(d, ast.OperationDefinitionNode):
            start = _ROOT[d.operation.value]
            name = d.name.value if d.name else ""
            keyword = d.operation.value
        elif isinstance(d, ast.FragmentDefinitionNode):
            start, name, keyword = d.type_condition.name.value, d.name.value, "fragment"
        else:
            continue
        line = text.count("\n", 0, base + (d.loc.start if d.loc else 0))
        key = f"{line}:{keyword} {name}".rstrip()
        stack: list[tuple[object, str, tuple[str, ...]]] = [(d.selection_set, start, ())]
        while stack and len(out) < MAX_FIELDS:
            sset, typ, via = stack.pop()
            assert isinstance(sset, ast.SelectionSetNode)
            for sel in reversed(sset.selections):
                if isinstance(sel, ast.FieldNode):
                    fname = sel.name.value
                    if fname.startswith("__") or any(dr.name.value == "client" for dr in sel.directives or ()):
                        continue
                    at = base + (sel.name.loc.start if sel.name.loc else 0)
                    out.append(Selected(fname, at, typ, via, key, name))
                    if sel.selection_set is not None:
                        stack.append((sel.selection_set, typ, (*via, fname)))
                elif isinstance(sel, ast.InlineFragmentNode):
                    if sel.type_condition is not None:
                        stack.append((sel.selection_set, sel.type_condition.name.value, ()))
                    else:
                        stack.append((sel.selection_set, typ, via))
    out.sort(key=lambda s: s.offset)
    return out
