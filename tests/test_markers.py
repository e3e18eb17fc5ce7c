"""Comment markers over annotated fixtures in several languages (tests/fixtures/history/markers/).

Markers are checked with the shared annotation format by viewing each one as an entity
`marker:<kind>` whose range is the marker's and whose attributes are its text and reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.model import Entity
from indexers.positions import SourceFile
from indexers.sources.notes.markers import MarkersExtractor
from tests.annotations import check, load_fixture

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "history" / "markers").iterdir())
EXTRACTOR = MarkersExtractor()


def _as_entities(markers):
    return [Entity(id=f"marker:{m.kind}", kind=f"marker.{m.kind}", name=m.text, repo=m.repo, path=m.path,
                   range=m.range, attrs={"ref": m.ref, "text": m.text}) for m in markers]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_marker_fixtures(path: Path) -> None:
    fixture = load_fixture(path)
    assert EXTRACTOR.wants(path.name)
    partial = EXTRACTOR.extract(SourceFile("shop", path.name, fixture.text.encode("utf-8")))
    assert fixture.expectations, "a fixture must expect something"
    check(_as_entities(partial.markers), partial.errors, fixture)


def test_wants() -> None:
    assert EXTRACTOR.wants("svc/a/main.go") and EXTRACTOR.wants("web/src/App.tsx")
    assert not EXTRACTOR.wants("web/node_modules/x/index.js")
    assert not EXTRACTOR.wants("vendor/github.com/x/y.go")
    assert not EXTRACTOR.wants("web/dist/app.min.js") and not EXTRACTOR.wants("README.md")


def test_no_markers_without_comments_and_no_crash_on_garbage() -> None:
    assert EXTRACTOR.extract(SourceFile("r", "a.py", b"todo_list = ['TODO: x']\n")).markers == []
    garbage = EXTRACTOR.extract(SourceFile("r", "a.go", b"\xff\xfe // TODO: broken {{{{ \x00 \n" * 50))
    assert [m.kind for m in garbage.markers] == ["todo"] * 50
    deep = EXTRACTOR.extract(SourceFile("r", "a.js", b"[" * 5000 + b" // TODO: deep\n"))
    assert [m.kind for m in deep.markers] == ["todo"]


def test_huge_file_is_reported_not_scanned() -> None:
    big = b"// TODO: x\n" * 200_000
    partial = EXTRACTOR.extract(SourceFile("r", "big.go", big))
    assert partial.markers == [] and "larger than" in partial.errors[0].reason


class _Node:
    def __init__(self, start: int, end: int):
        self.start_byte, self.end_byte = start, end


def test_comments_with_a_word_found_from_the_file_wide_search() -> None:
    """`_worded` maps the prefilter's matches over the whole file to the comments holding them; it must
    say what searching each comment on its own says, words crossing a comment's edge and overlapping
    captures included."""
    import random
    import re

    from indexers.sources.notes import markers

    rng = random.Random(5)
    words = [b"todo", b"note", b"xx", b"delete", b"//", b" ", b"a", b"\n", b"NOTE"]
    for _ in range(300):
        data = b"".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, 2 * rng.randint(0, 6))))
        nodes = [_Node(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
        if rng.random() < 0.1 and nodes:  # overlapping captures
            nodes.append(_Node(nodes[0].start_byte, nodes[-1].end_byte))
            nodes.sort(key=lambda n: n.start_byte)
        hits = [m.span() for m in markers._PREFILTER_LOWER.finditer(data.lower())]
        expected = {i for i, n in enumerate(nodes) if markers._PREFILTER.search(data, n.start_byte, n.end_byte)}
        assert markers._worded(nodes, hits, data) == expected, (data, [(n.start_byte, n.end_byte) for n in nodes])
    assert re.compile(markers._PREFILTER_LOWER.pattern, re.IGNORECASE).pattern == markers._PREFILTER.pattern
