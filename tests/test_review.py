"""`lore context --diff` and `lore review` on the example system, through the CLI: one change across three
repos deletes a proto field two services read, edits the line a workaround commit wrote, and adds a call
to a deprecated rpc. The report is checked exactly (hunks in rank order, every section and note with its
citation), then cut to a budget (what was cut is said), then rendered as a pull-request comment (sections
that collapse, links to lines, repository text escaped)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[1]
PROTO = "contracts/proto/shop/cart/v1/cart.proto"
CART_GO = "cart-service/internal/server/cart.go"
CLIENT = "checkout-service/checkout/cart_client.py"
CLEAR = '''
    def clear(self, user_id: str, product_ids: list[str]) -> None:
        for product_id in product_ids:
            self._stub.RemoveItem(cart_pb2.RemoveItemRequest(user_id=user_id, product_id=product_id))
'''


def lore(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("review") / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(target)], check=True, capture_output=True)
    edit(target / PROTO, "message GetCartRequest {\n  string user_id = 1;\n}", "message GetCartRequest {\n}")
    edit(target / CART_GO, "const maxItems = 500", "const maxItems = 1000")
    (target / CLIENT).write_text((target / CLIENT).read_text(encoding="utf-8") + CLEAR, encoding="utf-8")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def sha_of(repo: Path, subject: str) -> str:
    return GitRepo(repo, init=False).git("log", "--format=%H", "--fixed-strings", f"--grep={subject}")


def shape(doc: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, list[tuple[str, str]]]]]]:
    """Per hunk: where, the hunk's numbers, and per section its notes as (text, citation)."""
    out = []
    for h in doc["hunks"]:
        k = h["hunk"]
        out.append((f"{h['repo']}/{h['path']} -{k['old_start']},{k['old_count']} +{k['new_start']},{k['new_count']}",
                    h["old_path"], [(s["name"], [(n["text"], n["source"]) for n in s["notes"]]) for s in h["sections"]]))
    return out


def test_context_diff_names_what_the_change_touches_exactly(shop: Path) -> None:
    workaround = sha_of(shop / "cart-service", "Work around Redis timeout")
    doc = json.loads(lore(shop, "context", "--diff", "--json").stdout)
    breaks = ("FIELD_NO_DELETE: field 1 'user_id' of shop.cart.v1.GetCartRequest was deleted without reserving its number "
              "and name; breaks 2 consumers: checkout-service (checkout-service/checkout/cart_client.py:19), storefront "
              "(storefront/src/cart.ts:10)")
    team_checkout = ("team-checkout: owner of checkout-service, which this change breaks (FIELD_NO_DELETE on "
                     "proto:shop.cart.v1.GetCartRequest.user_id; checkout-service/checkout/cart_client.py:19)")
    team_web = ("team-web: owner of storefront, which this change breaks (FIELD_NO_DELETE on "
                "proto:shop.cart.v1.GetCartRequest.user_id; storefront/src/cart.ts:10)")
    dave = (f"Dave Müller: wrote the workaround commit {workaround[:8]} whose lines this change edits: Work around Redis "
            "timeout on large carts (#42)")
    team_cart = ("@acme/team-cart: owner of proto:shop.cart.v1.CartService.RemoveItem, which is deprecated and which this "
                 "change calls (checkout-service/checkout/cart_client.py:31)")
    assert shape(doc) == [
        ("contracts/proto/shop/cart/v1/cart.proto -19,1 +18,0", "proto/shop/cart/v1/cart.proto", [
            ("breaking", [(breaks, f"{PROTO}:19")]),
            ("owners", [(team_checkout, "checkout-service/catalog-info.yaml:9"), (team_web, "storefront/catalog-info.yaml:9")]),
            ("contract", [("deletes proto:shop.cart.v1.GetCartRequest.user_id (field string user_id = 1)", f"{PROTO}:19")]),
            ("decisions", [("Use gRPC for the cart service (accepted, 2024-03-04)", "contracts/docs/adr/0001-use-grpc-for-cart.md")]),
        ]),
        ("cart-service/internal/server/cart.go -14,1 +14,1", "internal/server/cart.go", [
            ("history", [(f"this change rewrites line 14 from workaround commit {workaround[:8]} (2024-04-11, Dave Müller): "
                          "Work around Redis timeout on large carts (#42) (refs SHOP-118)", workaround)]),
            ("owners", [(dave, workaround)]),
            ("markers", [("HACK: cap at 500 items until SHOP-118 (pipelined Redis reads) is fixed. (above the changed lines)",
                          f"{CART_GO}:13")]),
        ]),
        ("checkout-service/checkout/cart_client.py -27,0 +28,4", "checkout/cart_client.py", [
            ("deprecated", [("this change adds a call to proto:shop.cart.v1.CartService.RemoveItem, deprecated in "
                             f"{PROTO}:12", f"{CLIENT}:31")]),
            ("owners", [(team_cart, "contracts/CODEOWNERS:3")]),
            ("contract", [("calls proto:shop.cart.v1.CartService.RemoveItem (rpc RemoveItem(RemoveItemRequest) returns (Cart), "
                           f"deprecated), declared in {PROTO}:12; no known provider", f"{CLIENT}:31")]),
        ]),
    ]
    # the ADR names the proto file; the later hunks' services name it too: shown once, at the first hunk
    assert (doc["total"], doc["files"], doc["folded"], doc["cut"], doc["problems"]) == (3, 3, 2, None, [])
    assert [r for r, _sha in doc["repos"]] == ["contracts", "cart-service", "checkout-service", "storefront"]
    assert [(o["text"], o["data"]["hunks"]) for o in doc["owners"]] == [
        (team_checkout, [1]), (team_web, [1]), (dave, [2]), (team_cart, [3])]
    finding = doc["hunks"][0]["sections"][0]["notes"][0]["data"]
    assert (finding["severity"], finding["fixes"], finding["side"]) == ("error", ["reserve", "deprecate", "restore"], "base")
    assert [(c["service"], c["path"], c["line"]) for c in finding["consumers"]] == [
        ("checkout-service", "checkout/cart_client.py", 19), ("storefront", "src/cart.ts", 10)]

    text = lore(shop, "context", "--diff").stdout
    assert text.index("1. contracts/proto/shop/cart/v1/cart.proto:18 - deletes 1 line (19 at the base)") \
        < text.index("2. cart-service/internal/server/cart.go:14 - rewrites 1 line") \
        < text.index("3. checkout-service/checkout/cart_client.py:28-31 - adds 4 lines")
    assert f"     - {breaks}  [{PROTO}:19]" in text and "   Owners to notify: team-checkout, team-web" in text
    assert text.rstrip().endswith("2 repeated facts shown once.")


def test_context_diff_within_a_budget_says_what_was_cut(shop: Path) -> None:
    full = lore(shop, "context", "--diff").stdout
    text = lore(shop, "context", "--diff", "--max-chars", "1500").stdout.rstrip("\n")
    assert len(text) <= 1500 < len(full)
    assert "FIELD_NO_DELETE" in text and "Markers" not in text  # most important kept, least important cut first
    m = re.search(r"Cut to fit 1500 characters: (\d+) notes \(([^)]*)\)(?: and (\d+) hunks?)?", text)
    assert m, text
    cut = dict(part.split(" ") for part in m.group(2).split(", "))
    assert {"markers", "decisions"} <= set(cut) and "breaking" not in cut
    doc = json.loads(lore(shop, "context", "--diff", "--json", "--max-chars", "4000").stdout)
    assert len(json.dumps(doc, ensure_ascii=False, separators=(", ", ": "))) <= 4000 + 200  # printed compact
    assert doc["cut"]["max_chars"] == 4000 and doc["cut"]["notes"] >= 1
    assert doc["hunks"][0]["sections"][0]["name"] == "breaking"
    narrow = json.loads(lore(shop, "context", "cart-service", "--diff", "--json").stdout)
    assert [h["path"] for h in narrow["hunks"]] == ["internal/server/cart.go"] and narrow["repos"][0][0] == "cart-service"
    assert lore(shop, "context", "--diff", "main..other", check=False).returncode == 2
    assert lore(shop, "context", PROTO + ":1", "--max-chars", "500", check=False).returncode == 2


def test_review_is_a_pull_request_comment(shop: Path) -> None:
    md = lore(shop, "review", "--base", "HEAD", "--links", "relative").stdout
    assert md.startswith("<!-- lore-review -->\n### Lore: what this change touches\n")
    assert "**1 breaking change** · **1 workaround line edit** · **1 deprecated call** · 3 of 3 hunks with context" in md
    blocks = re.findall(r"<details( open)?>\n<summary>(.*?)</summary>", md)
    assert blocks == [
        (" open", "<b>1.</b> <code>contracts/proto/shop/cart/v1/cart.proto:18</code> — deletes 1 line (19 at the base) · "
                  "breaking, owners, contracts, decisions"),
        ("", "<b>2.</b> <code>cart-service/internal/server/cart.go:14</code> — rewrites 1 line · workaround lines, owners, markers"),
        ("", "<b>3.</b> <code>checkout-service/checkout/cart_client.py:28-31</code> — adds 4 lines · deprecated call, owners, contracts"),
    ]
    assert md.count("</details>") == 3
    # citations link to the lines, relative to the workspace; markdown punctuation from repositories escaped
    assert ("- FIELD_NO_DELETE: field 1 'user_id' of shop.cart.v1.GetCartRequest was deleted" in md)
    assert "[checkout-service/checkout/cart_client.py:31](checkout-service/checkout/cart_client.py#L31)" in md
    assert "[cart-service/internal/server/cart.go:13](cart-service/internal/server/cart.go#L13)" in md
    assert "**Owners to notify**\n- team-checkout: owner of checkout-service" in md
    # under GitHub Actions, the repository under review links to the code host at its commits
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "acme/cart-service"}
    md = lore(shop / "cart-service", "review", "--base", "HEAD", env=env).stdout
    head = GitRepo(shop / "cart-service", init=False).head()
    workaround = sha_of(shop / "cart-service", "Work around Redis timeout")
    assert f"](https://github.example/acme/cart-service/blob/{head}/internal/server/cart.go#L13)" in md
    assert f"[{workaround[:12]}](https://github.example/acme/cart-service/commit/{workaround})" in md
    small = lore(shop, "review", "--base", "HEAD", "--max-chars", "1200").stdout
    assert len(small) <= 1200 and "Cut to fit 1200 characters" in small and "FIELD_NO_DELETE" in small


def test_review_escapes_what_repositories_write(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "svc")
    repo.commit("Initial", {"app.py": "import os\n\nLIMIT = 5\n"})
    repo.commit("Work around <img src=x onerror=alert(1)> [click](command:rm) (#9)",
                {"app.py": "import os\n\n# HACK: <script>x</script> keep [me](javascript:alert(1))\nLIMIT = 50\n"})
    (repo.path / "app.py").write_text("import os\n\n# HACK: <script>x</script> keep [me](javascript:alert(1))\nLIMIT = 7\n")
    md = lore(repo.path, "review", "--base", "HEAD").stdout
    assert "Workaround lines edited" in md and "<img" not in md and "<script>" not in md
    assert "&lt;img src=x onerror=alert(1)>" in md and "\\[click\\](command\u200b:rm)" in md
    # no link can form: every bracket from the repository is escaped, and no scheme survives whole
    assert re.search(r"(?<!\\)\]\((javascript|command)", md) is None and "javascript:" not in md
