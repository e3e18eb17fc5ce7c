"""Team notes below the interfaces: the note file format (round trip, validation with line and reason),
the symbols a note is anchored to in several languages, and re-attachment after the edits a codebase
sees (inserted lines, edited blocks, moved and renamed declarations, overloads, deleted code)."""

from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from indexers.model import TeamNote
from indexers.notes.anchor import make_anchor, split_lines
from indexers.notes.attach import attach
from indexers.notes.symbols import symbols
from indexers.positions import SourceFile
from indexers.sources.notes.teamnotes import TeamNotesExtractor, dump, parse

GO = """package cart

type Store struct {
	items map[string]int
}

// Add puts an item in the cart.
func (s *Store) Add(id string, n int) error {
	if n > 500 {
		return ErrTooMany
	}
	s.items[id] += n
	return nil
}

func (s *Store) Remove(id string) {
	delete(s.items, id)
}
"""

TS = """export class Cart {
  add(item: Item): void {
    if (this.items.length > 500) {
      throw new Error("cart full");
    }
    this.items.push(item);
  }

  clear = () => {
    this.items = [];
  };
}

export const total = (cart: Cart) => cart.items.length;
"""

PY = """import functools


@functools.cache
def rate(currency):
    table = load_rates()
    return table[currency]


class Converter:
    def convert(self, amount, currency):
        value = amount * rate(currency)
        return round(value, 2)

    def convert(self, amount, currency, places):  # redefinition: the later one wins at run time
        value = amount * rate(currency)
        value = value * 1
        return round(value, places)
"""


def placed(path: str, text: str, anchor_text: str, first: int, last: int) -> tuple[str, int, int, str]:
    """Anchor lines first..last (0-based) of `anchor_text`, then re-attach them in `text`."""
    a = make_anchor(path, anchor_text, first, last)
    p = attach(a, path, split_lines(text), symbols(path, text))
    return p.status, p.start_line, p.end_line, p.symbol


def test_symbols_in_several_languages() -> None:
    go = {s.name: (s.kind, s.start_line, s.end_line) for s in symbols("cart.go", GO)}
    assert go == {"Store": ("type", 2, 4), "Store.Add": ("method", 7, 13), "Store.Remove": ("method", 15, 17)}
    ts = {s.name: (s.kind, s.start_line, s.end_line) for s in symbols("cart.ts", TS)}
    assert ts == {"Cart": ("class", 0, 11), "Cart.add": ("method", 1, 6), "Cart.clear": ("method", 8, 10),
                  "total": ("function", 13, 13)}
    py = [(s.name, s.kind, s.start_line, s.end_line, s.name_line) for s in symbols("fx.py", PY)]
    assert py[0] == ("rate", "function", 3, 6, 4)  # the decorator belongs to the function
    assert [n for n, *_ in py] == ["rate", "Converter", "Converter.convert", "Converter.convert"]
    assert symbols("notes.txt", "def f(): pass") == ()


def test_a_declaration_line_anchors_the_whole_declaration() -> None:
    a = make_anchor("cart.go", GO, 7, 7)
    assert (a.symbol, a.symbol_kind, a.whole_symbol, a.start_line, a.end_line) == ("Store.Add", "method", True, 7, 13)
    a = make_anchor("fx.py", PY, 4, 4)  # the def line of a decorated function: from the decorator
    assert (a.symbol, a.whole_symbol, a.start_line, a.end_line) == ("rate", True, 3, 6)
    a = make_anchor("cart.go", GO, 8, 10)
    assert (a.symbol, a.whole_symbol, a.code[0]) == ("Store.Add", False, "\tif n > 500 {")
    assert a.before == ("// Add puts an item in the cart.", "func (s *Store) Add(id string, n int) error {")


def test_reattachment_after_edits() -> None:
    # lines inserted above, and the method moved below another
    moved = GO.replace("func (s *Store) Remove(id string) {\n\tdelete(s.items, id)\n}\n", "")
    moved = moved.replace("type Store", "// ErrTooMany is returned past 500 items.\nvar ErrTooMany = errors.New(\"too many\")\n\ntype Store")
    moved += "\nfunc (s *Store) Remove(id string) {\n\tdelete(s.items, id)\n}\n"
    assert placed("cart.go", moved, GO, 8, 10) == ("moved", 11, 13, "Store.Add")
    assert placed("cart.go", moved, GO, 15, 15)[0:2] == ("moved", 19)
    # edits inside the anchored block: a changed line, an inserted line
    edited = GO.replace("if n > 500 {", "if n > s.limit {").replace("\t\treturn ErrTooMany\n", "\t\tlog.Printf(\"full\")\n\t\treturn ErrTooMany\n")
    assert placed("cart.go", edited, GO, 8, 10) == ("edited", 8, 11, "Store.Add")
    assert placed("cart.go", edited, GO, 7, 7) == ("edited", 7, 14, "Store.Add")
    # TypeScript: the method moved into another class, an arrow function renamed
    ts = TS.replace("export class Cart {", "export class Basket {").replace("clear = () =>", "empty = () =>")
    assert placed("cart.ts", ts, TS, 1, 1) == ("moved", 1, 6, "Basket.add")
    assert placed("cart.ts", ts, TS, 2, 4)[0:3] == ("exact", 2, 4)
    # a redefinition: the one whose body is the anchored one
    assert placed("fx.py", PY, PY, 14, 14) == ("exact", 14, 17, "Converter.convert")
    swapped = PY.replace("value = value * 1\n", "value = value * 1.0\n")
    assert placed("fx.py", swapped, PY, 10, 10) == ("exact", 10, 12, "Converter.convert")


DUP = """def _test_connect(server):
    connect = server.requests[0]
    assert connect.method == "CONNECT"
    assert connect.host == "a"


def _test_connect_with_port(server):
    connect = server.requests[0]
    assert connect.method == "CONNECT"
    assert connect.host == "b"
"""


def test_copies_of_the_lines_are_told_apart_by_their_symbol() -> None:
    # both tests renamed, and lines above moving the first one's old place into the second
    renamed = DUP.replace("def _test_connect", "def xtest_connect")
    renamed = "import pytest\n\n\n@pytest.mark.skip\n" + renamed.replace("\n\n\ndef xtest_connect_with_port", "\n\n\n@pytest.mark.skip\ndef xtest_connect_with_port")
    assert placed("t.py", renamed, DUP, 1, 2) == ("moved", 5, 6, "xtest_connect")
    # the anchored lines edited in their function, an unchanged copy elsewhere: the edited ones
    edited = DUP.replace('    assert connect.method == "CONNECT"\n    assert connect.host == "a"',
                         '    assert connect.method == "CONNECT"  # always\n    assert connect.host == "a"', 1)
    assert placed("t.py", edited, DUP, 1, 2)[:3] == ("edited", 1, 2)
    assert placed("t.py", DUP.replace("def _test_connect(", "def other("), DUP, 1, 2)[:3] == ("exact", 1, 2)


def test_deleted_code_is_orphaned_not_guessed() -> None:
    gone = GO.replace("\tif n > 500 {\n\t\treturn ErrTooMany\n\t}\n", "")
    assert placed("cart.go", gone, GO, 8, 10)[0] == "orphaned"
    assert placed("cart.go", gone, GO, 7, 7)[0] == "edited"  # the method itself is still there
    assert placed("cart.go", GO.replace("func (s *Store) Remove(id string) {\n\tdelete(s.items, id)\n}\n", ""), GO, 15, 15)[0] == "orphaned"
    # a trivial line ('}') is never searched for on its own
    assert placed("cart.go", "package cart\n\n}\n}\n", GO, 10, 10)[0] == "orphaned"


def note(text: str = "Keep the limit at 500 (INC-7).", kind: str = "warning", **extra: object) -> TeamNote:
    return TeamNote("3f9c2a1b", "", ".lore/notes/3f9c2a1b.toml", kind, text, make_anchor("cart.go", GO, 8, 10, commit="a" * 40),
                    author="Ada Lovelace <ada@example.com>", created="2024-05-01T12:00:00+00:00", **extra)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=1, max_size=300).filter(lambda t: t.strip()),
       code=st.lists(st.text(max_size=60).map(lambda s: s.replace("\n", "").replace("\r", "")), max_size=5),
       agent=st.text(max_size=20), refs=st.lists(st.text(min_size=1, max_size=30), max_size=3))
def test_dump_then_parse_is_the_same_note(text: str, code: list[str], agent: str, refs: list[str]) -> None:
    from dataclasses import replace

    from indexers.sources.notes.teamnotes import clean_text

    n = note(text, agent=agent, refs=tuple(refs))
    n = replace(n, anchor=replace(n.anchor, code=tuple(code)))
    if not clean_text(text):
        return
    back, err = parse("r", n.path, dump(n))
    assert err is None, err
    assert back is not None
    assert back.text == clean_text(text) and back.anchor == n.anchor and back.refs == n.refs
    assert (back.kind, back.author, back.agent, back.created, back.id) == (n.kind, n.author, n.agent, n.created, n.id)


def test_bad_files_are_errors_with_line_and_reason() -> None:
    good = dump(note())
    cases = {
        "bad toml": ('kind = "tip"\ntext = \n', 1, "not valid TOML"),
        "no text": (good.replace('text = """\nKeep the limit at 500 (INC-7).\n"""', 'text = ""'), 2, "text is empty"),
        "escape": (good.replace('path = "cart.go"', 'path = "../secrets/cart.go"'), None, "anchor.path must be a path inside"),
        "absolute": (good.replace('path = "cart.go"', 'path = "/etc/passwd"'), None, "anchor.path must be a path inside"),
        "git dir": (good.replace('path = "cart.go"', 'path = ".git/config"'), None, "anchor.path must be a path inside"),
        "lines": (good.replace("lines = [9, 11]", "lines = [11, 9]"), None, "anchor.lines must be"),
        "kind": (good.replace('kind = "warning"', 'kind = "gossip"'), 1, "kind must be one of"),
        "refs": (good.replace('author =', 'refs = [1]\nauthor ='), None, "refs must be a list"),
        "commit": (good.replace('commit = "' + "a" * 40, 'commit = "--upload-pack=x'), None, "anchor.commit"),
    }
    for name, (content, line, reason) in cases.items():
        n, err = parse("r", ".lore/notes/3f9c2a1b.toml", content)
        assert n is None and err is not None, name
        assert reason in err.reason, (name, err.reason)
        if line is not None:
            assert err.line == line, (name, err.line)
        elif name not in ("refs",):
            assert err.line is not None, name  # the key's line
    n, err = parse("r", ".lore/notes/not an id!.toml", good)
    assert n is None and err is not None and "a note file is .lore/notes/<id>.toml" in err.reason
    ex = TeamNotesExtractor()
    assert ex.wants(".lore/notes/3f9c2a1b.toml") and not ex.wants(".lore/notes/a/b.toml") and not ex.wants("notes/x.toml")
    nested = ex.extract(SourceFile("r", "src/.lore/notes/3f9c2a1b.toml", good.encode()))  # read, to say where notes go
    assert not nested.notes and "at the repository's root" in nested.errors[0].reason
    big = ex.extract(SourceFile("r", ".lore/notes/3f9c2a1b.toml", b"#" * 70_000))
    assert not big.notes and "larger than" in big.errors[0].reason


def test_a_written_file_reads_as_toml_a_reviewer_can_follow() -> None:
    doc = tomllib.loads(dump(note(agent="claude-code", refs=("INC-7",))))
    assert list(doc)[:2] == ["kind", "text"]  # what a reviewer reads first
    assert doc["agent"] == "claude-code" and doc["anchor"]["code"][0] == "\tif n > 500 {"
