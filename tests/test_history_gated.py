"""The history classifier's gated rules (`indexers.history.gated.Gated`): a costly pattern is searched only
where words that every match of it contains are there. The gate must never change an answer: each gated
rule of the classifier is compared with its plain pattern over texts drawn from the pattern itself (every
alternative of it, in any case; lookarounds left out, so some of them do not match) and over near misses
built from its words, in ASCII and in text that is not (where case folding reaches `ſ` and the Kelvin
sign)."""

from __future__ import annotations

import random
import re
import re._parser as sre  # the regex parser: the test draws texts from a rule's own parse tree
import string

import pytest

from indexers.history import classify, words
from indexers.history.gated import Gated

RULES = {f"{mod.__name__}.{name}": rule for mod in (words, classify) for name, rule in vars(mod).items()
         if isinstance(rule, Gated)}
_SEPARATORS = (" ", " ", " ", "  ", "-", "\n", ". ", ", ", ": ", "", "'")
_EXTRA = ("1a2b3c4d", "#4412", "1.21", "21.6.2", "v3", "7", "the", "this", "it", "a", "is", "no", "not", "for", "now",
          "once", "when", "until", "again", "in", "by", "commit", "pr")
_NON_ASCII = (("s", "ſ"), ("k", "\u212a"), ("e", "é"), ("i", "İ"))


def _texts(rule: Gated, seed: int, n: int) -> list[str]:
    vocab = sorted(set(re.findall(r"[A-Za-z]{2,}", rule.pattern.pattern)) | set(_EXTRA)
                   | {w.removeprefix("\\b") for gate in rule.words for w, _ in gate})
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 7)):
            word = rng.choice(vocab)
            word = word.upper() if rng.random() < 0.1 else word.capitalize() if rng.random() < 0.2 else word
            if rng.random() < 0.15:
                word = rng.choice(("re", "un", "x", "_")) + word  # a word inside another ("source")
            parts += [word, rng.choice(_SEPARATORS)]
        text = "".join(parts)
        if rng.random() < 0.25:
            plain, other = rng.choice(_NON_ASCII)
            text = text.replace(plain, other, 1) if rng.random() < 0.7 else text + " " + other
        out.append(text)
    return out


def _span(m: re.Match[str] | None) -> tuple[int, int] | None:
    return m.span() if m is not None else None


def _disagreement(rule: Gated, texts: list[str]) -> str | None:
    """The first text where the gated rule and its plain pattern answer differently (searched whole and
    between offsets, and substituted), or None."""
    for text in texts:
        end = max(0, len(text) - 2)
        if (_span(rule.search(text)) != _span(rule.pattern.search(text))
                or _span(rule.search(text, 2, end)) != _span(rule.pattern.search(text, 2, end))
                or rule.sub(" ", text) != rule.pattern.sub(" ", text)
                or [m.span() for m in rule.finditer(text)] != [m.span() for m in rule.pattern.finditer(text)]
                or [m.span() for m in rule.finditer(text, 2, end)] != [m.span() for m in rule.pattern.finditer(text, 2, end)]):
            return text
    return None


def test_the_classifier_gates_its_costly_rules() -> None:
    assert {"indexers.history.words._SECURITY", "indexers.history.words._REMOVAL",
            "indexers.history.classify._REGRESSED_IN"} <= set(RULES)


_CATEGORY = {sre.CATEGORY_DIGIT: string.digits, sre.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
             sre.CATEGORY_SPACE: " \n\t", sre.CATEGORY_NOT_WORD: " .-#'", sre.CATEGORY_NOT_SPACE: "ax1."}


def _draw(tree: sre.SubPattern | list, rng: random.Random, fold: bool) -> str:
    """A text the parsed pattern could match, its alternatives and repeats chosen at random."""
    out = []
    for op, av in tree:
        if op is sre.LITERAL:
            ch = chr(av)
            out.append(ch.swapcase() if fold and rng.random() < 0.2 else ch)
        elif op is sre.NOT_LITERAL or op is sre.ANY:
            out.append(rng.choice(" x.") if op is sre.ANY or chr(av) != "x" else " ")
        elif op is sre.IN:
            chars = [c for kind, v in av for c in (
                [chr(v)] if kind is sre.LITERAL else [chr(x) for x in range(v[0], v[1] + 1)] if kind is sre.RANGE
                else list(_CATEGORY.get(v, "")) if kind is sre.CATEGORY else [])]
            negate = any(kind is sre.NEGATE for kind, _ in av)
            out.append(rng.choice([c for c in " ax1-#" if c not in chars] if negate else chars or ["x"]))
        elif op is sre.BRANCH:
            out.append(_draw(rng.choice(av[1]), rng, fold))
        elif op is sre.SUBPATTERN:
            out.append(_draw(av[3], rng, fold))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, sub = av
            out.extend(_draw(sub, rng, fold) for _ in range(rng.randint(low, min(high, low + 3))))
        elif op is sre.CATEGORY:
            out.append(rng.choice(_CATEGORY.get(av, "x")))
    return "".join(out)


def _drawn(rule: Gated, seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    tree = sre.parse(rule.pattern.pattern, rule.pattern.flags)
    fold = bool(rule.pattern.flags & re.IGNORECASE)
    out = []
    for _ in range(n):
        text = rng.choice(("", "see ", "Fix: ", "a\n")) + _draw(tree, rng, fold) + rng.choice(("", ".", " now", "\n"))
        if rng.random() < 0.2:
            plain, other = rng.choice(_NON_ASCII)
            text = text.replace(plain, other, 1)
        out.append(text)
    return out


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_gated_rule_answers_as_its_pattern(name: str) -> None:
    rule = RULES[name]
    drawn = _drawn(rule, seed=len(name), n=3000)
    assert sum(rule.pattern.search(t) is not None for t in drawn) >= 300, "the drawn texts must match, most of them"
    assert _disagreement(rule, drawn) is None
    assert _disagreement(rule, _texts(rule, seed=len(name), n=2000)) is None


def test_a_gate_that_misses_one_of_the_rules_words_is_caught() -> None:
    # _REGRESSION_CAUSE also matches "#4412 broke it", which has no "regress" in it
    full = words._REGRESSION_CAUSE
    assert isinstance(full, Gated)
    assert _disagreement(Gated(full.pattern, ("regress",)), _drawn(full, seed=3, n=3000)) is not None


def test_a_word_that_must_start_a_word() -> None:
    rule = Gated(re.compile(r"\b(?:fix(?:es)?)\s+(?:rce|xss)\b", re.IGNORECASE), ("\\brce", "xss"))
    assert rule.search("Fixes RCE in the parser") is not None and rule.search("fix rce") is not None
    assert rule.search("fixes source") is None
    assert not rule._open("resource and force") and not rule._open("a_rce")
    assert rule._open("a_x rce") and rule._open("rce") and rule._open("source, rce")


def test_offsets_are_clamped_as_re_clamps_them() -> None:
    rule = Gated(re.compile(r"\bhack\b", re.IGNORECASE), ("hack",))
    text = "hack: skip it"
    for pos, endpos in ((-3, 99), (0, -1), (-20, 4), (5, 2), (1, 4), (0, 4)):
        assert _span(rule.search(text, pos, endpos)) == _span(rule.pattern.search(text, pos, endpos)), (pos, endpos)
        assert [m.span() for m in rule.finditer(text, pos, endpos)] == \
            [m.span() for m in rule.pattern.finditer(text, pos, endpos)], (pos, endpos)


def test_non_ascii_text_is_folded_as_the_pattern_folds_it() -> None:
    rule = Gated(re.compile(r"\bsecurity\s+fix\b", re.IGNORECASE), ("security",))
    for text in ("ſecurity fix", "SECURITY FIX é", "\u212a security fix"):
        assert (rule.search(text) is None) == (rule.pattern.search(text) is None), text
    assert rule.search("ſecurity fix") is not None
