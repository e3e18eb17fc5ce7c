"""The hover as a person reads it, on the example system: a first line that says what is here and who
depends on it, then one line per section with something to say, the most important first, each capped
at maxHoverNotes with "+N more"; short citations, every one a link; no needless escapes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t

from indexers.engine import Engine
from indexers.model import Location, Note, Section, Span
from indexers.snapshot import Snapshot
from indexers.store import Store
from indexers.workspace import discover
from lore.query.brief import render_brief
from lore.query.context import Context
from lsp_server.features import hover
from lsp_server.settings import Settings
from lsp_server.state import Doc

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Path]:
    base = tmp_path_factory.mktemp("brief")
    subprocess.run([sys.executable, str(ROOT / "examples/materialize.py"), str(base / "shop"), "--force"], check=True,
                   capture_output=True)
    snap, _ = Engine(discover(base / "shop"), Store(base / "cache")).refresh()
    return snap, base / "shop"


def hover_at(shop: tuple[Snapshot, Path], rel: str, needle: str, word: str, max_notes: int = 8) -> list[str]:
    snap, root = shop
    path = root / rel
    lines = path.read_text().split("\n")
    line = next(i for i, text in enumerate(lines) if needle in text)
    key = snap.locate(path)
    assert key is not None
    snap.history.prepare(*key)  # what the server's history thread does when the file is opened
    found = hover.hover(snap, Doc(path.as_uri(), path), t.Position(line, lines[line].index(word) + 1),
                        Settings(max_hover_notes=max_notes))
    assert found is not None
    text = found.contents.value
    assert not re.search(r"[0-9a-f]{40}", text)  # no full shas
    assert "confidence" not in text and "\\(" not in text and "\\_" not in text and "\\#" not in text
    for target in re.findall(r"\]\(([^)]*)\)", text):
        assert target.startswith("file:///"), target  # every link is Lore's own file link
    return text.split("\n")


def test_call_site_of_a_hotfixed_rpc(shop: tuple[Snapshot, Path]) -> None:
    lines = hover_at(shop, "checkout-service/checkout/cart_client.py", "self._stub.GetCart(", "GetCart")
    assert lines[0] == ("rpc `GetCart` — provided by **cart-service** (Go), called by **checkout-service** (Python) "
                        "and **storefront** (TypeScript)")
    body = [ln for ln in lines[2:]]
    titles = [re.match(r"- \*\*([^*]+)\*\*", ln).group(1) for ln in body]  # type: ignore[union-attr]
    assert titles[:3] == ["History", "Consumers", "Providers"]  # the hotfix on these lines first
    assert "Hotfix: retry GetCart on UNAVAILABLE with backoff (INC-2031) (refs #57) — Erin Walsh, 2024-04-03" in body[0]
    assert "[cart_client.py:19](file://" in body[1] and "[cart.ts:12](file://" in body[1]
    assert "Decisions" in titles and "Service" in titles


def test_the_cap_is_per_section(shop: tuple[Snapshot, Path]) -> None:
    lines = hover_at(shop, "checkout-service/checkout/cart_client.py", "self._stub.GetCart(", "GetCart", max_notes=1)
    consumers = next(ln for ln in lines if ln.startswith("- **Consumers**"))
    assert consumers.endswith("· +1 more") and "storefront" not in consumers
    text = "\n".join(lines)
    assert "Hotfix: retry GetCart" in text and "Use gRPC for the cart service" in text  # nothing else dropped


def test_deprecated_rpc_puts_the_risk_first(shop: tuple[Snapshot, Path]) -> None:
    lines = hover_at(shop, "checkout-service/checkout/cart_client.py", "self._stub.RemoveItem(", "RemoveItem")
    assert lines[0] == "rpc `RemoveItem` (**deprecated**) — called by **checkout-service** (Python)"
    assert lines[2].startswith("- **Contract** `rpc RemoveItem(RemoveItemRequest) returns (Cart), deprecated` [cart.proto:12]")
    assert "`proto:shop.cart.v1.CartService.RemoveItem`" in lines[2]


def test_a_workaround_line_without_a_contract(shop: tuple[Snapshot, Path]) -> None:
    lines = hover_at(shop, "cart-service/internal/server/cart.go", "const maxItems", "maxItems")
    assert lines[0] == "service **cart-service** (Go), owned by team-cart"
    assert lines[2].startswith("- **History** Workaround: Work around Redis timeout on large carts (#42) (refs SHOP-118)"
                               " — Dave Müller, 2024-04-11 [")
    assert lines[3].startswith("- **Markers** HACK: cap at 500 items until SHOP-118 (pipelined Redis reads) is fixed.")


def test_a_section_nobody_told_the_renderer_about() -> None:
    """Sections added later (team notes, operational facts, ...) show up, ranked in the middle, capped."""
    loc = Location("svc", "ops/runbook.md", Span.line(4))
    notes = tuple(Note(f"Page the on-call of team {i}", f"svc/ops/runbook.md:{i + 1}", "oncall", loc) for i in range(5))
    ctx = Context("svc", "main.go", 3, None, (
        Section("history", "History", (Note("Last change: tidy", "b" * 40, "last_change",
                                            data={"label": "Last change", "subject": "tidy", "author": "A", "date": "2024-01-02"}),)),
        Section("ops", "Operations", notes),
        Section("history2", "History", (Note("Hotfix: stop the bleeding", "c" * 40, "hotfix"),)),
    ))
    md = render_brief(ctx, max_notes=2, resolve=lambda lc: f"file:///w/{lc.path}#L{lc.range.start_line + 1}")
    body = md.split("\n")
    assert body[0].startswith("- **History** Hotfix: stop the bleeding `cccccccc`")
    assert body[1] == ("- **Operations** Page the on-call of team 0 [runbook.md:5](file:///w/ops/runbook.md#L5) · "
                       "Page the on-call of team 1 [runbook.md:5](file:///w/ops/runbook.md#L5) · +3 more")
    assert body[2].startswith("- **History** Last change: tidy — A, 2024-01-02 `bbbbbbbb`")


# -- code actions, the context commands and diagnostics on the same system ------------------------------
def _doc(shop: tuple[Snapshot, Path], rel: str) -> tuple[Doc, list[str]]:
    path = shop[1] / rel
    text = path.read_text()
    return Doc(path.as_uri(), path, 1, text), text.split("\n")


def _line_of(lines: list[str], needle: str) -> int:
    return next(i for i, text in enumerate(lines) if needle in text)


def test_code_actions_only_where_they_have_a_subject(shop: tuple[Snapshot, Path]) -> None:
    from lsp_server.features import code_actions

    snap = shop[0]
    doc, lines = _doc(shop, "cart-service/internal/server/cart.go")
    blank = _line_of(lines, "")
    at = t.Position(blank, 0)
    assert code_actions.code_actions(snap, doc, t.Range(at, at)) == []  # no light bulb on a plain line
    asked_here = code_actions.code_actions(snap, doc, t.Range(at, at), invoked=True)
    assert [a.title for a in asked_here] == ["Lore: add a note to these lines"]  # asked for: a note is possible
    selection = t.Range(t.Position(blank, 0), t.Position(blank + 2, 0))
    asked = code_actions.code_actions(snap, doc, selection, invoked=True)
    assert [a.title for a in asked] == ["Lore: copy system context for an AI prompt", "Lore: add a note to these lines"]
    hack = t.Position(_line_of(lines, "const maxItems"), 2)
    titles = [a.title for a in code_actions.code_actions(snap, doc, t.Range(hack, hack))]
    assert titles == ["Lore: show history of the selected lines", "Lore: copy system context for an AI prompt",
                      "Lore: add a note to these lines"]
    client, client_lines = _doc(shop, "checkout-service/checkout/cart_client.py")
    call = _line_of(client_lines, "self._stub.RemoveItem(")
    pos = t.Position(call, client_lines[call].index("RemoveItem") + 1)
    titles = [a.title for a in code_actions.code_actions(snap, client, t.Range(pos, pos))]
    assert "Lore: show 1 consumer of proto:shop.cart.v1.CartService.RemoveItem" in titles


def test_context_commands_work_anywhere_on_the_line(shop: tuple[Snapshot, Path]) -> None:
    from lsp_server.features import commands

    doc, lines = _doc(shop, "checkout-service/checkout/cart_client.py")
    call = _line_of(lines, "self._stub.RemoveItem(")
    for col in (0, len(lines[call])):  # the indentation, the end of the line: not on the call
        ctx = commands.context(shop[0], doc, call, col, None)
        assert ctx is not None and ctx["entity_ids"][0] == "proto:shop.cart.v1.CartService.RemoveItem"


def test_code_lenses_on_services_and_rpcs_only(shop: tuple[Snapshot, Path]) -> None:
    from lsp_server.features import code_lens

    doc, lines = _doc(shop, "contracts/proto/shop/cart/v1/cart.proto")
    lensed = {lines[lens.range.start.line].split("(")[0].strip() for lens in code_lens.code_lenses(shop[0], doc)}
    assert lensed == {"service CartService {", "rpc GetCart", "rpc AddItem", "rpc RemoveItem", "rpc UpdateQuantity"}


def test_a_proto_that_stops_parsing_says_so(shop: tuple[Snapshot, Path]) -> None:
    from indexers.sandbox import Sandbox
    from lsp_server.features import diagnostics
    from lsp_server.state import overlay

    doc, lines = _doc(shop, "contracts/proto/shop/cart/v1/cart.proto")
    rpc = _line_of(lines, "rpc AddItem")
    lines[rpc] = lines[rpc].replace("(AddItemRequest)", "(AddItemRequest")  # typing: the paren not closed yet
    broken = Doc(doc.uri, doc.path, 2, "\n".join(lines))
    snap, _ = overlay(shop[0], broken, Sandbox(), 10.0)
    found = [d for d in diagnostics.diagnostics(snap, broken, None) if d.code == "parse-error"]
    assert [(d.range.start.line, d.severity) for d in found] == [(rpc, t.DiagnosticSeverity.Error)]
    assert "syntax error" in found[0].message and found[0].source == "lore"
    hovered = hover.hover(snap, broken, t.Position(rpc, lines[rpc].index("AddItem") + 1), Settings())
    assert hovered is not None and "**Problems in this file** line" in hovered.contents.value
