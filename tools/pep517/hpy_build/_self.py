"""The backend that builds hpy-build itself (`build-backend = "hpy_build._self"` in
tools/pep517/pyproject.toml): its pure-Python wheel `hpy_build-<version>-py3-none-any.whl`, its
sdist and an editable install, from the `[project]` table, with the standard library only (plus
tomli before Python 3.11), so that `pip wheel tools/pep517` needs no build tool from an index.

It knows the fields that pyproject.toml uses (name, version, description, readme, requires-python,
license text, dependencies, scripts, urls) and refuses any other, so that a field added there
cannot silently go missing from the wheel.
"""
import io
import os
import re
import tarfile

from . import project
from .wheel import _write_wheel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "hpy_build"
KNOWN = {"name", "version", "description", "readme", "requires-python", "license",
         "dependencies", "scripts", "urls"}
# sdist members' time stamp (1980-01-01, as in wheels): the same sources give the same archive
EPOCH = 315532800


def _project():
    table = project.load(ROOT)["project"]
    unknown = set(table) - KNOWN
    if unknown:
        raise ValueError("hpy_build._self: pyproject.toml [project] has fields it does not write: %s"
                         % ", ".join(sorted(unknown)))
    return table


def _dist_name(table):
    return re.sub(r"[-_.]+", "_", table["name"]).lower()


def _metadata(table):
    lines = ["Metadata-Version: 2.1", "Name: " + table["name"], "Version: " + table["version"]]
    if "description" in table:
        lines.append("Summary: " + table["description"])
    if "license" in table:
        lines.append("License: " + table["license"]["text"])
    for label, url in table.get("urls", {}).items():
        lines.append("Project-URL: %s, %s" % (label, url))
    if "requires-python" in table:
        lines.append("Requires-Python: " + table["requires-python"])
    lines += ["Requires-Dist: " + dep for dep in table.get("dependencies", [])]
    body = ""
    if "readme" in table:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, table["readme"]), encoding="utf-8") as f:
            body = f.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _package_files():
    """{path in the archive: bytes} of the hpy_build package (its template included), without
    caches."""
    files = {}
    top = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, ROOT).replace(os.sep, "/")] = f.read()
    return files


def _wheel(table, wheel_directory, package_files):
    dist = "%s-%s" % (_dist_name(table), table["version"])
    dist_info = dist + ".dist-info"
    files = dict(package_files)
    files[dist_info + "/METADATA"] = _metadata(table)
    files[dist_info + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: hpy_build._self\n"
                                   "Root-Is-Purelib: true\nTag: py3-none-any\n").encode()
    scripts = table.get("scripts", {})
    if scripts:
        entry = "[console_scripts]\n" + "".join("%s = %s\n" % kv for kv in sorted(scripts.items()))
        files[dist_info + "/entry_points.txt"] = entry.encode()
    return _write_wheel(files, dist_info, wheel_directory, dist + "-py3-none-any.whl")


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(_project(), wheel_directory, _package_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose `.pth` puts this source tree on sys.path (for working on hpy-build)."""
    table = _project()
    pth = "__editable__.%s-%s.pth" % (_dist_name(table), table["version"])
    return _wheel(table, wheel_directory, {pth: (ROOT + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    table = _project()
    dist = "%s-%s" % (_dist_name(table), table["version"])
    files = {"PKG-INFO": _metadata(table)}
    for name in ("pyproject.toml", table.get("readme")):
        if name:
            with open(os.path.join(ROOT, name), "rb") as f:
                files[name] = f.read()
    files.update(_package_files())
    os.makedirs(sdist_directory, exist_ok=True)
    out = dist + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, out), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo("%s/%s" % (dist, path))
            info.size, info.mtime, info.mode = len(files[path]), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(files[path]))
    return out
