"""The universal wheel of examples/quickstart: one py3-none wheel, installed with pip into a fresh
venv of every CPython found and of PyPy, imported and called there in universal and debug mode.

Run by `make test` with the build tools venv; the driver passes
* HPYRS_WHEEL: the wheel built once by `pip wheel examples/quickstart` (hpy_build backend);
* HPYRS_PYTHONS: `name=path` pairs, one per interpreter: `3.11=/usr/bin/python3.11` for a CPython,
  `pypy3.11=build/pypy/bin/pypy3` for the PyPy of tools/pypy.sh;
* HPYRS_PYPY_IN_ROOT: build/pypy/bin/in-root, which runs a command inside PyPy's Debian root (a
  PyPy venv's interpreter exists only there; /tmp and the repo are the same inside).
"""
import ast
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest

from wheelcheck import assert_record_matches

WHEEL = os.environ.get("HPYRS_WHEEL", "")
PYTHONS = dict(p.split("=", 1) for p in os.environ.get("HPYRS_PYTHONS", "").split() if "=" in p)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IN_ROOT = os.environ.get("HPYRS_PYPY_IN_ROOT", "")

# What `quickstart.context_name()` says (tests/python/conftest.py has the same)
CONTEXT_NAMES = {
    "cpython": {"universal": "HPy Universal ABI (CPython backend)", "debug": "HPy Debug Mode ABI"},
    "pypy": {"universal": "HPy Universal ABI (PyPy backend)", "debug": "HPy Debug Mode ABI (PyPy backend)"},
}


def implementation(name):
    return "pypy" if name.startswith("pypy") else "cpython"


def command(name, argv):
    """`argv` as run for interpreter `name`: a PyPy venv's programs run inside PyPy's root."""
    return [IN_ROOT] + argv if implementation(name) == "pypy" else argv


def version_key(name):
    return (implementation(name) == "pypy",) + tuple(int(p) for p in (name[4:] if name.startswith("pypy") else name).split("."))

# What the installed module is asked, in a fresh interpreter: the import is timed in-process.
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import quickstart
import_ms = (time.perf_counter() - t0) * 1000
print(json.dumps({
    "context": quickstart.context_name(),
    "add": quickstart.add(40, 2),
    "greet": quickstart.greet("wheel", punctuation="?"),
    "file": quickstart.__file__,
    "origin": quickstart.__spec__.origin,
    "pkg_resources": "pkg_resources" in sys.modules,
    "import_ms": import_ms,
}))
"""


@pytest.fixture(scope="session")
def wheel():
    if not os.path.isfile(WHEEL):
        pytest.fail("HPYRS_WHEEL is not set to a built wheel (run the tests through `make test`)")
    return WHEEL


def read(wheel, name):
    with zipfile.ZipFile(wheel) as z:
        return z.read(name)


def test_name_and_tag(wheel):
    name = os.path.basename(wheel)
    assert re.fullmatch(r"quickstart-0\.1\.0-py3-none-manylinux_\d+_\d+_x86_64\.whl", name), name
    tags = [l for l in read(wheel, "quickstart-0.1.0.dist-info/WHEEL").decode().splitlines() if l.startswith("Tag:")]
    assert len(tags) == 1 and re.fullmatch(r"Tag: py3-none-manylinux_\d+_\d+_x86_64", tags[0]), tags


def test_file_list(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if "/sboms/" not in n)
    assert names == [
        "quickstart-0.1.0.dist-info/METADATA",
        "quickstart-0.1.0.dist-info/RECORD",
        "quickstart-0.1.0.dist-info/WHEEL",
        "quickstart/__init__.py",
        "quickstart/__init__.pyi",
        "quickstart/py.typed",
        "quickstart/quickstart.hpy0.so",
    ]


def test_record_hashes_match(wheel):
    assert_record_matches(wheel, "quickstart-0.1.0.dist-info")


def test_metadata(wheel):
    meta = read(wheel, "quickstart-0.1.0.dist-info/METADATA").decode()
    assert "Name: quickstart\n" in meta and "Version: 0.1.0\n" in meta
    requires = [l for l in meta.splitlines() if l.startswith("Requires-Dist:")]
    assert requires == ["Requires-Dist: hpy>=0.9.0 ; platform_python_implementation == 'CPython'"]
    assert "cffi" not in meta


def test_loader_stub(wheel):
    stub = read(wheel, "quickstart/__init__.py").decode()
    assert "pkg_resources" not in stub
    assert "_load_bootstrap('quickstart'" in stub and "os.path.dirname(__file__)" in stub


def test_type_stubs_come_from_the_macros(wheel):
    pyi = read(wheel, "quickstart/__init__.pyi").decode()
    ast.parse(pyi)
    assert "def add(a: int, b: int, /) -> int:" in pyi
    assert "def greet(name: str, greeting: str = 'Hello', *, punctuation: str = '!') -> str:" in pyi
    assert "def word_counts(text: str, /) -> dict[str, int]:" in pyi
    assert read(wheel, "quickstart/py.typed") == b""


def fresh_venv(minor, python, tmp_path_factory):
    # (under pytest's temporary directory in /tmp, which PyPy's root shares)
    venv = tmp_path_factory.mktemp("venv-" + minor)
    subprocess.run([python, "-m", "venv", str(venv)], check=True, cwd=str(venv))
    return os.path.join(str(venv), "bin", "python")


@pytest.mark.parametrize("minor", sorted(PYTHONS, key=version_key))
def test_installs_and_runs_everywhere(wheel, minor, tmp_path_factory, capsys):
    py = fresh_venv(minor, PYTHONS[minor], tmp_path_factory)
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel]
    if implementation(minor) == "pypy":
        # without an index: the wheel's `hpy` requirement is for CPython only (PyPy's HPy is built
        # in), so nothing else may be needed
        pip.append("--no-index")
    subprocess.run(command(minor, pip), check=True)
    # the probe runs outside the repo, so that it imports the installed module (in the venv's
    # directory: the root has only /tmp and the repo of this machine)
    cwd = os.path.dirname(os.path.dirname(py))
    results = {}
    for mode in ("universal", "debug"):
        env = dict(os.environ, HPY=mode)
        env.pop("PYTHONPATH", None)
        out = subprocess.run(command(minor, [py, "-c", PROBE]), env=env, capture_output=True, text=True, cwd=cwd)
        assert out.returncode == 0, out.stderr
        results[mode] = json.loads(out.stdout)
    u, d = results["universal"], results["debug"]
    assert u["context"] == CONTEXT_NAMES[implementation(minor)]["universal"]
    assert d["context"] == CONTEXT_NAMES[implementation(minor)]["debug"]
    installed = os.path.join("site-packages", "quickstart", "quickstart.hpy0.so")
    for r in (u, d):
        assert r["add"] == 42 and r["greet"] == "Hello, wheel?"
        assert r["origin"].endswith(installed)
        # PyPy's _load_bootstrap (interp_hpy.descr__load_bootstrap) sets __file__ to its ext_name
        # argument (the stub's __name__), not to the path; the spec's origin is the path on both
        assert r["file"] == "quickstart" if implementation(minor) == "pypy" else r["file"].endswith(installed)
        assert r["pkg_resources"] is False
    with capsys.disabled():
        print("\n    %s %s: installed %s; import quickstart took %.2f ms (universal), %.2f ms (debug)"
              % ("PyPy" if implementation(minor) == "pypy" else "CPython", minor[4:] if minor.startswith("pypy") else minor,
                 os.path.basename(wheel), u["import_ms"], d["import_ms"]))


def test_sdist_builds_and_installs(tmp_path_factory):
    """`pip install <sdist>`: the sdist carries the crate, its path dependencies and hpy_build
    (the example takes it from its tree: backend-path), and no build output."""
    cpythons = sorted((n for n in PYTHONS if implementation(n) == "cpython"), key=version_key)
    minor = "3.11" if "3.11" in PYTHONS else cpythons[-1]
    out_dir = str(tmp_path_factory.mktemp("sdist"))
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", out_dir,
                    os.path.join(ROOT, "examples", "quickstart")], check=True, capture_output=True)
    sdists = [f for f in os.listdir(out_dir) if f.endswith(".tar.gz")]
    assert sdists == ["quickstart-0.1.0.tar.gz"]
    with tarfile.open(os.path.join(out_dir, sdists[0])) as tar:
        names = [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()]
    # hpy_build once, as files, where backend-path says (at the top: maturin moved pyproject.toml
    # there), not also where maturin followed the link examples/quickstart/_hpy_build
    backend = sorted(n for n in names if "_hpy_build" in n)
    assert {"_hpy_build/hpy_build/__init__.py", "_hpy_build/hpy_build/wheel.py", "_hpy_build/hpy_build/editable.py",
            "_hpy_build/hpy_build/sdist.py", "_hpy_build/hpy_build/stubs.py"} <= set(backend)
    assert all(n.startswith("_hpy_build/hpy_build/") for n in backend), backend
    # the crate, its path dependencies and the workspace files; no build output, cache or wheel
    assert {"pyproject.toml", "PKG-INFO", "Cargo.toml", "Cargo.lock", "examples/quickstart/Cargo.toml",
            "examples/quickstart/src/lib.rs", "hpy/src/lib.rs", "hpy-sys/Cargo.toml"} <= set(names)
    for name in names:
        parts = name.split("/")
        tops = [parts[0]] + ([parts[2]] if parts[:2] == ["examples", "quickstart"] and len(parts) > 2 else [])
        assert not set(tops) & {"target", "build", "dist"}, name
        assert "__pycache__" not in parts and not name.endswith((".pyc", ".whl", ".so")), name
    py = fresh_venv(minor, PYTHONS[minor], tmp_path_factory)
    # a target directory of its own: the sdist's files all carry maturin's fixed time stamp, so a
    # target directory built from an older tree would look fresh to cargo
    env = dict(os.environ, CARGO_TARGET_DIR=str(tmp_path_factory.mktemp("sdist-target")))
    subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    os.path.join(out_dir, sdists[0])], check=True, env=env)
    out = subprocess.run([py, "-c", PROBE], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["add"] == 42
