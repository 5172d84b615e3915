#!/usr/bin/env bash
# The main job, until the editor part lands: build RunLens, make a demo
# repository with a small training script, record a few runs, list them.
# Usage: npm run demo            (DEMO_DIR overrides where the demo goes)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${DEMO_DIR:-$ROOT/demo}
cd "$ROOT"
[ -d node_modules ] || npm ci --no-audit --no-fund
node esbuild.js
runlens() { node "$ROOT/dist/cli.js" "$@"; }

echo "== demo workspace: $DEMO"
rm -rf "$DEMO"
mkdir -p "$DEMO/data"
cp scripts/demo-workspace/train.py scripts/demo-workspace/config.json "$DEMO/"
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
git -c user.name=RunLens -c user.email=demo@runlens.invalid add -A
git -c user.name=RunLens -c user.email=demo@runlens.invalid commit -q -m "Demo: logistic model on a CSV"

record() { runlens run --quiet --config config.json --data data/train.csv --artifact out/model.json "$@" >/dev/null || true; }
echo "== recording runs"
record --name baseline -- python3 train.py --lr 0.01 --seed 1
record --name faster-lr --tag sweep -- python3 train.py --lr 0.05 --seed 1
# An uncommitted edit: RunLens keeps it in the run's snapshot.
sed -i 's/^w = \[0.0, 0.0, 0.0\]/w = [0.1, 0.0, 0.0]  # try a bias prior (uncommitted)/' train.py
record --name bias-prior-wip -- python3 train.py --lr 0.05 --seed 2
record --name too-hot --tag sweep -- python3 train.py --lr 40 --seed 1

echo
runlens ls
echo
runlens diff baseline bias-prior-wip
echo
echo "Demo workspace: $DEMO  (try: cd $DEMO && node $ROOT/dist/cli.js show baseline)"
