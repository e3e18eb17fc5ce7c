"""Costly rules read only where a cheap necessary condition holds.

A word rule such as "a removal verb, then up to 50 characters, then *workaround*" is tried by the regex engine
at every offset of every message, and most messages never contain the word it ends on. `Gated` first looks
for words that every match of the rule contains (compiled with the rule's own flags, so case folding is the
same) and runs the rule only where they are all there: the same answer, without walking the rule's
alternatives over text that cannot match. Each gate is written next to its rule, from the rule's source;
`tests/test_history_gated.py` compares gated and plain searches over texts drawn from each rule's own parse
tree, and catches a gate that leaves out any one of its words.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence


class Gated:
    """`pattern`, searched only in text where each of `gates` (words, any of which will do) is found. Every
    gate must hold wherever `pattern` matches: that is what makes the answer the pattern's own. A word is
    plain text; written `\\bword`, it must start a word (`rce`, not the end of "source").

    ASCII text (nearly every commit message) is lower-cased once and the words looked for as substrings, which
    is exact there: case-insensitive matching of ASCII words finds only ASCII letters in ASCII text. Other text
    is searched with the words compiled under the pattern's flags, so that case folding is the pattern's own
    (`re.IGNORECASE` lets `s` match `ſ`, `k` match the Kelvin sign)."""

    __slots__ = ("_lower", "_split", "gates", "pattern", "words")

    def __init__(self, pattern: re.Pattern[str], *gates: Sequence[str]):
        self.pattern = pattern
        self._lower = bool(pattern.flags & re.IGNORECASE)
        self.words: tuple[tuple[tuple[str, bool], ...], ...] = tuple(
            tuple((_word(w).lower() if self._lower else _word(w), w.startswith("\\b")) for w in gate) for gate in gates)
        self.gates = tuple(re.compile("|".join(("\\b" if start else "") + re.escape(w) for w, start in words), pattern.flags)
                           for words in self.words)
        # per gate: the plain words, then those that must start a word
        self._split = tuple((tuple(w for w, start in words if not start), tuple(w for w, start in words if start))
                            for words in self.words)

    def _open(self, text: str) -> bool:
        global _memo
        if text.isascii():
            if not self._lower:
                low = text
            else:
                memo = _memo  # one tuple, read and replaced whole: safe between threads
                if memo[0] is text:
                    low = memo[1]
                else:
                    low = text.lower()
                    _memo = (text, low)  # the rules of one message read the same subject or prose in turn
            for plain, starting in self._split:
                if not (any(w in low for w in plain) or any(_found(low, w) for w in starting)):
                    return False
            return True
        return all(gate.search(text) for gate in self.gates)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.pattern.search(text, pos, endpos) if self._open(_between(text, pos, endpos)) else None

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text, pos, endpos) if self._open(_between(text, pos, endpos)) else iter(())

    def sub(self, repl: str, text: str) -> str:
        return self.pattern.sub(repl, text) if self._open(text) else text


def _between(text: str, pos: int, endpos: int) -> str:
    """The text a search from `pos` to `endpos` reads: offsets clamped to the text as `re` clamps them (a
    negative one is 0, not counted from the end as a slice would)."""
    if pos <= 0 and endpos >= len(text):
        return text
    return text[max(pos, 0):max(endpos, 0)]


def _word(w: str) -> str:
    plain = w.removeprefix("\\b")
    assert plain.isascii() and all(ch.isalnum() or ch in " -_" for ch in plain), w  # plain text, ASCII
    return plain


def _found(low: str, word: str) -> bool:
    """Whether `word` is in `low` (ASCII) where no word character comes just before it."""
    at = low.find(word)
    while at > 0 and (low[at - 1].isalnum() or low[at - 1] == "_"):
        at = low.find(word, at + 1)
    return at >= 0


_memo: tuple[str, str] = ("", "")  # the last text lower-cased, and its lower case
