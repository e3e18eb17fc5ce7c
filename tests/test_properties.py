"""Property-based tests: every parser survives arbitrary and mutated input, positions round-trip, and
rendered markdown never carries repository-written HTML, links or control characters.

Seeds are the project's own fixture files (real-world shaped contracts, manifests and code), grouped by
the extractor module that handles them; hypothesis mutates them (deletes, duplicates, inserts hostile
fragments and bytes) or replaces them with arbitrary bytes. The properties: no extractor crashes (a
crash shows up as an 'extractor failed' FileError, since `extract_file` guards every call), and every
range returned lies inside the file as LSP sees it (0-based lines, UTF-16 columns, end exclusive).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexers.extract import extract_file
from indexers.model import FileFacts, Location, Note, Section, Span
from indexers.positions import SourceFile, utf16_len, utf16_to_char_col
from indexers.sources import registry
from lore.query.brief import render_brief
from lore.query.context import Context
from lore.query.render import code, escape_inline, escape_md, render_text

FIXTURES = Path(__file__).parent / "fixtures"
MAX_SEED = 30_000


def _seeds() -> dict[str, list[tuple[str, bytes]]]:
    """Fixture files by the extractor module that wants them: {module: [(repo path, bytes)]}."""
    groups: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for f in sorted(FIXTURES.rglob("*")):
        if not f.is_file() or f.suffix == ".expect" or f.stat().st_size > MAX_SEED:
            continue
        rel = f.relative_to(FIXTURES).as_posix().split("/", 1)[1]
        if f.parent.name == "adr":
            rel = "docs/adr/" + f.name
        wanted = registry.for_path(rel)
        if not wanted:
            continue
        modules = {type(e).__module__.removeprefix(f"{registry.__package__}.") for e in wanted}
        for mod in modules:
            groups[mod].append((rel, f.read_bytes()))
    return dict(groups)


SEEDS = _seeds()
MODULES = sorted(registry.MODULES)


def test_every_extractor_module_has_seeds() -> None:
    assert set(MODULES) <= set(SEEDS), f"no fixture seeds for {set(MODULES) - set(SEEDS)}"


# -- checking a result ---------------------------------------------------------------------------------

def _spans(ff: FileFacts) -> list[tuple[str, Span]]:
    out: list[tuple[str, Span]] = []
    for e in ff.entities:
        out.append((f"entity {e.id}", e.range))
        if e.extent is not None:
            out.append((f"extent {e.id}", e.extent))
    out += [(f"usage {u.kind} {u.name}", u.range) for u in ff.usages]
    out += [(f"service {s.name}", s.range) for s in ff.services]
    out += [(f"marker {m.kind}", m.range) for m in ff.markers]
    return out


def check_facts(path: str, data: bytes) -> FileFacts:
    ff = extract_file("r", path, data)
    crashed = [e.reason for e in ff.errors if "extractor failed" in e.reason or "nested too deeply" in e.reason]
    assert not crashed, crashed
    src = SourceFile("r", path, data)
    widths = [utf16_len(line.removesuffix("\r")) for line in src.lines]
    for what, s in _spans(ff):
        assert 0 <= s.start_line <= s.end_line < len(widths), (what, s, len(widths))
        assert (s.start_line, s.start_col) <= (s.end_line, s.end_col), (what, s)
        assert 0 <= s.start_col <= widths[s.start_line], (what, s, widths[s.start_line])
        assert 0 <= s.end_col <= widths[s.end_line], (what, s, widths[s.end_line])
    for err in ff.errors:
        assert err.line is None or 0 <= err.line < len(widths), (err, len(widths))
        assert err.reason and err.path == path
    return ff


# -- arbitrary bytes and mutations ---------------------------------------------------------------------

FRAGMENTS = [
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n", b"\t", b"{", b"}", b"[", b"]", b"(", b")", b"<", b">",
    b"&a ", b"*a", b"<<: *a", b"!!python/object:os.system", b"'", b'"', b"`", b"\\", b"#", b"//", b"/*", b"*/", b"--",
    b"---\n", b"...\n", b"$ref: '#/x'", b'"$ref": "#/components/schemas/A"', b"message ", b"service ", b"rpc ",
    b"type ", b"CREATE TABLE ", b"ALTER TABLE x ADD COLUMN ", b"def ", b"func ", b"class ", b"TODO: ", b"HACK(#1): ",
    "😀".encode(), "é".encode(), "e\u0301".encode(), "\u202e".encode(), "\u2028".encode(), "\x85".encode(),
    b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"=" * 50, b" " * 200, b"a" * 5000,
]


@st.composite
def mutated(draw: st.DrawFn, module: str) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(SEEDS[module]))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(buf)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "bytes", "truncate"]))
        if op == "delete":
            del buf[at:at + draw(st.integers(1, 200))]
        elif op == "insert":
            buf[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif op == "duplicate":
            end = min(len(buf), at + draw(st.integers(1, 400)))
            buf[at:at] = buf[at:end] * draw(st.integers(1, 4))
        elif op == "bytes":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del buf[at:]
    return path, bytes(buf)


@pytest.mark.parametrize("module", MODULES)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_files_never_crash_and_ranges_stay_inside(module: str, data: st.DataObject) -> None:
    path, content = data.draw(mutated(module))
    check_facts(path, content)


@pytest.mark.parametrize("module", MODULES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_bytes_never_crash(module: str, data: st.DataObject) -> None:
    path, _seed = data.draw(st.sampled_from(SEEDS[module]))
    content = data.draw(st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join),
    ))
    check_facts(path, content)


# -- positions -----------------------------------------------------------------------------------------

LINE_TEXT = st.lists(st.sampled_from(list("ab \t{}=;") + ["é", "e\u0301", "\u0308", "😀", "𝕏", "\U0010fffd", "中",
                                                          "\u200d", "\r\n", "\r", "\n", "\ufeff", "\u2028", "\x85"]),
                     max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=LINE_TEXT, bom=st.booleans())
def test_positions_round_trip(text: str, bom: bool) -> None:
    raw = ("\ufeff" if bom else "") + text
    src = SourceFile("r", "a.proto", raw.encode("utf-8"))
    # Lines as LSP counts them: CRLF, CR and LF each end one line; a leading BOM is not text.
    lsp_lines = raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert [ln.removesuffix("\r") for ln in src.lines] == lsp_lines
    for row, line in enumerate(src.lines):
        raw_line = src.line_bytes[row]
        byte_at = 0
        for i, ch in enumerate(line):
            col = src.col_from_char(row, i)
            assert col == utf16_len(line[:i]) == len(line[:i].encode("utf-16-le")) // 2
            assert utf16_to_char_col(line, col) == i
            assert src.col_from_byte(row, byte_at) == col
            byte_at += len(ch.encode("utf-8"))
        assert src.col_from_byte(row, len(raw_line)) == utf16_len(line)
        assert utf16_to_char_col(line, 10**6) == len(line)


@settings(max_examples=100, deadline=None)
@given(text=LINE_TEXT, a=st.integers(0, 200), b=st.integers(0, 200))
def test_span_of_offset_matches_lines(text: str, a: int, b: int) -> None:
    src = SourceFile("r", "a.proto", text.encode("utf-8"))
    start, end = sorted((min(a, len(src.text)), min(b, len(src.text))))
    span = src.span_of_offset(start, end)
    before = src.text[:start]
    assert span.start_line == before.count("\n")
    assert span.start_col == utf16_len(before.rsplit("\n", 1)[-1])
    assert (span.start_line, span.start_col) <= (span.end_line, span.end_col)


# -- rendering repository text -------------------------------------------------------------------------

HOSTILE = [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](command:workbench.action.terminal.new)",
    "[x]( command:evil )", "![i](https://evil/x.png)", "<a href='vscode:extension/x'>y</a>", "`code` ``x``",
    "\u202eevil\u202c", "\u2066x\u2069", "COMMAND :x", "javascript:alert(1)", "data:text/html,<b>", "&lt;img&gt;",
    "# heading", "> quote", "1. item", "| a | b |", "***bold***", "<https://autolink>", "\\<b>", "\x00\x1b[31m",
    "[x]: command:ref", "[x][ref]", "<!-- c -->", "<?php ?>", "<![CDATA[x]]>",
]
REPO_TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=120),
                      st.lists(st.sampled_from(HOSTILE + ["a", " ", "\n", ":", "(", ")"]), max_size=8).map("".join))
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?!`)[^\n]*?(?<!`)\1(?!`)")  # a code span: a run of n backticks to the next run of n


def _assert_safe_markdown(md: str, allowed_links: set[str]) -> None:
    assert not any(ch in md for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x00\x1b"), repr(md)
    outside = _CODE_SPAN.sub("", md)  # code spans are literal text in CommonMark: no HTML, no links
    for target in allowed_links:
        outside = outside.replace(f"]({target})", "]")
    # no raw HTML, no autolinks: in CommonMark both start with `<` and a letter, `/`, `!` or `?`
    assert not re.search(r"<[A-Za-z/!?]", outside), md
    assert "](" not in outside.replace("\\](", ""), md  # no inline links or images but Lore's own
    assert not re.search(r"(?i)\b(command|vscode|javascript|data)\s*:", outside), md
    assert not re.search(r"(?m)^\s*(?<!\\)\[[^\]]*(?<!\\)\]:", outside), md  # no reference definitions


@settings(max_examples=150, deadline=None)
@given(title=REPO_TEXT, texts=st.lists(REPO_TEXT, min_size=1, max_size=4), sources=st.lists(REPO_TEXT, min_size=1, max_size=4),
       problem=REPO_TEXT, linked=st.booleans())
def test_markdown_escapes_repository_text(title: str, texts: list[str], sources: list[str], problem: str, linked: bool) -> None:
    loc = Location("r", "a b/ü.proto", Span(1, 0, 1, 3))
    notes = tuple(Note(text=t, source=s, location=loc) for t, s in zip(texts, sources * 4, strict=False))
    # the same repository text as an entity, a consumer, a commit and a service: every path of the hover
    entity = Note(texts[0], sources[0], "entity", loc, {"id": title, "kind": "proto.rpc", "name": texts[0],
                                                        "description": problem, "attrs": {"deprecated": True}})
    consumer = Note(texts[0], sources[0], "consumer", loc, {"service": title, "repo": problem, "count": 3,
                                                            "language": texts[0]})
    commit = Note(texts[0], "a" * 40, "workaround", loc, {"label": title, "subject": texts[0], "author": problem,
                                                          "date": sources[0], "refs": texts, "reverts": problem})
    service = Note(texts[0], sources[0], "service", None, {"service": title, "languages": texts})
    owner = Note(texts[0], sources[0], "owner", None, {"owner": texts})
    sections = (Section("contract", title, (entity, *notes)), Section("links", title, (consumer,)),
                Section("history", title, (commit, *notes)), Section(title, title, notes),
                Section("service", title, (service, owner)))
    ctx = Context("r", "a.proto", 0, None, sections, problems=(problem,))
    target = "file:///w/a%20b/%C3%BC.proto#L2"
    md = render_brief(ctx, resolve=(lambda _loc: target) if linked else None)
    _assert_safe_markdown(md, {target} if linked else set())
    alone = Context("r", "a.proto", 0, None, (Section("service", title, (service, owner)),))
    _assert_safe_markdown(render_brief(alone), set())
    text = render_text(ctx)
    assert not any(ch in text for ch in "\u202e\u2066\x00\x1b")


@pytest.mark.parametrize("payload", HOSTILE)
def test_escape_md_on_known_payloads(payload: str) -> None:
    _assert_safe_markdown(escape_md(payload), set())
    _assert_safe_markdown("x " + escape_inline(payload), set())
    _assert_safe_markdown(code(payload), set())


@pytest.mark.parametrize(("text", "shown"), [
    ("rpc GetCart(GetCartRequest) returns (Cart)", "rpc GetCart(GetCartRequest) returns (Cart)"),
    ("checkout/cart_client.py:19", "checkout/cart_client.py:19"),
    ("Work around Redis timeout (#42) - cap at 500!", "Work around Redis timeout (#42) - cap at 500!"),
    ("a < b && c > d, R&D, 50% off, $HOME, {x}, a|b, 1.5", "a < b && c > d, R&D, 50% off, $HOME, {x}, a|b, 1.5"),
    ("_private and *stars*", "\\_private and \\*stars\\*"),
    ("[link](x)", "\\[link\\](x)"),
])
def test_escape_md_escapes_only_what_markdown_needs(text: str, shown: str) -> None:
    """Editors that show markdown source (Neovim) show every backslash: none where markdown needs none."""
    assert escape_md(text) == shown
