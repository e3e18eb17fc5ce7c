"""Materialize the example system as separate git repositories with a scripted history.

    python examples/materialize.py TARGET [--force]

`examples/shop/<repo>/` holds each repo's final files. The script replays a realistic history into
TARGET/<repo> (several authors and dates; a workaround commit, a hotfix with an incident reference, a
revert, a temporary flag, ordinary refactors) and writes TARGET/lore.toml listing the repos. Earlier
versions of a file are derived from its final text by the edits below, so the final tree always equals
examples/shop.

This builds our own example data; git runs with hooks disabled and no system config all the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOP = HERE / "shop"

ALICE = ("Alice Martin", "alice@acme.dev")
BOB = ("Bob Okafor", "bob@acme.dev")
CAROL = ("Carol Zhang", "carol@acme.dev")
DAVE = ("Dave Müller", "dave@acme.dev")
ERIN = ("Erin Walsh", "erin@acme.dev")
FRANK = ("Frank Silva", "frank@acme.dev")


def final(repo: str, path: str) -> str:
    return (SHOP / repo / path).read_text(encoding="utf-8")


def without(text: str, *snippets: str) -> str:
    for s in snippets:
        if s not in text:
            raise SystemExit(f"materialize: snippet not found: {s[:60]!r}")
        text = text.replace(s, "")
    return text


def replaced(text: str, old: str, new: str) -> str:
    if old not in text:
        raise SystemExit(f"materialize: snippet not found: {old[:60]!r}")
    return text.replace(old, new)


Files = dict[str, str | None]  # path -> content (None deletes)
Step = tuple[tuple[str, str], str, str, Callable[[], Files]]  # author, date, message, files


def all_files(repo: str) -> Files:
    return {p.relative_to(SHOP / repo).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((SHOP / repo).rglob("*")) if p.is_file()}


# -- contracts --------------------------------------------------------------------------------------
def _proto_v1() -> str:
    text = final("contracts", "proto/shop/cart/v1/cart.proto")
    text = without(text, "  // Use UpdateQuantity with quantity 0 instead.\n", "    option deprecated = true;\n",
                   "  rpc UpdateQuantity(UpdateQuantityRequest) returns (Cart);\n")
    text = replaced(text, "returns (Cart) {\n  }\n", "returns (Cart);\n")
    text = without(text, "message UpdateQuantityRequest {\n  string user_id = 1;\n  string product_id = 2;\n  int32 quantity = 3;\n}\n\n")
    return replaced(text, "  reserved 3;\n  reserved \"price_cents\";\n", "  int64 price_cents = 3;\n")


CONTRACTS: list[Step] = [
    (ALICE, "2024-03-01T10:00:00+01:00", "Add cart service proto",
     lambda: {"proto/shop/cart/v1/cart.proto": _proto_v1()}),
    (BOB, "2024-03-02T15:30:00+01:00", "Add checkout OpenAPI spec",
     lambda: {"openapi/checkout.yaml": final("contracts", "openapi/checkout.yaml")}),
    (ALICE, "2024-03-04T09:12:00+01:00", "ADR 1: use gRPC for the cart service",
     lambda: {"docs/adr/0001-use-grpc-for-cart.md": final("contracts", "docs/adr/0001-use-grpc-for-cart.md")}),
    (ALICE, "2024-03-05T11:00:00+01:00", "Add catalog entries and CODEOWNERS",
     lambda: {"catalog-info.yaml": final("contracts", "catalog-info.yaml"), "CODEOWNERS": final("contracts", "CODEOWNERS")}),
    (CAROL, "2024-05-14T16:45:00+02:00",
     "Drop CartItem.price_cents: prices come from the pricing service\n\nThe field number and name are reserved so old clients keep decoding.",
     lambda: {"proto/shop/cart/v1/cart.proto": replaced(final("contracts", "proto/shop/cart/v1/cart.proto"),
                                                        "  // Use UpdateQuantity with quantity 0 instead.\n  rpc RemoveItem(RemoveItemRequest) returns (Cart) {\n    option deprecated = true;\n  }\n",
                                                        "  rpc RemoveItem(RemoveItemRequest) returns (Cart);\n")}),
    (CAROL, "2024-06-03T10:20:00+02:00", "Deprecate RemoveItem in favour of UpdateQuantity (SHOP-131)",
     lambda: {"proto/shop/cart/v1/cart.proto": final("contracts", "proto/shop/cart/v1/cart.proto")}),
]

# -- cart-service -----------------------------------------------------------------------------------
_CART_GO = "internal/server/cart.go"


def _cart_v1() -> str:
    text = final("cart-service", _CART_GO)
    text = without(text, "// maxItems caps a cart's size.\n// HACK: cap at 500 items until SHOP-118 (pipelined Redis reads) is fixed.\nconst maxItems = 500\n\n")
    text = replaced(text, "s.store.Items(ctx, req.GetUserId(), maxItems)", "s.store.Items(ctx, req.GetUserId(), 0)")
    text = without(text, "func (s *CartServer) UpdateQuantity(ctx context.Context, req *cartv1.UpdateQuantityRequest) (*cartv1.Cart, error) {\n"
                         "\tif req.GetQuantity() == 0 {\n\t\tif err := s.store.Remove(ctx, req.GetUserId(), req.GetProductId()); err != nil {\n"
                         "\t\t\treturn nil, err\n\t\t}\n\t} else if err := s.store.Set(ctx, req.GetUserId(), req.GetProductId(), req.GetQuantity()); err != nil {\n"
                         "\t\treturn nil, err\n\t}\n\treturn s.GetCart(ctx, &cartv1.GetCartRequest{UserId: req.GetUserId()})\n}\n\n")
    return text


def _cart_v0() -> str:
    text = _cart_v1()
    text = replaced(text, "\tif err := validate(req.GetItem()); err != nil {\n\t\treturn nil, err\n\t}\n",
                    "\tif req.GetItem().GetProductId() == \"\" || req.GetItem().GetQuantity() <= 0 {\n"
                    "\t\treturn nil, fmt.Errorf(\"invalid item %q x%d\", req.GetItem().GetProductId(), req.GetItem().GetQuantity())\n\t}\n")
    return without(text, "func validate(item *cartv1.CartItem) error {\n\tif item.GetProductId() == \"\" || item.GetQuantity() <= 0 {\n"
                         "\t\treturn fmt.Errorf(\"invalid item %q x%d\", item.GetProductId(), item.GetQuantity())\n\t}\n\treturn nil\n}\n")


CART: list[Step] = [
    (CAROL, "2024-03-08T14:00:00+01:00", "Initial cart service",
     lambda: {**{k: v for k, v in all_files("cart-service").items() if k != _CART_GO}, _CART_GO: _cart_v0()}),
    (CAROL, "2024-03-20T09:30:00+01:00", "Refactor: extract item validation", lambda: {_CART_GO: _cart_v1()}),
    (DAVE, "2024-04-11T23:10:00+02:00",
     "Work around Redis timeout on large carts (#42)\n\nCarts above ~600 items made GetCart exceed the 2s deadline because items are read\n"
     "one by one. Cap reads at 500 items until pipelined reads land (SHOP-118).",
     lambda: {_CART_GO: replaced(final("cart-service", _CART_GO),
                                 "func (s *CartServer) UpdateQuantity(ctx context.Context, req *cartv1.UpdateQuantityRequest) (*cartv1.Cart, error) {\n"
                                 "\tif req.GetQuantity() == 0 {\n\t\tif err := s.store.Remove(ctx, req.GetUserId(), req.GetProductId()); err != nil {\n"
                                 "\t\t\treturn nil, err\n\t\t}\n\t} else if err := s.store.Set(ctx, req.GetUserId(), req.GetProductId(), req.GetQuantity()); err != nil {\n"
                                 "\t\treturn nil, err\n\t}\n\treturn s.GetCart(ctx, &cartv1.GetCartRequest{UserId: req.GetUserId()})\n}\n\n", "")}),
    (CAROL, "2024-06-04T11:00:00+02:00", "Implement UpdateQuantity (SHOP-131)", lambda: {_CART_GO: final("cart-service", _CART_GO)}),
]

# -- checkout-service -------------------------------------------------------------------------------
_CLIENT = "checkout/cart_client.py"
_RETRY_FINAL = final("checkout-service", _CLIENT)
_NO_RETRY = replaced(replaced(_RETRY_FINAL,
                              "        # Hotfix INC-2031: the cart service drops connections during deploys; retry with backoff.\n"
                              "        for attempt in range(3):\n            try:\n"
                              "                return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)\n"
                              "            except grpc.RpcError as err:\n"
                              "                if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == 2:\n                    raise\n"
                              "                time.sleep(0.2 * 2**attempt)\n        raise RuntimeError(\"unreachable\")\n",
                              "        return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)\n"),
                     "import time\n\n", "")
_NAIVE_RETRY = replaced(_NO_RETRY, "        return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)\n",
                        "        try:\n            return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)\n"
                        "        except grpc.RpcError:\n            return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)\n")

_APP = "checkout/app.py"
_ORDERS = "checkout/orders.py"
_GET_ORDER = ('\n\n@app.get("/orders/{order_id}")\ndef get_order(order_id: str) -> dict:\n    order = orders.get(order_id)\n'
              '    if order is None:\n        raise HTTPException(status_code=404, detail="unknown order")\n    return order\n')

CHECKOUT: list[Step] = [
    (BOB, "2024-03-09T10:00:00+01:00", "Initial checkout service",
     lambda: {**all_files("checkout-service"), _CLIENT: _NO_RETRY,
              _APP: without(final("checkout-service", _APP), _GET_ORDER),
              _ORDERS: without(final("checkout-service", _ORDERS), '"status": "pending", ')}),
    (BOB, "2024-03-18T15:05:00+01:00", "Add GET /orders/{{order_id}} for the storefront (SHOP-52)",
     lambda: {_APP: final("checkout-service", _APP)}),
    (ERIN, "2024-04-02T17:05:00+02:00", "Retry GetCart once on any RPC error", lambda: {_CLIENT: _NAIVE_RETRY}),
    (ERIN, "2024-04-03T08:40:00+02:00", "Revert \"Retry GetCart once on any RPC error\"\n\nThis reverts commit {sha2}.\n\n"
     "Retrying on every error doubled load on the cart service during the INC-2031 outage.", lambda: {_CLIENT: _NO_RETRY}),
    (ERIN, "2024-04-03T13:15:00+02:00",
     "Hotfix: retry GetCart on UNAVAILABLE with backoff (INC-2031)\n\nOnly UNAVAILABLE is retried, at most 3 times.\nFixes #57",
     lambda: {_CLIENT: _RETRY_FINAL}),
    (BOB, "2024-05-02T09:30:00+02:00", "Return order status so the storefront can poll it (SHOP-77)",
     lambda: {_ORDERS: final("checkout-service", _ORDERS)}),
]

# -- storefront -------------------------------------------------------------------------------------
_SERVER_TS = "src/server.ts"
_TODO = "// TODO(SHOP-77): poll order status once the checkout API exposes webhooks.\n"

STOREFRONT: list[Step] = [
    (FRANK, "2024-03-10T12:00:00+01:00", "Initial storefront",
     lambda: {k: v for k, v in all_files("storefront").items() if k not in ("src/api.ts", _SERVER_TS)}),
    (FRANK, "2024-03-18T16:20:00+01:00", "Call the checkout API from the storefront (SHOP-52)",
     lambda: {"src/api.ts": final("storefront", "src/api.ts"), _SERVER_TS: without(final("storefront", _SERVER_TS), _TODO)}),
    (ALICE, "2024-05-02T10:00:00+02:00", "Temporary: serve order status by polling until SHOP-77 ships webhooks",
     lambda: {_SERVER_TS: final("storefront", _SERVER_TS)}),
]

REPOS: dict[str, list[Step]] = {"contracts": CONTRACTS, "cart-service": CART, "checkout-service": CHECKOUT, "storefront": STOREFRONT}


def git(repo: Path, *args: str, author: tuple[str, str] = ALICE, date: str = "2024-01-01T00:00:00Z") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1], GIT_COMMITTER_NAME=author[0],
               GIT_COMMITTER_EMAIL=author[1], GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_CONFIG_NOSYSTEM="1")
    out = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                         cwd=repo, env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


def materialize(target: Path, force: bool = False) -> Path:
    target = target.absolute()
    if target.exists():
        if not force and any(target.iterdir()):
            return target if (target / "lore.toml").exists() else _fail(f"{target} exists and is not an example system; use --force")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name, steps in REPOS.items():
        repo = target / name
        repo.mkdir()
        git(repo, "init", "-q")
        shas: list[str] = []
        for author, date, message, files in steps:
            for rel, content in files().items():
                p = repo / rel
                if content is None:
                    p.unlink(missing_ok=True)
                    continue
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(content, encoding="utf-8")
            git(repo, "add", "-A")
            msg = message.format(**{f"sha{i}": s for i, s in enumerate(shas)})
            git(repo, "commit", "-q", "-m", msg, author=author, date=date)
            shas.append(git(repo, "rev-parse", "HEAD"))
        for p in sorted((SHOP / name).rglob("*")):
            if p.is_file() and (repo / p.relative_to(SHOP / name)).read_bytes() != p.read_bytes():
                _fail(f"{name}: {p.relative_to(SHOP / name)} differs from examples/shop after replay")
    (target / "lore.toml").write_text("# The example system: four repositories that form one shop.\n" +
                                      "".join(f'\n[[repo]]\nname = "{n}"\npath = "{n}"\n' for n in REPOS), encoding="utf-8")
    return target


def _fail(msg: str) -> Path:
    print(f"materialize: {msg}", file=sys.stderr)
    raise SystemExit(2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", type=Path)
    ap.add_argument("--force", action="store_true", help="replace an existing target")
    args = ap.parse_args()
    print(materialize(args.target, args.force))


if __name__ == "__main__":
    main()
