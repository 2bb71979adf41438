"""PEP 660 editable installs (`pip install -e .`): the develop loop of an hpy-rs project.

The module is not copied into site-packages. `build_editable` builds the project's wheel as usual
(in cargo's dev profile by default) and unpacks its package into the project's
`build/hpy-develop/<wheel tag>/` (for the universal build: `<module>/__init__.py`, the HPy loader,
next to `<module>/<module>.hpy0.so`, and the stubs; for the native build: maturin's package with
the extension); the editable wheel holds the project's metadata and a `.pth` file naming that
directory, so `import <module>` loads the binary from it. Edit the Rust code, run
`pip install -e .` again, and the next interpreter imports the new build.

One directory per wheel tag (`py3-none-<platform>`, `cp311-cp311-<platform>`, ...): the
universal and the native build of one project, or two CPython versions' native builds, can be
installed in different venvs at the same time without overwriting each other.

Files are replaced by rename, never rewritten in place: an interpreter that still has the old
binary loaded keeps its (unlinked) file and does not crash.
"""
import os
import shutil

from .wheel import _read_wheel, _write_wheel

# Where the module is built to, relative to the project (its .gitignore and the sdist leave
# build/ out).
DEVELOP_DIR = os.path.join("build", "hpy-develop")


def wheel_tag(wheel_name):
    """The tag of a wheel file name: `py3-none-manylinux_2_34_x86_64` of
    `mymod-0.1.0-py3-none-manylinux_2_34_x86_64.whl`."""
    return "-".join(wheel_name[: -len(".whl")].split("-")[2:])


def _replace(path, data):
    """Write `data` to `path` by renaming a new file over it (see the module docstring)."""
    tmp = path + ".hpy-build-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    if path.endswith((".so", ".pyd", ".dll", ".dylib")):
        os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def sync(files, directory):
    """Make `directory` hold exactly `files` ({relative path: bytes}): write what changed, remove
    what is no longer built (a renamed module, a file dropped from the package)."""
    os.makedirs(directory, exist_ok=True)
    for rel, data in files.items():
        path = os.path.join(directory, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        _replace(path, data)
    wanted = {os.path.join(directory, *rel.split("/")) for rel in files}
    for dirpath, dirnames, filenames in os.walk(directory, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            # __pycache__ beside the loader is Python's, and is kept
            if path not in wanted and "__pycache__" not in os.path.relpath(path, directory).split(os.sep):
                os.remove(path)
        if dirpath != directory and not os.listdir(dirpath):
            os.rmdir(dirpath)
    # a top-level __pycache__ of a module that is gone: nothing else is left in its directory
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path) and os.listdir(path) == ["__pycache__"]:
            shutil.rmtree(path)


def make_editable_wheel(src, out_dir, develop_root):
    """From the hpy-rs wheel `src` (a universal or native one), fill
    `develop_root/<tag>/` with its package and write the editable wheel into `out_dir`; return its
    file name."""
    name = os.path.basename(src)
    files, dist_info = _read_wheel(src)
    package = {p: d for p, d in files.items() if p.split("/")[0] != dist_info}
    if any(p.split("/")[0].endswith(".data") for p in package):
        raise RuntimeError("hpy_build: the wheel %s has a .data directory, which an editable "
                           "install of an hpy-rs project does not support" % name)
    directory = os.path.abspath(os.path.join(develop_root, wheel_tag(name)))
    sync(package, directory)
    editable = {p: d for p, d in files.items() if p.split("/")[0] == dist_info}
    dist = dist_info[: -len(".dist-info")]
    editable["__editable__.%s.pth" % dist] = (directory + "\n").encode("utf-8")
    return _write_wheel(editable, dist_info, out_dir, name)
