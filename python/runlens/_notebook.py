"""Jupyter: whether this process is a kernel, which notebook it runs, and the cells it executed.

A kernel's run keeps the notebook as saved (it is in the work tree, so in the
snapshot) and the source of the cells executed so far, which the recorder
writes into the run as notebook-cells.py. Nothing here imports IPython unless
the process already has it.
"""

import glob
import os
import sys

_last_error = None
_watching = False


def _shell():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:
        return None
    # A kernel (Jupyter, VS Code's notebooks, nbconvert), not the terminal IPython.
    return shell if shell is not None and type(shell).__name__ == "ZMQInteractiveShell" else None


def active():
    return _shell() is not None


def path():
    """The notebook's path as far as the kernel can know it, or None."""
    shell = _shell()
    namespace = getattr(shell, "user_ns", {}) if shell is not None else {}
    # VS Code's notebooks name it in the namespace; Jupyter's server in the kernel's environment.
    for candidate in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME"), namespace.get("__session__")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            return os.path.relpath(candidate) if os.path.isabs(candidate) and os.path.exists(candidate) else candidate
    # nbconvert and nbclient say nothing, but run the kernel in the notebook's folder: one notebook there is it.
    found = glob.glob("*.ipynb")
    return found[0] if len(found) == 1 else None


def executed_cells():
    """The source of every cell executed so far, in order, or None outside a kernel."""
    shell = _shell()
    if shell is None:
        return None
    inputs = list(getattr(shell, "user_ns", {}).get("In", []) or [])
    parts = []
    for number, source in enumerate(inputs):
        if number == 0 or not isinstance(source, str) or not source.strip():
            continue
        parts.append("# In[%d]:\n%s\n" % (number, source.rstrip()))
    return "\n".join(parts)


def _after_cell(result):
    global _last_error
    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
    if error is None:
        _last_error = None
        return
    import traceback

    _last_error = "".join(traceback.format_exception(type(error), error, error.__traceback__))


def watch_cells():
    """Keeps the error of the last cell, if it raised: a kernel shut down right after it ends the run as failed."""
    global _watching
    shell = _shell()
    if shell is None or _watching:
        return
    _watching = True
    shell.events.register("post_run_cell", _after_cell)


def last_cell_error():
    return _last_error
