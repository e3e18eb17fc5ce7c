"""GraphQL in code: resolvers a service provides (JavaScript resolver maps, Ariadne object types,
Graphene/Strawberry `resolve_*` methods) and operations it sends (gql/graphql tagged templates and
calls), read with graphql-core. An operation that interpolates fragments is not complete here and
yields nothing rather than a parse error.
"""

from __future__ import annotations

import re
from typing import Any

from indexers import ts
from indexers.model import FileError, Span, Usage
from indexers.sources.code.ctx import Ctx
from indexers.sources.code.facts import arg_list
from indexers.sources.code.gqljs import js_resolvers
from indexers.sources.code.gqlops import selections
from indexers.sources.code.gqlpython import python_code_first
from indexers.sources.code.gqlserve import go_resolvers, java_resolvers
from indexers.sources.code.strings import DYN, string_text

_GQL_TAGS = re.compile(r"(gql|graphql|gql\.default|graphql_tag|parse)$")


def graphql(ctx: Ctx) -> None:
    for c in ctx.f.calls:
        callee = c.callee
        if _GQL_TAGS.fullmatch(callee.rsplit(".", 1)[-1] if ctx.family == "python" else callee) and c.args:
            args = c.args
            s = string_text(args[0])
            if s is not None and callee != "parse" or (callee == "parse" and "gql" in ctx.imports):
                if s is not None:
                    _operation(ctx, args[0], s)
    if ctx.family == "javascript":
        js_resolvers(ctx)
    elif ctx.family == "go":
        go_resolvers(ctx)
    elif ctx.family == "java":
        java_resolvers(ctx)
    elif ctx.family == "python":
        _py_resolvers(ctx)


def _operation(ctx: Ctx, node: Any, text: str) -> None:
    if not re.match(r"\s*(query|mutation|subscription|fragment|\{)", text):
        return
    found, error = selections(text.replace(DYN, " "))
    if error is not None and DYN not in text:  # with interpolated fragments the document is not complete here
        ctx.errors.append(FileError(ctx.src.repo, ctx.src.path, f"GraphQL document does not parse: {error[0]}",
                                    node.start_point[0] + error[1]))
    if not found:
        return
    opening = re.match(r"[$@furbFURB]*(\"\"\"|\'\'\'|\"|\'|`)", ts.text(node))
    first_col = _char_col(ctx, node.start_point[0], node.start_point[1]) + (opening.end() if opening else 0)
    for s in found:
        row = node.start_point[0] + text.count("\n", 0, s.offset)
        col = s.offset - (text.rfind("\n", 0, s.offset) + 1)
        at = _near(ctx, row, s.name, col + (first_col if row == node.start_point[0] else 0)) or ctx.src.node_span(node)
        line, _, what = s.definition.partition(":")
        attrs: dict[str, Any] = {"operation": s.operation, "definition": f"{node.start_point[0] + int(line)}:{what}"}
        if s.via:
            attrs["via"] = list(s.via)
        ctx.usages.append(Usage(ctx.src.repo, ctx.src.path, at, "graphql.operation", s.name, s.start, "consumes",
                                ctx.lang, attrs))


def _char_col(ctx: Ctx, row: int, byte_col: int) -> int:
    lines = ctx.src.line_bytes
    return len(lines[row][:byte_col].decode("utf-8", errors="replace")) if row < len(lines) else 0


def _near(ctx: Ctx, row: int, name: str, guess: int) -> Span | None:
    """The span of the whole word `name` on line `row` nearest to code-point column `guess` (escapes and
    interpolations earlier on the line shift the column the document text gives)."""
    lines = ctx.src.lines
    if row >= len(lines):
        return None
    cols = [m.start() for m in re.finditer(rf"(?<![\w$]){re.escape(name)}(?![\w$])", lines[row])]
    if not cols:
        return None
    col = min(cols, key=lambda c: abs(c - guess))
    return ctx.src.span_from_chars(row, col, row, col + len(name))


def _py_resolvers(ctx: Ctx) -> None:
    types: dict[str, str] = {}
    for k, _left, right in ctx.f.assigns:
        callee, node = ctx.callee_of(right)
        last = callee.rsplit(".", 1)[-1]
        if last in ("QueryType", "MutationType", "SubscriptionType"):
            types[k] = last[: -len("Type")]
        elif last in ("ObjectType", "InterfaceType") and node is not None and "ariadne" in str(
                [i["path"] for i in ctx.f.imports]):
            args = arg_list(node.child_by_field_name("arguments"))
            s = string_text(args[0]) if args else None
            if s and re.fullmatch(r"[A-Z]\w*", s):
                types[k] = s
    for c in ctx.f.calls if types else ():
        recv, _, meth = c.callee.rpartition(".")
        if recv in types and meth in ("field", "set_field") and c.args:
            s = string_text(c.args[0])
            if s and re.fullmatch(r"\w+", s):
                ctx.emit("graphql.resolver", c.args[0], s, types[recv], "provides")
    python_code_first(ctx)
