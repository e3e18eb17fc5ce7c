"""Commit classification over labelled, real-looking messages (most of them traps from real histories).

Each row is (subject, body, files, expected kinds). Precision per kind is measured over the whole table
and must be perfect: a wrong kind is worse than a missing one.
"""

from __future__ import annotations

import pytest

from indexers.history.classify import KINDS, classify
from indexers.refs import find_refs

SHA = "8f3c2a1b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a"
GO = ("pkg/server/handler.go",)
PY = ("app/cache.py",)

TABLE: list[tuple[str, str, tuple[str, ...], set[str]]] = [
    # reverts: structure (subject form + one trailer)
    ('Revert "Add connection pooling"', f"This reverts commit {SHA}.", GO, {"revert"}),
    ('Revert "Add connection pooling" (#4521)', f"This reverts commit {SHA[:12]}.\n\nBroke staging.", GO, {"revert"}),
    ('Revert "Revert "Add connection pooling""', f"This reverts commit {SHA}.", GO, {"revert", "reapply"}),
    ('Reapply "Add connection pooling"', f"This reverts commit {SHA}.", GO, {"revert", "reapply"}),
    ('Revert "Work around flaky DNS in tests"', f"This reverts commit {SHA}.", GO,
     {"revert", "workaround_removed"}),
    ("revert: feat(api): add batch endpoint", f"This reverts commit {SHA}.", GO, {"revert"}),
    ("Undo the cache change", f"This reverts commit {SHA}.\n\nIt doubled p99.", PY, {"revert"}),
    # squash-merge bodies that list several reverts are not reverts
    ("Feature/payments cleanup (#812)",
     f'* Revert "Add retries"\n\nThis reverts commit {SHA}.\n\n* Revert "Add jitter"\n\n'
     "This reverts commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b.\n\n* tidy", GO, set()),
    ("Fix login redirect (#77)", f'* add test\n\n* Revert "tmp"\n\nThis reverts commit {SHA}.', GO, set()),
    # "revert" as a verb or a feature name
    ("Revert to the previous config when the new one fails to load", "", GO, set()),
    ("Add revert button to the order editor", "", ("web/src/Editor.tsx",), set()),
    ("Allow users to revert a payment within 24h", "", GO, set()),
    ('Revert "Add connection pooling"', "", GO, set()),  # no trailer: only history can resolve it
    # workarounds
    ("Work around a race in the gRPC client shutdown", "", GO, {"workaround"}),
    ("Add workaround for Safari date parsing (#311)", "", ("web/src/date.ts",), {"workaround"}),
    ("Quick hack to unblock the release", "", GO, {"workaround"}),
    ("Kludge: force UTF-8 decoding for legacy feeds", "", PY, {"workaround"}),
    ("Skip TLS verification for the legacy partner endpoint",
     "This is a temporary workaround until the partner renews their certificate.", PY,
     {"workaround", "temporary"}),
    # workaround traps
    ("hack/verify-gofmt.sh: use go 1.22", "", ("hack/verify-gofmt.sh",), set()),
    ("Update hack scripts for codegen", "", ("hack/update-codegen.sh",), set()),
    ("hack: add local cluster bootstrap script", "", ("hack/kind.sh",), set()),
    ("chore(hack): bump kind version", "", ("hack/kind.sh",), set()),
    ("Remove workaround for Go 1.19 TLS bug", "", GO, {"workaround_removed"}),
    ("Drop the old hack for IE11 flexbox", "", ("web/src/layout.css",), {"workaround_removed"}),
    ("Clean up: the retry workaround is no longer needed", "", GO, {"workaround_removed"}),
    ("Document the proxy workaround", "", ("docs/proxy.md",), set()),
    ("Bump hackney from 1.18.1 to 1.18.2", "", ("mix.lock",), set()),
    ("Rename the hackathon landing page", "", ("web/src/Hackathon.tsx",), set()),
    # hotfix
    ("Hotfix: null check in checkout total", "", GO, {"hotfix"}),
    ("hotfix(payments): double charge on retry #902", "", GO, {"hotfix"}),
    ("Merge branch 'hotfix/1.4.2' into main", "", (), set()),
    ("Add hotfix release workflow", "", (".github/workflows/hotfix.yml",), set()),
    ("ci: run e2e on hotfix branches", "", (".github/workflows/e2e.yml",), set()),
    # regression
    ("Fix regression in pagination cursor (#1203)", "", GO, {"regression_fix"}),
    ("Add regression test for #1203", "", ("pkg/server/handler_test.go",), set()),
    ("Run the regression suite nightly", "", (".github/workflows/nightly.yml",), set()),
    ("Fix empty cart total introduced in 4c1d2e3f9a", "", GO, {"regression_fix"}),
    ("net: fix timeout handling", f"Fixes: {SHA[:12]} (\"net: add deadline\")", GO, {"regression_fix"}),
    # incident
    ("Mitigate outage from cache stampede (INC-2231)", "", GO, {"incident"}),
    ("Add incident dashboard to the admin app", "", ("web/src/Incidents.tsx",), set()),
    ("Fix incidental whitespace in README", "", ("README.md",), set()),
    ("Limit batch size", "Follow-up to last night's incident: batches over 10k exhausted the pool.", GO,
     {"incident"}),
    ("Write postmortem template", "", ("docs/postmortem.md",), set()),
    # temporary
    ("Temporarily disable the flaky checkout e2e test", "", ("e2e/checkout.spec.ts",), {"temporary"}),
    ("Use a temporary file for the upload buffer", "", GO, set()),
    ("Clean up temp files after export", "", PY, set()),
    ("Pin grpcio to 1.58 until the fork bug is fixed", "", ("requirements.txt",), {"temporary"}),
    ("Store session data in a temporary table", "", ("db/migrations/0042.sql",), set()),
    # security
    ("Fix XSS in the comment preview", "", ("web/src/Preview.tsx",), {"security"}),
    ("Escape user input in SQL injection-prone search path", "", GO, {"security"}),
    ("Add SECURITY.md", "", ("SECURITY.md",), set()),
    ("Update security policy contact", "", ("SECURITY.md",), set()),
    ("ci: add CodeQL security scanning", "", (".github/workflows/codeql.yml",), set()),
    ("Upgrade jackson-databind to 2.13.4", "Fixes CVE-2020-36518.", ("pom.xml",), {"security"}),
    ("Bump jackson-databind from 2.13.1 to 2.13.2.1",
     "Bumps [jackson-databind](https://github.com/x/y) from 2.13.1 to 2.13.2.1.\n\n"
     "Release notes: addresses CVE-2020-36518", ("pom.xml",), set()),
    ("Reject path traversal in archive extraction", "", GO, {"security"}),
    ("Bump lodash from 4.17.15 to 4.17.21 [SECURITY]", "", ("package-lock.json",), {"security"}),
    ("Bump security-utils from 2.0 to 2.1", "", ("go.mod",), set()),
    ("Validate redirect target", "Fixes CVE-2024-12345 (open redirect).", GO, {"security"}),
    ("Remove unused hack scripts", "", ("hack/old.sh",), set()),
    ("Hack week: new dashboard", "", ("web/src/Dash.tsx",), set()),
    ("Make the report work around midnight UTC", "", PY, set()),
    ("Add code to work around the proxy bug", "", PY, {"workaround"}),
    ("Fix SEV-2: checkout returns 500s", "", GO, {"incident"}),
    ("Incident response: add runbook link", "", ("ops/runbook.yaml",), set()),
    ("Make the security group rules configurable", "", ("infra/main.tf",), set()),
    ("Delete temporary files after upload", "", PY, set()),
    ("Fix hot reload in the dev server", "", ("web/vite.config.ts",), set()),
    ("security: bump openssl", "", ("Dockerfile",), set()),
    # ordinary commits
    ("Add pagination to the orders list", "", GO, set()),
    ("Fix typo", "", ("README.md",), set()),
    ("Merge pull request #55 from acme/hotfix-login", "Hotfix login", (), set()),
    ("refactor: extract the retry policy", "", GO, set()),
]


@pytest.mark.parametrize(("subject", "body", "files", "expected"), TABLE, ids=[r[0][:60] for r in TABLE])
def test_classify_table(subject: str, body: str, files: tuple[str, ...], expected: set[str]) -> None:
    assert set(classify(subject, body, files).kinds) == expected


def test_precision_is_perfect_and_recall_reported() -> None:
    tp = {k: 0 for k in KINDS}
    fp = {k: 0 for k in KINDS}
    fn = {k: 0 for k in KINDS}
    for subject, body, files, expected in TABLE:
        got = set(classify(subject, body, files).kinds)
        for k in KINDS:
            tp[k] += k in got and k in expected
            fp[k] += k in got and k not in expected
            fn[k] += k not in got and k in expected
    assert len(TABLE) >= 40
    precision = sum(tp.values()) / max(1, sum(tp.values()) + sum(fp.values()))
    recall = sum(tp.values()) / max(1, sum(tp.values()) + sum(fn.values()))
    print(f"precision={precision:.3f} recall={recall:.3f} over {len(TABLE)} messages")
    assert precision == 1.0
    assert recall >= 0.95
    ordinary = sum(1 for row in TABLE if not row[3])
    assert ordinary >= 20  # most rows are traps or ordinary commits, as in real histories


def test_revert_uses_resolver() -> None:
    body = f"This reverts commit {SHA[:10]}."
    assert classify('Revert "x"', body, GO, resolve=lambda s: None).kinds == ()
    got = classify('Revert "x"', body, GO, resolve=lambda s: SHA if SHA.startswith(s) else None)
    assert got.kinds == ("revert",) and got.reverts == SHA
    by_subject = classify('Revert "Add pooling"', "", GO, resolve=lambda s: None,
                          find_subject=lambda s: SHA if s == "Add pooling" else None)
    assert by_subject.reverts == SHA and "revert" in by_subject.kinds


def test_fixes_trailer_needs_resolution() -> None:
    body = f"Fixes: {SHA[:12]} (\"net: add deadline\")"
    assert classify("net: fix timeout", body, GO, resolve=lambda s: None).kinds == ()
    got = classify("net: fix timeout", body, GO, resolve=lambda s: SHA)
    assert got.kinds == ("regression_fix",) and got.fixes == SHA


def test_merge_commits_get_refs_only() -> None:
    got = classify("Merge pull request #55 from acme/hotfix", "Hotfix for login", (), merge=True)
    assert got.kinds == () and got.refs == ("#55",)


@pytest.mark.parametrize(("text", "refs"), [
    ("Fix #123 and GH-45", ["#123", "#45"]),
    ("PAY-881: retry declined cards", ["PAY-881"]),
    ("Use UTF-8, SHA-256, ISO-8601, HTTP-2, ISO-8859-1 and COVID-19 data", []),
    ("See https://github.com/acme/shop/issues/9.", ["https://github.com/acme/shop/issues/9"]),
    ("Ported from acme/legacy#77 (C# client, colour #fff, &#123;)", ["acme/legacy#77"]),
    ("Patch CVE-2021-44228 and GHSA-jfh8-c2jp-5v3q", ["CVE-2021-44228", "GHSA-JFH8-C2JP-5V3Q"]),
    ("Version ABC-1.2 and K8S-12", ["K8S-12"]),
])
def test_refs(text: str, refs: list[str]) -> None:
    assert find_refs(text) == refs
