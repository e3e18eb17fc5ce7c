"""`lore graph --format dot|mermaid|html`: exact text on the example system through the CLI, checked by
the real tools (Graphviz's `dot`, `mmdc` from @mermaid-js/mermaid-cli driving Debian's chromium) where
tests/editors/install.sh installed them; escaping of hostile repository text in every format; the
usage errors; and the committed graph library against the npm lock.

Without the tools the tool checks skip with the reason, unless LORE_REQUIRE_EDITORS=1 (CI)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lore.map.dot import render_dot
from lore.map.html import render_html, script_json
from lore.map.mermaid import render_mermaid, text
from tests.map_facts import HOSTILE, hostile_map

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(os.environ.get("LORE_EDITOR_TOOLS")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lore" / "editor-tools")
REQUIRED = os.environ.get("LORE_REQUIRE_EDITORS") == "1"
MMDC = TOOLS / "mmdc" / "node_modules" / ".bin" / "mmdc"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

DOT = """\
// The system map from `lore graph --format dot`: services, and contracts from provider to consumer.
digraph "lore" {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.4, ranksep=0.9];
  node [shape=box, style="rounded,filled", fillcolor="#f7fafc", color="#4a5568", fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];
  subgraph "cluster_1" {
    label="repo: cart-service"; style="rounded"; color="#cbd5e0"; fontcolor="#4a5568";
    "service:cart-service:cart-service" [label="cart-service\\nteam-cart"];
  }
  subgraph "cluster_2" {
    label="repo: checkout-service"; style="rounded"; color="#cbd5e0"; fontcolor="#4a5568";
    "service:checkout-service:checkout-service" [label="checkout-service\\nteam-checkout"];
  }
  subgraph "cluster_3" {
    label="repo: storefront"; style="rounded"; color="#cbd5e0"; fontcolor="#4a5568";
    "service:storefront:storefront" [label="storefront\\nteam-web"];
  }
  "service:cart-service:cart-service" -> "service:checkout-service:checkout-service" [label="shop.cart.v1 (grpc, 6) [deprecated]", color="#2b6cb0", fontcolor="#2b6cb0", style=dashed];
  "service:cart-service:cart-service" -> "service:storefront:storefront" [label="shop.cart.v1 (grpc, 5)", color="#2b6cb0", fontcolor="#2b6cb0"];
  "service:checkout-service:checkout-service" -> "service:storefront:storefront" [label="Checkout API (http, 2)", color="#2f855a", fontcolor="#2f855a"];
}
"""

MERMAID = """\
%% The system map from `lore graph --format mermaid`: services, and contracts from provider to consumer.
flowchart LR
  subgraph g1["repo: cart-service"]
    direction LR
    n1["cart-service<br>team-cart"]
  end
  subgraph g2["repo: checkout-service"]
    direction LR
    n2["checkout-service<br>team-checkout"]
  end
  subgraph g3["repo: storefront"]
    direction LR
    n3["storefront<br>team-web"]
  end
  n1 -->|"shop.cart.v1 (grpc, 6) [deprecated]"| n2
  n1 -->|"shop.cart.v1 (grpc, 5)"| n3
  n2 -->|"Checkout API (http, 2)"| n3
  linkStyle 0 stroke:#2b6cb0,color:#2b6cb0,stroke-dasharray:6 4
  linkStyle 1 stroke:#2b6cb0,color:#2b6cb0
  linkStyle 2 stroke:#2f855a,color:#2f855a
  classDef service fill:#f7fafc,stroke:#4a5568
  classDef repo fill:#ffffff,stroke:#a0aec0,stroke-dasharray:4 3
  class n1,n2,n3 service
"""


def _missing(what: str) -> None:
    message = f"{what}; run tests/editors/install.sh"
    if REQUIRED:
        pytest.fail(f"LORE_REQUIRE_EDITORS=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("shop")
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(base / "shop")], check=True,
                   capture_output=True)
    return base / "shop", {**os.environ, "LORE_CACHE": str(base / "cache")}


def lore(shop: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess[str]:
    path, env = shop
    return subprocess.run([sys.executable, "-m", "lore", "graph", str(path), *args], capture_output=True, text=True,
                          env=env, cwd=path.parent, timeout=300)


# -- exact text through the CLI ----------------------------------------------------------------------

def test_dot_exactly(shop: tuple[Path, dict[str, str]]) -> None:
    out = lore(shop, "--format", "dot")
    assert out.returncode == 0, out.stderr
    assert out.stdout == DOT


def test_mermaid_exactly(shop: tuple[Path, dict[str, str]]) -> None:
    out = lore(shop, "--format", "mermaid")
    assert out.returncode == 0, out.stderr
    assert out.stdout == MERMAID


def test_focus_depth_and_grouping(shop: tuple[Path, dict[str, str]]) -> None:
    out = lore(shop, "--format", "dot", "--focus", "storefront", "--depth", "0")
    assert out.returncode == 0, out.stderr
    assert '"service:storefront:storefront" [label="storefront\\nteam-web", penwidth=2.5];' in out.stdout
    assert "->" not in out.stdout and "cart-service" not in out.stdout
    out = lore(shop, "--format", "mermaid", "--group-by", "owner", "--focus", "checkout-service")
    assert out.returncode == 0, out.stderr
    assert 'subgraph g1["owner: team-cart"]' in out.stdout and "  style n2 stroke-width:3px" in out.stdout


def test_json_is_unchanged_and_default_for_json(shop: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    a, b = lore(shop, "--json"), lore(shop, "--format", "json", "--output", str(tmp_path / "g.json"))
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    doc = json.loads(a.stdout)
    assert {"entities", "services", "links", "conflicts"} <= set(doc)
    assert json.loads((tmp_path / "g.json").read_text()) == doc
    text_out = lore(shop)
    assert text_out.stdout.startswith("35 entity declarations, 3 services, 58 links\n")


def test_html_output_file(shop: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out = lore(shop, "--format", "html", "--output", str(tmp_path / "map.html"), "--links", "vscode")
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stderr
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="lore-map-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    assert [n["name"] for n in data["nodes"]] == ["cart-service", "checkout-service", "storefront"]
    assert data["links"] == "vscode" and data["repos"]["storefront"].endswith("/storefront")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|https?://(?!www\.w3\.org)", page.split("lore-map-data")[0])


def test_breaking_marks_the_links_a_working_tree_change_breaks(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(shop)], check=True, capture_output=True)
    proto = shop / "contracts/proto/shop/cart/v1/cart.proto"
    proto.write_text(proto.read_text().replace("  rpc GetCart(GetCartRequest) returns (Cart);\n", ""))
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "lore", "graph", str(shop), "--format", "dot", "--breaking"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    edges = {line.split(" [")[0].strip(): line for line in out.stdout.splitlines() if " -> " in line}
    to_checkout = edges['"service:cart-service:cart-service" -> "service:checkout-service:checkout-service"']
    to_storefront = edges['"service:cart-service:cart-service" -> "service:storefront:storefront"']
    for line in (to_checkout, to_storefront):
        assert "breaking" in line and 'color="#c53030"' in line, line
    assert "breaking" not in edges['"service:checkout-service:checkout-service" -> "service:storefront:storefront"']
    plain = subprocess.run([sys.executable, "-m", "lore", "graph", str(shop), "--format", "dot"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert "breaking" not in plain.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--breaking"], "--breaking and --base apply to --format dot, mermaid and html"),
    (["--format", "dot", "--base", "main"], "--base needs --breaking"),
    (["--format", "dot", "--breaking", "--base", "no-such-ref"], "--breaking: "),
    (["--focus", "nope", "--format", "dot"], "--focus 'nope': no such service"),
    (["--depth", "2", "--format", "html"], "--depth needs --focus SERVICE"),
    (["--json", "--format", "dot"], "--json and --format dot disagree"),
    (["--focus", "storefront"], "--focus and --depth apply to --format dot, mermaid and html"),
    (["--format", "html", "--links", "javascript:alert(1)//{path}"], "expected file, vscode, none or an http(s) URL template"),
])
def test_usage_errors(shop: tuple[Path, dict[str, str]], args: list[str], message: str) -> None:
    out = lore(shop, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr and "Traceback" not in out.stderr


# -- the real tools ------------------------------------------------------------------------------------

def test_graphviz_reads_the_dot(shop: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    dot = shutil.which("dot")
    if not dot:
        _missing("Graphviz `dot` not found (Debian package graphviz)")
    (tmp_path / "one.dot").write_text(DOT, encoding="utf-8")
    out = subprocess.run([str(dot), "-Tsvg", str(tmp_path / "one.dot")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr
    titles = [html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", out.stdout)]
    assert {"service:cart-service:cart-service", "service:checkout-service:checkout-service",
            "service:storefront:storefront"} <= set(titles)
    assert sum("->" in t for t in titles) == 3  # three edges
    assert "shop.cart.v1 (grpc, 6) [deprecated]" in out.stdout
    # hostile names are one node each, drawn as text
    (tmp_path / "evil.dot").write_text(render_dot(hostile_map()), encoding="utf-8")
    out = subprocess.run([str(dot), "-Tsvg", str(tmp_path / "evil.dot")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr
    assert len(re.findall(r'<g id="node\d+" class="node">', out.stdout)) == 2
    assert "<script" not in out.stdout and "window.__pwned" in out.stdout  # as escaped text


def _mmdc(src: Path, out: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not MMDC.exists() or not CHROMIUM.is_file():
        _missing(f"mmdc (@mermaid-js/mermaid-cli in {MMDC.parent.parent.parent}) or {CHROMIUM} missing")
    conf = tmp_path / "puppeteer.json"
    conf.write_text(json.dumps({"executablePath": str(CHROMIUM),
                                "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}))
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    return subprocess.run([str(MMDC), "-q", "-p", str(conf), "-i", str(src), "-o", str(out)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_mermaid_cli_renders_the_mermaid(tmp_path: Path) -> None:
    (tmp_path / "shop.mmd").write_text(MERMAID, encoding="utf-8")
    (tmp_path / "evil.mmd").write_text(render_mermaid(hostile_map()), encoding="utf-8")
    for name in ("shop", "evil"):
        out = _mmdc(tmp_path / f"{name}.mmd", tmp_path / f"{name}.svg", tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
    svg = (tmp_path / "shop.svg").read_text(encoding="utf-8")
    for label in ("cart-service", "checkout-service", "storefront", "shop.cart.v1 (grpc, 6) [deprecated]", "Checkout API (http, 2)"):
        assert label in svg, label
    assert len(re.findall(r'class="node default[^"]*"', svg)) == 3
    assert len(re.findall(r"<path[^>]*class=\"[^\"]*flowchart-link", svg)) == 3
    evil = (tmp_path / "evil.svg").read_text(encoding="utf-8")
    assert not re.search(r"<(script|img)\b", evil)  # no element from the names: they are text
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1" in evil


# -- escaping, unit level -------------------------------------------------------------------------------

def test_escaping_in_each_format() -> None:
    m = hostile_map()
    dot = render_dot(m)
    assert '\\\\N' in dot and '\\"];' in dot  # backslash and quote escaped
    for line in dot.splitlines()[5:-1]:
        assert line.count('"') % 2 == 0 or '\\"' in line
    mer = render_mermaid(m)
    assert "<" not in mer.replace("<br>", "") and "|" not in mer.replace('-->|"', "").replace('"|', "")
    assert text('a"b<c>#;`|') == "a#34;b#60;c#62;#35;#59;#96;#124;"
    page = render_html(m)
    body = page.split('id="lore-map-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body)["nodes"][0]["name"] == HOSTILE
    assert script_json({"a": "</script>\u2028"}) == '{"a":"\\u003c/script\\u003e\\u2028"}'
    assert page.count("<script") == 6  # the data block, four library files, the page script
    nonce = re.search(r"script-src 'nonce-([^']+)'", page)[1]  # type: ignore[index]
    assert page.count(f'<script nonce="{nonce}">') == 5


# -- the committed graph library -----------------------------------------------------------------------

def test_vendored_library_matches_the_lock() -> None:
    web, vendor = ROOT / "lore" / "map" / "web", ROOT / "lore" / "map" / "assets" / "vendor"
    lock = json.loads((web / "package-lock.json").read_text())
    manifest = json.loads((vendor / "vendor.json").read_text())
    pinned = json.loads((web / "package.json").read_text())["dependencies"]
    assert {f["name"]: f["version"] for f in manifest["files"]} == pinned
    for f in manifest["files"]:
        assert lock["packages"][f"node_modules/{f['name']}"]["version"] == f["version"]
        assert hashlib.sha256((vendor / f["file"]).read_bytes()).hexdigest() == f["sha256"], f["file"]
        assert hashlib.sha256((vendor / f["license_file"]).read_bytes()).hexdigest() == f["license_sha256"]
        assert "MIT" in (vendor / f["license_file"]).read_text() or "Permission is hereby granted" in (vendor / f["license_file"]).read_text()
    if not (web / "node_modules" / ".lore-installed").exists() or not shutil.which("node"):
        _missing("lore/map/web/node_modules not installed (npm ci from the lock)")
    out = subprocess.run(["node", str(web / "build.mjs"), "--check"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_mermaid_says_when_it_exceeds_mermaids_edge_limit() -> None:
    from benchmarks.gen_map import generate_snapshot
    from lore.query.system_map import build_map

    big = render_mermaid(build_map(generate_snapshot(30, 600)))
    assert big.splitlines()[1].startswith("%% 600 links: Mermaid draws at most 500")
    assert "Mermaid draws at most" not in MERMAID
