#!/usr/bin/env bash
# Neovim test of editors/neovim against `lore serve` on the example system: Neovim 0.11 with a screen
# drawn by tests/editors/nvim_screen.py (screenshots to ARTIFACTS_DIR, and editors/neovim/hover.png with
# LORE_UPDATE_SCREENSHOT=1).
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
"$(command -v python3)" -m venv --without-pip "$WORK/nolore"  # an interpreter without Lore: the failure path
export LORE_EXAMPLE="$WORK/example" LORE_PLUGIN="$ROOT/editors/neovim" LORE_PYTHON="$PY" LORE_OUT="$ART/nvim_result${LORE_NVIM_LEGACY:+_legacy}.json"
export LORE_NOLORE_PYTHON="$WORK/nolore/bin/python" LORE_SHOTS="$WORK/shots"
mkdir -p "$LORE_SHOTS"
rm -f "$LORE_OUT"
rc=0
# Neovim with a screen (nvim_screen.py attaches as its UI and draws the screenshots the test asks for)
cd "$WORK"
timeout 120 "$PY" "$ROOT/tests/editors/nvim_screen.py" --size 150x40 -- \
  "$NVIM" --embed --clean -n -c "luafile $ROOT/tests/editors/nvim_test.lua" || rc=$?
for shot in "$LORE_SHOTS"/*.png; do
  [ -f "$shot" ] && cp "$shot" "$ART/$(basename "${shot%.png}")${LORE_NVIM_LEGACY:+_legacy}.png"
done
if [ "$rc" = 0 ] && [ -z "${LORE_NVIM_LEGACY:-}" ] && [ "${LORE_UPDATE_SCREENSHOT:-0}" = 1 ]; then
  cp "$LORE_SHOTS/nvim_hover.png" "$ROOT/editors/neovim/hover.png"
fi
cp "$XDG_STATE_HOME/nvim/lsp.log" "$ART/nvim_lsp${LORE_NVIM_LEGACY:+_legacy}.log" 2>/dev/null || true
cat "$LORE_OUT" 2>/dev/null || echo '{"ok": false, "error": "no result written"}'
echo
exit $rc
