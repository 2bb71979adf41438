"""tests/fixtures/stdtypes in universal, debug (leak-checked) and trace mode, natively and on PyPy.

The standard types extension authors reach for, from Rust: `set`/`frozenset` (kinds and
`HashSet`/`BTreeSet`), slices (`SliceBounds`, `SliceIndices`, `SliceOrIndex` and a list-like
class), `complex` (`hpy::Complex`), `bytearray`, paths (`PathBuf`, `OsString`), dict items,
values and `get`, method calls with keywords and in-place operators. Each gets bad input too:
it must raise a clear Python exception, never crash or leak.
"""
import collections
import ctypes
import operator
import os
import pathlib
import sys

import pytest

from conftest import PYPY, built_module, load, skip_module_if_types_crash

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "pep517"))
from hpy_build import stubs  # noqa: E402

skip_module_if_types_crash()  # the fixture has a class (Seq)

MAXSIZE = sys.maxsize


@pytest.fixture(scope="session")
def stdtypes_so():
    return built_module("HPYRS_STDTYPES_SO")


@pytest.fixture(scope="session")
def st(stdtypes_so, hpy_mode, tmp_path_factory):
    return load("stdtypes", stdtypes_so, hpy_mode, tmp_path_factory)


# ---- sets ----

def test_set_to_rust(st):
    assert st.set_sum({1, 2, 3}) == 6
    assert st.set_sum(frozenset({4, 5})) == 9
    assert st.set_sum(set()) == 0

    class MySet(set):
        pass

    assert st.set_sum(MySet({10, 20})) == 30
    assert st.sorted_words({"b", "c", "a"}) == ["a", "b", "c"]
    assert st.sorted_words(frozenset()) == []
    assert st.btree_roundtrip(frozenset({3, 1, 2})) == {1, 2, 3}
    assert type(st.btree_roundtrip({1})) is set


def test_set_to_rust_bad_input(st):
    # only sets: from a list, duplicates would vanish silently
    for not_a_set, name in [([1, 2], "list"), ((1,), "tuple"), ({1: 2}, "dict"), ({1: 2}.keys(), "dict_keys"),
                            (5, "int"), ("ab", "str"), (None, "NoneType")]:
        with pytest.raises(TypeError, match=r"^set_sum\(\) argument 'items' must be set or frozenset, not %s$" % name):
            st.set_sum(not_a_set)
    with pytest.raises(TypeError, match=r"^set_sum\(\) argument 'items': set item 'a': expected int, got str$"):
        st.set_sum({1, "a"})
    with pytest.raises(OverflowError, match=r"^set_sum\(\) argument 'items': set item 36893488147419103232: "
                                            r".*int out of range for i64$"):
        st.set_sum({2**65})
    with pytest.raises(TypeError, match=r"^sorted_words\(\) argument 'items': set item 1: expected str, got int$"):
        st.sorted_words({"a", 1})


def test_set_from_rust(st):
    assert st.range_set(5) == {0, 1, 2, 3, 4}
    assert type(st.range_set(5)) is set
    assert st.range_set(0) == set()
    big = st.range_set(10000)
    assert len(big) == 10000 and 9999 in big


def test_set_subclass_iteration_is_python_s(st):
    class Evens(set):
        """A set whose iteration shows only its even items: `tuple(s)` sees what `for` sees."""

        def __iter__(self):
            return (x for x in set.__iter__(self) if x % 2 == 0)

    assert st.set_sum(Evens({1, 2, 3, 4})) == sum(x for x in Evens({1, 2, 3, 4})) == 6


def test_set_methods(st):
    s = {1, 2}
    assert st.set_add_discard(s, 3, 1) == 2
    assert s == {2, 3}
    assert st.set_add_discard(s, 3, 99) == 2  # adding a present item, discarding a missing one
    assert s == {2, 3}
    assert st.set_contains(s, 2) is True
    assert st.set_contains(s, 5) is False
    assert st.set_contains(frozenset({"x"}), "x") is True
    assert st.set_iter_sum({5, 6, 7}) == 18
    s = {1, 2, 3}
    assert st.set_drain(s) == 6
    assert s == set()
    assert st.set_drain(set()) == 0


def test_set_methods_bad_input(st):
    s = {1}
    with pytest.raises(TypeError, match=r"unhashable type: 'list'"):
        st.set_add_discard(s, [1], 1)
    assert s == {1}
    with pytest.raises(TypeError, match=r"unhashable type: 'dict'"):
        st.set_add_discard(s, 2, {})
    assert s == {1, 2}  # the add happened, the discard raised
    with pytest.raises(TypeError, match=r"^set_add_discard\(\) argument 's' must be set, not frozenset$"):
        st.set_add_discard(frozenset(), 1, 1)
    with pytest.raises(TypeError, match=r"^set_add_discard\(\) argument 's' must be set, not list$"):
        st.set_add_discard([], 1, 1)
    with pytest.raises(TypeError, match=r"^expected frozenset, got list$"):
        st.set_contains([1], 1)
    with pytest.raises(TypeError, match=r"unhashable type: 'list'"):
        st.set_contains({1}, [1])
    with pytest.raises(TypeError, match=r"^set_iter_sum\(\) argument 's' must be set, not tuple$"):
        st.set_iter_sum((1, 2))
    with pytest.raises(TypeError, match=r"expected int"):
        st.set_iter_sum({"a"})


def test_set_kinds(st):
    class MySet(set):
        pass

    class MyFrozen(frozenset):
        pass

    assert st.set_kinds(set()) == (True, False)
    assert st.set_kinds(MySet()) == (True, False)
    assert st.set_kinds(frozenset()) == (False, True)
    assert st.set_kinds(MyFrozen()) == (False, True)
    for other in [[], (), {}, {}.keys(), "s", None]:
        assert st.set_kinds(other) == (False, False)
    assert st.frozenset_len(frozenset({1, 2})) == 2
    assert st.frozenset_len(MyFrozen({1})) == 1
    with pytest.raises(TypeError, match=r"^frozenset_len\(\) argument 's' must be frozenset, not set$"):
        st.frozenset_len({1})


def test_new_sets(st):
    s, f, empty = st.new_sets([1, 2, 2, 3])
    assert (s, f, empty) == ({1, 2, 3}, frozenset({1, 2, 3}), set())
    assert (type(s), type(f), type(empty)) == (set, frozenset, set)
    s, f, _ = st.new_sets(x * x for x in range(3))  # any iterable: a generator is consumed once
    assert s == {0, 1, 4} and f == frozenset()
    with pytest.raises(TypeError, match=r"'int' object is not iterable"):
        st.new_sets(5)
    with pytest.raises(TypeError, match=r"unhashable type: 'list'"):
        st.new_sets([[1]])


# ---- slices ----

BOUNDS = [None, 0, 1, 2, 5, 9, 10, 11, 100, -1, -2, -9, -10, -11, -100, 2**100, -2**100]
STEPS = [None, 1, 2, 3, 10, -1, -2, -3, -10, 2**100, -2**100, MAXSIZE, -MAXSIZE - 1]


def all_slices():
    return [slice(a, b, c) for a in BOUNDS for b in BOUNDS for c in STEPS]


def test_slice_indices_are_python_s(st):
    """Every combination of bounds, steps and lengths resolves as `slice.indices` does, and
    selects the positions `range(*slice.indices(n))` holds."""
    for n in [0, 1, 2, 5, 10]:
        for s in all_slices():
            start, stop, step = s.indices(n)
            positions = list(range(start, stop, step))
            # The step is clamped to the isize range (as CPython's own sequences do); Python's
            # `slice.indices` keeps it unbounded. The positions are the same.
            step = max(-MAXSIZE, min(MAXSIZE, step))
            assert st.slice_indices(s, n) == (start, stop, step, len(positions)), (s, n)
            assert st.slice_positions(s, n) == positions, (s, n)


def test_slice_indices_huge_length(st):
    assert st.slice_indices(slice(None), MAXSIZE) == (0, MAXSIZE, 1, MAXSIZE)
    assert st.slice_indices(slice(None, None, -1), MAXSIZE) == (MAXSIZE - 1, -1, -1, MAXSIZE)
    assert st.slice_indices(slice(-1, None, -MAXSIZE), 10) == (9, -1, -MAXSIZE, 1)


def test_slice_bounds_are_unpacked_like_cpython(st):
    assert st.slice_bounds(slice(1, 5, 2)) == (1, 5, 2)
    assert st.slice_bounds(slice(None)) == (0, MAXSIZE, 1)
    assert st.slice_bounds(slice(None, None, -1)) == (MAXSIZE, -MAXSIZE - 1, -1)
    assert st.slice_bounds(slice(-2**100, 2**100, -2**100)) == (-MAXSIZE - 1, MAXSIZE, -MAXSIZE)

    class I:
        def __index__(self):
            return 3

    assert st.slice_bounds(slice(I(), I(), I())) == (3, 3, 3)
    assert st.slice_bounds(slice(True, False)) == (1, 0, 1)


def test_slice_bad_input(st):
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        st.slice_indices(slice(None, None, 0), 5)
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        st.slice_bounds(slice(1, 2, 0))
    for bad in [slice("a"), slice(None, 1.5), slice(None, None, [])]:
        with pytest.raises(TypeError, match=r"^slice indices must be integers or None or have an __index__ method$"):
            st.slice_positions(bad, 5)
    with pytest.raises(TypeError, match=r"^slice_indices\(\) argument 's' must be slice, not int$"):
        st.slice_indices(5, 10)
    with pytest.raises(TypeError, match=r"^slice_bounds\(\) argument 's' must be slice, not range$"):
        st.slice_bounds(range(3))
    with pytest.raises(OverflowError, match=r"^slice_indices\(\) argument 'length'"):
        st.slice_indices(slice(None), -1)

    class Raises:
        def __index__(self):
            raise RuntimeError("no index today")

    with pytest.raises(RuntimeError, match=r"^no index today$"):
        st.slice_bounds(slice(Raises()))


def test_slice_or_index(st):
    assert st.key_kind(3) == "index 3"
    assert st.key_kind(-1) == "index -1"
    assert st.key_kind(True) == "index 1"
    assert st.key_kind(slice(1, 2)) == "slice"

    class I:
        def __index__(self):
            return 7

    assert st.key_kind(I()) == "index 7"
    for bad, name in [("x", "str"), (1.5, "float"), (None, "NoneType"), ((1, 2), "tuple"), ([1], "list")]:
        with pytest.raises(TypeError, match=r"^key_kind\(\) argument 'key': indices must be integers or slices, "
                                            r"not %s$" % name):
            st.key_kind(bad)
    with pytest.raises(IndexError, match=r"^key_kind\(\) argument 'key': cannot fit 'int' into an index-sized integer$"):
        st.key_kind(2**100)
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        st.key_kind(slice(None, None, 0))


@pytest.fixture
def Seq(st):
    return st.Seq


def test_seq_getitem(Seq):
    items = list(range(10))
    seq = Seq(items)
    assert seq[1:5:2] == items[1:5:2] == [1, 3]
    assert seq[::-1] == items[::-1]
    assert seq[-1] == 9
    assert seq[0] == 0
    assert seq[10:] == [] == items[10:]
    assert seq[-3:] == [7, 8, 9]
    assert seq[::3] == [0, 3, 6, 9]
    assert seq[8:2:-2] == [8, 6, 4]
    assert seq[-100:100] == items
    assert seq[2**100:] == []
    for s in all_slices():
        assert seq[s] == items[s], s
    assert len(seq) == 10


def test_seq_iterates_through_the_sequence_protocol(Seq):
    # Seq has no __iter__: its `__getitem__` taking a SliceOrIndex also fills `sq_item`, so
    # Python iterates it by index (0, 1, ... until IndexError), as it does a class whose
    # `__getitem__` takes an int.
    items = [3, 1, 2]
    seq = Seq(items)
    assert list(seq) == items
    assert [x for x in seq] == items
    assert tuple(iter(seq)) == (3, 1, 2)
    assert 1 in seq and 2 in seq and 5 not in seq  # `in` iterates too (no __contains__)
    assert list(reversed(seq)) == [2, 1, 3]
    assert sorted(seq) == [1, 2, 3]
    assert list(enumerate(seq)) == [(0, 3), (1, 1), (2, 2)]
    a, b, c = seq
    assert (a, b, c) == (3, 1, 2)
    assert list(Seq([])) == []
    it = iter(Seq([7]))
    assert next(it) == 7
    with pytest.raises(StopIteration):
        next(it)


def test_seq_getitem_through_either_slot(Seq):
    # `seq[k]` goes through the mapping slot with the key as written, also for a negative index
    # and a slice; calling `__getitem__` itself does the same (it is the mapping slot's wrapper on
    # every runtime): the sequence slot never replaces it.
    seq = Seq([3, 1, 2])
    for index, item in [(0, 3), (2, 2), (-1, 2), (-3, 3)]:
        assert seq[index] == item
        assert operator.getitem(seq, index) == item
        assert seq.__getitem__(index) == item
        assert Seq.__getitem__(seq, index) == item
    assert seq.__getitem__(slice(None, None, -1)) == [2, 1, 3]
    assert Seq.__getitem__(seq, slice(1, None)) == [1, 2]
    for index in [3, -4, MAXSIZE, -MAXSIZE - 1]:
        with pytest.raises(IndexError, match=r"^Seq index out of range$"):
            seq[index]
        with pytest.raises(IndexError, match=r"^Seq index out of range$"):
            seq.__getitem__(index)


@pytest.mark.skipif(PYPY, reason="PyPy has no ctypes.pythonapi to call C's PySequence_GetItem with")
def test_seq_item_from_c(Seq):
    # C's PySequence_GetItem calls `sq_item`, adding len() to a negative index first (the type has
    # __len__): the function sees each index as `seq[i]` would give it, so an index still negative
    # after that is out of range, not counted from the end a second time.
    get_item = ctypes.pythonapi.PySequence_GetItem
    get_item.restype = ctypes.py_object
    get_item.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
    seq = Seq([3, 1, 2])
    for index, item in [(0, 3), (2, 2), (-1, 2), (-3, 3)]:
        assert get_item(seq, index) == item
    for index in [3, -4, -MAXSIZE]:
        with pytest.raises(IndexError, match=r"^Seq index out of range$"):
            get_item(seq, index)


def test_seq_getitem_bad_input(Seq):
    seq = Seq([1, 2, 3])
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        seq[::0]
    with pytest.raises(TypeError, match=r"indices must be integers or slices, not str$"):
        seq["x"]
    with pytest.raises(TypeError, match=r"indices must be integers or slices, not float$"):
        seq[1.0]
    with pytest.raises(IndexError, match=r"^Seq index out of range$"):
        seq[3]
    with pytest.raises(IndexError, match=r"^Seq index out of range$"):
        seq[-4]
    with pytest.raises(IndexError, match=r"cannot fit 'int' into an index-sized integer$"):
        seq[2**100]
    with pytest.raises(TypeError, match=r"^slice indices must be integers or None or have an __index__ method$"):
        seq["a":]


def test_seq_setitem(Seq):
    for s in all_slices():
        for value in [[], [70], [70, 71, 72]]:
            items = list(range(10))
            seq = Seq(items)
            try:
                items[s] = value
            except ValueError as e:
                with pytest.raises(ValueError, match="^%s$" % e):
                    seq[s] = value
                assert seq.to_list() == list(range(10)), s
            else:
                seq[s] = value
                assert seq.to_list() == items, (s, value)
    seq = Seq([1, 2, 3])
    seq[-1] = 30
    seq[0] = 10
    seq[1:1] = (15, 16)  # any sequence of ints
    assert seq.to_list() == [10, 15, 16, 2, 30]


def test_seq_setitem_bad_input(Seq):
    seq = Seq([1, 2, 3])
    with pytest.raises(ValueError, match=r"^attempt to assign sequence of size 1 to extended slice of size 2$"):
        seq[::2] = [9]
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        seq[::0] = []
    with pytest.raises(IndexError, match=r"^Seq assignment index out of range$"):
        seq[5] = 1
    with pytest.raises(TypeError, match=r"indices must be integers or slices, not str$"):
        seq["x"] = 1
    with pytest.raises(TypeError, match=r"expected int"):
        seq[0] = "a"
    with pytest.raises(TypeError, match=r"item 1: .*expected int"):
        seq[0:1] = [1, "a"]
    with pytest.raises(TypeError, match=r"\bint\b"):
        seq[0:1] = 5
    assert seq.to_list() == [1, 2, 3]


def test_seq_delitem(Seq):
    for s in all_slices():
        items = list(range(10))
        seq = Seq(items)
        del items[s]
        del seq[s]
        assert seq.to_list() == items, s
    seq = Seq([1, 2, 3])
    del seq[-1]
    del seq[0]
    assert seq.to_list() == [2]
    with pytest.raises(IndexError, match=r"^Seq deletion index out of range$"):
        del seq[1]
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        del seq[::0]
    with pytest.raises(TypeError, match=r"indices must be integers or slices, not str$"):
        del seq["x"]
    assert seq.to_list() == [2]


# ---- complex ----

def test_complex_from_python(st):
    assert st.complex_parts(1 + 2j) == (1.0, 2.0)
    assert st.complex_parts(-0.5j) == (0.0, -0.5)
    assert st.complex_parts(2.5) == (2.5, 0.0)
    assert st.complex_parts(3) == (3.0, 0.0)
    assert st.complex_parts(True) == (1.0, 0.0)

    class C(complex):
        pass

    class WithComplex:
        def __complex__(self):
            return 4 - 1j

    class WithFloat:
        def __float__(self):
            return 1.25

    class WithIndex:
        def __index__(self):
            return 7

    assert st.complex_parts(C(1, 1)) == (1.0, 1.0)
    assert st.complex_parts(WithComplex()) == (4.0, -1.0)
    assert st.complex_parts(WithFloat()) == (1.25, 0.0)
    assert st.complex_parts(WithIndex()) == (7.0, 0.0)
    re, im = st.complex_parts(complex(float("inf"), float("nan")))
    assert re == float("inf") and im != im


def test_complex_to_python(st):
    z = st.conjugate(3 + 4j)
    assert z == 3 - 4j and type(z) is complex
    assert st.make_complex(1.0, -0.0) == complex(1.0, -0.0)
    assert str(st.make_complex(0.0, -0.0)) == str(complex(0.0, -0.0))
    assert st.conjugate(2) == 2 + 0j


def test_complex_bad_input(st):
    for bad, name in [("1+2j", "str"), (b"1", "bytes"), (None, "NoneType"), ([1], "list"), ((1, 2), "tuple")]:
        with pytest.raises(TypeError, match=r"^complex_parts\(\) argument 'z' must be complex, not %s$" % name):
            st.complex_parts(bad)
    with pytest.raises(OverflowError):
        st.complex_parts(10**400)

    class BadComplex:
        def __complex__(self):
            return 5

    class Raising:
        def __complex__(self):
            raise RuntimeError("no complex today")

    with pytest.raises(TypeError, match=r"__complex__"):
        st.complex_parts(BadComplex())
    with pytest.raises(RuntimeError, match=r"^no complex today$"):
        st.complex_parts(Raising())


# ---- bytearray ----

def test_bytearray(st):
    assert st.bytearray_contents(bytearray(b"abc")) == b"abc"
    assert st.bytearray_contents(bytearray()) == b""
    big = bytearray(range(256)) * 1000
    assert st.bytearray_contents(big) == bytes(big)

    class MyArray(bytearray):
        pass

    assert st.bytearray_contents(MyArray(b"\x00\xff")) == b"\x00\xff"
    made = st.make_bytearray(b"xy\x00z")
    assert made == bytearray(b"xy\x00z") and type(made) is bytearray
    made.append(1)  # a new, mutable object
    assert st.make_bytearray(b"") == bytearray()


def test_bytearray_snapshot_survives_a_resize(st):
    data = bytearray(b"abc")
    snapshot = st.bytearray_snapshot(data, lambda: data.extend(b"z" * 100000))
    assert snapshot == b"abc"
    assert len(data) == 100003
    data = bytearray(b"abc")
    assert st.bytearray_snapshot(data, data.clear) == b"abc" and data == bytearray()


def test_bytearray_bad_input(st):
    for bad, name in [(b"abc", "bytes"), ("abc", "str"), (memoryview(b"a"), "memoryview"), ([1], "list")]:
        with pytest.raises(TypeError, match=r"^bytearray_contents\(\) argument 'data' must be bytearray, not %s$" % name):
            st.bytearray_contents(bad)
    with pytest.raises(TypeError, match=r"^make_bytearray\(\) argument 'data' must be bytes, not bytearray$"):
        st.make_bytearray(bytearray(b"a"))


# ---- paths ----

def test_path_from_python(st, tmp_path):
    assert st.path_bytes("abc/d") == b"abc/d"
    assert st.path_bytes(b"abc/\xff") == b"abc/\xff"
    assert st.path_bytes(pathlib.Path("/tmp/x")) == b"/tmp/x"
    assert st.path_bytes(pathlib.PurePosixPath("a/b")) == b"a/b"
    assert st.path_bytes("caf\u00e9") == "caf\u00e9".encode()
    assert st.path_bytes("a\udcff") == b"a\xff"  # surrogateescape, as os.fsencode

    class FsPath:
        def __fspath__(self):
            return b"from/fspath"

    assert st.path_bytes(FsPath()) == b"from/fspath"
    assert st.path_bytes(tmp_path) == os.fsencode(tmp_path)


def test_path_to_python(st):
    assert st.path_roundtrip("a/b") == "a/b"
    assert type(st.path_roundtrip(pathlib.Path("x"))) is str
    assert st.path_roundtrip(pathlib.Path("/tmp/y")) == "/tmp/y"
    assert st.path_roundtrip(b"bytes/in") == "bytes/in"
    assert st.path_roundtrip("a\udcff") == "a\udcff"  # non-UTF-8 names round-trip
    assert st.os_string_roundtrip("caf\u00e9") == "caf\u00e9"
    assert st.path_from_bytes(b"a\xffb") == os.fsdecode(b"a\xffb") == "a\udcffb"
    assert st.path_from_bytes(b"") == ""
    assert st.path_join("/usr", pathlib.Path("lib")) == "/usr/lib"
    assert st.path_join("/usr", "/etc") == "/etc"  # Rust's join: an absolute path replaces
    assert st.path_parent("/usr/lib/x.so") == ("/usr/lib", "/usr/lib")
    assert st.path_parent("/") == ("", "")


def test_path_bad_input(st):
    for bad, name in [(5, "int"), (None, "NoneType"), ([b"a"], "list"), (bytearray(b"a"), "bytearray")]:
        with pytest.raises(TypeError, match=r"expected str, bytes or os.PathLike object, not %s" % name):
            st.path_bytes(bad)

    class BadFsPath:
        def __fspath__(self):
            return 5

    class Raising:
        def __fspath__(self):
            raise RuntimeError("no path today")

    with pytest.raises(TypeError, match=r"__fspath__\(\) to return str or bytes, not int"):
        st.path_bytes(BadFsPath())
    with pytest.raises(RuntimeError, match=r"^no path today$"):
        st.os_string_roundtrip(Raising())


def test_path_stub(stdtypes_so):
    # A path parameter takes what os.fsencode takes; a path result is a str.
    with open(stdtypes_so, "rb") as f:
        text = stubs.extract(f.read())
    any_path = "str | bytes | os.PathLike[str]"
    assert "\nimport os\n" in text
    assert "def path_roundtrip(path: %s, /) -> str:" % any_path in text
    assert "def os_string_roundtrip(s: %s, /) -> str:" % any_path in text
    assert "def path_join(base: %s, name: %s, /) -> str:" % (any_path, any_path) in text
    assert "def path_from_bytes(data: bytes, /) -> str:" in text
    compile(text, "stdtypes.pyi", "exec")


# ---- dicts ----

def test_dict_items_and_values(st):
    d = {"a": 1, "b": [2], 3: None}
    items = st.dict_items(d)
    assert items == list(d.items())
    assert items[1][1] is d["b"]
    assert st.dict_values(d) == list(d.values())
    assert st.dict_items({}) == [] and st.dict_values({}) == []
    big = {i: str(i) for i in range(5000)}
    assert st.dict_items(big) == list(big.items())

    class Loud(dict):
        def __getitem__(self, key):
            return "LOUD"

        def items(self):
            return [("fake", "items")]

    loud = Loud(a=1, b=2)
    assert st.dict_items(loud) == list(dict(loud).items()) == [("a", 1), ("b", 2)]
    assert st.dict_values(loud) == [1, 2]
    od = collections.OrderedDict([("z", 1), ("a", 2)])
    assert st.dict_items(od) == [("z", 1), ("a", 2)]


def test_dict_iter_items(st):
    """The pairs one by one, as items() lists them; a subclass as dict(d) holds it; a key
    removed while the loop runs is a KeyError at its turn, one added is not visited."""
    d = {"a": 1, "b": [2], 3: None}
    seen = []
    assert st.dict_visit_items(d, lambda k, v: seen.append((k, v))) == 3
    assert seen == list(d.items()) and seen[1][1] is d["b"]
    assert st.dict_visit_items({}, lambda k, v: 1 / 0) == 0

    class Loud(dict):
        def __getitem__(self, key):
            return "LOUD"

    seen = []
    assert st.dict_visit_items(Loud(a=1, b=2), lambda k, v: seen.append((k, v))) == 2
    assert seen == [("a", 1), ("b", 2)]

    def remove_next(k, v):
        seen.append(k)
        d.pop("b", None)

    seen, d = [], {"a": 1, "b": 2, "c": 3}
    with pytest.raises(KeyError, match="^'b'$"):
        st.dict_visit_items(d, remove_next)
    assert seen == ["a"]
    seen, d = [], {"a": 1}
    assert st.dict_visit_items(d, lambda k, v: (seen.append(k), d.setdefault("z", 0))) == 1
    assert seen == ["a"] and d == {"a": 1, "z": 0}
    with pytest.raises(ZeroDivisionError):
        st.dict_visit_items({"a": 1}, lambda k, v: 1 / 0)
    with pytest.raises(TypeError, match=r"^dict_visit_items\(\) argument 'd' must be dict, not list$"):
        st.dict_visit_items([("a", 1)], print)


def test_dict_items_bad_input(st):
    with pytest.raises(TypeError, match=r"^dict_items\(\) argument 'd' must be dict, not list$"):
        st.dict_items([("a", 1)])
    with pytest.raises(TypeError, match=r"^dict_values\(\) argument 'd' must be dict, not mappingproxy$"):
        st.dict_values(type.__dict__)


def test_dict_get(st):
    d = {"a": 1, "none": None}
    assert st.dict_get(d, "a") == (True, 1)
    assert st.dict_get(d, "none") == (True, None)
    assert st.dict_get(d, "missing") == (False, None)
    assert st.dict_get({1: "one"}, 1.0) == (True, "one")  # equal keys match, as in Python
    assert st.dict_get_or(d, "a", 5) == 1
    assert st.dict_get_or(d, "missing", 5) == 5
    assert st.dict_get_or(d, "none", 5) is None


def test_dict_get_on_subclasses(st):
    dd = collections.defaultdict(list, a=[1])
    assert st.dict_get(dd, "a") == (True, [1])
    assert st.dict_get(dd, "x") == (False, None)
    assert "x" not in dd  # no __missing__: `get` does not insert
    assert st.dict_get_or(dd, "x", 0) == 0 and "x" not in dd

    class Lying(dict):
        def get(self, key, default=None):
            return "lie"

        def __getitem__(self, key):
            return "lie"

    assert st.dict_get(Lying(a=1), "a") == (True, 1)
    assert st.dict_get(Lying(a=1), "b") == (False, None)


def test_dict_get_bad_input(st):
    with pytest.raises(TypeError, match=r"unhashable type: 'list'"):
        st.dict_get({}, [1])
    with pytest.raises(TypeError, match=r"unhashable type: 'list'"):
        st.dict_get(collections.defaultdict(int), [1])
    with pytest.raises(TypeError, match=r"unhashable type: 'dict'"):
        st.dict_get_or({}, {}, 0)

    class EqRaises:
        def __hash__(self):
            return hash("a")

        def __eq__(self, other):
            raise RuntimeError("no comparison today")

    with pytest.raises(RuntimeError, match=r"^no comparison today$"):
        st.dict_get({"a": 1}, EqRaises())
    with pytest.raises(TypeError, match=r"^dict_get\(\) argument 'd' must be dict, not list$"):
        st.dict_get([], 0)


# ---- calls with keywords ----

def test_call_method_kw(st):
    lst = [3, 1, 2]
    assert st.call_method_kw(lst, "sort", {"reverse": True}) is None
    assert lst == [3, 2, 1]
    assert st.call_method_kw(["bb", "a", "ccc"], "index", {}, "a") == 1
    assert st.call_method_kw("{} {x}", "format", {"x": 2}, 1) == "1 2"
    words = ["bb", "a", "ccc"]
    st.call_method_kw(words, "sort", {"key": len})
    assert words == ["a", "bb", "ccc"]

    class KwDict(dict):
        pass

    assert st.call_method_kw("{x}", "format", KwDict(x="sub")) == "sub"

    class Obj:
        def method(self, *args, **kwargs):
            return args, kwargs

    assert st.call_method_kw(Obj(), "method", {"k": 1}, "pos") == (("pos",), {"k": 1})


def test_call_method_kw_bad_input(st):
    with pytest.raises(TypeError, match=r"bogus"):
        st.call_method_kw([], "sort", {"bogus": 1})
    with pytest.raises(AttributeError, match=r"no_such_method"):
        st.call_method_kw([], "no_such_method", {})
    with pytest.raises(TypeError, match=r"^call_method_kw\(\) argument 'kwargs' must be dict, not list$"):
        st.call_method_kw([], "sort", [])
    with pytest.raises(TypeError, match=r"keywords must be strings"):
        st.call_method_kw([], "sort", {1: 2})


# ---- in-place operators ----

INT_OPS = [("+", operator.iadd), ("-", operator.isub), ("*", operator.imul), ("//", operator.ifloordiv),
           ("/", operator.itruediv), ("%", operator.imod), ("<<", operator.ilshift), (">>", operator.irshift),
           ("&", operator.iand), ("^", operator.ixor), ("|", operator.ior), ("**", operator.ipow)]


def test_inplace_on_immutables_returns_a_new_object(st):
    for op, python in INT_OPS:
        n = 13
        assert st.inplace(n, op, 3) == python(13, 3), op
        assert n == 13
    t = (1,)
    r = st.inplace(t, "+", (2,))
    assert r == (1, 2) and t == (1,) and r is not t
    assert st.inplace("ab", "*", 2) == "abab"


def test_inplace_mutates_mutables(st):
    lst = [1]
    r = st.inplace(lst, "+", [2, 3])
    assert r is lst and lst == [1, 2, 3]
    r = st.inplace(lst, "*", 2)
    assert r is lst and lst == [1, 2, 3, 1, 2, 3]
    s = {1}
    assert st.inplace(s, "|", {2}) is s and s == {1, 2}
    assert st.inplace(s, "-", {1}) is s and s == {2}
    if sys.version_info >= (3, 9):  # dict |= came with 3.9
        d = {"a": 1}
        assert st.inplace(d, "|", {"b": 2}) is d and d == {"a": 1, "b": 2}

    class Matrix:
        def __init__(self):
            self.log = []

        def __imatmul__(self, other):
            self.log.append(other)
            return self

    m = Matrix()
    assert st.inplace(m, "@", 5) is m and m.log == [5]

    class NoInplace:
        def __add__(self, other):
            return ("added", other)

    assert st.inplace(NoInplace(), "+", 1) == ("added", 1)  # falls back to __add__, as `+=` does


def test_inplace_bad_input(st):
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+=: 'int' and 'str'"):
        st.inplace(1, "+", "a")
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for @=: 'int' and 'int'"):
        st.inplace(1, "@", 2)
    with pytest.raises(ZeroDivisionError):
        st.inplace(1, "//", 0)
    lst = [1]
    with pytest.raises(TypeError):
        st.inplace(lst, "+", 5)
    assert lst == [1]
    with pytest.raises(ValueError, match=r'^unknown operator "\+\+"$'):
        st.inplace(1, "++", 1)
