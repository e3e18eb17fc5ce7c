"""Synthetic shards for the organisation-graph benchmark: N repositories, each a service with its own
protobuf contract, a catalog entry, gRPC clients of three other services, and filler code with markers.

Realistic facts at any N cheaply: each file template is extracted once by Lore's own extractors, then the
plain facts are copied per repository with the names substituted, and written as real shards
(`indexers.shard` format, gzip JSON). Deterministic: the same N gives the same shards.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

from indexers.extract import extract_file
from indexers.model import SCHEMA_VERSION, to_plain

PROTO = """syntax = "proto3";
package acme.zqsvc.v1;
option go_package = "github.com/acme/zqsvc/gen/zqsvcv1";

// ZqsvcService owns zqsvc records.
service ZqsvcService {
  rpc GetZqsvc(GetZqsvcRequest) returns (Zqsvc);
  rpc ListZqsvcs(ListZqsvcsRequest) returns (ListZqsvcsResponse);
  rpc DeleteZqsvc(DeleteZqsvcRequest) returns (Zqsvc) { option deprecated = true; }
}
message GetZqsvcRequest { string id = 1; }
message DeleteZqsvcRequest { string id = 1; }
message ListZqsvcsRequest { int32 page_size = 1; string page_token = 2; }
message ListZqsvcsResponse { repeated Zqsvc items = 1; string next_page_token = 2; }
message Zqsvc {
  string id = 1;
  string name = 2;
  int64 created_at = 3;
  reserved 4;
}
"""
CLIENT = """import grpc
from acme.zqpeer.v1 import zqpeer_pb2, zqpeer_pb2_grpc


class ZqpeerClient:
    def __init__(self, target):
        self._stub = zqpeer_pb2_grpc.ZqpeerServiceStub(grpc.insecure_channel(target))

    def get(self, ident):
        # TODO(zqsvc): cache lookups, ZQ-12
        return self._stub.GetZqpeer(zqpeer_pb2.GetZqpeerRequest(id=ident))

    def page(self, token):
        return self._stub.ListZqpeers(zqpeer_pb2.ListZqpeersRequest(page_size=50, page_token=token))
"""
SERVER = """package server

import (
	zqsvcv1 "github.com/acme/zqsvc/gen/zqsvcv1"
)

type Server struct {
	zqsvcv1.UnimplementedZqsvcServiceServer
}

// HACK: ids are trimmed until the migration lands (ZQ-7)
func (s *Server) GetZqsvc(ctx context.Context, req *zqsvcv1.GetZqsvcRequest) (*zqsvcv1.Zqsvc, error) {
	return &zqsvcv1.Zqsvc{Id: req.GetId()}, nil
}
"""
CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: zqsvc
spec:
  type: service
  owner: team-zqsvc
  providesApis: [zqsvc-api]
"""
FILLER = """def step_zqn(values):
    # FIXME: quadratic for large inputs
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out
"""


def _templates() -> list[tuple[str, str]]:
    """(path, plain-facts JSON) per file, with 'zqsvc' / 'zqpeer' / 'zqn' placeholders."""
    files = [("api/zqsvc.proto", PROTO), ("internal/server/server.go", SERVER), ("catalog-info.yaml", CATALOG)]
    files += [(f"clients/peer_zqpeer{k}.py", CLIENT.replace("zqpeer", f"zqpeer{k}").replace("Zqpeer", f"Zqpeer{k}"))
              for k in range(3)]
    files += [(f"lib/util_{k}.py", FILLER.replace("zqn", str(k))) for k in range(4)]
    return [(path, json.dumps(to_plain(extract_file("zqrepo", path, text.encode())))) for path, text in files]


def name(i: int) -> str:
    return f"svc{i:05d}"


def generate(out: Path, count: int) -> dict[str, float]:
    """Write `count` shards into `out` (one per repo); returns sizes and timing."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    templates = _templates()
    total = 0
    for i in range(count):
        me = name(i)
        peers = [name((i - d) % count) for d in (1, 7, 31)]
        files = []
        for _path, facts in templates:
            text = facts
            for k, peer in enumerate(peers):
                text = text.replace(f"zqpeer{k}", peer).replace(f"Zqpeer{k}", peer.capitalize())
            text = text.replace("zqsvc", me).replace("Zqsvc", me.capitalize()).replace("zqrepo", me)
            files.append(json.loads(text))
        doc = {"format": "lore-shard", "schema": SCHEMA_VERSION, "repo": me, "commit": f"{i:040x}", "created": 0,
               "extractors": {}, "files": files, "commits": []}
        data = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), mtime=0)
        (out / f"{me}.lore-shard").write_bytes(data)
        total += len(data)
    return {"shards": count, "bytes": total, "seconds": round(time.perf_counter() - t0, 3)}
