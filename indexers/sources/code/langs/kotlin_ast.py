"""Reading Kotlin syntax trees: imports and the file's package, classes (their supertypes, members and
annotations) and declarations' modifiers, shared by the Kotlin usage passes.

The grammar reads some annotated top-level classes wrongly (a class after annotations and comments can
come out as a prefix expression followed by the class, or as `class Name {...}` read as an infix
expression): `class_annotations` finds a class's annotations wherever they ended up, and `body` reads the
members of either shape.
"""

from __future__ import annotations

import re
from typing import Any

from indexers.sources.code.ctx import Ctx
from indexers.sources.code.langs.common import args_of, lit, named_arg, text


def imports(ctx: Ctx) -> dict[str, str]:
    """Simple name (or alias) -> imported path; star imports under '*' as a list of packages."""
    got = ctx.memo.get(("kt_imports",))
    if got is None:
        got = {}
        for i in ctx.f.imports:
            path = i["path"]
            got[i["alias"] or path.rsplit(".", 1)[-1]] = path
        ctx.memo[("kt_imports",)] = got
    return got  # type: ignore[no-any-return]


def package(ctx: Ctx) -> str:
    m = re.search(r"^\s*package\s+([\w.]+)", ctx.src.text[:4096], re.MULTILINE)
    return m.group(1) if m else ""


def imported(ctx: Ctx, prefix: str) -> bool:
    """Whether the file imports anything under `prefix` (a package)."""
    return any(i["path"] == prefix or i["path"].startswith(prefix + ".") for i in ctx.f.imports)





def bases(node: Any) -> list[str]:
    """The supertypes a class, object or object expression names (generic arguments left out)."""
    out = []
    for c in node.named_children:
        if c.type != "delegation_specifier":
            continue
        t = c.named_children[0] if c.named_child_count else None
        if t is not None and t.type == "constructor_invocation":
            t = t.named_children[0] if t.named_child_count else None
        if t is not None:
            out.append(re.sub(r"<.*", "", "".join(text(t).split())))
    return out


def body(node: Any) -> list[Any]:
    """The member declarations of a class node (its class body, or the lambda a misread class got)."""
    for c in node.named_children:
        if c.type in ("class_body", "enum_class_body"):
            return list(c.named_children)
        if c.type == "lambda_literal":
            st = next((s for s in c.named_children if s.type == "statements"), None)
            return list(st.named_children) if st is not None else []
    return []


def modifiers(node: Any) -> list[Any]:
    return [c for c in node.named_children if c.type in ("modifiers", "parameter_modifiers")]


def annotations_of(node: Any) -> list[tuple[str, Any]]:
    """(name, argument node or None) of the annotations in a declaration's modifiers."""
    out = []
    for mods in modifiers(node):
        for a in mods.named_children:
            if a.type == "annotation":
                out.append(_annotation(a))
    return out


def _annotation(a: Any) -> tuple[str, Any]:
    inner = a.named_children[0] if a.named_child_count else None
    if inner is not None and inner.type == "constructor_invocation":
        ut = inner.named_children[0] if inner.named_child_count else None
        args = next((c for c in inner.named_children if c.type == "value_arguments"), None)
        return text(ut).rsplit(".", 1)[-1], args
    return text(inner).rsplit(".", 1)[-1], None


def class_annotations(node: Any) -> list[tuple[str, Any]]:
    """A class's annotations: in its modifiers, or, where the grammar misread them as a prefix
    expression, in the expression before the class or around it (arguments as a parenthesised
    expression next to the annotation)."""
    found = annotations_of(node)
    if found:
        return found
    chains = []
    p = node.parent
    while p is not None and p.type in ("prefix_expression", "annotated_expression"):
        chains.append(p)
        p = p.parent
    prev = node.prev_named_sibling
    while prev is not None and prev.type in ("line_comment", "multiline_comment"):
        prev = prev.prev_named_sibling
    if prev is not None and prev.type in ("prefix_expression", "annotation") and \
            node.start_point[0] - prev.end_point[0] <= 1:
        chains.append(prev)
    out: list[tuple[str, Any]] = []
    for chain in chains:
        _chain(chain, out, 0)
    return out


def _chain(node: Any, out: list[tuple[str, Any]], depth: int) -> None:
    """The annotations of a misread prefix-expression chain: `@A @B("x") ...` comes out as
    prefix_expression(annotation A, prefix_expression(annotation B, parenthesized_expression "x"))."""
    if depth > 32:
        return
    if node.type == "annotation":
        out.append(_annotation(node))
        return
    kids = node.named_children
    for i, c in enumerate(kids):
        if c.type == "annotation":
            name, args = _annotation(c)
            nxt = kids[i + 1] if i + 1 < len(kids) else None
            if args is None and nxt is not None and nxt.type == "parenthesized_expression":
                args = nxt
            out.append((name, args))
        elif c.type == "prefix_expression":
            _chain(c, out, depth + 1)


def ann_strings(args: Any, keys: tuple[str, ...] = ("value", "path")) -> list[tuple[Any, str]]:
    """(node, value) of an annotation's string values: the first positional argument or one of `keys`,
    arrays (`["/a", "/b"]`, `arrayOf(...)`) giving several."""
    if args is None:
        return []
    if args.type == "parenthesized_expression":
        vals = [args.named_children[0]] if args.named_child_count else []
    else:
        items = args_of(args)
        vals = [a for a in items if a.type != "value_argument"][:1]
        for k in keys:
            v = named_arg(items, k)
            if v is not None:
                vals.append(v)
    out = []
    for v in vals:
        elems = v.named_children if v.type == "collection_literal" else [v]
        if v.type == "call_expression" and text(v.named_children[0]) == "arrayOf":
            elems = args_of(v.named_children[-1])
        for e in elems:
            s = lit(e)
            if s is not None:
                out.append((e, s))
    return out


def enclosing_class(ctx: Ctx, node: Any) -> Any:
    p = node.parent
    while p is not None:
        if p.type in ("class_declaration", "object_declaration", "object_literal"):
            return p
        if p.type == "infix_expression" and p.named_child_count >= 3 and text(p.named_children[0]) == "class":
            return p
        p = p.parent
    return None


def visible(decl: Any) -> bool:
    mods = " ".join(text(m) for m in modifiers(decl))
    return not re.search(r"\b(private|protected|internal)\b", mods)


