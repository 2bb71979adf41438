"""The loader stub next to a universal module: `<name>.py` beside `<name>.hpy0.so`.

CPython's import system does not know `.hpy0.so` files; the stub loads the binary through
`hpy.universal._load_bootstrap`, which honours `HPY=debug`, `HPY=trace` and `HPY=name:mode,...`.
Unlike the stub written by hpy.devel, it finds the binary relative to `__file__` and never
imports `pkg_resources` (slow, and gone from setuptools 82).

Usage: python tools/hpy_stub.py <directory> <module-name>
"""
import os
import sys

TEMPLATE = '''\
# Loader for the universal HPy module {name}.hpy0.so (written by hpy-rs; do not edit).
def __bootstrap__():
    import os
    import sys
    from hpy.universal import _load_bootstrap
    path = os.path.join(os.path.dirname(__file__), {file!r})
    module = _load_bootstrap({name!r}, __name__, __package__, path, __loader__, __spec__, os.environ)
    sys.modules[__name__] = module


__bootstrap__()
'''


def stub_source(name):
    return TEMPLATE.format(name=name, file=name + ".hpy0.so")


def write_stub(directory, name):
    path = os.path.join(directory, name + ".py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(stub_source(name))
    return path


if __name__ == "__main__":
    print(write_stub(sys.argv[1], sys.argv[2]))
