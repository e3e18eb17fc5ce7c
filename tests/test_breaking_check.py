"""`lore check` end to end on a small real system: a contracts repo and a consumer whose code calls the
rpcs (links come from indexers/sources/code/extract.py), through the engine, git baselines and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from indexers.engine import Engine
from indexers.store import Store
from indexers.workspace import discover
from lore.check.compare import check_repo
from lore.check.findings import ERROR, WARNING
from lore.check.suppress import parse_config
from lore.cli.check import check
from lore.cli.main import main
from tests.gitrepo import GitRepo

FIXTURES = Path(__file__).parent / "fixtures" / "breaking"

CART_PROTO = """syntax = "proto3";
package shop.cart.v1;

message GetCartRequest {
  string user_id = 1;
  int32 page = 2;
}
message Cart { string id = 1; }

service CartService {
  rpc GetCart(GetCartRequest) returns (Cart);
  rpc EmptyCart(GetCartRequest) returns (Cart);
  rpc Audit(GetCartRequest) returns (Cart);
}
"""

CHECKOUT_PY = """from shop.cart.v1 import cart_pb2
from shop.cart.v1 import cart_pb2_grpc as carts


class Checkout:
    def __init__(self, channel):
        self.cart = carts.CartServiceStub(channel)

    def place(self, user_id):
        self.cart.EmptyCart(cart_pb2.GetCartRequest(user_id=user_id))
        return self.cart.GetCart(cart_pb2.GetCartRequest(user_id=user_id))
"""


@pytest.fixture
def system(tmp_path: Path) -> dict[str, object]:
    contracts = GitRepo(tmp_path / "ws" / "contracts")
    contracts.commit("cart api", {"proto/cart.proto": CART_PROTO})
    consumer = GitRepo(tmp_path / "ws" / "checkout")
    consumer.commit("checkout", {"checkout.py": CHECKOUT_PY})
    (tmp_path / "ws" / "lore.toml").write_text('[[repo]]\npath = "contracts"\n\n[[repo]]\npath = "checkout"\n')
    return {"root": tmp_path / "ws", "contracts": contracts, "consumer": consumer, "cache": tmp_path / "cache"}


def _edit(system: dict[str, object], text: str, path: str = "proto/cart.proto") -> None:
    repo = system["contracts"]
    assert isinstance(repo, GitRepo)
    repo.write({path: text})


def _run(system: dict[str, object], *args: str) -> tuple[int, str]:
    if "check" not in main.commands:
        main.add_command(check)
    res = CliRunner().invoke(main, ["check", str(system["root"]), "--cache", str(system["cache"]), *args])
    return res.exit_code, res.output


def _check(system: dict[str, object], base: str | None = None, head: str | None = None):  # type: ignore[no-untyped-def]
    ws = discover(system["root"])  # type: ignore[arg-type]
    snap, _ = Engine(ws, Store(system["cache"])).refresh()  # type: ignore[arg-type]
    spec = ws.repo("contracts")
    assert spec is not None
    return check_repo(snap, "contracts", spec.root, base=base, head=head, ignore=parse_config(ws.check))


def test_consumers_make_errors_and_unknown_consumers_warnings(system: dict[str, object]) -> None:
    _edit(system, CART_PROTO.replace("  rpc EmptyCart(GetCartRequest) returns (Cart);\n", "")
          .replace("  rpc Audit(GetCartRequest) returns (Cart);\n", "").replace("  string user_id = 1;\n", ""))
    res = _check(system)
    got = {(f.rule, f.entity, f.severity) for f in res.findings}
    assert got == {
        ("RPC_NO_DELETE", "proto:shop.cart.v1.CartService.EmptyCart", ERROR),
        ("RPC_NO_DELETE", "proto:shop.cart.v1.CartService.Audit", WARNING),
        ("FIELD_NO_DELETE", "proto:shop.cart.v1.GetCartRequest.user_id", ERROR),
    }
    empty = next(f for f in res.findings if f.entity.endswith("EmptyCart"))
    assert [(c.repo, c.path, c.line) for c in empty.consumers] == [("checkout", "checkout.py", 9)]
    assert empty.old is not None and empty.old.range.start_line == 11 and empty.new is None
    assert empty.at.path == "proto/cart.proto"


def test_unchanged_tree_exits_0(system: dict[str, object]) -> None:
    code, out = _run(system)
    assert code == 0, out
    assert "0 breaking change(s)" in out


def test_breaking_exits_1_and_text_names_consumers(system: dict[str, object]) -> None:
    _edit(system, CART_PROTO.replace("rpc EmptyCart(GetCartRequest) returns (Cart);", ""))
    code, out = _run(system)
    assert code == 1, out
    assert "RPC_NO_DELETE" in out and "checkout.py:10" in out and "fixes: deprecate, restore" in out


def test_usage_and_config_errors_exit_2(system: dict[str, object], tmp_path: Path) -> None:
    _edit(system, CART_PROTO.replace("rpc EmptyCart(GetCartRequest) returns (Cart);", ""))
    code, out = _run(system, "--base", "no-such-branch")
    assert code == 2 and "no-such-branch" in out
    code, _ = _run(system, "--format", "xml")
    assert code == 2
    toml = Path(str(system["root"])) / "lore.toml"
    toml.write_text(toml.read_text() + '\n[check]\nignore = [{rule = "RPC_NO_DELETE"}]\n')
    code, out = _run(system)
    assert code == 2 and "reason" in out


def test_sarif_validates_against_the_official_schema(system: dict[str, object], tmp_path: Path) -> None:
    _edit(system, CART_PROTO.replace("rpc EmptyCart(GetCartRequest) returns (Cart);", "")
          .replace("  int32 page = 2;\n", "  // lore:ignore FIELD_NO_DELETE nobody sets page\n  int32 page = 2;\n")
          .replace("rpc Audit(GetCartRequest) returns (Cart);", "rpc Audit(GetCartRequest) returns (stream Cart);"))
    out = tmp_path / "report.sarif"
    code, _ = _run(system, "--format", "sarif", "--output", str(out))
    assert code == 1
    doc = json.loads(out.read_text())
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert {(r["ruleId"], r["level"]) for r in results} == {("RPC_NO_DELETE", "error"), ("RPC_SAME_SERVER_STREAMING", "warning")}
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("contracts/proto/cart.proto") or loc["artifactLocation"]["uri"] == "contracts/proto/cart.proto"
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_github_annotations(system: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(system["root"]))
    _edit(system, CART_PROTO.replace("rpc EmptyCart(GetCartRequest) returns (Cart);", "")
          .replace("rpc Audit(GetCartRequest) returns (Cart);", ""))
    code, out = _run(system, "--format", "github")
    assert code == 1
    lines = sorted(out.strip().splitlines())
    assert lines[0].startswith("::error file=contracts/proto/cart.proto,line=10,title=lore%3A RPC_NO_DELETE::rpc "
                               "shop.cart.v1.CartService.EmptyCart was deleted%0AKnown consumers that would break:%0A- ")
    assert lines[1] == "::warning file=contracts/proto/cart.proto,line=10,title=lore%3A RPC_NO_DELETE::rpc shop.cart.v1.CartService.Audit was deleted"


def test_suppression_inline_in_base_and_in_config(system: dict[str, object]) -> None:
    repo = system["contracts"]
    assert isinstance(repo, GitRepo)
    repo.commit("mark", {"proto/cart.proto": CART_PROTO.replace(
        "  rpc Audit(", "  // lore:ignore RPC_NO_DELETE audit is internal\n  rpc Audit(")})
    _edit(system, CART_PROTO.replace("  rpc Audit(GetCartRequest) returns (Cart);\n", "")
          .replace("rpc EmptyCart(GetCartRequest) returns (Cart);", ""))
    repo.git("branch", "-f", "base", "HEAD")
    res = _check(system, base="base")
    by = {f.entity.rsplit(".", 1)[-1]: f for f in res.findings}
    assert by["Audit"].suppressed == "audit is internal" and by["Audit"].suppressed_by == "inline"
    assert not by["EmptyCart"].suppressed
    toml = Path(str(system["root"])) / "lore.toml"
    toml.write_text(toml.read_text() + '\n[check]\nignore = [{rule = "RPC_NO_DELETE", entity = "proto:shop.cart.v1.*.EmptyCart", '
                    'reason = "moved to v2"}]\n')
    code, out = _run(system, "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["breaking"] == 0
    assert sorted(f["suppressed_by"] for f in doc["results"][0]["findings"]) == ["config", "inline"]


def test_base_is_the_merge_base_with_main_and_head_ref(system: dict[str, object]) -> None:
    repo = system["contracts"]
    assert isinstance(repo, GitRepo)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("drop audit", {"proto/cart.proto": CART_PROTO.replace("  rpc Audit(GetCartRequest) returns (Cart);\n", "")})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", {"proto/cart.proto": CART_PROTO.replace("  int32 page = 2;\n", "  reserved 2;\n  reserved \"page\";\n")})
    repo.git("checkout", "-q", "feature")
    res = _check(system)  # default branch main: the fork point, so main's own change is not this branch's
    assert [f.rule for f in res.findings] == ["RPC_NO_DELETE"]
    repo.git("checkout", "-q", "main")
    res = _check(system, head="feature")
    assert [f.entity for f in res.findings] == ["proto:shop.cart.v1.CartService.Audit"]


def test_sql_migration_drop_and_rename(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "db")
    repo.commit("init", {"migrations/V1__init.sql": "CREATE TABLE users (id int PRIMARY KEY, name text, legacy int);\n"
                         "CREATE TABLE audit (id int);\n"})
    repo.write({"migrations/V2__cleanup.sql": "ALTER TABLE users DROP COLUMN legacy;\n"
                "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE audit RENAME TO audit_log;\n"})
    ws = discover(repo.path)
    snap, _ = Engine(ws, Store(tmp_path / "cache")).refresh()
    res = check_repo(snap, ws.repos[0].name, repo.path)
    got = [(f.rule, f.entity, f.at.path) for f in res.findings]
    assert sorted(got) == [
        ("SQL_COLUMN_DROPPED", "sql:users.legacy", "migrations/V1__init.sql"),
        ("SQL_COLUMN_RENAMED", "sql:users.name", "migrations/V2__cleanup.sql"),
        ("SQL_TABLE_RENAMED", "sql:audit", "migrations/V2__cleanup.sql"),
    ]


def test_real_cli_process(system: dict[str, object]) -> None:
    _edit(system, CART_PROTO.replace("rpc EmptyCart(GetCartRequest) returns (Cart);", ""))
    code = ("from lore.cli.main import main\nfrom lore.cli.check import check\n"
            "if 'check' not in main.commands:\n    main.add_command(check)\nmain()")
    proc = subprocess.run([sys.executable, "-c", code, "check", str(system["root"]), "--format", "json", "--cache",
                           str(system["cache"])], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["breaking"] == 1
