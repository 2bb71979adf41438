#!/usr/bin/env python3
"""Soak check: does calling the built modules many times grow the process's memory?

HPy's debug mode finds leaked *handles*; it cannot see leaked *memory* (a Rust allocation that
is never freed, a Python object whose reference count never drops to zero). This tool can: it
runs each named workload (one small call pattern, e.g. "a 3-item list into Rust and back")
many times and compares the resident set size (RSS, from /proc/self/statm) before and after:

    warm up (--warmup calls), gc.collect(), RSS before,
    --calls calls, gc.collect(), RSS after,
    growth = after - before; the workload fails if growth > --bound-kib.

In debug mode every workload also runs inside `hpy.debug.LeakDetector` (a leaked handle fails
it). Every step asserts its results, so an error path that stops raising, or a result that
changes over the run (say, from memory freed too early and reused), fails too. Workloads of classes that count their live Rust values
check that the count comes back (their `Drop` ran, cycles were collected).

One workload, `selfcheck_leak`, calls `apitest.leak_bytes_on_purpose(3)`, which leaks 3 bytes per
call: it must be reported as growing, or the check is blind and the run fails. It is always run
(whatever --only selects) unless --no-selfcheck says the apitest build predates it.

The modes (--modes): "universal" and "debug" load the universal build (<name>.hpy0.so) with
hpy.universal; "native" loads the native build (the same Rust source compiled against CPython's C
API, `tools/build-module.sh --native`: <name><EXT_SUFFIX>) as ordinary extension modules. There
HPy's leak detector does not exist, so RSS is the only leak check: a missing Py_DECREF in the
native backend shows up only as growth. Every mode loads through tests/python/hpyrs_abi.py (the
Python tests' loader; the worker sets HPYRS_ABI for its mode). The `rawadd` module is a
hand-written universal-only fixture (hpy-sys alone, no native build): its workload is skipped in
native mode, with the reason printed. On CPython 3.13+, where hpy 0.9.0's runtime crashes once an
HPy class is instantiated, the workloads that instantiate one are skipped in universal and debug
mode (as the Python tests skip their modules there); the native build runs them.

The modules come from the variables the Python tests use (HPYRS_<MODULE>_SO, exported by
tools/test.sh): the universal .hpy0.so files for universal and debug mode, the native files for
native mode (so one run is either universal/debug or native; HPYRS_RAWADD_SO is not read in native
mode). The workloads run in child processes, each loading the modules in one mode (a crash names
its mode); each mode is split into --jobs shards that run in parallel.

    python tools/soak.py                                  # universal + debug, 10^5 calls
    python tools/soak.py --modes native                   # the native build (HPYRS_*_SO: native .so)
    python tools/soak.py --calls 1000000                  # what `make soak` runs
    python tools/soak.py --only 'list_*,builder_*' --no-selfcheck   # e.g. against an old build
    python tools/soak.py --list                           # the workloads

Exit status: 0 if every workload is flat and the self-check caught its leak, 1 otherwise.
"""
import argparse
import collections
import fnmatch
import functools
import gc
import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback

MODULES = ("rawadd", "quickstart", "geometry", "tree", "apitest", "containers", "protocols", "errors",
           "layout", "stdtypes", "inherit")
MODES = ("universal", "debug", "native")
# Modules with no native build, and why: their workloads are skipped in native mode.
UNIVERSAL_ONLY = {"rawadd": "rawadd is a hand-written universal-only fixture (hpy-sys alone, no native build)"}
HERE = os.path.dirname(os.path.abspath(__file__))
# Why workloads that instantiate HPy classes (`types=True`) do not run in universal and debug mode
# here, or None (the tests' conftest.skip_module_if_types_crash; the native build is unaffected).
TYPES_CRASH = ("hpy 0.9.0's runtime crashes instantiating HPy types on CPython 3.13 (hpy PR #490/#494)"
               if sys.version_info >= (3, 13) else None)

# The growth bound. What it must catch: the smallest leak a call can have is one malloc chunk,
# 32 bytes with glibc (a 3-byte Vec<bool>, the list-builder bug of issue 12, is exactly that), so
# 10^5 calls leak >= 3.1 MiB, 10^6 calls >= 31 MiB. What it must tolerate: after warm-up and
# gc.collect(), with no leak, the workloads moved RSS by 0 to 128 KiB over 10^5 calls (debug
# builds) and by 0 to 4 KiB over 10^6 calls (release builds), in both modes: most by 0, as the
# warm-up has already filled Python's free lists and pools and the debug context's queue of 1024
# closed handles; what remains is a page or an arena more or less, not proportional to the calls.
# Exceptions caught with their tracebacks (error_into_value) move it most: up to 400 KiB, the same
# at 10^5 and 10^6 calls, and CPython's own (a pure-Python loop catching a new exception raised by
# a new closure, `try: f() except BaseException as e: return e`, moves it by ~140 KiB at 5x10^5
# and at 2x10^6 calls alike).
# 1 MiB is 2.5x the worst noise seen and a third of the smallest leak at 10^5 calls; at 10^6 calls
# it is 1 byte per call.
DEFAULT_BOUND_KIB = 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """This process's resident set size: resident pages (statm's 2nd field) x the page size."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


# =====================================================================================
# workloads: `make(m)` gets the loaded modules (m.apitest, ...) and returns the step, one call
# pattern that asserts its own results. Steps are kept small: in debug mode every str or bytes
# read from Python costs HPy an mmap'ed copy (~12 us), which dominates the run time.
# =====================================================================================

Workload = collections.namedtuple("Workload", "name modules make expect live quiet types")
WORKLOADS = []


def workload(*modules, expect="flat", live=None, quiet=False, types=False):
    """Register a workload. `expect`: "flat", or "grows" for the self-check. `live(m)`: a count
    (or a tuple of counts) of live Rust values that must be the same before and after. `quiet`:
    silence stderr (Rust's panic hook prints every panic there). `types`: it instantiates HPy
    classes (skipped where hpy's runtime crashes doing that, TYPES_CRASH)."""
    def register(make):
        WORKLOADS.append(Workload(make.__name__, modules, make, expect, live, quiet, types))
        return make
    return register


def raises(exc, func, *args, **kwargs):
    """Call `func`; it must raise `exc` (so an error path that stops raising fails the run)."""
    try:
        func(*args, **kwargs)
    except exc:
        return
    raise AssertionError("%s did not raise %s" % (getattr(func, "__name__", func), exc.__name__))


class Seq:
    """A sequence that is neither list nor tuple: the generic `Vec` extraction path."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        if 0 <= i < 3:
            return i * 10
        raise IndexError(i)


# ---- conversions: Vec <-> list ----

@workload("apitest")
def list_int(m):
    """rt_vec_i64([1, 2, 3]): Vec<i64> from a list and back (the attack's +31 MB per 10^6)."""
    f, a = m.apitest.rt_vec_i64, [1, 2, 3]
    def step():
        assert f(a) == a
    return step


@workload("containers", types=True, live=lambda m: m.containers.live_objects())
def list_int_100(m):
    """IntList(list(range(100))).to_list(): 100 ints in and out (the attack's +109 MB)."""
    IntList, a = m.containers.IntList, list(range(100))
    def step():
        assert IntList(a).to_list() == a
    return step


@workload("apitest")
def list_float(m):
    """rt_vec_f64: Vec<f64> from a list of floats and back."""
    f, a = m.apitest.rt_vec_f64, [0.5, 1.5, -2.25]
    def step():
        assert f(a) == a
    return step


@workload("apitest")
def list_str(m):
    """rt_vec_string: Vec<String> from a list of str and back."""
    f, a = m.apitest.rt_vec_string, ["a", "héllo"]
    def step():
        assert f(a) == a
    return step


@workload("apitest")
def list_nested(m):
    """rt_vec_vec: Vec<Vec<i64>> from a list of lists and back."""
    f, a = m.apitest.rt_vec_vec, [[1, 2], [3], []]
    def step():
        assert f(a) == a
    return step


@workload("containers", types=True)
def list_str_keys_50(m):
    """StrMap.keys() of 50 keys: a Vec<String> out (the attack's +62 MB)."""
    smap = m.containers.StrMap({"key%02d" % i: "v" for i in range(50)})
    def step():
        assert len(smap.keys()) == 50
    return step


@workload("apitest")
def list_of_handles(m):
    """Vec<&str> and Vec<Handle> out: kinds_of, handle_copies."""
    api, obj = m.apitest, object()
    def step():
        assert api.kinds_of(5) == ["object", "int"]
        assert len(api.handle_copies(obj)) == 7
    return step


@workload("apitest")
def vec_from_tuple(m):
    """rt_vec_i64((1, 2, 3)): a Vec from a tuple."""
    f = m.apitest.rt_vec_i64
    def step():
        assert f((1, 2, 3)) == [1, 2, 3]
    return step


@workload("apitest")
def vec_from_sequence(m):
    """A Vec from a range and from a Python class with __len__/__getitem__ (the generic path)."""
    f, seq = m.apitest.rt_vec_i64, Seq()
    def step():
        assert f(range(3)) == [0, 1, 2]
        assert f(seq) == [0, 10, 20]
    return step


@workload("apitest")
def vec_failing_half_way(m):
    """Conversions that fail part-way: a Vec (the half-built list is cancelled), a HashMap with
    unhashable keys."""
    api = m.apitest
    def step():
        raises(TypeError, api.vec_failing_half_way)
        raises(TypeError, api.map_with_list_keys)
    return step


# ---- the builders of the apitest fixture ----

@workload("apitest")
def builder_list(m):
    """list_builder(3, [1, 2, 3]): ListBuilder::new, set x3, build (its Vec<bool> once leaked)."""
    f, a = m.apitest.list_builder, [1, 2, 3]
    def step():
        assert f(3, a) == a
    return step


@workload("apitest")
def builder_tuple(m):
    """tuple_builder(2, [1, 2]): TupleBuilder::new, set x2, build (the attack's +31 MB)."""
    f, a = m.apitest.tuple_builder, [1, 2]
    def step():
        assert f(2, a) == (1, 2)
    return step


@workload("apitest")
def builder_cancelled(m):
    """Builders dropped unbuilt (cancelled), fully and partly filled; list_of_nones."""
    api, a = m.apitest, [1, 2, 3]
    def step():
        assert api.builders_dropped(a, 3) == 3
        assert api.builders_dropped(a, 1) == 3
        assert api.list_of_nones(4) == [None] * 4
    return step


@workload("apitest")
def tracker(m):
    """A Tracker given 5 new handles (it grows past its capacity), then dropped."""
    f = m.apitest.tracker
    def step():
        assert f(1, 5) == 5
    return step


# ---- conversions: everything else ----

@workload("apitest")
def tuple_roundtrip(m):
    """Tuples in and out: (i64,), (i64, String), a 12-tuple of mixed types."""
    api = m.apitest
    twelve = (-128, -32768, -2**31, -2**63, 255, 65535, 2**32 - 1, 2**64 - 1, 1.5, True, "twelve", None)
    def step():
        assert api.rt_tuple1((5,)) == (5,)
        assert api.rt_tuple2((1, "a")) == (1, "a")
        assert api.rt_tuple12(twelve) == twelve
    return step


@workload("apitest")
def dict_hashmap(m):
    """rt_hashmap: HashMap<String, i64> from a dict and back."""
    f, d = m.apitest.rt_hashmap, {"a": 1, "bb": 2}
    def step():
        assert f(d) == d
    return step


@workload("apitest")
def dict_btreemap(m):
    """rt_btreemap: BTreeMap<i64, String> from a dict and back."""
    f, d = m.apitest.rt_btreemap, {3: "c", 1: "a"}
    def step():
        assert f(d) == d
    return step


@workload("quickstart")
def dict_word_counts(m):
    """quickstart.word_counts: a &str in, a BTreeMap<String, usize> out."""
    f = m.quickstart.word_counts
    def step():
        assert f("the cat and the hat") == {"and": 1, "cat": 1, "hat": 1, "the": 2}
    return step


@workload("containers", types=True, live=lambda m: m.containers.live_objects())
def dict_strmap_items(m):
    """StrMap(dict) takes a BTreeMap<String, String>; items() gives a Vec<(String, String)>."""
    StrMap, d = m.containers.StrMap, {"a": "1"}
    def step():
        assert StrMap(d).items() == [("a", "1")]
    return step


@workload("apitest")
def str_roundtrip(m):
    """String, &str and char from str and back."""
    api = m.apitest
    def step():
        assert api.rt_string("héllo") == "héllo"
        assert api.rt_str("abc") == "abc"
        assert api.rt_char("é") == "é"
    return step


@workload("quickstart")
def str_keywords(m):
    """greet(name, punctuation=...): a keyword-only argument and a default; and through **kw,
    whose keyword-names tuple is new on every call (the keyword layout cache stores each)."""
    greet, kw = m.quickstart.greet, {"punctuation": "?"}
    def step():
        assert greet("x", punctuation="?") == "Hello, x?"
        assert greet("y", **kw) == "Hello, y?"
    return step


@workload("apitest")
def bytes_roundtrip(m):
    """&[u8] and Vec<u8> from bytes and back."""
    api = m.apitest
    def step():
        assert api.rt_bytes(b"abc") == b"abc"
        assert api.rt_vec_u8(b"\x00\xff") == b"\x00\xff"
    return step


@workload("apitest", "quickstart")
def option_roundtrip(m):
    """Option<i64>, Option<String> (None and a value) and quickstart.maybe_double."""
    api, qs = m.apitest, m.quickstart
    def step():
        assert api.rt_option(None) is None
        assert api.rt_option(5) == 5
        assert api.rt_option_string("x") == "x"
        assert api.rt_option_string(None) is None
        assert qs.maybe_double(3) == 6
    return step


@workload("apitest", "quickstart")
def scalars_roundtrip(m):
    """Integers of every path (i128/u128 through a str), f64, bool; stats: a tuple out."""
    api, qs = m.apitest, m.quickstart
    def step():
        assert api.rt_i128(-2**100) == -2**100
        assert api.rt_u128(2**127) == 2**127
        assert api.rt_u64(2**64 - 1) == 2**64 - 1
        assert api.rt_i8(-5) == -5
        assert api.rt_f64(1.5) == 1.5
        assert api.rt_bool(True) is True
        assert qs.stats([1.0, 2.0, 3.0]) == (2.0, 1.0, 3.0)
    return step


@workload("rawadd")
def rawadd(m):
    """rawadd.add(1, 2), and add("x", 1) (a TypeError): the module written on hpy-sys alone."""
    add = m.rawadd.add
    def step():
        assert add(1, 2) == 3
        raises(TypeError, add, "x", 1)
    return step


# ---- classes ----

@workload("geometry", types=True)
def class_new_free(m):
    """Instantiate and free: Vector (frozen), Point, Meters (a float subclass)."""
    geo = m.geometry
    def step():
        geo.Vector(1.0, 2.0)
        geo.Point(1.0, 2.0)
        geo.Meters(2.5)
    return step


@workload("geometry", types=True)
def class_operators(m):
    """Vector's number protocol, ==, hash, repr, methods, a classmethod, a class attribute."""
    Vector = m.geometry.Vector
    v, w = Vector(3.0, 4.0), Vector(1.0, 2.0)
    def step():
        assert v + w == Vector(4.0, 6.0)
        assert v - w == Vector(2.0, 2.0)
        assert v * 2.0 == 2.0 * v
        assert (v / 2.0).x == 1.5
        assert v @ w == 11.0
        assert -v == Vector(-3.0, -4.0)
        assert abs(v) == 5.0 and bool(v)
        assert hash(v) == hash(Vector(3.0, 4.0))
        assert repr(v) == "Vector(3.0, 4.0)"
        assert v.normalized().norm() == 1.0
        assert Vector.zero() == Vector.from_tuple((0.0, 0.0))
        assert Vector.UNIT_X.x == 1.0
    return step


@workload("geometry", types=True)
def class_getset(m):
    """Point: field getters/setters, #[getter]/#[setter], +=, a callback, a Python subclass."""
    geo = m.geometry

    class SubPoint(geo.Point):
        pass
    v, q = geo.Vector(1.0, 1.0), geo.Point(0.0, 0.0)
    double = lambda x: x * 2
    def step():
        p = geo.Point(1.0, 2.0)
        p.x = 3.0
        p.y = p.x
        p.position = v
        assert p.position == v
        p += v
        p.move_by(v)
        p.update_x(double)
        assert p.x == 6.0 and p.distance(q) > 0 and p - q == geo.Vector(6.0, 3.0)
        sub = SubPoint(1.0, 2.0)
        sub.extra = p
        assert sub == geo.Point(1.0, 2.0)
    return step


@workload("geometry", types=True)
def class_buffer(m):
    """Polyline through the buffer protocol: a memoryview over its doubles, released."""
    Polyline = m.geometry.Polyline
    def step():
        line = Polyline()
        line.append(0.0, 0.0)
        line.append(3.0, 4.0)
        with memoryview(line) as view:
            assert view.format == "d" and view.tolist() == [0.0, 0.0, 3.0, 4.0]
        assert len(line) == 2 and line.length() == 5.0
    return step


@workload("geometry", types=True)
def class_float_subclass(m):
    """Meters (extends float): a method reading the float value, repr."""
    Meters = m.geometry.Meters
    def step():
        x = Meters(0.3048)
        assert abs(x.feet() - 1.0) < 1e-12
        assert repr(x) == "Meters(0.3048)"
    return step


@workload("containers", types=True, live=lambda m: m.containers.live_objects())
def class_sequence(m):
    """IntList: the sequence protocol, +=, ==, repr, a callback while mutably borrowed."""
    IntList = m.containers.IntList
    inc = lambda x: x + 1
    def step():
        a = IntList([1, 2, 3])
        a[0] = a[-1]
        del a[1]
        a += (4, 5)
        a.append(6)
        a.map_in_place(inc)
        assert 4 in a and "x" not in a and len(a) == 5
        assert a == IntList([4, 4, 5, 6, 7]) and repr(a) == "IntList([4, 4, 5, 6, 7])"
    return step


@workload("containers", types=True, live=lambda m: m.containers.live_objects())
def class_mapping(m):
    """StrMap: the mapping protocol, `in`, get with a default."""
    StrMap = m.containers.StrMap
    def step():
        s = StrMap()
        s["k"] = "v"
        assert s["k"] == "v" and len(s) == 1
        del s["k"]
        assert "k" not in s and s.get("k", 0) == 0
    return step


@workload("containers", types=True, live=lambda m: m.containers.live_objects())
def class_callable(m):
    """Counter: __call__ with and without a keyword, getters, __bool__, repr."""
    Counter = m.containers.Counter
    def step():
        c = Counter(5)
        c()
        c(by=2)
        assert c.calls == 2 and c.total == 8 and bool(c)
        c.reset()
        assert repr(c) == "Counter(calls=0, total=0)"
    return step


@workload("tree", types=True, live=lambda m: m.tree.live_nodes())
def class_cycles(m):
    """tree.Node parent <-> child cycles through hpy::Field, left to the garbage collector."""
    # Dropped with their cycles intact: the collections the run triggers, and the gc.collect()
    # before the reading, must free them (the live node count comes back).
    Node = m.tree.Node
    def step():
        root, kid = Node("r"), Node("k")
        root.add_child(kid)
        kid.value = [kid]  # a cycle through a Python object too
        assert kid.parent is root and len(root.children) == 1 and root.size() == 2
    return step


@workload("tree", types=True, live=lambda m: m.tree.live_nodes())
def class_cycles_detached(m):
    """The same cycle broken by hand (detach): freed by reference counting alone."""
    Node = m.tree.Node
    def step():
        root, kid = Node("r"), Node("k")
        root.add_child(kid)
        kid.detach()  # forgets the parent, and leaves its children
        assert kid.parent is None and len(root) == 0
    return step


# ---- errors ----

@workload("apitest")
def error_type(m):
    """Arguments of the wrong type: TypeErrors built from the argument (nested: item paths);
    rawadd's TypeError is in the rawadd workload."""
    api = m.apitest
    def step():
        raises(TypeError, api.rt_i64, "x")
        raises(TypeError, api.rt_vec_i64, {1: 2})
        raises(TypeError, api.rt_vec_vec, [[1, "x"]])
    return step


@workload("apitest", "quickstart")
def error_overflow(m):
    """OverflowError: out-of-range arguments, and raised by quickstart.add itself."""
    api, qs = m.apitest, m.quickstart
    def step():
        raises(OverflowError, api.rt_u8, 256)
        raises(OverflowError, api.rt_i64, 2**64)
        raises(OverflowError, api.rt_u128, -1)
        raises(OverflowError, qs.add, 2**62, 2**62)
    return step


@workload("quickstart")
def error_signature(m):
    """Missing, unexpected and duplicate arguments."""
    greet = m.quickstart.greet
    def step():
        raises(TypeError, greet)
        raises(TypeError, greet, "x", bad=1)
        raises(TypeError, greet, "x", name="y")
    return step


@workload("apitest", "quickstart", "tree", types=True)
def error_user(m):
    """Errors the functions raise: ValueError, ZeroDivisionError, the module's own exception
    type, a user error type, From<ParseIntError>."""
    api, qs, Node = m.apitest, m.quickstart, m.tree.Node
    def step():
        raises(ValueError, qs.stats, [])
        raises(ZeroDivisionError, qs.divide, 1.0, 0.0)
        raises(qs.QuickstartError, qs.fail, "failed")
        raises(ValueError, Node, "")
        raises(NotImplementedError, api.custom_error, True)
        raises(ValueError, api.parse_int, "x")
    return step


@workload("geometry", "containers", types=True, live=lambda m: m.containers.live_objects())
def error_class(m):
    """Errors from methods, protocols and setters of classes."""
    geo, cont = m.geometry, m.containers
    v, p, a = geo.Vector(1.0, 1.0), geo.Point(1.0, 2.0), cont.IntList([1])
    def step():
        raises(ZeroDivisionError, v.__truediv__, 0.0)
        raises(TypeError, setattr, p, "x", None)
        raises(IndexError, a.__getitem__, 5)
        raises(OverflowError, cont.Counter(2**63 - 1))
    return step


# ---- panics ----

@workload("apitest", "quickstart", quiet=True)
def panic_caught(m):
    """Rust panics caught and raised as RuntimeError: formatted, static, non-string payloads."""
    api, qs = m.apitest, m.quickstart
    def step():
        raises(RuntimeError, api.panics, "boom")
        raises(RuntimeError, api.panics_static)
        raises(RuntimeError, api.panics_any)
        raises(RuntimeError, qs.panics)
    return step


@workload("apitest", quiet=True)
def panic_holding_handles(m):
    """A panic while handles, a builder and a tracker are alive: all released while unwinding."""
    f = m.apitest.panics_holding_handles
    def step():
        raises(RuntimeError, f, 5)
    return step


# ---- calls back into Python, module state, the GIL, capsules ----

@workload("quickstart")
def callbacks(m):
    """Calls back into Python: apply, call_with (*args, **kwargs), count_args."""
    qs = m.quickstart
    add = lambda *a, **k: sum(a) + sum(k.values())
    def step():
        assert qs.apply(abs, -3) == 3
        assert qs.call_with(add, 1, 2, k=3) == 6
        assert qs.count_args(1, 2, x=3) == (2, 1)
    return step


@workload("apitest", "quickstart")
def globals_and_gil(m):
    """A Global stored on every call; work with the GIL released."""
    api, qs = m.apitest, m.quickstart
    obj = object()
    def step():
        qs.counter()
        api.global_store(obj)
        assert api.global_load() is obj
        assert qs.sum_of_squares(10) == 285
        assert api.result_nogil(False) == 11
    return step


@workload("apitest")
def capsules(m):
    """Capsules holding a Rust value, freed by Python or within the call (its Drop runs)."""
    api = m.apitest
    def step():
        drops = api.drops()
        assert api.capsule_value(api.make_capsule(3)) == 3
        assert api.capsule_temporary(5) == 5
        assert api.drops() == drops + 2
    return step


# ---- protocols: iteration from Rust, iterator classes, attribute hooks, descriptors ----

def gen(*items):
    yield from items


def raising_midway():
    yield 1
    raise ValueError("boom")


@workload("protocols")
def iter_from_rust(m):
    """Handle::iter over a generator, a set, a tuple; an error midway (yielded once, then the
    iteration ends); not iterable."""
    pr = m.protocols
    def step():
        assert pr.sum_iter(gen(1, 2)) == 3
        assert pr.sum_iter({1, 2, 3}) == 6
        assert pr.items((7, 8)) == [7, 8]
        assert pr.items_before_error(raising_midway()) == ([1], True, True)
        raises(ValueError, pr.sum_iter, raising_midway())
        raises(TypeError, pr.items, 5)
    return step


@workload("protocols")
def vec_from_iterables(m):
    """Vec<T> from a generator, a set, nested iterables, bytes items; refused: a dict; an item
    out of range, the iterator's own error."""
    pr = m.protocols
    def step():
        assert pr.total(gen(1, 2, 3)) == 6
        assert pr.total({1, 2}) == 3
        assert pr.nested([(1, 2), {3}, gen(4)]) == [[1, 2], [3], [4]]
        assert pr.byte_values(gen(1, 2)) == b"\x01\x02"
        raises(TypeError, pr.total, {1: 2})
        raises(OverflowError, pr.byte_values, gen(1, 256))
        raises(ValueError, pr.total, raising_midway())
    return step


@workload("protocols", types=True)
def iterator_classes(m):
    """Rust iterator classes iterated by Python (list(Range), a Bag's separate BagIter, a Failing
    yielding, then raising) and by Rust (a Vec); exhausted; __iter__ returning a non-iterator;
    next() of a non-iterator."""
    pr = m.protocols
    Range, Bag = pr.Range, pr.Bag
    def step():
        assert list(Range(0, 3)) == [0, 1, 2]
        r = Range(5, 6)
        assert next(r) == 5 and r.remaining() == 0
        raises(StopIteration, next, r)
        assert list(Bag(["a"])) == ["a"]
        assert pr.total(Range(0, 4)) == 6
        raises(ValueError, list, pr.Failing(1))
        raises(TypeError, iter, pr.NotAnIterator())
        raises(TypeError, next, Bag([]))
    return step


@workload("protocols", types=True)
def attribute_hooks(m):
    """Record's __getattr__/__setattr__/__delattr__ (a BTreeMap of attributes); a missing name
    (the AttributeError of __getattr__, which getattr() with a default catches)."""
    pr = m.protocols
    Record = pr.Record
    def step():
        r = Record()
        r.x = 5
        assert r.x == 5 and r.size == 1 and r.names() == ["x"]
        del r.x
        assert getattr(r, "x", None) is None
    return step


@workload("protocols", types=True)
def descriptors(m):
    """A data descriptor (Scaled: __get__/__set__/__delete__) and a non-data one (Default) on a
    Python class; reading after delete, setting a value of the wrong type."""
    pr = m.protocols

    class Host:
        x = pr.Scaled(10)
        d = pr.Default(7)

        def __init__(self, base):
            self.base = base
    def step():
        h = Host(2)
        assert h.x == 20 and h.d == (True, 7) and Host.d == (False, 7)
        h.x = 55
        assert h.base == 5
        del h.x
        raises(AttributeError, getattr, h, "x")
        raises(TypeError, setattr, h, "x", "many")
        assert isinstance(Host.x, pr.Scaled)
    return step


# ---- errors: raising with arguments, io::Error, causes, taking exceptions, declared ones ----

def raise_key_error():
    raise KeyError("k")


@workload("errors")
def error_with_args(m):
    """Raising with arguments: KeyError(key) from an object, StopIteration(value) and ValueError
    with three from Rust values; raising an object (and a non-exception); a failing constructor."""
    # (The error workloads pass few strs: each costs ~12 us in debug mode. KeyError(key) from a
    # Rust String is raised by error_causes' lazy_cause.)
    er = m.errors
    key = (1, 2)
    def step():
        raises(KeyError, er.key_error_of, key)
        raises(StopIteration, er.stop_iteration, 5)
        raises(ValueError, er.value_error_args, 3)
        # a new object each time: raising the same one again and again grows its traceback
        raises(ValueError, er.raise_value, ValueError("mine"))
        raises(TypeError, er.raise_value, 3)
        raises(TypeError, er.unicode_error_args)
    return step


@workload("errors")
def error_io(m):
    """std::io::Error: from the OS, with a file name that is not UTF-8; made in Rust, with a
    name; from an errno."""
    er = m.errors
    odd = os.fsdecode(b"/nonexistent-hpyrs-soak/\xff-missing")
    def step():
        try:
            er.read_named(odd)
            raise AssertionError("read_named did not raise")
        except FileNotFoundError as e:
            assert e.filename == odd and e.errno == 2
        raises(PermissionError, er.io_custom, "permission", True)
        raises(PermissionError, er.io_errno, 1)
    return step


@workload("errors")
def error_causes(m):
    """`raise ... from ...`: a lazy error wrapping a Python one, both lazy, a pending one with a
    lazy cause, a three-level chain, a pending error caused by itself."""
    er = m.errors
    def step():
        try:
            er.wrap_call(raise_key_error)
            raise AssertionError("wrap_call did not raise")
        except ValueError as e:
            assert type(e.__cause__) is KeyError
        raises(RuntimeError, er.lazy_cause, "q")
        raises(KeyError, er.pending_with_cause, raise_key_error)
        try:
            er.cause_chain(raise_key_error)
            raise AssertionError("cause_chain did not raise")
        except er.ParseError as e:
            assert type(e.__cause__.__cause__) is KeyError
        raises(KeyError, er.self_cause, raise_key_error)
    return step


@workload("errors")
def error_into_value(m):
    """A caught exception taken as an object (Error::into_value: in the universal build through
    the private sys.unraisablehook), raised again, matched; lazy errors built as objects; taking
    when nothing is pending (SystemError); Rust-side matches and Display."""
    er = m.errors
    c_error = functools.partial(int, "x")
    def step():
        exc = KeyError("mine")  # a new one: a raised object's traceback grows with each raise

        def raise_it():
            raise exc
        assert er.catch(raise_it) is exc
        assert type(er.catch(c_error)) is ValueError  # raised by C code: no traceback
        raises(KeyError, er.catch_and_reraise, raise_it)
        assert er.key_error_args(raise_key_error) == ("k",)
        assert type(er.lazy_value("cause").__cause__) is TypeError
        raises(SystemError, er.into_value_without_exception)
        assert er.lazy_matches() == [True, True, True, False, False, True, True, True]
        assert len(er.displays()) == 7
    return step


@workload("errors")
def error_declared(m):
    """#[hpy::exception] classes: From<user error> into one, one raised in Python matched
    against its base."""
    er = m.errors

    def raise_deep():
        raise er.DeepError("d")
    def step():
        raises(er.ParseError, er.parse_number, "x")
        assert er.matches_parse_error(raise_deep) is True
    return step


@workload("errors", types=True, live=lambda m: m.errors.live_values())
def exc_values_python(m):
    """Exception classes holding a Rust value, used from Python: a LineError constructed, its
    getters, a method returning a new one, raised and caught with a cause (a Python subclass), a
    Fault in a cycle through its field, a Code extracted by value; a read-only attribute set, a
    class without a constructor called."""
    er = m.errors
    LineError = er.LineError

    class Sub(LineError):
        pass
    def step():
        e = LineError(3, "bad")
        assert e.line == 3 and e.args == (3, "bad") and str(e) == "line 3: bad"
        assert e.at_line(9).line == 9 and e.itself() is e
        try:
            try:
                {}["k"]
            except KeyError as cause:
                raise Sub(7, "no key") from cause
        except LineError as caught:
            assert caught.line == 7
        f = er.fault(3)
        f.attach(f)  # a cycle through the Rust value's field
        assert f.payload is f
        assert er.code_value(er.Code(7)) == 7
        raises(AttributeError, setattr, e, "line", 4)
        raises(TypeError, er.Fault, 1)
    return step


@workload("errors", types=True, live=lambda m: m.errors.live_values())
def exc_values_rust(m):
    """Exception classes holding a Rust value, from Rust: raised lazily (also with a cause),
    dropped unraised, its value taken (value_as, exception_value), and the error paths: not a
    LineError (raised again), no Rust value."""
    er = m.errors
    bare = ValueError.__new__(er.LineError)  # no Rust value
    eleven = er.LineError(11, "x")

    def raise_eleven():
        raise eleven
    def step():
        eleven.__traceback__ = None  # each raise would add to it, as in pure Python
        raises(er.LineError, er.raise_line_error, 4, "r")
        raises(er.LineError, er.line_error_with_cause, "k")
        raises(er.Fault, er.raise_fault, 42)
        er.drop_unraised(2)
        assert er.line_error_rust_side()[2] == [True, True, False, True, False]
        assert er.value_as_line_error(raise_eleven) == 11
        raises(KeyError, er.value_as_line_error, raise_key_error)
        assert er.line_of_exception(eleven) == 11
        raises(TypeError, er.line_of_exception, bare)
    return step


# ---- layout: constants and submodules ----

@workload("layout")
def submodules(m):
    """Module constants; functions of two submodules (a keyword-only argument, a Global of the
    submodule); the submodule's declared exception."""
    lay = m.layout
    geo, text = lay.geometry, lay.text
    def step():
        assert lay.MAX == 10 and lay.PAIR == (3, True) and lay.twice_max() == 20
        assert lay.f() == "layout.f" and geo.f() == "layout.geometry.f"
        assert geo.scale(2, factor=3) == 600 and geo.SCALE == 100
        assert text.shout("abc") == "ABC"
        assert geo.count() > 0
        raises(geo.RangeError, geo.scale, -1)
    return step


# ---- stdtypes: sets, slices, complex, bytearray, paths, dicts, keywords, in-place operators ----

@workload("stdtypes")
def sets_both_ways(m):
    """HashSet/BTreeSet from set and frozenset and back; Set methods (insert, discard, contains,
    iter, pop, clear); new sets from Rust; refused: not a set, an unhashable item, a list for a
    frozenset, not iterable."""
    st = m.stdtypes
    def step():
        assert st.set_sum({1, 2, 3}) == 6
        assert st.range_set(3) == {0, 1, 2}
        assert st.btree_roundtrip(frozenset({3, 1})) == {1, 3}
        s = {1, 2}
        assert st.set_add_discard(s, 3, 1) == 2 and st.set_contains(s, 2)
        assert st.set_iter_sum({5, 6}) == 11 and st.set_drain(s) == 5 and not s
        assert st.new_sets([1, 2, 2]) == ({1, 2}, frozenset({1, 2}), set())
        raises(TypeError, st.set_sum, [1, 2])
        raises(TypeError, st.set_add_discard, s, [1], 1)
        raises(TypeError, st.set_contains, [1], 1)
        raises(TypeError, st.new_sets, 5)
    return step


@workload("stdtypes")
def slices(m):
    """Slice, SliceBounds and SliceOrIndex arguments: indices, positions, bounds (huge ones
    clamped), index or slice; a zero step, non-integer bounds, an index too big, not a slice."""
    st = m.stdtypes
    s, huge = slice(1, 8, 2), slice(-2**100, 2**100, -2**100)
    def step():
        assert st.slice_indices(s, 10) == (1, 8, 2, 4)
        assert st.slice_positions(s, 10) == [1, 3, 5, 7]
        assert st.slice_bounds(huge)[1] == sys.maxsize
        assert st.key_kind(3) == "index 3" and st.key_kind(s) == "slice"
        raises(ValueError, st.slice_indices, slice(None, None, 0), 5)
        raises(TypeError, st.slice_positions, slice("a"), 5)
        raises(TypeError, st.slice_indices, 5, 10)
        raises(IndexError, st.key_kind, 2**100)
    return step


@workload("stdtypes", types=True)
def slice_class(m):
    """Seq: __getitem__/__setitem__/__delitem__ with an index or a slice (SliceOrIndex),
    iterated through the sequence protocol; a zero step, a str key, out of range, an extended
    slice of the wrong size, a bad item."""
    Seq = m.stdtypes.Seq
    def step():
        seq = Seq([0, 1, 2, 3, 4, 5])
        assert seq[1:5:2] == [1, 3] and seq[::-1] == [5, 4, 3, 2, 1, 0] and seq[-1] == 5
        seq[0] = 10
        seq[1:3] = (11, 12, 13)  # [10, 11, 12, 13, 3, 4, 5]: a slice of any length
        seq[::2] = [20, 21, 22, 23]  # an extended slice: as many as it selects
        del seq[::3]
        del seq[0]
        assert list(seq) == seq.to_list() == [21, 22, 4]
        raises(ValueError, seq.__getitem__, slice(None, None, 0))
        raises(TypeError, seq.__getitem__, "x")
        raises(IndexError, seq.__getitem__, 3)
        raises(ValueError, seq.__setitem__, slice(None, None, 2), [9])
        raises(TypeError, seq.__setitem__, slice(0, 1), [1, "a"])
    return step


@workload("stdtypes")
def complex_and_bytearray(m):
    """Complex from complex and __complex__ and back; bytearray read, made, and snapshotted
    across a resize; refused: a str, a raising __complex__."""
    st = m.stdtypes

    class WithComplex:
        def __complex__(self):
            return 4 - 1j

    class Raising:
        def __complex__(self):
            raise RuntimeError("no complex today")
    with_complex, raising = WithComplex(), Raising()
    def step():
        assert st.complex_parts(1 + 2j) == (1.0, 2.0) and st.complex_parts(with_complex) == (4.0, -1.0)
        assert st.conjugate(3 + 4j) == 3 - 4j
        data = bytearray(b"abc")
        assert st.bytearray_contents(data) == b"abc"
        assert st.make_bytearray(b"xy") == bytearray(b"xy")
        assert st.bytearray_snapshot(data, lambda: data.extend(b"z" * 100)) == b"abc"
        raises(TypeError, st.complex_parts, "1+2j")
        raises(RuntimeError, st.complex_parts, raising)
    return step


@workload("stdtypes")
def paths(m):
    """PathBuf from str (not UTF-8) and back (surrogate escapes), from bytes; the parent as
    &Path and &OsStr; an OsString from a raising __fspath__."""
    st = m.stdtypes

    class Raising:
        def __fspath__(self):
            raise RuntimeError("no path today")
    raising = Raising()
    def step():
        assert st.path_roundtrip("a\udcff") == "a\udcff"
        assert st.path_from_bytes(b"a\xffb") == "a\udcffb"
        assert st.path_parent("/usr/x.so") == ("/usr", "/usr")
        raises(RuntimeError, st.os_string_roundtrip, raising)
    return step


@workload("stdtypes")
def dicts_keywords_inplace(m):
    """Dict items, values, get and get_or from Rust; call_method_kw; an in-place operator on a
    list (changed in place); an unhashable key, a bad keyword."""
    st = m.stdtypes
    d, sort_desc = {"a": 1, "b": [2], 3: None}, {"reverse": True}
    def step():
        assert st.dict_items(d) == list(d.items()) and st.dict_values(d) == list(d.values())
        assert st.dict_get(d, "a") == (True, 1) and st.dict_get(d, "z") == (False, None)
        assert st.dict_get_or(d, "z", 5) == 5
        lst = [1, 3, 2]
        assert st.call_method_kw(lst, "sort", sort_desc) is None and lst == [3, 2, 1]
        assert st.inplace(lst, "+", [0]) is lst and len(lst) == 4
        raises(TypeError, st.dict_get, d, [1])
        raises(TypeError, st.call_method_kw, lst, "sort", {"bogus": 1})
    return step


# ---- inherit: classes extending classes, fields filled while constructing ----

class Holder:
    """A plain Python object to close a reference cycle through a field."""


@workload("inherit", types=True, live=lambda m: m.inherit.live_values())
def subclass_instances(m):
    """Circle (two Rust values) and Ring (three, through Init) made and dropped (the live
    counters come back: each value dropped once); base methods, properties and slots on them,
    as_base reads; a constructor refusing its arguments, a missing argument."""
    inh = m.inherit
    Circle, Ring = inh.Circle, inh.Ring
    def step():
        c, r = Circle("c", 2.0), Ring("r", 3.0, 1.0)
        assert c.greet() == "hello, c" and len(c) == 1 and repr(r) == "<r>"
        assert c.describe() == "c (r=2)" and r.root_name() == "r" and r.area() > c.area()
        raises(ValueError, Circle, "c", -1.0)
        raises(TypeError, Circle, "c")
    return step


@workload("inherit", types=True, live=lambda m: m.inherit.live_values())
def init_with_fields(m):
    """Init with fields of two levels (Circle.tagged) and of one (EventBus(fallback=f)), read
    back and called; without a fallback; bad arguments."""
    inh = m.inherit
    tag, extra, seen = Holder(), Holder(), []
    def step():
        c = inh.Circle.tagged("t", tag, extra)
        assert c.tag() is tag and c.extra() is extra
        bus = inh.EventBus(fallback=seen.append)
        bus.emit("a")
        assert seen.pop() == "a" and bus.fallback == seen.append
        assert inh.EventBus().emit("x") is None
        raises(TypeError, inh.EventBus, 1, 2)
        raises(TypeError, inh.EventBus, fall=1)
    return step


@workload("inherit", types=True, live=lambda m: m.inherit.live_values())
def inherit_cycles(m):
    """Reference cycles through the fields of each level (a Circle's base field, a Ring's base
    field and its own, an EventBus whose fallback holds it), left to the garbage collector."""
    inh = m.inherit
    def step():
        c = inh.Circle("c", 1.0)
        holder = Holder()
        holder.c = c
        c.set_tag(holder)
        r = inh.Ring("r", 2.0, 1.0)
        r.set_tag(r)
        r.set_extra([r])
        bus_holder = Holder()
        bus_holder.bus = inh.EventBus(fallback=bus_holder)
    return step


# ---- the self-check: a leak this tool must see ----

@workload("apitest", expect="grows")
def selfcheck_leak(m):
    """leak_bytes_on_purpose(3): 3 bytes leaked per call; must be reported as growing."""
    # 3 bytes: the list builder's leak for a 3-item list was that size (one malloc chunk)
    f = m.apitest.leak_bytes_on_purpose
    def step():
        f(3)
    return step


# =====================================================================================
# the worker: one mode, one shard of the workloads, in a child process
# =====================================================================================

def skip_reason(w, mode):
    """Why workload `w` does not run in `mode` (a module of it has no build there), or None."""
    if mode == "native":
        for name in w.modules:
            if name in UNIVERSAL_ONLY:
                return UNIVERSAL_ONLY[name]
    elif w.types and TYPES_CRASH:
        return TYPES_CRASH
    return None


def load_modules(mode, names):
    """The modules `names`, loaded in `mode` by the Python tests' loader (hpyrs_abi.load_file)."""
    import types

    # hpyrs_abi reads HPYRS_ABI when imported (this process imports it once, for its one mode)
    os.environ["HPYRS_ABI"] = "native" if mode == "native" else "universal"
    sys.path.insert(0, os.path.join(HERE, os.pardir, "tests", "python"))
    import hpyrs_abi
    ns = types.SimpleNamespace()
    for name in names:
        variable = "HPYRS_%s_SO" % name.upper()
        path = os.environ.get(variable)
        if not path or not os.path.exists(path):
            raise SystemExit("%s is not set to a built module (see tools/test.sh)" % variable)
        if mode == "native":
            if path.endswith(".hpy0.so"):
                raise SystemExit("%s=%s: a universal build; native mode needs the native one "
                                 "(tools/build-module.sh --native)" % (variable, path))
        else:
            # hpy.universal.load reads the ABI tag from the first ".hpy" in the path
            assert ".hpy" not in os.path.dirname(path), path
        setattr(ns, name, hpyrs_abi.load_file(name, path, mode))
    return ns


def run_workload(w, m, mode, calls, warmup, bound):
    """Measure one workload; returns its result row (a dict, "failure" set if it failed)."""
    row = {"workload": w.name, "mode": mode, "calls": calls, "expect": w.expect}
    saved_stderr = None
    if w.quiet:
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    detector = None
    try:
        step = w.make(m)  # inside the try: an old build may lack a function
        if mode == "debug":
            from hpy.debug import LeakDetector
            detector = LeakDetector()
            detector.start()
        live_before = w.live(m) if w.live else None
        for _ in range(warmup):
            step()
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        for _ in range(calls):
            step()
        row["seconds"] = time.perf_counter() - start
        gc.collect()
        after = rss_bytes()
        row.update(before=before, after=after, growth=after - before)
        if detector:
            detector.stop()  # raises HPyLeakError if a handle is still open
        if w.expect == "flat" and after - before > bound:
            row["failure"] = "GROWS"
        elif w.expect == "grows" and after - before <= bound:
            row["failure"] = "MISSED: the deliberate leak was not seen"
        live_after = w.live(m) if w.live else None
        if live_after != live_before:
            row["failure"] = "live Rust values %s -> %s (a Drop did not run)" % (live_before, live_after)
    except Exception as e:  # a wrong result, an error path that stopped raising, a leaked handle
        message = str(e).splitlines()[0] if str(e) else ""
        where = traceback.extract_tb(e.__traceback__)[-1]  # the failing line, for a bare assert
        row["failure"] = "%s%s at %s:%d: %s" % (
            type(e).__name__, ": " + message if message else "", os.path.basename(where.filename),
            where.lineno, where.line)
    finally:
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
    return row


def worker(args):
    mode, shard, shards = args.worker.split(":")
    selected = [w for w in select(args) if not skip_reason(w, mode)][int(shard)::int(shards)]
    needed = sorted({mod for w in selected for mod in w.modules}, key=MODULES.index)
    m = load_modules(mode, needed)
    for w in selected:
        row = run_workload(w, m, mode, args.calls, args.warmup, args.bound_kib * 1024)
        print(json.dumps(row), flush=True)


def select(args):
    """The workloads --only and --no-selfcheck select, in definition order."""
    patterns = [p for p in (args.only or "*").split(",") if p]
    chosen = [w for w in WORKLOADS if any(fnmatch.fnmatch(w.name, p) for p in patterns)]
    if args.no_selfcheck:
        chosen = [w for w in chosen if w.expect == "flat"]
    elif not any(w.expect == "grows" for w in chosen):
        chosen += [w for w in WORKLOADS if w.expect == "grows"]  # never measure blind
    return chosen


# =====================================================================================
# the driver: shards of each mode in child processes, one table
# =====================================================================================

def mib(n):
    return "%.1f MiB" % (n / 2**20)


def kib(n):
    return "%+d KiB" % round(n / 1024)


def verdict(row):
    if "skipped" in row:
        return "skipped in %s mode: %s" % (row["mode"], row["skipped"])
    if "failure" in row:
        return row["failure"]
    if row["expect"] == "grows":
        return "leak caught (%.0f B/call)" % (row["growth"] / row["calls"])
    return "flat"


class Table:
    """Prints rows in workload order as soon as the rows before them are in.

    Full: one line per workload and mode (workload, mode, RSS before and after, growth, bytes
    per call, seconds, verdict). Compact: one line per workload with each mode's growth."""

    def __init__(self, workloads, modes, compact):
        self.workloads, self.modes, self.compact = workloads, modes, compact
        self.rows, self.next = {}, 0
        if compact:
            self.line("%-24s" + " %12s" * len(modes) + "  %s", "workload", *modes, "verdict")
        else:
            self.line("%-24s %-9s %11s %11s %10s %8s %6s  %s", "workload", "mode", "RSS before",
                      "RSS after", "growth", "B/call", "secs", "verdict")

    def line(self, fmt, *values):
        text = fmt % values
        if not hasattr(self, "width"):
            self.width = len(text)
            print(text)
            print("-" * self.width, flush=True)
        else:
            print(text, flush=True)

    def keys(self):
        if self.compact:
            return [[(w.name, mode) for mode in self.modes] for w in self.workloads]
        return [[(w.name, mode)] for mode in self.modes for w in self.workloads]

    def add(self, row):
        self.rows[(row["workload"], row["mode"])] = row
        keys = self.keys()
        while self.next < len(keys) and all(k in self.rows for k in keys[self.next]):
            self.show([self.rows[k] for k in keys[self.next]])
            self.next += 1

    def show(self, rows):
        if self.compact:
            growths = [kib(r["growth"]) if "growth" in r else "-" for r in rows]
            failed = ["%s: %s" % (r["mode"], r["failure"]) for r in rows if "failure" in r]
            ran = [r for r in rows if "skipped" not in r]
            notes = failed or ([verdict(ran[0])] if ran else [])
            skipped = [r for r in rows if "skipped" in r]
            if len({r["skipped"] for r in skipped}) == 1:  # one reason: said once
                notes.append("skipped in %s mode: %s" % (" and ".join(r["mode"] for r in skipped),
                                                         skipped[0]["skipped"]))
            else:
                notes += [verdict(r) for r in skipped]
            self.line("%-24s" + " %12s" * len(rows) + "  %s", rows[0]["workload"], *growths,
                      "; ".join(notes))
            return
        r = rows[0]
        if "growth" in r:
            self.line("%-24s %-9s %11s %11s %10s %8.1f %6.1f  %s", r["workload"], r["mode"],
                      mib(r["before"]), mib(r["after"]), kib(r["growth"]), r["growth"] / r["calls"],
                      r["seconds"], verdict(r))
        else:
            self.line("%-24s %-9s %11s %11s %10s %8s %6s  %s", r["workload"], r["mode"], "-", "-",
                      "-", "-", "-", verdict(r))

    def end(self):
        print("-" * self.width)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="universal,debug",
                        help="comma-separated: universal, debug (the universal build), or native "
                             "(the native build)")
    parser.add_argument("--calls", type=int, default=100_000, help="measured calls per workload")
    parser.add_argument("--warmup", type=int, default=10_000, help="calls before the first reading")
    parser.add_argument("--bound-kib", type=int, default=DEFAULT_BOUND_KIB,
                        help="allowed growth per workload (default %(default)s)")
    parser.add_argument("--only", help="comma-separated workload names or globs (e.g. 'list_*')")
    parser.add_argument("--no-selfcheck", action="store_true",
                        help="skip the deliberate-leak workload (for a build whose apitest lacks it)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="child processes at a time; each mode is split into this many shards")
    parser.add_argument("--compact", action="store_true", help="one line per workload")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # mode:shard:shards, in a child
    args = parser.parse_args()
    if args.list:
        for w in WORKLOADS:
            print("%-22s %s" % (w.name, " ".join((w.make.__doc__ or "").split())))
        return 0
    if args.worker:
        worker(args)
        return 0

    modes = [mode for mode in args.modes.split(",") if mode]
    if not modes or any(mode not in MODES for mode in modes):
        parser.error("--modes: universal and/or debug, or native")
    if "native" in modes and len(modes) > 1:
        parser.error("--modes: native runs alone (HPYRS_<MODULE>_SO name either the universal "
                     "or the native build)")
    selected = select(args)
    if not selected:
        parser.error("--only %r matches no workload" % args.only)
    print("soak: %d workload%s x %s, %d calls each after %d warm-up calls; growth bound %d KiB"
          % (len(selected), "s"[len(selected) == 1:], "+".join(modes), args.calls, args.warmup,
             args.bound_kib), flush=True)

    skipped = [(w, mode, skip_reason(w, mode)) for mode in modes for w in selected
               if skip_reason(w, mode)]
    for w, mode, reason in skipped:
        print("skipped in %s mode: %s (%s)" % (mode, w.name, reason), flush=True)
    tasks = queue.Queue()
    for mode in modes:  # in table order, so that the table can be printed as it fills
        runnable = [w for w in selected if not skip_reason(w, mode)]
        shards = max(1, min(args.jobs, len(runnable)))
        for shard in range(shards if runnable else 0):
            tasks.put("%s:%d:%d" % (mode, shard, shards))
    results = queue.Queue()  # (task, a JSON line | ("exit", status) | None when the task is done)
    env = dict(os.environ, RUST_BACKTRACE="0")  # a backtrace per caught panic would dominate

    def run_tasks():
        while True:
            try:
                task = tasks.get_nowait()
            except queue.Empty:
                return
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", task] + sys.argv[1:]
            with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True) as proc:
                for line in proc.stdout:
                    results.put((task, line))
            if proc.returncode != 0:
                results.put((task, ("exit", proc.returncode)))
            results.put((task, None))

    start = time.perf_counter()
    n_tasks = tasks.qsize()
    for _ in range(max(1, args.jobs)):
        threading.Thread(target=run_tasks, daemon=True).start()
    table = Table(selected, modes, args.compact)
    for w, mode, reason in skipped:
        table.add({"workload": w.name, "mode": mode, "skipped": reason})
    rows, failures, done = [], [], 0
    while done < n_tasks:
        task, line = results.get()
        if line is None:
            done += 1
        elif isinstance(line, tuple):
            failures.append((None, None, "worker %s exited with status %d" % (task, line[1])))
        else:
            row = json.loads(line)
            rows.append(row)
            table.add(row)
            if "failure" in row:
                failures.append((row["workload"], row["mode"],
                                 "%s [%s]: %s" % (row["workload"], row["mode"], row["failure"])))
    table.end()
    order = {(w.name, mode): i for i, (mode, w) in enumerate((mode, w) for mode in modes for w in selected)}
    failures.sort(key=lambda f: order.get(f[:2], -1))  # worker exits first, then in table order
    failures = [f[2] for f in failures]
    expected = len(selected) * len(modes) - len(skipped)
    if len(rows) != expected:
        failures.append("%d of %d workload runs reported" % (len(rows), expected))
    print("%d workload runs in %.0f s%s" % (len(rows), time.perf_counter() - start,
                                           ", %d skipped" % len(skipped) if skipped else ""))
    if failures:
        print("soak FAILED:")
        for failure in failures:
            print("  - " + failure)
        return 1
    caught = "" if args.no_selfcheck else "; the deliberate leak was caught in every mode"
    print("soak passed: no workload grew by more than %d KiB%s" % (args.bound_kib, caught))
    return 0


if __name__ == "__main__":
    sys.exit(main())
