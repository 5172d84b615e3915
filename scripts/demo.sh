#!/usr/bin/env bash
# The main job: build RunLens, make a demo repository with recorded runs (committed and
# uncommitted code, a failed run, a model with production and staging aliases), and open
# it in VS Code (code-server) with RunLens installed, on 127.0.0.1. Ctrl-C stops it.
#   PORT      the port (default 8080)
#   DEMO_DIR  where the demo repository goes (default ./demo)
#   DEMO_STATE_DIR  the demo editor's profile and extensions (default ./.demo-vscode)
#
# The demo editor opens the demo repository as a trusted workspace, so Run Training and Reproduce
# work at once. code-server keeps the folders a user trusted in the browser's own storage, where no
# script can add one, so this server, which exists only for the demo (its own port, profile and
# extensions folder), runs with Workspace Trust off. Every other VS Code and code-server, the
# test servers included, keeps VS Code's normal trust behaviour.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PORT=${PORT:-8080}
DEMO=${DEMO_DIR:-$ROOT/demo}
[ -d node_modules ] || npm ci --no-audit --no-fund
node esbuild.js
bash scripts/e2e-setup.sh
# shellcheck disable=SC1091
source "${RUNLENS_E2E_HOME:-$HOME/.cache/runlens-e2e}/env.sh"

echo "== demo repository: $DEMO"
bash scripts/demo-workspace.sh "$DEMO"
( cd "$DEMO" && node "$ROOT/dist/cli.js" ls | sed 's/^/  /' )

VS=${DEMO_STATE_DIR:-$ROOT/.demo-vscode}
rm -rf "$VS/exts" && mkdir -p "$VS/exts" "$VS/ud/User"
VERSION=$(node -p "require('./package.json').version")
ln -s "$ROOT" "$VS/exts/runlens.runlens-$VERSION"
[ -f "$VS/ud/User/settings.json" ] || cat >"$VS/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "update.mode": "none",
  "extensions.autoCheckUpdates": false, "extensions.autoUpdate": false, "chat.disableAIFeatures": true }
JSON
echo
echo "RunLens demo: open http://127.0.0.1:$PORT/?folder=$DEMO"
echo "(click the RunLens icon in the activity bar; Ctrl-C here stops the server)"
PATH="$(dirname "$RUNLENS_NODE24"):$PATH" XDG_CONFIG_HOME="$VS/xdg" exec "$RUNLENS_CODE_SERVER" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-telemetry --disable-update-check --disable-getting-started-override --disable-workspace-trust \
  --user-data-dir "$VS/ud" --extensions-dir "$VS/exts" "$DEMO"
