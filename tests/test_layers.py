"""The house's layering (pyproject.toml, [tool.importlinter]) holds: a lower stage never imports a higher
one, only lsp_server imports pygls/lsprotocol, registration in lsp_server depends on the pieces."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"]


def test_layers_are_kept() -> None:
    proc = subprocess.run([*LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """The same kind of contract fails on a package where a lower layer imports a higher one."""
    pkg = tmp_path / "house"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "high.py").write_text("from house.low import thing\n")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "thing.py").write_text("import house.high\n")
    cfg = tmp_path / "layers.toml"
    cfg.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_packages = ["house"]
        [[tool.importlinter.contracts]]
        name = "high over low"
        type = "layers"
        containers = ["house"]
        layers = ["high", "low"]
    """))
    proc = subprocess.run([*LINT, "--config", str(cfg), "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "house.low.thing -> house.high" in proc.stdout
