#!/usr/bin/env bash
# Makes a demo repository with a small training script and real recorded runs:
# committed and uncommitted code, a run that diverges and fails, and a model
# "logistic" with versions and production/staging aliases.
# Usage: scripts/demo-workspace.sh DIR      (needs dist/cli.js: node esbuild.js)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${1:?usage: demo-workspace.sh DIR}
runlens() { node "$ROOT/dist/cli.js" "$@"; }
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-RunLens Demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@runlens.invalid}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

rm -rf "$DEMO"
mkdir -p "$DEMO/data"
cp "$ROOT/scripts/demo-workspace/train.py" "$ROOT/scripts/demo-workspace/config.json" "$DEMO/"
python3 - "$DEMO/data/train.csv" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("x1,x2,y\n")
    for _ in range(400):
        x1, x2 = random.gauss(0, 1), random.gauss(0, 1)
        f.write("%.4f,%.4f,%d\n" % (x1, x2, int(x1 + 0.5 * x2 + random.gauss(0, 0.5) > 0)))
PY
cd "$DEMO"
printf 'out/\ndata/\n' > .gitignore
git init -q -b main
git add -A
git commit -q -m "Demo: logistic model on a CSV"

record() { runlens run --quiet --config config.json --data data/train.csv --artifact out/model.json "$@" >/dev/null 2>&1 || true; }
record --name baseline -- python3 train.py --lr 0.01 --seed 1
runlens model register baseline --name logistic >/dev/null
record --name faster-lr --tag sweep -- python3 train.py --lr 0.05 --seed 1
runlens model register faster-lr --name logistic >/dev/null
# An uncommitted edit and an untracked file: RunLens keeps both in the run's snapshot.
sed -i 's/^w = \[0.0, 0.0, 0.0\]/w = [0.1, 0.0, 0.0]  # try a bias prior (uncommitted)/' train.py
printf '# notes on the bias prior (untracked)\nlr 0.05 looks best so far\n' > NOTES.md
record --name bias-prior-wip -- python3 train.py --lr 0.05 --seed 2
runlens model register bias-prior-wip --name logistic >/dev/null
record --name too-hot --tag sweep -- python3 train.py --lr 40 --seed 1
runlens model alias logistic production 1 >/dev/null
runlens model alias logistic staging 3 >/dev/null
runlens model alias logistic production 2 >/dev/null
# Re-run baseline from its snapshot: it appears under baseline with its verdict.
runlens reproduce baseline --quiet >/dev/null 2>&1 || true
runlens ls >/dev/null   # builds the index
