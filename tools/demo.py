"""`make demo`: load a built hpy-rs module in universal and in debug mode and show what it does.

Usage: python tools/demo.py <path/to/rawadd.hpy0.so>
The same binary is loaded twice (from two copies: see tests/python/conftest.py for why).
"""
import importlib.util
import os
import shutil
import sys
import tempfile

import hpy.universal
from hpy.debug import LeakDetector


def load(so, mode_name, mode):
    directory = tempfile.mkdtemp(prefix="hpyrs-demo-%s-" % mode_name)
    target = os.path.join(directory, os.path.basename(so))
    shutil.copy(so, target)
    spec = importlib.util.spec_from_file_location("rawadd", target)
    return hpy.universal.load("rawadd", target, spec, mode=mode)


def show(expr, fn):
    try:
        result = repr(fn())
    except Exception as e:  # the point is to show the exception
        result = "raises %s: %s" % (type(e).__name__, e)
    print("    %-22s -> %s" % (expr, result))


def main():
    so = sys.argv[1]
    print("CPython %s, hpy %s; module %s (%d bytes, one binary for every mode)" % (
        sys.version.split()[0], hpy.universal.get_version()[0], os.path.basename(so),
        os.path.getsize(so)))
    for mode_name, mode in [("universal", hpy.universal.MODE_UNIVERSAL),
                            ("debug", hpy.universal.MODE_DEBUG)]:
        m = load(so, mode_name, mode)
        print("\n[%s mode] the module runs with context %r" % (mode_name, m.ctx_name()))
        detector = LeakDetector()
        detector.start()
        show("add(40, 2)", lambda: m.add(40, 2))
        show('add("x", 2)', lambda: m.add("x", 2))
        show("add(2**62, 2**62)", lambda: m.add(2**62, 2**62))
        show("add(1)", lambda: m.add(1))
        detector.stop()  # raises HPyLeakError if the calls above leaked a handle
        if mode_name == "debug":
            print("    leak detector around the calls: no leaked handles")


if __name__ == "__main__":
    main()
