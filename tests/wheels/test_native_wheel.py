"""The native wheels of examples/geometry, installed with `pip install --no-deps` into a fresh venv
which has no `hpy` package, imported and called there:
* `hpy-abi=native` (CPython's own C API): one `cp3X-cp3X` wheel per CPython 3.9+;
* `hpy-abi=abi3` (the stable ABI, limited API 3.12): ONE `cp312-abi3` wheel, the same file
  installed on every CPython 3.12+, and on CPython 3.14 in its Debian root (tools/cpython314.sh)
  when build/cpython314/bin/in-root exists (a venv made inside the root, under /tmp).

Run by `make test` (tools/test.sh, the wheel step) with the build tools venv; the driver passes
* HPYRS_PYTHONS: `name=path` pairs, as for test_wheel.py (its CPythons 3.9+ are the ones tested;
  unset: every CPython 3.9+ that tools/pythons.sh finds);
* HPYRS_NATIVE_WHEELS (optional): a directory holding the native geometry wheels already built;
  unset, each is built here, with the interpreter running pytest (it needs maturin: the tools
  venv) running hpy_build for the target CPython (HPY_PYTHON), as `make wheels` does;
* HPYRS_ABI3_WHEEL (optional): the abi3 geometry wheel already built; unset, it is built here
  the same way, with the first CPython 3.12+ (target/wheels-abi3).
"""
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

from wheelcheck import assert_record_matches

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(ROOT, "examples", "geometry")
DIST = "geometry-0.1.0"
WHEEL_DIR = os.environ.get("HPYRS_NATIVE_WHEELS", "")
ABI3_WHEEL = os.environ.get("HPYRS_ABI3_WHEEL", "")
# runs a command inside CPython 3.14's Debian root (tools/cpython314.sh); /tmp is shared
IN_ROOT_314 = os.path.join(ROOT, "build", "cpython314", "bin", "in-root")


def version(minor):
    return tuple(map(int, minor.split(".")))


def cpythons():
    """{minor: path} of the CPythons 3.9+ to test."""
    if "HPYRS_PYTHONS" in os.environ:
        pairs = [p.split("=", 1) for p in os.environ["HPYRS_PYTHONS"].split() if "=" in p]
    else:
        out = subprocess.run([os.path.join(ROOT, "tools", "pythons.sh")], capture_output=True, text=True, check=True)
        pairs = [line.split(" ", 1) for line in out.stdout.splitlines() if line.strip()]
    return {m: p for m, p in pairs if not m.startswith("pypy") and version(m) >= (3, 9)}


PYTHONS = cpythons()
MINORS = sorted(PYTHONS, key=version)
# The stable-ABI wheel: `wheel`'s kind "abi3" (the others are a minor version: its native wheel)
ABI3 = "abi3"
ABI3_MINORS = [m for m in MINORS if version(m) >= (3, 12)]
KINDS = MINORS + [ABI3]

PROBE = r"""
import json
import sys
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
    "ext": geometry.geometry.__file__, "has_hpy": has_hpy, "version": sys.version_info[:3],
}))
"""


def tag(minor):
    return "cp" + minor.replace(".", "")


def wheel_tag(kind):
    """The wheel's python-abi tag."""
    return "cp312-abi3" if kind == ABI3 else "%s-%s" % (tag(kind), tag(kind))


def extension(kind):
    """The extension's path in the wheel."""
    if kind == ABI3:
        return "geometry/geometry.abi3.so"
    return "geometry/geometry.cpython-%s-x86_64-linux-gnu.so" % tag(kind)[2:]


_built = {}


@pytest.fixture(scope="session")
def native_wheel(tmp_path_factory):
    """native_wheel(kind): the path of the geometry wheel of that kind: a minor version (its
    native wheel) or ABI3 (the one abi3 wheel)."""

    def build(abi, python, target, label):
        out = str(tmp_path_factory.mktemp(label))
        env = dict(os.environ, HPY_PYTHON=python, CARGO_TARGET_DIR=os.path.join(ROOT, "target", target))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--disable-pip-version-check", "-q", "--config-settings", "hpy-abi=" + abi,
                        "-w", out, PROJECT], check=True, env=env)
        (wheel,) = glob.glob(os.path.join(out, "*.whl"))
        return wheel

    def get(kind):
        if kind in _built:
            return _built[kind]
        if kind == ABI3 and ABI3_WHEEL:
            wheel = ABI3_WHEEL
        elif kind == ABI3:
            if not ABI3_MINORS:
                pytest.skip("no CPython 3.12+ to build the abi3 wheel with")
            wheel = build("abi3", PYTHONS[ABI3_MINORS[0]], "wheels-abi3", "abi3")
        elif WHEEL_DIR:
            found = glob.glob(os.path.join(WHEEL_DIR, "%s-%s-*.whl" % (DIST, wheel_tag(kind))))
            if len(found) != 1:
                pytest.fail("HPYRS_NATIVE_WHEELS=%s: expected one wheel for CPython %s, found %r" % (WHEEL_DIR, kind, found))
            wheel = found[0]
        else:
            wheel = build("native", PYTHONS[kind], "wheels-native-" + tag(kind), "native-" + kind)
        _built[kind] = wheel
        return wheel

    return get


def names(wheel):
    with zipfile.ZipFile(wheel) as z:
        return sorted(n for n in z.namelist() if "/sboms/" not in n)


def read(wheel, name):
    with zipfile.ZipFile(wheel) as z:
        return z.read(name)


@pytest.mark.parametrize("kind", KINDS)
def test_name_tag_files_metadata(native_wheel, kind, tmp_path):
    wheel = native_wheel(kind)
    t = wheel_tag(kind)
    name = os.path.basename(wheel)
    assert re.fullmatch(r"%s-%s-(manylinux_\d+_\d+|linux)_x86_64\.whl" % (DIST, t), name), name
    tags = [l for l in read(wheel, DIST + ".dist-info/WHEEL").decode().splitlines() if l.startswith("Tag:")]
    assert len(tags) == 1 and re.fullmatch(r"Tag: %s-(manylinux_\d+_\d+|linux)_x86_64" % t, tags[0]), tags
    files = names(wheel)
    ext = [n for n in files if n.startswith("geometry/geometry.") and n.endswith(".so")]
    assert ext == [extension(kind)], files
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
    # and it defines (exports) that one symbol only
    if shutil.which("nm") is None:
        pytest.skip("no nm (binutils) to list the extension's dynamic symbols")
    so = tmp_path / "ext.so"
    so.write_bytes(binary)
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True, text=True, check=True)
    assert [l.split()[-1] for l in out.stdout.splitlines() if l.strip()] == ["PyInit_geometry"], out.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_record_and_stubs(native_wheel, kind):
    wheel = native_wheel(kind)
    assert_record_matches(wheel, DIST + ".dist-info")
    pyi = read(wheel, "geometry/__init__.pyi").decode()
    ast.parse(pyi)
    assert "class Point:" in pyi and "def move_by(self, v: Vector, /) -> None:" in pyi
    assert read(wheel, "geometry/py.typed") == b""


def install_and_probe(wheel, venv, make_venv, run=()):
    """Make a venv at `venv` with the command `make_venv`, `pip install --no-deps` the wheel into
    it, run PROBE there; return its result. `run`: the prefix that runs a command (in-root)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PIP_FIND_LINKS", None)   # a host directory, missing in a root
    run = list(run)
    subprocess.run(run + make_venv + [venv], check=True, cwd=venv, env=env)
    py = os.path.join(venv, "bin", "python")
    subprocess.run(run + [py, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", wheel],
                   check=True, cwd=venv, env=env)
    # outside the repo, so that the installed package is imported
    out = subprocess.run(run + [py, "-c", PROBE], env=env, capture_output=True, text=True, cwd=venv)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def check_probe(r, kind):
    assert r["has_hpy"] is False
    assert r["moved"] is None and (r["x"], r["y"]) == (2.0, 3.0)
    assert r["repr"] == "Point(2.0, 3.0)"
    assert r["point_module"] == "geometry"
    assert r["doc"] == "Points and vectors in the plane."
    assert r["ext"].endswith(os.path.join("site-packages", extension(kind)))


@pytest.mark.parametrize("minor", MINORS)
def test_installs_and_runs_without_hpy(native_wheel, minor, tmp_path_factory):
    venv = str(tmp_path_factory.mktemp("native-venv-" + minor))
    check_probe(install_and_probe(native_wheel(minor), venv, [PYTHONS[minor], "-m", "venv"]), minor)


# the abi3 wheel: the same file on every CPython 3.12+, and on 3.14 in its Debian root
@pytest.mark.parametrize("minor", ABI3_MINORS + ["3.14-root"])
def test_abi3_installs_and_runs_without_hpy(native_wheel, minor, tmp_path_factory):
    if minor != "3.14-root":
        venv = str(tmp_path_factory.mktemp("abi3-venv-" + minor))
        r = install_and_probe(native_wheel(ABI3), venv, [PYTHONS[minor], "-m", "venv"])
        check_probe(r, ABI3)
        assert r["version"][:2] == list(version(minor)), r["version"]
        return
    if not os.path.exists(IN_ROOT_314):
        pytest.skip("no %s (CPython 3.14's Debian root: tools/cpython314.sh makes it)" % IN_ROOT_314)
    wheel = native_wheel(ABI3)
    # under /tmp, which the root shares with the host (pytest's temporary base may be elsewhere)
    tmp = tempfile.mkdtemp(prefix="hpyrs-abi3-314-", dir="/tmp")
    try:
        venv = os.path.join(tmp, "venv")
        os.mkdir(venv)
        copy = shutil.copy(wheel, tmp)   # the wheel too: HPYRS_ABI3_WHEEL may be anywhere
        r = install_and_probe(copy, venv, ["python3.14", "-m", "venv"], run=[IN_ROOT_314])
        check_probe(r, ABI3)
        assert r["version"][:2] == [3, 14], r["version"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
