"""Contracts of the synthetic organization: protobuf packages (services, rpcs, messages), OpenAPI specs,
GraphQL SDL and SQL migrations, rendered from a small service model.

The same model drives the service code (gen_services.py), so every provider and consumer in the code
points at a contract that really exists, the way a real organization's repos do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from benchmarks.gen_filler import pascal, snake

DOMAIN = ("cart", "order", "payment", "inventory", "user", "shipping", "catalog", "pricing", "review",
          "notification", "search", "auth", "billing", "invoice", "coupon", "warehouse", "recommendation",
          "loyalty", "checkout", "account", "profile", "session", "media", "upload", "analytics", "report",
          "ledger", "refund", "subscription", "tax", "fraud", "risk", "address", "delivery", "tracking",
          "returns", "gift-card", "wishlist", "promotion", "vendor", "supplier", "forecast", "audit",
          "consent", "identity", "message", "chat", "feed", "comment", "rating", "geo", "currency",
          "settlement", "payout", "dispute", "label", "manifest", "quote", "booking", "schedule")
RPC_VERBS = ("Get", "List", "Create", "Update", "Delete", "Search", "Archive", "Validate", "Sync", "Export")
TEAMS = ("checkout", "platform", "payments", "growth", "fulfilment", "identity", "data", "core")


def plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


@dataclass
class Svc:
    """One service of the organization and the contracts it owns."""

    name: str                 # kebab-case, also the repo name
    lang: str
    contracts_repo: str
    http: bool
    db: bool
    graphql: bool
    team: str
    rpcs: list[str] = field(default_factory=list)
    consumes: list[str] = field(default_factory=list)        # gRPC services used
    consumes_http: list[str] = field(default_factory=list)   # HTTP APIs used

    @property
    def parts(self) -> list[str]:
        return self.name.split("-")

    @property
    def noun(self) -> str:               # "giftcard"
        return "".join(self.parts)

    @property
    def type(self) -> str:               # "GiftCard"
        return pascal(*self.parts)

    @property
    def grpc_service(self) -> str:       # "GiftCardService"
        return self.type + "Service"

    @property
    def package(self) -> str:            # "acme.giftcard.v1"
        return f"acme.{self.noun}.v1"

    @property
    def proto_path(self) -> str:
        return f"proto/acme/{self.noun}/v1/{snake(*self.parts)}.proto"

    @property
    def route(self) -> str:              # "/gift-card"
        return "/" + self.name

    def rpc_names(self) -> list[str]:
        return [verb + (plural(self.type) if verb in ("List", "Search", "Export") else self.type) for verb in self.rpcs]


def make_services(rng: random.Random, count: int, contracts_repos: list[str]) -> list[Svc]:
    langs = ("go", "go", "python", "python", "typescript", "typescript", "java", "csharp")
    names = list(DOMAIN)
    while len(names) < count:
        names.extend(f"{d}-{len(names) // len(DOMAIN) + 1}" for d in DOMAIN)
    out: list[Svc] = []
    for i, name in enumerate(names[:count]):
        lang = rng.choice(langs)
        svc = Svc(name=name, lang=lang, contracts_repo=contracts_repos[i % len(contracts_repos)],
                  http=lang in ("go", "python", "typescript") and rng.random() < 0.7,
                  db=rng.random() < 0.5, graphql=rng.random() < 0.15, team=rng.choice(TEAMS))
        svc.rpcs = ["Get", *rng.sample(RPC_VERBS[1:], rng.randint(2, 6))]
        out.append(svc)
    for svc in out:
        others = [o for o in out if o is not svc]
        svc.consumes = [o.name for o in rng.sample(others, min(len(others), rng.randint(1, 3)))]
        http_apis = [o for o in others if o.http]
        if svc.lang in ("typescript", "python") and http_apis:
            svc.consumes_http = [o.name for o in rng.sample(http_apis, min(len(http_apis), rng.randint(1, 2)))]
    return out


# ---------------------------------------------------------------- renderers (text of one contract file)

def proto(svc: Svc, extra_fields: int) -> str:
    t = svc.type
    rpcs = "".join(
        f"  // {rpc} handles one {svc.name} request.\n  rpc {rpc}({rpc}Request) returns ({rpc}Response);\n"
        for rpc in svc.rpc_names())
    msgs = "".join(
        f"\nmessage {rpc}Request {{\n  string {snake(*svc.parts)}_id = 1;\n  int32 page_size = 2;\n}}\n"
        f"\nmessage {rpc}Response {{\n  repeated {t} items = 1;\n  string next_page_token = 2;\n}}\n"
        for rpc in svc.rpc_names())
    extra = "".join(f"  string attribute_{i} = {10 + i};\n" for i in range(extra_fields))
    return (f"syntax = \"proto3\";\n\npackage {svc.package};\n\n"
            f"option go_package = \"github.com/acme/contracts/gen/go/acme/{svc.noun}/v1;{svc.noun}v1\";\n"
            f"option java_package = \"com.acme.{svc.noun}.v1\";\noption csharp_namespace = \"Acme.{t}.V1\";\n\n"
            f"import \"google/protobuf/timestamp.proto\";\n\n// {svc.grpc_service} is owned by team {svc.team}.\n"
            f"service {svc.grpc_service} {{\n{rpcs}}}\n\nmessage {t} {{\n  string id = 1;\n  string name = 2;\n"
            f"  int64 version = 3;\n  google.protobuf.Timestamp updated_at = 4;\n{extra}}}\n{msgs}")


def openapi(svc: Svc, extra_fields: int) -> str:
    r, t = svc.route, svc.type
    props = "".join(f"        attribute_{i}:\n          type: string\n" for i in range(extra_fields))
    return (f"openapi: 3.0.3\ninfo:\n  title: {t} API\n  version: 1.{extra_fields}.0\n"
            f"servers:\n  - url: https://{svc.name}.internal.acme.example\npaths:\n"
            f"  {r}/{{id}}:\n    get:\n      operationId: get{t}\n      parameters:\n        - name: id\n"
            f"          in: path\n          required: true\n          schema:\n            type: string\n"
            f"      responses:\n        '200':\n          description: The {svc.name}.\n          content:\n"
            f"            application/json:\n              schema:\n                $ref: '#/components/schemas/{t}'\n"
            f"        '404':\n          description: Not found.\n"
            f"    delete:\n      operationId: delete{t}\n      parameters:\n        - name: id\n          in: path\n"
            f"          required: true\n          schema:\n            type: string\n      responses:\n"
            f"        '204':\n          description: Deleted.\n"
            f"  {r}:\n    get:\n      operationId: list{plural(t)}\n      responses:\n        '200':\n"
            f"          description: All {plural(svc.name)}.\n    post:\n      operationId: create{t}\n"
            f"      requestBody:\n        content:\n          application/json:\n            schema:\n"
            f"              $ref: '#/components/schemas/{t}'\n      responses:\n        '201':\n"
            f"          description: Created.\ncomponents:\n  schemas:\n    {t}:\n      type: object\n"
            f"      required: [id]\n      properties:\n        id:\n          type: string\n"
            f"        name:\n          type: string\n{props}")


def graphql(svc: Svc) -> str:
    t = svc.type
    return (f"\"\"\"A {svc.name} as seen by the storefront.\"\"\"\ntype {t} {{\n  id: ID!\n  name: String!\n"
            f"  version: Int\n}}\n\ntype Query {{\n  {svc.noun}(id: ID!): {t}\n  {plural(svc.noun)}(first: Int = 20): [{t}!]!\n}}\n\n"
            f"input {t}Input {{\n  name: String!\n}}\n\ntype Mutation {{\n  create{t}(input: {t}Input!): {t}!\n}}\n")


def migrations(svc: Svc, rng: random.Random) -> dict[str, str]:
    table = plural(snake(*svc.parts))
    files = {f"migrations/0001_create_{table}.sql":
             f"-- Create the {table} table.\nCREATE TABLE {table} (\n    id UUID PRIMARY KEY,\n    name TEXT NOT NULL,\n"
             f"    version BIGINT NOT NULL DEFAULT 0,\n    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\n"
             f"CREATE INDEX {table}_name_idx ON {table} (name);\n"}
    for i in range(2, 2 + rng.randint(0, 3)):
        col = f"{rng.choice(('status', 'owner', 'region', 'currency', 'tier'))}_{i}"
        files[f"migrations/{i:04d}_add_{col}_to_{table}.sql"] = (
            f"ALTER TABLE {table} ADD COLUMN {col} TEXT;\nUPDATE {table} SET {col} = 'unknown' WHERE {col} IS NULL;\n")
    return files
