"""A PEP 517 (and PEP 660) build backend for the runlens package, standard library only.

pip's isolated build would download setuptools first, and these machines and
many training clusters have no index to download from. The package is pure
Python with no dependencies, so a wheel is a zip of runlens/ and its
metadata, written here.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

NAME = "runlens"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(HERE, NAME)
SUMMARY = "Record training runs with their code, params, data and metrics; see them in VS Code with RunLens."
TAG = "py3-none-any"


def _version():
    with open(os.path.join(PACKAGE, "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
    if not match:
        raise RuntimeError("runlens/__init__.py has no __version__")
    return match.group(1)


def _metadata():
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\n"
        "Version: %s\n"
        "Summary: %s\n"
        "License: MIT\n"
        "Requires-Python: >=3.8\n" % (NAME, _version(), SUMMARY)
    )


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _sources():
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            yield os.path.join(PACKAGE, name), "%s/%s" % (NAME, name)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d\n" % (arcname, digest, len(data))


def _write_wheel(directory, files):
    filename = "%s-%s-%s.whl" % (NAME, _version(), TAG)
    dist_info = _dist_info()
    files = list(files) + [
        ("%s/METADATA" % dist_info, _metadata().encode("utf-8")),
        ("%s/WHEEL" % dist_info, ("Wheel-Version: 1.0\nGenerator: runlens_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG).encode("utf-8")),
    ]
    record = "".join(_record_line(arcname, data) for arcname, data in files) + "%s/RECORD,,\n" % dist_info
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for arcname, data in files + [("%s/RECORD" % dist_info, record.encode("utf-8"))]:
            # A fixed time: the same sources make the same wheel.
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = os.path.join(metadata_directory, _dist_info())
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = []
    for path, arcname in _sources():
        with open(path, "rb") as f:
            files.append((arcname, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # `pip install -e ./python`: a .pth line puts this folder on sys.path.
    return _write_wheel(wheel_directory, [("%s.pth" % NAME, (HERE + "\n").encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for rel in ["pyproject.toml", os.path.join("_build", "runlens_build.py")] + [arc for _, arc in _sources()]:
            sdist.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel.replace(os.sep, "/")))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        data = _metadata().encode("utf-8")
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return filename
