"""The sdist of an hpy-rs project: maturin's (the crate, its path dependencies, pyproject.toml,
Cargo.lock), rewritten so that it carries sources only and builds anywhere.

Left out, wherever maturin found them (it takes what cargo lists, and cargo lists a directory
that is no git checkout in full):
* build outputs: `target/`, `build/` and `dist/` at the top of the project and of the crate,
  wheels, compiled HPy modules (`*.hpy0.so`), a loader stub or `.pyi` next to one (what the
  old edit loop, `tools/hpy_stub.py`, wrote), and `*.egg-info`;
* caches and environments: `__pycache__`, `*.pyc`, `.pytest_cache`, `.venv`, `.git`, ...

Added: this backend, as files, where `backend-path` says (the hpy-rs examples build with the
backend of their source tree: `backend-path = ["_hpy_build"]`, a link that maturin follows into
the crate directory only). A project that requires the `hpy-build` package gets nothing added.
"""
import io
import os
import posixpath
import tarfile

from . import wheel as _wheel

_HERE = os.path.dirname(os.path.abspath(__file__))

OUTPUT_DIRS = ("target", "build", "dist")
NEVER = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".venv",
         ".git", ".hg")
OUTPUT_SUFFIXES = (".whl", ".pyc", ".pyo", ".hpy0.so", ".hpy0.pyd")


def _toml_loads(text):
    try:
        import tomllib as toml
    except ImportError:  # Python < 3.11
        import tomli as toml
    return toml.loads(text)


def is_build_output(rel, tops, names):
    """Whether the archive path `rel` (relative to the sdist's root) is a build output or a cache.
    `tops`: the directories whose `target/`, `build/`, `dist/` are outputs ("" is the root);
    `names`: every path of the archive (to find a loader stub's binary)."""
    parts = rel.split("/")
    if any(p in NEVER or p.endswith(".egg-info") for p in parts) or rel.endswith(OUTPUT_SUFFIXES):
        return True
    for top in tops:
        inner = posixpath.relpath(rel, top) if top else rel
        if not inner.startswith("../") and inner.split("/")[0] in OUTPUT_DIRS:
            return True
    stem, ext = posixpath.splitext(rel)
    if ext in (".py", ".pyi") and (stem + ".hpy0.so" in names or stem + ".hpy0.pyd" in names):
        return True
    return False


def is_loader_stub(name, data):
    """Whether `data` is the loader stub of module `name` that tools/hpy_stub.py writes (the
    first line of hpy_build's LOADER)."""
    first = _wheel.LOADER.format(name=name, file=name + ".hpy0.so").split("\n", 1)[0]
    return data.split(b"\n", 1)[0] == first.encode("utf-8")


def _backend_files():
    """{path relative to a backend-path directory: bytes} of this package, without caches."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(_HERE):
        dirnames[:] = sorted(d for d in dirnames if d not in NEVER)
        for fname in sorted(filenames):
            if fname.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, fname)
            rel = os.path.relpath(path, os.path.dirname(_HERE)).replace(os.sep, "/")
            with open(path, "rb") as f:
                files[rel] = f.read()
    return files


def rewrite(src, sdist_directory):
    """Write maturin's sdist `src` without build outputs (plus the backend, for backend-path) into
    `sdist_directory`, under the same name; return that name."""
    out_name = os.path.basename(src)
    root = out_name[: -len(".tar.gz")]
    with tarfile.open(src, "r:gz") as tin:
        members = tin.getmembers()
        data = {m.name: tin.extractfile(m).read() for m in members if m.isfile()}
    rel = lambda m: m.name[len(root) + 1:] if m.name.startswith(root + "/") else m.name  # noqa: E731
    names = {rel(m) for m in members}
    pyproject = _toml_loads(data.get(root + "/pyproject.toml", b"").decode("utf-8"))
    manifest = pyproject.get("tool", {}).get("maturin", {}).get("manifest-path", "Cargo.toml")
    crate_dir = posixpath.dirname(posixpath.normpath(manifest))
    tops = sorted({"", crate_dir})
    backend_dirs = [posixpath.normpath(p) for p in pyproject.get("build-system", {}).get("backend-path", [])]
    # maturin's copy of a backend-path directory (it follows the link in the crate directory) is
    # replaced by the package itself
    replaced = [posixpath.join(top, b) if top else b for top in tops for b in backend_dirs]

    def keep(m):
        r = rel(m)
        if any(r == d or r.startswith(d + "/") for d in replaced):
            return False
        if is_build_output(r, tops, names):
            return False
        stem, ext = posixpath.splitext(r)
        if m.isfile() and ext == ".py" and is_loader_stub(posixpath.basename(stem), data[m.name]):
            return False
        return True

    os.makedirs(sdist_directory, exist_ok=True)
    dst = os.path.join(sdist_directory, out_name)
    with tarfile.open(dst, "w:gz", format=tarfile.PAX_FORMAT) as tout:
        for m in members:
            if keep(m):
                tout.addfile(m, io.BytesIO(data[m.name]) if m.isfile() else None)
        backend = _backend_files() if backend_dirs else {}
        for b in backend_dirs:
            for path, content in sorted(backend.items()):
                info = tarfile.TarInfo("%s/%s/%s" % (root, b, path))
                info.size, info.mode, info.mtime = len(content), 0o644, 315532800
                tout.addfile(info, io.BytesIO(content))
    return out_name
