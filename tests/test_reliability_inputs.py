"""Bad input and untrusted repositories, through the real CLI.

One workspace (lore.toml) holds every kind of hostile or odd input at once — binary files with source
extensions, files over the size limit, invalid UTF-8, CRLF/CR/BOM, a 1 MB line, deep nesting, an alias
bomb, malformed contracts, symlink loops and links leaving the repo, a submodule, a shallow clone, an
empty repo, a repo without commits, a detached HEAD, a folder that is not a repo, a missing folder, paths
with spaces and non-ASCII — beside good files. One `lore index --json` and one `lore graph --json` run
over it; each test checks that its input got a clear per-file message or skip reason and that the good
files' entities are all there. Secrets and folders outside the configured roots carry unique canaries
that must not appear anywhere in the cache folder's bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from indexers.positions import utf16_len
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent
CANARY = f"LORE-CANARY-{uuid.uuid4().hex}"
POSITIVE = f"LORE-POSITIVE-{uuid.uuid4().hex}"  # placed in an indexed comment: proves the scan can see text


def proto(pkg: str, extra: str = "") -> str:
    return (f'syntax = "proto3";\npackage {pkg};\n\nservice Svc {{\n  rpc Get(Req) returns (Resp);\n}}\n'
            f"message Req {{\n  string id = 1;\n}}\nmessage Resp {{\n  string id = 1;\n}}\n{extra}")


def good_ids(pkg: str) -> set[str]:
    return {f"proto:{pkg}.Svc.Get", f"proto:{pkg}.Req.id", f"proto:{pkg}.Resp"}


DEEP = 5000
ESC_NAME = "esc\x1b]0;pwned\x07\x1b[31m.proto"
STRICT = {"PYTHONIOENCODING": "utf-8:strict"}  # as on a machine with a UTF-8 locale: no surrogates pass
SECRETS = (".env", ".env.production", "deploy/key.pem", "home/.ssh/id_rsa", "config/credentials.json",
           "config/secrets.yaml", "gcp/service-account-prod.json", "infra/prod.tfvars", ".npmrc", "certs/server.key")


K8S_WITH_SECRETS = f"""apiVersion: v1
kind: Secret
metadata:
  name: db-creds
stringData:
  password: {CANARY}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: cart
          image: shop/cart:1.0
          env:
            - name: DB_PASSWORD
              value: {CANARY}
          args: ["--token={CANARY}"]
"""
COMPOSE_WITH_SECRETS = f"""services:
  billing:
    build: ../billing
    environment:
      DB_PASSWORD: {CANARY}
    command: ["serve", "--token", "{CANARY}"]
"""


def bad_inputs() -> dict[str, str | bytes]:
    big = "openapi: 3.0.0\ninfo: {title: bomb, version: '1'}\n"
    big += "a0: &a0 [" + ", ".join(["lol"] * 9) + "]\n"
    for i in range(1, 9):
        big += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    big += "paths:\n  /x:\n    get:\n      parameters: *a8\n      responses: {'200': {description: ok}}\n"
    return {
        # binary content behind source extensions
        "bin/blob.proto": b"\x00\x01\x02" + os.urandom(4000),
        "bin/blob.go": b"package main\x00\x00" + os.urandom(2000),
        "bin/blob.py": b"\x7fELF\x02\x01\x01\x00" + os.urandom(2000),
        "bin/blob.yaml": b"openapi: 3.0.0\n\x00" + os.urandom(1000),
        # encodings
        "enc/latin1.py": "# Gr\xfc\xdfe: caf\xe9\n# TODO: handle caf\xe9 orders\ndef f():\n    return 1\n".encode("latin-1"),
        "enc/invalid.proto": proto("enc.invalid").encode() + b"// \xff\xfe\xc3\x28 broken\nmessage After { string x = 1; }\n",
        "enc/mixed.sql": "-- caf\xe9\n".encode("latin-1") + "CREATE TABLE caf\u00e9s (id int PRIMARY KEY, name text);\n".encode(),
        # line endings and BOM
        "eol/crlf.proto": proto("eol.crlf").replace("\n", "\r\n"),
        "eol/cr.proto": proto("eol.cr").replace("\n", "\r"),
        "eol/bom.proto": "\ufeff" + proto("eol.bom"),
        "eol/bom_crlf.graphql": "\ufefftype Query {\r\n  orders: [Order]\r\n}\r\ntype Order {\r\n  id: ID!\r\n}\r\n",
        # a 1 MB single line, in three formats
        "long/line.py": "X = '" + "a" * 1_000_000 + "'  # TODO: long\n",
        "long/line.proto": 'syntax = "proto3"; package long.line; message L { string a = 1; } // ' + "x" * 1_000_000 + "\n",
        "long/line.yaml": "openapi: 3.0.0\ninfo: {title: long, version: '1'}\npaths: {}\nx-blob: '" + "y" * 1_000_000 + "'\n",
        # deep nesting and an alias bomb
        "deep/api.json": '{"openapi": "3.0.0", "info": {"title": "deep", "version": "1"}, "paths": {}, "components": '
                         '{"schemas": {"A": ' + '{"properties": {"a": ' * DEEP + "{}" + "}}" * DEEP + "}}}",
        "deep/api.yaml": "openapi: 3.0.0\ninfo: {title: deep, version: '1'}\npaths:\n  /a:\n    get:\n      x: "
                         + "[" * DEEP + "]" * DEEP + "\n      responses: {'200': {description: ok}}\n",
        "deep/bomb.yaml": big,
        # malformed contracts
        "bad/broken.proto": 'syntax = "proto3";\npackage bad.broken;\nmessage Ok { string a = 1; }\nmessage M { string a = ; \nservice {{{\n',
        "bad/openapi.yaml": "openapi: 3.0.0\ninfo: {title: bad, version: '1'}\npaths:\n  /x:\n    get: [unclosed\n",
        "bad/schema.graphql": "type Query { a: String\n  b(: Int }\n}}}\n",
        "bad/schema.sql": "CREATE TABLE t (id int,, PRIMARY KEY (;\nSELECT FROM WHERE;\n",
        # non-ASCII and spaces in paths, astral characters before an identifier
        "contracts/über api/cart v1.proto": proto("uber.cart.v1", "/* 😀 Ünïcödé */ message Emoji { string a = 1; }\n"),
        # good files beside them
        "good/one.proto": proto("good.one", f"// NOTE: {POSITIVE}\n"),
        "good/two.graphql": "type Query {\n  carts: [Cart]\n}\ntype Cart {\n  id: ID!\n}\n",
        "good/three.sql": "CREATE TABLE orders (id int PRIMARY KEY, total bigint);\n",
        **{name: f"{CANARY}\nPASSWORD={CANARY}\n" for name in SECRETS},
        # secrets inside files Lore does read: env values and Secret data must not become facts
        "deploy/k8s/prod-secrets.yaml": K8S_WITH_SECRETS,
        "deploy/docker-compose.yml": COMPOSE_WITH_SECRETS,
    }


def lore(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lore", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          encoding="utf-8", env={**os.environ, **STRICT})
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc


class World:
    def __init__(self, root: Path, cache: Path, report: dict[str, Any], graph: dict[str, Any], stderr: str):
        self.root, self.cache, self.report, self.graph, self.stderr = root, cache, report, graph, stderr

    def repo(self, name: str) -> dict[str, Any]:
        return next(r for r in self.report["repos"] if r["name"] == name)

    def failed(self, path: str) -> str:
        hits = [f["reason"] for f in self.report["files"]["failed"] if f["path"] == path]
        assert hits, f"{path}: no per-file message in {self.report['files']['failed']}"
        return hits[0]

    def ids(self, repo: str | None = None, path: str | None = None) -> set[str]:
        return {e["id"] for e in self.graph["entities"] if (repo is None or e["repo"] == repo) and (path is None or e["path"] == path)}

    def entity(self, ident: str) -> dict[str, Any]:
        return next(e for e in self.graph["entities"] if e["id"] == ident)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world") / "ws"
    files = bad_inputs()
    files["too/large.proto"] = "// " + "z" * 2_100_000 + "\n"
    inputs = GitRepo(root / "inputs")
    inputs.write(files)
    # File names git stores as bytes: Latin-1 (not UTF-8), and one carrying a terminal escape sequence.
    (inputs.path / "names").mkdir()
    with open(os.fsencode(inputs.path / "names") + b"/caf\xe9.proto", "wb") as fh:
        fh.write(proto("names.latin1").encode())
    (inputs.path / "names" / ESC_NAME).write_text(proto("names.esc"))
    inputs.commit("inputs")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.proto").write_text(proto("outside.secret", f"// {CANARY}\n"))
    (inputs.path / "links").mkdir()
    os.symlink("loop_b.proto", inputs.path / "links" / "loop_a.proto")
    os.symlink("loop_a.proto", inputs.path / "links" / "loop_b.proto")
    os.symlink(outside / "secret.proto", inputs.path / "links" / "escape.proto")
    os.symlink("../../outside", inputs.path / "links" / "escape_dir")
    os.symlink("..", inputs.path / "links" / "up")
    inputs.commit("links")

    lib = GitRepo(root / "lib")
    lib.commit("lib", {"lib.proto": proto("lib.v1")})
    main = GitRepo(root / "main")
    main.commit("main", {"main.proto": proto("main.v1")})
    main.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "deps/lib.proto")
    main.commit("add submodule")
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{main.path}", str(root / "shallow")], check=True,
                   capture_output=True)
    GitRepo(root / "empty")
    GitRepo(root / "nocommit").write({"x.proto": proto("nocommit.v1")})
    det = GitRepo(root / "detached")
    det.commit("one", {"d.proto": proto("detached.one")})
    det.commit("two", {"e.proto": proto("detached.two")})
    det.git("checkout", "-q", "--detach", "HEAD~1")
    (root / "plain").mkdir()
    (root / "plain" / "p.proto").write_text(proto("plain.v1"))
    (root / "sibling").mkdir()  # next to the configured repos, not listed: never read
    (root / "sibling" / "s.proto").write_text(proto("sibling.v1", f"// {CANARY}\n"))
    GitRepo(root / "sibling_repo").commit("s", {"s.proto": proto("siblingrepo.v1", f"// {CANARY}\n")})
    # A [[repo]] path that does not exist stops a command-line run (exit 2, test_cli_bad_input.py): the
    # server's side of it, indexing the rest, is test_missing_folder_is_a_message_to_the_engine below.
    names = ["inputs", "lib", "main", "shallow", "empty", "nocommit", "detached", "plain"]
    (root / "lore.toml").write_text("".join(f'[[repo]]\nname = "{n}"\npath = "{n}"\n' for n in names))

    cache = root.parent / "cache"
    cache.mkdir(mode=0o755)
    os.chmod(cache, 0o755)
    proc = lore("index", str(root), "--json", "--cache", str(cache))
    report = json.loads(proc.stdout)
    graph = json.loads(lore("graph", str(root), "--json", "--cache", str(cache)).stdout)
    return World(root, cache, report, graph, proc.stderr)


# -- the run as a whole ------------------------------------------------------------------------------

def test_run_completes_and_good_files_are_intact(world: World) -> None:
    assert "Traceback" not in world.stderr
    for pkg in ("good.one", "uber.cart.v1", "eol.crlf", "eol.cr", "eol.bom", "enc.invalid", "lib.v1", "main.v1",
                "nocommit.v1", "detached.one"):
        assert good_ids(pkg) <= world.ids(), pkg
    assert {"graphql:Query.carts", "graphql:Cart.id"} <= world.ids(path="good/two.graphql")
    assert {"sql:orders.id", "sql:orders.total"} <= world.ids(path="good/three.sql")
    failed_paths = {f["path"] for f in world.report["files"]["failed"]}
    assert not {p for p in failed_paths if p.startswith(("good/", "eol/", "contracts/"))}, failed_paths


# -- 1. binary, size, encodings --------------------------------------------------------------------------

def test_binary_and_too_large_are_clean_skips(world: World) -> None:
    skipped = world.report["files"]["skipped"]
    assert skipped["binary"] == 4  # bin/blob.{proto,go,py,yaml}
    assert skipped["too_large"] == 1
    assert not world.ids(path="too/large.proto")
    assert not [e for e in world.graph["entities"] if e["path"].startswith("bin/")]


def test_invalid_utf8_and_latin1(world: World) -> None:
    # Undecodable bytes in a comment do not cost the declarations around them.
    assert {"proto:enc.invalid.Req.id", "proto:enc.invalid.After.x"} <= world.ids(path="enc/invalid.proto")
    after = world.entity("proto:enc.invalid.After")
    assert (after["range"]["start_line"], after["range"]["start_col"]) == (13, 8)
    assert {"sql:cafés.id", "sql:cafés.name"} <= world.ids(path="enc/mixed.sql")


def _lines(text: str) -> list[str]:
    """Lines as LSP counts them: CRLF, CR and LF all end a line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _text_at(lines: list[str], rng: dict[str, int]) -> str:
    assert rng["start_line"] == rng["end_line"]
    line = lines[rng["start_line"]]
    # UTF-16 columns -> code points
    def cp(col: int) -> int:
        units = 0
        for i, ch in enumerate(line):
            if units >= col:
                return i
            units += utf16_len(ch)
        return len(line)
    return line[cp(rng["start_col"]):cp(rng["end_col"])]


@pytest.mark.parametrize("path", ["eol/crlf.proto", "eol/cr.proto", "eol/bom.proto", "eol/bom_crlf.graphql",
                                  "contracts/über api/cart v1.proto", "good/one.proto"])
def test_positions_match_the_text(world: World, path: str) -> None:
    text = (world.root / "inputs" / path).read_bytes().decode("utf-8").removeprefix("\ufeff")
    lines = _lines(text)
    ents = [e for e in world.graph["entities"] if e["path"] == path]
    assert len(ents) >= 4, ents
    for e in ents:
        if e["kind"] in ("proto.package", "proto.file"):
            continue
        assert _text_at(lines, e["range"]) == e["name"], (path, e["id"], e["range"])


def test_astral_characters_count_two_utf16_units(world: World) -> None:
    emoji = world.entity("proto:uber.cart.v1.Emoji")
    line = "/* 😀 Ünïcödé */ message Emoji { string a = 1; }"
    assert emoji["range"]["start_col"] == utf16_len(line[: line.index("Emoji")]) == line.index("Emoji") + 1


# -- 1. long lines, deep nesting, alias bombs, malformed contracts -----------------------------------

def test_one_megabyte_lines(world: World) -> None:
    assert "proto:long.line.L.a" in world.ids(path="long/line.proto")
    indexed = {f["path"] for f in world.report["files"]["failed"]}
    assert "long/line.py" not in indexed and "long/line.proto" not in indexed


def test_deep_nesting_is_cut_with_a_message(world: World) -> None:
    assert "nest" in world.failed("deep/api.json").lower()
    assert "nest" in world.failed("deep/api.yaml").lower()


def test_alias_bomb_is_not_expanded(world: World) -> None:
    reason = world.failed("deep/bomb.yaml")
    assert "alias" in reason.lower() and "not expanded" in reason


@pytest.mark.parametrize("path,line,keep", [
    ("bad/broken.proto", 4, "proto:bad.broken.Ok.a"),
    ("bad/schema.graphql", 2, None),
    ("bad/schema.sql", 1, None),
    ("bad/openapi.yaml", None, None),
])
def test_malformed_contracts_name_file_and_line(world: World, path: str, line: int | None, keep: str | None) -> None:
    reason = world.failed(path)
    assert "syntax" in reason.lower() or "unclosed" in reason.lower() or "must be" in reason.lower(), reason
    if line is not None:
        assert reason.startswith(f"line {line}:"), reason
    if keep is not None:
        assert keep in world.ids(path=path)  # what parsed before the error is kept


def test_yaml_syntax_error_line_is_the_broken_line(world: World) -> None:
    assert world.failed("bad/openapi.yaml").startswith("line 5:")


# -- 1. links, submodules, odd repositories ------------------------------------------------------------

def test_symlinks_are_never_followed(world: World) -> None:
    assert world.report["files"]["skipped"]["symlink"] == 3  # loop_a.proto, loop_b.proto, escape.proto
    assert "proto:outside.secret.Req.id" not in world.ids()


def test_submodule_is_skipped_in_its_parent(world: World) -> None:
    assert world.report["files"]["skipped"]["submodule"] >= 2  # main and its shallow clone
    assert {e["repo"] for e in world.graph["entities"] if e["id"].startswith("proto:lib.v1")} == {"lib"}


def test_shallow_clone(world: World) -> None:
    info = world.repo("shallow")
    assert info.get("shallow") is True and info["head"] == world.repo("main")["head"]
    assert good_ids("main.v1") <= world.ids(repo="shallow")
    assert info["commits"] == 1


def test_empty_repo_no_commits_detached_head(world: World) -> None:
    empty = world.repo("empty")
    assert empty["head"] is None and empty["files"] == 0 and "error" not in empty
    nocommit = world.repo("nocommit")
    assert nocommit["head"] is None and "error" not in nocommit
    assert good_ids("nocommit.v1") <= world.ids(repo="nocommit")  # untracked files are read
    detached = world.repo("detached")
    assert detached["head"] and detached["commits"] == 1
    assert good_ids("detached.one") <= world.ids(repo="detached")
    assert not world.ids(path="e.proto")  # the checkout is the detached commit's


def test_not_a_repo_is_a_message(world: World) -> None:
    assert "error" in world.repo("plain")
    msgs = world.report["messages"]
    assert any(m.startswith("plain: not a readable git repository") for m in msgs), msgs
    assert not world.ids(repo="plain")


def test_missing_folder_is_a_message_to_the_engine(world: World, tmp_path: Path) -> None:
    """What the server does with a lore.toml naming a folder that is gone: index the rest, say which."""
    from indexers.engine import Engine
    from indexers.store import Store
    from indexers.workspace import discover

    (tmp_path / "lore.toml").write_text(f'[[repo]]\nname = "lib"\npath = "{world.root / "lib"}"\n'
                                        '[[repo]]\nname = "missing"\npath = "missing"\n')
    snap, report = Engine(discover(tmp_path), Store(tmp_path / "cache")).refresh()
    assert good_ids("lib.v1") <= set(snap.entities)
    assert any(m.startswith("missing: ") and "no such folder" in m for m in report.messages), report.messages


def test_file_names_that_are_not_utf8_or_carry_escapes(world: World) -> None:
    assert world.report["files"]["skipped"]["undecodable_name"] == 1  # names/caf\xe9.proto
    assert not world.ids(path="names/caf\udce9.proto")
    assert good_ids("names.esc") <= world.ids(path=f"names/{ESC_NAME}")  # readable name, odd characters
    target = world.root / "inputs" / "names" / ESC_NAME
    out = lore("context", f"{target}:5", "--cache", str(world.cache)).stdout
    assert "proto:names.esc.Svc.Get" in out and "\x1b" not in out and "\x07" not in out


def test_context_on_a_path_with_spaces_and_non_ascii(world: World) -> None:
    target = world.root / "inputs" / "contracts" / "über api" / "cart v1.proto"
    doc = json.loads(lore("context", f"{target}:5:9", "--json", "--cache", str(world.cache)).stdout)
    assert doc["path"] == "contracts/über api/cart v1.proto"
    assert doc["entity_ids"] == ["proto:uber.cart.v1.Svc.Get"]


# -- 5. secrets and roots ------------------------------------------------------------------------------

def _cache_bytes(cache: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file())


def test_secrets_and_unlisted_folders_never_reach_the_cache(world: World) -> None:
    data = _cache_bytes(world.cache)
    assert POSITIVE.encode() in data, "the scan must see indexed text (positive control)"
    assert CANARY.encode() not in data
    assert world.report["files"]["skipped"]["secret"] == len(SECRETS)
    # the manifests holding secrets were read (a compose and a kubernetes service declaration: the only
    # service sources in the workspace), their secret values were not kept
    assert world.report["facts"]["service_decl"] == 2
    assert not world.ids(path="s.proto") and "proto:sibling.v1.Req.id" not in world.ids()


def test_cache_folder_is_private(world: World) -> None:
    assert world.cache.stat().st_mode & 0o777 == 0o700  # tightened even though it existed as 0755
    for p in world.cache.iterdir():
        if p.is_dir():
            assert p.stat().st_mode & 0o777 == 0o700, p
