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

from indexers.refs import find_refs

KINDS = ("revert", "reapply", "workaround", "workaround_removed", "hotfix", "regression_fix", "incident",
         "temporary", "security")

# Kinds that describe a fix made under pressure or a change that was undone: the ones worth showing.
NOTABLE = frozenset({"revert", "reapply", "workaround", "hotfix", "regression_fix", "incident", "temporary",
                     "security"})
FIX_KINDS = frozenset({"hotfix", "regression_fix", "incident", "security", "workaround"})

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
# Leading bracket tags: backport bots (`[PR #123/abc backport][3.12]`), `[Security]`, `[ci skip]`.
_TAGS = re.compile(r"^(?:\[[^\]\n]{1,60}\]\s*)+")
_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^)]*)\))?!?:\s+")
_PATH_PREFIX = re.compile(r"^[\w.-]*[/.][\w./-]*(?:,\s*[\w./-]+)*:\s+")
_MERGE = re.compile(r"^Merge (?:branch|pull request|remote-tracking branch|tag|remote branch|commit)\b")
# GitHub's security-advisory workflow merges a temporary private fork: `Merge pull request from GHSA-...`
# (until 2024), `Merge commit from fork` (since); a branch named after the advisory is merged by hand.
_ADVISORY_MERGE = re.compile(r"^Merge (?:pull request from GHSA-|commit from fork\s*$)|^Merge branch '[^']*(?:ghsa|cve)-",
                             re.IGNORECASE)
_ADVISORY = re.compile(r"\b(?:CVE-\d{4}-\d{4,7}|GHSA(?:-[0-9a-z]{4}){3})\b", re.IGNORECASE)
# Trailers: who signed, reviewed, reported; links and issue numbers. Not the author's prose.
_TRAILERS = re.compile(
    r"^(?:[\w-]+-by|Cc|Link|Closes|Fixes|Refs?|References|Bug|Bugs|Issue|Issues|Ticket|Change-Id|PR-URL|Reviewed-on|"
    r"See-also|Signed-off-by|Co-authored-by|Fixes-issue|Resolves|URL|Discussion)\s*:.*$\n?",
    re.MULTILINE | re.IGNORECASE)
_QUOTED_PHRASE = re.compile(r'"[^"\n]{12,200}"|“[^”\n]{12,200}”')
_BULLET_LINE = re.compile(r"^\s{0,3}[*-]\s+(\S.*)$", re.MULTILINE)
_BULLET = re.compile(r"^\s{0,3}[*-]\s+\S", re.MULTILINE)

# Reverts. The subject forms `git revert` writes and the free forms people write (`Revert <what>`,
# `revert: ...`, `Revert: ...`, `Partial revert of ...`, Mozilla's `Backed out changeset ...`), but never
# "revert to <version>" / "revert back to ...", which is a downgrade, not an undo.
_REVERT_QUOTED = re.compile(r'^(?:Revert|Reapply|Reland|Re-land)\s+"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))*\s*\.?$',
                            re.IGNORECASE)
_REVERT_SUBJECT = re.compile(
    r"^(?:partial(?:ly)?\s+)?(?:revert(?:s|ed|ing)?|back(?:ed|s|ing)?\s+out)\b(?!\s+(?:back\s+)?to\b)(?!-)",
    re.IGNORECASE)
# Free-form re-applies only with a reference or the word "revert(ed)": "Reapply the CA bundle" is a verb.
_REAPPLY_SUBJECT = re.compile(r"^(?:reapply|re-apply|reland|re-land)\b(?!-)(?=.*(?:\brevert|#\d|\b[0-9a-f]{7,40}\b))",
                              re.IGNORECASE)
_REVERT_SHA = re.compile(r"^(?:partial(?:ly)?\s+)?reverts?(?:\s+of)?\s*:?\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b", re.I)
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
_FIXES_TRAILER = re.compile(r"^\s*Fixes:\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b(?P<subject>\s*\(.*)?$",
                            re.MULTILINE | re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\s*follow[- ]?up\s+(?:to|of|for)\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b",
                        re.MULTILINE | re.IGNORECASE)
_BUMP = re.compile(
    r"^(?:bump|update|upgrade|pin|downgrade|lock)\s+(?:the\s+)?(?:dependency|dependencies|module|crate|package|"
    r"gem|rust crate|npm package|\S+ group|\S+)\b.*\b(?:from|to|requirement|digest|version)\b", re.IGNORECASE)
_DEPS_SCOPE = re.compile(r"^(?:deps|dependencies|dep|deps-dev|npm|pip|go|cargo|gomod|docker|gh-actions)$", re.I)
_BOT_BODY = ("Bumps ", "Updates the requirements", "This PR contains", "| datasource", "Bumps the ")

_DOC_EXT = (".md", ".rst", ".txt", ".adoc", ".markdown")
_CI_PARTS = (".github/", ".gitlab-ci", ".circleci/", "Jenkinsfile", ".buildkite/", "azure-pipelines", ".travis")

# --- words -------------------------------------------------------------------------------------------
_FIX = (r"fix|fixes|fixed|fixing|resolve[sd]?|address(?:es|ed)?|correct(?:s|ed)?|repair(?:s|ed)?|restore[sd]?|"
        r"avoid(?:s|ed)?|prevent(?:s|ed)?|handle[sd]?")
# A change that ends a workaround (removes, replaces, avoids it) is not a workaround.
_REMOVAL = re.compile(
    r"\b(?:remove[sd]?|removing|drop(?:s|ped|ping)?|delete[sd]?|deleting|clean(?:s|ed)?\s*up|get\s+rid\s+of|"
    r"rip(?:ped)?\s+out|revert(?:s|ed|ing)?|undo(?:es)?|retire[sd]?|kill(?:s|ed)?|no\s+longer\s+need(?:ed)?|"
    r"obsolete|unneeded|unnecessary|stop\s+using|replace[sd]?|replacing|avoid(?:s|ed|ing)?|instead\s+of|"
    r"no\s+need\s+for|without)\b(?:[^.;\n]|\.(?=\w)){0,50}?\b(?:work[- ]?arounds?|kludges?|"
    r"hack(?:s|y)?(?![/.-]\w)(?!\s+(?:scripts?|dir|directory|folder|tools?|tooling)\b)|"
    r"temporary\s+(?:fix|workaround|hack|patch|code|change)(?:es|s)?)\b"
    r"|\b(?:work[- ]?arounds?|hacks?)\b[^.;\n]{0,30}\b(?:is|are)\s+no\s+longer\s+(?:needed|necessary|required)\b",
    re.IGNORECASE)
_WORKAROUND = re.compile(
    r"\bwork-?arounds?\b|^work(?:s|ed|ing)?\s+around\b|\b(?:to|and|which|that|this)\s+work(?:s|ed)?\s+around\b"
    r"|\bwork(?:ed|ing)\s+around\b|\bkludge[sy]?\b|\bband[- ]?aid\b", re.IGNORECASE)
_HACK = re.compile(r"(?<![/\w.-])hack(?:s|y|ed|ish)?\b(?![/.-]\w)"
                   r"(?!\s+(?:scripts?|dir|directory|folder|tools?|tooling|week|weeks|day|days|night|session)\b)", re.IGNORECASE)
# In the body only phrases that say what *this* change is: "as a workaround", "this is a quick hack",
# "this works around the ...", "we need it to work around ...", never "I don't know how to work around that",
# "there is no workaround for", "that would be a dirty hack" or "this was a temporary hack" (said of code removed).
_WORKAROUND_BODY = re.compile(
    r"\b(?:as\s+an?|this\s+is\s+an?|(?<!was\s)(?<!were\s)(?<!be\s)an?\s+temporary)\s+(?:\w+\s+)?(?:work[- ]?around|hack|kludge)\b"
    r"|\b(?:this|which|it|that)\s+(?:also\s+)?(?:works?|worked)\s+around\s+(?:a|an|the|this|that|some|issue|bug)\b"
    r"|(?<!how\s)(?<!way\s)\bto\s+work[- ]?around\s+(?:a|an|the|this|some|broken|buggy|issues?|bugs?|\w+'s)\b"
    r"|(?<!\bno\s)(?<!\bany\s)\bworkaround\s+(?:for|until)\b", re.IGNORECASE)
_WAS_WORKAROUND = re.compile(r"\b(?:was|were)\s+(?:\w+\s+){0,2}?(?:work[- ]?arounds?|hacks?|kludges?)\b", re.IGNORECASE)
_REMOVAL_SUBJECT = re.compile(r"^(?:remove[sd]?|drop(?:s|ped)?|delete[sd]?|clean\s*up|cleanup|get\s+rid\s+of|"
                              r"revert(?:s|ed)?|undo|retire[sd]?)\b", re.IGNORECASE)
_HOTFIX = re.compile(
    r"\bhot[- ]?fix(?:es|ed|ing)?\b(?![/-]\w)(?!\s*(?:branch|branches|release|releases|workflow|process|"
    r"pipeline|job|script|policy|template|docs|documentation|label|tag|version)\b)"
    r"|\b(?:emergency|urgent)\s+(?:fix|patch)\b", re.IGNORECASE)
_HOTFIX_BODY = re.compile(r"\b(?:this\s+is\s+an?|as\s+an?)\s+(?:hot[- ]?fix|emergency\s+fix)\b", re.I)
_INCIDENT = re.compile(
    r"\b(?:incident|outage|post-?mortem|sev[- ]?[0-3])s?\b(?!\s*(?:management|response|dashboard|report|"
    r"reports|api|service|model|models|table|page|webhook|channel|tool|tooling|bot|integration|template|"
    r"runbook|form|schema|type|types|list|view)\b)", re.IGNORECASE)
_INCIDENT_VERB = re.compile(
    r"\b(?:fix|fixes|fixed|mitigat\w*|resolve[sd]?|restore[sd]?|recover\w*|prevent(?:s|ed)?|roll(?:ed)?\s*back|"
    r"rollback|hot[- ]?fix|patch(?:es|ed)?|stop(?:s|ped)?|after|during|from|follow[- ]?up)\b", re.IGNORECASE)
_INCIDENT_ID = re.compile(r"\bINC-?\d{3,}\b")
_INCIDENT_BODY = re.compile(
    r"\b(?:during|after|from|caused|in\s+response\s+to|root\s+cause\s+of|follow[- ]?up\s+(?:to|for|from))\s+"
    r"(?:the\s+|an\s+|this\s+|a\s+|last\s+night'?s\s+|yesterday'?s\s+|today'?s\s+)?(?:production\s+|prod\s+)?"
    r"(?:incident|outage)\b", re.IGNORECASE)

# Temporary changes: "temporary"/"temporarily" in the subject (but not a temporary *file*, *variable*,
# *buffer*... and not the end of a temporary measure), "for now", "until <it> is fixed", and in the body's
# prose "temporarily <change>", "For now, <change>", "Until <x>, <change>" and "once ..., we can remove this".
_TEMP_VERBS = (r"disabl\w*|skip\w*|pin\w*|revert\w*|remov\w*|ignor\w*|allow\w*|bypass\w*|increas\w*|rais\w*|"
               r"lower\w*|reduc\w*|hard-?cod\w*|comment\w*|mark\w*|downgrad\w*|roll\w*\s*back|switch\w*|"
               r"turn\w*\s+(?:off|on)|us(?:e|es|ed|ing)|work\w*\s+around|patch\w*|suppress\w*|exclud\w*|xfail\w*|"
               r"mut(?:e|ed|es|ing)|block\w*|limit\w*|forc\w*|keep\w*|restor\w*|add\w*|set\w*|drop\w*|deny\w*|"
               r"blacklist\w*|denylist\w*|stick\w*|omit\w*")
_CHANGE_VERBS = (r"disabl\w*|skip\w*|pin\w*|revert\w*|remov\w*|ignor\w*|bypass\w*|hard-?cod\w*|comment\w*\s+out|"
                 r"downgrad\w*|exclud\w*|xfail\w*|mut(?:e|ed|es|ing)|deny-?list\w*|block-?list\w*|blacklist\w*|"
                 r"stick\w*|us(?:e|es|ed|ing)|keep\w*|drop\w*|omit\w*|turn\w*\s+off|fix\w*\s+(?:the\s+)?(?:used\s+)?"
                 r"version|make\s+sure|work\w*\s+around|patch\w*")
_DATA_NOUN = (r"files?|dirs?|director(?:y|ies)|folders?|variables?|vars?|buffers?|memory|storage|cop(?:y|ies)|"
              r"objects?|lists?|arrays?|strings?|tables?|paths?|names?|values?|allocations?|handles?|structs?|"
              r"data|credentials?|tokens?|keys?|locations?|space|results?|instances?|nodes?|references?|"
              r"pointers?|registers?|maps?|stack|heap|slices?|bytes?|repos?|repositor(?:y|ies)|clones?|workspaces?|tree|refs?|"
              r"branch(?:es)?|redirects?|errors?|failures?|sockets?|connections?|certificates?|certs?|sessions?")
_UNTIL_STATE = (r"(?:is|are|gets?|get|has\s+been|have\s+been|will\s+be|be|it's|that's|\w+'s)\s+(?:\w+ly\s+)?"
                r"(?:fixed|resolved|released|merged|deployed|debugged|added|landed|implemented|understood|"
                r"investigated|updated|mitigated|solved|figured\s+out|sorted\s+out|upgraded|rolled\s+out|"
                r"available|supported|in\s+place)\b"
                r"|\b(?:we|they|upstream|someone|it)\s+(?:can\s+|could\s+)?(?:update|fix|resolve|release|merge|figure|"
                r"understand|investigate|migrate|upgrade|land|find|switch)\w*\b"
                r"|\b(?:the\s+|a\s+|an\s+)?(?:upstream\s+)?fix\s+(?:lands|arrives|is\s+\w+)")
_TEMPORARY = re.compile(
    rf"\btemporar(?:y|ily)\b(?!\s+(?:\w+\s+){{0,2}}(?:{_DATA_NOUN})\b)"
    r"|\b(?:stop-?gap|interim)\s+(?:fix|workaround|hack|patch|solution|measure|change|override|pin|mitigation)\b"
    r"|\bstop-?gap\b|\bfor\s+now\b(?!\s+only\b)(?!,?\s+(?:\w+\s+){1,3}(?:is|are)\s+(?:\w+ed|\w+ing)\b)"
    rf"|\buntil\b[^.;\n]{{0,60}}?\b(?:{_UNTIL_STATE})",
    re.IGNORECASE)
_TEMP_PREFIX = re.compile(r"^(?:temp|tmp|temporary)\s*:", re.IGNORECASE)
_PIN = re.compile(
    r"\b(?:revert(?:s|ed|ing)?\s+to|go(?:es|ing)?\s+back\s+to|stick(?:s|ing)?\s+to|pin(?:s|ned|ning)?|downgrad\w*|"
    r"hard-?cod\w*|specif(?:y|ies|ied)|fix(?:es|ed)?\s+(?:the\s+)?(?:used\s+)?\w*\s*version)\b[^.;\n]{0,40}?"
    r"\b(?:v(?:ersion)?\s*)?\d+(?:[.-]\d+)*\b", re.IGNORECASE)
_TOOLCHAIN = re.compile(r"\b(?:compilers?|toolchains?|linkers?|gcc|clang|llvm|icc|msvc|mingw(?:-w64)?|binutils|glibc|"
                        r"pahole|rustc|javac|tsc|esbuild|webpack)\b", re.IGNORECASE)
_SKIP_ON_RELEASE = re.compile(
    r"\b(?:skip\w*|disabl\w*|exclud\w*|ignor\w*|xfail\w*)\b[^.;\n]{0,60}\b(?:on|for|with|under)\s+[A-Za-z][\w.+-]*\s+"
    r"v?\d+\.\d+\.\d+\b", re.IGNORECASE)
_RESTORES = re.compile(r"^(?:re-?enabl\w*|enabl\w*\s+\S+\s+again|un-?skip\w*|unpin\w*|restor\w*|bring\w*\s+back|"
                       r"put\w*\s+back|undo\w*)\b", re.IGNORECASE)
_ENDS_TEMPORARY = re.compile(
    r"\b(?:remov\w*|drop\w*|delet\w*|clean\w*\s*up|restor\w*|re-?enabl\w*|revert\w*|undo\w*|unpin\w*|lift\w*|"
    r"end\w*|outdated|no\s+longer)\b[^.;\n]{0,40}\btemporar", re.IGNORECASE)
# (Not "a temporary fix was ..." or "temporarily reverted in <sha>": what happened to other commits.)
_TEMPORARY_BODY = re.compile(
    rf"\b(?:temporary|stop-?gap)\s+(?:fix|workaround|work-around|hack|patch|patches|solution|measure|mitigation)\b"
    r"(?!\s+(?:was|were|is\s+no\s+longer)\b)"
    rf"|\btemporar(?:il)?y?\s+(?:{_TEMP_VERBS})\b(?!\s+(?:in|by)\s+(?:commit\s+)?[0-9a-f]{{7,40}}\b)"
    rf"|(?:^|[.!?]\s+)for\s+now,?\s+(?:just\s+|simply\s+|we\s+(?:just\s+)?)?(?:{_CHANGE_VERBS})\b"
    rf"|(?:^|[.!?]\s+)until\s+[^,.;\n]{{3,60}},\s+(?:\w+\s+){{0,2}}?(?:{_CHANGE_VERBS}|fix)\b"
    rf"|\b(?:{_CHANGE_VERBS})\b[^.;\n]{{0,60}}\buntil\b[^.;\n]{{0,60}}?\b(?:{_UNTIL_STATE})"
    r"|\bonce\b[^.;\n]{0,60}?,?\s+(?:we|you)\s+(?:can|could|should|will|may)\s+(?:\w+\s+)?"
    r"(?:remove|delete|drop|revert|undo|get\s+rid\s+of)\s+(?:this|these|it|them|the\s+(?:workaround|hack|patch|pin))\b"
    r"|\b(?:remove|delete|drop|revert)\s+(?:this|these|it|them)\s+(?:again\s+)?(?:once|when|as\s+soon\s+as)\b",
    re.IGNORECASE | re.MULTILINE)

# Security: words that name an attack or a vulnerability class next to a verb that fixes it.
_SEC_NOUN = (r"security\s+(?:fix|issue|vulnerability|bug|hole|flaw|problem|patch)|vulnerabilit(?:y|ies)|xss|csrf|"
             r"ssrf|xxe|rce|remote\s+code\s+execution|(?:sql|command|header|ldap|template|shell|crlf)\s+injection|"
             r"path\s+traversal|directory\s+traversal|drive\s+traversal|open\s+redirects?|privilege\s+escalation|"
             r"auth(?:entication|orization)?\s+bypass|timing\s+attack|redos|clickjacking|zip\s+slip|"
             r"insecure\s+deserialization|prototype\s+pollution|request\s+smuggling|denial[- ]of[- ]service|"
             r"resource\s+exhaustion|credential\s+leak\w*|cross-domain\s+leak\w*")
_SEC_VERB = (r"fix|fixes|fixed|fixing|prevent(?:s|ed)?|sanitiz\w*|sanitis\w*|escap\w*|harden\w*|patch(?:es|ed)?|"
             r"mitigat\w*|block(?:s|ed)?|guard(?:s|ed)?|protect(?:s|ed)?|close[sd]?|address(?:es|ed)?|avoid(?:s|ed)?|"
             r"disallow(?:s|ed)?|reject(?:s|ed)?|limit(?:s|ed)?")
_SECURITY = re.compile(rf"\b(?:{_SEC_VERB})\b[^.;\n]{{0,60}}\b(?:{_SEC_NOUN})\b|\b(?:{_SEC_NOUN})\b[^.;\n]{{0,30}}"
                       rf"\b(?:{_SEC_VERB})\b|^security\s+fix\b|\bsecurity\s+fix(?:es)?\s*:"
                       r"|\b(?:malicious|attackers?)\b", re.IGNORECASE)
_SEC_SETUP = re.compile(
    r"security\.md|security\s+polic\w*|security\.txt|codeql|snyk|trivy|gosec|bandit|semgrep|dependabot|scorecard|"
    r"scann(?:er|ers|ing)|security\s+(?:scan|workflow|contact|advisory\s+template|headers?\s+docs?)", re.IGNORECASE)

# Regression fixes: "regression" with a fix verb in the subject; in the body, a regression this project
# caused ("introduced regressions", "regressed in #123", "Regression shipped in 7.64.0"), said of a commit
# whose subject fixes something; a revert that says the reverted change broke something.
_REGRESSION = re.compile(r"\bregress(?:ion|ions|ed)\b", re.IGNORECASE)
_NOT_REGRESSION = re.compile(
    r"\b(?:non-)?regression[- ](?:tests?|testing|suite|check|checks|coverage|detection)\b"
    r"|\b(?:no|avoid|prevent|catch|detect)\s+(?:more\s+|new\s+|future\s+|further\s+)?regressions?\b", re.IGNORECASE)
_FIX_WORD = re.compile(rf"\b(?:{_FIX}|revert\w*)\b", re.IGNORECASE)
_FIX_SUBJECT = re.compile(r"\b(?:fix|fixes|fixed|fixing|correct(?:s|ed)?|repair(?:s|ed)?|restore[sd]?)\b", re.IGNORECASE)
_FIX_FIRST = re.compile(r"^(?:fix|fixes|fixed|fixing|correct(?:s|ed)?|repair(?:s|ed)?|restore[sd]?)\b", re.IGNORECASE)
_FIX_TYPES = frozenset({"fix", "bugfix", "hotfix", "fixup"})  # conventional-commit types that say "fix"
_UNTIL_CLAUSE = re.compile(r"\b(?:until|till|once|when)\b.*$", re.IGNORECASE)
_REGRESSION_CAUSE = re.compile(
    r"\b(?:introduced|caused|causing|led\s+to|creat(?:ed|es))\s+(?:a\s+|an\s+|the\s+|some\s+|several\s+)?(?:\w+\s+)?"
    r"regressions?\b"
    r"|\bregress(?:ion|ed)\s+(?:was\s+)?(?:shipped|introduced|since|in|by|from|with)\s+(?:v?\d|#\d|pr\b|pull\b|commit\b|"
    r"[0-9a-f]{7,40}\b)"
    r"|\b(?:fix|fixes|fixed|fixing)\s+(?:for\s+)?(?:a\s+|an\s+|the\s+|this\s+)?(?:\w+\s+){0,3}?regressions?\b"
    r"(?!\s+(?:tests?|testing|suite)\b)"
    r"|(?<!\bno\s)(?<!\bnot\s)\b(?:logic|code|behaviou?r|handling|support|detection)\s+regressed\b", re.IGNORECASE)
_REGRESSED_IN = re.compile(
    r"\b(?:regression|regressed|introduced|broken|broke)\s+(?:introduced\s+)?(?:in|by|since)\s+"
    r"(?:commit\s+)?(?P<sha>(?=[0-9a-f]*[a-f])[0-9a-f]{7,40})\b", re.IGNORECASE)
_BREAKAGE = re.compile(
    r"\b(?:broke|breaks|breaking)\b(?!\s+changes?\b)"
    r"|\bcaused\s+(?:\w+\s+){0,3}?(?:failures?|problems|issues|crash(?:es)?|errors|regressions?|breakage)\b"
    r"|\b(?:introduced|caused)\s+(?:a\s+|some\s+)?regressions?\b|\bregression\s+(?:shipped|introduced)\b"
    r"|\b(?:problems?|failures?|issues)\s+(?:after|since)\s+(?:this|that|the)\s+(?:commit|change|patch)\b"
    r"|\b(?:to|did|does|would|will|may|might|could)\s+break\b|\bbustage\b|\bfor\s+causing\b"
    r"|\b(?:the\s+|this\s+|that\s+)?(?:change|commit|patch)\s+(?:was|is)\s+(?:incorrect|wrong|buggy|broken)\b",
    re.IGNORECASE)
# A revert that closes a bug report fixes what the reverted change broke (`Closes #N` closes the project's own
# pull request in some projects, so it does not count).
_FIXES_ISSUE = re.compile(r"\bfix(?:es|ed)?:?\s+(?:#\d+|https?://\S+/issues/\d+)", re.IGNORECASE)

# Every word rule needs one of these stems (lower-cased text): most commits contain none and skip them all.
_ANY_WORD = re.compile(
    r"work|hack|kludge|band|hot|emergenc|urgent|incident|outage|mortem|sev|temp|stop|interim|for now|until|secur|"
    r"vulnerab|xss|csrf|ssrf|xxe|rce|inject|traversal|redirect|escalat|bypass|timing|redos|clickjack|slip|"
    r"deserializ|pollution|smuggl|denial|exhaust|leak|malicious|attacker|cve|ghsa|regress|introduced|caus|broke|"
    r"break|inc-?\d|tmp|once|skip|disabl|exclud|xfail")


def _strip_prefix(subject: str) -> tuple[str, str, str]:
    """(type, scope, rest) of a subject, without its leading bracket tags and its conventional-commit or
    `path/to/thing: ` prefix."""
    subject = _TAGS.sub("", subject)
    m = _CONVENTIONAL.match(subject)
    if m:
        return m.group("type").lower(), (m.group("scope") or "").lower(), subject[m.end():]
    m = _PATH_PREFIX.match(subject)
    if m:
        return "", "", subject[m.end():]
    return "", "", subject


def _prose(body: str) -> str:
    """The prose of a body: no trailers, no quoted lines, no diffs or code blocks; bounded."""
    lines: list[str] = []
    fenced = False
    for ln in body[:4000].splitlines():
        if ln.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or ln.startswith((">", "    ", "\t", "+", "|", "<")):
            continue
        lines.append(ln)
    # Quoted phrases are someone else's words: another commit's subject, an error message.
    return _QUOTED_PHRASE.sub('""', _TRAILERS.sub("", "\n".join(lines))) if lines else ""


def _quote(text: str, m: re.Match[str], width: int = 100) -> str:
    """The line of `text` holding the match, trimmed to about `width` characters around it."""
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = text[start:end if end >= 0 else len(text)]
    a, b = m.start() - start, m.end() - start
    if len(line) > width:
        lo = max(0, min(a - (width - (b - a)) // 2, len(line) - width))
        line = ("…" if lo else "") + line[lo:lo + width].strip() + ("…" if lo + width < len(line) else "")
    return " ".join(line.split())


def _on_bullet(text: str, m: re.Match[str]) -> bool:
    start = text.rfind("\n", 0, m.start()) + 1
    return bool(_BULLET.match(text, start))


def _only(files: Sequence[str], test: Callable[[str], bool]) -> bool:
    return bool(files) and all(test(f) for f in files)


def _is_doc(path: str) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    if name == "cmakelists.txt" or name.startswith(("requirements", "constraints")) or "requirements/" in low:
        return False  # build and dependency files that happen to end in .txt
    return low.endswith(_DOC_EXT) or path.startswith(("docs/", "doc/")) or "/docs/" in path


def _is_ci(path: str) -> bool:
    return any(part in path for part in _CI_PARTS)


def _is_bump(scope: str, rest: str) -> bool:
    return bool(_DEPS_SCOPE.match(scope)) or bool(_BUMP.match(rest)) or rest.lower().startswith(
        ("update dependency", "update module", "update rust crate", "bump the ", "bump "))


class _Found:
    """Kinds found so far, each with its first evidence; bullet-only findings of a squashed body are mentions."""

    def __init__(self, prose: str):
        self.prose = prose
        self.squash = len(_BULLET.findall(prose)) >= 3
        self.kinds: dict[str, str] = {}
        self.mentions: dict[str, str] = {}

    def add(self, kind: str, text: str, m: re.Match[str] | None) -> None:
        if kind in self.kinds:
            return
        quote = _quote(text, m) if m is not None else text
        if self.squash and m is not None and text is self.prose and _on_bullet(text, m):
            self.mentions.setdefault(kind, quote)
            return
        self.kinds[kind] = quote

    def drop(self, *kinds: str) -> None:
        for k in kinds:
            self.kinds.pop(k, None)
            self.mentions.pop(k, None)


def _word_kinds(subject: str, body: str, files: Sequence[str]) -> _Found:
    """Kinds read from the words of a message (subject first, then the body's prose)."""
    if not _ANY_WORD.search(subject.lower()) and not _ANY_WORD.search(body[:4000].lower()):
        return _Found("")
    prose = _prose(body)
    found = _Found(prose)
    type_, scope, rest = _strip_prefix(subject)
    if _is_bump(scope, rest):
        # A dependency bump: a bot's body quotes upstream release notes ("security", "regression",
        # "workaround" ...), which say nothing about this project. Only the project's own words count.
        bot = body.lstrip().startswith(_BOT_BODY)
        first_para = "" if bot else prose.split("\n\n", 1)[0]
        m = re.search(r"\[security\]", subject, re.I) or _ADVISORY.search(subject) or _ADVISORY.search(first_para)
        if m:
            found.add("security", m.string, m)
        m = _TEMPORARY.search(rest)
        if m and not _ENDS_TEMPORARY.search(rest):
            found.add("temporary", rest, m)
            if m := _PIN.search(rest):  # held back until upstream is fixed: see below
                found.add("workaround", rest, m)
        return found
    hack_dir = any(p == "hack" for f in files for p in f.split("/")[:-1]) or "hack/" in subject.lower()
    removal = _REMOVAL.search(rest) or (not rest.strip() and _REMOVAL.search(prose))
    if not removal and _REMOVAL_SUBJECT.match(rest):
        removal = _WAS_WORKAROUND.search(prose)  # "Remove X" + "this was a temporary hack"
    if removal and hack_dir and not re.search(r"work[- ]?around|kludge|temporar", removal.group(0), re.I):
        removal = None  # "remove ... hack" in a repository with a hack/ folder names the folder
    if removal:
        found.add("workaround_removed", rest, removal)
    elif type_ != "hack" and scope != "hack":
        m = _WORKAROUND.search(rest) or (None if hack_dir else _HACK.search(rest))
        if type_ in ("workaround", "kludge"):
            found.add("workaround", subject, None)
        elif m:
            found.add("workaround", rest, m)
        elif not hack_dir and not _REMOVAL.search(prose):
            m = _WORKAROUND_BODY.search(prose)
            if m:
                found.add("workaround", prose, m)
    m = _HOTFIX.search(rest) if type_ != "hotfix" else None
    if type_ == "hotfix" or m:
        found.add("hotfix", rest if m else subject, m)
    elif m := _HOTFIX_BODY.search(prose):
        found.add("hotfix", prose, m)
    if not removal:
        m = _TEMPORARY.search(rest) or _TEMP_PREFIX.match(subject)
        if m and not _ENDS_TEMPORARY.search(rest):
            found.add("temporary", m.string, m)
        elif not _ENDS_TEMPORARY.search(rest) and not _RESTORES.match(rest) and (m := _TEMPORARY_BODY.search(prose)):
            found.add("temporary", prose, m)
        # Holding a tool or dependency at an older version for the time being dodges a newer one's bug:
        # a temporary workaround.
        # A temporary adjustment aimed at the compiler or toolchain (flags, versions) works around that tool.
        if "temporary" in found.kinds and (m := _PIN.search(rest) or _PIN.search(prose) or _TOOLCHAIN.search(rest)):
            found.add("workaround", m.string, m)
    # A test skipped on one exact release of a runtime or tool (`on node 21.6.2`) dodges that release's bug.
    if not removal and "workaround" not in found.kinds and (m := _SKIP_ON_RELEASE.search(rest)):
        found.add("workaround", rest, m)
    m = _INCIDENT.search(rest)
    if m and (_INCIDENT_VERB.search(rest) or _INCIDENT_ID.search(subject)):
        found.add("incident", rest, m)
    elif m := _INCIDENT_BODY.search(prose):
        found.add("incident", prose, m)
    elif (m := _INCIDENT_ID.search(subject)) and _FIX_WORD.search(rest):
        found.add("incident", subject, m)
    cleaned = _UNTIL_CLAUSE.sub(" ", _NOT_REGRESSION.sub(" ", rest))  # "until the X regression is fixed": not here
    m = _REGRESSION.search(cleaned)
    if m and (type_ in _FIX_TYPES or _FIX_WORD.search(cleaned)):
        found.add("regression_fix", rest, _REGRESSION.search(rest) or m)
    elif (type_ in _FIX_TYPES or _FIX_SUBJECT.search(rest)) and (m := _REGRESSION_CAUSE.search(prose)):
        found.add("regression_fix", prose, m)
    if not _SEC_SETUP.search(subject):
        # `security:`, `fix(security):`, `[Security]`: unless the repository has a security/ folder that the
        # commit touches, in which case the prefix names that component (as `hack/` does above).
        sec_dir = any(p in ("security", "sec") for f in files for p in f.lower().split("/")[:-1])
        tagged = None if sec_dir or "[" not in subject else re.search(r"\[security\]", subject, re.I)
        m = _ADVISORY.search(subject) or _SECURITY.search(rest) or tagged
        if m:
            found.add("security", m.string, m)
        elif not sec_dir and (type_ == "security" or scope == "security"):
            found.add("security", subject, None)
        elif m := _ADVISORY.search(prose) or _ADVISORY.search(_quoted_free(body)):
            found.add("security", m.string, m)
    if found.squash:
        # A squashed change lists its steps as bullets, each a subject of its own: what a step says it is,
        # the commit only mentions.
        for line in _BULLET_LINE.findall(prose)[:50]:
            for kind, said in _word_kinds(line, "", files).kinds.items():
                if kind in NOTABLE:
                    found.mentions.setdefault(kind, f"* {said}")
    if _only(files, _is_doc):
        found.drop("workaround", "hotfix", "temporary", "security", "incident", "regression_fix")
    if _only(files, lambda f: _is_ci(f) or _is_doc(f)):
        found.drop("hotfix", "security")
    return found


def _quoted_free(body: str) -> str:
    """The body without quoted lines (`>`), HTML and code blocks: trailers kept (`Ref: ...GHSA-...`)."""
    if "cve" not in body.lower() and "ghsa" not in body.lower():
        return ""
    return "\n".join(ln for ln in body[:8000].splitlines() if not ln.startswith((">", "<", "|", "    ", "\t")))


_QUOTED_ONLY = re.compile(r'^"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))*\s*\.?$')


def _revert_target(subject: str, body: str) -> tuple[str, str, bool, str] | None:
    """(sha as written or '', quoted subject or '', reapply?, evidence) when the message says it undoes
    an earlier change; None otherwise."""
    type_, _scope, rest = _strip_prefix(subject)
    statements = [m for m in _REVERT_STATEMENT.finditer(body[:8000]) if not _wip_revert(body, m)]
    shas = list(dict.fromkeys(m.group("sha").lower() for m in statements))
    if type_ in ("revert", "reapply"):  # `revert: "..."`, `revert(scope): ...`, `Revert: ...`
        quoted = _QUOTED_ONLY.match(rest)
    else:
        type_ = ""
        quoted = _REVERT_QUOTED.match(rest)
        if not (quoted or _REVERT_SUBJECT.match(rest) or _REAPPLY_SUBJECT.match(rest)):
            # No revert subject: the body alone may say so, in one statement that is the commit's own
            # (several are a squash's list of work-in-progress reverts).
            if len(shas) != 1:
                return None
            return (shas[0], "", False, _quote(body, statements[0]))
    reapply = type_ == "reapply" or bool(re.match(r"(?:reapply|re-apply|reland|re-land)\b", rest, re.IGNORECASE))
    inner = quoted.group("inner") if quoted else ""
    if inner and _REVERT_QUOTED.match(inner) and not reapply:
        reapply = True  # Revert "Revert "...""
    sha = shas[0] if len(shas) == 1 else ""
    if not sha and (m := _REVERT_SHA.match(rest)):
        sha = m.group("sha").lower()
    evidence = _quote(body, statements[0]) if len(shas) == 1 else _TAGS.sub("", subject)
    return (sha, inner, reapply, evidence)


def _wip_revert(body: str, m: re.Match[str]) -> bool:
    """A `This reverts commit` trailer that belongs to a squashed work-in-progress step: it stands on a
    bullet, below a bullet (a squash lists its steps as bullets), or under a `Revert "..."` line of the body
    (a commit's own revert subject is its subject, never a body line)."""
    start = body.rfind("\n", 0, m.start()) + 1
    above = body[:start]
    previous = next((ln for ln in reversed(above[-1500:].splitlines()) if ln.strip()), "")
    if _BULLET.match(body, start) or _QUOTED_REVERT_LINE.match(previous):
        return True
    if not _BULLET.search(above):
        return False
    # A one-item squash repeats its subject as the only bullet: that statement is the commit's own.
    return len(_BULLET.findall(body[:8000])) > 1


_PR_MERGE = re.compile(r"^Merge (?:pull request #\d+ from \S+|branch '[^']+' into '[^']+')$")


def _request_title(subject: str, body: str) -> tuple[str, str]:
    """(title, rest) of a GitHub pull-request merge (`Merge pull request #12 from a/b`, title on the body's
    first line) or a GitLab merge-request merge (`See merge request ...` in the body); ('', '') otherwise."""
    m = _PR_MERGE.match(subject)
    if not m or not body.strip() or (subject.startswith("Merge branch") and "See merge request " not in body):
        return "", ""
    title, _, rest = body.strip().partition("\n")
    return title.strip(), rest


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
        # often squashed into one commit that keeps the merge's title), and a pull/merge request's merge,
        # which is what its request's title (the body's first line) says it is.
        m = _ADVISORY_MERGE.match(subject) or (_ADVISORY.search(subject) if _MERGE.match(subject) else None)
        if m:
            return Classification(("security",), refs, evidence=(("security", subject),))
        title, rest = _request_title(subject, body)
        if not title:
            return Classification(refs=refs)
        c = classify(title, rest, files, resolve=resolve, find_subject=find_subject)
        return Classification(c.kinds, refs, c.reverts, c.fixes, c.evidence, c.mentions)
    evidence: dict[str, str] = {}
    reverts = ""
    target = _revert_target(subject, body)
    found: _Found | None = None
    if target is not None:
        sha, inner, is_reapply, said = target
        if sha:
            reverts = (resolve(sha) or "") if resolve else sha
        if not reverts and inner and find_subject is not None:
            reverts = find_subject(inner) or ""
        evidence["revert"] = said
        if is_reapply:
            evidence["reapply"] = said
        elif inner:
            undone = _word_kinds(inner, "", files).kinds
            if "workaround" in undone or "temporary" in undone:
                evidence["workaround_removed"] = f'undoes "{inner}"'
        # A revert is a regression fix when it says the reverted change broke something, in its own words
        # (the quoted subject of the reverted commit says nothing about that).
        own = "" if inner else _strip_prefix(subject)[2]  # "Revert X, add regression test" counts too
        m = (_BREAKAGE.search(_prose(body)) or _BREAKAGE.search(own) or _REGRESSION.search(own)
             or _FIXES_ISSUE.search(body[:8000]))
        if m:
            evidence["regression_fix"] = _quote(m.string, m)
        # A revert is still what its own words say it is: a security fix, temporary ("for now"). Not a
        # workaround: it undoes a change rather than working around something.
        found = _word_kinds(subject if not inner else "", body, files)
        for kind in ("security", "temporary"):
            if kind in found.kinds:
                evidence.setdefault(kind, found.kinds[kind])
    else:
        found = _word_kinds(subject, body, files)
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
            evidence.setdefault("regression_fix", _quote(m.string, m) + note)
            break
    if "regression_fix" not in evidence and target is None and (m := _FOLLOW_UP.search(body[:8000])):
        # "Follow-up to <sha>" on a commit whose subject fixes something: it fixes what that commit did.
        type_, _scope, rest = _strip_prefix(subject)
        full = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
        if full and (type_ in _FIX_TYPES or _FIX_FIRST.match(rest)) and not _only(files, _is_doc):
            fixes = full
            evidence["regression_fix"] = _quote(m.string, m)
    if "regression_fix" not in evidence and target is None:
        m = _REGRESSED_IN.search(f"{subject}\n{_prose(body)}")
        if m and _FIX_SUBJECT.search(_strip_prefix(subject)[2]) and not _only(files, _is_doc):
            full = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
            if full:
                fixes = full
                evidence["regression_fix"] = _quote(m.string, m)
    kinds = tuple(k for k in KINDS if k in evidence)
    mentions = tuple((k, v) for k, v in (found.mentions.items() if found else ()) if k not in evidence)
    return Classification(kinds, refs, reverts, fixes, tuple((k, evidence[k]) for k in kinds), mentions)
