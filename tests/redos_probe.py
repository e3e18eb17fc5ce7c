"""Feed every regular expression the indexers compile adversarial text, in a process of its own.

`python -m tests.redos_probe [NAME ...]` collects the module-level compiled patterns of every `indexers`
module, builds for each a set of hostile inputs from its own alphabet (runs of one character, a keyword
of the pattern followed by a run, a keyword and a character repeated), and runs the pattern over each (200,000 characters) the
way the code uses it (read from the module's source: `.match`/`.fullmatch` only, a match at the start;
otherwise a search, a match attempt at every position). A linear pattern reads one input in
milliseconds; one with nested or overlapping repeats needs ~4*10^10 steps on some input and is stopped by
SIGALRM after ALARM seconds. One line per pattern:
`ok NAME` or `SLOW NAME INPUT`. Patterns only ever applied to text of bounded length are run at that
length (BOUNDED), which the code enforces."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import signal
import sys
from typing import Any

import indexers
from indexers.sources.code.facts import MAX_FLAT

N = 200_000
ALARM = 10  # seconds per input: a linear pattern needs milliseconds for 2*10^5 characters, a quadratic one 4*10^10 steps
ALWAYS = " \t\na0_"

# Patterns applied only to text whose length the code bounds (a name read through `langs.common.name_text`
# or `facts.flat`: at most MAX_FLAT characters).
BOUNDED: dict[str, int] = {
    f"indexers.sources.code.langs.{name}": MAX_FLAT for name in (
        "cpp._BASE", "cpp._STUB_TYPE", "ruby._SERVICE", "ruby._STUB", "ruby._OBJECT_BASES")}
# Tokenizers: matched at one position after another, each match starting where the last ended, until the
# `bad` alternative (an unterminated string or comment, reported once: the rest of the file is skipped).
TOKENIZERS = {"indexers.sources.contracts.sql.tokens._TOKEN", "indexers.sources.contracts.sql.tokens._TOKEN_MYSQL"}


def _tokenize(pattern: re.Pattern[Any], data: Any) -> None:
    pos = 0
    while pos < len(data):
        m = pattern.match(data, pos)
        if m is None or m.lastgroup == "bad":
            return
        pos = m.end()


class Slow(Exception):
    pass


ANCHORED = ("match", "fullmatch")


def methods(name: str) -> set[str]:
    """How the module that defines the pattern calls it: `.search(`, `.match(`, `.sub(`, ..."""
    module, _, attr = name.rpartition(".")
    source = inspect.getsource(importlib.import_module(module))
    found = set(re.findall(rf"\b{re.escape(attr)}\.(search|match|fullmatch|sub|subn|finditer|findall|split)\(", source))
    return found or {"search"}


def patterns() -> dict[str, re.Pattern[Any]]:
    found: dict[str, re.Pattern[Any]] = {}
    seen: set[int] = set()
    for info in pkgutil.walk_packages(indexers.__path__, "indexers."):
        module = importlib.import_module(info.name)
        for attr, value in vars(module).items():
            if isinstance(value, re.Pattern) and id(value) not in seen:
                seen.add(id(value))
                found[f"{info.name}.{attr}"] = value
    return found


def _words(source: str) -> list[str]:
    words = sorted(set(re.findall(r"[A-Za-z]{2,}", source)), key=lambda w: (-len(w), w))
    return ["", *words[:4]]


def _alphabet(source: str) -> list[str]:
    """The punctuation the pattern names (escaped or not), plus blanks, a letter, a digit, `_`."""
    return sorted({c for c in source if not c.isalnum() and c.isprintable() and c != " "} | set(ALWAYS))


def inputs(pattern: re.Pattern[Any], n: int) -> list[str]:
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
    out = []
    for word in _words(source):
        for c in _alphabet(source):
            out.append(word + c * n + "\x01")
            if word:
                out.append((word + c) * (n // (len(word) + 1)) + "\x01")
    return out


def _alarm(_signum: int, _frame: Any) -> None:
    raise Slow


def probe(name: str, pattern: re.Pattern[Any]) -> str:
    n = BOUNDED.get(name, N)
    texts = inputs(pattern, n)
    used = methods(name)
    anchored = [m for m in ANCHORED if m in used] if used <= set(ANCHORED) else []
    signal.signal(signal.SIGALRM, _alarm)
    empty: Any = b"" if isinstance(pattern.pattern, bytes) else ""
    current = ""
    try:
        for text in texts:
            current = text
            data: Any = text.encode("latin-1", "replace") if isinstance(pattern.pattern, bytes) else text
            signal.alarm(ALARM)
            if name in TOKENIZERS:
                _tokenize(pattern, data)
            for method in anchored:
                getattr(pattern, method)(data)
            if not anchored and name not in TOKENIZERS:
                pattern.subn(empty, data)  # a match attempt at every position, as search/finditer/sub
            signal.alarm(0)
    except Slow:
        return f"SLOW {name} {current[:40]!r}... ({len(current)} characters)"
    finally:
        signal.alarm(0)
    return f"ok {name}"


def main(names: list[str]) -> int:
    found = patterns()
    for name in names or sorted(found):
        print(probe(name, found[name]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
