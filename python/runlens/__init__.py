"""RunLens for training scripts and notebooks: zero dependencies, Python 3.8+.

    import runlens
    run = runlens.init(config={"lr": 0.01, "model": {"depth": 4}}, data=["data/train.csv"])
    for step in range(100):
        runlens.log({"loss": loss, "acc": acc}, step=step)

`init()` records the run the way `runlens run` does (the code as a git
snapshot, params, data hashes, the environment of this interpreter) and ends
it when the script ends: finished, failed on an uncaught exception (the
traceback is kept), killed on Ctrl-C or SIGTERM; a process killed hard reads
as crashed. `finish()` ends it early; `with runlens.init(...) as run:` works
too. In a Jupyter notebook the run ends at `finish()` or when the kernel shuts
down, and calling `init()` again starts a new one. Under
`runlens run -- python train.py`, `init()` joins the run being recorded.

Values may be floats, ints, or anything with `.item()` (numpy, torch); NaN and
+/-Infinity are kept. The `runlens` command itself comes from $RUNLENS_CLI, from
PATH (VS Code's terminals have it with the RunLens extension), or from
node_modules/.bin of the project.
"""

from ._metrics import enabled, flush, log, params, run_dir, seed
from ._run import Run, current, finish, init

__version__ = "0.1.0"
__all__ = ["init", "finish", "current", "Run", "log", "params", "flush", "enabled", "run_dir", "seed"]
