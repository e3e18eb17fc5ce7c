"""gRPC and GraphQL links through the CLI, on small real git repositories: a Go server found through its
registration across packages, a GraphQL operation document whose nested fields name their provider, and
services of one name in several packages shown as `possible` (never among the links)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

PROTO = """syntax = "proto3";
package {pkg};

service SDK {{
  rpc GetGameServer(Empty) returns (GameServer);
}}
message Empty {{}}
message GameServer {{ string name = 1; }}
"""

SCHEMA = """type Query { products: [Product!]! }
type Product { id: ID! reviews: [Review!]! }
type Review { body: String }
"""

RESOLVERS = """const resolvers = {
  Query: {
    products: () => [],
  },
  Product: {
    reviews: (p) => [],
  },
};
module.exports = { resolvers };
"""

OPERATIONS = """query Products {
  products {
    id
    reviews { body }
  }
}
"""

MAIN_GO = """package main

import (
    "google.golang.org/grpc"

    pb "example.com/agones/pkg/sdk"
    "example.com/agones/ports"
)

func main() {
    s := grpc.NewServer()
    pb.RegisterSDKServer(s, ports.NewServer())
}
"""

PORTS_GO = """package ports

import (
    "context"

    pb "example.com/agones/pkg/sdk"
)

type Server struct{}

func NewServer() *Server { return &Server{} }

func (s *Server) GetGameServer(ctx context.Context, _ *pb.Empty) (*pb.GameServer, error) {
    return &pb.GameServer{}, nil
}
"""

CLIENT_JS = """const grpc = require('@grpc/grpc-js');
const services = grpc.loadPackageDefinition(require('./definitions'));

const client = new services.SDK('localhost:9357', grpc.credentials.createInsecure());
client.getGameServer({}, () => {});
"""


def lore(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "LORE_CACHE": str(cache)})


def system(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    GitRepo(ws / "sdk").commit("protos", {
        "proto/sdk/sdk.proto": PROTO.format(pkg="agones.dev.sdk"),
        "proto/sdk/alpha/alpha.proto": PROTO.format(pkg="agones.dev.sdk.alpha"),
        "proto/sdk/beta/beta.proto": PROTO.format(pkg="agones.dev.sdk.beta"),
        "main.go": MAIN_GO, "ports/server.go": PORTS_GO, "client.js": CLIENT_JS})
    GitRepo(ws / "shop").commit("graph", {"schema.graphql": SCHEMA, "resolvers.js": RESOLVERS,
                                          "app/operations.graphql": OPERATIONS})
    (ws / "lore.toml").write_text('[[repo]]\npath = "sdk"\n[[repo]]\npath = "shop"\n')
    return ws


def test_graph_links_registered_server_and_nested_fields_and_keeps_possible_apart(tmp_path: Path) -> None:
    ws = system(tmp_path)
    doc = json.loads(lore("graph", str(ws), "--json", cache=tmp_path / "c").stdout)
    links = {(lk["entity"], lk["role"], lk["path"], lk["range"]["start_line"] + 1) for lk in doc["links"]}
    # the server embeds nothing: RegisterSDKServer(s, ports.NewServer()) names it; the import path names
    # the package among three services called SDK
    assert ("proto:agones.dev.sdk.SDK.GetGameServer", "provides", "ports/server.go", 13) in links
    assert ("graphql:Review.body", "consumes", "app/operations.graphql", 4) in links
    assert ("graphql:Product.reviews", "consumes", "app/operations.graphql", 4) in links
    assert ("graphql:Product.id", "consumes", "app/operations.graphql", 3) in links
    assert ("graphql:Product.reviews", "provides", "resolvers.js", 6) in links
    # the JavaScript client names no package: three candidates, possible only, never links
    assert not [lk for lk in doc["links"] if lk["path"] == "client.js" and lk["entity"].endswith("GetGameServer")]
    possible = {(p["entity"], p["path"], p["range"]["start_line"] + 1) for p in doc["possible"]}
    assert {(f"proto:{pkg}.SDK.GetGameServer", "client.js", 5)
            for pkg in ("agones.dev.sdk", "agones.dev.sdk.alpha", "agones.dev.sdk.beta")} <= possible
    assert all(p["confidence"] < 0.5 and p["evidence"].startswith("possible:") for p in doc["possible"])


def test_context_names_contract_and_provider_at_a_nested_field_and_shows_possible(tmp_path: Path) -> None:
    ws = system(tmp_path)
    out = lore("context", f"{ws}/shop/app/operations.graphql:4:17", cache=tmp_path / "c").stdout
    assert "graphql:Review.body" in out
    out = lore("context", f"{ws}/shop/app/operations.graphql:4:5", cache=tmp_path / "c").stdout
    assert "graphql:Product.reviews" in out and "resolvers.js" in out
    out = lore("context", f"{ws}/sdk/client.js:5:8", cache=tmp_path / "c").stdout
    assert "possibly proto:agones.dev.sdk.alpha.SDK.GetGameServer" in out and "not a link" in out
