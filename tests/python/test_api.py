"""tests/fixtures/apitest in universal, debug (leak-checked) and trace mode: every safe API of the
hpy crate (context, handles, kinds, errors, conversions, object protocol, kind-specific methods,
builders, tracker, capsules, globals, allow_threads), each driven with good and bad input.

A known bug of the safe layer is a strict xfail whose reason describes it: the test asserts the
correct behaviour, so it starts failing (XPASS) as soon as the bug is fixed.

Misuses that used to crash the interpreter are tested in `test_former_crashes`: each now raises.
HPy 0.9's debug mode cannot release the interpreter safely (other threads' calls invalidate the
sleeping call's context: "Wrong HPy Context!"), so there `allow_threads` keeps it; see
test_debug_mode_threads.py, which shows the abort in C.
"""
import collections
import ctypes
import datetime
import decimal
import errno
import gc
import math
import operator
import os
import struct
import subprocess
import sys
import threading
import time
import types
import warnings
import weakref

import pytest

from conftest import (CONTEXT_NAMES, NATIVE, PYPY, ListClaiming, collect, built_module, expect, load, refuses_python_subclass,
                      run_call_sites, skip_module_if_types_crash)

PY310 = sys.version_info >= (3, 10)
INT_STR_LIMIT = hasattr(sys, "get_int_max_str_digits")
# A capsule that apitest did not make, and the capsule type: CPython's datetime module exports a
# capsule. PyPy's datetime is pure Python and exports none (nor has PyPy ctypes.pythonapi, to make
# one): there the tests that take any capsule take one of apitest's (OWN_CAPSULE stands for it in
# the parameters), and the two that need a foreign one are skipped.
FOREIGN_CAPSULE = None if PYPY else datetime.datetime_CAPI
OWN_CAPSULE = object()
NO_FOREIGN_CAPSULE = "PyPy has no capsule made outside apitest (no datetime.datetime_CAPI, no ctypes.pythonapi)"


def capsule_type(api):
    return type(api.make_capsule(0)) if PYPY else type(datetime.datetime_CAPI)


def own_capsule(api, value):
    return api.make_capsule(1) if value is OWN_CAPSULE else value


@pytest.fixture(scope="session")
def api_so():
    return built_module("HPYRS_APITEST_SO")


@pytest.fixture(scope="session")
def api(api_so, hpy_mode, tmp_path_factory):
    return load("apitest", api_so, hpy_mode, tmp_path_factory)


def xfail(reason, condition=True):
    return pytest.mark.xfail(condition, reason=reason, strict=True)


# ---- helper classes ----

class Index:
    """An int-like object: `__index__` only (like numpy integers)."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class IntOnly:
    """Has `__int__` but no `__index__`: not an int (Python >= 3.10 agrees)."""

    def __int__(self):
        return 5


class StrLiesInt(int):
    """An int subclass whose str() lies."""

    def __str__(self):
        return "42"

    __repr__ = __str__


class Recorder:
    """Every operator returns (name of the dunder, other operands...); the dunders are added below."""

    __hash__ = object.__hash__

    def __index__(self):
        return 77

    def __int__(self):
        return 78

    def __float__(self):
        return 79.5


def _record(name):
    def method(self, *args):
        return (name,) + args
    method.__name__ = "__%s__" % name
    return method


for _name in ["add", "sub", "mul", "matmul", "floordiv", "truediv", "mod", "divmod", "lshift", "rshift",
              "and", "xor", "or", "pow", "radd", "rsub", "rmul", "rmatmul", "rfloordiv", "rtruediv", "rmod",
              "rdivmod", "rlshift", "rrshift", "rand", "rxor", "ror", "rpow", "neg", "pos", "abs", "invert",
              "lt", "le", "eq", "ne", "gt", "ge"]:
    setattr(Recorder, "__%s__" % _name, _record(_name))


class Raises:
    """Every protocol hook raises a distinctive exception."""

    @property
    def prop(self):
        raise KeyError("from a property")

    def __repr__(self):
        raise ValueError("repr failed")

    def __str__(self):
        raise LookupError("str failed")

    def __hash__(self):
        raise KeyError("hash failed")

    def __bool__(self):
        raise ZeroDivisionError("bool failed")

    def __len__(self):
        raise IndexError("len failed")

    def __contains__(self, item):
        raise ArithmeticError("contains failed")

    def __getitem__(self, key):
        raise NotImplementedError("getitem failed")

    def __setitem__(self, key, value):
        raise OverflowError("setitem failed")

    def __delitem__(self, key):
        raise UnicodeError("delitem failed")

    def __eq__(self, other):
        raise RuntimeError("eq failed")

    def __call__(self, *args):
        raise StopIteration("call failed")

    def method(self, *args):
        raise FloatingPointError("method failed")


class Foo:
    pass


class BadRepr:
    def __repr__(self):
        raise ValueError("no repr")

    def __str__(self):
        raise ValueError("no str")


class SurrogateRepr:
    def __repr__(self):
        return "\ud800"

    __str__ = __repr__


# ======================================================================================
# the module itself
# ======================================================================================

def test_context_of_each_mode(api, hpy_mode, request):
    assert api.context_name() == CONTEXT_NAMES[hpy_mode]
    assert api.fmt_context() == 'Context("%s")' % CONTEXT_NAMES[hpy_mode]
    assert api.handle_ctx_name(1) == (CONTEXT_NAMES[hpy_mode], CONTEXT_NAMES[hpy_mode])
    assert request.node.leak_checked == (hpy_mode == "debug")


def test_globals_are_lent_only_where_handles_are_addresses(api, hpy_mode):
    # hpy-rs checks instances against a class's type, and creates instances, with the type
    # held by the class's global as it is (no HPyGlobal_Load and HPy_Close) only where a
    # global's number is a handle to its object: the native build, and CPython's universal
    # mode. Never in the debug and trace modes (their handles are allocated per handle), nor
    # on PyPy (handle tables).
    assert api.context_lends_globals() == (NATIVE or (hpy_mode == "universal" and not PYPY))


@pytest.mark.leaks_on_purpose
def test_leak_detector_sees_a_forgotten_handle(api, hpy_mode):
    """`mem::forget(handle)` is safe Rust; debug mode must report the leak (so the automatic leak
    check around every other test is known to work)."""
    if hpy_mode != "debug":
        api.leak_one()
        return
    from hpy.debug import LeakDetector
    from hpy.debug.leakdetector import HPyLeakError
    with pytest.raises(HPyLeakError, match="1 unclosed handle"):
        with LeakDetector():
            api.leak_one()


def test_module_attributes_from_init(api):
    assert api.__doc__ == "apitest: every safe API of hpy-rs behind a Python function."
    assert api.ANSWER == 42
    assert api.GREETING == "héllo"
    assert issubclass(api.ApiError, Exception)
    assert api.ApiError.__module__ == "apitest"
    assert api.ApiError.__name__ == "ApiError"
    assert api.ApiError.__doc__ == "apitest's own error."
    assert api.rt_i8.__text_signature__ == "(x, /)"
    assert api.rt_i8.__doc__ == "i8 round trip."
    assert api.pow.__text_signature__ == "(a, b, modulo=None)"
    assert api.call_method.__text_signature__ == "(obj, name, *args)"
    assert api.warn.__text_signature__ == "(category, message, stack_level=1)"


# ======================================================================================
# conversions
# ======================================================================================

INT_BOUNDS = {
    "i8": (-2**7, 2**7 - 1), "i16": (-2**15, 2**15 - 1), "i32": (-2**31, 2**31 - 1),
    "i64": (-2**63, 2**63 - 1), "i128": (-2**127, 2**127 - 1), "isize": (-2**63, 2**63 - 1),
    "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1), "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1),
    "u128": (0, 2**128 - 1), "usize": (0, 2**64 - 1),
}
UNSIGNED_64 = ["u8", "u16", "u32", "u64", "usize"]
SIGNED_64 = ["i8", "i16", "i32", "i64", "isize"]
WIDE = ["i128", "u128"]


@pytest.mark.parametrize("rust", INT_BOUNDS)
def test_int_round_trip(api, rust):
    lo, hi = INT_BOUNDS[rust]
    f = getattr(api, "rt_" + rust)
    # -1 is also HPy's error return of the integer conversions: it must come through as a value
    for v in (lo, lo + 1, -1 if lo < 0 else 0, 0, 1, 7, hi - 1, hi):
        r = f(v)
        assert r == v and type(r) is int, (v, r)


@pytest.mark.parametrize("rust", INT_BOUNDS)
def test_int_out_of_range(api, rust):
    lo, hi = INT_BOUNDS[rust]
    f = getattr(api, "rt_" + rust)
    msg = r"^rt_%s\(\) argument 'x': int out of range for %s$" % (rust, rust)
    for v in (hi + 1, lo - 1, 2**200, -2**200):
        with pytest.raises(OverflowError, match=msg):
            f(v)


@pytest.mark.parametrize("rust", INT_BOUNDS)
def test_int_wrong_type(api, rust):
    f = getattr(api, "rt_" + rust)
    for bad, name in [("1", "str"), (1.0, "float"), (2.5, "float"), (None, "NoneType"), ([1], "list"),
                      (b"1", "bytes"), (1j, "complex"), (Foo(), "Foo"),
                      (collections.OrderedDict(), "OrderedDict")]:
        with pytest.raises(TypeError, match=r"^rt_%s\(\) argument 'x' must be int, not %s$" % (rust, name)):
            f(bad)


@pytest.mark.parametrize("rust", list(INT_BOUNDS))
def test_int_accepts_index_objects(api, rust):
    f = getattr(api, "rt_" + rust)
    assert f(Index(5)) == 5


@pytest.mark.parametrize("rust", list(INT_BOUNDS))
@pytest.mark.filterwarnings("ignore:an integer is required:DeprecationWarning")  # 3.8's __int__ fallback
def test_int_rejects_int_like_objects(api, rust):
    f = getattr(api, "rt_" + rust)
    with pytest.raises(TypeError, match=r"^rt_%s\(\) argument 'x' must be int, not IntOnly$" % rust):
        f(IntOnly())
    with pytest.raises(TypeError, match=r"^rt_%s\(\) argument 'x' must be int, not Decimal$" % rust):
        f(decimal.Decimal("2.5"))


@pytest.mark.parametrize("rust", list(INT_BOUNDS))
def test_int_subclasses(api, rust):
    f = getattr(api, "rt_" + rust)
    assert f(True) == 1 and f(False) == 0  # bool is an int
    assert f(StrLiesInt(7)) == 7


@pytest.mark.parametrize("rust", list(INT_BOUNDS))
def test_int_huge_is_overflow(api, rust):
    f = getattr(api, "rt_" + rust)
    with pytest.raises(OverflowError, match=r"^rt_%s\(\) argument 'x': int out of range for %s$" % (rust, rust)):
        f(10**5000)


def test_wide_values_to_python(api):
    assert api.wide_values() == (-2**127, 2**127 - 1, 2**128 - 1, -2**63 - 1, 2**64)
    assert api.rt_i128(-2**63 - 1) == -2**63 - 1
    assert api.rt_u128(2**64) == 2**64


def test_floats(api):
    assert api.rt_f64(1.5) == 1.5
    assert api.rt_f64(2) == 2.0 and type(api.rt_f64(2)) is float  # ints are accepted
    assert api.rt_f64(True) == 1.0
    assert api.rt_f64(float("inf")) == float("inf")
    assert math.isnan(api.rt_f64(float("nan")))
    assert math.copysign(1, api.rt_f64(-0.0)) == -1
    assert api.rt_f64(decimal.Decimal("2.5")) == 2.5  # __float__

    class FloatSub(float):
        pass
    assert api.rt_f64(FloatSub(0.25)) == 0.25
    assert api.rt_f32(0.1) == struct.unpack("f", struct.pack("f", 0.1))[0]
    assert api.rt_f32(3) == 3.0
    # Out of f32 range: `as f32` saturates to infinity silently (struct.pack('f') would raise).
    assert api.rt_f32(1e300) == float("inf")


def test_floats_bad_input(api):
    for f, rust in [(api.rt_f64, "f64"), (api.rt_f32, "f32")]:
        for bad, name in [("1.5", "str"), (None, "NoneType"), ([1.0], "list"), (1j, "complex")]:
            with pytest.raises(TypeError, match=r"^rt_%s\(\) argument 'x' must be float, not %s$" % (rust, name)):
                f(bad)
    with pytest.raises(OverflowError, match="int too large to convert to float"):
        api.rt_f64(10**400)


def test_bool(api):
    assert api.rt_bool(True) is True
    assert api.rt_bool(False) is False
    for bad, name in [(1, "int"), (0, "int"), (None, "NoneType"), ("True", "str"), (1.0, "float"), ([], "list")]:
        with pytest.raises(TypeError, match=r"^rt_bool\(\) argument 'x' must be bool, not %s$" % name):
            api.rt_bool(bad)


def test_char(api):
    for c in ["a", "é", "🐍", "\0", "\U0010ffff"]:
        assert api.rt_char(c) == c
    with pytest.raises(ValueError, match=r"^rt_char\(\) argument 'x': expected a string of length 1, got length 2$"):
        api.rt_char("ab")
    with pytest.raises(ValueError, match=r"^rt_char\(\) argument 'x': expected a string of length 1, got length 0$"):
        api.rt_char("")
    with pytest.raises(ValueError, match="got length 2$"):
        api.rt_char("e\u0301")  # two code points, one grapheme
    with pytest.raises(TypeError, match=r"^rt_char\(\) argument 'x' must be str, not int$"):
        api.rt_char(97)
    with pytest.raises(UnicodeEncodeError):
        api.rt_char("\ud800")


@pytest.mark.parametrize("s", ["", "abc", "Zoë 🐍", "a\0b", "é\0" * 300, "x" * 100_000, "\U0010ffff"])
def test_strings(api, s):
    assert api.rt_string(s) == s
    assert api.rt_str(s) == s
    assert api.string_forms(s) == [s, s, s, s]


def test_strings_bad_input(api):
    class S(str):
        pass
    assert api.rt_string(S("sub")) == "sub" and type(api.rt_string(S("sub"))) is str
    for f in (api.rt_string, api.rt_str):
        name = f.__name__
        with pytest.raises(TypeError, match=r"^%s\(\) argument 'x' must be str, not bytes$" % name):
            f(b"abc")
        with pytest.raises(TypeError, match=r"^%s\(\) argument 'x' must be str, not int$" % name):
            f(1)
        with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
            f("a\udc80")


def test_bytes(api):
    for b in [b"", b"abc", b"\0\xff" * 1000, bytes(range(256))]:
        assert api.rt_bytes(b) == b
        assert api.rt_vec_u8(b) == b and type(api.rt_vec_u8(b)) is bytes

    class B(bytes):
        pass
    assert api.rt_bytes(B(b"sub")) == b"sub"
    for bad, name in [("abc", "str"), (bytearray(b"x"), "bytearray"), (memoryview(b"x"), "memoryview"),
                      ([1], "list")]:
        with pytest.raises(TypeError, match=r"^rt_bytes\(\) argument 'x' must be bytes, not %s$" % name):
            api.rt_bytes(bad)


def test_vec_u8(api):
    # Vec<u8> takes bytes directly, and any other sequence of ints item by item.
    assert api.rt_vec_u8(bytearray(b"ab")) == b"ab"
    assert api.rt_vec_u8([1, 2, 255]) == b"\x01\x02\xff"
    assert api.rt_vec_u8((0,)) == b"\0"
    with pytest.raises(OverflowError, match=r"^rt_vec_u8\(\) argument 'x': item 1: int out of range for u8$"):
        api.rt_vec_u8([1, 256])
    with pytest.raises(TypeError, match=r"^rt_vec_u8\(\) argument 'x': can't extract a str to a Vec$"):
        api.rt_vec_u8("ab")


def test_option(api):
    assert api.rt_option(None) is None
    assert api.rt_option(5) == 5
    assert api.rt_option_string(None) is None
    assert api.rt_option_string("s") == "s"
    with pytest.raises(TypeError, match=r"^rt_option\(\) argument 'x' must be int, not str$"):
        api.rt_option("5")
    with pytest.raises(OverflowError, match=r"^rt_option\(\) argument 'x': int out of range for i64$"):
        api.rt_option(2**64)


def test_vec(api):
    assert api.rt_vec_i64([1, -2, 3]) == [1, -2, 3]
    assert api.rt_vec_i64((4, 5)) == [4, 5]
    assert api.rt_vec_i64(range(4)) == [0, 1, 2, 3]
    assert api.rt_vec_i64([]) == []
    assert api.rt_vec_i64(b"ab") == [97, 98]  # bytes is a sequence of ints
    assert api.rt_vec_string(["a", "é", ""]) == ["a", "é", ""]
    assert api.rt_vec_vec([[1], [2, 3], []]) == [[1], [2, 3], []]
    big = list(range(10_000))
    assert api.rt_vec_i64(big) == big


def test_vec_bad_input(api):
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': can't extract a str to a Vec$"):
        api.rt_vec_i64("123")
    assert api.rt_vec_i64(x for x in [1]) == [1]  # any iterable
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x' must be iterable, not int$"):
        api.rt_vec_i64(5)
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': item 1: expected int, got str$"):
        api.rt_vec_i64([1, "2"])
    with pytest.raises(OverflowError, match=r"^rt_vec_i64\(\) argument 'x': item 2: int out of range for i64$"):
        api.rt_vec_i64([1, 2, 2**64])
    with pytest.raises(TypeError, match=r"^rt_vec_vec\(\) argument 'x': item 1: can't extract a str to a Vec$"):
        api.rt_vec_vec([[1], "x"])
    with pytest.raises(TypeError, match=r"^rt_vec_vec\(\) argument 'x': item 0: item 1: expected int, got str$"):
        api.rt_vec_vec([[1, "x"]])
    with pytest.raises(UnicodeEncodeError):
        api.rt_vec_string(["ok", "\ud800"])


class LyingLength:
    """Claims 2**62 items, has 3."""

    def __len__(self):
        return 2**62

    def __getitem__(self, i):
        if i < 3:
            return i
        raise IndexError(i)


class TupleClaiming(tuple):
    """A tuple whose `__len__` says `claimed`."""

    def __new__(cls, items, claimed):
        self = super().__new__(cls, items)
        self.claimed = claimed
        return self

    def __len__(self):
        return self.claimed


def iterated(seq):
    """The items a `for` loop over `seq` sees (`list(seq)` may fail on a huge `__len__`: it
    preallocates that many; so do PyPy's list comprehensions)."""
    items = []
    for item in seq:
        items.append(item)
    return items


def test_vec_from_huge_length(api):
    # The length is a capacity hint, capped: the items are what iteration yields.
    assert api.rt_vec_i64(LyingLength()) == iterated(LyingLength()) == [0, 1, 2]


@pytest.mark.parametrize("claimed", [0, 1, 2, 4, 1000, sys.maxsize])
def test_vec_from_sequences_whose_len_lies(api, claimed):
    items = [10, 20, 30]
    for seq in [ListClaiming(items, claimed), TupleClaiming(items, claimed)]:
        assert api.rt_vec_i64(seq) == iterated(seq) == items
        assert api.rt_vec_string(type(seq)(["a", "b"], claimed)) == ["a", "b"]
        assert api.rt_vec_vec([seq, seq]) == [items, items]
    if claimed < 2**20:
        assert api.rt_vec_i64(ListClaiming(items, claimed)) == list(ListClaiming(items, claimed))


def test_vec_from_subclasses_follows_their_iteration(api):
    # What list(x) does: a subclass's __iter__ decides; its __getitem__ alone changes nothing.
    class Doubling(list):
        def __iter__(self):
            return (2 * item for item in super().__iter__())

    class Indexing(list):
        def __getitem__(self, i):
            return 99

    class Shuffled(tuple):
        def __iter__(self):
            return reversed(tuple(super().__iter__()))

    for seq in [Doubling([1, 2, 3]), Indexing([1, 2, 3]), Shuffled((1, 2, 3))]:
        assert api.rt_vec_i64(seq) == list(seq)
    assert api.rt_vec_i64(Doubling([1, 2, 3])) == [2, 4, 6]


def test_vec_length_hint_errors_propagate_as_in_list(api):
    class BadLength(list):
        def __len__(self):
            raise ValueError("no length today")

    class NotAnInt(list):
        def __len__(self):
            return "three"  # TypeError in len(): list() ignores it, as a missing hint

    if not PYPY:  # PyPy's list() ignores a failing __len__ (any error), as it does a missing one
        with pytest.raises(ValueError, match="no length today"):
            list(BadLength([1]))
    with pytest.raises(ValueError, match="no length today"):
        api.rt_vec_i64(BadLength([1]))
    assert api.rt_vec_i64(NotAnInt([1, 2])) == list(NotAnInt([1, 2])) == [1, 2]


def test_vec_iteration_errors(api):
    class Broken(list):
        def __iter__(self):
            yield 1
            raise KeyError("iteration broke")

    class NotIterable(list):
        __iter__ = None

    with pytest.raises(KeyError, match="iteration broke"):
        api.rt_vec_i64(Broken([1, 2]))
    with pytest.raises(TypeError, match="not iterable"):
        api.rt_vec_i64(NotIterable([1]))
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': item 1: expected int, got str$"):
        api.rt_vec_i64(ListClaiming([1, "2"], 1))


class Mutating:
    """An int-like item whose conversion (`__index__`) runs `action` once, then gives `value`."""

    def __init__(self, value, action):
        self.value, self.action = value, action

    def __index__(self):
        action, self.action = self.action, None
        if action:
            action()
        return self.value


OUT_OF_MEMORY = r"""
import resource, sys
import hpyrs_abi

so, mode = sys.argv[1], sys.argv[2]
api = hpyrs_abi.load_file("apitest", so, mode)
with open("/proc/self/status") as status:
    vm_size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
# A little more address space than now: the Vec outgrows it long before range() ends.
resource.setrlimit(resource.RLIMIT_AS, (vm_size + 16 * 2**20, resource.RLIM_INFINITY))
try:
    api.rt_vec_i64(range(10**12))
except MemoryError as e:
    print("MemoryError:", e)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_vec_out_of_memory_is_memory_error(api_so, hpy_mode):
    """The items of a generic sequence are read until it ends (`len()` is only a capped hint),
    so a Vec can outgrow memory: that must be a MemoryError, never an abort."""
    # run in this directory, where `-c` code finds hpyrs_abi
    out = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY, api_so, hpy_mode],
                         capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MemoryError:"), out.stdout


def test_vec_from_a_list_mutated_by_its_items(api):
    """An item's conversion can run Python code that changes the list being converted: the
    items are read as a `for` loop reads them (never out of range, never a crash)."""
    def expected(make):
        seq = make()
        return [operator.index(item) for item in seq]

    def shrinking():
        seq = [1, 2, 3, 4]
        seq[1] = Mutating(2, lambda: seq.clear())
        return seq

    def growing():
        seq = [1, 2]
        seq[1] = Mutating(2, lambda: seq.extend([3, 4]))
        return seq

    def replacing():
        seq = [1, 2, 3]
        seq[0] = Mutating(1, lambda: seq.__setitem__(slice(None), [7, 8]))
        return seq

    for make, result in [(shrinking, [1, 2]), (growing, [1, 2, 3, 4]), (replacing, [1, 8])]:
        assert expected(make) == result
        assert api.rt_vec_i64(make()) == result


def test_tuple_from_tuple_subclasses(api):
    # As unpacking `a, b = x`: the items iteration yields, whatever __len__ says.
    with pytest.raises(TypeError, match=r"^rt_tuple2\(\) argument 'x': expected a tuple of length 2, "
                                        r"got a tuple of length 3$"):
        api.rt_tuple2(TupleClaiming((1, "a", 3), 2))
    assert api.rt_tuple2(TupleClaiming((1, "a"), 5)) == (1, "a")
    assert api.rt_tuple2(TupleClaiming((1, "a"), sys.maxsize)) == (1, "a")

    class Reversed(tuple):
        def __iter__(self):
            return reversed(tuple(super().__iter__()))

        def __getitem__(self, i):
            return "indexed"

    a, b = Reversed(("x", 1))
    assert api.rt_tuple2(Reversed(("x", 1))) == (a, b) == (1, "x")


def test_maps_from_dict_subclasses(api):
    # As dict(x): a subclass's own __getitem__ is not what dict(x) reads (unless it overrides
    # __iter__, then keys() and __getitem__ are).
    class Shouting(dict):
        def __getitem__(self, key):
            return 0

    class Reiterated(dict):
        def __iter__(self):
            return iter(sorted(super().keys()))

        def keys(self):
            return ["b"]

        def __getitem__(self, key):
            return 42

    for d in [Shouting(a=1, b=2), Reiterated(a=1, b=2)]:
        assert api.rt_hashmap(d) == dict(d)
    assert api.rt_hashmap(Reiterated(a=1, b=2)) == {"b": 42}


def test_vec_rejects_mappings_and_sets(api):
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': can't extract a dict to a Vec: pass its"):
        api.rt_vec_i64({0: 5, 1: 6})
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': can't extract a dict to a Vec: pass its"):
        api.rt_vec_i64({"a": 1})
    assert sorted(api.rt_vec_i64({1, 2})) == [1, 2]  # a set is an iterable


def test_tuples(api):
    assert api.rt_tuple1((5,)) == (5,)
    assert api.rt_tuple2((1, "a")) == (1, "a")
    twelve = (-128, -32768, -2**31, -2**63, 255, 65535, 2**32 - 1, 2**64 - 1, 1.5, True, "twelve", None)
    assert api.rt_tuple12(twelve) == twelve
    assert api.rt_tuple12(twelve[:-1] + (12,)) == twelve[:-1] + (12,)
    Point = collections.namedtuple("Point", "x y")
    assert api.rt_tuple2(Point(1, "y")) == (1, "y") and type(api.rt_tuple2(Point(1, "y"))) is tuple


def test_tuples_bad_input(api):
    with pytest.raises(TypeError, match=r"^rt_tuple1\(\) argument 'x' must be tuple, not list$"):
        api.rt_tuple1([5])
    with pytest.raises(TypeError, match=r"^rt_tuple1\(\) argument 'x' must be tuple, not int$"):
        api.rt_tuple1(5)
    with pytest.raises(TypeError, match=r"^rt_tuple1\(\) argument 'x': expected a tuple of length 1, "
                                        r"got a tuple of length 0$"):
        api.rt_tuple1(())
    with pytest.raises(TypeError, match=r"^rt_tuple2\(\) argument 'x': expected a tuple of length 2, "
                                        r"got a tuple of length 3$"):
        api.rt_tuple2((1, "a", 3))
    with pytest.raises(TypeError, match=r"^rt_tuple2\(\) argument 'x': item 1: expected str, got int$"):
        api.rt_tuple2((1, 2))
    with pytest.raises(TypeError, match=r"^rt_tuple12\(\) argument 'x': expected a tuple of length 12, "
                                        r"got a tuple of length 11$"):
        api.rt_tuple12(tuple(range(11)))
    with pytest.raises(OverflowError, match=r"^rt_tuple12\(\) argument 'x': item 4: int out of range for u8$"):
        api.rt_tuple12((0, 0, 0, 0, 256, 0, 0, 0, 0.0, True, "", None))
    with pytest.raises(TypeError, match=r"^rt_tuple12\(\) argument 'x': item 9: expected bool, got int$"):
        api.rt_tuple12((0, 0, 0, 0, 0, 0, 0, 0, 0.0, 1, "", None))


def test_maps(api):
    d = {"a": 1, "b": -2, "é": 2**63 - 1}
    assert api.rt_hashmap(d) == d
    assert api.rt_hashmap({}) == {}
    assert api.rt_hashmap(collections.OrderedDict(x=1)) == {"x": 1}
    b = api.rt_btreemap({3: "c", 1: "a", 2: "b"})
    assert b == {1: "a", 2: "b", 3: "c"}
    assert list(b) == [1, 2, 3]  # key order
    assert type(b) is dict


def test_maps_bad_input(api):
    with pytest.raises(TypeError, match=r"^rt_hashmap\(\) argument 'x' must be dict, not list$"):
        api.rt_hashmap([("a", 1)])
    with pytest.raises(TypeError, match=r"^rt_hashmap\(\) argument 'x': key: expected str, got int$"):
        api.rt_hashmap({1: 2})
    with pytest.raises(TypeError, match=r"^rt_hashmap\(\) argument 'x': value for key 'a': expected int, got str$"):
        api.rt_hashmap({"a": "b"})
    with pytest.raises(OverflowError, match=r"^rt_hashmap\(\) argument 'x': value for key 'a': "
                                            r"int out of range for i64$"):
        api.rt_hashmap({"a": 2**64})
    with pytest.raises(TypeError, match=r"^rt_btreemap\(\) argument 'x': key: expected int, got str$"):
        api.rt_btreemap({"x": "y"})
    with pytest.raises(TypeError, match=r"^rt_btreemap\(\) argument 'x': value for key 2: expected str, got int$"):
        api.rt_btreemap({2: 3})


def test_conversion_to_python_fails_cleanly(api):
    """A dict key that Python cannot hash: TypeError, and the half-built dict/list is released."""
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        api.map_with_list_keys()
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        api.vec_failing_half_way()


def test_unit_and_extract(api):
    assert api.unit() is None
    assert api.unit_result() is None
    assert api.extract_pair((1, "a")) == (1, "a")
    with pytest.raises(TypeError, match=r"^cannot convert to \(i64, String\): expected tuple, got list$"):
        api.extract_pair([1, "a"])
    with pytest.raises(TypeError, match=r"^cannot convert to \(i64, String\): item 1: expected str, got int$"):
        api.extract_pair((1, 2))


EXTRACT_OK = [
    ("f64", 1.5), ("i64", -3), ("u8", 255), ("String", "é"), ("&str", "s"), ("Option<i64>", None),
    ("Option<i64>", 4), ("Vec<i64>", [1, 2]), ("HashMap<String, Vec<i64>>", {"a": [1]}), ("Handle<Float>", 2.5),
]


@pytest.mark.parametrize("target, value", EXTRACT_OK, ids=[t for t, _ in EXTRACT_OK])
def test_extract_converts(api, target, value):
    assert api.extract_as(target, value) == value


EXTRACT_ERRORS = [
    # target, bad input, exception, message: `Handle::extract` names the Rust type it converts to
    ("f64", "s", TypeError, r"cannot convert to f64: expected float, got str"),
    ("i64", 1.5, TypeError, r"cannot convert to i64: expected int, got float"),
    ("u8", 256, OverflowError, r"cannot convert to u8: int out of range for u8"),
    ("String", b"b", TypeError, r"cannot convert to String: expected str, got bytes"),
    ("&str", 1, TypeError, r"cannot convert to &str: expected str, got int"),
    ("Option<i64>", "s", TypeError, r"cannot convert to Option<i64>: expected int, got str"),
    ("Vec<i64>", [1, "a"], TypeError, r"cannot convert to Vec<i64>: item 1: expected int, got str"),
    ("HashMap<String, Vec<i64>>", {"a": [1, None]}, TypeError,
     r"cannot convert to HashMap<String, Vec<i64>>: value for key 'a': item 1: expected int, got NoneType"),
    ("Handle<Float>", Foo(), TypeError, r"cannot convert to Handle<Float>: expected float, got Foo"),
]


@pytest.mark.parametrize("target, bad, exc, message", EXTRACT_ERRORS, ids=[t for t, *_ in EXTRACT_ERRORS])
def test_extract_errors_name_the_rust_type(api, target, bad, exc, message):
    with pytest.raises(exc, match="^%s$" % message):  # (no regex metacharacters in them)
        api.extract_as(target, bad)


def test_extract_errors_in_arguments_keep_the_argument_wording(api):
    # The same conversions as a function's parameters: CPython's wording, no Rust type.
    with pytest.raises(TypeError, match=r"^rt_f64\(\) argument 'x' must be float, not str$"):
        api.rt_f64("s")
    with pytest.raises(TypeError, match=r"^rt_vec_i64\(\) argument 'x': item 1: expected int, got str$"):
        api.rt_vec_i64([1, "a"])


def test_string_literal_defaults(api):
    assert api.str_defaults() == "Hello, world! [Some(\"plain\") Some(\"-\") None]"
    assert api.str_defaults("you", "Hi", tag=None, note=None, extra="e") == "Hi, you! [None None Some(\"e\")]"
    assert api.str_defaults(greeting="Yo") == "Yo, world! [Some(\"plain\") Some(\"-\") None]"
    with pytest.raises(TypeError, match=r"^str_defaults\(\) argument 'name' must be str, not int$"):
        api.str_defaults(1)
    with pytest.raises(TypeError, match=r"^str_defaults\(\) argument 'tag' must be str, not int$"):
        api.str_defaults(tag=1)
    assert api.str_defaults.__text_signature__ == "(name='world', greeting='Hello', *, tag='plain', note='-', extra=None)"


# ======================================================================================
# handles and kinds
# ======================================================================================

def test_handles_are_the_same_object(api):
    for obj in [None, 1, 2**100, "s", [], Foo(), int, sys]:
        assert api.ident(obj) is obj
        assert all(copy is obj for copy in api.handle_copies(obj))
    big = 10**30
    assert api.take_owned_long(big) is big
    assert api.take_owned_long(True) is True


TYPED = [
    # function, good input, expected result, subclass input, bad input, expected kind, bad type name
    ("take_long", 5, 5, True, "5", "int", "str"),
    ("take_unicode", "é", "é", type("S", (str,), {})("s"), b"x", "str", "bytes"),
    ("take_bytes", b"x", b"x", type("B", (bytes,), {})(b"b"), "x", "bytes", "str"),
    ("take_tuple", (1, 2), 2, collections.namedtuple("P", "a")(1), [1], "tuple", "list"),
    ("take_list", [1], 1, type("L", (list,), {})(), (1,), "list", "tuple"),
    ("take_dict", {1: 2}, 1, collections.OrderedDict(), [], "dict", "list"),
    ("take_type", int, "int", Foo, 1, "type", "int"),
    ("take_module", sys, "sys", types.ModuleType("m"), "sys", "module", "str"),
    ("take_bool", True, True, False, 1, "bool", "int"),
    ("take_float", 1.5, 1.5, type("F", (float,), {})(2.0), 1, "float", "int"),
    ("take_none", None, True, None, 0, "None", "int"),
    ("take_capsule", FOREIGN_CAPSULE or OWN_CAPSULE, True, FOREIGN_CAPSULE or OWN_CAPSULE, 1, "PyCapsule", "int"),
]


@pytest.mark.parametrize("func, good, result, sub, bad, kind, bad_name", TYPED, ids=[t[0] for t in TYPED])
def test_typed_handle_parameters(api, func, good, result, sub, bad, kind, bad_name):
    good, sub = own_capsule(api, good), own_capsule(api, sub)
    f = getattr(api, func)
    assert f(good) == result
    f(sub)  # subclasses are accepted
    with pytest.raises(TypeError, match=r"^%s\(\) argument 'x' must be %s, not %s$" % (func, kind, bad_name)):
        f(bad)
    with pytest.raises(TypeError, match=r"^%s\(\) argument 'x' must be %s, not Foo$" % (func, kind)):
        f(Foo())


def test_typed_handle_details(api):
    assert api.take_bool(False) is False
    assert api.take_long(True) == 1
    with pytest.raises(OverflowError, match=r"^int out of range for i64$"):
        api.take_long(2**64)  # Handle<Long>::to_i64 inside the body: not worded as an argument error
    assert api.take_opt_long(None) is None
    assert api.take_opt_long(3) == 3
    with pytest.raises(TypeError, match=r"^take_opt_long\(\) argument 'x' must be int, not str$"):
        api.take_opt_long("3")
    assert api.take_module(api) == "apitest"
    assert api.take_capsule(api.make_capsule(1)) is True


KINDS = {
    "object": [1, None, "s"], "None": [None], "bool": [True, False], "int": [1, True, 2**100],
    "float": [1.5], "str": ["s"], "bytes": [b"b"], "tuple": [(1,)], "list": [[1]],
    "dict": [{}, collections.OrderedDict()], "type": [int, Foo, type], "module": [sys],
    "PyCapsule": [FOREIGN_CAPSULE or OWN_CAPSULE],
}


@pytest.mark.parametrize("kind", KINDS)
def test_downcast(api, kind):
    for good in [own_capsule(api, g) for g in KINDS[kind]]:
        assert api.downcast(kind, good) is good
        assert api.downcast_into(kind, good) is good
    if kind == "object":
        return
    bad = 1.5 if kind not in ("float", "object") else "s"
    bad_name = type(bad).__name__
    with pytest.raises(TypeError, match=r"^expected %s, got %s$" % (kind, bad_name)):
        api.downcast(kind, bad)
    with pytest.raises(TypeError, match=r"^expected %s, got %s$" % (kind, bad_name)):
        api.downcast_into(kind, bad)
    with pytest.raises(TypeError, match=r"^expected %s, got Foo$" % kind):
        api.downcast(kind, Foo())
    with pytest.raises(ValueError, match="unknown kind"):
        api.downcast("nope", 1)


@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_checks_keep_a_pending_error(api, kind):
    for good in [own_capsule(api, g) for g in KINDS[kind]]:
        assert api.is_kind_with_pending_error(kind, good) == (True, True)
    if kind != "object":
        assert api.is_kind_with_pending_error(kind, Foo()) == (False, True)


def test_is_kind(api):
    cap = api.make_capsule(1)
    assert api.kinds_of(5) == ["object", "int"]
    assert api.kinds_of(True) == ["object", "bool", "int"]
    assert api.kinds_of(None) == ["object", "None"]
    assert api.kinds_of(1.5) == ["object", "float"]
    assert api.kinds_of("s") == ["object", "str"]
    assert api.kinds_of(b"s") == ["object", "bytes"]
    assert api.kinds_of((1,)) == ["object", "tuple"]
    assert api.kinds_of([1]) == ["object", "list"]
    assert api.kinds_of(collections.OrderedDict()) == ["object", "dict"]
    assert api.kinds_of(int) == ["object", "type"]
    assert api.kinds_of(api.ApiError) == ["object", "type"]
    assert api.kinds_of(sys) == ["object", "module"]
    assert api.kinds_of(cap) == ["object", "PyCapsule"]
    assert api.kinds_of(Foo()) == ["object"]
    assert api.kinds_of(bytearray()) == ["object"]


def test_debug_and_display_formatting(api):
    assert api.fmt_debug([1, "a"]) == ("[1, 'a']", "[1, 'a']", False)
    assert api.fmt_display("é") == ("é", False)
    assert api.fmt_display(5) == ("5", False)
    # a failing repr/str gives a placeholder and leaves no exception pending
    assert api.fmt_debug(BadRepr()) == ("<object whose repr() raised>", "<object whose repr() raised>", False)
    assert api.fmt_display(BadRepr()) == ("<object whose str() raised>", False)
    assert api.fmt_debug(SurrogateRepr()) == ("<unprintable object>", "<unprintable object>", False)
    assert api.fmt_display(SurrogateRepr()) == ("<unprintable object>", False)


def test_debug_formatting_keeps_a_pending_error(api):
    # with an exception pending, Python code cannot run: a placeholder, and the exception is kept
    for obj in [5, "s", object()]:
        assert api.fmt_debug_with_pending_error(obj) == (
            "<object (not shown: a Python exception is pending)>", True)


# ======================================================================================
# context constants
# ======================================================================================

def test_constants(api):
    import builtins
    c = api.constants()
    expected = (None, True, False, NotImplemented, Ellipsis, builtins.__dict__)
    assert len(c) == len(expected)
    for got, want in zip(c, expected):
        assert got is want


def test_type_constants(api):
    expected = [object, type, bool, int, float, str, tuple, list, complex, bytes, memoryview, capsule_type(api),
                slice]
    assert expected[-2].__name__ == "PyCapsule"
    got = api.type_constants()
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g is e


@pytest.mark.parametrize("name", ["BaseException", "Exception", "ArithmeticError", "LookupError", "AttributeError",
                                  "KeyError", "IndexError", "ValueError", "TypeError", "ZeroDivisionError",
                                  "OverflowError", "RuntimeError", "NotImplementedError", "OSError",
                                  "FileNotFoundError", "StopIteration", "SystemExit", "UnicodeDecodeError",
                                  "Warning", "UserWarning", "DeprecationWarning", "RuntimeWarning"])
def test_exception_constants(api, name):
    import builtins
    assert api.exception_type(name) is getattr(builtins, name)
    assert api.exception_type_name(name) == (name, name)


def test_exception_type_from_global(api):
    assert api.exception_type("ApiError") is api.ApiError
    assert api.exception_type_name("ApiError") == ("exception", "exception")
    # a global that was never stored (or holds no type) is a module bug: SystemError (documented)
    assert api.exception_type("NeverSet") is SystemError
    assert api.exception_type_from_marker() is ValueError
    # ExceptionType::from_global with a global filled at run time (only with exception types here)
    with pytest.raises(KeyError, match="raised through a global"):
        api.exception_from_misused_global(KeyError, "raise")
    assert api.exception_from_misused_global(LookupError, "matches") is False
    assert api.exception_from_misused_global(Exception, "matches") is True
    assert api.exception_from_misused_global(KeyError, "exception") is KeyError
    assert api.exception_from_misused_global(KeyError, "name") == "KeyError"
    with pytest.raises(SystemError, match="not a BaseException subclass"):
        api.exception_from_misused_global(int, "raise")  # a type, but not an exception type
    with pytest.raises(ValueError, match="unknown exception type"):
        api.exception_type("Nope")


# ======================================================================================
# object protocol
# ======================================================================================

def test_getattr(api):
    ns = types.SimpleNamespace(x=1, é=2)
    assert api.getattr(ns, "x") == 1
    assert api.getattr(ns, "é") == 2
    assert api.getattr(5, "real") == 5
    assert api.getattr_obj(ns, "x") == 1
    assert api.getattr_obj_str(ns, "x") == 1
    with pytest.raises(AttributeError, match="'types.SimpleNamespace' object has no attribute 'y'|"
                                             "'SimpleNamespace' object has no attribute 'y'"):
        api.getattr(ns, "y")
    with pytest.raises(AttributeError):
        api.getattr_obj(ns, "y")
    with pytest.raises(KeyError, match="from a property"):
        api.getattr(Raises(), "prop")
    # (HPy_GetAttr's own check: PyPy's runtime words it its own way)
    with pytest.raises(TypeError, match=expect("attribute name must be string", "^expected str, got int object$")):
        api.getattr_obj(ns, 1)
    # a NUL in the name: impossible for the C-string API, fine for the object API
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.getattr(ns, "a\0b")
    setattr(ns, "a\0b", 3)
    assert api.getattr_obj(ns, "a\0b") == 3
    with pytest.raises(TypeError, match=r"^getattr\(\) argument 'name' must be str, not int$"):
        api.getattr(ns, 1)


@pytest.mark.parametrize("length", [1, 127, 128, 129, 1000])
def test_attribute_names_of_every_length(api, length):
    """with_cstr copies names shorter than 128 bytes to the stack, longer ones to the heap."""
    ns = types.SimpleNamespace()
    for name in ["x" * length, "é" * length]:
        api.setattr(ns, name, length)
        assert getattr(ns, name) == length
        assert api.getattr(ns, name) == length
        assert api.hasattr(ns, name) is True
        api.delattr(ns, name)
        assert api.hasattr(ns, name) is False


def test_hasattr(api):
    ns = types.SimpleNamespace(x=1)
    assert api.hasattr(ns, "x") is True
    assert api.hasattr(ns, "y") is False
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.hasattr(ns, "a\0b")


def test_hasattr_propagates_other_errors(api):
    with pytest.raises(KeyError, match="from a property"):
        hasattr(Raises(), "prop")  # Python
    with pytest.raises(KeyError, match="from a property"):
        api.hasattr(Raises(), "prop")


def test_setattr_and_delattr(api):
    ns = types.SimpleNamespace()
    assert api.setattr(ns, "x", [1]) is None
    assert ns.x == [1]
    api.setattr_rust(ns)
    assert (ns.an_int, ns.a_str, ns.a_list, ns.a_none) == (7, "seven", [7, 7], None)
    assert api.delattr(ns, "x") is None
    assert not hasattr(ns, "x")
    with pytest.raises(AttributeError):
        api.delattr(ns, "x")
    with pytest.raises(AttributeError, match="'object' object has no attribute 'x'"):
        api.setattr(object(), "x", 1)
    with pytest.raises(AttributeError):
        api.setattr(5, "real", 1)
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.setattr(ns, "a\0b", 1)
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.delattr(ns, "a\0b")

    class Guarded:
        def __setattr__(self, name, value):
            raise PermissionError("read-only " + name)

        def __delattr__(self, name):
            raise FileExistsError("cannot delete " + name)
    with pytest.raises(PermissionError, match="read-only x"):
        api.setattr(Guarded(), "x", 1)
    with pytest.raises(FileExistsError, match="cannot delete x"):
        api.delattr(Guarded(), "x")


def test_items(api):
    d = {"a": 1, 2: "b"}
    assert api.get_item(d, "a") == 1
    assert api.get_item(d, 2) == "b"
    assert api.get_item_str(d, "a") == 1
    assert api.get_item([10, 20], 1) == 20
    assert api.get_item("abc", slice(1, None)) == "bc"
    assert api.get_index([10, 20, 30], 2) == 30
    assert api.get_index("abc", 0) == "a"
    assert api.get_index({0: "zero"}, 0) == "zero"
    api.set_item(d, "c", 3)
    api.set_item_rust(d, "d", 4)
    assert d["c"] == 3 and d["d"] == 4
    lst = [1, 2]
    api.set_item(lst, 0, "x")
    assert lst == ["x", 2]
    api.del_item(d, "a")
    api.del_item(lst, 0)
    assert "a" not in d and lst == [2]


def test_items_bad_input(api):
    with pytest.raises(KeyError, match="'nope'"):
        api.get_item({}, "nope")
    with pytest.raises(IndexError, match="list index out of range"):
        api.get_item([], 0)
    with pytest.raises(IndexError, match="list index out of range"):
        api.get_index([1], 1)
    with pytest.raises(TypeError, match="'int' object is not subscriptable"):
        api.get_item(5, 0)
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        api.get_item({}, [])
    with pytest.raises(OverflowError, match=r"^get_index\(\) argument 'index': int out of range for usize$"):
        api.get_index([1], -1)
    with pytest.raises(TypeError, match="'tuple' object does not support item assignment"):
        api.set_item((1,), 0, 2)
    with pytest.raises(KeyError):
        api.del_item({}, "nope")
    with pytest.raises(TypeError):
        api.del_item("abc", 0)
    r = Raises()
    with pytest.raises(NotImplementedError, match="getitem failed"):
        api.get_item(r, 0)
    with pytest.raises(NotImplementedError, match="getitem failed"):
        api.get_index(r, 0)
    with pytest.raises(OverflowError, match="setitem failed"):
        api.set_item(r, 0, 1)
    with pytest.raises(UnicodeError, match="delitem failed"):
        api.del_item(r, 0)


def test_get_index_huge_index(api):
    with pytest.raises(IndexError):
        api.get_index([1, 2, 3], 2**64 - 1)


def test_contains_and_len(api):
    assert api.contains([1, 2], 2) is True
    assert api.contains([1, 2], 3) is False
    assert api.contains("abc", "b") is True
    assert api.contains({"k": 1}, "k") is True
    assert api.len([1, 2, 3]) == 3
    assert api.len("é🐍") == 2
    assert api.len({}) == 0
    assert api.len(range(10**6)) == 10**6
    assert api.is_empty([]) is True
    assert api.is_empty([0]) is False
    # CPython 3.14's words: "is not a container or iterable"
    not_iterable = "is not a container or iterable" if sys.version_info >= (3, 14) else "is not iterable"
    with pytest.raises(TypeError, match=expect("argument of type 'int' %s" % not_iterable, "'int' object is not iterable")):
        api.contains(5, 1)
    no_len = expect(r"object of type 'int' has no len\(\)", "^'int' has no length$")  # (PyPy's words)
    with pytest.raises(TypeError, match=no_len):
        api.len(5)
    with pytest.raises(TypeError, match=no_len):
        api.is_empty(5)
    r = Raises()
    with pytest.raises(ArithmeticError, match="contains failed"):
        api.contains(r, 1)
    with pytest.raises(IndexError, match="len failed"):
        api.len(r)

    class NegativeLen:
        def __len__(self):
            return -1

    class HugeLen:
        def __len__(self):
            return 2**70
    with pytest.raises(ValueError, match="__len__"):
        api.len(NegativeLen())
    with pytest.raises(OverflowError):
        api.len(HugeLen())


def test_calls(api):
    def f(*args, **kwargs):
        return args, kwargs
    assert api.call0(list) == []
    assert api.call_empty(f) == ((), {})
    assert api.call1(len, "abc") == 3
    assert api.call1(f, None) == ((None,), {})
    assert api.call2(max, 3, 7) == 7
    assert api.call8(f, list(range(8))) == (tuple(range(8)), {})
    assert api.call_rust_values(f) == ((1, "two", 3.5, None, [5, 6], (True,), b"seven", "e"), {})
    assert api.call_tuple_dict(f, (1, 2), {"c": 3}) == ((1, 2), {"c": 3})
    assert api.call_tuple_dict(f, (1,), None) == ((1,), {})
    assert api.call_tuple_dict(f, ()) == ((), {})
    assert api.call_tuple_dict(f, (), kwargs={"k": 1}) == ((), {"k": 1})
    assert api.call_with_kwargs(f, 1, {"k": 2}) == ((1,), {"k": 2})
    assert api.call_with_kwargs0(f, {}) == ((), {})
    assert api.call_with_kwargs0(dict, {"a": 1}) == {"a": 1}
    assert isinstance(api.call0(Foo), Foo)


def test_calls_with_a_dict_subclass_as_kwargs(api):
    # passed on as a plain dict, as `f(**m)` does: C callees may require an exact dict (CPython
    # 3.10's BaseException.__init__ raised SystemError for a subclass)
    class Lying(dict):
        def __len__(self):
            return 2

    def f(*args, **kwargs):
        return args, kwargs, type(kwargs)
    assert api.call_with_kwargs(f, 1, Lying(k=2)) == ((1,), {"k": 2}, dict)
    assert api.call_tuple_dict(f, (), Lying()) == ((), {}, dict)
    assert isinstance(api.call_with_kwargs(api.ApiError, None, Lying()), api.ApiError)
    with pytest.raises(TypeError, match="keyword argument"):
        api.call_with_kwargs(api.ApiError, None, Lying(a=1))


def test_del_runs_inside_a_rust_call(api):
    """The last reference is dropped in Rust: __del__ runs inside the call and calls back into the module."""
    log = []

    class D:
        def __del__(self):
            log.append(api.ident("from __del__"))
            log.append(api.rt_vec_i64([1, 2]))
    assert api.call_and_drop(D) is None
    # PyPy has no reference counts: there __del__ runs at the next collection, outside the call
    # (and calls into the module from there)
    if PYPY:
        collect()
    assert log == ["from __del__", [1, 2]]


def test_calls_bad_input(api):
    with pytest.raises(TypeError, match="'int' object is not callable"):
        api.call0(5)
    with pytest.raises(TypeError, match="'int' object is not callable"):
        api.call_rust_values(5)
    with pytest.raises(StopIteration, match="call failed"):
        api.call1(Raises(), 1)
    with pytest.raises(TypeError, match=expect("takes no keyword arguments",
                                               r"^len\(\) got an unexpected keyword argument 'bogus'$")):
        api.call_tuple_dict(len, ("abc",), {"bogus": 1})
    def one(a):
        return a
    with pytest.raises(TypeError, match="one\\(\\) got an unexpected keyword argument 'bogus'"):
        api.call_with_kwargs(one, 1, {"bogus": 1})
    with pytest.raises(TypeError, match=r"^call_tuple_dict\(\) argument 'args' must be tuple, not list$"):
        api.call_tuple_dict(len, ["abc"])
    with pytest.raises(TypeError, match=r"^call_tuple_dict\(\) argument 'kwargs' must be dict, not list$"):
        api.call_tuple_dict(len, ("abc",), [])
    with pytest.raises(TypeError, match=r"^call_with_kwargs\(\) argument 'kwargs' must be dict, not NoneType$"):
        api.call_with_kwargs(len, "abc", None)
    with pytest.raises(ValueError, match="exactly 8 arguments"):
        api.call8(print, [1] * 7)
    with pytest.raises(TypeError, match=r"^call8\(\) argument 'args' must be iterable, not int$"):
        api.call8(print, 8)


def test_call_method(api):
    lst = [3, 1, 2]
    assert api.call_method(lst, "sort") is None
    assert lst == [1, 2, 3]
    assert api.call_method("a,b", "split", ",") == ["a", "b"]
    assert api.call_method("abc", "replace", "b", "x") == "axc"
    assert api.call_method(str, "join", "-", "ab") == "a-b"  # an unbound method: the receiver is `str`
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        api.call_method([], "nope")
    with pytest.raises(AttributeError):
        api.call_method([], "a\0b")
    with pytest.raises(FloatingPointError, match="method failed"):
        api.call_method(Raises(), "method", 1)
    with pytest.raises(TypeError, match=expect("takes no arguments|takes no keyword",
                                               r"^list.clear\(\) takes 1 positional argument but 2 were given$")):
        api.call_method([], "clear", 1)
    with pytest.raises(ValueError, match="up to 2 method arguments"):
        api.call_method([], "append", 1, 2, 3)


def test_repr_str_ascii(api):
    assert api.repr("é") == "'é'"
    assert api.repr_string([1, "é"]) == "[1, 'é']"
    assert api.str_(5) == "5"
    assert api.str_("é") == "é"
    assert api.ascii("é") == "'\\xe9'"
    with pytest.raises(ValueError, match="repr failed"):
        api.repr(Raises())
    with pytest.raises(LookupError, match="str failed"):
        api.str_(Raises())
    with pytest.raises(ValueError, match="repr failed"):
        api.ascii(Raises())
    with pytest.raises(UnicodeEncodeError):
        api.repr_string(SurrogateRepr())

    class NotAStr:
        def __repr__(self):
            return 5
    with pytest.raises(TypeError, match="__repr__ returned non-string"):
        api.repr(NotAStr())


def test_hash(api):
    for obj in ["abc", 5, -1, 2**100, (1, "a"), None, 1.5]:
        assert api.hash(obj) == hash(obj)
    assert api.hash(-1) == -2

    class MinusOne:
        def __hash__(self):
            return -1
    assert api.hash(MinusOne()) == -2
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        api.hash([])
    with pytest.raises(KeyError, match="hash failed"):
        api.hash(Raises())


def test_identity_truth_callable_type(api):
    a = [1]
    assert api.is_(a, a) is True
    assert api.is_(a, [1]) is False
    assert api.is_(None, None) is True
    assert api.is_none(None) is True
    assert api.is_none(0) is False
    for obj in [[], 0, "", None, 0.0, {}]:
        assert api.is_true(obj) is False
    for obj in [[0], 1, "0", Foo()]:
        assert api.is_true(obj) is True
    with pytest.raises(ZeroDivisionError, match="bool failed"):
        api.is_true(Raises())

    class BadBool:
        def __bool__(self):
            return 1
    with pytest.raises(TypeError, match="__bool__ should return bool"):
        api.is_true(BadBool())
    assert api.is_callable(len) is True
    assert api.is_callable(Foo) is True
    assert api.is_callable(Raises()) is True
    assert api.is_callable(5) is False
    assert api.get_type(5) is int
    assert api.get_type(int) is type
    assert api.get_type(collections.OrderedDict()) is collections.OrderedDict
    assert api.get_type(api.ApiError("x")) is api.ApiError


def test_is_instance(api):
    assert api.is_instance(True, int) is True
    assert api.is_instance(5, bool) is False
    assert api.is_instance(collections.OrderedDict(), dict) is True
    assert api.is_instance(api.ApiError(), Exception) is True
    assert api.is_instance(5, object) is True
    with pytest.raises(TypeError, match=r"^is_instance\(\) argument 'ty' must be type, not int$"):
        api.is_instance(1, 2)
    with pytest.raises(TypeError, match=r"^is_instance\(\) argument 'ty' must be type, not tuple$"):
        api.is_instance(1, (int,))


def test_is_instance_ignores_abcs(api):
    # documented: a type check along the MRO, without __instancecheck__/__subclasscheck__
    import collections.abc
    import numbers
    assert api.is_instance([], collections.abc.Sequence) is False
    assert api.is_instance(5, numbers.Number) is False
    assert api.is_subtype(list, collections.abc.Sequence) is False
    assert api.is_instance(collections.OrderedDict(), collections.abc.Mapping) is False
    class Seq(collections.abc.Sequence):
        def __len__(self): return 0
        def __getitem__(self, i): raise IndexError
    assert api.is_instance(Seq(), collections.abc.Sequence) is True  # a real subclass


OPS = ["lt", "le", "eq", "ne", "gt", "ge"]
REFLECTED = {"lt": "gt", "le": "ge", "eq": "eq", "ne": "ne", "gt": "lt", "ge": "le"}


@pytest.mark.parametrize("op", OPS)
def test_rich_compare(api, op):
    r = Recorder()
    assert api.rich_compare(r, 1, op) == (op, 1)
    assert api.rich_compare(1, r, op) == (REFLECTED[op], 1)
    assert api.compare(r, 1, op) is True  # a non-empty tuple is true
    py = getattr(operator, op)
    for a, b in [(1, 2), (2, 1), (2, 2), ("a", "b"), (1.5, 1)]:
        assert api.rich_compare(a, b, op) is py(a, b)
        assert api.compare(a, b, op) is py(a, b)
    if op in ("eq", "ne"):
        assert api.compare(object(), object(), op) is (op == "ne")
    else:
        with pytest.raises(TypeError, match="not supported between instances of 'object' and 'object'"):
            api.compare(object(), object(), op)
        with pytest.raises(TypeError, match="not supported between instances of 'int' and 'str'"):
            api.rich_compare(1, "a", op)


def test_compare_helpers(api):
    assert api.eq(1, 1.0) is True
    assert api.eq([1], [1]) is True
    assert api.lt(1, 2) is True
    assert api.lt(2, 1) is False
    assert api.cmp_i64(5, 5) == (True, False)
    assert api.cmp_i64(4, 5) == (False, True)
    assert api.compare_op_raw() == ([0, 1, 2, 3, 4, 5], True, True)
    with pytest.raises(TypeError, match="'<' not supported"):
        api.cmp_i64("a", 1)
    with pytest.raises(RuntimeError, match="eq failed"):
        api.eq(Raises(), 1)
    with pytest.raises(ValueError, match="unknown comparison"):
        api.compare(1, 1, "spaceship")
    nan = float("nan")
    assert api.rich_compare(nan, nan, "eq") is False


def test_compare_treats_identical_objects_as_equal(api):
    # documented: PyObject_RichCompareBool semantics (as `in` and list.__eq__): identity first
    class NeverEqual:
        def __eq__(self, other):
            return False

        def __ne__(self, other):
            return True

    # (not nan: PyPy's floats are identical by value, `nan is float("nan")` there)
    never = NeverEqual()
    assert api.eq(never, never) is True and [never] == [never]
    assert api.compare(never, never, "ne") is False
    assert api.eq(never, NeverEqual()) is False  # different objects: __eq__ decides
    nan = float("nan")
    assert api.eq(nan, nan) is True and [nan] == [nan]


# ---- members: read-only numbers of frozen classes ----

INTEGER_FIELDS = {
    "int8": (-2**7, 2**7 - 1), "uint8": (0, 2**8 - 1), "int16": (-2**15, 2**15 - 1),
    "uint16": (0, 2**16 - 1), "int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1),
    "int64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1), "size": (-2**63, 2**63 - 1),
    "usize": (0, 2**64 - 1),
}


@pytest.mark.parametrize("low", [True, False])
def test_members_read_every_primitive_type(api, low):
    skip_module_if_types_crash()
    e = api.Extremes(low)
    for name, (lo, hi) in INTEGER_FIELDS.items():
        value = getattr(e, name)
        assert type(value) is int and value == (lo if low else hi), name
    assert e.float32 == (-0.25 if low else 1.5) and type(e.float32) is float
    assert e.float64 == (sys.float_info.min if low else sys.float_info.max)
    assert e.flag is (not low)
    assert e.label == ("low" if low else "high")


def test_members_are_read_only_member_descriptors(api):
    skip_module_if_types_crash()
    kinds = {name: type(api.Extremes.__dict__[name]).__name__ for name in [*INTEGER_FIELDS, "flag", "label"]}
    # PyPy has its own descriptor type for HPy members; properties are Python `property` objects
    # there (hpy::impl_::slots::PropertyMethods)
    member, getset = expect(("member_descriptor", "getset_descriptor"), ("hpy_member_descriptor", "property"))
    assert kinds == {**{name: member for name in [*INTEGER_FIELDS, "flag"]}, "label": getset}
    assert api.Extremes.int64.__doc__ == "The 64-bit one."
    e = api.Extremes(True)
    # (PyPy's member descriptors word the refusals their own way)
    with pytest.raises(AttributeError, match=expect("^readonly attribute$",
                                                    "^attribute 'int64' of 'Extremes' objects is not writable$")):
        e.int64 = 1
    with pytest.raises(AttributeError, match=expect("^readonly attribute$",
                                                    r"^cannot delete 'flag' attribute of immutable type '\?'$")):
        del e.flag
    assert e.int64 == -2**63


def test_members_of_python_subclass_instances(api):
    skip_module_if_types_crash()
    if not refuses_python_subclass(api.Extremes):
        class Sub(api.Extremes):
            def __init__(self, low):
                self.extra = "x"

        s = Sub(False)
        assert (s.int8, s.uint64, s.float64, s.flag, s.label, s.extra) == (127, 2**64 - 1, sys.float_info.max, True, "high", "x")
    # A member descriptor refuses objects of other types.
    with pytest.raises(TypeError):
        api.Extremes.int64.__get__(object())


def test_class_without_constructor_is_made_by_rust_only(api):
    skip_module_if_types_crash()
    t = api.make_token(7)
    assert type(t) is api.Token and t.id == 7
    message = r"^cannot create 'Token' instances: the class defines no constructor$"
    with pytest.raises(TypeError, match=message):
        api.Token()
    with pytest.raises(TypeError, match=message):
        api.Token.__new__(api.Token)

    class Sub(api.Token):
        pass

    with pytest.raises(TypeError, match=message):
        Sub()


# ---- keyword calls: each keyword function remembers its last layout of keywords ----
# CPython passes the keyword names of a call site as one constant tuple, and equal name tuples in
# one compiled unit are one object. The call sites below are compiled together so that calls with
# a different number of positional arguments, or another function, meet a remembered layout.

def test_keyword_layouts_are_reused_from_one_call_site(api):
    for i in range(5):
        assert api.bind_named(i, z=i + 1) == (i, 0, i + 1)
        assert api.bind_named(x=i, y=2, z=3) == (i, 2, 3)
        assert api.bind_named(z=3, y=2, x=i) == (i, 2, 3)
        assert api.bind_all(i, d=4) == (i, 2, 3, (), 4, 5, None)
        assert api.bind_all(i, 2, 3, 8, 9, e=6, d=4) == (i, 2, 3, (8, 9), 4, 6, None)


def test_keyword_layout_of_one_call_does_not_bind_the_next_wrongly(api):
    # The sequence runs three times, so each call meets the layout its predecessor left.
    ns = run_call_sites("""
outcomes = []
def attempt(call):
    try:
        outcomes.append(call())
    except TypeError as e:
        outcomes.append(str(e))
for _ in range(3):
    attempt(lambda: f(1, z=3))              # names ('z',)
    attempt(lambda: f(1, 2, z=3))           # the same names, one more positional argument
    attempt(lambda: f(z=3))                 # the same names: 'x' missing
    attempt(lambda: f(x=1, z=3))            # names ('x', 'z')
    attempt(lambda: f(1, x=1, z=3))         # the same names: 'x' given twice
    attempt(lambda: f(1, 2, 3, z=3))        # too many positional arguments
    attempt(lambda: g(1, z=3, d=4))         # another function, names ('z', 'd'): 'z' to **kwargs
    attempt(lambda: g(1, 2, 3, 8, z=3, d=4))
    attempt(lambda: g(d=4))                 # names ('d',): 'a' missing
    attempt(lambda: g(1, e=1))              # keyword-only 'd' missing
    attempt(lambda: g(1, d=4))              # names ('d',)
    attempt(lambda: g(1, 2, 3, 8, d=4))     # the same names, with *args
    attempt(lambda: g(1, b=2, d=4))         # positional-only 'b' by keyword: to **kwargs
    attempt(lambda: g(1, c=7, d=4))         # names ('c', 'd')
    attempt(lambda: g(1, 2, 3, c=7, d=4))   # the same names: 'c' given twice
    attempt(lambda: f(1, **{"z": 3}))       # a new names tuple every time
""", f=api.bind_named, g=api.bind_all)
    one_round = [
        (1, 0, 3),
        (1, 2, 3),
        "bind_named() missing 1 required positional argument: 'x'",
        (1, 0, 3),
        "bind_named() got multiple values for argument 'x'",
        "bind_named() takes from 1 to 2 positional arguments but 3 were given",
        (1, 2, 3, (), 4, 5, {"z": 3}),
        (1, 2, 3, (8,), 4, 5, {"z": 3}),
        "bind_all() missing 1 required positional argument: 'a'",
        "bind_all() missing 1 required keyword-only argument: 'd'",
        (1, 2, 3, (), 4, 5, None),
        (1, 2, 3, (8,), 4, 5, None),
        (1, 2, 3, (), 4, 5, {"b": 2}),
        (1, 2, 7, (), 4, 5, None),
        "bind_all() got multiple values for argument 'c'",
        (1, 0, 3),
    ]
    assert ns["outcomes"] == 3 * one_round


def test_keyword_layouts_of_interleaved_call_sites(api):
    # Two call sites with different names take turns: each call replaces the other's layout.
    for i in range(4):
        assert api.bind_named(x=i, z=-i) == (i, 0, -i)
        assert api.bind_named(z=-i, x=i) == (i, 0, -i)
        assert api.bind_named(i, y=i, z=0) == (i, i, 0)


def test_pow(api):
    assert api.pow(2, 10) == 1024
    assert api.pow(2, 10, 1000) == 24
    assert api.pow(2, 10, modulo=1000) == 24
    assert api.pow(2, 10, None) == 1024
    assert api.pow(2, -1) == 0.5
    assert api.pow(2, -1, 5) == 3  # modular inverse
    assert api.pow(2.0, 0.5) == 2 ** 0.5
    assert api.pow_i64(3, 2) == 9
    assert api.pow(Recorder(), 2) == ("pow", 2)
    assert api.pow(Recorder(), 2, 5) == ("pow", 2, 5)
    assert api.pow(2, Recorder()) == ("rpow", 2)
    with pytest.raises(TypeError, match="pow\\(\\) 3rd argument not allowed unless all arguments are integers"):
        api.pow(2.0, 3, 5)
    with pytest.raises(ZeroDivisionError):
        api.pow(0, -1)
    with pytest.raises(ValueError, match="pow\\(\\) 3rd argument cannot be 0"):
        api.pow(2, 3, 0)
    with pytest.raises(TypeError, match="unsupported operand type"):
        api.pow("a", 2)
    with pytest.raises(TypeError, match=r"^pow\(\) missing 1 required positional argument: 'b'$"):
        api.pow(2)


BINOPS = {
    # name: (Python operator, dunder)
    "add": (operator.add, "add"), "sub": (operator.sub, "sub"), "mul": (operator.mul, "mul"),
    "matmul": (operator.matmul, "matmul"), "floor_div": (operator.floordiv, "floordiv"),
    "true_div": (operator.truediv, "truediv"), "rem": (operator.mod, "mod"), "divmod": (divmod, "divmod"),
    "lshift": (operator.lshift, "lshift"), "rshift": (operator.rshift, "rshift"),
    "bitand": (operator.and_, "and"), "bitxor": (operator.xor, "xor"), "bitor": (operator.or_, "or"),
}


@pytest.mark.parametrize("name", BINOPS)
def test_binop(api, name):
    py, dunder = BINOPS[name]
    r = Recorder()
    assert api.binop(name, r, 5) == (dunder, 5)
    assert api.binop(name, 5, r) == ("r" + dunder, 5)
    if name != "matmul":
        for a, b in [(7, 2), (-7, 2), (6, 3), (2**70, 3)]:
            assert api.binop(name, a, b) == py(a, b)
        with pytest.raises(TypeError, match="unsupported operand type"):
            api.binop(name, 1, None)
    else:
        with pytest.raises(TypeError, match="unsupported operand type"):
            api.binop(name, 1, 2)
    if name in ("floor_div", "true_div", "rem", "divmod"):
        with pytest.raises(ZeroDivisionError):
            api.binop(name, 1, 0)


def test_binop_details(api):
    assert api.binop("add", [1], [2]) == [1, 2]  # sequence concatenation
    assert api.binop("mul", "ab", 2) == "abab"  # sequence repetition
    assert api.binop("bitor", {1}, {2}) == {1, 2}
    assert api.binop("true_div", 1, 4) == 0.25
    assert api.binop_i64("add", 5, 2) == 7
    assert api.binop_i64("true_div", 5, 2) == 2.5
    assert api.binop_i64("lshift", 1, 100) == 2**100
    with pytest.raises(ValueError, match="negative shift count"):
        api.binop("lshift", 1, -1)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'int' and 'str'"):
        api.binop("add", 1, "a")
    with pytest.raises(TypeError, match=expect("can only concatenate str",
                                               r"^unsupported operand type\(s\) for \+: 'str' and 'int'$")):
        api.binop_i64("add", "a", 1)
    with pytest.raises(ZeroDivisionError):
        api.binop_i64("rem", 1, 0)
    with pytest.raises(ValueError, match="unknown binary operator"):
        api.binop("pow", 1, 2)


UNOPS = {
    "neg": (operator.neg, ("neg",)), "pos": (operator.pos, ("pos",)), "abs": (abs, ("abs",)),
    "invert": (operator.invert, ("invert",)), "index": (operator.index, 77), "to_int": (int, 78),
    "to_float": (float, 79.5),
}


@pytest.mark.parametrize("name", UNOPS)
def test_unop(api, name):
    py, recorded = UNOPS[name]
    assert api.unop(name, Recorder()) == recorded
    for v in [5, -3, 0, 2**80]:
        assert api.unop(name, v) == py(v)
    if name in ("neg", "pos", "abs", "to_float", "to_int"):
        assert api.unop(name, -2.5) == py(-2.5)
    else:
        with pytest.raises(TypeError):
            api.unop(name, 2.5)
    with pytest.raises(TypeError):
        api.unop(name, [])


def test_unop_details(api):
    assert api.unop("to_int", "12") == 12
    assert api.unop("to_int", 3.9) == 3
    assert api.unop("to_float", "1.5") == 1.5
    assert type(api.unop("index", True)) in (int, bool)
    # (PyPy words these its own way)
    with pytest.raises(TypeError, match=expect("bad operand type for unary -: 'str'",
                                               "^unsupported operand type for unary neg: 'str'$")):
        api.unop("neg", "a")
    with pytest.raises(TypeError, match=expect("bad operand type for unary ~: 'float'",
                                               "^unsupported operand type for unary ~: 'float'$")):
        api.unop("invert", 1.5)
    with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
        api.unop("index", 1.5)
    with pytest.raises(ValueError, match="invalid literal for int"):
        api.unop("to_int", "x")
    with pytest.raises(ValueError, match="could not convert string to float"):
        api.unop("to_float", "x")
    with pytest.raises(ValueError, match="unknown unary operator"):
        api.unop("not", 1)


# ======================================================================================
# context helpers
# ======================================================================================

def test_import(api):
    imp = getattr(api, "import")  # `import` is a keyword: the function is reached with getattr
    assert imp("math") is math
    assert imp("collections.abc").__name__ == "collections.abc"
    with pytest.raises(ModuleNotFoundError, match="No module named 'no_such_module_hpyrs'"):
        imp("no_such_module_hpyrs")
    with pytest.raises(ValueError, match="^embedded null character$"):
        imp("a\0b")
    with pytest.raises(ValueError, match="Empty module name"):
        imp("")


def test_new_objects(api):
    d, lst, s, t, n = api.new_objects()
    assert (d, lst, s, t, n) == ({}, [], "héllo", (), 42)
    assert [type(x) for x in (d, lst, s, t, n)] == [dict, list, str, tuple, int]
    d2, lst2 = api.new_objects()[:2]
    assert d2 is not d and lst2 is not lst


@pytest.mark.parametrize("s", [
    "", "abc", "a\0b", "\0", "é", "é" * 127, "x" + "é" * 127, "é" * 128, "é" * 1000, "é\0", "é\0" * 200,
    "🐍" * 100, "x" * 10_000,
], ids=lambda s: "%d-bytes" % len(s.encode()))
def test_make_str(api, s):
    """ctx.str: ASCII, non-ASCII without NUL (stack copy below 256 bytes, heap above), non-ASCII with NUL."""
    r = api.make_str(s)
    assert r == s and type(r) is str


@pytest.mark.parametrize("s", [
    "", "plain ascii", "nul\0inside", "héllo", "é" * 200, "🐍" * 100, "x" * 10_000, "nul\0é",
], ids=lambda s: "%d-bytes" % len(s.encode()))
def test_str_from_utf8(api, s):
    """ctx.str_from_utf8: the same paths as ctx.str, the bytes checked by the interpreter."""
    r = api.str_from_utf8(s.encode())
    assert r == s and type(r) is str


@pytest.mark.parametrize("b", [b"\xff", b"ab\xc3", b"\xed\xa0\x80", b"\xc3\x28" * 200, b"\0\xff", b"ok" * 200 + b"\x80"])
def test_str_from_utf8_refuses_what_is_not_utf8(api, b):
    # Lone surrogates (b"\xed\xa0\x80") included: what b.decode() refuses, on every interpreter.
    with pytest.raises(UnicodeDecodeError) as e:
        api.str_from_utf8(b)
    with pytest.raises(UnicodeDecodeError) as expected:
        b.decode()
    assert e.value.reason == expected.value.reason and e.value.start == expected.value.start


def test_tuples_from_handles(api):
    for n in [0, 1, 15, 16, 17, 100]:  # up to 16 items on the stack, more on the heap
        assert api.make_tuple(n) == tuple(range(n))
    assert api.tuple_of(["a", "b"]) == ("a", "b")
    assert api.tuple_of([]) == ()
    with pytest.raises(TypeError, match=r"^tuple_of\(\) argument 'items': item 1: expected str, got int$"):
        api.tuple_of(["a", 1])


def test_new_exception_type(api):
    E = api.new_exception_type("mod.Err")
    assert issubclass(E, Exception) and E.__name__ == "Err" and E.__module__ == "mod"
    assert E.__doc__ is None
    V = api.new_exception_type("mod.V", ValueError, "A value error.")
    assert issubclass(V, ValueError) and V.__doc__ == "A value error."
    K = api.new_exception_type("a.b.K", base=KeyError)
    assert issubclass(K, KeyError) and K.__module__ == "a.b" and K.__name__ == "K"
    for name in ("nodot", ""):
        with pytest.raises(ValueError, match=r'^exception type name must be "module.Name", got "%s"$' % name):
            api.new_exception_type(name)
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.new_exception_type("a.b\0c")
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.new_exception_type("a.b", None, "doc\0")
    with pytest.raises(TypeError, match=r"^new_exception_type\(\) argument 'base' must be type, not int$"):
        api.new_exception_type("a.b", 1)


def test_error_matches_and_clear(api):
    ns = types.SimpleNamespace(x=1)
    default = object()
    assert api.getattr_or(ns, "x", default) == 1
    assert api.getattr_or(ns, "y", default) is default

    class Sub(AttributeError):
        pass

    class Custom:
        def __getattr__(self, name):
            raise Sub(name)
    assert api.getattr_or(Custom(), "y", default) is default  # subclasses match
    with pytest.raises(KeyError, match="from a property"):
        api.getattr_or(Raises(), "prop", default)  # other errors propagate
    # (occurred before, occurred, matches AttributeError, KeyError, Exception, is_pending, occurred after clear)
    assert api.err_state(object(), "nope") == (False, True, True, False, True, True, False)
    assert api.err_state(Raises(), "prop") == (False, True, False, True, True, True, False)
    assert api.err_nothing_pending() == (False, False)
    assert api.lazy_clear() is False


def test_warn(api):
    with pytest.warns(UserWarning, match="^careful$") as record:
        api.warn("UserWarning", "careful")
    assert record[0].filename == __file__  # stack_level=1: the caller of the function
    with pytest.warns(DeprecationWarning, match="^old$"):
        api.warn("DeprecationWarning", "old", 1)
    with pytest.warns(RuntimeWarning, match="^é$"):
        api.warn("RuntimeWarning", "é", stack_level=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="^as an error$"):
            api.warn("UserWarning", "as an error")
        with pytest.raises(DeprecationWarning, match="^again$"):
            api.warn("DeprecationWarning", "again")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert api.warn("UserWarning", "ignored") is None
    with pytest.raises(ValueError, match="^embedded null character$"):
        api.warn("UserWarning", "a\0b")


# ======================================================================================
# kind-specific methods, builders, tracker
# ======================================================================================

def test_unicode_to_str(api):
    assert api.unicode_to_str("é🐍") == ("é🐍", 6)
    assert api.unicode_to_str("") == ("", 0)
    assert api.unicode_to_str("a\0b") == ("a\0b", 3)
    assert api.to_str_twice("héllo") == ("héllo|héllo", True)
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        api.unicode_to_str("\ud800")
    with pytest.raises(TypeError, match=r"^unicode_to_str\(\) argument 's' must be str, not bytes$"):
        api.unicode_to_str(b"x")


def test_bytes_as_bytes(api):
    assert api.bytes_as_bytes(b"\0\x01\xff") == b"\0\x01\xff"
    assert api.bytes_as_bytes(b"") == b""
    with pytest.raises(TypeError, match=r"^bytes_as_bytes\(\) argument 'b' must be bytes, not bytearray$"):
        api.bytes_as_bytes(bytearray(b"x"))


def test_list_append(api):
    lst = [1]
    assert api.list_append(lst, "x") is None
    assert lst == [1, "x"]
    sub = type("L", (list,), {})()
    api.list_append(sub, 1)
    assert sub == [1]
    with pytest.raises(TypeError, match=r"^list_append\(\) argument 'list' must be list, not tuple$"):
        api.list_append((1,), 2)
    built = api.list_append_rust()
    assert built[:4] == [1, "two", None, [3]]
    assert built[4] is built


def test_dict_keys_and_copy(api):
    d = {"a": [1], 2: "b"}
    assert api.dict_keys(d) == ["a", 2]
    assert api.dict_keys({}) == []
    assert api.dict_keys(collections.OrderedDict(z=1, a=2)) == ["z", "a"]
    c = api.dict_copy(d)
    assert c == d and c is not d and type(c) is dict
    assert c["a"] is d["a"]  # shallow
    with pytest.raises(TypeError, match=r"^dict_keys\(\) argument 'd' must be dict, not list$"):
        api.dict_keys([])
    with pytest.raises(TypeError, match=r"^dict_copy\(\) argument 'd' must be dict, not str$"):
        api.dict_copy("d")


def test_type_methods(api):
    assert api.type_name(int) == "int"
    # HPyType_GetName is the short name (ht_name / _PyType_Name), not tp_name "module.Class" as the
    # docs of Type::name say
    assert api.type_name(datetime.date) == "date"
    assert api.type_name(api.ApiError) == "ApiError"
    assert api.type_name(Foo) == "Foo"
    assert api.is_subtype(bool, int) is True
    assert api.is_subtype(int, bool) is False
    assert api.is_subtype(int, int) is True
    assert api.is_subtype(api.ApiError, Exception) is True
    assert api.is_subtype(api.ApiError, ValueError) is False
    with pytest.raises(TypeError, match=r"^type_name\(\) argument 't' must be type, not str$"):
        api.type_name("int")
    with pytest.raises(TypeError, match=r"^is_subtype\(\) argument 'b' must be type, not int$"):
        api.is_subtype(int, 1)


def test_builders(api):
    assert api.list_builder(3, [1, "a", None]) == [1, "a", None]
    assert api.list_builder(0, []) == []
    assert api.tuple_builder(2, [1.5, b"x"]) == (1.5, b"x")
    assert api.tuple_builder(0, []) == ()
    assert api.list_of_nones(1000) == [None] * 1000
    items = [object() for _ in range(3)]
    built = api.list_builder(3, items)
    assert all(a is b for a, b in zip(built, items))


def test_builders_out_of_range_set_panics(api):
    with pytest.raises(RuntimeError, match=r"^Rust panic: ListBuilder index 1 out of range for length 1$"):
        api.list_builder(1, [1, 2])
    with pytest.raises(RuntimeError, match=r"^Rust panic: TupleBuilder index 0 out of range for length 0$"):
        api.tuple_builder(0, [1])
    assert api.still_alive() == "alive"


def test_builders_dropped_unbuilt(api):
    """Dropped without build(): cancelled (the leak check in debug mode proves nothing stays open)."""
    items = [object(), "x" * 100 + "y", 10**30]
    if PYPY:
        # no reference counts on PyPy (no sys.getrefcount): items that take weak references show
        # that they die with the list, the dropped builders holding none of them
        class Item:
            pass
        items = [Item(), Item(), Item()]
        refs = [weakref.ref(o) for o in items]
    else:
        refs = [sys.getrefcount(o) for o in items]
    assert api.builders_dropped(items, 3) == 3
    assert api.builders_dropped(items, 1) == 3  # partly filled
    assert api.builders_dropped([], 0) == 0
    if PYPY:
        del items
        collect()
        assert [r() for r in refs] == [None, None, None]
    else:
        assert [sys.getrefcount(o) for o in items] == refs
    assert api.builder_new("list", 10) is None
    assert api.builder_new("tuple", 10) is None


@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_builder_too_large_is_memory_error(api, kind):
    with pytest.raises(MemoryError):
        api.builder_new(kind, 2**61)


def test_tracker(api):
    assert api.tracker(0, 0) == 0
    assert api.tracker(0, 1) == 1
    assert api.tracker(1, 1) == 1
    assert api.tracker(0, 100) == 100  # grows past its capacity
    assert api.tracker(1000, 10) == 10
    with pytest.raises(MemoryError):
        api.tracker(2**61, 1)


def test_capsule_round_trip_and_errors(api):
    c = api.make_capsule(42)
    assert type(c) is capsule_type(api) and type(c).__name__ == "PyCapsule"
    assert api.capsule_value(c) == 42
    with pytest.raises(TypeError, match=r'^not a capsule named "apitest.other"$'):
        api.capsule_value_other_name(c)
    with pytest.raises(TypeError, match=r'^capsule "apitest.payload" does not hold a alloc::string::String$'):
        api.capsule_string(c)
    s = api.make_string_capsule("text")
    assert api.capsule_string(s) == "text"
    with pytest.raises(TypeError, match=r'^capsule "apitest.payload" does not hold a apitest::apitest::Payload$'):
        api.capsule_value(s)
    with pytest.raises(TypeError, match=r"^expected PyCapsule, got int$"):
        api.capsule_value(1)


@pytest.mark.skipif(PYPY, reason=NO_FOREIGN_CAPSULE)
def test_foreign_capsule_with_another_name(api):
    with pytest.raises(TypeError, match=r'^not a capsule named "apitest.payload"$'):
        api.capsule_value(FOREIGN_CAPSULE)


@pytest.mark.skipif(PYPY, reason=NO_FOREIGN_CAPSULE)
def test_foreign_capsule_with_the_same_name(api):
    """A capsule made by someone else under our name: the TypeId check rejects it."""
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    buf = ctypes.create_string_buffer(64)
    name = ctypes.create_string_buffer(b"apitest.payload")  # must outlive the capsule
    cap = new(ctypes.addressof(buf), ctypes.addressof(name), None)
    with pytest.raises(TypeError, match="does not hold a apitest::apitest::Payload"):
        api.capsule_value(cap)
    del cap


def test_capsule_payload_dropped_with_the_capsule(api):
    collect()  # capsules of earlier tests: on PyPy they wait for a collection (conftest.collect)
    before = api.drops()
    c = api.make_capsule(7)
    holder = [c]
    gc.collect()
    assert api.drops() == before
    del c
    gc.collect()
    assert api.drops() == before  # still referenced
    assert api.capsule_value(holder[0]) == 7
    del holder
    gc.collect()
    assert api.drops() == before + 1
    assert api.capsule_temporary(3) == 3
    if PYPY:
        collect()  # no reference counts: PyPy frees the call's capsule at the next collection
    assert api.drops() == before + 2  # made and dropped inside one call (on CPython)


def test_capsule_payload_panicking_in_drop(api):
    collect()
    before = api.drops()
    c = api.make_panicky_capsule(1)
    assert api.capsule_value(c) == 1
    del c
    gc.collect()
    assert api.drops() == before + 1
    assert api.still_alive() == "alive"


# ======================================================================================
# Global
# ======================================================================================

def test_global(api):
    assert api.global_load() is None  # before any store
    assert api.global_is_set() is False
    obj = Foo()
    ref = weakref.ref(obj)
    assert api.global_store(obj) is None
    assert api.global_is_set() is True
    assert api.global_load() is obj
    del obj
    gc.collect()
    assert ref() is not None  # the global keeps it alive
    api.global_store_long(5)
    assert api.global_load() == 5
    gc.collect()
    if PYPY:
        # PyPy 7.3.19's HPyGlobal_Store does not release the object the global held before: it
        # stays alive (Global::store is that one call; C on HPy keeps it alive the same way)
        assert ref() is not None
    else:
        assert ref() is None  # replaced: released
    with pytest.raises(TypeError, match=r"^global_store_long\(\) argument 'value' must be int, not str$"):
        api.global_store_long("x")
    assert api.global_load() == 5


# ======================================================================================
# errors
# ======================================================================================

RAISABLE = ["Exception", "ArithmeticError", "LookupError", "AttributeError", "IndexError", "ValueError",
            "TypeError", "ZeroDivisionError", "OverflowError", "RuntimeError", "NotImplementedError", "OSError",
            "FileNotFoundError", "StopIteration", "SystemExit", "BaseException", "UserWarning"]


@pytest.mark.parametrize("name", RAISABLE + ["KeyError"])
def test_raise_builtin_exceptions(api, name):
    import builtins
    exc = getattr(builtins, name)
    for f in (api.raise_error, api.raise_new):
        with pytest.raises(exc) as info:
            f(name, "message é")
        assert type(info.value) is exc
        assert str(info.value) == ("'message é'" if name == "KeyError" else "message é")
        assert info.value.args == ("message é",)


def test_raise_details(api):
    with pytest.raises(api.ApiError, match="^mine$"):
        api.raise_error("ApiError", "mine")
    with pytest.raises(SystemError, match="^unset$"):
        api.raise_error("NeverSet", "unset")  # documented fallback for a global that was never stored
    with pytest.raises(ValueError, match="^a\ufffdb$"):
        api.raise_error("ValueError", "a\0b")  # NUL is impossible in a C message
    long = "x" * 100_000
    with pytest.raises(ValueError) as info:
        api.raise_error("ValueError", long)
    assert str(info.value) == long
    import builtins
    for name in ["ValueError", "KeyError", "IndexError", "ZeroDivisionError", "NotImplementedError"]:
        with pytest.raises(getattr(builtins, name), match="a static message"):
            api.raise_static(name)
    with pytest.raises(KeyError, match="'k'"):
        api.restore_then_pending("KeyError", "k")
    with pytest.raises(SystemError, match="^an hpy call failed without setting a Python exception$"):
        api.pending_without_exception()
    with pytest.raises(ValueError, match="^item 3: bad$"):
        api.in_part("bad", "item 3")


# A pending error dropped *without* `clear()` leaves the Python exception set (HPy 0.9 has no
# way to fetch it); what then happens on return varies by interpreter and mode, so only the
# documented handling is tested.
def test_cleared_pending_error_does_not_leak_out(api):
    assert api.swallow_pending(object()) == 0


def test_error_forms(api):
    assert api.error_info("lazy", None) == ("ValueError: bad value", "hpy::Error(ValueError: bad value)", False)
    assert api.error_info("wrong_type", "s") == ("TypeError: expected int, got str",
                                                 "hpy::Error(TypeError: expected int, got str)", False)
    assert api.error_info("wrong_type", Foo()) == ("TypeError: expected int, got Foo",
                                                   "hpy::Error(TypeError: expected int, got Foo)", False)
    assert api.error_info("in_part", None)[0] == "KeyError: item 3: missing"
    assert api.error_info("wrong_type_in_part", 1.5)[0] == "TypeError: item 3: expected int, got float"
    assert api.error_info("global", None)[0] == "exception: from a global"
    assert api.error_info("pending", object()) == ("<Python exception pending in the interpreter>",
                                                   "hpy::Error(<Python exception pending in the interpreter>)",
                                                   True)


@pytest.mark.parametrize("kind, target, expected", [
    ("ZeroDivisionError", "ArithmeticError", True), ("ZeroDivisionError", "ZeroDivisionError", True),
    ("ZeroDivisionError", "LookupError", False), ("KeyError", "LookupError", True),
    ("LookupError", "KeyError", False), ("FileNotFoundError", "OSError", True),
    ("SystemExit", "Exception", False), ("SystemExit", "BaseException", True),
    ("ApiError", "Exception", True), ("ApiError", "ApiError", True), ("ValueError", "ApiError", False),
    ("UserWarning", "Warning", True), ("NeverSet", "SystemError", True),
])
def test_lazy_error_matches(api, kind, target, expected):
    assert api.lazy_matches(kind, target) is expected


def test_wrong_type_error_matches(api):
    assert api.wrong_type_matches("x", "TypeError") is True
    assert api.wrong_type_matches("x", "Exception") is True
    assert api.wrong_type_matches("x", "ValueError") is False


def test_std_error_conversions(api, tmp_path):
    assert api.parse_int("-42") == -42
    with pytest.raises(ValueError, match="^invalid digit found in string$"):
        api.parse_int("x")
    with pytest.raises(ValueError, match="^cannot parse integer from empty string$"):
        api.parse_int("")
    with pytest.raises(ValueError, match="^number too large to fit in target type$"):
        api.parse_int("9" * 30)
    assert api.parse_float("1.5") == 1.5
    with pytest.raises(ValueError, match="^invalid float literal$"):
        api.parse_float("x")
    assert api.narrow(255) == 255
    with pytest.raises(OverflowError, match="^out of range integral type conversion attempted$"):
        api.narrow(256)
    assert api.parse_u8("200") == 200
    with pytest.raises(OverflowError):
        api.parse_u8("300")
    with pytest.raises(ValueError):
        api.parse_u8("three")
    assert api.utf8(b"\xc3\xa9") == "é"
    with pytest.raises(ValueError, match="^invalid utf-8 sequence of 1 bytes from index 1$"):
        api.utf8(b"a\xff")
    assert api.utf8_owned(b"ok") == "ok"
    with pytest.raises(ValueError, match="^invalid utf-8 sequence of 1 bytes from index 0$"):
        api.utf8_owned(b"\xff")
    assert api.c_string_len("abc") == 3
    with pytest.raises(ValueError, match="nul byte found in provided data at position: 1"):
        api.c_string_len("a\0b")
    with pytest.raises(RuntimeError, match="^an error occurred when formatting an argument$"):
        api.fmt_error()
    with pytest.raises(RuntimeError, match="^boxed$"):
        api.boxed_error("boxed")
    f = tmp_path / "f.txt"
    f.write_text("contents é")
    assert api.read_file(str(f)) == "contents é"
    # OSError(errno, strerror): Python's own message and subclass (test_errors.py has the rest)
    with pytest.raises(FileNotFoundError, match=r"^\[Errno 2\] No such file or directory$"):
        api.read_file(str(tmp_path / "missing"))
    with pytest.raises(IsADirectoryError, match=r"^\[Errno 21\] Is a directory$"):
        api.read_file(str(tmp_path))


def test_io_error_keeps_errno(api, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        api.read_file(str(tmp_path / "missing"))
    assert info.value.errno == errno.ENOENT
    with pytest.raises(IsADirectoryError):
        api.read_file(str(tmp_path))


@pytest.mark.parametrize("kind, exc", [
    ("NotFound", FileNotFoundError), ("PermissionDenied", PermissionError), ("AlreadyExists", FileExistsError),
    ("TimedOut", TimeoutError), ("Interrupted", InterruptedError), ("BrokenPipe", BrokenPipeError),
    ("ConnectionRefused", ConnectionRefusedError), ("ConnectionReset", ConnectionResetError),
    ("ConnectionAborted", ConnectionAbortedError), ("Other", OSError),
])
def test_io_error_kinds(api, kind, exc):
    with pytest.raises(exc, match="^custom io message$") as info:
        api.io_error(kind)
    assert type(info.value) is exc


def test_custom_error_type(api):
    assert api.custom_error(False) == 7
    with pytest.raises(NotImplementedError, match="^MyError: it failed$"):
        api.custom_error(True)


@pytest.mark.reenters
def test_errors_through_nested_calls(api):
    with pytest.raises(ValueError, match="invalid digit"):
        api.call1(api.parse_int, "zz")
    with pytest.raises(KeyError, match="deep"):
        api.call1(lambda _: api.call1(lambda _: api.raise_error("KeyError", "deep"), 0), 0)
    with pytest.raises(RuntimeError, match="^Rust panic: inner$"):
        api.call1(api.panics, "inner")
    with pytest.raises(api.ApiError, match="^from the init's type$"):
        api.call2(api.raise_new, "ApiError", "from the init's type")
    # a Rust function catching a Python error raised by a nested Rust function
    assert api.getattr_or(types.SimpleNamespace(), "x", 0) == 0


def test_panics(api):
    with pytest.raises(RuntimeError, match="^Rust panic: boom$"):
        api.panics("boom")
    with pytest.raises(RuntimeError, match="^Rust panic: a static panic$"):
        api.panics_static()
    with pytest.raises(RuntimeError, match=r"^Rust panic: Box<dyn Any>$"):
        api.panics_any()
    with pytest.raises(RuntimeError, match="^Rust panic: panicking with 5 open handles$"):
        api.panics_holding_handles(5)  # debug mode: everything was closed while unwinding
    assert api.still_alive() == "alive"


# ======================================================================================
# allow_threads
# ======================================================================================

def test_allow_threads_returns_value(api):
    assert api.sum_nogil(10**6) == sum(range(10**6))
    assert api.sum_nogil(0) == 0
    assert api.result_nogil(False) == 11
    with pytest.raises(ValueError, match="^failed without the GIL$"):
        api.result_nogil(True)
    with pytest.raises(RuntimeError, match="^Rust panic: panic without the GIL$"):
        api.panic_nogil()
    assert api.still_alive() == "alive"  # the interpreter was re-entered after the panic


def test_allow_threads_releases_the_interpreter(api, hpy_mode):
    """Released in universal and trace mode; kept in debug mode (HPy 0.9's debug contexts are not
    safe to use across a release, see `Context::allow_threads`)."""
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = count[0]
        assert api.sleep_nogil(300) == 300
        during = count[0] - before
    finally:
        stop.set()
        t.join()
    if hpy_mode == "debug":
        # The other thread still runs for a switch interval or two around the call (the GIL
        # changes hands at bytecode boundaries), never for the 300 ms of the sleep: compare with
        # what it does during a 300 ms sleep that does release the interpreter.
        stop.clear()
        t = threading.Thread(target=spin)
        t.start()
        try:
            time.sleep(0.05)
            before = count[0]
            time.sleep(0.3)
            released = count[0] - before
        finally:
            stop.set()
            t.join()
        assert during < released / 4, "debug mode released the interpreter (%d vs %d)" % (during, released)
    else:
        assert during > 1000, "the other thread did not run while Rust slept without the GIL"


def test_frozen_unsendable_buffer_exports_leave_the_value_readable(api):
    """A frozen class never counts its shared borrows; releasing its buffer once uncounted a
    borrow that was never counted, and every later read failed."""
    skip_module_if_types_crash()
    fb = api.FrozenBytes(b"abc")
    for _ in range(3):
        with memoryview(fb) as view:
            assert bytes(view) == b"abc"
            assert fb.value() == b"abc"   # readable while exported
        assert fb.value() == b"abc"       # and after the release
    views = [memoryview(fb) for _ in range(3)]
    assert [bytes(v) for v in views] == [b"abc"] * 3
    for v in views:
        v.release()
    assert fb.value() == b"abc"


def test_former_crashes(api):
    """Safe-API misuses that once crashed the interpreter; each must now raise."""
    with pytest.raises(SystemError, match="^ListBuilder item 1 was never set$"):
        api.list_builder(3, [1])
    with pytest.raises(SystemError, match="^TupleBuilder item 0 was never set$"):
        api.tuple_builder(2, [])
    with pytest.raises(MemoryError):
        api.tracker(2**64 - 1, 1)
    # (a Vec of a sequence too long for memory: test_vec_out_of_memory_is_memory_error)
    # a global holding something that is not a type, used as an exception type: SystemError
    assert api.exception_from_misused_global(5, "exception") is SystemError
    assert api.exception_from_misused_global(5, "name") == "SystemError"
    with pytest.raises(SystemError):
        api.exception_from_misused_global(5, "raise")


# ---- hot paths (issue 16): operator operands, builders, slices to lists, static messages ----

def _f64array_name():
    """How the interpreter names apitest's F64Array in its own messages (conftest.type_name:
    "apitest.F64Array" on CPython, "F64Array" on PyPy)."""
    return ("" if PYPY else "apitest.") + "F64Array"


def _unsupported(op, left, right):
    import re
    return "^" + re.escape(f"unsupported operand type(s) for {op}: '{left}' and '{right}'") + "$"


def test_f64array_operators_with_foreign_operands(api):
    """Operands that are not the method's type become NotImplemented on either side (checked
    without building an error), so Python tries the other operand and finally raises its own
    TypeError; operands that are the type work on both sides."""
    skip_module_if_types_crash()
    A = api.F64Array
    name = _f64array_name()
    a, b = A([1.0, 2.0]), A([10.0, 20.0])
    assert (a + b).tolist() == [11.0, 22.0]
    assert (b - a).tolist() == [9.0, 18.0]
    assert (a * 2.0).tolist() == [2.0, 4.0]
    assert (2.0 * a).tolist() == [2.0, 4.0]     # reflected: the float is not an F64Array
    assert (3 * a).tolist() == [3.0, 6.0]       # an int converts to the f64 parameter
    assert a == A([1.0, 2.0]) and not (a == b)
    assert (a == 1) is False and (a != "s") is True
    with pytest.raises(TypeError, match=_unsupported("+", name, "int")):
        a + 1
    with pytest.raises(TypeError, match=_unsupported("+", "int", name)):
        1 + a
    with pytest.raises(TypeError, match=_unsupported("+", name, "str")):
        a + "s"
    with pytest.raises(TypeError, match=_unsupported("-", name, "float")):
        a - 1.5
    with pytest.raises(TypeError, match=_unsupported("-", "float", name)):
        1.5 - a
    with pytest.raises(TypeError, match=_unsupported("*", name, name)):
        a * b
    # str's repetition gets its turn: a * "ab" is NotImplemented on both sides, then TypeError
    with pytest.raises(TypeError):
        a * "ab"
    assert a.__add__(1) is NotImplemented
    assert a.__sub__(None) is NotImplemented
    assert a.__mul__("x") is NotImplemented
    assert a.__rmul__([]) is NotImplemented
    assert a.__eq__(1) is NotImplemented
    # numbers convert as parameters do (`__float__`, `__index__`); what does not convert, or
    # fails converting, is NotImplemented (its error discarded, or for numbers never built)
    from fractions import Fraction

    class Index:
        def __index__(self):
            return 2

    class BadFloat:
        def __float__(self):
            raise ValueError("no float")

    assert (a * Fraction(1, 2)).tolist() == [0.5, 1.0]
    assert (a // 2).tolist() == [0.0, 1.0] and (a // True).tolist() == [1.0, 2.0]
    assert (a // Index()).tolist() == [0.0, 1.0]
    assert (a ^ True).tolist() == [-1.0, -2.0] and (a ^ False).tolist() == [1.0, 2.0]
    assert a.__mul__(BadFloat()) is NotImplemented
    assert a.__floordiv__(2.0) is NotImplemented and a.__floordiv__("2") is NotImplemented
    assert a.__floordiv__(2 ** 70) is NotImplemented    # out of i64's range
    assert a.__xor__(1) is NotImplemented and a.__xor__(None) is NotImplemented
    with pytest.raises(TypeError, match=_unsupported("//", name, "float")):
        a // 2.0
    with pytest.raises(TypeError, match=_unsupported("^", name, "int")):
        a ^ 1
    # errors of the method itself still propagate
    with pytest.raises(ValueError, match="^F64Array lengths differ$"):
        a + A([1.0])
    with pytest.raises(ValueError, match="^F64Array lengths differ$"):
        a - A([])
    # in place: a foreign operand falls back to `a = a + x`, which is unsupported
    c = A([1.0])
    c += 1.5
    assert c.tolist() == [2.5] and c.mutations == 1
    with pytest.raises(TypeError, match=_unsupported("+=", name, "str")):
        c += "s"
    assert c.tolist() == [2.5] and c.mutations == 1


@pytest.mark.reenters
def test_f64array_operand_mutably_borrowed_is_not_implemented(api):
    """An operand that is mutably borrowed (`self` of a running `&mut self` method) cannot be
    cloned for `-`: NotImplemented as before, hence Python's TypeError; nothing leaks."""
    skip_module_if_types_crash()
    a = api.F64Array([1.0])
    name = _f64array_name()

    def inner():
        with pytest.raises(TypeError, match=_unsupported("-", name, name)):
            api.F64Array([5.0]) - a
        return "done"

    assert a.mutate_then_call(inner) == "done"


@pytest.mark.reenters
def test_f64array_field_of_a_mutable_class_is_a_getter(api):
    """A `#[hpy(get)]` number field of a class that is not frozen is read through a getter, which
    respects the borrow flag: read while `&mut self` is held, it raises instead of reading memory
    under a live `&mut`."""
    skip_module_if_types_crash()
    a = api.F64Array([1.0])
    assert a.mutations == 0
    with pytest.raises(RuntimeError, match="already mutably borrowed"):
        a.mutate_then_call(lambda: a.mutations)
    assert a.mutations == 1
    with pytest.raises(AttributeError):
        a.mutations = 5
    assert a.mutations == 1


def test_slice_into_list(api):
    """`&[T]` of a `Copy` `T` becomes a list of the converted items; `&[u8]` stays bytes."""
    floats = api.slice_to_object("f64")
    assert floats == [1.5, -0.0, math.inf] and math.copysign(1, floats[1]) == -1
    assert api.slice_to_object("i64") == [-2**63, 0, 2**63 - 1]
    assert api.slice_to_object("bool") == [True, False]
    assert api.slice_to_object("&str") == ["a", "\xe9t\xe9"]
    assert api.slice_to_object("u8") == b"a\0b"
    assert api.slice_to_object("empty") == []
    assert api.slice_to_object("u64") == [2**64 - 1]
    assert type(api.slice_to_object("f64")) is list
    skip_module_if_types_crash()
    assert api.F64Array([0.5, 2.0, -1.0]).tolist() == [0.5, 2.0, -1.0]
    assert api.F64Array([]).tolist() == []


@pytest.mark.parametrize("kind", ["list", "tuple"])
def test_builders_in_and_out_of_order(api, kind):
    """Items may be set in any order; an item never set is a SystemError naming the first one,
    whether the items were set in order or not (also past 64 items)."""
    make = list if kind == "list" else tuple
    name = "ListBuilder" if kind == "list" else "TupleBuilder"
    assert api.builder_in_order(kind, 3, [0, 1, 2]) == make([0, 1, 2])
    assert api.builder_in_order(kind, 3, [2, 0, 1]) == make([0, 1, 2])
    assert api.builder_in_order(kind, 3, [1, 2, 0]) == make([0, 1, 2])
    assert api.builder_in_order(kind, 0, []) == make([])
    n = 200
    assert api.builder_in_order(kind, n, list(reversed(range(n)))) == make(range(n))
    assert api.builder_in_order(kind, n, [5] + [i for i in range(n) if i != 5]) == make(range(n))
    for size, order, missing in [
        (3, [0, 1], 2),                                     # in order, short
        (3, [], 0),
        (3, [0, 2], 1),                                     # out of order from item 2
        (3, [2, 1], 0),
        (130, [i for i in range(130) if i != 100], 100),    # in order up to the gap
        (130, [i for i in reversed(range(130)) if i != 64], 64),
        (130, [129] + list(range(128)), 128),
    ]:
        with pytest.raises(SystemError, match=f"^{name} item {missing} was never set$"):
            api.builder_in_order(kind, size, order)
    # a length no memory holds (more than the address space): MemoryError before the runtime
    # tries to allocate it (PyPy aborts when its builder cannot allocate)
    with pytest.raises(MemoryError):
        api.builder_new(kind, 2**50)
    with pytest.raises(RuntimeError, match=f"^Rust panic: {name} index 2 out of range for length 2$"):
        api.builder_in_order(kind, 2, [0, 2])
    with pytest.raises(RuntimeError, match=f"^Rust panic: {name} index 3 out of range for length 2$"):
        api.builder_in_order(kind, 2, [1, 3])


def test_static_error_messages_are_raised_unchanged(api):
    """Messages raised from `&'static str` (short ones copied to the stack), long ones, NULs
    (replaced by U+FFFD) and owned ones reach Python exactly."""
    with pytest.raises(IndexError) as info:
        api.raise_message("static")
    assert str(info.value) == "F64Array index out of range" and info.value.args == ("F64Array index out of range",)
    long = "0123456789" * 30
    with pytest.raises(IndexError) as info:
        api.raise_message("long")
    assert info.value.args == (long,)
    with pytest.raises(IndexError) as info:
        api.raise_message("edge")
    assert info.value.args == (long[:255],)
    with pytest.raises(KeyError) as info:
        api.raise_message("nul")
    assert info.value.args == ("a\ufffdb",)
    with pytest.raises(IndexError) as info:
        api.raise_message("owned")
    assert info.value.args == ("index 7 out of range",)
