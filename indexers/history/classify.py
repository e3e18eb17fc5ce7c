"""Classify one commit message: what kind of change it was (workaround, hotfix, revert, regression fix,
incident, temporary, security) and which issues it references.

Keywords mislead more often than not in real histories (a `hack/` directory, SECURITY.md set-up,
`Revert "..."` lines inside squash-merge bodies, commits that *remove* a workaround, temp files, "revert"
as a verb, keywords inside dependency names, "regression test" without a fix). So structure comes first:
the revert trailer `git revert` writes and the `Fixes: <sha>` trailer (resolved against the history by
the caller through `resolve`), the subject's form (`Revert "..."`, a conventional-commit type, a
dependency bump, a merge), the files touched (docs or CI only); words come second, mostly from the
subject and only in phrases that say what the change *is*. When in doubt the commit gets no kind.
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


@dataclass(frozen=True, slots=True)
class Classification:
    kinds: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    reverts: str = ""  # the reverted commit: full sha when resolved, as written when no resolver is given
    fixes: str = ""  # the commit a `Fixes: <sha>` trailer names (same rule)


# --- structure ---------------------------------------------------------------------------------------
_CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z][\w-]*)(?:\((?P<scope>[^)]*)\))?!?:\s+")
_PATH_PREFIX = re.compile(r"^[\w.-]*[/.][\w./-]*(?:,\s*[\w./-]+)*:\s+")
_MERGE = re.compile(r"^Merge (?:branch|pull request|remote-tracking branch|tag|remote branch|commit)\b")
_REVERT_QUOTED = re.compile(r'^Revert\s+"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))?\s*\.?$')
_REAPPLY_QUOTED = re.compile(r'^Reapply\s+"(?P<inner>.+)"(?:\s*\((?:#\d+|[^)]*)\))?\s*\.?$')
_REVERT_SHA = re.compile(r"^Revert\s+(?:commit\s+)?(?P<sha>[0-9a-f]{7,40})\b")
_TRAILER = re.compile(r"^\s*This reverts commit (?P<sha>[0-9a-f]{7,40})\b", re.MULTILINE)
_FIXES_TRAILER = re.compile(r"^Fixes:\s+(?:commit\s+)?(?P<sha>[0-9a-f]{8,40})\b", re.MULTILINE)
_REGRESSED_IN = re.compile(
    r"\b(?:regression|regressed|introduced|broken|broke)\s+(?:introduced\s+)?(?:in|by|since)\s+"
    r"(?:commit\s+)?(?P<sha>(?=[0-9a-f]*[a-f])[0-9a-f]{7,40})\b", re.IGNORECASE)
_BUMP = re.compile(
    r"^(?:bump|update|upgrade|pin|downgrade|lock)\s+(?:the\s+)?(?:dependency|dependencies|module|crate|package|"
    r"gem|rust crate|npm package|\S+ group|\S+)\b.*\b(?:from|to|requirement|digest|version)\b", re.IGNORECASE)
_DEPS_SCOPE = re.compile(r"^(?:deps|dependencies|dep|deps-dev|npm|pip|go|cargo|gomod|docker|gh-actions)$", re.I)
_ADVISORY = re.compile(r"\b(?:CVE-\d{4}-\d{4,7}|GHSA(?:-[0-9a-z]{4}){3})\b", re.IGNORECASE)
_TRAILER_LINE = re.compile(r"^[A-Z][\w-]*(?:-[\w]+)*:\s", re.MULTILINE)

_DOC_EXT = (".md", ".rst", ".txt", ".adoc", ".markdown")
_CI_PARTS = (".github/", ".gitlab-ci", ".circleci/", "Jenkinsfile", ".buildkite/", "azure-pipelines", ".travis")

# --- words -------------------------------------------------------------------------------------------
_FIX = (r"fix|fixes|fixed|fixing|resolve[sd]?|address(?:es|ed)?|correct(?:s|ed)?|repair(?:s|ed)?|restore[sd]?|"
        r"avoid(?:s|ed)?|prevent(?:s|ed)?|handle[sd]?")
_REMOVAL = re.compile(
    r"\b(?:remove[sd]?|removing|drop(?:s|ped|ping)?|delete[sd]?|deleting|clean(?:s|ed)?\s+up|get\s+rid\s+of|"
    r"rip(?:ped)?\s+out|revert(?:s|ed|ing)?|undo(?:es)?|retire[sd]?|kill(?:s|ed)?|no\s+longer\s+need(?:ed)?|"
    r"obsolete|unneeded|unnecessary|stop\s+using)\b[^.;\n]{0,50}?\b(?:work[- ]?arounds?|kludges?|"
    r"hacks?(?![/.-]\w)(?!\s+(?:scripts?|dir|directory|folder|tools?|tooling)\b)|"
    r"temporary\s+(?:fix|workaround|hack|patch|code|change)(?:es|s)?)\b"
    r"|\b(?:work[- ]?arounds?|hacks?)\b[^.;\n]{0,30}\b(?:is|are)\s+no\s+longer\s+(?:needed|necessary|required)\b",
    re.IGNORECASE)
_WORKAROUND = re.compile(
    r"\bwork-?arounds?\b|^work(?:s|ed|ing)?\s+around\b|\b(?:to|and|which|that|this)\s+work(?:s|ed)?\s+around\b"
    r"|\bwork(?:ed|ing)\s+around\b|\bkludge[sy]?\b|\bband[- ]?aid\b", re.IGNORECASE)
_HACK = re.compile(r"(?<![/\w.-])hack(?:s|y|ed|ish|ing)?\b(?![/.-]\w)"
                   r"(?!\s+(?:scripts?|dir|directory|folder|tools?|tooling|week|weeks|day|days|night|session)\b)", re.IGNORECASE)
_WORKAROUND_BODY = re.compile(
    r"\b(?:as\s+an?|this\s+is\s+an?|temporary|quick|ugly|dirty)\s+(?:work[- ]?around|hack|kludge)\b"
    r"|\bwork(?:s|ed|ing)?\s+around\s+(?:a|an|the|this|that|some|it|issue|bug)\b"
    r"|\bworkaround\s+(?:for|to|until)\b", re.IGNORECASE)
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
_TEMP_VERBS = (r"disabl\w*|skip\w*|pin\w*|revert\w*|remov\w*|ignor\w*|allow\w*|bypass\w*|increas\w*|rais\w*|"
               r"lower\w*|reduc\w*|hard-?cod\w*|comment\w*|mark\w*|downgrad\w*|roll\w*\s*back|switch\w*|"
               r"turn\w*\s+(?:off|on)|us(?:e|es|ed|ing)|work\w*\s+around|patch\w*|suppress\w*|exclud\w*|xfail\w*|"
               r"mut(?:e|ed|es|ing)|block\w*|limit\w*|forc\w*|keep\w*|restor\w*|add\w*|set\w*")
_TEMPORARY = re.compile(
    rf"\btemporarily\s+(?:{_TEMP_VERBS})\b"
    r"|\b(?:temporary|stop-?gap|interim)\s+(?:fix|workaround|hack|patch|solution|measure|change|override|pin|"
    r"disable|revert|rollback|bypass|hard-?code|exception|mitigation|kludge)\b|\bstop-?gap\b"
    r"|\bfor\s+now\s*[.!]?$"
    r"|\buntil\b.{0,60}\b(?:is|are|gets?|get)\s+(?:fixed|released|merged|resolved|available|deployed|supported)\b",
    re.IGNORECASE)
_TEMP_PREFIX = re.compile(r"^(?:temp|tmp|temporary)\s*:", re.IGNORECASE)
_TEMPORARY_BODY = re.compile(
    rf"\b(?:temporary|stop-?gap)\s+(?:fix|workaround|hack|patch|solution|measure)\b|\btemporarily\s+(?:{_TEMP_VERBS})\b",
    re.IGNORECASE)
_SEC_NOUN = (r"security\s+(?:fix|issue|vulnerability|bug|hole|flaw|problem|patch)|vulnerabilit(?:y|ies)|xss|csrf|"
             r"ssrf|xxe|rce|remote\s+code\s+execution|(?:sql|command|header|ldap|template|shell)\s+injection|"
             r"path\s+traversal|directory\s+traversal|open\s+redirect|privilege\s+escalation|"
             r"auth(?:entication|orization)?\s+bypass|timing\s+attack|redos|clickjacking|zip\s+slip|"
             r"insecure\s+deserialization|prototype\s+pollution|request\s+smuggling")
_SEC_VERB = (r"fix|fixes|fixed|fixing|prevent(?:s|ed)?|sanitiz\w*|sanitis\w*|escap\w*|harden\w*|patch(?:es|ed)?|"
             r"mitigat\w*|block(?:s|ed)?|guard(?:s|ed)?|protect(?:s|ed)?|close[sd]?|address(?:es|ed)?|avoid(?:s|ed)?|"
             r"disallow(?:s|ed)?|reject(?:s|ed)?")
_SECURITY = re.compile(rf"\b(?:{_SEC_VERB})\b[^.;\n]{{0,60}}\b(?:{_SEC_NOUN})\b|\b(?:{_SEC_NOUN})\b[^.;\n]{{0,30}}"
                       rf"\b(?:{_SEC_VERB})\b|^security\s+fix\b|\bsecurity\s+fix(?:es)?\s*:", re.IGNORECASE)
_SEC_SETUP = re.compile(
    r"security\.md|security\s+polic\w*|security\.txt|codeql|snyk|trivy|gosec|bandit|semgrep|dependabot|scorecard|"
    r"scann(?:er|ers|ing)|security\s+(?:scan|workflow|contact|advisory\s+template|headers?\s+docs?)", re.IGNORECASE)
_REGRESSION = re.compile(r"\bregress(?:ion|ions|ed)\b", re.IGNORECASE)
_NOT_REGRESSION = re.compile(
    r"\b(?:non-)?regression[- ](?:tests?|testing|suite|check|checks|coverage|detection)\b", re.IGNORECASE)
_FIX_WORD = re.compile(rf"\b(?:{_FIX}|revert\w*)\b", re.IGNORECASE)
_INTRODUCED = re.compile(rf"\b(?:{_FIX})\b.*\b(?:introduced|caused|broken|broke|regressed)\s+(?:in|by|since)\b",
                         re.IGNORECASE)


def _strip_prefix(subject: str) -> tuple[str, str, str]:
    """(type, scope, rest) of a conventional-commit or `path/to/thing: ` subject."""
    m = _CONVENTIONAL.match(subject)
    if m:
        return m.group("type").lower(), (m.group("scope") or "").lower(), subject[m.end():]
    m = _PATH_PREFIX.match(subject)
    if m:
        return "", "", subject[m.end():]
    return "", "", subject


def _body_text(body: str) -> str:
    """The prose of a body: no trailers, no quoted lines, no diffs; bounded."""
    lines = [ln for ln in body[:4000].splitlines() if not ln.startswith((">", "    ", "\t", "+", "-"))]
    return _TRAILER_LINE.sub("\x00", "\n".join(lines)).split("\x00", 1)[0] if lines else ""


def _only(files: Sequence[str], test: Callable[[str], bool]) -> bool:
    return bool(files) and all(test(f) for f in files)


def _is_doc(path: str) -> bool:
    return path.lower().endswith(_DOC_EXT) or path.startswith(("docs/", "doc/")) or "/docs/" in path


def _is_ci(path: str) -> bool:
    return any(part in path for part in _CI_PARTS)


def _is_bump(type_: str, scope: str, rest: str) -> bool:
    return bool(_DEPS_SCOPE.match(scope)) or bool(_BUMP.match(rest)) or rest.lower().startswith(
        ("update dependency", "update module", "update rust crate", "bump the "))


# Every word rule needs one of these stems: most commits contain none and skip the rules entirely.
_ANY_WORD = re.compile(
    r"work|hack|kludge|band|hot|emergenc|urgent|incident|outage|mortem|sev|temp|stop|interim|for now|until|secur|"
    r"vulnerab|xss|csrf|ssrf|xxe|rce|inject|traversal|redirect|escalat|bypass|timing|redos|clickjack|slip|"
    r"deserializ|pollution|smuggl|cve|ghsa|regress|introduced|caused|broke|inc-?\d|tmp", re.IGNORECASE)


def _word_kinds(subject: str, body: str, files: Sequence[str]) -> set[str]:
    kinds: set[str] = set()
    if not _ANY_WORD.search(subject) and not _ANY_WORD.search(body[:4000]):
        return kinds
    type_, scope, rest = _strip_prefix(subject)
    if _is_bump(type_, scope, rest):
        bot = body.lstrip().startswith(("Bumps ", "Updates the requirements", "This PR contains", "| datasource"))
        first_para = "" if bot else _body_text(body).split("\n\n", 1)[0]
        if "[security]" in subject.lower() or _ADVISORY.search(subject) or _ADVISORY.search(first_para):
            kinds.add("security")
        if _TEMPORARY.search(rest):
            kinds.add("temporary")
        return kinds
    prose = _body_text(body)
    hack_dir = any(p == "hack" for f in files for p in f.split("/")[:-1]) or "hack/" in subject.lower()
    removal = _REMOVAL.search(rest) or (not rest.strip() and _REMOVAL.search(prose))
    if removal and hack_dir and not re.search(r"work[- ]?around|kludge|temporar", removal.group(0), re.I):
        removal = None  # "remove ... hack" in a repository with a hack/ folder names the folder
    if removal:
        kinds.add("workaround_removed")
    elif type_ != "hack" and scope != "hack":
        if type_ in ("workaround", "kludge") or _WORKAROUND.search(rest) or (not hack_dir and _HACK.search(rest)):
            kinds.add("workaround")
        elif not _REMOVAL.search(prose) and (_WORKAROUND_BODY.search(prose) and not hack_dir):
            kinds.add("workaround")
    if type_ == "hotfix" or _HOTFIX.search(rest) or _HOTFIX_BODY.search(prose):
        kinds.add("hotfix")
    if not removal and (_TEMPORARY.search(rest) or _TEMP_PREFIX.match(subject) or _TEMPORARY_BODY.search(prose)):
        kinds.add("temporary")
    if (_INCIDENT.search(rest) and (_INCIDENT_VERB.search(rest) or _INCIDENT_ID.search(subject))) or \
            _INCIDENT_BODY.search(prose) or (_INCIDENT_ID.search(subject) and _FIX_WORD.search(rest)):
        kinds.add("incident")
    cleaned = _NOT_REGRESSION.sub(" ", rest)
    if (_REGRESSION.search(cleaned) and _FIX_WORD.search(cleaned)) or _INTRODUCED.search(rest):
        kinds.add("regression_fix")
    if not _SEC_SETUP.search(subject):
        first_para = prose.split("\n\n", 1)[0]
        if _ADVISORY.search(subject) or _ADVISORY.search(first_para) or _SECURITY.search(rest):
            kinds.add("security")
    if _only(files, _is_doc):
        kinds -= {"workaround", "hotfix", "temporary", "security", "incident", "regression_fix"}
    if _only(files, lambda f: _is_ci(f) or _is_doc(f)):
        kinds -= {"hotfix", "security"}
    return kinds


def _revert_target(subject: str, body: str) -> tuple[str, str, bool] | None:
    """(sha as written or '', quoted subject or '', reapply?) when the message has the form of a revert."""
    _type, _scope, rest = _strip_prefix(subject) if subject.lower().startswith("revert") and ":" in subject[:20] \
        else ("", "", subject)
    shas = list(dict.fromkeys(m.group("sha") for m in _TRAILER.finditer(body)))
    quoted = _REVERT_QUOTED.match(rest)
    reapply = _REAPPLY_QUOTED.match(rest)
    first_line = next((ln for ln in body.splitlines() if ln.strip()), "")
    if len(shas) > 1:
        return None  # a squash-merge body listing several reverts, or an ambiguous multi-revert
    if quoted or reapply:
        inner = (quoted or reapply).group("inner")  # type: ignore[union-attr]
        is_reapply = bool(reapply) or bool(_REVERT_QUOTED.match(inner))
        return (shas[0] if shas else "", inner, is_reapply)
    m = _REVERT_SHA.match(rest)
    if m:
        return (shas[0] if shas else m.group("sha"), "", False)
    if shas and _TRAILER.match(first_line):
        return (shas[0], "", False)
    return None


def classify(subject: str, body: str = "", files: Sequence[str] = (), *, merge: bool = False,
             resolve: Resolver | None = None, find_subject: Resolver | None = None) -> Classification:
    """Kinds and references of one commit.

    `resolve(sha_prefix)` returns the full sha of a commit reachable from HEAD (or None); `find_subject`
    returns the sha of the earlier commit whose subject is exactly the given text. Without `resolve`
    (pure use), a well-formed revert/`Fixes:` trailer is trusted as written.
    """
    subject = subject.strip()
    refs = tuple(find_refs(f"{subject}\n{body[:4000]}"))
    if merge or _MERGE.match(subject):
        return Classification(refs=refs)
    kinds: set[str] = set()
    reverts = ""
    target = _revert_target(subject, body)
    if target is not None:
        sha, inner, is_reapply = target
        if sha:
            reverts = (resolve(sha) or "") if resolve else sha
        if not reverts and inner and find_subject is not None:
            reverts = find_subject(inner) or ""
        if reverts:
            kinds.add("revert")
            if is_reapply:
                kinds.add("reapply")
            elif "workaround" in _word_kinds(inner, "", files) or "temporary" in _word_kinds(inner, "", files):
                kinds.add("workaround_removed")
    if not reverts and target is None:
        kinds |= _word_kinds(subject, body, files)
    fixes = ""
    m = _FIXES_TRAILER.search(body) or _REGRESSED_IN.search(f"{subject}\n{_body_text(body)}")
    if m and "revert" not in kinds:
        fixes = (resolve(m.group("sha")) or "") if resolve else m.group("sha")
        if fixes:
            kinds.add("regression_fix")
    return Classification(tuple(k for k in KINDS if k in kinds), refs, reverts, fixes)
