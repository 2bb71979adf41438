"""`make bench`: the same operations on hpy-rs, C on HPy (universal ABI), the C API and PyO3,
measured round-robin in one process; hpy-rs and C-HPy also in HPy's debug mode, and hpy-rs
also built natively (hpy-rs-native: the same crate on CPython's own C API, CPython only).

Usage: python bench/run.py <modules-dir> [--callgrind] [--quick] [--pypy <pypy.json>]
       python bench/run.py <modules-dir> --check [--hpy-only]   (make test: no measurement)
                            [--stable-abi-results <stable-abi.json>]
       pypy3 bench/run.py <modules-dir> --out <pypy.json> [--quick]
       python3.12 bench/run.py --stable-abi <stable-dir> [--out <stable-abi.json>] [--callgrind] [--quick]
       python bench/run.py --render   (rewrite BENCHMARKS.md from the recorded results)

<modules-dir> holds bench_capi<EXT_SUFFIX>, bench_pyo3<EXT_SUFFIX>, bench_chpy.hpy0.so,
bench_hpyrs.hpy0.so and, on CPython, native/bench_hpyrs<EXT_SUFFIX> (bench/bench.sh builds
them). Writes bench/results/latest.json, the chart bench/results/ratios.png and BENCHMARKS.md,
and prints the table.

Wall time: timeit, the best of several repeats, variants interleaved (in an order that rotates
every repeat) so that machine noise and position effects hit all of them alike. Instructions
(--callgrind): valgrind's callgrind counts the instructions of the loop at two lengths; their
difference divided by the extra iterations is the cost of one operation, with the interpreter's
start-up cancelled out. Counts are stable on a noisy machine. BENCH_CALLGRIND_KEEP=<dir> keeps
callgrind's output files there (<variant>.<op>.<iterations>.out; those of --stable-abi in
<dir>/stable-abi/) for callgrind_annotate.

On PyPy (bench/bench.sh runs this file with PyPy first) only wall time is measured, and written
to --out; the CPython run then stores it under "pypy" in latest.json (--pypy) and BENCHMARKS.md
shows it. The .hpy0.so files are the very binaries CPython loads; the C API and PyO3 modules
are built for PyPy's cpyext.

The stable ABI (--stable-abi, on CPython 3.12, the floor of the limited API 3.12 that the abi3
build targets): the same operations on STABLE_VARIANTS, each module in <stable-dir>/<variant>/
(the C API module with the full API and with -DPy_LIMITED_API=0x030c0000, bench/hpyrs built with
hpy/native and with hpy/abi3), loaded by path, without hpy. With --out the results go to that
file, which the main CPython run stores under "stable_abi" (--stable-abi-results); without it
they are stored into the recorded latest.json directly and BENCHMARKS.md is rewritten.
"""
import importlib.machinery
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import timeit

import workloads  # bench/workloads.py: the realistic workloads, their specification and check

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VARIANTS = ["c-api", "c-hpy", "c-hpy-debug", "hpy-rs", "hpy-rs-debug", "hpy-rs-native", "pyo3"]
# hpy-rs built with the cargo feature hpy/native: a CPython extension (PyInit_bench_hpyrs), its
# file in a directory of its own, as its module name is the universal binary's.
NATIVE_DIR = "native"
PYPY = sys.implementation.name == "pypy"
# --stable-abi: the full C API and the stable ABI (limited API 3.12), for C and for hpy-rs; the
# directory of each under <stable-dir>, and the module file's name there (any extension suffix).
STABLE_VARIANTS = {"c-api": "bench_capi", "c-api-abi3": "bench_capi", "hpy-rs-native": "bench_hpyrs",
                   "hpy-rs-abi3": "bench_hpyrs"}

# op name -> (statement, setup). In the setup, `m` is the module; `o` an instance of m.Foo.
OPS = {
    "noargs": ("f()", "f = m.noargs"),
    "onearg(None)": ("f(None)", "f = m.onearg"),
    "onearg(int)": ("f(1)", "f = m.onearg"),
    "varargs(2)": ("f(1, 2)", "f = m.varargs"),
    "keywords(a=1, b=2)": ("f(a=1, b=2)", "f = m.keywords"),
    "add_ints(1, 2)": ("f(1, 2)", "f = m.add_ints"),
    "call(tuple)": ("f(g, t)", "f = m.call_with_tuple; g = len; t = ((1, 2),)"),
    "call(tuple, dict)": ("f(g, t, d)", "f = m.call_with_tuple_and_dict; g = dict; t = (); d = {'a': 1}"),
    "allocate int": ("f()", "f = m.allocate_int"),
    "allocate tuple": ("f()", "f = m.allocate_tuple"),
    "instantiate+free": ("C()", "C = m.Foo"),
    "method noargs": ("o.noargs()", "o = m.Foo()"),
    "method onearg": ("o.onearg(1)", "o = m.Foo()"),
    "method varargs": ("o.varargs(1, 2)", "o = m.Foo()"),
    "field via method": ("o.field()", "o = m.Foo()"),
    "attribute": ("o.value", "o = m.Foo()"),
    "len": ("len(o)", "o = m.Foo()"),
    "item": ("o[1]", "o = m.Foo()"),
    "type from spec": ("f()", "f = m.make_type"),
}


def load_by_path(directory, name):
    """The C extension module `name` in `directory` (the first file name ending in one of this
    interpreter's extension suffixes, `.abi3.so` among them), loaded by path (importlib's
    ExtensionFileLoader, through spec_from_file_location) and not through sys.path or
    sys.modules: the native and stable-ABI builds share their module names with other variants.
    A CPython extension, never an HPy module. None if there is no such file."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, name + suffix)
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location(name, path)
            assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader), spec
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            assert not hasattr(module, "__hpy_abi__"), "not a CPython extension: %s" % path
            return module
    return None


def load_native(directory):
    """The native hpy-rs module, loaded by path: its name, bench_hpyrs, is also the universal
    module's. None if it was not built (PyPy)."""
    return load_by_path(os.path.join(directory, NATIVE_DIR), "bench_hpyrs")


def load_stable_abi(directory):
    """--stable-abi: variant -> module, in the order of STABLE_VARIANTS, each from
    <directory>/<variant>/ by path. Imports nothing of hpy."""
    mods = {}
    for variant, name in STABLE_VARIANTS.items():
        mods[variant] = load_by_path(os.path.join(directory, variant), name)
        if mods[variant] is None:
            raise SystemExit("no %s/%s<extension suffix>: bench/bench.sh builds it" % (
                os.path.join(directory, variant), name))
    return mods


def load_modules(directory):
    """variant -> module, in the order of VARIANTS. HPy modules are loaded from copies: one
    binary loaded twice (universal and debug) would share its trampoline context."""
    sys.path.insert(0, directory)
    mods = {"c-api": __import__("bench_capi"), "pyo3": __import__("bench_pyo3")}
    if not PYPY:
        native = load_native(directory)
        if native is None:
            raise SystemExit("no %s/bench_hpyrs%s: bench/bench.sh builds it" % (
                os.path.join(directory, NATIVE_DIR), importlib.machinery.EXTENSION_SUFFIXES[0]))
        mods["hpy-rs-native"] = native
    mods.update(load_hpy_modules(directory))
    return {v: mods[v] for v in VARIANTS if v in mods}


def load_hpy_modules(directory):
    """The HPy variants (c-hpy and hpy-rs, universal and debug), from copies of their .hpy0.so."""
    import hpy.universal as U
    mods = {}
    for name, variant in [("bench_chpy", "c-hpy"), ("bench_hpyrs", "hpy-rs")]:
        for suffix, mode in [("", U.MODE_UNIVERSAL), ("-debug", U.MODE_DEBUG)]:
            tmp = tempfile.mkdtemp(prefix="hpyrs-bench-")
            path = os.path.join(tmp, name + ".hpy0.so")
            shutil.copy(os.path.join(directory, name + ".hpy0.so"), path)
            spec = importlib.util.spec_from_file_location(name, path)
            mods[variant + suffix] = U.load(name, path, spec, mode=mode)
    return mods


def main_check(args):
    """--check: no measurement; the variants in <modules-dir> agree on the micro-operations and
    behave alike on the workloads (bench/workloads.py's check, against its plain-Python
    specification too). --hpy-only: the .hpy0.so files alone (PyPy in `make test`, where the
    C API and PyO3 modules are not built)."""
    directory = os.path.abspath(args[0])
    mods = load_hpy_modules(directory) if "--hpy-only" in args else load_modules(directory)
    check(mods)
    names = workloads.check(dict(mods, python=workloads.PythonModule))
    print("bench check on %s: %s agree with the specification and with each other" % (
        pypy_version() if PYPY else "CPython " + sys.version.split()[0], ", ".join(n for n in names if n != "python")))


def check(mods):
    """The variants agree on what the operations return (a benchmark of different work is void)."""
    for v, m in mods.items():
        o = m.Foo()
        got = (m.add_ints(1, 2), m.allocate_int(), m.allocate_tuple(), o.field(), o.value, len(o), o[3],
               m.call_with_tuple(len, ((1, 2),)), m.call_with_tuple_and_dict(dict, (), {"a": 1}),
               m.keywords(a=1, b=2), m.varargs(1, 2), m.noargs(), isinstance(m.make_type(), type))
        assert got == (3, 2048, (2048, 2049), 42, 42, 42, 3, 2, {"a": 1}, None, None, None, True), (v, got)


def wall(mods, repeats, target_s, per_variant=False, ops=OPS):
    """ns per operation of `ops` (OPS or workloads.WORKLOADS), for every variant."""
    timers = {}
    for op, (stmt, setup) in ops.items():
        for v, m in mods.items():
            g = {"m": m, "w": workloads, "len": len, "dict": dict}
            exec(setup, g)
            timers[op, v] = timeit.Timer(stmt, globals=g)
    # iterations per op: enough for ~target_s on the C-API variant. per_variant (PyPy): each
    # variant gets its own count, as HPy's debug mode there is about a thousand times slower
    # than the others; autorange also warms the JIT up on every loop.
    numbers = {}
    for op in ops:
        if per_variant:
            for v in mods:
                n, t = timers[op, v].autorange()
                numbers[op, v] = max(10, int(n * target_s / max(t, 1e-9)))
        else:
            n, t = timers[op, "c-api"].autorange()
            for v in mods:
                numbers[op, v] = max(1000, int(n * target_s / max(t, 1e-9)))
    best = {key: float("inf") for key in timers}
    # The order of the variants rotates every repeat: measured in a fixed order, the variant
    # timed first after another one came out up to 10% faster on the same machine code.
    order = list(mods)
    for _ in range(repeats):
        order = order[1:] + order[:1]
        for op in ops:
            for v in order:
                t = timers[op, v].timeit(numbers[op, v]) / numbers[op, v]
                best[op, v] = min(best[op, v], t)
    return {op: {v: best[op, v] * 1e9 for v in mods} for op in ops}


CALLGRIND_SCRIPT = r"""
import sys
sys.argv = ["run.py"]
sys.path.insert(0, {here!r})
import run
import workloads
mods = run.{loader}({directory!r})
m = mods[{variant!r}]
g = {{"m": m, "w": workloads, "len": len, "dict": dict}}
exec({setup!r}, g)
exec(compile("for _ in range({n}):\n    " + {stmt!r}, "loop", "exec"), g)
"""


def instructions(directory, op, variant, n, loader="load_modules", ops=OPS):
    stmt, setup = ops[op]
    script = CALLGRIND_SCRIPT.format(here=HERE, loader=loader, directory=directory, variant=variant, setup=setup,
                                     stmt=stmt, n=n)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        keep = os.environ.get("BENCH_CALLGRIND_KEEP")
        if keep:
            if loader == "load_stable_abi":
                keep = os.path.join(keep, "stable-abi")   # its c-api and hpy-rs-native are 3.12's
            os.makedirs(keep, exist_ok=True)
            out = os.path.join(keep, "%s.%s.%d.out" % (variant, "".join(c if c.isalnum() else "_" for c in op), n))
        # A fixed hash seed: string hashing (dict lookups) costs the same in every run.
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, "-c", script],
                       check=True, capture_output=True, env=dict(os.environ, PYTHONHASHSEED="0"))
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("no callgrind total")


def callgrind(directory, variants, loader="load_modules", ops=OPS, lengths=None):
    """Instructions per operation, for every op of `ops` and variant (the modules loaded by
    `loader`, a function of this file), from loops of two lengths: `lengths[op]` (a tenth of
    it for the debug modes), else 2000 and 12000. The valgrind runs are independent (counts do not depend on machine load), so they
    run on every CPU at once."""
    from concurrent.futures import ThreadPoolExecutor
    loops = {}
    for op in ops:
        for v in variants:
            n1, n2 = (lengths or {}).get(op, (2000, 12000))
            if v.endswith("-debug") and op in (lengths or {}):
                # HPy's debug mode runs a program 10-1000 times slower (a str's UTF-8 is copied
                # into pages of its own, for one): a tenth of the iterations, each much longer
                n1, n2 = n1 // 10, n2 // 10
            loops[op, v] = (n1, n2)
    jobs = [(op, v, n) for op in ops for v in variants for n in loops[op, v]]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: instructions(directory, *job, loader=loader, ops=ops), jobs)))
    result = {}
    for op in ops:
        result[op] = {v: (counts[op, v, loops[op, v][1]] - counts[op, v, loops[op, v][0]])
                         / (loops[op, v][1] - loops[op, v][0]) for v in variants}
        print("  instructions: %-20s %s" % (op, "  ".join("%s=%.0f" % (v, result[op][v]) for v in variants)),
              file=sys.stderr)
    return result


def ratio(a, b):
    return a / b if b else float("nan")


RATIOS = [("rs/c-hpy", "hpy-rs", "c-hpy"), ("rs/c-api", "hpy-rs", "c-api"), ("rs/pyo3", "hpy-rs", "pyo3")]
# The native build against the C API (target: at most 1.05x in instructions) and PyO3 (below
# 1.00x on every call).
NATIVE_RATIOS = [("nat/c-api", "hpy-rs-native", "c-api"), ("nat/pyo3", "hpy-rs-native", "pyo3")]
# On PyPy also: the debug modes against each other, and C on HPy against the C API (cpyext),
# the comparison HPy's own speed claim for PyPy is about. (No native build there.)
PYPY_RATIOS = RATIOS[:1] + [("dbg/c-dbg", "hpy-rs-debug", "c-hpy-debug")] + RATIOS[1:] + [
    ("c-hpy/c-api", "c-hpy", "c-api")]


# The workloads: hpy-rs against C on HPy in both modes (the targets: at most 1.00x in
# instructions), the C API and PyO3; the native build against the C API (at most 1.05x) and PyO3.
WORKLOAD_RATIOS = RATIOS[:1] + [("dbg/c-dbg", "hpy-rs-debug", "c-hpy-debug")] + RATIOS[1:] + NATIVE_RATIOS
# callgrind's two loop lengths for the workloads that are programs rather than a few calls
# (the others get the micro-operations' 2000 and 12000: 100 iterations of `a + b` are too few
# for a stable difference)
WORKLOAD_LENGTHS = {"array sum(iter(a))": (1000, 6000), "array rk4 (4 bodies)": (200, 1200),
                    "decode (40 records)": (200, 1200), "encode (40 records)": (200, 1200)}


# --stable-abi: what the stable ABI costs C and hpy-rs (abi3 build / full-API build of the same
# source), and hpy-rs on the stable ABI against C on the full API.
STABLE_RATIOS = [("c abi3/full", "c-api-abi3", "c-api"), ("rs abi3/full", "hpy-rs-abi3", "hpy-rs-native"),
                 ("rs-abi3/c-api", "hpy-rs-abi3", "c-api")]


def table(results, unit, ratios=RATIOS + NATIVE_RATIOS, order=VARIANTS,
          legend="rs = hpy-rs, nat = hpy-rs-native, dbg = hpy-rs-debug, c-dbg = c-hpy-debug"):
    """One row per op: the variants the results have, in `order` (results recorded before
    hpy-rs-native existed have no such column), then the ratios between them."""
    first = next(iter(results.values()))
    variants = [v for v in order if v in first]
    ratios = [r for r in ratios if r[1] in first and r[2] in first]
    w = max([12] + [len(name) + 2 for name, _, _ in ratios])
    opw = max([20] + [len(op) + 1 for op in results])
    head = "%-*s" % (opw, "operation") + "".join("%14s" % v for v in variants) + "".join(
        "%*s" % (w, name) for name, _, _ in ratios)
    lines = [head, "-" * len(head)]
    for op, row in results.items():
        lines.append("%-*s" % (opw, op) + "".join("%14.1f" % row[v] for v in variants) + "".join(
            "%*.2f" % (w, ratio(row[a], row[b])) for _, a, b in ratios))
    lines.append(textwrap.fill("(%s per operation; ratios: the first variant divided by the second, %s; lower "
                               "is better for the first)" % (unit, legend), width=100, break_on_hyphens=False))
    return "\n".join(lines)


def chart(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ops = list(results)
    bars = [("hpy-rs", "c-hpy", "hpy-rs / C on HPy (universal)"), ("hpy-rs", "c-api", "hpy-rs / C API"),
            ("hpy-rs", "pyo3", "hpy-rs / PyO3"), ("hpy-rs-native", "c-api", "hpy-rs-native / C API"),
            ("hpy-rs-native", "pyo3", "hpy-rs-native / PyO3")]
    bars = [b for b in bars if b[0] in results[ops[0]]]
    fig, ax = plt.subplots(figsize=(14, 6))
    width = 0.8 / len(bars)
    for i, (a, b, label) in enumerate(bars):
        ax.bar([x + (i - (len(bars) - 1) / 2) * width for x in range(len(ops))],
               [ratio(results[op][a], results[op][b]) for op in ops], width, label=label)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(ops)))
    ax.set_xticklabels(ops, rotation=40, ha="right")
    ax.set_ylabel("time ratio (lower is better for hpy-rs)")
    ax.set_title("hpy-rs (universal and native) compared with C on HPy, the C API and PyO3 (wall time, one run)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def cpu_model():
    """The processor's name (platform.processor() is empty on most Linux systems)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def toolchain(lock, crate):
    """python, machine, rustc, and the version of `crate` in the Cargo.lock `lock`."""
    out = {"python": sys.version.split()[0],
           "machine": "%s %s, %s, %d CPUs" % (platform.machine(), platform.system(), cpu_model(), os.cpu_count() or 0)}
    try:
        out["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    if os.path.exists(lock):
        text = open(lock).read()
        key = 'name = "%s"\nversion = "' % crate
        i = text.find(key)
        if i >= 0:
            out[crate] = text[i + len(key):].split('"')[0]
    return out


def versions():
    import hpy.universal
    out = toolchain(os.path.join(HERE, "pyo3", "Cargo.lock"), "pyo3")
    out["hpy"] = hpy.universal.get_version()[0]
    return out


def pypy_version():
    v = sys.pypy_version_info
    return "PyPy %d.%d.%d (Python %s)" % (v.major, v.minor, v.micro, sys.version.split()[0])


def main_pypy(args):
    """PyPy: wall time of every op and variant, written to --out for the CPython run to record."""
    import hpy.universal
    directory = os.path.abspath(args[0])
    out = args[args.index("--out") + 1]
    quick = "--quick" in args
    mods = load_modules(directory)
    check(mods)
    workloads.check(mods)
    print("hpy-rs bench: %s, %d operations x %d variants, round-robin (wall time)" % (
        pypy_version(), len(OPS), len(mods)), file=sys.stderr)
    ns = wall(mods, repeats=3 if quick else 2 * len(mods), target_s=0.005 if quick else 0.02, per_variant=True)
    print(table(ns, "ns", PYPY_RATIOS))
    work = wall(mods, repeats=3 if quick else 2 * len(mods), target_s=0.005 if quick else 0.05, per_variant=True,
                ops=workloads.WORKLOADS)
    print(table(work, "ns", PYPY_RATIOS))
    with open(out, "w") as f:
        json.dump({"python": pypy_version(), "hpy": hpy.universal.get_version()[0], "unit": "ns", "ops": ns,
                   "workloads": {"unit": "ns", "ops": work}}, f, indent=2)


def stable_abi_versions():
    """python, machine, rustc and pyo3-ffi of a --stable-abi run (no hpy: it does not load it)."""
    return toolchain(os.path.join(ROOT, "Cargo.lock"), "pyo3-ffi")


def main_stable_abi(args):
    """--stable-abi <dir>: the C API and hpy-rs, each on the full API and on the stable ABI, on
    this CPython (3.12: the floor of the abi3 build); wall time, and instructions with
    --callgrind. To --out, or into the recorded latest.json."""
    directory = os.path.abspath(args[args.index("--stable-abi") + 1])
    quick = "--quick" in args
    mods = load_stable_abi(directory)
    check(mods)
    assert "hpy" not in sys.modules and "hpy.universal" not in sys.modules, "the stable-ABI run loaded hpy"
    print("hpy-rs bench, stable ABI: CPython %s, %d operations x %d variants, round-robin" % (
        sys.version.split()[0], len(OPS), len(mods)), file=sys.stderr)
    ns = wall(mods, repeats=3 if quick else 2 * len(mods), target_s=0.005 if quick else 0.02)
    info = stable_abi_versions()
    doc = {"python": info["python"], "unit": "ns", "versions": info, "ops": ns,
           "modules": {v: os.path.relpath(m.__file__, directory) for v, m in mods.items()}}
    print(table(ns, "ns", STABLE_RATIOS, list(STABLE_VARIANTS), STABLE_LEGEND))
    if "--callgrind" in args:
        doc["ir"] = callgrind(directory, list(mods), loader="load_stable_abi")
        print()
        print(table(doc["ir"], "instructions", STABLE_RATIOS, list(STABLE_VARIANTS), STABLE_LEGEND))
    if "--out" in args:
        with open(args[args.index("--out") + 1], "w") as f:
            json.dump(doc, f, indent=2)
        return
    # alone: into the recorded results, next to the main run's
    latest = os.path.join(HERE, "results", "latest.json")
    with open(latest) as f:
        recorded = json.load(f)
    recorded["stable_abi"] = doc
    with open(latest, "w") as f:
        json.dump(recorded, f, indent=2)
    write_markdown(recorded, os.path.exists(os.path.join(HERE, "results", "ratios.png")))
    print("stored under \"stable_abi\" in bench/results/latest.json; wrote BENCHMARKS.md")


def main():
    args = sys.argv[1:]
    if "--check" in args:
        return main_check(args)
    if PYPY:
        return main_pypy(args)
    if "--stable-abi" in args:
        return main_stable_abi(args)
    if args == ["--render"]:
        # Rewrite BENCHMARKS.md from the recorded results (after editing bench/analysis.md).
        results = os.path.join(HERE, "results")
        with open(os.path.join(results, "latest.json")) as f:
            doc = json.load(f)
        write_markdown(doc, os.path.exists(os.path.join(results, "ratios.png")))
        print("wrote BENCHMARKS.md from bench/results/latest.json")
        return
    directory = os.path.abspath(args[0])
    quick = "--quick" in args
    mods = load_modules(directory)
    check(mods)
    workloads.check(mods)
    print("hpy-rs bench: CPython %s, %d operations x %d variants, round-robin" % (
        sys.version.split()[0], len(OPS), len(mods)), file=sys.stderr)
    ns = wall(mods, repeats=3 if quick else 2 * len(mods), target_s=0.005 if quick else 0.02)
    info = versions()
    doc = {"python": info["python"], "machine": info["machine"], "unit": "ns", "versions": info, "ops": ns,
           "native_module": os.path.relpath(mods["hpy-rs-native"].__file__, directory)}
    print(table(ns, "ns"))
    # The workloads: each variant its own iteration count (debug mode runs a workload several
    # times slower than the others).
    print("hpy-rs bench: %d workloads x %d variants, round-robin" % (len(workloads.WORKLOADS), len(mods)),
          file=sys.stderr)
    doc["workloads"] = {"unit": "ns", "ops": wall(mods, repeats=3 if quick else 2 * len(mods),
                                                  target_s=0.005 if quick else 0.05, per_variant=True,
                                                  ops=workloads.WORKLOADS)}
    print(table(doc["workloads"]["ops"], "ns", WORKLOAD_RATIOS))
    if "--pypy" in args:
        # bench/bench.sh's PyPy run: its results, or {"skipped": why}
        with open(args[args.index("--pypy") + 1]) as f:
            doc["pypy"] = json.load(f)
    if "--stable-abi-results" in args:
        # bench/bench.sh's CPython 3.12 run (run.py --stable-abi): its results, or {"skipped": why}
        with open(args[args.index("--stable-abi-results") + 1]) as f:
            doc["stable_abi"] = json.load(f)
    if "--callgrind" in args:
        ir = callgrind(directory, list(mods))
        doc["ir"] = ir
        print()
        print(table(ir, "instructions"))
        doc["workloads"]["ir"] = callgrind(directory, list(mods), ops=workloads.WORKLOADS, lengths=WORKLOAD_LENGTHS)
        print()
        print(table(doc["workloads"]["ir"], "instructions", WORKLOAD_RATIOS))
    results = os.path.join(HERE, "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "latest.json"), "w") as f:
        json.dump(doc, f, indent=2)
    has_chart = chart(ns, os.path.join(results, "ratios.png"))
    write_markdown(doc, has_chart)
    print("wrote bench/results/latest.json%s and BENCHMARKS.md" % (", bench/results/ratios.png" if has_chart else ""))


def pypy_markdown(pypy):
    if pypy is None:
        return "## PyPy\n\nNot measured: this run had no PyPy part (`make bench` runs one).\n"
    if "ops" not in pypy:
        return "## PyPy\n\nNot measured in this run: %s.\n" % pypy.get("skipped", "unknown reason")
    return ("## PyPy (wall time, ns per operation)\n\n"
            "%s with its built-in HPy (`hpy.universal` %s):\n"
            "all six variants in one process, the same `.hpy0.so` files as on CPython, loaded universal\n"
            "and debug; **c-api** and **pyo3** built for PyPy's C-API emulation (cpyext). Wall time\n"
            "only: with PyPy's JIT, the instruction count of a process says little about one call.\n"
            "`dbg/c-dbg` is hpy-rs-debug / c-hpy-debug; `c-hpy/c-api` compares C on HPy with the same C\n"
            "through cpyext (HPy's speed claim for PyPy). No **hpy-rs-native** here: the native build is\n"
            "an extension for one CPython version (CPython's own C API), not loadable on PyPy.\n\n```\n%s\n```\n"
            % (pypy["python"], pypy["hpy"], table(pypy["ops"], "ns", PYPY_RATIOS)))


# The native build's targets: instructions at most this multiple of the C API's on every
# operation, and below PyO3 on every call (every operation but `type from spec`, which makes a
# type rather than calling one).
NATIVE_TARGET_CAPI = 1.05
NATIVE_NOT_CALLS = ("type from spec",)


def native_markdown(doc):
    """"The native build": its ratios to the C API and PyO3 in this run, checked against the
    targets, then bench/native.md (the hand-written why)."""
    out = ["## The native build\n"]
    have = "hpy-rs-native" in next(iter(doc["ops"].values()))
    if not have:
        out.append("Not measured in this run (it predates the native variant).\n")
    else:
        ns, ir = doc["ops"], doc.get("ir")
        head = "%-20s" % "operation" + "".join("%10s" % h for h in (
            ["c-api", "native", "pyo3", "nat/c-api", "nat/pyo3"] if ir else []) ) + "%12s%12s" % ("ns nat/capi", "ns nat/pyo3")
        lines = [head, "-" * len(head)]
        missed_capi, missed_pyo3 = [], []
        for op in ns:
            row = "%-20s" % op
            if ir:
                r = ir[op]
                c, p = ratio(r["hpy-rs-native"], r["c-api"]), ratio(r["hpy-rs-native"], r["pyo3"])
                row += "%10.0f%10.0f%10.0f%10.2f%10.2f" % (r["c-api"], r["hpy-rs-native"], r["pyo3"], c, p)
                if c > NATIVE_TARGET_CAPI:
                    missed_capi.append("`%s` %.2fx" % (op, c))
                if op not in NATIVE_NOT_CALLS and p >= 1.0:
                    missed_pyo3.append("`%s` %.2fx" % (op, p))
            row += "%12.2f%12.2f" % (ratio(ns[op]["hpy-rs-native"], ns[op]["c-api"]),
                                     ratio(ns[op]["hpy-rs-native"], ns[op]["pyo3"]))
            lines.append(row)
        lines.append("(instructions per operation from the callgrind table above, then the wall-time ratios)"
                     if ir else "(wall-time ratios; `make bench CALLGRIND=1` adds the instruction counts)")
        out.append("The same `bench/hpyrs` crate as **hpy-rs**, built with the cargo feature `hpy/native` for the\n"
                   "CPython of this run (`PyInit_bench_hpyrs`, CPython's own C API, no HPy runtime):\n"
                   "`%s`, in a directory of its own and loaded by path, as its module name is the\n"
                   "universal binary's. Targets: at most %.2fx the C API in instructions on every operation;\n"
                   "below PyO3 on every call.\n" % (
                       doc.get("native_module", "native/bench_hpyrs<EXT_SUFFIX>"), NATIVE_TARGET_CAPI))
        out.append("```\n" + "\n".join(lines) + "\n```\n")
        if ir:
            out.append(textwrap.fill("In this run, against the C API (instructions): %s. Against PyO3 on the calls "
                                     "(instructions): %s." % (
                           "above %.2fx on %s" % (NATIVE_TARGET_CAPI, ", ".join(missed_capi)) if missed_capi
                           else "within %.2fx on every operation" % NATIVE_TARGET_CAPI,
                           "not below it on %s" % ", ".join(missed_pyo3) if missed_pyo3 else "below it on every one"),
                                     width=96, break_on_hyphens=False) + "\n")
    notes = os.path.join(HERE, "native.md")
    if os.path.exists(notes):
        out.append(open(notes).read())
    return "\n".join(out)


STABLE_LEGEND = ("c abi3/full = c-api-abi3 / c-api, rs abi3/full = hpy-rs-abi3 / hpy-rs-native, rs-abi3/c-api = "
                 "hpy-rs-abi3 / c-api")


def stable_abi_markdown(stable):
    """"The stable ABI (abi3)": the --stable-abi run's tables, hpy-rs-abi3 checked against the
    C API (full API) with the native build's target, then bench/abi3.md (the hand-written why)."""
    out = ["## The stable ABI (abi3)\n"]
    if stable is None:
        out.append("Not measured: this run had no stable-ABI part (`make bench` runs one on CPython 3.12).\n")
        return "\n".join(out)
    if "ops" not in stable:
        out.append("Not measured in this run: %s.\n" % stable.get("skipped", "unknown reason"))
        return "\n".join(out)
    out.append("CPython %s, the floor of the limited API 3.12 that the abi3 build targets, in a process of its\n"
               "own (`run.py --stable-abi`; hpy not loaded): **c-api** is `bench/c/bench_capi.c` built for\n"
               "3.12, **c-api-abi3** the same file with `-DPy_LIMITED_API=0x030c0000` (the stable ABI: what the\n"
               "limited API hides becomes its function form, `PyTuple_GetItem`, `PyType_GetSlot`, ...),\n"
               "**hpy-rs-native** `bench/hpyrs` built for 3.12 with the feature `hpy/native`, **hpy-rs-abi3**\n"
               "the same with `hpy/abi3` (`tools/build-module.sh --abi3`; one binary for CPython 3.12+). Each\n"
               "is loaded by path from a directory of its own (their module names repeat). Ratios: what the\n"
               "stable ABI costs C (`c abi3/full`) and hpy-rs (`rs abi3/full`), and hpy-rs on the stable ABI\n"
               "against C on the full API (`rs-abi3/c-api`, the native build's target: at most %.2fx).\n"
               % (stable["python"], NATIVE_TARGET_CAPI))
    args = (STABLE_RATIOS, list(STABLE_VARIANTS), STABLE_LEGEND)
    if "ir" in stable:
        out.append("Instructions per operation (callgrind):\n\n```\n" + table(stable["ir"], "instructions", *args)
                   + "\n```\n")
    out.append("Wall time (ns per operation):\n\n```\n" + table(stable["ops"], "ns", *args) + "\n```\n")
    if "ir" in stable:
        ir = stable["ir"]
        above = ["`%s` %.2fx" % (op, ratio(r["hpy-rs-abi3"], r["c-api"])) for op, r in ir.items()
                 if ratio(r["hpy-rs-abi3"], r["c-api"]) > NATIVE_TARGET_CAPI]
        out.append(textwrap.fill("In this run, hpy-rs-abi3 against the C API on the full API (instructions): %s." % (
            "above %.2fx on %s" % (NATIVE_TARGET_CAPI, ", ".join(above)) if above
            else "within %.2fx on every operation" % NATIVE_TARGET_CAPI), width=96, break_on_hyphens=False) + "\n")
    notes = os.path.join(HERE, "abi3.md")
    if os.path.exists(notes):
        out.append(open(notes).read())
    return "\n".join(out)


# The workloads' targets (issue 16): hpy-rs at most C on HPy's instructions, universal and
# debug; the native build at most NATIVE_TARGET_CAPI times the C API's.
WORKLOAD_TARGETS = [("hpy-rs", "c-hpy", 1.0), ("hpy-rs-debug", "c-hpy-debug", 1.0),
                    ("hpy-rs-native", "c-api", NATIVE_TARGET_CAPI)]


def workloads_markdown(doc):
    """"Workloads": small programs on the same four modules (bench/workloads.py), wall time and
    instructions, checked against the targets; PyPy's wall time; then bench/workloads.md (the
    hand-written why)."""
    out = ["## Workloads\n"]
    work = doc.get("workloads")
    if not work:
        out.append("Not measured: this run predates the workloads.\n")
        return "\n".join(out)
    out.append("Small programs rather than single calls, on the same module written four ways\n"
               "(`bench/workloads.py` specifies them and drives them with the same Python code for every\n"
               "variant; its `check`, run by `make test` and before every measurement, requires identical\n"
               "results bit for bit and the same errors): an `Array` of doubles (element-wise arithmetic\n"
               "with arrays and numbers, reflected, a foreign operand ending in TypeError, indexing,\n"
               "iteration through the sequence protocol, a Runge-Kutta integrator of four damped\n"
               "oscillators over 10 steps), and a binary codec (decode 8.9 KB into 40 records of dicts,\n"
               "lists, strings, floats, ints, bools and None; encode them back). Targets: hpy-rs at most C\n"
               "on HPy in instructions, universal (`rs/c-hpy`) and debug (`dbg/c-dbg`); the native build\n"
               "at most %.2fx the C API (`nat/c-api`).\n" % NATIVE_TARGET_CAPI)
    if "ir" in work:
        out.append("Instructions per workload (callgrind):\n\n```\n" + table(work["ir"], "instructions", WORKLOAD_RATIOS)
                   + "\n```\n")
        missed = []
        for op, row in work["ir"].items():
            for a, b, limit in WORKLOAD_TARGETS:
                if a in row and b in row and ratio(row[a], row[b]) > limit:
                    missed.append("`%s` %s/%s %.2fx" % (op, a, b, ratio(row[a], row[b])))
        out.append(textwrap.fill("In this run, against the targets (instructions): %s." % (
            "missed on " + ", ".join(missed) if missed else "met on every workload"),
            width=96, break_on_hyphens=False) + "\n")
    out.append("Wall time (ns per workload):\n\n```\n" + table(work["ops"], "ns", WORKLOAD_RATIOS) + "\n```\n")
    pypy = doc.get("pypy") or {}
    if "workloads" in pypy:
        out.append("On %s (wall time, ns per workload):\n\n```\n%s\n```\n" % (
            pypy["python"], table(pypy["workloads"]["ops"], "ns", PYPY_RATIOS)))
    notes = os.path.join(HERE, "workloads.md")
    if os.path.exists(notes):
        out.append(open(notes).read())
    return "\n".join(out)


def write_markdown(doc, has_chart):
    v = doc["versions"]
    parts = ["# Benchmarks\n",
             "Generated by `make bench` (`bench/run.py`); numbers from one run on one machine. Reproduce with\n"
             "`make bench` (wall time) or `make bench CALLGRIND=1` (adds instruction counts, stable on a\n"
             "noisy machine).\n",
             "Variants: **c-api** (C, METH_FASTCALL, hand-written keyword matching), **c-hpy** (C on HPy,\n"
             "universal ABI; `HPyArg_ParseKeywords`), **hpy-rs** (this project, universal ABI), **pyo3**;\n"
             "`-debug`: the same HPy binary loaded in HPy's debug mode; **hpy-rs-native**: the same Rust\n"
             "source as hpy-rs built with the cargo feature `hpy/native`, an ordinary extension on CPython's\n"
             "own C API (CPython only; see \"The native build\" below). Ratios divide the first variant by\n"
             "the second (`rs` = hpy-rs, `nat` = hpy-rs-native; lower is better for the first). The stable\n"
             "ABI (abi3) is measured apart, on CPython 3.12: see \"The stable ABI (abi3)\" at the end.\n",
             "Versions: " + ", ".join("%s %s" % (k, v[k]) for k in sorted(v)) + "\n"]
    if has_chart:
        parts.append("![ratios](bench/results/ratios.png)\n")
    parts.append("## Wall time (ns per operation)\n\n```\n" + table(doc["ops"], "ns") + "\n```\n")
    if "ir" in doc:
        parts.append("## Instructions per operation (callgrind)\n\n```\n" + table(doc["ir"], "instructions") + "\n```\n")
    parts.append(pypy_markdown(doc.get("pypy")))
    micro = os.path.join(HERE, "results", "microbench.txt")
    if os.path.exists(micro):
        text = open(micro).read()
        table_start = text.find("=" * 10)
        parts.append(
            "## HPy's own microbenchmark\n\n"
            "`microbench/` of the hpy 0.9.0 sdist, unmodified (`bench/microbench.sh`): `cpy` is its C-API\n"
            "`cpy_simple`, `hpy` is hpy-rs's drop-in `bench/hpy_simple` (universal ABI); times are the\n"
            "suite's own (10 000 000 iterations per test), the bracket is hpy / cpy.\n\n```\n"
            + (text[table_start:] if table_start >= 0 else text).strip() + "\n```\n")
    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        parts.append(open(analysis).read())
    parts.append(native_markdown(doc))
    parts.append(workloads_markdown(doc))
    parts.append(stable_abi_markdown(doc.get("stable_abi")))
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
