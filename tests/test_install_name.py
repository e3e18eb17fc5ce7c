"""The distribution Lore installs under is ours (`lore` on PyPI is an unrelated project), and every place
that tells a user or a CI job what to install names the same one: the README's install line, the editor
guides, the CI templates, and the messages the code prints for optional extras."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import lore

ROOT = Path(__file__).resolve().parent.parent
PIP = re.compile(r"pip install\s+(?:--?[\w-]+\s+)*[\"']?([A-Za-z0-9_.-]+)(\[[\w,-]+\])?[\"']?")


def distribution() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"])


def installs(text: str) -> list[str]:
    """The package names of the `pip install NAME` commands in a text (local paths like `.` skipped)."""
    return [m.group(1) for m in PIP.finditer(text) if m.group(1) not in (".", "-e")]


def test_the_distribution_name_is_ours_and_the_code_knows_it() -> None:
    assert distribution() == "lore-lsp" == lore.DISTRIBUTION
    assert lore.version()  # installed under that name: the version the CLI, SARIF and MCP report


def test_readme_editor_guides_and_ci_templates_install_the_same_thing() -> None:
    name = distribution()
    documents = [ROOT / "README.md", *sorted((ROOT / "editors").glob("*/README.md"))]
    for doc in documents:
        found = installs(doc.read_text())
        assert found, f"{doc.relative_to(ROOT)} has no pip install line"
        assert set(found) == {name}, f"{doc.relative_to(ROOT)} installs {found}, not {name}"
    for template in (ROOT / "ci").rglob("*.yml"):
        text = template.read_text()
        default = re.search(r"LORE_INSTALL:\s*\"([^\"]+)\"", text)
        assert default, f"{template.relative_to(ROOT)} has no LORE_INSTALL default"
        assert re.fullmatch(re.escape(name) + r"(\[[\w,-]+\])?", default.group(1)), default.group(1)
        assert 'pip install "$LORE_INSTALL"' in text


def test_messages_for_optional_extras_name_the_distribution() -> None:
    sources = [p for pkg in ("indexers", "lore", "lsp_server") for p in (ROOT / pkg).rglob("*.py")]
    for path in sources:
        for found in installs(path.read_text()):
            assert found == distribution(), f"{path.relative_to(ROOT)} says pip install {found}"
    extension = (ROOT / "editors/vscode/src").rglob("*.ts")
    for path in extension:
        for found in installs(path.read_text()):
            assert found == distribution(), f"{path.relative_to(ROOT)} says pip install {found}"


def test_version_option_reads_the_distribution() -> None:
    out = subprocess.run([sys.executable, "-m", "lore", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("lore, version ") and lore.version() in out.stdout
