#!/usr/bin/env python3
"""Import time of the installed universal quickstart wheel on CPython (issue 17).

Installs the wheel (`pip wheel examples/quickstart`, as `make test` builds it) into a fresh venv
of the CPython given (its `hpy` requirement comes with it, as for a user), then times imports in
fresh processes, each the median of --runs processes (a 2-core shared machine is noisy: the
median of many, never one run). Every process runs from the venv's directory with the wheel's
bytecode compiled by pip (PYTHONDONTWRITEBYTECODE and PYTHONPATH are removed: they would time
compiling the loader, or another quickstart). What is timed, in-process with perf_counter:

  quickstart               `import quickstart` with `hpy.universal` already imported: what the
                           module itself costs (loader stub, dlopen, HPy's module creation,
                           hpy-rs's exec). This is the number checked against --limit-ms.
  hpy.universal            `import hpy.universal` alone: HPy's runtime, once per process for all
                           HPy modules (on CPython 3.11 it imports importlib.util for its
                           debug/trace submodules' specs: most of its cost, not hpy-rs's).
  after json (the wheel    `import quickstart` after `import json, sys, time`, hpy.universal
   test's number)          included: what tests/wheels/test_wheel.py prints.
  cold                     `import quickstart` as the first import of a `python -c`.

--breakdown adds the pieces of the module's own import, in processes with hpy.universal
imported: libgcc_s (the Rust runtime's unwinder library, loaded with the first Rust extension
of a process: PyO3's too), dlopen of the .hpy0.so, `_load_bootstrap` (HPy's module creation and
hpy-rs's exec, without the dlopen), and the rest (import system and loader stub).

--reference <file> times `import <module>` of another extension module (e.g. a PyO3 or C API
build of the benchmarks, build/bench/*.so) the same way, for comparison.

Exit status 1 if the median of "quickstart" is --limit-ms or more (measured once more before
failing: noise only makes imports slower).

    python3 tools/import_time.py --wheel build/wheel-test/quickstart-0.1.0-py3-none-*.whl \\
        --python /usr/bin/python3.11 [--runs 31] [--breakdown] [--reference build/bench/bench_pyo3*.so]
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Each snippet prints one float per piece: microseconds.
TIMED = {
    "quickstart": (
        "import time, hpy.universal\n"
        "t0 = time.perf_counter()\n"
        "import quickstart\n"
        "print((time.perf_counter() - t0) * 1e6)\n"),
    "hpy.universal": (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "import hpy.universal\n"
        "print((time.perf_counter() - t0) * 1e6)\n"),
    "after json (the wheel test's number)": (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import quickstart\n"
        "print((time.perf_counter() - t0) * 1e6)\n"),
    "cold": (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "import quickstart\n"
        "print((time.perf_counter() - t0) * 1e6)\n"),
}

BREAKDOWN = r"""
import ctypes, importlib.util, os, time, hpy.universal
t = time.perf_counter
spec = importlib.util.find_spec("quickstart")
path = os.path.join(os.path.dirname(spec.origin), "quickstart.hpy0.so")
t0 = t(); ctypes.CDLL("libgcc_s.so.1"); t1 = t(); ctypes.CDLL(path); t2 = t()
hpy.universal._load_bootstrap("quickstart", "quickstart", "quickstart", path, spec.loader, spec, os.environ)
t3 = t()
print((t1 - t0) * 1e6, (t2 - t1) * 1e6, (t3 - t2) * 1e6)
"""

REFERENCE = (
    "import importlib.machinery, sys, time\n"
    "sys.path.insert(0, {directory!r})\n"
    # the new path entry's finder made first: time the module, not the directory
    "importlib.machinery.PathFinder.find_spec({module!r})\n"
    "t0 = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - t0) * 1e6)\n")


def child_env():
    env = dict(os.environ)
    for var in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME", "HPY", "HPY_LOG"):
        env.pop(var, None)
    return env


def run_many(python, code, runs, cwd):
    """Per printed column, the list of values over `runs` fresh processes."""
    columns = None
    for _ in range(runs):
        out = subprocess.run([python, "-c", code], cwd=cwd, env=child_env(), capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit("import_time: a timed process failed:\n" + out.stderr)
        values = [float(v) for v in out.stdout.split()]
        columns = columns or [[] for _ in values]
        for column, value in zip(columns, values):
            column.append(value)
    return columns


def fmt(values):
    return "%7.0f µs median  (min %5.0f, max %6.0f)" % (statistics.median(values), min(values), max(values))


def install(python, wheel, directory):
    venv = os.path.join(directory, "venv")
    subprocess.run([python, "-m", "venv", venv], check=True)
    py = os.path.join(venv, "bin", "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel],
                   check=True, env=child_env())
    return py, venv


def default_wheel():
    found = sorted(glob.glob(os.path.join(ROOT, "build", "wheel-test", "quickstart-*-py3-none-*.whl")),
                   key=os.path.getmtime)
    return found[-1] if found else None


def default_python():
    out = subprocess.run([os.path.join(HERE, "pythons.sh")], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        minor, _, path = line.partition(" ")
        if minor == "3.11":
            return path
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", default=default_wheel(),
                        help="the universal quickstart wheel (default: the newest build/wheel-test/quickstart-*-py3-none-*.whl)")
    parser.add_argument("--python", default=default_python(), help="the CPython (default: 3.11 of tools/pythons.sh)")
    parser.add_argument("--runs", type=int, default=31, help="fresh processes per number (default 31)")
    parser.add_argument("--limit-ms", type=float, default=1.0,
                        help="fail if the median of `import quickstart` (hpy.universal imported) is this or more (default 1.0)")
    parser.add_argument("--breakdown", action="store_true", help="also time the pieces of the module's own import")
    parser.add_argument("--reference", action="append", default=[], metavar="FILE",
                        help="also time `import <module>` of this extension module file (repeatable)")
    args = parser.parse_args()
    if not args.wheel or not os.path.isfile(args.wheel):
        sys.exit("import_time: no wheel (build one: pip wheel examples/quickstart, or pass --wheel)")
    if not args.python:
        sys.exit("import_time: no CPython 3.11 found (pass --python)")

    directory = tempfile.mkdtemp(prefix="hpyrs-import-time-")
    try:
        py, venv = install(args.python, args.wheel, directory)
        version = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        print("import time of %s on CPython %s, median of %d fresh processes each"
              % (os.path.basename(args.wheel), version, args.runs))
        run_many(py, TIMED["quickstart"], 3, venv)  # warm the page cache: time imports, not disk reads
        results = {}
        for name, code in TIMED.items():
            (results[name],) = run_many(py, code, args.runs, venv)
            print("  %-38s %s" % (name, fmt(results[name])))
        if args.breakdown:
            gcc, dlopen, load = run_many(py, BREAKDOWN, args.runs, venv)
            rest = [max(statistics.median(results["quickstart"]) - statistics.median(gcc)
                        - statistics.median(dlopen) - statistics.median(load), 0.0)]
            print("  the module's own import, in pieces:")
            print("    %-36s %s" % ("libgcc_s (first Rust extension)", fmt(gcc)))
            print("    %-36s %s" % ("dlopen of quickstart.hpy0.so", fmt(dlopen)))
            print("    %-36s %s" % ("_load_bootstrap without the dlopen", fmt(load)))
            print("    %-36s %7.0f µs (quickstart's median less the above)" % ("import system + loader stub", rest[0]))
        for path in args.reference:
            module = os.path.basename(path).split(".")[0]
            code = REFERENCE.format(directory=os.path.dirname(os.path.abspath(path)), module=module)
            try:
                (values,) = run_many(py, code, args.runs, venv)
            except SystemExit as e:
                print("  reference %s: not timed (%s)" % (module, str(e).strip().splitlines()[-1]))
                continue
            print("  %-38s %s" % ("reference: import " + module, fmt(values)))

        limit_us = args.limit_ms * 1000
        median = statistics.median(results["quickstart"])
        if median >= limit_us:
            (again,) = run_many(py, TIMED["quickstart"], args.runs, venv)
            print("  %-38s %s (measured again: over the limit)" % ("quickstart", fmt(again)))
            median = min(median, statistics.median(again))
        verdict = "under" if median < limit_us else "NOT under"
        print("import quickstart (hpy.universal imported): %.2f ms, %s the %.2f ms limit" % (median / 1000, verdict, args.limit_ms))
        return 0 if median < limit_us else 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
