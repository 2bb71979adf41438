"""The loader stub next to a universal module: `<name>.py` beside `<name>.hpy0.so`.

CPython's import system does not know `.hpy0.so` files; the stub loads the binary through
`hpy.universal._load_bootstrap`, which honours `HPY=debug`, `HPY=trace` and `HPY=name:mode,...`.
Unlike the stub written by hpy.devel, it finds the binary relative to `__file__` and never
imports `pkg_resources` (slow, and gone from setuptools 82).

Usage: python tools/hpy_stub.py <directory> <module-name>
"""
import os
import sys

# The same loader the wheels carry (tools/pep517/hpy_build), so tests exercise what users get.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pep517"))
from hpy_build.wheel import LOADER  # noqa: E402


def stub_source(name):
    return LOADER.format(name=name, file=name + ".hpy0.so")


def write_stub(directory, name):
    path = os.path.join(directory, name + ".py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(stub_source(name))
    return path


if __name__ == "__main__":
    print(write_stub(sys.argv[1], sys.argv[2]))
