"""HTTP linking over a polyglot fixture system (tests/fixtures/http/), one repo per folder.

Each failure class seen on real systems has its pattern here: generated clients called by operation (JS
default import, TS named import from a folder), a Kiota chain, oapi-codegen's `ServerInterface` and a
Spring controller implementing a generated interface, gin/chi/FastAPI/Express prefixes and mounts, NestJS
decorators, ASP.NET minimal-API groups with API versions and two versioned specs of one API, typed
HttpClients whose URL comes from a field, a helper or a registration (`AddHttpClient<T>().AddApiVersion`),
thin helpers, URL references, YARP routes and forwarders, using-aliases and clients returned by helpers,
REST calls of gRPC rpcs transcoded with `google.api.http`; and the traps: a UI's own page on an API's path,
a generic `/health` several APIs declare, a route nothing ties to the API (possible, never links).

Expected links are labelled beside their line: `// @ <entity-id> role=...` (`~` for the space in OpenAPI
IDs); candidates without evidence: `// @ possible:<entity-id> role=...`. Both are checked exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from indexers.extract import extract_file
from indexers.linking import link
from indexers.model import Link, Usage
from indexers.snapshot import RepoInfo, build
from tests.annotations import load_fixture
from tests.gitrepo import GitRepo

ROOT = Path(__file__).parent / "fixtures" / "http"
RAW = (".yaml", ".yml", ".json", ".proto")
Key = tuple[str, str, int, str, str]


def _system() -> tuple[list[Usage], list, set[Key], set[Key], dict[tuple[str, str], bytes]]:
    usages: list[Usage] = []
    entities: list = []
    links: set[Key] = set()
    possible: set[Key] = set()
    files: dict[tuple[str, str], bytes] = {}
    for repo_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        repo = repo_dir.name
        for path in sorted(p for p in repo_dir.rglob("*") if p.is_file()):
            rel = str(path.relative_to(repo_dir))
            if path.suffix in RAW:
                data = path.read_bytes()
            else:
                fixture = load_fixture(path)
                data = fixture.text.encode()
                for exp in fixture.expectations:
                    ident = exp.id.replace("~", " ")
                    target = possible if ident.startswith("possible:") else links
                    target.add((repo, rel, exp.line, ident.removeprefix("possible:"), str(exp.attrs.get("role", ""))))
            files[(repo, rel)] = data
            ff = extract_file(repo, rel, data)
            assert not ff.errors, (rel, ff.errors)
            usages.extend(ff.usages)
            entities.extend(ff.entities)
    return usages, entities, links, possible, files


def _key(lk: Link) -> Key:
    return (lk.repo, lk.path, lk.range.start_line, lk.entity, lk.role)


def _service(repo: str, path: str) -> str:
    return f"svc-{repo}"


def test_http_system_links_exactly() -> None:
    usages, entities, expected, expected_possible, _files = _system()
    maybe: list[Link] = []
    links = [lk for lk in link(usages, entities, _service, possible=maybe) if lk.kind.startswith("http.")]
    got = {_key(lk) for lk in links}
    missing, unexpected = sorted(expected - got), sorted(got - expected)
    print(f"\nhttp linking: {len(expected)} expected, {len(got)} found, {len(expected & got)} right")
    assert not missing and not unexpected, (
        "missing:\n" + "\n".join(map(str, missing)) + "\nunexpected:\n" + "\n".join(map(str, unexpected)))
    got_possible = {_key(lk) for lk in maybe}
    assert got_possible == expected_possible, (sorted(expected_possible - got_possible),
                                               sorted(got_possible - expected_possible))
    assert not (got & got_possible)  # a candidate is never also a link
    assert all(lk.confidence < 0.5 for lk in maybe)
    # generated code is evidence only: no link lands in it
    generated = {(ff.repo, ff.path) for ff in (extract_file(r, p, d) for (r, p), d in _files.items()) if ff.generated}
    assert generated and not any((lk.repo, lk.path) in generated for lk in links)


def test_generated_files_keep_only_evidence() -> None:
    ff = extract_file("web", "src/clients/orders/src/api/DefaultApi.js",
                      (ROOT / "web-js/src/clients/orders/src/api/DefaultApi.js").read_bytes())
    assert ff.generated
    assert {(u.kind, u.name, u.attrs["method"], u.attrs["path"]) for u in ff.usages} == {
        ("http.generated", "listOrders", "GET", "/orders"), ("http.generated", "getOrder", "GET", "/orders/{orderId}")}
    go = extract_file("billing", "internal/ports/openapi_api.gen.go",
                      (ROOT / "billing-go/internal/ports/openapi_api.gen.go").read_bytes())
    assert go.generated and {(u.name, u.qualifier, u.attrs["method"], u.attrs["path"]) for u in go.usages} == {
        ("ListInvoices", "ServerInterface", "GET", "/invoices"),
        ("PayInvoice", "ServerInterface", "PUT", "/invoices/{invoiceId}/pay")}


def test_an_edited_file_relinks_with_the_workspace_evidence() -> None:
    """The editor overlay re-links one file alone: the generated client and the typed-client registration
    it needs live in other files."""
    _u, _e, _l, _p, files = _system()
    facts = [extract_file(r, p, d) for (r, p), d in files.items()]
    snap = build({r: RepoInfo(r, None) for r, _p in files}, facts)
    orders_js = ("web-js", "src/orders.js")
    before = sorted(lk.entity for lk in snap.links_by_file.get(orders_js, []))
    assert before == ["openapi:orders:GET /orders", "openapi:orders:GET /orders/{orderId}",
                      "openapi:orders:GET /orders/{orderId}"]  # the last through the helper in http.js
    edited = files[orders_js].replace(b"ordersAPI.listOrders(callback)", b"ordersAPI.listOrders(callback) // edited")
    after = snap.with_file(extract_file(*orders_js, edited))
    assert sorted(lk.entity for lk in after.links_by_file.get(orders_js, [])) == before
    shop = ("shop-web", "Services/ShopService.cs")
    overlay = snap.with_file(extract_file(*shop, files[shop] + b"\n"))
    assert {lk.entity for lk in overlay.links_by_file[shop]} == {lk.entity for lk in snap.links_by_file[shop]}
    assert all("Shop.API_v2" in lk.entity for lk in overlay.links_by_file[shop])  # the registration's version


def test_graph_lists_possible_apart_from_links(tmp_path: Path) -> None:
    """`lore graph --json`: a UI's own page on the catalog API's path is a possible provider, not a link."""
    GitRepo(tmp_path / "ws" / "ui").commit("ui", {"src/main/java/shop/ui/CatalogController.java": load_fixture(
        ROOT / "ui-java/src/main/java/com/shop/ui/CatalogController.java").text})
    GitRepo(tmp_path / "ws" / "catalog").commit("catalog", {
        "api/catalog.yaml": (ROOT / "catalog-go/api/catalog.yaml").read_text(),
        "main.go": load_fixture(ROOT / "catalog-go/main.go").text})
    proc = subprocess.run([sys.executable, "-m", "lore", "graph", str(tmp_path / "ws"), "--json"], capture_output=True,
                          text=True, env={"LORE_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
                                          "HOME": str(tmp_path)}, timeout=300, check=True)
    graph = json.loads(proc.stdout)
    links = {(lk["repo"], lk["entity"], lk["role"]) for lk in graph["links"]}
    assert ("catalog", "openapi:catalog:GET /catalog/products", "provides") in links
    assert not any(lk["repo"] == "ui" for lk in graph["links"])
    possible = [(p["repo"], p["entity"], p["role"]) for p in graph["possible"]]
    assert possible == [("ui", "openapi:catalog:GET /catalog/products", "provides")]
    assert "nothing ties this service to the API" in graph["possible"][0]["evidence"]


def test_catalog_provides_apis_ties_a_route_to_a_spec_elsewhere() -> None:
    """The spec lives in a contracts repo; the orders service's catalog entry says it provides that API: its
    route is a provider. The same route in a service the catalog does not tie to the API stays possible."""
    spec = (ROOT / "contracts/openapi/orders.yaml").read_bytes()
    api = (b"apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: orders-api\nspec:\n  type: openapi\n"
           b"  lifecycle: production\n  owner: team\n  definition:\n    $text: ./openapi/orders.yaml\n")

    def component(name: str, provides: str) -> bytes:
        return (f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n"
                f"  lifecycle: production\n  owner: team\n  providesApis: [{provides}]\n").encode()

    route = b'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/orders/<order_id>")\ndef get(order_id):\n    return ""\n'
    files = {("contracts", "openapi/orders.yaml"): spec, ("contracts", "catalog-info.yaml"): api,
             ("orders", "catalog-info.yaml"): component("orders", "orders-api"), ("orders", "app.py"): route,
             ("audit", "catalog-info.yaml"): component("audit", "audit-api"), ("audit", "app.py"): route}
    snap = build({r: RepoInfo(r, None) for r, _p in files}, [extract_file(r, p, d) for (r, p), d in files.items()])
    provides = [(lk.repo, lk.entity, lk.evidence) for lk in snap.links if lk.role == "provides"]
    assert provides == [("orders", "openapi:orders:GET /orders/{orderId}",
                         "http.route GET /orders/{} (catalog providesApis)")]
    assert [(lk.repo, lk.entity) for lk in snap.possible] == [("audit", "openapi:orders:GET /orders/{orderId}")]


def test_a_server_url_naming_the_service_ties_its_route_to_the_spec() -> None:
    spec = (b"openapi: 3.0.3\ninfo: {title: Stock levels, version: '1'}\nservers:\n  - url: http://inventory:8080\n"
            b"paths:\n  /levels/{sku}:\n    get:\n      operationId: getLevel\n      responses: {'200': {description: ok}}\n")
    route = b'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/levels/<sku>")\ndef level(sku):\n    return ""\n'
    usages, entities = [], []
    for repo, path, data in (("contracts", "stock.yaml", spec), ("inventory", "app.py", route), ("ui", "app.py", route)):
        ff = extract_file(repo, path, data)
        usages += ff.usages
        entities += ff.entities
    maybe: list[Link] = []
    links = link(usages, entities, _service, possible=maybe)
    assert [(lk.repo, lk.entity, lk.evidence) for lk in links] == [
        ("inventory", "openapi:stock:GET /levels/{sku}", "http.route GET /levels/{} (the spec's server URL names the service)")]
    assert [(lk.repo, lk.entity) for lk in maybe] == [("ui", "openapi:stock:GET /levels/{sku}")]
