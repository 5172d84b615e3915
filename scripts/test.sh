#!/usr/bin/env bash
# The whole test suite: type check, lint, build, unit and CLI tests on real git repos.
# Run through `npm test` (after `npm ci`), which is what the README and .ci/run use.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v git >/dev/null || { echo "git is required for the tests" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required for the tests (runlens.py is tested under it)" >&2; exit 1; }

echo "== type check"
npx --no-install tsc -p tsconfig.json --noEmit
echo "== lint"
npx --no-install eslint src test bench
echo "== build"
node esbuild.js --tests
echo "== unit and CLI tests"
node --test --test-reporter=spec out/test/unit
