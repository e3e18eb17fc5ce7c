"""The stems every word rule of the history classifier needs, searched as one alternation grouped by first
letter (`indexers.history.words.by_first_letter`): it must find a stem exactly where the plain alternation
of the same stems does."""

from __future__ import annotations

import random
import re

from indexers.history import words


def test_grouped_stems_match_where_the_plain_alternation_does() -> None:
    plain = re.compile("|".join(words.STEMS))
    assert words._ANY_WORD.pattern == words.by_first_letter(words.STEMS)
    rng = random.Random(11)
    pieces = [s.replace("(?:", "").replace("-?\\d", "-4").replace("[#\\da-f]", "#").split("|")[0] for s in words.STEMS]
    filler = ["a", "b", " ", "-", "x", "in", "be ", "pr ", "commit ", "4", "#", "e", "s", "t", "fo", "r now"]
    for _ in range(20000):
        parts = [rng.choice(filler) for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.5:
            word = rng.choice(pieces)
            cut = rng.randint(1, len(word)) if rng.random() < 0.5 else len(word)  # whole, or a prefix only
            parts.insert(rng.randint(0, len(parts)), word[:cut])
        text = "".join(parts)
        assert bool(words._ANY_WORD.search(text)) == bool(plain.search(text)), text
    for text in ("nothing here", "a hotfix", "be reverted", "see pr #12", "inc-7", "inc7", "for now", "fornow"):
        assert bool(words._ANY_WORD.search(text)) == bool(plain.search(text)), text


def test_grouping_keeps_every_stem() -> None:
    assert words.by_first_letter(["ab", "ac", "d", "a"]) == "a(?:b|c|)|d"
    assert re.fullmatch(words.by_first_letter(["ab", "ac", "d", "a"]), "a")
