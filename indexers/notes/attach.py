"""Re-attaching a note to the code it was written about, in the file's current text. Pure.

In order, stopping at the first that holds:

1. the anchored lines are where they were (fingerprint and position);
2. the anchored symbol is still declared (by name path; a function moved into a class, or a renamed
   class, by its last name): a note on a whole declaration follows it, whatever happened inside; a note on
   some lines of it looks for them inside the declaration, exactly, then aligned line by line (lines
   inserted, edited or removed inside the block);
3. the anchored lines, exactly or aligned, elsewhere in the file (the symbol was renamed or is gone),
   with stricter thresholds, and only when one place is clearly best;
4. nothing: orphaned. Following renamed files is `indexers.notes.place`'s job.

Precision first: a note shown on the wrong lines is worse than an orphan, so every fuzzy step needs most
of the anchored (non-trivial) lines back, and a place that is not clearly better than another is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from indexers.model import Anchor
from indexers.notes.anchor import fingerprint, norm
from indexers.notes.symbols import Symbol, innermost

IN_SYMBOL = 0.5  # share of the anchored lines found again inside the anchored symbol
ANYWHERE = 0.7  # ... anywhere else in the file
RENAMED_SYMBOL = 0.6  # a declaration of another name holding this share of a whole-symbol anchor's lines
MARGIN = 0.15  # how much better the best place must be than the next
TRIVIAL = 4  # normalised lines shorter than this ('}', 'end', '') match anywhere: they carry no weight
MAX_CANDIDATES = 40
GAP = 3  # lines inserted between an edited anchored line and the next anchored line found again
ONE_LINE = 0.7  # how alike the one telling line of an anchor must be to a line of its symbol, edited
REWRITTEN = 0.75  # what a rewritten line weighs against an unchanged one when pairing lines
LIKE = 0.6  # how alike a rewritten line must be to its anchored line to count (for that share)
MAX_FUZZY_CELLS = 40_000  # anchored lines x lines of the declaration, for the rewritten-lines pairing


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a note is now. `status`: exact (same lines, same code), moved (same code elsewhere), edited
    (the code changed; re-attached by its symbol or by aligning its lines), orphaned (its code is gone:
    the lines are the last known ones)."""

    status: str
    path: str
    start_line: int  # 0-based, inclusive
    end_line: int
    symbol: str = ""
    score: float = 1.0  # share of the anchored lines found again
    how: str = ""  # for a reader: what happened to the code since the note was written
    renamed_from: str = ""  # the anchored path, when the file was renamed since

    @property
    def attached(self) -> bool:
        return self.status != "orphaned"

    @property
    def reattached(self) -> bool:
        return self.status in ("moved", "edited") or bool(self.renamed_from)


def orphan(anchor: Anchor, how: str = "") -> Placement:
    return Placement("orphaned", anchor.path, anchor.start_line, anchor.end_line, anchor.symbol, 0.0,
                     how or "the code it was written about is gone")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file's lines made ready for re-attaching any number of notes: normalised, and indexed by content."""

    target: list[str]
    where: dict[str, list[int]]


def prepare(lines: Sequence[str]) -> Prepared:
    target = [norm(x) for x in lines]
    where: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(target):
        if len(line) >= TRIVIAL:
            where[line].append(i)
    return Prepared(target, dict(where))


def attach(anchor: Anchor, path: str, lines: Sequence[str], syms: Sequence[Symbol], strict: bool = False,
           prepared: Prepared | None = None) -> Placement:
    """Where `anchor`'s code is in `lines` (the current text of `path`), or an orphan placement. `strict`:
    another file than the anchored one (nearness to the anchored line decides nothing there). `prepared`:
    `prepare(lines)`, when several notes are placed in one text."""
    ready = prepared or prepare(lines)
    target = ready.target
    code = [norm(x) for x in anchor.code]
    if not anchor.fingerprint and len(anchor.code) == anchor.end_line - anchor.start_line + 1:
        anchor = replace(anchor, fingerprint=fingerprint(anchor.code))  # a note written by hand
    if anchor.whole_symbol and anchor.symbol:
        found = _whole_symbol(anchor, path, lines, target, code, syms, strict)
    else:
        found = _range(anchor, path, target, code, syms, strict, ready.where)
    return found or orphan(anchor)


# -- a whole declaration --------------------------------------------------------------------------------
def _whole_symbol(anchor: Anchor, path: str, lines: Sequence[str], target: list[str], code: list[str],
                  syms: Sequence[Symbol], strict: bool = False) -> Placement | None:
    kinds = _compatible(anchor.symbol_kind)
    same = [s for s in syms if s.name == anchor.symbol and s.kind in kinds]
    if not same:  # moved into another class, or its class renamed: the same last name, most of the same lines
        last = anchor.symbol.rsplit(".", 1)[-1]
        same = [s for s in syms if s.name.rsplit(".", 1)[-1] == last and s.kind in kinds and _share(code, target, s) >= IN_SYMBOL]
    if len(same) > 1:  # overloads, redefinitions, nested helpers of one name: choose, or refuse
        scored = [(_share(code, target, s), s) for s in same]
        one = _choose(anchor, scored, strict)
        if one is None:
            top = max(share for share, _s in scored)
            close = [s for share, s in scored if top - share < MARGIN]
            k = _by_context(anchor, target, [(s.start_line, s.end_line) for s in close])
            if k is None:
                return None
            one = close[k]
        same = [one]
    if same:
        s = same[0]
        renamed = f"{anchor.symbol} is now {s.name}; " if s.name != anchor.symbol else ""
        if fingerprint(lines[s.start_line:s.end_line + 1]) == anchor.fingerprint:
            same_place = (s.start_line, s.end_line) == (anchor.start_line, anchor.end_line)
            status = "exact" if same_place and not renamed else "moved"
            how = "" if same_place else f"moved from line {anchor.start_line + 1} (code unchanged)"
            return Placement(status, path, s.start_line, s.end_line, s.name, 1.0, (renamed + how).strip("; "))
        share = _share(code, target, s)
        how = f"{renamed}{s.name} changed since the note was written ({round(share * 100)}% of its lines unchanged)"
        return Placement("edited", path, s.start_line, s.end_line, s.name, share, how)
    # renamed and moved: a declaration of the same kind holding most of the anchored lines
    ranked = sorted(((_share(code, target, s), s) for s in syms if s.kind in kinds), key=lambda x: x[0], reverse=True)
    if ranked and ranked[0][0] >= RENAMED_SYMBOL and (len(ranked) == 1 or ranked[0][0] - ranked[1][0] >= MARGIN):
        share, s = ranked[0]
        return Placement("edited", path, s.start_line, s.end_line, s.name, share,
                         f"{anchor.symbol} is now {s.name} ({round(share * 100)}% of its lines unchanged)")
    return None


def _choose(anchor: Anchor, scored: list[tuple[float, Symbol]], strict: bool) -> Symbol | None:
    """The declaration whose body is most like the anchored one; among those within MARGIN of the best,
    the one whose name path is most like the anchored one (`Cart.add` over `Basket.add`), then the one
    whose surroundings (the lines just above and below) are the anchored ones; None when nothing tells
    them apart: several `read()` methods alike in every way are not guessed at by their position."""
    top = max(share for share, _s in scored)
    close = [s for share, s in scored if top - share < MARGIN]
    if len(close) > 1:
        names = {s: round(SequenceMatcher(None, anchor.symbol, s.name).ratio(), 2) for s in close}
        best = max(names.values())
        close = [s for s in close if names[s] == best]
    return close[0] if len(close) == 1 else None


def _around(anchor: Anchor, target: list[str], lo: int, hi: int) -> int:
    """How many of the anchored lines' context lines (above and below) surround target[lo..hi]."""
    b = sum(1 for k, line in enumerate(reversed(anchor.before)) if lo - 1 - k >= 0 and target[lo - 1 - k] == norm(line))
    a = sum(1 for k, line in enumerate(anchor.after) if hi + 1 + k < len(target) and target[hi + 1 + k] == norm(line))
    return a + b


def _by_context(anchor: Anchor, target: list[str], spans: list[tuple[int, int]]) -> int | None:
    """The index of the one span whose surroundings match the anchored context best, or None."""
    scores = [_around(anchor, target, lo, hi) for lo, hi in spans]
    top = max(scores)
    return scores.index(top) if top > 0 and scores.count(top) == 1 else None


def _compatible(kind: str) -> frozenset[str]:
    if kind in ("function", "method"):
        return frozenset({"function", "method"})
    if kind in ("class", "struct", "interface", "type"):
        return frozenset({"class", "struct", "interface", "type"})
    return frozenset({kind}) if kind else frozenset({"function", "method", "class", "struct", "interface", "type",
                                                       "enum", "impl", "trait", "module", "namespace"})


def _share(code: list[str], target: list[str], s: Symbol) -> float:
    got = _align(code, target, s.start_line, s.end_line + 1)
    return got[2] if got else 0.0


# -- some lines ----------------------------------------------------------------------------------------
def _range(anchor: Anchor, path: str, target: list[str], code: list[str], syms: Sequence[Symbol],
           strict: bool = False, where: dict[str, list[int]] | None = None) -> Placement | None:
    total = anchor.end_line - anchor.start_line + 1
    extra = total - len(code)  # lines past the stored ones (a long range keeps only its first lines)
    start = anchor.start_line
    # exact copies of the block: in the anchored symbol, else in the most alike-named one, then by context
    scopes = [s for s in syms if s.name == anchor.symbol] if anchor.symbol else []
    hits = _exact(code, target, 0, len(target), where)
    best = _pick(hits, anchor, target, syms, strict) if hits else None

    def unchanged(at: int) -> Placement:
        last = min(at + total - 1, len(target) - 1)
        if at == start and not strict:
            return _placed("exact", path, at, last, syms, 1.0, "")
        return _placed("moved", path, at, last, syms, 1.0, f"moved from line {start + 1} (code unchanged)")

    if best is not None and (not scopes or any(s.contains(best, best + len(code) - 1) for s in scopes)):
        return unchanged(best)
    if not hits and code and _plain(code):  # a block too plain to search for ('}', '})')
        if (not strict and target[start:start + len(code)] == code and start + total <= len(target)
                and _scope_name(syms, start, start + total - 1) == anchor.symbol):
            return _placed("exact", path, start, start + total - 1, syms, 1.0, "")
        if len(scopes) == 1 and anchor.symbol_start is not None:  # at the same place in its declaration
            at = scopes[0].start_line + start - anchor.symbol_start
            if scopes[0].contains(at, at + total - 1) and target[at:at + len(code)] == code:
                return _placed("moved", path, at, at + total - 1, syms, 1.0, f"moved from line {start + 1} (code unchanged)")
    # the anchored symbol is still there: the lines edited inside it before a copy of them elsewhere
    found: list[tuple[int, int, float]] = []
    telling = [k for k, c in enumerate(code) if len(c) >= TRIVIAL]
    for sc in scopes:
        region = (sc.start_line, sc.end_line + 1)
        got = _align(code, target, *region)
        if not (got and got[2] >= IN_SYMBOL) and len(code) > 1:
            got = _fuzzy_align(code, target, *region)  # lines rewritten, not removed (`yield from` -> `await`)
        if got and got[2] >= IN_SYMBOL:
            found.append((got[0], min(got[1] + extra, region[1] - 1), got[2]))
        elif len(telling) == 1:  # one line that says anything (and blank lines or braces around it)
            k = telling[0]
            one = _similar_line(code[k], target, region)
            if one is not None and one - k >= region[0]:
                found.append((one - k, min(one - k + total - 1, region[1] - 1), ONE_LINE))
    if found:
        top = max(f[2] for f in found)
        close = [f for f in found if top - f[2] < MARGIN]
        pick = 0 if len(close) == 1 else _by_context(anchor, target, [(lo, hi) for lo, hi, _s in close])
        if pick is not None:
            lo, hi, share = close[pick]
            return _placed("edited", path, lo, hi, syms, share, _edited(share))
    if best is not None:
        return unchanged(best)
    # aligned anywhere: only a place clearly better than every other
    tries = []
    for lo, hi in _windows(code, target, where):
        got = _align(code, target, lo, hi)
        if got and got[2] >= ANYWHERE:
            tries.append(got)
    tries = sorted(set(tries), key=lambda g: (g[2], -abs(g[0] - start)), reverse=True)
    if tries and (len(tries) == 1 or tries[0][2] - tries[1][2] >= MARGIN or _overlap(tries[0], tries[1])):
        lo, hi, share = tries[0]
        return _placed("edited", path, lo, min(hi + extra, len(target) - 1), syms, share, _edited(share))
    return None


def _edited(share: float) -> str:
    return f"the lines changed since the note was written ({round(share * 100)}% unchanged)"


def _placed(status: str, path: str, lo: int, hi: int, syms: Sequence[Symbol], score: float, how: str) -> Placement:
    sym = innermost(syms, lo, hi)
    return Placement(status, path, lo, max(hi, lo), sym.name if sym else "", score, how)


def _overlap(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    return not (a[1] < b[0] or b[1] < a[0])


def _plain(code: list[str]) -> bool:
    """A block too trivial to recognise on its own (braces, `end`, a short word)."""
    return sum(len(c) for c in code if len(c) >= TRIVIAL) < 12


def _exact(code: list[str], target: list[str], lo: int, hi: int, where: dict[str, list[int]] | None = None) -> list[int]:
    """Starts of exact (normalised) copies of the block in target[lo:hi]; none for a plain block."""
    if not code or _plain(code):
        return []
    n = len(code)
    k = next((k for k, c in enumerate(code) if len(c) >= TRIVIAL), 0)
    if where is not None:  # from the positions of its first telling line
        starts: list[int] | range = [i - k for i in where.get(code[k], ())]
    else:
        starts = range(lo, max(lo, hi - n + 1))
    return [i for i in starts if lo <= i <= hi - n and target[i:i + n] == code]


def _scope_name(syms: Sequence[Symbol], lo: int, hi: int) -> str:
    sym = innermost(syms, lo, hi)
    return sym.name if sym else ""


def _pick(hits: list[int], anchor: Anchor, target: list[str], syms: Sequence[Symbol], strict: bool) -> int | None:
    """One of the exact copies of the block. In the anchored symbol (still there): by context (the lines
    around), then the nearest. Elsewhere, when that symbol is gone: the only copy, or the one clearly set
    apart by its context, or by its symbol's name (`_test_x` renamed `xtest_x`); a block repeated in
    several places that nothing sets apart (`req = Request(`) is not guessed at. None then."""
    before = [norm(x) for x in anchor.before]
    after = [norm(x) for x in anchor.after]
    n = len(anchor.code)

    def ctx(i: int) -> int:
        b = sum(1 for k, line in enumerate(reversed(before)) if i - 1 - k >= 0 and target[i - 1 - k] == line)
        a = sum(1 for k, line in enumerate(after) if i + n + k < len(target) and target[i + n + k] == line)
        return a + b

    def unique_best(scores: dict[int, float], floor: float) -> int | None:
        top = max(scores.values())
        best = [i for i, v in scores.items() if v == top]
        return best[0] if len(best) == 1 and top >= floor else None

    inside = [i for i in hits if anchor.symbol and any(s.name == anchor.symbol and s.contains(i, i + n - 1) for s in syms)]
    if inside or not anchor.symbol:
        pool = inside or hits
        if len(pool) == 1:
            return pool[0]
        scored = sorted(((ctx(i), i) for i in pool), reverse=True)
        tied = [i for c, i in scored if c == scored[0][0]]
        if len(tied) == 1:
            return tied[0]
        owners = {(s.start_line, s.end_line) for i in tied for s in syms if s.name == anchor.symbol and s.contains(i, i + n - 1)}
        if strict or len(owners) > 1:
            return None  # copies in different declarations of one name: nothing tells them apart
        return min(tied, key=lambda i: abs(i - anchor.start_line))  # twice in one declaration: the nearer
    if len(hits) == 1:
        return hits[0]  # the one copy: moved out of its symbol (a method extracted), or its symbol is gone
    if any(s.name == anchor.symbol for s in syms):
        return None  # its symbol is here, the lines are not in it, and several copies elsewhere: not guessed
    by_context = unique_best({i: ctx(i) for i in hits}, 1)
    if by_context is not None:
        return by_context
    return unique_best({i: SequenceMatcher(None, anchor.symbol, _scope_name(syms, i, i + n - 1)).ratio() for i in hits}, 0.8)


def _windows(code: list[str], target: list[str], index: dict[str, list[int]] | None = None) -> list[tuple[int, int]]:
    """Regions of the file worth aligning the block against: around exact hits of its non-trivial lines."""
    where = index if index is not None else prepare(target).where
    starts: dict[int, int] = defaultdict(int)
    for k, c in enumerate(code):
        for i in where.get(c, ())[:MAX_CANDIDATES]:
            starts[i - k] += 1
    n = len(code)
    best = sorted(starts.items(), key=lambda kv: kv[1], reverse=True)[:MAX_CANDIDATES]
    return [(max(0, s - n), min(len(target), s + 2 * n)) for s, _count in best]


def _align(code: list[str], target: list[str], lo: int, hi: int) -> tuple[int, int, float] | None:
    """Align the anchored lines with target[lo:hi] line by line: (first, last line of the matched
    stretch, share of the anchored non-trivial lines found in it in order), or None."""
    if not code or hi <= lo:
        return None
    weight = [1 if len(c) >= TRIVIAL else 0 for c in code]
    total = sum(weight)
    if total == 0:
        return None
    window = target[lo:hi]
    sm = SequenceMatcher(lambda x: len(x) < TRIVIAL, code, window, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return None
    # keep the densest chain: consecutive blocks whose gaps in the file stay close to their gaps in the note
    chains: list[list[tuple[int, int, int]]] = [[blocks[0]]]
    slack = max(10, len(code))
    for b in blocks[1:]:
        prev = chains[-1][-1]
        gap_code = b[0] - (prev[0] + prev[2])
        gap_file = b[1] - (prev[1] + prev[2])
        if gap_file - gap_code > slack:
            chains.append([b])
        else:
            chains[-1].append(b)

    def found(chain: list[tuple[int, int, int]]) -> int:
        return sum(weight[a + k] for a, _b, size in chain for k in range(size))

    chain = max(chains, key=found)
    share = found(chain) / total
    a0, b0, _ = chain[0]
    a1, b1, s1 = chain[-1]
    # anchored lines before the first match and after the last: kept where the file has a like line there
    # (an edited line), not where they were removed
    first = b0
    for i in range(a0 - 1, -1, -1):  # upwards, past a few inserted lines at most
        j = next((j for j in range(first - 1, max(-1, first - 1 - GAP), -1) if _alike(code[i], window[j])), None)
        if j is None:
            break
        first = j
    last = b1 + s1 - 1
    for i in range(a1 + s1, len(code)):
        j = next((j for j in range(last + 1, min(len(window), last + 1 + GAP)) if _alike(code[i], window[j])), None)
        if j is None:
            break
        last = j
    return lo + first, lo + last, round(share, 3)


def _fuzzy_align(code: list[str], target: list[str], lo: int, hi: int) -> tuple[int, int, float] | None:
    """Like `_align`, with a rewritten line counting for how alike it is (at least `LIKE`): the best
    in-order pairing of anchored lines with lines of target[lo:hi] (a weighted longest common subsequence)."""
    window = target[lo:hi]
    n, m = len(code), len(window)
    if not n or not m or n * m > MAX_FUZZY_CELLS:
        return None
    weight = [1 if len(c) >= TRIVIAL else 0 for c in code]
    total = sum(weight)
    if total == 0:
        return None
    sim = [[0.0] * m for _ in range(n)]
    for i, c in enumerate(code):
        if not weight[i]:
            continue
        sm = SequenceMatcher(None, autojunk=False)
        sm.set_seq2(c)
        for j, t in enumerate(window):
            if len(t) < TRIVIAL:
                continue
            if t == c:
                sim[i][j] = 1.0
                continue
            sm.set_seq1(t)
            if sm.real_quick_ratio() >= LIKE and sm.quick_ratio() >= LIKE and (r := sm.ratio()) >= LIKE:
                sim[i][j] = r
    # an unchanged line outweighs any rewritten one: the pairing keeps the lines that are still there
    # (`path: 'aaa'`) over a stretch of merely similar ones (`path: null`, one request above)
    gain = [[v if v == 1.0 else v * REWRITTEN for v in row] for row in sim]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n):
        row, nxt = best[i], best[i + 1]
        for j in range(m):
            nxt[j + 1] = max(row[j + 1], nxt[j], row[j] + gain[i][j])
    pairs: list[tuple[int, int]] = []
    i, j = n, m
    while i and j:
        if gain[i - 1][j - 1] and best[i][j] == best[i - 1][j - 1] + gain[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    # a rewritten stretch is recognised by several of its lines, one of them nearly as it was: a single
    # line half alike to some other line is a coincidence, not the same code
    if total < 2 or len(pairs) < 2 or max(sim[i][j] for i, j in pairs) < 0.8:
        return None
    share = sum(sim[i][j] for i, j in pairs) / total
    (a0, b0), (a1, b1) = pairs[0], pairs[-1]
    first = b0
    for k in range(a0 - 1, -1, -1):
        step = next((x for x in range(first - 1, max(-1, first - 1 - GAP), -1) if _alike(code[k], window[x])), None)
        if step is None:
            break
        first = step
    last = b1
    for k in range(a1 + 1, n):
        step = next((x for x in range(last + 1, min(m, last + 1 + GAP)) if _alike(code[k], window[x])), None)
        if step is None:
            break
        last = step
    return lo + first, lo + last, round(share, 3)


def _alike(a: str, b: str) -> bool:
    """Two lines that are one line edited: at least half alike (two trivial lines are alike)."""
    if len(a) < TRIVIAL or len(b) < TRIVIAL:
        return len(a) < TRIVIAL and len(b) < TRIVIAL
    sm = SequenceMatcher(None, a, b, autojunk=False)
    return sm.quick_ratio() >= 0.5 and sm.ratio() >= 0.5


def _similar_line(line: str, target: list[str], region: tuple[int, int]) -> int | None:
    """The line of the region most like an edited anchored line: at least ONE_LINE alike, and clearly more
    than any other line there."""
    if len(line) < TRIVIAL:
        return None
    scores = []
    for i in range(*region):
        if len(target[i]) < TRIVIAL:
            continue
        sm = SequenceMatcher(None, line, target[i], autojunk=False)
        if sm.real_quick_ratio() < ONE_LINE or sm.quick_ratio() < ONE_LINE:
            continue
        scores.append((sm.ratio(), i))
    scores.sort(reverse=True)
    if not scores or scores[0][0] < ONE_LINE or (len(scores) > 1 and scores[0][0] - scores[1][0] < 0.1):
        return None
    return scores[0][1]
