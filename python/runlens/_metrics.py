"""Metrics and params: the part of the helper that writes lines.

log() appends one JSON line per step to the run's metrics.jsonl, buffered and
flushed every 0.5 s, every 2000 lines and at exit. The file is the one
`runlens run` names in $RUNLENS_METRICS_FILE, or the one `runlens.init()`
began (see _run.py), which sets the same variables for child processes.
"""

import atexit
import json
import os
import sys
import threading
import time

_FLUSH_LINES = 2000
_FLUSH_SECONDS = 0.5

_lock = threading.Lock()
_buffer = []
_step = -1
_fd = None
_warned = False
_keys = {}
_flusher = None
# Whether log() found a run to write to; checked once per run, not once per call.
_recording = False
_time = time.time


def enabled():
    """True when running under `runlens run`, so logging is recorded."""
    return bool(os.environ.get("RUNLENS_METRICS_FILE"))


def run_dir():
    """The folder of the current run, or None outside `runlens run`."""
    return os.environ.get("RUNLENS_RUN_DIR") or None


def seed(default):
    """The seed to use: under `runlens reproduce`, the one the original run
    recorded ($RUNLENS_SEED); otherwise `default`, recorded as the param
    "seed" so a later reproduction can use it again.

        random.seed(runlens.seed(int(time.time())))
    """
    recorded = os.environ.get("RUNLENS_SEED")
    if recorded is not None:
        try:
            value = int(recorded)
        except ValueError:
            value = recorded
    else:
        value = default
    if run_dir():
        params({"seed": value})
    return value


def _warn_once():
    global _warned
    if not _warned:
        _warned = True
        sys.stderr.write(
            "runlens: not recording (no run: RUNLENS_METRICS_FILE is not set). "
            "Call runlens.init() first, or start the script with `runlens run -- python your_script.py`.\n"
        )


def _switch():
    """Forgets the metrics file of an ended run: the next log() goes to the one the environment names then."""
    global _fd, _step, _warned, _recording
    flush()
    _recording = False
    with _lock:
        if _fd is not None:
            try:
                os.close(_fd)
            except OSError:
                pass
        _fd = None
        _step = -1
        _warned = False


def _key(name):
    if not isinstance(name, str):
        raise TypeError("runlens.log: metric names must be strings, got %r" % (name,))
    if name in ("step", "t"):
        raise ValueError("runlens.log: %r is reserved; pass step=... instead" % name)
    key = _keys[name] = json.dumps(name)
    return key


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if hasattr(value, "item"):  # numpy scalars, 0-d tensors
        value = value.item()
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError("runlens.log: %r is not a number" % (value,))
    if value - value == 0.0:
        return repr(value)
    if value != value:
        return '"NaN"'
    return '"Infinity"' if value > 0 else '"-Infinity"'


def _write(fd, data):
    # One O_APPEND write per flush keeps lines whole next to the recorder's own writes.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def flush():
    """Writes buffered lines now. Happens on its own every 0.5 s, every 2000 lines, and at exit."""
    global _fd
    with _lock:
        # Slice then delete, each atomic under the GIL: a log() from another
        # thread in between lands past `count` and waits for the next flush.
        count = len(_buffer)
        if count == 0:
            return
        lines = _buffer[:count]
        del _buffer[:count]
        if _fd is None:
            _fd = os.open(os.environ["RUNLENS_METRICS_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _write(_fd, "".join(lines).encode("utf-8"))


def _flush_periodically():
    while True:
        time.sleep(_FLUSH_SECONDS)
        try:
            flush()
        except Exception as err:  # a full disk must not kill training; say it once per failure
            sys.stderr.write("runlens: could not write metrics: %s\n" % (err,))


def _start_flusher():
    global _flusher
    if _flusher is None:
        # A daemon thread, so a slow training loop still shows its metrics live,
        # and log() itself stays a string format and a list append.
        _flusher = threading.Thread(target=_flush_periodically, name="runlens-flush", daemon=True)
        _flusher.start()


def log(metrics, step=None):
    """Records one step of metrics, e.g. log({"loss": 0.25, "acc": 0.9}, step=10).

    Without `step`, steps count up from 0 by one per call.
    """
    global _step, _recording
    if not _recording:
        if not enabled():
            _warn_once()
            return
        _start_flusher()
        _recording = True
    if step is None:
        _step += 1
        step = _step
    else:
        step = int(step)
        _step = step
    line = '{"step":%d,"t":%r' % (step, _time())
    for name, value in metrics.items():
        key = _keys.get(name) or _key(name)
        if type(value) is float and value - value == 0.0:
            line += ",%s:%r" % (key, value)
        else:
            line += "," + key + ":" + _number(value)
    _buffer.append(line + "}\n")
    if len(_buffer) >= _FLUSH_LINES:
        flush()


# Keys named like secrets (the same words as RunLens's own redaction, src/core/secrets.ts) never
# reach params.jsonl: their values are replaced before the line is written.
_SECRET_WORDS = {
    "password", "passwd", "passphrase", "secret", "secrets", "apikey", "credential", "credentials",
    "privatekey", "cookie", "cookies", "signature", "authorization", "bearer", "pat", "accesskey",
    "secretkey", "connectionstring", "accesstoken", "authtoken",
}
_KEY_QUALIFIERS = {"api", "access", "secret", "private", "auth", "signing", "encryption", "account", "client", "master", "shared", "storage", "ssh", "gpg", "license"}
_TOKEN_QUALIFIERS = {"auth", "access", "api", "hf", "hub", "github", "gh", "gitlab", "bearer", "refresh", "session", "bot", "slack", "wandb", "secret", "id", "oauth", "personal", "private", "user", "service", "write", "read", "npm", "pypi", "openai", "anthropic", "comet", "neptune", "mlflow", "kaggle", "registry", "deploy", "client", "app"}


def _is_secret_name(name):
    import re
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name)).lower()) if w]
    for i, word in enumerate(words):
        if word in _SECRET_WORDS:
            return True
        if word == "token" and (len(words) == 1 or (i > 0 and words[i - 1] in _TOKEN_QUALIFIERS and i == len(words) - 1)):
            return True
        if word in ("key", "keys") and i > 0 and words[i - 1] in _KEY_QUALIFIERS:
            return True
        if word == "connection" and i + 1 < len(words) and words[i + 1] == "string":
            return True
    return False


def _redacted(values):
    if isinstance(values, dict):
        return {k: ("<redacted>" if _is_secret_name(k) and v not in (None, "") and not isinstance(v, dict) else _redacted(v)) for k, v in values.items()}
    return values


def params(values):
    """Records params the script decided itself (nested dicts are flattened to a.b.c)."""
    directory = run_dir()
    if not directory:
        _warn_once()
        return
    line = json.dumps(_redacted(values), default=str, allow_nan=True) + "\n"
    fd = os.open(os.path.join(directory, "params.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _reset_in_forked_child():
    # A forked worker (a DataLoader, say) must not write its parent's buffered lines again.
    global _flusher, _recording
    del _buffer[:]
    _flusher = None
    _recording = False


atexit.register(flush)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_forked_child)
