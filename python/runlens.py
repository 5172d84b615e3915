"""RunLens helper for training scripts: zero dependencies, Python 3.7+.

    import runlens
    runlens.params({"lr": 0.01, "model": {"depth": 4}})
    for step in range(100):
        runlens.log({"loss": loss, "acc": acc}, step=step)

Under `runlens run -- python train.py`, lines go to the run's metrics.jsonl
($RUNLENS_METRICS_FILE). Without it, nothing is recorded and one warning says
how to record. Values may be floats, ints, or anything with `.item()` (numpy,
torch); NaN and +/-Infinity are kept, as the strings "NaN", "Infinity",
"-Infinity", so every line stays valid JSON.
"""

import atexit
import json
import math
import os
import sys
import threading
import time

__all__ = ["log", "params", "flush", "enabled", "run_dir"]

_FLUSH_LINES = 2000
_FLUSH_SECONDS = 0.5

_lock = threading.Lock()
_buffer = []
_last_flush = time.monotonic()
_step = -1
_fd = None
_warned = False
_key_cache = {}


def enabled():
    """True when running under `runlens run`, so logging is recorded."""
    return bool(os.environ.get("RUNLENS_METRICS_FILE"))


def run_dir():
    """The folder of the current run, or None outside `runlens run`."""
    return os.environ.get("RUNLENS_RUN_DIR") or None


def _warn_once():
    global _warned
    if not _warned:
        _warned = True
        sys.stderr.write(
            "runlens: not recording (RUNLENS_METRICS_FILE is not set). "
            "Start the script with `runlens run -- python your_script.py` to record its metrics.\n"
        )


def _key(name):
    cached = _key_cache.get(name)
    if cached is None:
        if not isinstance(name, str):
            raise TypeError("runlens.log: metric names must be strings, got %r" % (name,))
        if name in ("step", "t"):
            raise ValueError("runlens.log: %r is reserved; pass step=… instead" % name)
        cached = _key_cache[name] = json.dumps(name)
    return cached


def _number(value):
    if value.__class__ is float:
        if value != value:
            return '"NaN"'
        if value in (math.inf, -math.inf):
            return '"Infinity"' if value > 0 else '"-Infinity"'
        return repr(value)
    if value.__class__ is int:
        return str(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "item"):
        value = value.item()
    try:
        return _number(float(value)) if not isinstance(value, int) else str(int(value))
    except (TypeError, ValueError):
        raise TypeError("runlens.log: %r is not a number" % (value,))


def _open():
    global _fd
    if _fd is None:
        _fd = os.open(os.environ["RUNLENS_METRICS_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    return _fd


def _write(fd, data):
    # One O_APPEND write per flush keeps lines whole next to the recorder's own writes.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def flush():
    """Writes buffered lines now. Called automatically every 0.5 s of logging and at exit."""
    global _buffer, _last_flush
    with _lock:
        if not _buffer:
            return
        lines, _buffer = _buffer, []
        _last_flush = time.monotonic()
        _write(_open(), "".join(lines).encode("utf-8"))


def log(metrics, step=None):
    """Records one step of metrics, e.g. log({"loss": 0.25, "acc": 0.9}, step=10).

    Without `step`, steps count up from 0 by one per call.
    """
    global _step
    if not enabled():
        _warn_once()
        return
    if step is None:
        _step += 1
        step = _step
    else:
        step = int(step)
        _step = step
    parts = ['{"step":%d,"t":%r' % (step, time.time())]
    for name, value in metrics.items():
        parts.append(",%s:%s" % (_key(name), _number(value)))
    parts.append("}\n")
    line = "".join(parts)
    with _lock:
        _buffer.append(line)
        due = len(_buffer) >= _FLUSH_LINES or time.monotonic() - _last_flush >= _FLUSH_SECONDS
    if due:
        flush()


def params(values):
    """Records params the script decided itself (nested dicts are flattened to a.b.c)."""
    directory = run_dir()
    if not directory:
        _warn_once()
        return
    line = json.dumps(values, default=str, allow_nan=True) + "\n"
    fd = os.open(os.path.join(directory, "params.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


atexit.register(flush)
