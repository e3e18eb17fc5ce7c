"""Contracts through the CLI: `lore graph --json` shape, copied protos as one entity with several
declarations (differences reported), context on a contract line, and a malformed spec reported per file
with line and reason while what parsed is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

PROTO = """syntax = "proto3";
package shop.cart.v1;

message CartItem {
  string product_id = 1;
  int32 quantity = 2;
}
"""

OPENAPI = """openapi: 3.0.3
info:
  title: Orders
  version: "1"
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      responses:
        '200':
          description: ok
  /broken:
    get: [this is not an operation
"""


def lore(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "LORE_CACHE": str(cache)})


def system(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    GitRepo(ws / "cart").commit("proto", {"proto/cart.proto": PROTO})
    # checkout vendored a copy of the proto, and it has drifted: quantity is int64 there
    GitRepo(ws / "checkout").commit("copy proto", {"third/cart.proto": PROTO.replace("int32 quantity", "int64 quantity"),
                                                   "api/orders.yaml": OPENAPI})
    (ws / "lore.toml").write_text('[[repo]]\npath = "cart"\n[[repo]]\npath = "checkout"\n')
    return ws


def test_graph_json_shape_and_copied_declarations(tmp_path: Path) -> None:
    ws = system(tmp_path)
    doc = json.loads(lore("graph", str(ws), "--json", cache=tmp_path / "c").stdout)
    assert set(doc) >= {"entities", "services", "links", "conflicts"}
    qty = [e for e in doc["entities"] if e["id"] == "proto:shop.cart.v1.CartItem.quantity"]
    assert {(e["repo"], e["path"]) for e in qty} == {("cart", "proto/cart.proto"), ("checkout", "third/cart.proto")}
    for e in qty:
        assert set(e) >= {"id", "kind", "name", "repo", "path", "range", "attrs"}
        assert e["kind"] == "proto.field" and e["name"] == "quantity"
        assert e["range"] == {"start_line": 5, "start_col": 8, "end_line": 5, "end_col": 16}
    # a vendored copy that drifted is drift from the canonical declaration (the contracts repo's), not a conflict
    assert doc["conflicts"] == []
    (copy,) = [g for g in doc["copies"] if g["id"] == "proto:shop.cart.v1.CartItem.quantity"]
    assert copy["canonical"] == {"repo": "cart", "path": "proto/cart.proto", "line": 5}
    (drift,) = copy["drift"]
    assert (drift["repo"], drift["path"]) == ("checkout", "third/cart.proto")
    assert any("int32" in d and "int64" in d for d in drift["differences"])
    # identical copies are one entity with no drift
    (same,) = [g for g in doc["copies"] if g["id"] == "proto:shop.cart.v1.CartItem.product_id"]
    assert same["drift"] == [] and same["copies"] == [{"repo": "checkout", "path": "third/cart.proto", "line": 4}]


def test_context_on_contract_line_shows_attributes_and_conflict(tmp_path: Path) -> None:
    ws = system(tmp_path)
    out = lore("context", f"{ws}/cart/proto/cart.proto:6", cache=tmp_path / "c").stdout
    assert "proto:shop.cart.v1.CartItem.quantity: field int32 quantity = 2" in out
    assert "canonical declaration (in a contracts repo or folder); 1 copy: checkout/third/cart.proto:6" in out
    assert 'drift: the copy at checkout/third/cart.proto:6 differs from the canonical declaration: type: "int32" in cart/proto/cart.proto:6 vs "int64" in checkout/third/cart.proto:6' in out
    copy = lore("context", f"{ws}/checkout/third/cart.proto:6", cache=tmp_path / "c").stdout
    assert "a copy; the canonical declaration is cart/proto/cart.proto:6" in copy
    assert "drift: this copy differs from the canonical declaration" in copy


def test_malformed_spec_keeps_what_parsed(tmp_path: Path) -> None:
    ws = system(tmp_path)
    report = json.loads(lore("index", str(ws), "--json", cache=tmp_path / "c").stdout)
    (failed,) = [f for f in report["files"]["failed"] if f["path"] == "api/orders.yaml"]
    assert failed["reason"].startswith("line ") and failed["repo"] == "checkout"
    doc = json.loads(lore("graph", str(ws), "--json", cache=tmp_path / "c").stdout)
    assert "openapi:orders:GET /orders/{id}" in {e["id"] for e in doc["entities"]}
    ctx = lore("context", f"{ws}/checkout/api/orders.yaml:7", cache=tmp_path / "c").stdout
    assert "openapi:orders:GET /orders/{id}" in ctx and "Problems in this file" in ctx
