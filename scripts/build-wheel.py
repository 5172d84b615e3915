"""Builds the runlens Python package's wheel into the folder given (npm run package: dist/).

Through the package's own build backend (python/_build), so nothing is downloaded.
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "python", "_build"))
import runlens_build  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "dist"
os.makedirs(out, exist_ok=True)
print(os.path.join(out, runlens_build.build_wheel(out)))
