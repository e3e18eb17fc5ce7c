"""References named in commit messages and comments: `#123`, `owner/repo#123`, `GH-123`, Jira-style keys
(`ABC-123`), CVE/GHSA advisories and URLs.

Jira keys share their shape with many things that are not issues (`UTF-8`, `SHA-256`, `ISO-8601`,
`HTTP-2`, `COVID-19`, `ISO-8859-1`); those prefixes are excluded, as are keys that continue with another
`-digit` or `.digit` (versions, code pages).
"""

from __future__ import annotations

import re

# Uppercase prefixes that look like Jira projects but name encodings, hashes, standards, protocols,
# architectures and the like.
NOT_PROJECTS = frozenset(
    """UTF UCS SHA MD ISO HTTP HTTPS TLS SSL IPV RFC ECMA ES PEP AES RSA DES PKCS CRC BASE ARM X86 AMD INT UINT
    FLOAT LATIN WINDOWS CP KOI EUC GB BIG IEEE ANSI ASCII OAUTH JSON YAML XML HTML CSS JS TS MP AVC HEVC COVID
    SEV PR TLSV SSLV HMAC ECDSA EC ED GPT LLM PY GO JAVA NODE ISBN EAN UPC DDR PCI USB IP TCP UDP HTTP2 H2 S3
    EC2 WCAG OWASP CWE SOC ISO27001 FIPS NIST SP ASN DER PEM X509 V API SDK CI CD TODO FIXME XXX ID UUID GUID
    GMT UTC PST EST CET GH""".split()
)

_HASH_REF = re.compile(r"(?<![\w&/#.-])(?:([A-Za-z0-9][\w.-]*/[\w.-]+))?#(\d{1,7})\b(?!-)")
_GH_REF = re.compile(r"\b(?:GH|gh)-(\d{1,7})\b")
_ADVISORY = re.compile(r"\b(CVE-\d{4}-\d{4,7}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})\b", re.IGNORECASE)
_JIRA = re.compile(r"(?<![\w/.-])([A-Z][A-Z0-9]{1,9})-([1-9]\d{0,6})(?![\w-]|\.\d)")
_JIRA_HINT = re.compile(r"[A-Z0-9]-[1-9]")  # in every `_JIRA` match; a plain character class scans fast
_URL = re.compile(r"\bhttps?://[^\s<>()\"'`\[\]{}]+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?*"


def find_refs(text: str, limit: int = 12) -> list[str]:
    """References in order of first appearance, deduplicated."""
    found: list[tuple[int, str]] = []
    url_spans: list[tuple[int, int]] = []
    has_hash, has_dash, has_url = "#" in text, "-" in text, "://" in text
    if not (has_hash or has_dash or has_url):
        return []
    # Words each pattern needs (advisories match in any case: tested on ASCII text only, see below).
    low = text.lower() if has_dash and text.isascii() else None
    has_gh = has_dash and ("GH-" in text or "gh-" in text)
    has_advisory = has_dash and (low is None or "cve-" in low or "ghsa-" in low)
    has_jira = has_dash and _JIRA_HINT.search(text) is not None
    for m in (_URL.finditer(text) if has_url else ()):
        url = m.group(0).rstrip(_URL_TRAIL)
        if len(url) > len("https://x"):
            found.append((m.start(), url))
            url_spans.append((m.start(), m.start() + len(url)))

    def in_url(pos: int) -> bool:
        return any(a <= pos < b for a, b in url_spans)

    for m in (_HASH_REF.finditer(text) if has_hash else ()):
        if in_url(m.start()):
            continue
        found.append((m.start(), f"{m.group(1)}#{m.group(2)}" if m.group(1) else f"#{m.group(2)}"))
    for m in (_GH_REF.finditer(text) if has_gh else ()):
        if not in_url(m.start()):
            found.append((m.start(), f"#{m.group(1)}"))
    advisory_spans: list[tuple[int, int]] = []
    for m in (_ADVISORY.finditer(text) if has_advisory else ()):
        if not in_url(m.start()):
            found.append((m.start(), m.group(1).upper()))
            advisory_spans.append(m.span())
    for m in (_JIRA.finditer(text) if has_jira else ()):
        if in_url(m.start()) or any(a <= m.start() < b for a, b in advisory_spans):
            continue
        if m.group(1) in NOT_PROJECTS or m.group(1).startswith(("CVE", "GHSA")):
            continue
        found.append((m.start(), m.group(0)))
    out: dict[str, None] = {}
    for _, ref in sorted(found, key=lambda p: p[0]):
        out.setdefault(ref, None)
        if len(out) >= limit:
            break
    return list(out)
