"""Answers within a size the agent sets (`max_chars` on every tool): items are kept in the order the tool
ranks them (most important first) while the rendered answer fits, and the answer says how many were cut
and how to get them. Pure: a tool hands over how to render k items."""

from __future__ import annotations

from collections.abc import Callable

DEFAULT = 12_000
MINIMUM = 500
MAXIMUM = 200_000


def largest(render: Callable[[int], str], total: int, max_chars: int) -> int:
    """The largest k in 0..total with len(render(k)) <= max_chars (render grows with k)."""
    if len(render(total)) <= max_chars:
        return total
    lo, hi = 0, total
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(mid)) <= max_chars:
            lo = mid
        else:
            hi = mid - 1
    return lo


def notice(cut: int, what: str, max_chars: int, how: str = "a narrower question") -> str:
    return (f"[{cut} {what}{'' if cut == 1 else 's'} cut to fit max_chars={max_chars}, the least important first; "
            f"ask again with a larger max_chars or {how}]")


def clip(text: str, max_chars: int) -> str:
    """The last resort when even the fixed part of an answer is too long: cut at a line, say so."""
    if len(text) <= max_chars:
        return text
    tail = f"\n[answer cut at {max_chars} characters; ask again with a larger max_chars]"
    head = text[: max(max_chars - len(tail), 0)]
    cut = head.rfind("\n")
    return (head[:cut] if cut > 0 else head) + tail
