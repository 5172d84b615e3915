"""runlens.init() and finish(): a run started from inside the process.

init() starts `runlens begin` (the CLI, src/cli/commands/begin.ts), which
records the run through the same code as `runlens run`: snapshot, params,
data hashes, environment. It answers one JSON line naming the run's folder,
then waits on its stdin for this process to say how it ended:

    {"end": "finished"} | {"end": "failed", "error": TRACEBACK} | {"end": "killed", "signal": "SIGINT"}

and answers {"ended": STATUS} once run.json is final. If this process dies
without a word (SIGKILL), its end of the pipe closes and the run is crashed.
The recorder runs in a session of its own, so a Ctrl-C meant for training
does not reach it.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback

from . import _metrics, _notebook

_ENV_KEYS = ("RUNLENS_RUN_ID", "RUNLENS_RUN_DIR", "RUNLENS_METRICS_FILE")
# How long the end of a run may take to be written (the last look at attached logs, the summary).
_END_TIMEOUT = 120

_lock = threading.RLock()
_current = None
_hooks_installed = False
# How the process is ending, as the hooks saw it: (status, extra fields of the end line).
_pending_end = None


class Run(object):
    """The run being recorded. `joined` is True under `runlens run`, whose recorder ends it."""

    def __init__(self, run_id, name, directory, joined, recorder=None):
        self.id = run_id
        self.name = name
        self.dir = directory
        self.joined = joined
        self._recorder = recorder
        self.status = "running"

    def log(self, metrics, step=None):
        _metrics.log(metrics, step=step)

    def params(self, values):
        _metrics.params(values)

    def finish(self):
        finish()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self is not _current:
            return False
        if exc_type is None:
            finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            _end("killed", {"signal": "SIGINT"})
        elif issubclass(exc_type, SystemExit):
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            _end("finished" if code == 0 else "failed", {"exitCode": code})
        else:
            _end("failed", {"error": "".join(traceback.format_exception(exc_type, exc, tb))})
        return False

    def __repr__(self):
        return "<runlens.Run %s %r %s>" % (self.id, self.name, self.status)


def current():
    """The run being recorded, or None."""
    return _current


def init(name=None, config=None, params=None, data=(), artifacts=(), tags=()):
    """Starts recording a run, or returns the one already being recorded.

    name      the run's name (default: the script's or the notebook's)
    config    a dict of hyperparameters, or the path of a config file (YAML, JSON, TOML)
    params    a dict of params; nested dicts become a.b.c
    data      paths whose content hashes are kept as the run's data lineage
    artifacts paths the run writes (a model file), hashed when it ends
    tags      strings to find the run by (`tag = sweep`)

    Never stops training: when the run cannot be recorded, it says why once on
    stderr and returns a Run that records nothing.
    """
    global _current
    with _lock:
        in_notebook = _notebook.active()
        if _current is not None:
            if not in_notebook:
                return _current
            # A notebook cell run again: the previous run ends first.
            finish()
        config_files, values = _split_config(config, params)
        data, artifacts, tags = _texts(data), _texts(artifacts), _texts(tags)
        if os.environ.get("RUNLENS_RUN_DIR"):
            _current = _join(name, config_files, values, data, artifacts, tags)
            return _current
        _current = _begin(name, config_files, values, data, artifacts, tags, in_notebook)
        return _current


def finish():
    """Ends the run now, as finished (under `runlens run`, its recorder ends it with the command)."""
    status, extra = _pending_end or ("finished", {})
    _end(status, extra)


def _end(status, extra):
    global _current, _pending_end
    with _lock:
        run = _current
        if run is None:
            return
        _current = None
        _pending_end = None
        _metrics.flush()
        if run.joined or run._recorder is None:
            run.status = status
            return
        proc = run._recorder
        line = dict(extra, end=status)
        cells = _notebook.executed_cells()
        if cells is not None:
            line["cells"] = cells
        try:
            proc.stdin.write((json.dumps(line) + "\n").encode("utf-8"))
            proc.stdin.close()
        except (OSError, ValueError):
            pass
        ended = _read_line(proc, _END_TIMEOUT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        run.status = (ended or {}).get("ended", status)
        if os.environ.get("RUNLENS_RUN_DIR") == run.dir:
            for key in _ENV_KEYS:
                os.environ.pop(key, None)
        _metrics._switch()
        if ended is None:
            sys.stderr.write("runlens: the recorder of run %s did not confirm its end; `runlens show %s` tells what was kept\n" % (run.id, run.id))


def _at_exit():
    # A kernel shutting down after a cell that raised (nbconvert stops at the first error): that error ends the run.
    failed = _notebook.last_cell_error() if _pending_end is None else None
    if failed:
        _end("failed", {"error": failed, "exitCode": 1})
    else:
        finish()


def _split_config(config, params):
    config_files = []
    values = {}
    if isinstance(config, (str, bytes)) or hasattr(config, "__fspath__"):
        config_files.append(os.fsdecode(os.fspath(config)))
    elif isinstance(config, dict):
        values.update(config)
    elif config is not None:
        # argparse.Namespace, a dataclass, an OmegaConf-like object with a dict of its own
        values.update(getattr(config, "__dict__", {}) or {})
    if isinstance(params, dict):
        values.update(params)
    return config_files, values


def _texts(values):
    if isinstance(values, (str, bytes)) or hasattr(values, "__fspath__"):
        values = [values]
    return [os.fsdecode(os.fspath(v)) if not isinstance(v, str) else v for v in (values or ())]


def _join(name, config_files, values, data, artifacts, tags):
    """Inside `runlens run`: the params go to params.jsonl, the rest to init.jsonl, both read when the run ends."""
    directory = os.environ["RUNLENS_RUN_DIR"]
    if values:
        _metrics.params(values)
    declared = {"name": name, "tags": tags, "data": data, "artifacts": artifacts, "configFiles": config_files}
    try:
        fd = os.open(os.path.join(directory, "init.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(declared, default=str) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as err:
        sys.stderr.write("runlens: could not write what init() declared: %s\n" % (err,))
    return Run(os.environ.get("RUNLENS_RUN_ID"), name, directory, joined=True)


def find_cli():
    """The runlens command, as argv: $RUNLENS_CLI, then PATH, then node_modules/.bin up from here."""
    given = os.environ.get("RUNLENS_CLI")
    if given:
        if given.endswith(".js"):
            return [os.environ.get("RUNLENS_NODE") or shutil.which("node") or "node", given]
        return [given]
    found = shutil.which("runlens")
    if found:
        return [found]
    directory = os.getcwd()
    while True:
        candidate = os.path.join(directory, "node_modules", ".bin", "runlens")
        if os.access(candidate, os.X_OK):
            return [candidate]
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _begin(name, config_files, values, data, artifacts, tags, in_notebook):
    cli = find_cli()
    if cli is None:
        return _not_recording(
            name,
            "the runlens command was not found (set RUNLENS_CLI to it, put it on PATH, or use a VS Code terminal with the RunLens extension)",
        )
    notebook = _notebook.path() if in_notebook else None
    argv = [sys.executable] + ([notebook or "notebook.ipynb"] if in_notebook else list(sys.argv))
    args = cli + ["begin", "--pid", str(os.getpid()), "--python", sys.executable]
    if name:
        args += ["--name", str(name)]
    if values:
        args += ["--params-json", json.dumps(_metrics._redacted(values), default=str)]
    for flag, items in (("--config", config_files), ("--data", data), ("--artifact", artifacts), ("--tag", tags)):
        for item in items:
            args += [flag, item]
    if notebook:
        args += ["--notebook", notebook]
    args += ["--"] + argv
    env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
    try:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as err:
        return _not_recording(name, "could not start %s: %s" % (cli[0], err))
    started = _read_line(proc, None)
    if not started or "dir" not in started:
        try:
            proc.stdin.close()
        except OSError:
            pass
        proc.wait()
        return _not_recording(name, (started or {}).get("error") or "the recorder ended before the run began (its message is above)")
    _metrics._switch()
    os.environ["RUNLENS_RUN_ID"] = started["id"]
    os.environ["RUNLENS_RUN_DIR"] = started["dir"]
    os.environ["RUNLENS_METRICS_FILE"] = started["metricsFile"]
    _install_hooks()
    if in_notebook:
        _notebook.watch_cells()
    return Run(started["id"], started.get("name", name), started["dir"], joined=False, recorder=proc)


def _not_recording(name, reason):
    """Said once: log() after this stays quiet, and training goes on."""
    sys.stderr.write("runlens: not recording: %s\n" % (reason,))
    _metrics._warned = True
    return Run(None, name, None, joined=False)


def _read_line(proc, timeout):
    """One JSON line from the recorder, or None at its end (or after `timeout` seconds)."""
    result = []

    def read():
        try:
            result.append(proc.stdout.readline())
        except (OSError, ValueError):
            result.append(b"")

    if timeout is None:
        read()
    else:
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
    raw = result[0] if result else b""
    try:
        value = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else None


def _install_hooks():
    """Once per process: how the process ends decides how the run does."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    previous_hook = sys.excepthook

    def excepthook(exc_type, exc, tb):
        global _pending_end
        if issubclass(exc_type, KeyboardInterrupt):
            _pending_end = ("killed", {"signal": "SIGINT", "exitCode": 130})
        else:
            _pending_end = ("failed", {"error": "".join(traceback.format_exception(exc_type, exc, tb)), "exitCode": 1})
        previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook
    # sys.exit(n) never reaches the excepthook: its code is noted on the way out.
    previous_exit = sys.exit

    def exit_noting_code(code=None):
        global _pending_end
        number = code if isinstance(code, int) else (0 if code is None else 1)
        if number != 0 and _pending_end is None:
            _pending_end = ("failed", {"exitCode": number, "error": "sys.exit(%r)" % (code,)})
        previous_exit(code)

    sys.exit = exit_noting_code
    # SIGTERM's default ends the process without atexit: the run would read as crashed.
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:

        def on_sigterm(signum, frame):
            _end("killed", {"signal": "SIGTERM", "exitCode": 128 + signum})
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
