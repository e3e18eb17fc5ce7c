# Sourced by scripts/demo and scripts/test: make sure .venv exists with Lore and its test tools installed.
# Everything comes from the package registry; nothing needs installing by hand.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LORE_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "lore: Python >= 3.11 is required (found: $("$PY" --version 2>&1))" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.lore-installed"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  echo "lore: installing into $VENV (log: $VENV/install.log)" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >"$VENV/install.log" 2>&1 || true
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$ROOT[test,bench,mcp]" >>"$VENV/install.log" 2>&1; then
    tail -n 40 "$VENV/install.log" >&2
    echo "lore: installation failed (full log: $VENV/install.log)" >&2
    exit 1
  fi
  touch "$STAMP"
fi
# Lore's own modules compiled to bytecode, as an installed package has them: an editable install leaves
# the source tree uncompiled, and where PYTHONDONTWRITEBYTECODE is set every command would compile them
# again (about 0.1 s a process). Only what changed is compiled.
"$VENV/bin/python" -m compileall -q -j 0 "$ROOT/indexers" "$ROOT/lore" "$ROOT/lsp_server" >/dev/null 2>&1 || true
export PATH="$VENV/bin:$PATH"
