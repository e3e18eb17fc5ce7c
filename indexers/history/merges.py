"""What a merge brings in: a pull request's merge is the change its commits make, so it takes their kinds.

A merge on the main line (the first-parent chain from HEAD) brings in the commits on its second parent's
first-parent chain down to where that chain meets the main line (or commits an older merge already brought
in): the request's own commits, without what was merged into the branch from the main line. That walk is exact
for the usual pull-request flow, costs one dictionary step per commit, and needs no git call. It is only
trusted when it ends within `MAX_BROUGHT_IN` commits, and only for merges of a request or merges whose subject
the author wrote: a plain `Merge branch 'x'` is as often a forward merge of a release branch, whose commits are
backports with kinds of their own that are not the merge's.

Kinds come from the commit the request is about: the only commit it brings in, or the commits whose subject
its title repeats (a one-commit request is titled with that commit's subject; `Revert "x" and add y` names the
revert). A preparatory clean-up with a `Fixes:` trailer in a feature's request does not make the feature a
regression fix. And a kind is taken only where it says something about the main line: a revert of a commit
the same branch brought in, or a `Fixes:` naming one, is a work-in-progress step, not a kind of the merge.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from indexers.history.classify import merge_words
from indexers.history.kinds import KINDS, NOTABLE
from indexers.history.log import LogRecord
from indexers.model import Commit

MAX_BROUGHT_IN = 50
# A merge of a request: a number (`#12`, `pr-12`), GitHub/Bitbucket/GitLab wording, bors and homu forms,
# GitHub's security-advisory merges (`Merge pull request from GHSA-...`, `Merge commit from fork`).
_REQUEST = re.compile(r"#\d+|\bpr[-_/ ]?\d+|\bpull\s+request\b|\bmerge\s+request\b|\bfrom\s+fork\b|\bGHSA-",
                      re.IGNORECASE)
# Merges whose subject only names refs: git's forms and "Merge 3.8", "Merge main into next".
_REFS_ONLY = re.compile(
    r"^Merge\s+(?:(?:branch(?:es)?|remote-tracking\s+branch|remote\s+branch|tag|commit)\b|\S+(?:\s+(?:into|to|from)\s+\S+)?\s*$)",
    re.IGNORECASE)
_UNDONE_IN_BRANCH = frozenset({"revert", "reapply", "regression_fix"})


def _is_request(r: LogRecord) -> bool:
    return bool(_REQUEST.search(r.subject) or "See merge request " in r.body[:4000] or not _REFS_ONLY.match(r.subject))


def _named(subject: str, titles: Sequence[str]) -> bool:
    """Whether a request title names the commit with this subject."""
    subject = subject.strip()
    return bool(subject) and any(t == subject or t.startswith(subject) or (len(subject) >= 20 and subject in t)
                                 for t in titles)


def _main_line(raws: Sequence[LogRecord], at: Mapping[str, int]) -> set[str]:
    line: set[str] = set()
    sha = raws[0].sha if raws else ""
    while sha in at and sha not in line:
        line.add(sha)
        parents = raws[at[sha]].parents
        sha = parents[0] if parents else ""
    return line


def _walk(sha: str, raws: Sequence[LogRecord], at: Mapping[str, int], stop: set[str], claimed: set[str]) -> list[str] | None:
    """The first-parent chain from `sha` down to the main line; None when it is longer than the bound."""
    walk: list[str] = []
    while sha in at and sha not in stop and sha not in claimed:
        if len(walk) >= MAX_BROUGHT_IN:
            return None
        walk.append(sha)
        parents = raws[at[sha]].parents
        sha = parents[0] if parents else ""
    return walk


def bring_in(raws: Sequence[LogRecord], commits: list[Commit], fixes: Mapping[str, str]) -> list[Commit]:
    """`commits` (parallel to `raws`, newest first) with each main-line merge given the kinds of the commits
    it brings in, each cited as `<sha> "<subject>": <evidence>`. `fixes` maps a sha to what its `Fixes:`
    trailer names."""
    at = {r.sha: i for i, r in enumerate(raws)}
    line = _main_line(raws, at)
    claimed: set[str] = set()
    for i in range(len(raws) - 1, -1, -1):  # oldest first: a stacked branch stops where the older one began
        r = raws[i]
        if len(r.parents) < 2 or r.sha not in line:
            continue
        walk = _walk(r.parents[1], raws, at, line, claimed)
        if not walk:
            continue
        claimed.update(walk)
        if not _is_request(r):
            continue
        brought = set(walk)
        titles = [t.strip() for t, _ in merge_words(r.subject, r.body)] if len(walk) > 1 else []
        merge = commits[i]
        said = dict(merge.evidence)
        for sha in reversed(walk):  # oldest first, as the branch was written
            c = commits[at[sha]]
            if len(walk) > 1 and not _named(c.subject, titles):
                continue
            wip = (c.reverts in brought) or (fixes.get(sha, "") in brought)
            for kind, why in c.evidence:
                if kind in said or kind not in NOTABLE or (wip and kind in _UNDONE_IN_BRANCH):
                    continue
                if kind in ("revert", "reapply") and not c.reverts:
                    continue  # what it undoes is unknown: maybe a step of the same branch
                said[kind] = f'{c.sha[:10]} "{c.subject[:80]}": {why}'
        if len(said) > len(merge.evidence):
            kinds = tuple(k for k in KINDS if k in said)
            commits[i] = dataclasses.replace(merge, kinds=kinds, evidence=tuple((k, said[k]) for k in kinds))
    return commits
