"""PEP 660 editable installs (tools/pep517/hpy_build/editable.py): the develop directory, the
editable wheel, and `pip install -e .` of a template project switching between the universal and
the native build with an edit in between (tools/stranger.sh runs the universal loop from the
packaged crates and the hpy-build wheel)."""
import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from projects import BACKEND, ROOT, template_project

from hpy_build import editable
from hpy_build.wheel import _write_wheel


def test_wheel_tag():
    assert editable.wheel_tag("m-0.1.0-py3-none-manylinux_2_34_x86_64.whl") == "py3-none-manylinux_2_34_x86_64"
    assert editable.wheel_tag("my_mod-1.0-cp311-cp311-linux_x86_64.whl") == "cp311-cp311-linux_x86_64"


def tree(directory):
    out = {}
    for dirpath, _, filenames in os.walk(directory):
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory).replace(os.sep, "/")] = f.read()
    return out


def test_sync_writes_replaces_by_rename_and_removes_what_is_gone(tmp_path):
    d = str(tmp_path / "dev")
    editable.sync({"m/__init__.py": b"loader", "m/m.hpy0.so": b"v1", "m/py.typed": b""}, d)
    assert tree(d) == {"m/__init__.py": b"loader", "m/m.hpy0.so": b"v1", "m/py.typed": b""}
    assert os.stat(os.path.join(d, "m", "m.hpy0.so")).st_mode & 0o111   # executable, as installed
    so_inode = os.stat(os.path.join(d, "m", "m.hpy0.so")).st_ino
    loader_inode = os.stat(os.path.join(d, "m", "__init__.py")).st_ino
    # an interpreter that has m.hpy0.so mapped keeps its file: a new file is renamed over it
    with open(os.path.join(d, "m", "m.hpy0.so"), "rb") as still_open:
        os.makedirs(os.path.join(d, "m", "__pycache__"))
        open(os.path.join(d, "m", "__pycache__", "__init__.cpython-311.pyc"), "wb").close()
        editable.sync({"m/__init__.py": b"loader", "m/m.hpy0.so": b"v2"}, d)
        assert still_open.read() == b"v1"
    assert os.stat(os.path.join(d, "m", "m.hpy0.so")).st_ino != so_inode
    assert os.stat(os.path.join(d, "m", "__init__.py")).st_ino == loader_inode   # unchanged: untouched
    # py.typed is no longer built: gone; Python's own cache stays
    assert tree(d) == {"m/__init__.py": b"loader", "m/m.hpy0.so": b"v2",
                       "m/__pycache__/__init__.cpython-311.pyc": b""}
    # the module renamed: the old package goes, with its cache
    editable.sync({"n/__init__.py": b"loader"}, d)
    assert tree(d) == {"n/__init__.py": b"loader"} and sorted(os.listdir(d)) == ["n"]


def make_wheel(directory, files, name="m-0.1.0-py3-none-linux_x86_64.whl"):
    dist_info = "m-0.1.0.dist-info"
    files = dict(files, **{dist_info + "/METADATA": b"Metadata-Version: 2.1\nName: m\nVersion: 0.1.0\n",
                           dist_info + "/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-linux_x86_64\n"})
    return os.path.join(directory, _write_wheel(files, dist_info, directory, name))


def test_editable_wheel_holds_the_metadata_and_a_pth(tmp_path):
    src = make_wheel(str(tmp_path), {"m/__init__.py": b"loader", "m/m.hpy0.so": b"binary"})
    out = str(tmp_path / "out")
    name = editable.make_editable_wheel(src, out, str(tmp_path / "project" / "build" / "hpy-develop"))
    assert name == "m-0.1.0-py3-none-linux_x86_64.whl"
    develop = tmp_path / "project" / "build" / "hpy-develop" / "py3-none-linux_x86_64"
    assert tree(str(develop)) == {"m/__init__.py": b"loader", "m/m.hpy0.so": b"binary"}
    with zipfile.ZipFile(os.path.join(out, name)) as z:
        assert sorted(z.namelist()) == ["__editable__.m-0.1.0.pth", "m-0.1.0.dist-info/METADATA",
                                        "m-0.1.0.dist-info/RECORD", "m-0.1.0.dist-info/WHEEL"]
        assert z.read("__editable__.m-0.1.0.pth").decode() == str(develop) + "\n"


def test_editable_wheel_refuses_a_data_directory(tmp_path):
    src = make_wheel(str(tmp_path), {"m/__init__.py": b"", "m-0.1.0.data/scripts/x": b""})
    with pytest.raises(RuntimeError, match=r"\.data directory"):
        editable.make_editable_wheel(src, str(tmp_path / "out"), str(tmp_path / "dev"))


# --- pip install -e . of a real project ----------------------------------------------------

MINOR = "%d.%d" % sys.version_info[:2]
# the hpy runtime for this CPython: make test's venv of this version (tools/venv.sh)
HPY_SITE = os.path.join(ROOT, "build", "venv", MINOR, "lib", "python" + MINOR, "site-packages")

PROBE = """
import sys, {m}
print({m}.__spec__.origin)
print({m}.hello("x"))
print("hpy.universal" in sys.modules)
"""

# a process that imported the module before a rebuild: it must go on working with the old binary
LONG_LIVED = """
import sys, {m}
print("ready", flush=True)
sys.stdin.readline()
print({m}.hello("again"), flush=True)
"""


@pytest.fixture
def venv(tmp_path):
    """A fresh venv of this interpreter in which `pip install -e . --no-build-isolation` works
    without an index: maturin and cffi from the tools venv running this test and hpy from make
    test's venv of this version, through a .pth file."""
    if not os.path.isdir(os.path.join(HPY_SITE, "hpy")):
        pytest.skip("needs the hpy runtime for CPython %s in %s (made by make test: tools/venv.sh)"
                    % (MINOR, HPY_SITE))
    base = getattr(sys, "_base_executable", sys.executable)
    path = tmp_path / "venv"
    subprocess.run([base, "-m", "venv", str(path)], check=True)
    py = str(path / "bin" / "python")
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "_hpyrs_test_tools.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n" + HPY_SITE + "\n")
    return py


def pip_install_editable(py, project, *args):
    env = dict(os.environ, PYTHONPATH=BACKEND,
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               # one target directory for every run of this test: the hpy crates compile once
               CARGO_TARGET_DIR=os.path.join(ROOT, "target", "backend-editable"))
    env.pop("HPY_ABI", None)
    out = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                          "--no-build-isolation", "-e", project] + list(args),
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]


def probe(py, module, mode="universal"):
    env = dict(os.environ, HPY=mode)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([py, "-c", PROBE.format(m=module)], cwd="/", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    origin, said, universal = out.stdout.split("\n")[:3]
    return origin, said, universal == "True"


def pth(py):
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    files = [f for f in os.listdir(site) if f.startswith("__editable__.")]
    assert files == ["__editable__.flip-0.1.0.pth"], files
    with open(os.path.join(site, files[0])) as f:
        return f.read().strip()


def test_pip_install_editable_universal_native_and_back(venv, tmp_path):
    project = template_project(tmp_path, "flip")
    develop = os.path.join(project, "build", "hpy-develop")

    pip_install_editable(venv, project)
    assert os.path.dirname(pth(venv)) == develop and os.path.basename(pth(venv)).startswith("py3-none-")
    origin, said, universal = probe(venv, "flip")
    assert origin == os.path.join(pth(venv), "flip", "flip.hpy0.so") and universal
    assert said == "Hello, x!"
    assert probe(venv, "flip", mode="debug")[1] == "Hello, x!"   # HPy's debug mode, same binary

    running = subprocess.Popen([venv, "-c", LONG_LIVED.format(m="flip")], cwd="/", stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    try:
        assert running.stdout.readline() == "ready\n"

        # edit the Rust code, install the native build: the .pth now names the native directory
        lib = os.path.join(project, "src", "lib.rs")
        with open(lib) as f:
            source = f.read()
        assert 'format!("Hello, {name}{punctuation}")' in source
        with open(lib, "w") as f:
            f.write(source.replace('format!("Hello, {name}{punctuation}")', 'format!("Howdy, {name}{punctuation}")'))
        pip_install_editable(venv, project, "-C", "hpy-abi=native")
        tag = "cp%d%d-cp%d%d-" % (sys.version_info[:2] * 2)
        assert os.path.basename(pth(venv)).startswith(tag)
        origin, said, universal = probe(venv, "flip")
        assert origin == os.path.join(pth(venv), "flip", "__init__.py") and not universal
        assert said == "Howdy, x!"

        # back to universal: rebuilt from the edited source (not the stale first build)
        pip_install_editable(venv, project)
        assert os.path.basename(pth(venv)).startswith("py3-none-")
        origin, said, universal = probe(venv, "flip")
        assert universal and said == "Howdy, x!"
        assert sorted(os.listdir(develop)) == sorted([os.path.basename(pth(venv)), tag + os.path.basename(pth(venv)).split("-", 2)[2]])

        # the interpreter started before the rebuilds still runs its own (replaced) binary
        running.stdin.write("\n")
        running.stdin.flush()
        assert running.stdout.readline() == "Hello, again!\n"
        assert running.wait(timeout=30) == 0

        # `[tool.hpy-build] abi = "native"` in pyproject.toml (what `hpy-build new --native`
        # writes) chooses the native build without a config setting
        pyproject = os.path.join(project, "pyproject.toml")
        with open(pyproject) as f:
            text = f.read()
        assert 'abi = "universal"' in text
        with open(pyproject, "w") as f:
            f.write(text.replace('abi = "universal"', 'abi = "native"'))
        pip_install_editable(venv, project)
        assert os.path.basename(pth(venv)).startswith(tag)
        assert probe(venv, "flip")[1:] == ("Howdy, x!", False)
    finally:
        if running.poll() is None:
            running.kill()
