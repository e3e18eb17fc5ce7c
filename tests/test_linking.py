"""Linking usages to contract entities over a polyglot fixture system (tests/fixtures/linking/).

`contracts/` holds a .proto per package (two packages declare a `CartService`), an OpenAPI spec with a
server base path, a GraphQL schema and SQL DDL, read by the real contract extractors. Five services (Go,
Python, TypeScript, Java, C#) use them; each expected link is labelled in the source beside its line:
`// @ <entity-id> role=provides` (`~` stands for the space in OpenAPI IDs). Links are checked exactly:
every labelled link found, no other link reported. Precision and recall are printed.
"""

from __future__ import annotations

from pathlib import Path

from indexers.linking import _Proto, link, package_match
from indexers.model import Entity, Link, Span, Usage
from indexers.positions import SourceFile
from indexers.sources import registry
from tests.annotations import load_fixture

ROOT = Path(__file__).parent / "fixtures" / "linking"


def _system() -> tuple[list[Usage], list[Entity], set[tuple[str, str, int, str, str]]]:
    usages: list[Usage] = []
    entities: list[Entity] = []
    expected: set[tuple[str, str, int, str, str]] = set()
    for repo_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        repo = repo_dir.name
        for path in sorted(p for p in repo_dir.rglob("*") if p.is_file()):
            rel = str(path.relative_to(repo_dir))
            extractors = registry.for_path(rel)
            if repo == "contracts":
                data = path.read_bytes()
            else:
                fixture = load_fixture(path)
                data = fixture.text.encode()
                for exp in fixture.expectations:
                    expected.add((repo, rel, exp.line, exp.id.replace("~", " "), str(exp.attrs.get("role", ""))))
            for ex in extractors:
                part = ex.extract(SourceFile(repo, rel, data))
                assert not part.errors, (rel, part.errors)
                usages.extend(part.usages)
                entities.extend(part.entities)
    return usages, entities, expected


def _key(lk: Link) -> tuple[str, str, int, str, str]:
    return (lk.repo, lk.path, lk.range.start_line, lk.entity, lk.role)


def test_polyglot_system_links_exactly() -> None:
    usages, entities, expected = _system()
    links = link(usages, entities, lambda repo, path: f"svc-{repo}")
    got = {_key(lk) for lk in links}
    true_pos = got & expected
    precision = len(true_pos) / len(got) if got else 1.0
    recall = len(true_pos) / len(expected) if expected else 1.0
    print(f"\nlinking: {len(expected)} expected, {len(got)} found, precision {precision:.2f}, recall {recall:.2f}")
    missing = sorted(expected - got)
    unexpected = sorted(got - expected)
    assert not missing and not unexpected, (
        "missing:\n" + "\n".join(map(str, missing)) + "\nunexpected:\n" + "\n".join(map(str, unexpected)))
    assert all(0.0 < lk.confidence <= 1.0 and lk.service == f"svc-{lk.repo}" for lk in links)
    languages = {u.language for u in usages if any(lk.path == u.path for lk in links)}
    assert {"go", "python", "typescript", "java", "csharp"} <= languages


def _proto(pkg: str, name: str, path: str, opts: dict[str, str] | None = None) -> list[Entity]:
    span = Span(0, 0, 0, 1)
    return [Entity(f"proto:{pkg}", "proto.package", pkg, "c", path, span, {"options": opts or {}}),
            Entity(f"proto:{pkg}.{name}", "proto.message", name, "c", path, span, {}, f"proto:{pkg}")]


def _usage(kind: str, name: str, qualifier: str = "", attrs: dict[str, object] | None = None) -> Usage:
    return Usage("r", "a.py", Span(1, 0, 1, 4), kind, name, qualifier, "", "python", dict(attrs or {}))


def test_bare_common_names_need_package_evidence() -> None:
    entities = _proto("shop.cart.v1", "Empty", "cart.proto")
    # An import that names no package, and no gRPC stub in the file: `Empty` alone links to nothing.
    assert link([_usage("proto.message_type", "Empty", attrs={"import": ["example.com/other/x"]})], entities,
                lambda r, p: "") == []
    linked = link([_usage("proto.message_type", "Empty", attrs={"import": ["shop.cart.v1.cart_pb2"]})], entities,
                  lambda r, p: "")
    assert [lk.entity for lk in linked] == ["proto:shop.cart.v1.Empty"]


def test_package_evidence_strength() -> None:
    a = _Proto(_proto("shop.cart.v1", "X", "shop/cart.proto")[1], "shop.cart.v1", {"shop.cart.v1"}, "cart")
    assert package_match(a, ["shop.cart.v1.cart_pb2_grpc"]) == 2
    assert package_match(a, ["./gen/shop/cart/v1/cart_grpc_pb"]) == 2
    assert package_match(a, ["Shop.Cart.V1"]) == 2
    assert package_match(a, ["cart_pb2"]) == 1
    assert package_match(a, ["example.com/unrelated"]) == 0


def test_http_needs_a_unique_operation_and_declared_base_path() -> None:
    span = Span(0, 0, 0, 1)
    ops = [Entity("openapi:a:GET /items/{id}", "openapi.operation", "GET /items/{id}", "c", "a.yaml", span,
                  {"api": "a", "method": "GET", "path": "/items/{id}"}),
           Entity("openapi:b:GET /items/{itemId}", "openapi.operation", "GET /items/{itemId}", "c", "b.yaml", span,
                  {"api": "b", "method": "GET", "path": "/items/{itemId}"}),
           Entity("openapi:b:POST /carts", "openapi.operation", "POST /carts", "c", "b.yaml", span,
                  {"api": "b", "method": "POST", "path": "/carts"})]
    call = _usage("http.call", "/items/{}", "GET", {"method": "GET", "path": "/items/{}"})
    assert link([call], ops, lambda r, p: "") == []  # two APIs serve it: ambiguous
    posted = _usage("http.call", "/api/carts", "POST", {"method": "POST", "path": "/api/carts"})
    assert link([posted], ops, lambda r, p: "") == []  # no servers entry declares /api
    api = Entity("openapi:b", "openapi.api", "b", "c", "b.yaml", span, {"api": "b", "servers": ["/api"]})
    assert [lk.entity for lk in link([posted], [*ops, api], lambda r, p: "")] == ["openapi:b:POST /carts"]


def _cart_contract() -> list[Entity]:
    span = Span(0, 0, 0, 1)
    pkg = "proto:shop.cart.v1"

    def e(name: str, kind: str, parent: str, **attrs: object) -> Entity:
        return Entity(f"{parent}.{name}", kind, name, "c", "cart.proto", span, dict(attrs), parent)

    return [Entity(pkg, "proto.package", "shop.cart.v1", "c", "cart.proto", span, {"options": {}}),
            e("Cart", "proto.message", pkg), e("CartItem", "proto.message", pkg),
            e("CartService", "proto.service", pkg),
            e("GetCart", "proto.rpc", pkg + ".CartService", request="GetCartRequest", response="Cart"),
            e("WatchCart", "proto.rpc", pkg + ".CartService", request="GetCartRequest", response="Cart",
              server_streaming=True),
            e("SendCart", "proto.rpc", pkg + ".CartService", request="Cart", response="Cart", client_streaming=True),
            e("items", "proto.field", pkg + ".Cart", type="CartItem", label="repeated"),
            e("user_id", "proto.field", pkg + ".Cart", type="string"),
            e("labels", "proto.field", pkg + ".Cart", type="map<string,CartItem>", key_type="string",
              value_type="CartItem"),
            e("product_id", "proto.field", pkg + ".CartItem", type="string")]


def test_field_paths_follow_declared_types() -> None:
    entities = _cart_contract()
    ev = {"import": ["shop.cart.v1.cart_pb2"]}

    def linked(name: str, qualifier: str = "Cart", **attrs: object) -> list[str]:
        return [lk.entity for lk in link([_usage("proto.field_access", name, qualifier, {**ev, **attrs})], entities,
                                         lambda r, p: "")]

    assert linked("product_id", via=["items"]) == ["proto:shop.cart.v1.CartItem.product_id"]
    assert linked("product_id", via=["user_id"]) == []  # a scalar has no fields
    assert linked("product_id", via=["labels"]) == []  # a map is not its value type
    assert linked("product_id", via=["nope"]) == []
    assert linked("product_id") == []  # Cart has no product_id
    assert linked("items", "", response_of="CartService.GetCart") == ["proto:shop.cart.v1.Cart.items"]
    assert linked("product_id", "", response_of="CartService.getCart", via=["items"]) == \
        ["proto:shop.cart.v1.CartItem.product_id"]
    assert linked("items", "", response_of="CartService.WatchCart") == []  # a stream, not a response
    assert linked("items", "", response_of="CartService.SendCart") == []
    assert linked("items", "", response_of="OtherService.GetCart") == []
    # A resolved `type_fqn` wins over the written name.
    moved = [Entity(x.id, x.kind, x.name, x.repo, x.path, x.range, {**x.attrs, "type_fqn": "shop.other.CartItem"},
                    x.parent) if x.name == "items" else x for x in entities]
    assert [lk.entity for lk in link([_usage("proto.field_access", "product_id", "Cart", {**ev, "via": ["items"]})],
                                     moved, lambda r, p: "")] == []


def test_services_of_one_name_resolve_by_the_closest_package_else_stay_possible() -> None:
    from indexers.linking import _closest

    sdk = [_Proto(Entity(f"proto:{p}.SDK", "proto.service", "SDK", "c", f"{p}.proto", Span(0, 0, 0, 1)), p)
           for p in ("agones.dev.sdk", "agones.dev.sdk.alpha", "agones.dev.sdk.beta")]
    # go_package-less protos: the Go import path still ends with the package's meaningful words
    assert _closest(sdk, ["example.com/agones/pkg/sdk/alpha"]) is sdk[1]
    assert _closest(sdk, ["example.com/agones/pkg/sdk"]) is sdk[0]
    # a generated module is named for its .proto file, not its package; nothing else: no choice
    assert _closest(sdk, ["sdk_pb2_grpc"]) is None
    assert _closest(sdk, []) is None
    span = Span(3, 0, 3, 4)
    usage = Usage("r", "client.ts", span, "grpc.call", "getGameServer", "SDK", "", "typescript", {"import": ["proto"]})
    rpcs = [Entity(f"{s.entity.id}.GetGameServer", "proto.rpc", "GetGameServer", "c", s.entity.path, span, {},
                   s.entity.id) for s in sdk]
    pkgs = [Entity(f"proto:{s.package}", "proto.package", s.package, "c", s.entity.path, span, {}) for s in sdk]
    possible: list[Link] = []
    links = link([usage], [*pkgs, *(s.entity for s in sdk), *rpcs], lambda repo, path: "", possible)
    assert links == []
    assert {p.entity for p in possible} == {r.id for r in rpcs}
    assert all(p.confidence < 0.5 and p.evidence.startswith("possible: 3 services named SDK") for p in possible)
