"""Service boundaries: per-file extractors (annotated fixtures), CODEOWNERS matching (a table), and the
workspace step over a small system of real git repositories (tests/fixtures/services/system)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexers import git
from indexers.model import Entity, ServiceDecl
from indexers.positions import SourceFile
from indexers.services import derive_services, entity_ref, image_keys, owners_for
from indexers.sources.systems.catalog import EXTRACTORS
from tests.annotations import check, load_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "services"
EXTRACT = FIXTURES / "extract"
SYSTEM = FIXTURES / "system"


def run_extractors(repo: str, path: str, data: bytes) -> tuple[list[ServiceDecl], list]:
    src = SourceFile(repo, path, data)
    decls, errors = [], []
    for ex in EXTRACTORS:
        if ex.wants(path):
            part = ex.extract(src)
            decls += part.services
            errors += part.errors
    return decls, errors


def as_entity(d: ServiceDecl) -> Entity:
    kind = d.attrs.get("kind")
    qual = f"{kind}/" if kind and d.source in ("kubernetes", "helm") else ""
    return Entity(f"{d.source}:{qual}{d.name}", str(kind or d.source), d.name, d.repo, d.path, d.range,
                  {**d.attrs, "root": d.root})


def fixture_paths() -> list[str]:
    return sorted(str(p.relative_to(EXTRACT)) for p in EXTRACT.rglob("*") if p.is_file() and p.suffix != ".expect")


@pytest.mark.parametrize("rel", fixture_paths())
def test_extract_fixture(rel: str) -> None:
    assert any(ex.wants(rel) for ex in EXTRACTORS), f"no extractor wants {rel}"
    fx = load_fixture(EXTRACT / rel)
    decls, errors = run_extractors("shop", rel, fx.text.encode("utf-8"))
    check([as_entity(d) for d in decls], errors, fx)


@pytest.mark.parametrize("path, wanted", [
    ("catalog-info.yaml", ["services.catalog"]),
    ("a/catalog-info-prod.yml", ["services.catalog"]),
    (".github/CODEOWNERS", ["services.codeowners"]),
    ("src/CODEOWNERS", []),
    ("docker-compose.override.yml", ["services.compose"]),
    ("compose.yaml", ["services.compose"]),
    ("deploy/app.yaml", ["services.kubernetes"]),
    (".github/workflows/ci.yml", []),
    ("charts/x/Chart.yaml", ["services.helm"]),
    ("Dockerfile.dev", ["services.dockerfile"]),
    ("api.Dockerfile", ["services.dockerfile"]),
    ("vim/syntax/dockerfile.vim", []),
    ("Dockerfile.dockerignore", []),
    ("Dockerfile.template", []),
    (".devcontainer/Dockerfile", []),
    ("node_modules/x/package.json", []),
    ("a/go.mod", ["services.module"]),
    ("App.csproj", ["services.module"]),
    ("README.md", []),
])
def test_wants(path: str, wanted: list[str]) -> None:
    assert [ex.name for ex in EXTRACTORS if ex.wants(path)] == wanted


# -- guards -----------------------------------------------------------------------------------------

def errors_of(path: str, text: str | bytes) -> list[tuple[int | None, str]]:
    decls, errors = run_extractors("r", path, text.encode() if isinstance(text, str) else text)
    assert not decls
    return [(e.line, e.reason) for e in errors]


@pytest.mark.parametrize("text, line", [
    ("services:\n  x: " + "[" * 5000 + "]" * 5000, 1),
    ("services:\n" + "".join(" " * i + "k:\n" for i in range(1, 1000)), 256),
])
def test_deep_nesting_is_an_error_not_a_crash(text: str, line: int) -> None:
    # Refused by a pre-scan (with the line), before the recursive YAML composer sees it.
    assert errors_of("compose.yaml", text) == [(line, "invalid YAML: nesting too deep")]


def test_huge_yaml_is_refused() -> None:
    errs = errors_of("catalog-info.yaml", "kind: Component\n" + "# pad\n" * 400_000)
    assert errs and "too large" in errs[0][1]


@pytest.mark.parametrize("path, text, line, reason", [
    ("pom.xml", '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n]>\n<project><artifactId>&lol;</artifactId></project>',
     1, "DOCTYPE"),
    ("App.csproj", "<Project>\n  <PropertyGroup>\n</Project>\n", 2, "invalid XML"),
    ("package.json", '{\n  "name": "x",\n  "version": \n}\n', 3, "invalid JSON"),
    ("Cargo.toml", '[package]\nname = "x"\nname = "y"\n', 2, "invalid TOML"),
    ("go.mod", "go 1.22\n", 0, "without a module"),
])
def test_malformed_manifests(path: str, text: str, line: int, reason: str) -> None:
    errs = errors_of(path, text)
    assert len(errs) == 1 and errs[0][0] == line and reason in errs[0][1], errs


@pytest.mark.parametrize("path, text", [
    ("package.json", '{"name": "root", "private": true, "workspaces": ["packages/*"]}'),
    ("package.json", '{"private": true}'),
    ("pyproject.toml", "[tool.ruff]\nline-length = 100\n"),
    ("Cargo.toml", '[workspace]\nmembers = ["a"]\n'),
    ("deploy/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
    ("openapi.yaml", "openapi: 3.0.0\ninfo: {title: x}\n"),
    ("docker-compose.yml", "services:\n  db:\n    image: postgres\n"),
])
def test_not_a_service(path: str, text: str) -> None:
    assert errors_of(path, text) == []


# -- CODEOWNERS -------------------------------------------------------------------------------------

RULES = [
    ("*", ["@all"]),
    ("*.js", ["@js"]),
    ("/build/logs/", ["@logs"]),
    ("docs/*", ["@docs"]),
    ("apps/", ["@apps"]),
    ("**/vendor", ["@vendor"]),
    ("/scripts/**/*.sh", ["@sh"]),
    ("/src/generated/", []),
    ("\\#hash.txt", ["@hash"]),
    ("a?c.txt", ["@q"]),
]


@pytest.mark.parametrize("path, owners, rule", [
    ("main.go", ["@all"], 0),
    ("web/app.js", ["@js"], 1),
    ("build/logs/a.log", ["@logs"], 2),
    ("x/build/logs/a.log", ["@all"], 0),  # anchored: only at the root
    ("docs/intro.md", ["@docs"], 3),
    ("docs/guide/intro.md", ["@all"], 0),  # docs/* does not own nested files
    ("apps/web/app.go", ["@apps"], 4),
    ("deep/apps/web/app.js", ["@apps"], 4),  # last matching rule wins over *.js
    ("apps", ["@all"], 0),  # `apps/` names directories only
    ("a/b/vendor/x.go", ["@vendor"], 5),
    ("scripts/ci/deep/run.sh", ["@sh"], 6),
    ("scripts/run.sh", ["@sh"], 6),
    ("src/generated/x.js", [], 7),  # a rule without owners unsets ownership
    ("#hash.txt", ["@hash"], 8),
    ("abc.txt", ["@q"], 9),
    ("a/c.txt", ["@all"], 0),  # ? never matches a slash
])
def test_owners_for(path: str, owners: list[str], rule: int) -> None:
    rules = [{"pattern": p, "owners": o, "line": n} for n, (p, o) in enumerate(RULES)]
    assert owners_for(rules, path) == (owners, rule)


def test_owners_for_no_rule() -> None:
    assert owners_for([{"pattern": "/docs/", "owners": ["@d"], "line": 0}], "src/a.py") is None


def test_refs_and_images() -> None:
    assert entity_ref("cart") == ("component", "default", "cart")
    assert entity_ref("api:payments/pricing-api") == ("api", "payments", "pricing-api")
    assert image_keys("localhost:5000/acme/cart:1.2@sha256:abc") == ("localhost:5000/acme/cart", "cart")
    assert image_keys("Cart") == ("cart", "cart")


# -- the workspace step -----------------------------------------------------------------------------

def build_system(make_repo) -> tuple[list[ServiceDecl], dict[str, list[str]]]:
    decls: list[ServiceDecl] = []
    files: dict[str, list[str]] = {}
    for repo_dir in sorted(p for p in SYSTEM.iterdir() if p.is_dir()):
        contents = {str(p.relative_to(repo_dir)): p.read_bytes() for p in repo_dir.rglob("*") if p.is_file()}
        repo = make_repo(repo_dir.name, contents)
        files[repo_dir.name] = git.list_files(repo.path)
        for path in files[repo_dir.name]:
            found, errors = run_extractors(repo_dir.name, path, (repo.path / path).read_bytes())
            assert not errors, (path, errors)
            decls += found
    return decls, files


def test_system(make_repo) -> None:
    expected = json.loads((SYSTEM / "expected.json").read_text())
    decls, files = build_system(make_repo)
    smap = derive_services(decls, files)
    got = [{"name": s.name, "repo": s.repo, "root": s.root, "owner": s.owner, "languages": list(s.languages),
            "sources": s.attrs["sources"], "name_from": s.evidence[0].path}
           for s in sorted(smap.services, key=lambda s: (s.repo, s.root, s.name))]
    assert got == expected["services"]
    for repo, path, name in expected["service_for"]:
        svc = smap.service_for(repo, path)
        assert (svc.name if svc else None) == name, (repo, path)
    for repo, path, owner, where in expected["owner_for"]:
        hit = smap.owner_for(repo, path)
        got_owner = (hit[0], f"{hit[1].path}:{(hit[1].line or 0) + 1}") if hit else None
        assert got_owner == ((owner, where) if owner else None), (repo, path)
    assert sorted(d.name for d in smap.unplaced) == expected["unplaced"]
    cart = smap.declared[("shop", "cart")]
    assert (cart.provides_apis, cart.consumes_apis, cart.depends_on) == (("cart-api",), ("pricing-api",), ("resource:cart-db",))
    assert smap.apis["cart-api"].attrs["definition"] == "services/cart/openapi.yaml"
    assert set(smap.by_name("cart")[0].attrs["images"]) == {"ghcr.io/acme/cart", "ghcr.io/acme/cart:2.0"}


def test_system_evidence(make_repo) -> None:
    decls, files = build_system(make_repo)
    smap = derive_services(decls, files)
    (cart,) = smap.by_name("cart")
    assert [(e.repo, e.path, e.line, e.detail) for e in cart.evidence] == [
        ("shop", "services/cart/catalog-info.yaml", 3, "name from catalog"),
        ("shop", "deploy/docker-compose.yml", 1, "compose: cart"),
        ("shop", "deploy/k8s/cart.yaml", 2, "kubernetes: cart-deploy"),
        ("shop", "services/cart/go.mod", 0, "module: cart"),
        ("shop", "services/cart/tools/gen/go.mod", 0, "module: gen"),  # folded into the component
        ("shop", "services/cart/Dockerfile", 0, "dockerfile: cart"),  # a folder name ranks below read names
        ("shop", "services/cart/catalog-info.yaml", 7, "owner from catalog"),
    ]
    (web,) = smap.by_name("web-chart")
    assert ("shop", "charts/web/Chart.yaml", 1, "helm chart: web-chart") in [(e.repo, e.path, e.line, e.detail) for e in web.evidence]
    (pricing,) = smap.by_name("pricing")
    assert pricing.evidence[0].repo == "shop"  # named by a compose file in another repository


def test_unknown_file_list_is_taken_on_trust() -> None:
    src = SourceFile("remote", "svc/go.mod", b"module example.com/acme/remote-svc\n")
    (ex,) = [e for e in EXTRACTORS if e.wants("svc/go.mod")]
    smap = derive_services(ex.extract(src).services, {})
    assert smap.service_for("remote", "svc/x/y.go").name == "remote-svc"  # type: ignore[union-attr]
    assert smap.service_for("remote", "other/y.go") is None


def test_unknown_root_is_unplaced() -> None:
    src = SourceFile("r", "deploy/compose.yaml", b"services:\n  a:\n    build: ../gone\n")
    decls = [d for e in EXTRACTORS if e.wants(src.path) for d in e.extract(src).services]
    smap = derive_services(decls, {"r": ["deploy/compose.yaml", "src/main.go"]})
    assert smap.services == () and [d.name for d in smap.unplaced] == ["a"]


def test_broken_document_costs_only_itself() -> None:
    text = ("%YAML 1.2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [broken\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fine\nspec: {template: {spec: {containers: [{image: x}]}}}\n")
    decls, errors = run_extractors("r", "deploy/app.yaml", text.encode())
    assert [(d.name, d.range.start_line) for d in decls] == [("fine", 9)]
    assert [e.line for e in errors] == [4]


def test_only_wanted_documents_are_parsed() -> None:
    deep = "".join(" " * i + "k:\n" for i in range(1, 400))
    text = ("apiVersion: v1\nkind: ConfigMap\ndata:\n" + deep + "---\napiVersion: apps/v1\nkind: Deployment\n"
            "metadata: {name: app}\nspec: {template: {spec: {containers: [{image: x}]}}}\n")
    decls, errors = run_extractors("r", "deploy/app.yaml", text.encode())
    assert [d.name for d in decls] == ["app"] and errors == []
