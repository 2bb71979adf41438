"""`make demo`: import the quickstart module (built from examples/quickstart) the way a user
would, through its loader stub, once with HPY=universal and once with HPY=debug, and show what
it does. Same binary both times: HPy picks the mode at load time.

Usage: python tools/demo.py <directory with quickstart.py and quickstart.hpy0.so>
"""
import os
import subprocess
import sys


def show(expr, namespace):
    try:
        result = repr(eval(expr, namespace))
    except Exception as e:  # the point is to show the exception
        result = "raises %s: %s" % (type(e).__name__, e)
    print("    %-44s -> %s" % (expr, result))


def child():
    import quickstart
    from hpy.debug import LeakDetector
    mode = os.environ["HPY"]
    print("\n[HPY=%s] import quickstart -> context %r" % (mode, quickstart.context_name()))
    ns = {"quickstart": quickstart}
    with LeakDetector():  # in debug mode: fails if any call below leaked a handle
        for expr in [
            "quickstart.add(40, 2)",
            "quickstart.add(2**63, 0)",
            "quickstart.add('x', 2)",
            "quickstart.add(1)",
            "quickstart.greet('Ada', punctuation='?')",
            "quickstart.greet('Ada', bogus=1)",
            "quickstart.stats([1, 2, 3.5])",
            "quickstart.word_counts('to be or not to be')",
            "quickstart.apply(lambda s: s.upper(), 'called back')",
            "quickstart.sum_of_squares(1000)",
            "[quickstart.counter() for _ in range(3)]",
            "quickstart.fail('custom error')",
            "quickstart.panics()",
        ]:
            show(expr, ns)
    if mode == "debug":
        print("    leak detector around all calls above: no leaked handles")


def main():
    directory = os.path.abspath(sys.argv[1])
    import hpy.universal
    so = os.path.join(directory, "quickstart.hpy0.so")
    print("CPython %s, hpy %s: %s (%d bytes, one binary for every mode)" % (
        sys.version.split()[0], hpy.universal.get_version()[0], so, os.path.getsize(so)))
    for mode in ("universal", "debug"):
        env = dict(os.environ, HPY=mode, PYTHONPATH=directory, RUST_BACKTRACE="0")
        sys.stdout.flush()
        # the panic message Rust prints on stderr is hidden: the demo shows the Python side
        rc = subprocess.call([sys.executable, __file__, "--child"], env=env, stderr=subprocess.DEVNULL)
        if rc != 0:
            sys.exit("the demo failed in %s mode (exit code %d)" % (mode, rc))


if __name__ == "__main__":
    child() if sys.argv[1:] == ["--child"] else main()
