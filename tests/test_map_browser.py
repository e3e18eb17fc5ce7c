"""The system map page in a real browser: `lore graph --format html` on the example system, opened from
disk in headless Chromium (Debian) with playwright-core (tests/editors/install.sh), checked by
tests/editors/map_test.js: every service and link drawn, search, focus on click, the side panel and its
links, no request leaving the page, no script error or CSP violation; a map whose names are script and
markup, which must stay text; and the map of the ops fixture system (tests/ops_system.py), whose
service panel lists its alerts, SLOs and pipelines with links. Screenshots land in test-artifacts/editors/ (map.png is the README's
picture: LORE_UPDATE_SCREENSHOT=1 copies it to docs/system-map.png).

Without the tools this skips with the reason, unless LORE_REQUIRE_EDITORS=1 (CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lore.map.html import render_html
from tests.map_facts import hostile_map
from tests.ops_system import build as build_ops_system

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "editors"
TOOLS = Path(os.environ.get("LORE_EDITOR_TOOLS")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lore" / "editor-tools")
REQUIRED = os.environ.get("LORE_REQUIRE_EDITORS") == "1"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

pytestmark = pytest.mark.editor


def test_map_page_in_chromium(tmp_path: Path) -> None:
    absent = [what for what, ok in {
        "node": shutil.which("node"), f"Debian chromium ({CHROMIUM})": CHROMIUM.is_file(),
        "playwright-core": (TOOLS / "pw/node_modules/playwright-core").is_dir()}.items() if not ok]
    if absent:
        message = f"missing for the map browser test: {', '.join(absent)}; run tests/editors/install.sh"
        if REQUIRED:
            pytest.fail(f"LORE_REQUIRE_EDITORS=1 but {message}")
        pytest.skip(message)
    subprocess.run([sys.executable, str(ROOT / "examples" / "materialize.py"), str(tmp_path / "shop")], check=True,
                   capture_output=True)
    env = {**os.environ, "LORE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "lore", "graph", str(tmp_path / "shop"), "--format", "html",
                          "--output", str(tmp_path / "shop.html")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    build_ops_system(tmp_path / "ops")
    out = subprocess.run([sys.executable, "-m", "lore", "graph", str(tmp_path / "ops"), "--format", "html",
                          "--output", str(tmp_path / "ops.html")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    (tmp_path / "evil.html").write_text(render_html(hostile_map()), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "map_result.json").unlink(missing_ok=True)
    (tmp_path / "home").mkdir()
    proc = subprocess.run(["node", str(ROOT / "tests" / "editors" / "map_test.js"), str(tmp_path / "shop.html"),
                           str(tmp_path / "evil.html"), str(tmp_path / "ops.html")],
                          env={**os.environ, "NODE_PATH": str(TOOLS / "pw" / "node_modules"), "CHROMIUM": str(CHROMIUM),
                               "ARTIFACTS": str(ARTIFACTS), "BROWSER_HOME": str(tmp_path / "home")},
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    print(proc.stdout[-4000:])
    print(proc.stderr[-4000:], file=sys.stderr)
    result = json.loads((ARTIFACTS / "map_result.json").read_text())
    failed = {k: v for k, v in result.get("checks", {}).items() if not v.get("ok")}
    assert proc.returncode == 0 and result.get("ok"), f"{result.get('error')} {failed}"
    assert {"every service and link is drawn inside the view", "search by owner lists and highlights the service",
            "Enter focuses the first match", "clicking a service focuses it and fills the side panel",
            "clicking a link shows its contracts, the deprecated rpc and links to files and lines",
            "offline and clean: no request but file:, no error, no CSP violation",
            "hostile names are shown as text and nothing of them runs",
            "a service's panel lists its alerts, SLOs and pipelines with links to files and lines",
            "the ops page is offline and clean too"} <= {k for k, v in result["checks"].items() if v["ok"]}
    drawn = result["drawn"]
    assert sorted(n["name"] for n in drawn["nodes"]) == ["cart-service", "checkout-service", "storefront"]
    assert sorted((e["source"], e["target"]) for e in drawn["edges"]) == [
        ("cart-service", "checkout-service"), ("cart-service", "storefront"), ("checkout-service", "storefront")]
    assert (ARTIFACTS / "map.png").stat().st_size > 20_000
    if os.environ.get("LORE_UPDATE_SCREENSHOT") == "1":
        shutil.copy(ARTIFACTS / "map.png", ROOT / "docs" / "system-map.png")
    print(f"map page: ready in {result['shop']['ready_ms']} ms; test {result['total_s']:.1f} s in the browser")
