"""A backend-for-frontend system (tests/fixtures/bff/, one repo per folder): a Go service serving its rpcs
over gRPC and, through `google.api.http` bindings, over HTTP, with the Swagger document protoc-gen-openapiv2
writes from them; Go clients of another service held in a struct field declared in another file of the
package; front ends calling through an axios instance shared across modules.

The patterns of the failure classes seen on a held-out real system:
- the rpc's implementation provides the spec operation that is its transcoding (method and path of the
  binding with the generator's `<Service>_<Rpc>` operationId, or the operationId alone where the spec writes
  the binding's path another way); two rpcs bound to one route both provide the one operation;
- `r.data.catalog.GetBook(ctx, ...)` with `type Data struct { catalog catalogv1.CatalogClient }` in data.go,
  and `d.catalog.ListBooks` on a parameter of that type; a use-case field of the same shape stays unlinked;
- `import http from './index'; http.get('/v1/books')` with `axios.create` exported by index.js, `@/` imports
  of the source root, `request({url, method})`, a base URL carrying a path prefix (imported and local);
  the decoy: a call through the staff instance to a path only the portal API declares (possible, not a link);
  an imported object that is no instance but a thin helper (`catalog.get(path)`) still links as one.

Expected links are labelled beside their line (`// @ <entity-id> role=...`, `~` for the space in OpenAPI IDs;
`possible:` for candidates). Only links to rpcs and operations are compared (messages have their own tests).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from indexers.extract import extract_file
from indexers.linking import link
from indexers.model import Entity, Link, Usage
from indexers.snapshot import RepoInfo, build
from tests.annotations import load_fixture
from tests.gitrepo import GitRepo

ROOT = Path(__file__).parent / "fixtures" / "bff"
RAW = (".json", ".proto", ".mod")
Key = tuple[str, str, int, str, str]


def _files() -> dict[tuple[str, str], bytes]:
    out = {}
    for repo_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        for path in sorted(p for p in repo_dir.rglob("*") if p.is_file()):
            rel = str(path.relative_to(repo_dir))
            out[(repo_dir.name, rel)] = path.read_bytes() if path.suffix in RAW else load_fixture(path).text.encode()
    return out


def _expected() -> tuple[set[Key], set[Key]]:
    links: set[Key] = set()
    possible: set[Key] = set()
    for repo_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        for path in sorted(p for p in repo_dir.rglob("*") if p.is_file() and p.suffix not in RAW):
            for exp in load_fixture(path).expectations:
                ident = exp.id.replace("~", " ")
                target = possible if ident.startswith("possible:") else links
                target.add((repo_dir.name, str(path.relative_to(repo_dir)), exp.line, ident.removeprefix("possible:"),
                            str(exp.attrs.get("role", ""))))
    return links, possible


def _extract() -> tuple[list[Usage], list[Entity]]:
    usages: list[Usage] = []
    entities: list[Entity] = []
    for (repo, rel), data in _files().items():
        ff = extract_file(repo, rel, data)
        assert not ff.errors, (rel, ff.errors)
        usages.extend(ff.usages)
        entities.extend(ff.entities)
    return usages, entities


def _in_scope(entities: list[Entity]) -> set[str]:
    return {e.id for e in entities if e.kind in ("proto.rpc", "openapi.operation")}


def _key(lk: Link) -> Key:
    return (lk.repo, lk.path, lk.range.start_line, lk.entity, lk.role)


def test_bff_system_links_exactly() -> None:
    usages, entities = _extract()
    expected, expected_possible = _expected()
    scope = _in_scope(entities)
    maybe: list[Link] = []
    got = {_key(lk) for lk in link(usages, entities, lambda repo, path: repo, possible=maybe) if lk.entity in scope}
    assert got == expected, ("missing", sorted(expected - got), "unexpected", sorted(got - expected))
    assert {_key(lk) for lk in maybe if lk.entity in scope} == expected_possible
    assert not any("members.js" in k[1] and k[3].startswith("openapi:portal") for k in got)


def test_the_rendered_binding_is_the_spec_operation_not_a_second_api() -> None:
    """A call of a rendered route links to the spec's operation only; a binding the spec writes another way
    stays the rpc's, in the same API (so the portal instance's calls name one API)."""
    usages, entities = _extract()
    links = link(usages, entities, lambda repo, path: repo)
    at_books = {lk.entity for lk in links if lk.path == "src/api/books.js"}
    assert "proto:library.portal.v1.Portal.ListBooks" not in at_books
    assert "proto:library.portal.v1.Portal.GetShelf" in at_books
    transcoding = [lk for lk in links if lk.entity == "openapi:portal.swagger:GET /v1/books" and lk.role == "provides"]
    assert sorted(lk.range.start_line for lk in transcoding) == [8, 21]
    assert all("is its HTTP transcoding" in lk.evidence for lk in transcoding)


def test_edited_files_relink_with_the_other_files_of_their_package_and_instance() -> None:
    """The editor re-links one file alone: the struct field lives in data.go, the axios instance in another
    module, and which API the staff instance talks to is what its calls in every file say."""
    files = _files()
    facts = [extract_file(r, p, d) for (r, p), d in files.items()]
    snap = build({r: RepoInfo(r, None) for r, _p in files}, facts)
    for key in (("portal-bff", "internal/data/books.go"), ("staff-web", "src/api/members.js"),
                ("web", "src/api/books.js"), ("portal-bff", "internal/service/books.go")):
        before = sorted((lk.entity, lk.range.start_line) for lk in snap.links_by_file.get(key, []))
        after = snap.with_file(extract_file(*key, files[key] + b"\n"))
        assert sorted((lk.entity, lk.range.start_line) for lk in after.links_by_file.get(key, [])) == before, key
        assert sorted(lk.entity for lk in after.possible if (lk.repo, lk.path) == key) == sorted(
            lk.entity for lk in snap.possible if (lk.repo, lk.path) == key)
    assert any(lk.entity == "proto:library.catalog.v1.Catalog.GetBook" and "through field Data.catalog" in lk.evidence
               for lk in snap.links_by_file[("portal-bff", "internal/data/books.go")])


def _lore(*args: str, cache: Path) -> str:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "LORE_CACHE": str(cache)}, timeout=300).stdout


def test_cli_context_at_a_front_end_call_names_the_operation_and_its_go_provider(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    for repo_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        files = {rel: data.decode() for (repo, rel), data in _files().items() if repo == repo_dir.name}
        GitRepo(ws / repo_dir.name).commit("init", files)
    (ws / "lore.toml").write_text("".join(f'[[repo]]\npath = "{p.name}"\n' for p in sorted(ROOT.iterdir())))
    graph = json.loads(_lore("graph", str(ws), "--json", cache=tmp_path / "c"))
    links = {(lk["repo"], lk["entity"], lk["role"], lk["path"]) for lk in graph["links"]}
    assert ("web", "openapi:portal.swagger:POST /v1/sign-in", "consumes", "src/api/books.js") in links
    assert ("portal-bff", "openapi:portal.swagger:POST /v1/sign-in", "provides", "internal/service/books.go") in links
    assert ("portal-bff", "proto:library.catalog.v1.Catalog.GetBook", "consumes", "internal/data/books.go") in links
    text = (ws / "web/src/api/books.js").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if "/v1/sign-in" in t)
    out = _lore("context", f"{ws}/web/src/api/books.js:{line}:{text[line - 1].index('/v1/sign-in') + 1}",
                cache=tmp_path / "c")
    assert "POST /v1/sign-in" in out and "internal/service/books.go" in out
    shutil.rmtree(ws)
