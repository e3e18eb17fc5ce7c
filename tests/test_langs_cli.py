"""C++, Rust, Kotlin, Ruby and PHP end to end: a system of git repositories (contracts, and services in
the five languages calling each other), indexed by the real `lore` command; `lore context` at a call site
in each language names the contract it consumes and the provider's site in another repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

PROTO = """syntax = "proto3";
package hipstershop;

service CartService {
  rpc GetCart(GetCartRequest) returns (Cart) {}
  rpc EmptyCart(GetCartRequest) returns (Cart) {}
}

service CurrencyService {
  rpc Convert(Money) returns (Money) {}
}

message GetCartRequest { string user_id = 1; }
message Cart { string user_id = 1; }
message Money { int64 units = 1; }
"""

OPENAPI = """openapi: 3.0.3
info:
  title: Orders
  version: "1"
paths:
  /api/orders/{id}:
    get:
      operationId: getOrder
      responses:
        '200':
          description: ok
"""

# Its own spec: a route provides an operation only when something ties its service to the API (here the
# spec is named after the service's repository).
SHIPPING_OPENAPI = """openapi: 3.0.3
info:
  title: Shipping
  version: "1"
paths:
  /api/shipments:
    post:
      operationId: createShipment
      responses:
        '201':
          description: created
"""

CART_CPP = """#include "cart.grpc.pb.h"
#include "currency.grpc.pb.h"

class CartServiceImpl final : public hipstershop::CartService::Service {
  grpc::Status GetCart(grpc::ServerContext* ctx, const hipstershop::GetCartRequest* req,
                       hipstershop::Cart* reply) override {
    return grpc::Status::OK;
  }
  grpc::Status EmptyCart(grpc::ServerContext* ctx, const hipstershop::GetCartRequest* req,
                         hipstershop::Cart* reply) override {
    auto currency = hipstershop::CurrencyService::NewStub(channel_);
    hipstershop::Money out;
    grpc::ClientContext cctx;
    return currency->Convert(&cctx, hipstershop::Money(), &out);
  }
};
"""

SHIPPING_RS = """use hipstershop::cart_service_client::CartServiceClient;
use axum::{routing::post, Router};

pub mod hipstershop {
    tonic::include_proto!("hipstershop");
}

pub fn app() -> Router {
    Router::new().route("/api/shipments", post(create_shipment))
}

async fn ship(user: String) -> Result<(), Box<dyn std::error::Error>> {
    let mut cart = CartServiceClient::connect("http://cart:7070").await?;
    let reply = cart.get_cart(GetCartRequest { user_id: user }).await?;
    Ok(())
}
"""

CURRENCY_KT = """package shop.currency

import hipstershop.CartServiceGrpcKt
import hipstershop.CurrencyServiceGrpcKt
import io.grpc.ManagedChannel

class CurrencyService(channel: ManagedChannel) : CurrencyServiceGrpcKt.CurrencyServiceCoroutineImplBase() {
    private val cart = CartServiceGrpcKt.CartServiceCoroutineStub(channel)

    override suspend fun convert(request: Money): Money {
        cart.emptyCart(GetCartRequest.getDefaultInstance())
        return request
    }
}
"""

GENERATED_KT = """package hipstershop

object CartServiceGrpcKt {
    class CartServiceCoroutineStub(channel: Channel) {
        suspend fun getCart(request: GetCartRequest): Cart = stub.getCart(request)
    }
    abstract class CartServiceCoroutineImplBase : CartServiceGrpcKt.CartServiceCoroutineImplBase() {
        override suspend fun getCart(request: GetCartRequest): Cart = throw UNIMPLEMENTED
    }
}
"""

ORDERS_PHP = """<?php

use App\\Http\\Controllers\\OrderController;
use GuzzleHttp\\Client;
use Illuminate\\Support\\Facades\\Route;

Route::get('/orders/{order}', [OrderController::class, 'show']);

function ship(Client $http, string $user): void
{
    $http->post('http://shipping/api/shipments', ['json' => ['user' => $user]]);
}
"""

WEB_RB = """require 'net/http'

def order(id)
  Net::HTTP.get(URI("http://orders/api/orders/#{id}"))
end
"""


def lore(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "LORE_CACHE": str(cache)})


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    ws = tmp_path_factory.mktemp("langs") / "ws"
    GitRepo(ws / "contracts").commit("contracts", {"proto/cart.proto": PROTO, "openapi/orders.yaml": OPENAPI,
                                                  "openapi/shipping.yaml": SHIPPING_OPENAPI})
    GitRepo(ws / "cart").commit("cart in C++", {"src/cart_service.cc": CART_CPP})
    GitRepo(ws / "shipping").commit("shipping in Rust", {"src/main.rs": SHIPPING_RS})
    GitRepo(ws / "currency").commit("currency in Kotlin", {"src/main/kotlin/CurrencyService.kt": CURRENCY_KT,
                                                           "gen/hipstershop/CartServiceGrpcKt.kt": GENERATED_KT})
    GitRepo(ws / "orders").commit("orders in PHP", {"routes/api.php": ORDERS_PHP})
    GitRepo(ws / "web").commit("web in Ruby", {"app/order.rb": WEB_RB})
    (ws / "lore.toml").write_text("".join(f'[[repo]]\npath = "{r}"\n'
                                          for r in ("contracts", "cart", "shipping", "currency", "orders", "web")))
    return ws, ws.parent / "cache"


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


@pytest.mark.parametrize(("site", "needle", "contract", "provider"), [
    ("shipping/src/main.rs", "cart.get_cart(", "proto:hipstershop.CartService.GetCart",
     f"cart/src/cart_service.cc:{line_of(CART_CPP, 'Status GetCart(')}"),
    ("currency/src/main/kotlin/CurrencyService.kt", "cart.emptyCart(", "proto:hipstershop.CartService.EmptyCart",
     f"cart/src/cart_service.cc:{line_of(CART_CPP, 'Status EmptyCart(')}"),
    ("cart/src/cart_service.cc", "currency->Convert(", "proto:hipstershop.CurrencyService.Convert",
     f"currency/src/main/kotlin/CurrencyService.kt:{line_of(CURRENCY_KT, 'fun convert(')}"),
    ("web/app/order.rb", "Net::HTTP.get(", "openapi:orders:GET /api/orders/{id}",
     f"orders/routes/api.php:{line_of(ORDERS_PHP, 'Route::get(')}"),
    ("orders/routes/api.php", "$http->post(", "openapi:shipping:POST /api/shipments",
     f"shipping/src/main.rs:{line_of(SHIPPING_RS, '.route(')}"),
], ids=["rust", "kotlin", "cpp", "ruby", "php"])
def test_context_at_call_site_names_contract_and_provider(system: tuple[Path, Path], site: str, needle: str,
                                                          contract: str, provider: str) -> None:
    ws, cache = system
    text = (ws / site).read_text(encoding="utf-8")
    out = lore("context", f"{ws}/{site}:{line_of(text, needle)}", cache=cache).stdout
    assert contract in out, out
    assert "this line consumes it" in out, out
    assert f"provider: (no service) in {provider.split('/', 1)[0]}: {provider}" in out, out


def test_generated_stubs_are_evidence_not_sites(system: tuple[Path, Path]) -> None:
    """Checked-in generated code (grpc-kotlin's `...GrpcKt.kt`) is neither a provider nor a consumer of
    record, while the hand-written code next to it is."""
    ws, cache = system
    doc = json.loads(lore("graph", str(ws), "--json", cache=cache).stdout)
    sites = {(link["repo"], link["path"], link["role"]) for link in doc["links"]}
    assert ("currency", "src/main/kotlin/CurrencyService.kt", "provides") in sites
    assert ("currency", "src/main/kotlin/CurrencyService.kt", "consumes") in sites
    assert not [s for s in sites if s[1].endswith("GrpcKt.kt")]
