#!/usr/bin/env bash
# Headless Neovim test of editors/neovim against `lore serve` on the example system.
# Usage: tests/editors/run_nvim.sh [ARTIFACTS_DIR]
#   env: NVIM, LORE_PYTHON (defaults from the venv); LORE_NVIM_LEGACY=1 for the 0.8-0.10 route
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ART="$(mkdir -p "${1:-$ROOT/test-artifacts/editors}" && cd "${1:-$ROOT/test-artifacts/editors}" && pwd)"
PY="${LORE_PYTHON:-$ROOT/.venv/bin/python}"
NVIM="${NVIM:-$(dirname "$PY")/nvim}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lore-nvim-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$PY" "$ROOT/examples/materialize.py" "$WORK/example" --force >/dev/null
# Everything Neovim and the server write stays in $WORK (no ~/.cache, ~/.local/state).
export XDG_CACHE_HOME="$WORK/xdg/cache" XDG_STATE_HOME="$WORK/xdg/state" XDG_DATA_HOME="$WORK/xdg/data" \
  XDG_CONFIG_HOME="$WORK/xdg/config" LORE_CACHE="$WORK/cache"
export LORE_EXAMPLE="$WORK/example" LORE_PLUGIN="$ROOT/editors/neovim" LORE_PYTHON="$PY" LORE_OUT="$ART/nvim_result${LORE_NVIM_LEGACY:+_legacy}.json"
rm -f "$LORE_OUT"
rc=0
timeout 120 "$NVIM" --headless --clean -n -c "luafile $ROOT/tests/editors/nvim_test.lua" </dev/null || rc=$?
cp "$XDG_STATE_HOME/nvim/lsp.log" "$ART/nvim_lsp${LORE_NVIM_LEGACY:+_legacy}.log" 2>/dev/null || true
cat "$LORE_OUT" 2>/dev/null || echo '{"ok": false, "error": "no result written"}'
echo
exit $rc
