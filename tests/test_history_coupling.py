"""File and service coupling from Commit facts (no git needed)."""

from __future__ import annotations

from indexers.history.coupling import FileCoupling, service_pairs
from indexers.model import Commit


def c(sha: str, files: tuple[str, ...], *, refs: tuple[str, ...] = (), author: str = "Ada",
      date: str = "2024-01-01T10:00:00+00:00") -> Commit:
    return Commit(sha=sha * 40 if len(sha) == 1 else sha, date=date, author=author, subject="x", refs=refs, files=files)


def test_file_pairs_support_and_confidence() -> None:
    commits = [
        c("1", ("api/cart.proto", "svc/cart.go")),
        c("2", ("api/cart.proto", "svc/cart.go", "web/cart.ts")),
        c("3", ("api/cart.proto",)),
        c("4", ("svc/cart.go", "README.md")),
        c("5", tuple(f"gen/f{i}.go" for i in range(60)) + ("api/cart.proto", "svc/cart.go")),  # too big: skipped
        Commit(sha="6" * 40, date="", author="", subject="Merge", files=()),
    ]
    fc = FileCoupling(commits)
    assert fc.commits == 4
    pairs = fc.with_file("api/cart.proto")
    assert [(p.other, p.support, p.total, round(p.confidence, 2)) for p in pairs] == [("svc/cart.go", 2, 3, 0.67)]
    assert [p.other for p in fc.with_file("api/cart.proto", min_support=1)] == ["svc/cart.go", "web/cart.ts"]
    assert fc.with_file("api/cart.proto", exists=lambda p: p != "svc/cart.go") == []
    assert fc.with_file("nope.go") == []


def test_service_pairs_across_repos() -> None:
    def service_of(repo: str, path: str) -> str | None:
        return {"api": "orders", "web": "storefront", "pay": "payments"}.get(path.split("/")[0])

    by_repo = {
        "shop": [
            c("a", ("api/orders.go",), refs=("PAY-12", "#5")),
            c("b", ("api/orders.go", "web/cart.ts")),  # one commit, two services (monorepo)
            c("c", ("api/orders.go",), author="Grace", date="2024-02-01T09:00:00+00:00"),
            c("d", ("api/x.go",), refs=("#7",), author="Lin", date="2024-03-01T09:00:00+00:00"),
        ],
        "payments": [
            c("e", ("pay/charge.go",), refs=("PAY-12",), author="Bob", date="2024-05-01T00:00:00+00:00"),
            c("f", ("pay/charge.go",), author="Grace", date="2024-02-01T10:30:00+00:00"),  # 90 min later
            c("g", ("pay/charge.go",), author="Grace", date="2024-02-01T13:30:00+01:00"),  # 3.5 h after c
            c("h", ("pay/refund.go",), refs=("#7",), author="Kim", date="2024-06-01T00:00:00+00:00"),
        ],
    }
    pairs = service_pairs(by_repo, service_of, min_support=1)
    got = {(p.a, p.b): (p.support, [e[0] for e in p.evidence]) for p in pairs}
    assert got == {
        ("orders", "payments"): (2, ["both name PAY-12", "same author within 90 min"]),
        ("orders", "storefront"): (1, ["same commit"]),
    }  # a bare #7 in two repositories names two different issues
    assert [(p.a, p.b) for p in service_pairs(by_repo, service_of)] == [("orders", "payments")]
