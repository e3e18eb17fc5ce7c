"""Classify one commit message: what kind of change it was (revert, security fix, regression fix, workaround,
temporary change, hotfix, incident) and which issues it references, each kind with the words or trailer
that decided it.

Keywords mislead more often than not in real histories (a `hack/` directory, SECURITY.md set-up,
`Revert "..."` lines inside squash-merge bodies, commits that *remove* a workaround, temporary files,
"revert to" as a downgrade, keywords inside dependency names or in a bot's quoted release notes, "regression
test" without a fix). So structure comes first: the subject's form (`Revert "..."`, `revert(scope):`, an
advisory merge, a conventional-commit type, a dependency bump, a merge), the trailers authors write on
purpose (`This reverts commit <sha>`, `Fixes: <sha> ("subject")`, CVE/GHSA ids) and the files touched (docs or
CI only); words come second, from the subject and from the body's own prose (never quoted text, a bot's
release notes or trailers), only in phrases that say what the change *is*. A kind that only one bullet of a
squashed body speaks of is a *mention*, not a kind of the whole commit. When in doubt the commit gets no kind.

Every kind carries its evidence: the words, subject form or trailer that decided it, so that a reader who
sees "Revert — 'This reverts commit 1a2b3c4d'" can check the call and disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexers.history.gated import Gated
from indexers.history.kinds import KINDS
from indexers.history.message import ADVISORY, BULLET, TAGS, body_prose, is_doc, only, quote, strip_prefix
from indexers.history.words import FIX_SUBJECT, FIX_TYPES, REGRESSION, RISKS_ATTACK, Found, word_kinds
from indexers.refs import find_refs

Resolver = Callable[[str], "str | None"]
Evidence = tuple[tuple[str, str], ...]  # (kind, the words or trailer that decided it)


@dataclass(frozen=True, slots=True)
class Classification:
    kinds: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    reverts: str = ""  # the reverted commit: full sha when resolved, as written when no resolver is given
    fixes: str = ""  # the commit a `Fixes: <sha>` trailer names (same rule)
    evidence: Evidence = ()  # one entry per kind in `kinds`
    mentions: Evidence = ()  # kinds only one bullet of a squashed body speaks of: not kinds of the commit


# --- structure ---------------------------------------------------------------------------------------
_MERGE = re.compile(r"^Merge (?:branch|pull request|remote-tracking branch|tag|remote branch|commit)\b")
# GitHub's security-advisory workflow merges a temporary private fork: `Merge pull request from GHSA-...`
# (until 2024), `Merge commit from fork` (since); a branch named after the advisory is merged by hand.
_ADVISORY_MERGE = re.compile(r"^Merge (?:pull request from GHSA-|commit from fork\s*$)|^Merge branch '[^']*(?:ghsa|cve)-",
                             re.IGNORECASE)

# Regression fixes shown by structure: a `Fixes:` trailer (below), "Follow-up to <sha>" on a commit whose
# subject starts with a fix verb, "broken/introduced in <sha>" next to a fix; a revert that says what broke.
_FIX_FIRST = re.compile(r"^(?:fix|fixes|fixed|fixing|correct(?:s|ed)?|repair(?:s|ed)?|restore[sd]?)\b", re.IGNORECASE)
_REGRESSED_IN = Gated(re.compile(
    r"\b(?:regression|regressed|introduced|broken|broke)\s+(?:introduced\s+)?(?:in|by|since)\s+"
    r"(?:commit\s+)?(?P<sha>(?=[0-9a-f]*[a-f])[0-9a-f]{7,40})\b", re.IGNORECASE), ("regress", "introduced", "broke"))
_BREAKAGE = re.compile(
    r"\b(?:broke|breaks|breaking)\b(?!\s+changes?\b)"
    r"|\bcaused\s+(?:\w+\s+){0,3}?(?:failures?|problems|issues|crash(?:es)?|errors|regressions?|breakage)\b"
    r"|\b(?:introduced|caus(?:ed|es|ing))\s+(?:a\s+|some\s+)?regressions?\b|\bregression\s+(?:shipped|introduced)\b"
    r"|\b(?:won't|will\s+not|no\s+longer)\s+work(?:s|ed)?\b"
    r"|\b(?:problems?|failures?|issues)\s+(?:after|since)\s+(?:this|that|the)\s+(?:commit|change|patch)\b"
    r"|\b(?:to|did|does|would|will|may|might|could)\s+break\b|\bbustage\b|\bfor\s+causing\b"
    r"|\b(?:the\s+|this\s+|that\s+)?(?:change|commit|patch)\s+(?:was|is)\s+(?:incorrect|wrong|buggy|broken)\b"
    # "It was causing runs of bundle install to fetch every gem", "because it break the setup spec" (sic), "can
    # cause bundle install to fail", "this change made mingw-cross builds fragile"
    r"|\b(?:it|this|that|which)\s+(?:was|is|were|are)\s+causing\b(?!\s+no\b)|\b(?:it|this|that)\s+break\b"
    r"|\bcause[sd]?\s+(?:\S+\s+){1,6}?to\s+(?:fail|crash|break|hang|error\s+out)\b"
    r"|\b(?:this|that|the)\s+(?:change|commit|patch)\s+(?:made|makes)\s+(?:\S+\s+){1,6}?(?:fragile|unusable|unstable|flaky|"
    r"fail|break|crash|slower|unbuildable)\b",
    re.IGNORECASE)
# "It has been that way since commit <sha>", "... does not work as expected, because since commit <sha> ...":
# a defect dated to an earlier commit of this history, in a paragraph that says something is wrong.
_SINCE_COMMIT = re.compile(r"\bsince\s+(?:commit\s+)?(?P<sha>(?=[0-9a-f]*[a-f])[0-9a-f]{7,40})\b", re.IGNORECASE)
# "Since 2.3.0, install fails when ...": a defect dated to a release of this project (a bare version: "since Go
# 1.26" names someone else's release), in a paragraph that says something is wrong, under a subject that fixes it.
_SINCE_RELEASE = re.compile(r"\bsince\s+(?:(?:v|version\s+|release\s+))?\d+\.\d+(?:\.\d+)*\b(?![.-]?\w)", re.IGNORECASE)
# "Fix the source_location call in PR 6237", "fix the lookup from commit 1a2b3c4": a fix of a named change.
_FIX_IN_CHANGE = re.compile(r"\b(?:in|from|by|since|after)\s+(?:(?:PR|pull\s+request)\s*#?\d+"
                            r"|commit\s+(?P<sha>(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}))\b", re.IGNORECASE)
# Follow-ups that tidy rather than fix: "Corrected typo from commit ...", "Fixed line longer than 79 characters".
_COSMETIC = re.compile(r"\b(?:typos?|comments?|indentation|white-?space|spelling|wording|grammar|style|formatting|"
                       r"copyright|tabs?|line\s+longer|long\s+lines?)\b", re.IGNORECASE)
# A product name just before "since" ("macOS SDK since v14.4", "Go since 1.22"): its release, not this project's.
_NAMED_BEFORE = re.compile(r"\b[A-Z][\w.+-]*\s+$")
_PROBLEM = re.compile(
    r"\b(?:does\s+not|doesn't|did\s+not|didn't|do\s+not|don't)\s+work\b|\bproblematic\b|\bbroken\b|\bbuggy\b|\ba\s+bug\b"
    r"|\bwrong(?:ly)?\b|\bincorrect(?:ly)?\b|\bfails\b|\bfailing\b|\bfailed\b|\bcrash(?:es|ed)?\b|\bregress",
    re.IGNORECASE)
# A revert that says the change will be back: it is undone for the time being.
_HELD_BACK = re.compile(
    r"\bfor\s+now\b[^.;\n]{0,40}?\b(?:until|till|while|once)\b|\btoo\s+(?:soon|early)\b|\b(?:postpon|defer)(?:e|es|ed|ing|red|ring)\b"
    r"|\b(?:can|could|will|should|may|to)\s+be\s+(?:re-?applied|restored|re-?landed|re-?added|re-?introduced|re-?merged|"
    r"brought\s+back|cherry-?picked)\b"
    r"|\b(?:we|i)(?:'ll|\s+will|\s+can|\s+should|\s+could)\s+(?:re-?apply|re-?land|restore|re-?add|re-?introduce|"
    r"re-?submit|bring\s+(?:it|this|them)\s+back|try\s+(?:it\s+)?again)\b"
    r"|\b(?:while|until)\s+(?:we|i|they)\s+(?:can\s+)?(?:investigate|look|take\s+a\s+look|debug|figure|work\s+out|sort|"
    r"understand|find)\b"
    # "It will ship in 2.0", "this will come back in the next minor"; reverted as "not yet ready/passing"
    r"|\b(?:it|this|these|they)(?:'ll|\s+will|\s+should)\s+(?:ship|land|come\s+back|return|be\s+back|be\s+released|go\s+out)\s+"
    r"(?:in|with|for)\b|\bnot\s+yet\s+(?:ready|passing|working|stable|finished|done)\b|\bnot\s+ready\s+yet\b",
    re.IGNORECASE)
# A revert that closes a bug report fixes what the reverted change broke (`Closes #N` closes the project's own
# pull request in some projects, so it does not count).
_FIXES_ISSUE = re.compile(r"\bfix(?:es|ed)?:?\s+(?:#\d+|https?://\S+/issues/\d+)", re.IGNORECASE)

# Reverts. The subject forms `git revert` writes and the free forms people write (`Revert <what>`,
# `revert: ...`, `Revert: ...`, `Partial revert of ...`, Mozilla's `Backed out changeset ...`), but never
# "revert to <version>" / "revert back to ...", which is a downgrade, not an undo.
_REVERT_QUOTED = re.compile(r'^(?:Revert|Reapply|Reland|Re-land)\s+"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))*\s*\.?$',
                            re.IGNORECASE)
# `Revert "..." until I can figure it out`: the words after the quoted subject are the author's own.
_REVERT_QUOTED_TAIL = re.compile(r'^(?:Revert|Reapply|Reland|Re-land)\s+"(?P<inner>.+)"[,:;.-]?\s+(?P<tail>[^\s"].*)$',
                                 re.IGNORECASE)
_REVERT_SUBJECT = re.compile(
    r"^(?:partial(?:ly)?\s+)?(?:revert(?:s|ed|ing)?|back(?:ed|s|ing)?\s+out)\b(?!\s+(?:back\s+)?to\b)(?!-)",
    re.IGNORECASE)
# Free-form re-applies only with a reference or the word "revert(ed)": "Reapply the CA bundle" is a verb.
_REAPPLY_SUBJECT = re.compile(r"^(?:reapply|re-apply|reland|re-land)\b(?!-)(?=.*(?:\brevert|#\d|\b[0-9a-f]{7,40}\b))",
                              re.IGNORECASE)
# `\s*:?\s+` as two alternatives with possessive runs: written as one, a long run of blanks is split
# every way between the two repeats.
_REVERT_SHA = re.compile(r"^(?:partial(?:ly)?\s++)?reverts?(?:\s++of)?(?:\s*+:\s++|\s++)(?:commit\s++)?(?P<sha>[0-9a-f]{7,40})\b",
                         re.I)
# The body's own statement that this commit undoes another, anywhere in the body: the trailer `git revert`
# writes, "This partially reverts commit <sha>", "Partial revert of <sha>", "effectively a revert of <sha>".
_REVERT_STATEMENT = re.compile(
    r"(?:\bthis\s+(?:partially\s+|effectively\s+)?reverts?\s+(?:commit\s+)?"
    r"|\b(?:partial(?:ly)?|effectively\s+an?|a\s+partial)\s+revert(?:s|ed)?\s+(?:of\s+)?(?:commit\s+)?"
    r"|^reverts?\s+(?:commit\s+)?)(?P<sha>[0-9a-f]{7,40})\b", re.IGNORECASE | re.MULTILINE)
_QUOTED_REVERT_LINE = re.compile(r'^\s{0,3}(?:[*-]\s+)?(?:Revert|Reapply)\b', re.IGNORECASE)

# The Linux kernel's `Fixes: <12+ hex> ("subject")` trailer: the author's explicit statement that this
# commit fixes a bug that commit introduced. With the quoted subject it is trusted even when the sha is
# not in this history (a mirror such as libbpf, a subtree, a shallow clone): the evidence says so. A bare
# `Fixes: <hex>` counts only when it resolves; `Fixes: #123` and `Fixes: <url>` are issue references.
_FIXES_TRAILER = re.compile(r"^[ \t]*Fixes:\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b(?P<subject>\s*\(.*)?$",
                            re.MULTILINE | re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^[ \t]*follow[- ]?up\s+(?:to|of|for)\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b",
                        re.MULTILINE | re.IGNORECASE)
_QUOTED_ONLY = re.compile(r'^"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))*\s*\.?$')


def _revert_target(subject: str, body: str, resolve: Resolver | None = None) -> tuple[str, str, bool, str, str] | None:
    """(sha as written or '', quoted subject or '', reapply?, evidence, the subject's own words) when the
    message says it undoes an earlier change; None otherwise."""
    type_, _scope, rest = strip_prefix(subject)
    head = body[:8000]
    # every form of the statement says "revert" (no other character folds to those letters): most bodies
    # are not searched at all
    statements = ([m for m in _REVERT_STATEMENT.finditer(head) if not _wip_revert(body, m, resolve)]
                  if "revert" in head.lower() else [])
    shas = list(dict.fromkeys(m.group("sha").lower() for m in statements))
    tail = ""
    if type_ in ("revert", "reapply"):  # `revert: "..."`, `revert(scope): ...`, `Revert: ...`
        quoted = _QUOTED_ONLY.match(rest)
    else:
        type_ = ""
        quoted = _REVERT_QUOTED.match(rest) or _REVERT_QUOTED_TAIL.match(rest)
        if quoted and "tail" in quoted.re.groupindex:
            tail = quoted.group("tail")
        if not (quoted or _REVERT_SUBJECT.match(rest) or _REAPPLY_SUBJECT.match(rest)):
            # No revert subject: the body alone may say so, in one statement that is the commit's own
            # (several are a squash's list of work-in-progress reverts).
            if len(shas) != 1:
                return None
            return (shas[0], "", False, quote(body, statements[0]), subject)
    reapply = type_ == "reapply" or bool(re.match(r"(?:reapply|re-apply|reland|re-land)\b", rest, re.IGNORECASE))
    inner = quoted.group("inner") if quoted else ""
    if inner and _REVERT_QUOTED.match(inner) and not reapply:
        reapply = True  # Revert "Revert "...""
    sha = shas[0] if len(shas) == 1 else ""
    if not sha and (m := _REVERT_SHA.match(rest)):
        sha = m.group("sha").lower()
    evidence = quote(body, statements[0]) if len(shas) == 1 else TAGS.sub("", subject)
    return (sha, inner, reapply, evidence, tail if inner else subject)


def _fixes_subject(subject: str) -> bool:
    """Whether a subject starts by fixing something (`fix: ...`, `Fix ...`, `Correct ...`)."""
    type_, _scope, rest = strip_prefix(subject)
    return type_ in FIX_TYPES or bool(_FIX_FIRST.match(rest))


def _wip_revert(body: str, m: re.Match[str], resolve: Resolver | None = None) -> bool:
    """A `This reverts commit` trailer that belongs to a squashed work-in-progress step: it stands on a
    bullet, below a bullet (a squash lists its steps as bullets), or under a `Revert "..."` line of a squashed
    body. Without bullets, a `Revert "..."` line after the author's prose is `git revert`'s message kept in a
    commit that does more (a local squash): the commit's own when the reverted commit is in this history."""
    start = body.rfind("\n", 0, m.start()) + 1
    above = body[:start]
    previous = next((ln for ln in reversed(above[-1500:].splitlines()) if ln.strip()), "")
    if BULLET.match(body, start):
        return True
    if _QUOTED_REVERT_LINE.match(previous):
        if BULLET.search(body[:8000]) or resolve is None:
            return True
        return resolve(m.group("sha")) is None
    if not BULLET.search(above):
        return False
    # A one-item squash repeats its subject as the only bullet: that statement is the commit's own.
    return len(BULLET.findall(body[:8000])) > 1


# Merges whose subject a tool wrote, with no words of the author's: git's own (`Merge branch 'x'`, `Merge
# remote-tracking branch`, `Merge tag`, `Merge commit`), GitHub's and GitLab's (`Merge pull request #N from a/b`,
# `Merge branch 'x' into 'y'`), bors (`Merge #N`), homu (`Auto merge of #N - a:b, r=c`), Bitbucket (`Merged in x
# (pull request #N)`), Gerrit (`Merge "title"`, `Merge changes ...`), and merge scripts (`merge #N into main`).
# Any other merge subject is the author's own words ("merge CVE-2026-1234 fixes into main").
_GENERATED_MERGE = re.compile(
    r"^(?:Merge\s+(?:branch(?:es)?|remote-tracking\s+branch|remote\s+branch|tag|commit|pull\s+request|PR|changes?)\b"
    r"|Merge\s+(?:pr\s+)?#\d+|Auto\s+merge\s+of\s+#\d+|Merged\s+in\s+\S|Merge\s+\")", re.IGNORECASE)
# Where a request's title is: the body's first line (GitHub, GitLab, homu, Bitbucket), the subject (Gerrit),
# `N: title r=reviewer a=author` blocks (bors, which can batch several requests into one merge).
_TITLE_IN_BODY = re.compile(r"^(?:Merge (?:pull request|PR) #\d+ from \S+|Merge branch '[^']+' into '[^']+'"
                            r"|Auto merge of #\d+\b.*|Merged in \S+ \(pull request #\d+\))$", re.IGNORECASE)
_GERRIT = re.compile(r'^Merge "(?P<title>.+)"$')
_BORS = re.compile(r"^Merge(?:\s+#\d+){1,50}$")
_BORS_TITLE = re.compile(r"^(?P<n>\d+):[ \t]+(?P<title>\S.*)$", re.MULTILINE)
# The shortlog merge tools write into the body ("Jane Doe (3):" and the indented subjects): the commits'
# words, not the merge's.
_SHORTLOG = re.compile(r"^(?:\s.*|\S.*\(\d+\):)$")
# A markdown rule or an empty heading is layout, not a title (a request description that starts with `---`).
_LAYOUT_LINE = re.compile(r"^\s*+(?:[-=*_]{3,}+|#++)?\s*$")  # possessive: linear on long blank runs
# The branch a merge names: GitHub `Merge pull request #N from owner/branch`, git and GitLab `Merge branch 'x'`,
# `Merge remote-tracking branch 'origin/x'`, homu `Auto merge of #N - owner:branch, r=...`, Bitbucket `Merged in x`.
_BRANCH = re.compile(
    r"^(?:Merge\s+pull\s+request\s+#\d+\s+from\s+(?P<gh>[\w.-]+/\S+)"
    r"|Merge\s+(?:remote-tracking\s+|remote\s+)?branch\s+'(?P<git>[^'\n]{1,200})'"
    r"|Auto\s+merge\s+of\s+#\d+\s+-\s+(?P<homu>[\w.-]+:[^,\s]+)"
    r"|Merged\s+in\s+(?P<bb>\S+))", re.IGNORECASE)
# A branch named for a workaround (`workaround-for-java-issue`, `fix/work-around-proxy-bug`, `kludge_win32`):
# its author's statement of what the request is, unless the name also says the workaround goes.
_BRANCH_WORKAROUND = re.compile(r"(?:^|[-_/.])(?:work-?arounds?|work[-_]around|kludges?)(?=$|[-_/.])", re.IGNORECASE)
_BRANCH_ENDS = re.compile(r"(?:^|[-_/.])(?:rm|remove[sd]?|removing|drop(?:s|ped|ping)?|delete[sd]?|revert(?:s|ed)?|undo|"
                          r"cleanup|clean[-_]up|no|without|unneeded|obsolete|kill|retire)(?=$|[-_/.])", re.IGNORECASE)


def _bors_title(line: str) -> str:
    """`Fix the thing r=reviewer a=author` -> `Fix the thing`."""
    words = line.split()
    while len(words) > 1 and words[-1].startswith(("r=", "a=")):
        words.pop()
    return " ".join(words)


def merge_words(subject: str, body: str) -> list[tuple[str, str]]:
    """(title, description) of each request a merge says it merges, or its own subject and body when the
    author wrote them; [] when a tool wrote the subject and no title is known."""
    if m := _GERRIT.match(subject):
        return [(m.group("title"), "")]
    if _BORS.match(subject):
        blocks = list(_BORS_TITLE.finditer(body[:8000]))
        if not blocks:
            return []
        ends = [b.start() for b in blocks[1:]] + [min(len(body), 8000)]
        return [(_bors_title(b.group("title")), body[b.end():end]) for b, end in zip(blocks, ends, strict=True)]
    if _TITLE_IN_BODY.match(subject):
        if not body.strip() or (subject.startswith("Merge branch") and "See merge request " not in body):
            return []
        lines = body.strip().split("\n")
        while len(lines) > 1 and _LAYOUT_LINE.match(lines[0]):
            lines.pop(0)
        return [(lines[0].strip(), "\n".join(lines[1:]))]
    if _GENERATED_MERGE.match(subject):
        return []
    own = "\n".join(ln for ln in body[:8000].splitlines() if not _SHORTLOG.match(ln))
    return [(subject, own)]


def _classify_merge(subject: str, body: str, files: Sequence[str], refs: tuple[str, ...], resolve: Resolver | None,
                    find_subject: Resolver | None) -> Classification:
    """A merge's kinds from the words of what it says it merges (`merge_words`), each request's in turn."""
    said: dict[str, str] = {}
    mentions: dict[str, str] = {}
    reverts = fixes = ""
    for title, rest in merge_words(subject, body)[:20]:
        if _MERGE.match(title) or _GENERATED_MERGE.match(title):
            continue  # a title that is itself a merge subject says nothing more
        c = _classify_change(title.strip(), rest, files, refs, resolve, find_subject)
        for k, v in c.evidence:
            said.setdefault(k, v)
        for k, v in c.mentions:
            mentions.setdefault(k, v)
        reverts, fixes = reverts or c.reverts, fixes or c.fixes
    if "workaround" not in said and "workaround_removed" not in said and (branch := merged_branch(subject)):
        m = _BRANCH_WORKAROUND.search(branch)
        if m and not _BRANCH_ENDS.search(branch):
            said["workaround"] = f"branch {branch}"
    kinds = tuple(k for k in KINDS if k in said)
    return Classification(kinds, refs, reverts, fixes, tuple((k, said[k]) for k in kinds),
                          tuple((k, v) for k, v in mentions.items() if k not in said))


def is_advisory(subject: str, said: str) -> bool:
    """Whether a merge classified as a security fix is an advisory's branch (GitHub's advisory merge forms, or
    a CVE/GHSA id in its subject or in the words that made it a security fix): then every commit it brings in
    is part of the fix. A request that fixes a vulnerability in words alone ("Fix dependency confusion issues")
    may bring in refactors and renames of its own."""
    return bool(_ADVISORY_MERGE.match(subject) or ADVISORY.search(subject) or ADVISORY.search(said))


def merged_branch(subject: str) -> str:
    """The name of the branch a merge subject says it merges ('' when it names none)."""
    m = _BRANCH.match(subject)
    if not m:
        return ""
    name = next(g for g in m.groups() if g)
    return name.split(":", 1)[-1] if m.group("homu") else name.split("/", 1)[-1] if m.group("gh") else name


def classify(subject: str, body: str = "", files: Sequence[str] = (), *, merge: bool = False,
             resolve: Resolver | None = None, find_subject: Resolver | None = None) -> Classification:
    """Kinds, evidence and references of one commit.

    `resolve(sha_prefix)` returns the full sha of a commit reachable from HEAD (or None); `find_subject`
    returns the sha of the earlier commit whose subject is exactly the given text. Without `resolve`
    (pure use), a revert/`Fixes:` trailer is trusted as written.
    """
    subject = subject.strip()
    refs = tuple(find_refs(f"{subject}\n{body[:4000]}"))
    if merge or _MERGE.match(subject):
        # A merge carries no change of its own, except GitHub's advisory merges (a private fork's fix,
        # often squashed into one commit that keeps the merge's title); otherwise it is what it says it
        # merges: a request's title and description, or a subject the author wrote. What it brings in is
        # added by `mine` where the history shows it.
        if _ADVISORY_MERGE.match(subject) or ADVISORY.search(subject):
            return Classification(("security",), refs, evidence=(("security", subject),))
        return _classify_merge(subject, body, files, refs, resolve, find_subject)
    return _classify_change(subject, body, files, refs, resolve, find_subject)


def _classify_change(subject: str, body: str, files: Sequence[str], refs: tuple[str, ...], resolve: Resolver | None,
                     find_subject: Resolver | None) -> Classification:
    """The kinds of a commit that is not a merge (structure first, then words)."""
    evidence: dict[str, str] = {}
    reverts = ""
    target = _revert_target(subject, body, resolve)
    found: Found | None = None
    if target is not None:
        sha, inner, is_reapply, said, own = target
        if sha:
            reverts = (resolve(sha) or "") if resolve else sha
        if not reverts and inner and find_subject is not None:
            reverts = find_subject(inner) or ""
        evidence["revert"] = said
        if is_reapply:
            evidence["reapply"] = said
        elif inner:
            undone = word_kinds(inner, "", files).kinds
            if "workaround" in undone or "temporary" in undone:
                evidence["workaround_removed"] = f'undoes "{inner}"'
        # A revert is a regression fix when it says the reverted change broke something, in its own words
        # (the quoted subject of the reverted commit says nothing about that; "Revert X, add regression
        # test" and `Revert "X" because it broke Y` count).
        prose, own_rest = body_prose(body), strip_prefix(own)[2]
        m = (_BREAKAGE.search(prose) or _BREAKAGE.search(own_rest) or REGRESSION.search(own_rest)
             or _FIXES_ISSUE.search(body[:8000]))
        if m:
            evidence["regression_fix"] = quote(m.string, m)
        # A revert is still what its own words say it is: a security fix, temporary ("for now", "until I
        # can figure it out", "too soon", "can be re-applied after the release"). Not a workaround: it
        # undoes a change rather than working around something.
        found = word_kinds(own, body, files)
        for kind in ("security", "temporary"):
            if kind in found.kinds:
                evidence.setdefault(kind, found.kinds[kind])
        if "temporary" not in evidence and not is_reapply and (m := _HELD_BACK.search(own_rest) or _HELD_BACK.search(prose)):
            evidence["temporary"] = quote(m.string, m)
        if "security" not in evidence and not is_reapply and (m := RISKS_ATTACK.search(prose)):
            evidence["security"] = quote(m.string, m)  # undone because it may open a vulnerability
    else:
        found = word_kinds(subject, body, files)
        evidence.update(found.kinds)
    fixes = ""
    for m in _FIXES_TRAILER.finditer(body[:8000]):
        sha = m.group("sha").lower()
        if reverts and reverts.startswith(sha) or (target is not None and target[0] and target[0].startswith(sha)):
            continue  # names the reverted commit: a revert is a regression fix only when it says why
        full = (resolve(sha) or "") if resolve else sha
        if full or m.group("subject"):
            fixes = full
            note = "" if full or resolve is None else " (commit not in this repository's history)"
            evidence.setdefault("regression_fix", quote(m.string, m) + note)
            break
    if "regression_fix" not in evidence and target is None and (m := _FOLLOW_UP.search(body[:8000])):
        # "Follow-up to <sha>" on a commit whose subject fixes something: it fixes what that commit did.
        type_, _scope, rest = strip_prefix(subject)
        full = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
        if full and (type_ in FIX_TYPES or _FIX_FIRST.match(rest)) and not only(files, is_doc):
            fixes = full
            evidence["regression_fix"] = quote(m.string, m)
    if "regression_fix" not in evidence and target is None:
        m = _REGRESSED_IN.search(f"{subject}\n{body_prose(body)}")
        if m and FIX_SUBJECT.search(strip_prefix(subject)[2]) and not only(files, is_doc):
            full = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
            if full:
                fixes = full
                evidence["regression_fix"] = quote(m.string, m)
    if "regression_fix" not in evidence and target is None and "ince " in body[:4000] and not only(files, is_doc):
        prose = body_prose(body)
        for m in _SINCE_COMMIT.finditer(prose):
            start, end = prose.rfind("\n\n", 0, m.start()) + 1, prose.find("\n\n", m.end())
            full = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
            if full and _PROBLEM.search(prose, start, end if end >= 0 else len(prose)):
                fixes = fixes or full
                evidence["regression_fix"] = quote(prose, m)
                break
        if "regression_fix" not in evidence and _fixes_subject(subject):
            for m in _SINCE_RELEASE.finditer(prose):
                start, end = prose.rfind("\n\n", 0, m.start()) + 1, prose.find("\n\n", m.end())
                if _NAMED_BEFORE.search(prose, max(start, m.start() - 30), m.start()):
                    continue
                if _PROBLEM.search(prose, start, end if end >= 0 else len(prose)):
                    evidence["regression_fix"] = quote(prose, m)
                    break
    if "regression_fix" not in evidence and target is None and _fixes_subject(subject) and not only(files, is_doc):
        rest = strip_prefix(subject)[2]
        if (m := _FIX_IN_CHANGE.search(rest)) and not _COSMETIC.search(rest):
            full = "" if not m.group("sha") else (resolve(m.group("sha")) or "") if resolve else m.group("sha")
            if full or not m.group("sha"):
                fixes = fixes or full
                evidence["regression_fix"] = quote(m.string, m)
    kinds = tuple(k for k in KINDS if k in evidence)
    mentions = tuple((k, v) for k, v in (found.mentions.items() if found else ()) if k not in evidence)
    return Classification(kinds, refs, reverts, fixes, tuple((k, evidence[k]) for k in kinds), mentions)

