"""The native wheel of examples/geometry (`hpy-abi=native`: CPython's own C API): one
`cp3X-cp3X` wheel per CPython 3.9+, installed with `pip install --no-deps` into a fresh venv of
that CPython which has no `hpy` package, imported and called there.

Run by `make test` (tools/test.sh, the wheel step) with the build tools venv; the driver passes
* HPYRS_PYTHONS: `name=path` pairs, as for test_wheel.py (its CPythons 3.9+ are the ones tested;
  unset: every CPython 3.9+ that tools/pythons.sh finds);
* HPYRS_NATIVE_WHEELS (optional): a directory holding the native geometry wheels already built;
  unset, each is built here, with the interpreter running pytest (it needs maturin: the tools
  venv) running hpy_build for the target CPython (HPY_PYTHON), as `make wheels` does.
"""
import ast
import base64
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(ROOT, "examples", "geometry")
DIST = "geometry-0.1.0"
WHEEL_DIR = os.environ.get("HPYRS_NATIVE_WHEELS", "")


def cpythons():
    """{minor: path} of the CPythons 3.9+ to test."""
    if "HPYRS_PYTHONS" in os.environ:
        pairs = [p.split("=", 1) for p in os.environ["HPYRS_PYTHONS"].split() if "=" in p]
    else:
        out = subprocess.run([os.path.join(ROOT, "tools", "pythons.sh")], capture_output=True, text=True, check=True)
        pairs = [line.split(" ", 1) for line in out.stdout.splitlines() if line.strip()]
    return {m: p for m, p in pairs if not m.startswith("pypy") and tuple(map(int, m.split("."))) >= (3, 9)}


PYTHONS = cpythons()
MINORS = sorted(PYTHONS, key=lambda m: tuple(map(int, m.split("."))))

PROBE = r"""
import json
import geometry
p = geometry.Point(1.0, 2.0)
moved = p.move_by(geometry.Vector(1, 1))
try:
    import hpy
    has_hpy = True
except ImportError:
    has_hpy = False
print(json.dumps({
    "moved": moved, "x": p.x, "y": p.y, "repr": repr(p),
    "point_module": geometry.Point.__module__, "doc": geometry.__doc__,
    "ext": geometry.geometry.__file__, "has_hpy": has_hpy,
}))
"""


def tag(minor):
    return "cp" + minor.replace(".", "")


_built = {}


@pytest.fixture(scope="session")
def native_wheel(tmp_path_factory):
    """native_wheel(minor): the path of the native geometry wheel for that CPython."""

    def get(minor):
        if minor in _built:
            return _built[minor]
        if WHEEL_DIR:
            found = glob.glob(os.path.join(WHEEL_DIR, "%s-%s-%s-*.whl" % (DIST, tag(minor), tag(minor))))
            if len(found) != 1:
                pytest.fail("HPYRS_NATIVE_WHEELS=%s: expected one wheel for CPython %s, found %r" % (WHEEL_DIR, minor, found))
            _built[minor] = found[0]
            return found[0]
        out = str(tmp_path_factory.mktemp("native-" + minor))
        env = dict(os.environ, HPY_PYTHON=PYTHONS[minor],
                   CARGO_TARGET_DIR=os.path.join(ROOT, "target", "wheels-native-" + tag(minor)))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--disable-pip-version-check", "-q", "--config-settings", "hpy-abi=native",
                        "-w", out, PROJECT], check=True, env=env)
        (wheel,) = glob.glob(os.path.join(out, "*.whl"))
        _built[minor] = wheel
        return wheel

    return get


def names(wheel):
    with zipfile.ZipFile(wheel) as z:
        return sorted(n for n in z.namelist() if "/sboms/" not in n)


def read(wheel, name):
    with zipfile.ZipFile(wheel) as z:
        return z.read(name)


@pytest.mark.parametrize("minor", MINORS)
def test_name_tag_files_metadata(native_wheel, minor):
    wheel = native_wheel(minor)
    t = tag(minor)
    name = os.path.basename(wheel)
    assert re.fullmatch(r"%s-%s-%s-(manylinux_\d+_\d+|linux)_x86_64\.whl" % (DIST, t, t), name), name
    tags = [l for l in read(wheel, DIST + ".dist-info/WHEEL").decode().splitlines() if l.startswith("Tag:")]
    assert len(tags) == 1 and re.fullmatch(r"Tag: %s-%s-(manylinux_\d+_\d+|linux)_x86_64" % (t, t), tags[0]), tags
    files = names(wheel)
    ext = [n for n in files if n.startswith("geometry/geometry.") and n.endswith(".so")]
    assert ext == ["geometry/geometry.cpython-%s-x86_64-linux-gnu.so" % t.replace("cp", "")], files
    assert files == sorted([
        DIST + ".dist-info/METADATA", DIST + ".dist-info/RECORD", DIST + ".dist-info/WHEEL",
        "geometry/__init__.py", "geometry/__init__.pyi", "geometry/py.typed", ext[0],
    ])
    # no HPy runtime: the project's `hpy` requirement is dropped, the rest of the metadata kept
    meta = read(wheel, DIST + ".dist-info/METADATA").decode()
    assert "Name: geometry\n" in meta and "Version: 0.1.0\n" in meta
    assert [l for l in meta.splitlines() if l.startswith("Requires-Dist:")] == []
    # the extension: PyInit_geometry, not HPyInit_geometry
    binary = read(wheel, ext[0])
    assert b"PyInit_geometry" in binary and b"HPyInit_geometry" not in binary


@pytest.mark.parametrize("minor", MINORS)
def test_record_and_stubs(native_wheel, minor):
    wheel = native_wheel(minor)
    with zipfile.ZipFile(wheel) as z:
        listed = set()
        for line in z.read(DIST + ".dist-info/RECORD").decode().splitlines():
            path, digest, size = line.rsplit(",", 2)
            listed.add(path)
            if path.endswith("RECORD"):
                continue
            data = z.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == "sha256=" + expected and int(size) == len(data), path
        assert listed == set(z.namelist())
    pyi = read(wheel, "geometry/__init__.pyi").decode()
    ast.parse(pyi)
    assert "class Point:" in pyi and "def move_by(self, v: Vector, /) -> None:" in pyi
    assert read(wheel, "geometry/py.typed") == b""


@pytest.mark.parametrize("minor", MINORS)
def test_installs_and_runs_without_hpy(native_wheel, minor, tmp_path_factory):
    wheel = native_wheel(minor)
    venv = str(tmp_path_factory.mktemp("native-venv-" + minor))
    subprocess.run([PYTHONS[minor], "-m", "venv", venv], check=True, cwd=venv)
    py = os.path.join(venv, "bin", "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", wheel], check=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # outside the repo, so that the installed package is imported
    out = subprocess.run([py, "-c", PROBE], env=env, capture_output=True, text=True, cwd=venv)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["has_hpy"] is False
    assert r["moved"] is None and (r["x"], r["y"]) == (2.0, 3.0)
    assert r["repr"] == "Point(2.0, 3.0)"
    assert r["point_module"] == "geometry"
    assert r["doc"] == "Points and vectors in the plane."
    assert r["ext"].endswith(os.path.join("site-packages", "geometry", "geometry.cpython-%s-x86_64-linux-gnu.so" % tag(minor)[2:]))
