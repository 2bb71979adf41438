"""The sdist of a project (tools/pep517/hpy_build/sdist.py): maturin's, without build outputs.
The sdist of quickstart (backend-path, a workspace member) is built and installed by
tests/wheels/test_wheel.py::test_sdist_builds_and_installs."""
import os
import tarfile

import pytest

from projects import backend, template_project

from hpy_build import sdist, wheel


@pytest.mark.parametrize("rel, out", [
    ("target/debug/libm.so", True),
    ("build/hpy-develop/py3-none-any/m/__init__.py", True),
    ("dist/m-0.1.0-py3-none-any.whl", True),
    ("crate/target/x", True),          # the crate directory's outputs too
    ("crate/dist/x.tar.gz", True),
    ("m.hpy0.so", True),
    ("m.py", True),                    # the loader stub next to m.hpy0.so
    ("m.pyi", True),
    ("src/__pycache__/x.cpython-311.pyc", True),
    ("x.egg-info/PKG-INFO", True),
    (".venv/bin/python", True),
    ("src/lib.rs", False),
    ("src/build/mod.rs", False),       # a source directory named build, not at the top
    ("build.rs", False),
    ("hpy/src/target.rs", False),
    ("tests/test_m.py", False),
    ("other.py", False),
    ("Cargo.lock", False),
])
def test_is_build_output(rel, out):
    names = {"m.hpy0.so", "m.py", "m.pyi", "other.py"}
    assert sdist.is_build_output(rel, ["", "crate"], names) is out


def test_is_loader_stub():
    stub = wheel.LOADER.format(name="m", file="m.hpy0.so").encode()
    assert sdist.is_loader_stub("m", stub)
    assert not sdist.is_loader_stub("m", b'"""My own module."""\n')
    assert not sdist.is_loader_stub("other", stub)


def plant(project, rel, data=b"x"):
    path = os.path.join(project, *rel.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def test_sdist_of_a_template_project_leaves_build_outputs_out(tmp_path):
    project = template_project(tmp_path, "leftovers")
    # what a develop loop leaves behind: the old one (tools/hpy_stub.py's loader stub and a copied
    # library at the top) and the new one (build/hpy-develop), wheels, caches, a venv
    junk = ["dist/leftovers-0.1.0-py3-none-any.whl", "dist/leftovers-0.1.0.tar.gz",
            "target/debug/libleftovers.so", "target/header.h",
            "build/hpy-develop/py3-none-any/leftovers/__init__.py",
            "leftovers.hpy0.so", "src/__pycache__/x.cpython-311.pyc",
            "tests/__pycache__/test_leftovers.cpython-311-pytest-9.pyc", ".pytest_cache/README.md",
            "leftovers.egg-info/PKG-INFO", ".venv/pyvenv.cfg"]
    for rel in junk:
        plant(project, rel)
    plant(project, "leftovers.py", wheel.LOADER.format(name="leftovers", file="leftovers.hpy0.so").encode())
    # a loader stub without its binary (the binary is not in the sdist either)
    plant(project, "stale.py", wheel.LOADER.format(name="stale", file="stale.hpy0.so").encode())
    # sources that stay, whatever their names; a `.pyi` at the top is the project's own (maturin's
    # place for hand-written stubs: only one beside a .hpy0.so in the sdist is an output)
    sources = ["src/build/mod.rs", "python/helper.py", "data/target.txt", "leftovers.pyi"]
    for rel in sources:
        plant(project, rel)
    name = backend(project, "build_sdist", str(tmp_path / "out"),
                   env=dict(os.environ, CARGO_TARGET_DIR=str(tmp_path / "target")))
    assert name == "leftovers-0.1.0.tar.gz"
    with tarfile.open(str(tmp_path / "out" / name)) as tar:
        members = sorted(m.name[len("leftovers-0.1.0/"):] for m in tar.getmembers() if m.isfile())
    assert members == sorted(["Cargo.lock", "Cargo.toml", "PKG-INFO", "README.md", "pyproject.toml",
                              "src/lib.rs", "tests/test_leftovers.py"] + sources)
