"""hpy-build as a package: `pip wheel tools/pep517` builds hpy_build-0.1.0-py3-none-any.whl with
hpy-build's own backend (hpy_build/_self.py), and its sdist; installed, the wheel gives the
`hpy-build` command and the backend with its template."""
import email.parser
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

from projects import BACKEND
from wheelcheck import assert_record_matches

try:
    import tomllib
except ImportError:  # Python < 3.11: maturin's dependency
    import tomli as tomllib

with open(os.path.join(BACKEND, "pyproject.toml"), "rb") as _f:
    PROJECT = tomllib.load(_f)["project"]
VERSION = PROJECT["version"]
WHEEL = "hpy_build-%s-py3-none-any.whl" % VERSION
DIST_INFO = "hpy_build-%s.dist-info" % VERSION


def package_files():
    """The files of tools/pep517/hpy_build, without caches."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(os.path.join(BACKEND, "hpy_build")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        out.update(os.path.relpath(os.path.join(dirpath, f), BACKEND).replace(os.sep, "/")
                   for f in filenames if not f.endswith(".pyc"))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """`pip wheel tools/pep517` (isolated, as a user runs it: no package from an index is needed on
    Python 3.11+) and `python -m build --sdist tools/pep517` (the tools venv has build)."""
    out = tmp_path_factory.mktemp("hpy-build")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), BACKEND], check=True)
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), BACKEND],
                   check=True, capture_output=True)
    return out


def test_wheel_name_and_files(built):
    assert sorted(f for f in os.listdir(str(built)) if f.endswith(".whl")) == [WHEEL]
    with zipfile.ZipFile(str(built / WHEEL)) as z:
        names = set(z.namelist())
        wheel_meta = z.read(DIST_INFO + "/WHEEL").decode()
        entry_points = z.read(DIST_INFO + "/entry_points.txt").decode()
    assert names == package_files() | {DIST_INFO + "/" + f for f in ("METADATA", "WHEEL", "entry_points.txt", "RECORD")}
    assert {"hpy_build/__init__.py", "hpy_build/editable.py", "hpy_build/template/src/lib.rs",
            "hpy_build/template/gitignore", "hpy_build/template/tests/test_{{module}}.py"} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert "Root-Is-Purelib: true" in wheel_meta and "Tag: py3-none-any" in wheel_meta
    assert entry_points == "[console_scripts]\nhpy-build = hpy_build.__main__:main\n"


def test_wheel_record(built):
    assert_record_matches(str(built / WHEEL), DIST_INFO)


def test_wheel_metadata_is_the_pyproject(built):
    with zipfile.ZipFile(str(built / WHEEL)) as z:
        meta = email.parser.Parser().parsestr(z.read(DIST_INFO + "/METADATA").decode())
    assert meta["Name"] == "hpy-build" and meta["Version"] == VERSION
    assert meta["Requires-Python"] == PROJECT["requires-python"]
    assert meta.get_all("Requires-Dist") == PROJECT["dependencies"]
    assert any(d.startswith("maturin") for d in PROJECT["dependencies"])
    assert meta["Description-Content-Type"] == "text/markdown" and "# hpy-build" in meta.get_payload()


def test_sdist(built):
    sdists = [f for f in os.listdir(str(built)) if f.endswith(".tar.gz")]
    assert sdists == ["hpy_build-%s.tar.gz" % VERSION]
    with tarfile.open(str(built / sdists[0])) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers()}
    assert names == package_files() | {"PKG-INFO", "pyproject.toml", "README.md"}


def test_installed_wheel_gives_the_command_and_the_backend(built, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    # --no-deps: maturin and cffi are for building projects, not for `hpy-build new`
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                    str(built / WHEEL)], check=True)
    out = subprocess.run([str(venv / "bin" / "hpy-build"), "new", "made"], cwd=str(tmp_path),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "made" / "tests" / "test_made.py").is_file()
    assert (tmp_path / "made" / ".gitignore").is_file()
    # the backend imports from the installed package (not from this checkout)
    where = subprocess.run([py, "-c", "import hpy_build; print(hpy_build.__file__); "
                            "print(all(callable(getattr(hpy_build, h)) for h in ('build_wheel', 'build_editable', 'build_sdist')))"],
                           cwd=str(tmp_path), capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == "True"
