#!/usr/bin/env bash
# The whole test suite, as `npm test` (after `npm ci`) runs it in the README and in .ci/run:
# type check, lint, build, unit and CLI tests on real git repositories, then the editor
# tests in a real VS Code (code-server, installed by scripts/e2e-setup.sh) driven by Chromium.
# RUNLENS_SKIP_EDITOR_TESTS=1 stops after the unit tests, for a quick local loop.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v git >/dev/null || { echo "git is required for the tests" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required for the tests (runlens.py is tested under it)" >&2; exit 1; }

echo "== type check"
npx --no-install tsc -p tsconfig.json --noEmit
npx --no-install tsc -p tsconfig.webview.json --noEmit
echo "== lint"
npx --no-install eslint src test bench webview
echo "== build"
node esbuild.js --tests
echo "== Python parts the tests run (Debian's torch, nbconvert, ipykernel)"
bash scripts/python-setup.sh
echo "== unit and CLI tests"
node --test --test-reporter=spec out/test/unit
if [ "${RUNLENS_SKIP_EDITOR_TESTS:-}" = 1 ]; then
  echo "== editor tests skipped (RUNLENS_SKIP_EDITOR_TESTS=1)"
  exit 0
fi
echo "== editor tests in code-server"
bash scripts/e2e-setup.sh
node test/e2e/run.mjs
