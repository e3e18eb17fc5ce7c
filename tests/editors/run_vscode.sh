#!/usr/bin/env bash
# VS Code test of editors/vscode: build the .vsix, install it into code-server (VS Code 1.100 from npm),
# open the example system in headless Chromium (playwright-core) and check the failure path (no Lore for
# the configured interpreter), then hover + Problems; screenshots go to ARTIFACTS_DIR (and to
# editors/vscode/hover.png and server-missing.png with LORE_UPDATE_SCREENSHOT=1).
# Usage: tests/editors/run_vscode.sh [ARTIFACTS_DIR]
#   env: LORE_PYTHON (default .venv/bin/python), LORE_EDITOR_TOOLS (see tests/editors/install.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ART="$(mkdir -p "${1:-$ROOT/test-artifacts/editors}" && cd "${1:-$ROOT/test-artifacts/editors}" && pwd)"
PY="${LORE_PYTHON:-$ROOT/.venv/bin/python}"
TOOLS="${LORE_EDITOR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/lore/editor-tools}"
CS_BIN="$TOOLS/cs/node_modules/.bin/code-server"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lore-vscode-XXXXXX")"
CS_PID=""
cleanup() {
  # code-server was started with setsid: its pid is its process group (extension hosts, lore servers)
  if [ -n "$CS_PID" ]; then kill -- "-$CS_PID" 2>/dev/null || true; sleep 0.5; kill -9 -- "-$CS_PID" 2>/dev/null || true; fi
  cp "$WORK/code-server.log" "$ART/code-server.log" 2>/dev/null || true
  find "$WORK/data/logs" -name '*Lore*.log' -exec cp {} "$ART/" \; 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export XDG_CONFIG_HOME="$WORK/xdg/config" XDG_DATA_HOME="$WORK/xdg/data" XDG_CACHE_HOME="$WORK/xdg/cache" \
  TMPDIR="$WORK/tmp" LORE_CACHE="$WORK/cache"
mkdir -p "$TMPDIR" "$WORK/data/User"
t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

"$PY" "$ROOT/examples/materialize.py" "$WORK/example" --force >/dev/null

# 1. the .vsix, exactly as `npm run package` builds it
(cd "$ROOT/editors/vscode" && node scripts/package.mjs "$WORK/lore.vsix" >"$WORK/package.log" 2>&1) \
  || { cat "$WORK/package.log"; exit 1; }
echo "vsix built in $(elapsed) s ($(du -k "$WORK/lore.vsix" | cut -f1) KiB)"

# 2. a fresh code-server profile. The user settings first point the extension at an interpreter without
# Lore (the failure path: one message, commands answer); the browser test then fixes the setting to the
# project's interpreter and the server starts.
"$(command -v python3)" -m venv --without-pip "$WORK/nolore"
cat > "$WORK/data/User/settings.json" <<JSON
{
  "lore.pythonPath": "$WORK/nolore/bin/python",
  "lore.logLevel": "info",
  "lore.trace.server": "messages",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "git.enabled": false,
  "editor.hover.delay": 150,
  "editor.minimap.enabled": false,
  "window.commandCenter": false
}
JSON
printf 'auth: none\ncert: false\n' > "$WORK/config.yaml"
CS_ARGS=(--config "$WORK/config.yaml" --user-data-dir "$WORK/data" --extensions-dir "$WORK/exts")
"$CS_BIN" "${CS_ARGS[@]}" --install-extension "$WORK/lore.vsix" --force >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; exit 1; }
grep -q 'lore.lore' "$WORK/install.log" || grep -qi 'installed' "$WORK/install.log" || { cat "$WORK/install.log"; exit 1; }
echo "extension installed in $(elapsed) s"

# 3. code-server on a free loopback port
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
cd "$WORK"  # nothing of the repo on the server's path: `python -m lore` must find the installed Lore only
setsid "$CS_BIN" "${CS_ARGS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  "$WORK/example" >"$WORK/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  kill -0 "$CS_PID" 2>/dev/null || { cat "$WORK/code-server.log"; exit 1; }
  sleep 0.1
done
echo "code-server up in $(elapsed) s"

# 4. the browser part
rc=0
NODE_PATH="$TOOLS/pw/node_modules" CHROMIUM="$CHROMIUM" ARTIFACTS="$ART" BROWSER_HOME="$WORK" \
  LORE_GOOD_PYTHON="$PY" \
  node "$ROOT/tests/editors/vscode_test.js" "http://127.0.0.1:$PORT/?folder=$WORK/example" || rc=$?
if [ "$rc" = 0 ] && [ "${LORE_UPDATE_SCREENSHOT:-0}" = 1 ]; then
  cp "$ART/vscode_hover.png" "$ROOT/editors/vscode/hover.png"
  cp "$ART/vscode_server_missing.png" "$ROOT/editors/vscode/server-missing.png"
fi
echo "vscode test finished in $(elapsed) s (rc=$rc)"
exit $rc
