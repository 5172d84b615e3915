"""A small, dependency-free stand-in for a training script.

It "trains" a logistic model on a CSV with plain Python, so the demo needs
nothing but python3, and logs through RunLens the way a real script would.
"""
import argparse
import json
import math
import os
import random

import runlens

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--config", default="config.json")
args = parser.parse_args()

with open(args.config) as f:
    config = json.load(f)
random.seed(args.seed)

rows = []
with open(config["data"]) as f:
    next(f)
    for line in f:
        x1, x2, y = line.strip().split(",")
        rows.append((float(x1), float(x2), int(y)))

w = [0.0, 0.0, 0.0]
runlens.params({"model": {"kind": "logistic", "features": 2}, "rows": len(rows)})
for epoch in range(args.epochs):
    random.shuffle(rows)
    loss = 0.0
    correct = 0
    for x1, x2, y in rows:
        z = w[0] + w[1] * x1 + w[2] * x2
        p = 1 / (1 + math.exp(-max(min(z, 50), -50)))
        loss -= math.log(max(p, 1e-12)) if y else math.log(max(1 - p, 1e-12))
        correct += (p > 0.5) == bool(y)
        g = p - y
        w = [w[0] - args.lr * g, w[1] - args.lr * g * x1, w[2] - args.lr * g * x2]
    loss /= len(rows)
    runlens.log({"loss": loss, "acc": correct / len(rows), "lr": args.lr}, step=epoch)
    if loss > config.get("max_loss", 1e9):
        runlens.log({"loss": float("nan")}, step=epoch + 1)
        raise SystemExit("loss diverged at epoch %d" % epoch)

os.makedirs("out", exist_ok=True)
with open("out/model.json", "w") as f:
    json.dump({"weights": w}, f)
print("trained: loss %.4f" % loss)
