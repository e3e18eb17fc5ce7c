"""Running the `lore` command as a user does, in a subprocess, with a cache of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "lore"]


def lore(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`lore ARGS` with its cache under `tmp_path`; a non-zero exit fails the test unless `check` is False."""
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LORE_CACHE": str(tmp_path / "cache")})
    if check and proc.returncode != 0:
        raise AssertionError(f"lore {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc
