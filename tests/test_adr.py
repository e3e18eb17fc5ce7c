"""ADR extraction over MADR, Nygard and front-matter fixtures (tests/fixtures/history/adr/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.positions import SourceFile
from indexers.sources.notes.adr import AdrExtractor

FIXTURES = Path(__file__).parent / "fixtures" / "history" / "adr"
EXTRACTOR = AdrExtractor()

EXPECTED = {
    "0001-record-architecture-decisions.md": ("Record architecture decisions", "accepted", "2018-01-01", ()),
    "0002-use-grpc-between-services.md": (
        "Use gRPC between orders-service and billing-service", "superseded", "2021-03-04",
        ("proto:shop.CartService.GetCart", "CartService", "proto/shop/cart.proto", "checkout-api",
         "services/orders/internal/handler.go", "services/billing/", "orders-service", "billing-service")),
    "0003-front-matter.md": ("Store carts in PostgreSQL", "proposed", "2024-06-30",
                             ("sql:carts.id", "carts", "db/migrations/0001_carts.sql")),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_adr_fixtures(name: str) -> None:
    path = f"docs/adr/{name}"
    partial = EXTRACTOR.extract(SourceFile("shop", path, (FIXTURES / name).read_bytes()))
    assert partial.errors == []
    (d,) = partial.decisions
    assert (d.title, d.status, d.date, d.mentions) == EXPECTED[name]
    assert d.id == f"adr:shop:{path}" and d.path == path and d.repo == "shop"


def test_no_heading_is_a_file_error() -> None:
    partial = EXTRACTOR.extract(SourceFile("shop", "docs/adr/0004-broken.md", (FIXTURES / "0004-broken.md").read_bytes()))
    assert partial.decisions == [] and "no '# Title'" in partial.errors[0].reason


@pytest.mark.parametrize(("path", "wanted"), [
    ("docs/adr/0001-x.md", True),
    ("docs/decisions/0001-x.md", True),
    ("doc/architecture/decisions/0001-x.md", True),
    ("services/orders/docs/architecture/decisions/0002-y.md", True),
    ("docs/adr/README.md", False),
    ("docs/adr/adr-template.md", False),
    ("docs/adr/0001-x.txt", False),
    ("docs/guide/0001-x.md", False),
])
def test_wants(path: str, wanted: bool) -> None:
    assert EXTRACTOR.wants(path) is wanted


def test_code_blocks_and_urls_are_not_mentions() -> None:
    text = ("# Use events\n\nStatus: accepted\n\nSee https://example.com/a/b/c.html and [x](docs/other.md).\n\n"
            "```\nignored-service `IgnoredIdent` x/y/z.go\n```\n")
    (d,) = EXTRACTOR.extract(SourceFile("shop", "docs/adr/0009-events.md", text.encode())).decisions
    assert d.status == "accepted" and d.mentions == ()
