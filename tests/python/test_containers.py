"""examples/containers in universal, debug (leak-checked) and trace mode.

`IntList` is a sequence (integer `__getitem__`, so Python iterates it), `StrMap` a mapping with
`str` keys, `Counter` a callable. Every protocol gets good input and bad input (wrong key types,
out-of-range indices, missing keys): bad input must raise a clear Python exception, never crash
or leak. `live_objects()` counts the Rust values alive, so the tests see them dropped.
"""
import gc
import inspect
import operator
import re
import sys
import weakref

import pytest

from conftest import (PYPY, ListClaiming, built_module, call_unbound_without_receiver, collect, expect, load,
                      method_doc, refuses_python_subclass, run_call_sites, skip_module_if_types_crash)

skip_module_if_types_crash()

I64_MAX = 2**63 - 1
I64_MIN = -2**63


def N(pattern):
    """`pattern`, a message of the interpreter itself, with the names it gives the module's types
    (conftest.type_name: "containers.IntList" on CPython, "IntList" on PyPy); the module prefix
    may be written `containers.` or `containers\\.`."""
    return re.sub(r"containers\\?\.", "", pattern) if PYPY else pattern


def freed(live):
    """`live()` once the objects no longer referenced are freed: CPython frees each when its last
    reference goes (no collection here: that is what the tests check there); PyPy has no
    reference counts and frees them at a collection."""
    if PYPY:
        collect()
    return live()


@pytest.fixture(scope="session")
def containers_so():
    return built_module("HPYRS_CONTAINERS_SO")


@pytest.fixture(scope="session")
def co(containers_so, hpy_mode, tmp_path_factory):
    return load("containers", containers_so, hpy_mode, tmp_path_factory)


@pytest.fixture
def IntList(co):
    return co.IntList


@pytest.fixture
def StrMap(co):
    return co.StrMap


@pytest.fixture
def Counter(co):
    return co.Counter


def test_module(co):
    assert co.__doc__ == "Sequences, mappings and callables implemented in Rust."
    assert {"IntList", "StrMap", "Counter", "live_objects"} <= set(dir(co))
    for cls in (co.IntList, co.StrMap, co.Counter):
        assert cls.__module__ == "containers"
    assert co.IntList.__doc__ == "A list of 64-bit integers. Python code may subclass it."
    assert co.StrMap.get.__doc__ == method_doc("get($self, key, default=None)",
                                               "The value for `key`, or `default` (any object) if `key` is missing.")
    assert co.Counter.calls.__doc__ == "How many times the counter was called."


# ---- IntList: construction ----

def test_intlist_construction(IntList):
    assert IntList().to_list() == []
    assert IntList(None).to_list() == []
    assert IntList([1, 2, 3]).to_list() == [1, 2, 3]
    assert IntList((4, 5)).to_list() == [4, 5]
    assert IntList(range(3)).to_list() == [0, 1, 2]
    assert IntList(values=[5]).to_list() == [5]
    assert IntList([True, I64_MAX, I64_MIN]).to_list() == [1, I64_MAX, I64_MIN]
    assert IntList.__new__(IntList, [1]).to_list() == [1]


@pytest.mark.reenters
def test_intlist_from_an_intlist(IntList):
    assert IntList(IntList([7, 8])).to_list() == [7, 8]  # an IntList is a sequence


def test_intlist_construction_bad_input(IntList):
    with pytest.raises(TypeError, match=r"^IntList\(\) argument 'values': can't extract a str to a Vec$"):
        IntList("abc")
    with pytest.raises(TypeError, match=r"^IntList\(\) argument 'values': item 1: expected int, got str$"):
        IntList([1, "a"])
    with pytest.raises(TypeError, match=r"^IntList\(\) argument 'values': item 0: expected int, got float$"):
        IntList([1.5])
    assert IntList(x for x in [1]).to_list() == [1]  # any iterable
    with pytest.raises(TypeError, match=r"^IntList\(\) argument 'values' must be iterable, not int$"):
        IntList(5)
    with pytest.raises(OverflowError, match=r"^IntList\(\) argument 'values': item 0: int out of range for i64$"):
        IntList([2**63])
    with pytest.raises(TypeError, match=r"^IntList\(\) takes from 0 to 1 positional arguments but 2 were given$"):
        IntList(1, 2)
    with pytest.raises(TypeError, match=r"^IntList\(\) got an unexpected keyword argument 'vals'$"):
        IntList(vals=[1])


@pytest.mark.parametrize("claimed", [0, 2, 4, 1000, sys.maxsize])
def test_intlist_from_a_list_whose_len_lies(IntList, claimed):
    """The items are what `list(x)` (or a `for` loop) gives: `__len__` is only a size hint."""
    items = [1, 2, 3]
    looped = []
    for x in ListClaiming(items, claimed):  # (PyPy's list comprehensions and list() allocate
        looped.append(x)                    # the claimed length first: MemoryError for 2**63-1)
    assert IntList(ListClaiming(items, claimed)).to_list() == looped == items
    lst = IntList([0])
    lst += ListClaiming(items, claimed)
    assert lst.to_list() == [0] + items


def test_intlist_from_sequences_that_change_while_read(IntList):
    class Shrinking:
        """A sequence (index protocol) that loses its items while they are read."""

        def __init__(self):
            self.items = [1, 2, 3, 4]

        def __len__(self):
            return 4

        def __getitem__(self, i):
            self.items[2:] = []
            return self.items[i]

    assert IntList(Shrinking()).to_list() == list(Shrinking()) == [1, 2]


def test_strmap_from_a_dict_subclass(StrMap):
    class Loud(dict):
        def __getitem__(self, key):
            return "LOUD"

    assert StrMap(Loud(a="1")).items() == sorted(dict(Loud(a="1")).items()) == [("a", "1")]


# ---- IntList: the sequence protocol ----

def test_intlist_len_bool_repr(IntList):
    assert len(IntList()) == 0
    assert len(IntList([1, 2, 3])) == 3
    assert bool(IntList()) is False  # from __len__
    assert bool(IntList([0])) is True
    assert repr(IntList([1, -2])) == "IntList([1, -2])"
    assert str(IntList()) == "IntList([])"


def test_intlist_getitem(IntList):
    lst = IntList([10, 20, 30])
    assert lst[0] == 10 and lst[2] == 30
    assert lst[-1] == 30 and lst[-3] == 10
    assert lst[True] == 20  # bool is an int
    assert operator.getitem(lst, 1) == 20
    assert IntList.__getitem__(lst, -2) == 20


def test_intlist_getitem_bad_input(IntList):
    lst = IntList([10, 20, 30])
    for index in [3, -4, 100, I64_MAX, I64_MIN]:
        with pytest.raises(IndexError, match=r"^IntList index out of range$"):
            lst[index]
    with pytest.raises(IndexError, match=r"^IntList index out of range$"):
        IntList()[0]
    # an int too large for the isize key: IndexError, as for a list ([][2**70]), in every slot
    for index in [2**70, -2**70]:
        with pytest.raises(IndexError, match=r"^index out of range$"):
            lst[index]
        with pytest.raises(IndexError, match=r"^index out of range$"):
            lst[index] = 1
        with pytest.raises(IndexError, match=r"^index out of range$"):
            del lst[index]
        with pytest.raises(IndexError):
            [][index]
    with pytest.raises(TypeError, match=r"^IntList.__getitem__\(\) argument 'index' must be int, not str$"):
        lst["a"]
    with pytest.raises(TypeError, match=r"^IntList.__getitem__\(\) argument 'index' must be int, not float$"):
        lst[1.0]
    with pytest.raises(TypeError, match=r"^IntList.__getitem__\(\) argument 'index' must be int, not NoneType$"):
        lst[None]
    # no slices: the index is an isize
    with pytest.raises(TypeError, match=r"^IntList.__getitem__\(\) argument 'index' must be int, not slice$"):
        lst[0:2]


def test_intlist_iteration_through_the_sequence_protocol(IntList):
    lst = IntList([3, 1, 2])
    assert [x for x in lst] == [3, 1, 2]
    assert list(lst) == [3, 1, 2]
    assert tuple(iter(lst)) == (3, 1, 2)
    assert list(reversed(lst)) == [2, 1, 3]
    assert sorted(lst) == [1, 2, 3]
    assert sum(lst) == 6 and max(lst) == 3
    assert list(enumerate(lst)) == [(0, 3), (1, 1), (2, 2)]
    a, b, c = lst
    assert (a, b, c) == (3, 1, 2)
    assert list(IntList()) == []
    it = iter(IntList([1]))
    assert next(it) == 1
    with pytest.raises(StopIteration):
        next(it)


def test_intlist_iteration_sees_changes(IntList):
    lst = IntList([1, 2])
    seen = []
    for x in lst:
        seen.append(x)
        if x < 4:
            lst.append(x + 2)  # iteration holds no borrow between items
    assert seen == [1, 2, 3, 4, 5]


def test_intlist_setitem(IntList):
    lst = IntList([1, 2, 3])
    lst[0] = 10
    lst[-1] = 30
    lst[1] = I64_MIN
    assert lst.to_list() == [10, I64_MIN, 30]


def test_intlist_setitem_bad_input(IntList):
    lst = IntList([1, 2, 3])
    with pytest.raises(IndexError, match=r"^IntList assignment index out of range$"):
        lst[3] = 1
    with pytest.raises(IndexError, match=r"^IntList assignment index out of range$"):
        lst[-4] = 1
    with pytest.raises(TypeError, match=r"^IntList.__setitem__\(\) argument 'value' must be int, not str$"):
        lst[0] = "a"
    with pytest.raises(OverflowError, match=r"^IntList.__setitem__\(\) argument 'value': int out of range for i64$"):
        lst[0] = 2**63
    with pytest.raises(TypeError, match=r"^IntList.__setitem__\(\) argument 'index' must be int, not str$"):
        lst["a"] = 1
    with pytest.raises(TypeError, match=r"^IntList.__setitem__\(\) argument 'index' must be int, not slice$"):
        lst[0:1] = [1]
    assert lst.to_list() == [1, 2, 3]


def test_intlist_delitem(IntList):
    lst = IntList([1, 2, 3, 4])
    del lst[0]
    del lst[-1]
    assert lst.to_list() == [2, 3]
    del lst[1]
    del lst[0]
    assert lst.to_list() == [] and len(lst) == 0


def test_intlist_delitem_bad_input(IntList):
    lst = IntList([1, 2, 3])
    with pytest.raises(IndexError, match=r"^IntList deletion index out of range$"):
        del lst[3]
    with pytest.raises(IndexError, match=r"^IntList deletion index out of range$"):
        del lst[-4]
    with pytest.raises(IndexError, match=r"^IntList deletion index out of range$"):
        del IntList()[0]
    with pytest.raises(TypeError, match=r"^IntList.__delitem__\(\) argument 'index' must be int, not str$"):
        del lst["a"]
    with pytest.raises(TypeError, match=r"^IntList.__delitem__\(\) argument 'index' must be int, not slice$"):
        del lst[0:1]
    assert lst.to_list() == [1, 2, 3]


def test_intlist_contains(IntList):
    lst = IntList([1, 2, 3])
    assert 2 in lst and True in lst
    assert 5 not in lst
    # like list: what cannot be an i64 is simply not there
    assert "a" not in lst
    assert None not in lst
    assert 2.0 not in lst  # no float conversion for i64
    assert 2**70 not in lst
    assert IntList.__contains__(lst, 3) is True


def test_intlist_append(IntList):
    lst = IntList()
    assert lst.append(1) is None
    lst.append(I64_MIN)
    assert lst.to_list() == [1, I64_MIN]


def test_intlist_append_bad_input(IntList):
    lst = IntList()
    with pytest.raises(TypeError, match=r"^append\(\) argument 'value' must be int, not str$"):
        lst.append("a")
    with pytest.raises(OverflowError, match=r"^append\(\) argument 'value': int out of range for i64$"):
        lst.append(2**63)
    with pytest.raises(TypeError, match=r"^(IntList\.)?append\(\) takes exactly one argument \(0 given\)$"):
        lst.append()
    with pytest.raises(TypeError, match=r"^(IntList\.)?append\(\) takes no keyword arguments$"):
        lst.append(value=1)
    assert lst.to_list() == []


def test_intlist_iadd(IntList):
    lst = IntList([1])
    same = lst
    lst += [2, 3]
    lst += (4,)
    lst += range(5, 8)
    lst += []
    assert lst is same
    assert lst.to_list() == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.reenters
def test_intlist_iadd_intlists(IntList):
    lst = IntList([1])
    lst += IntList([5])
    assert lst.to_list() == [1, 5]
    # the operand is converted before the list is borrowed: extending by itself works
    lst = IntList([1, 2])
    lst += lst
    assert lst.to_list() == [1, 2, 1, 2]


def test_intlist_iadd_bad_input(IntList):
    # an operand that does not convert makes __iadd__ return NotImplemented (so that the other
    # operand's __radd__ can run); with no __add__ either, Python raises TypeError
    lst = IntList([1])
    for bad in ["ab", [1, "a"], {"a": 1}, 5]:  # (a generator is an iterable of ints: accepted)
        with pytest.raises(TypeError, match=N(r"^unsupported operand type\(s\) for \+=: 'containers.IntList' and ")):
            lst += bad
    # nothing was added by the failed calls, not even the good items before a bad one
    assert lst.to_list() == [1]
    # no __add__: only the in-place form
    with pytest.raises(TypeError, match=N(r"^unsupported operand type\(s\) for \+: 'containers.IntList' and 'list'$")):
        lst + [1]


def test_intlist_iadd_foreign_operand_returns_not_implemented(IntList):
    class Other:
        def __radd__(self, other):
            return "radd"

    lst = IntList([1])
    lst += Other()
    assert lst == "radd"
    lst = IntList([1])
    with pytest.raises(TypeError, match=N(r"^unsupported operand type\(s\) for \+=: 'containers.IntList' and 'int'$")):
        lst += 5


def test_intlist_eq(IntList):
    assert IntList([1, 2]) == IntList([1, 2])
    assert not IntList([1, 2]) == IntList([2, 1])
    assert not IntList([1, 2]) == IntList([1])
    assert IntList() == IntList()
    lst = IntList([1])
    assert lst == lst
    # other types: NotImplemented both ways, then identity
    assert not IntList([1, 2]) == [1, 2]
    assert not [1, 2] == IntList([1, 2])
    assert IntList([1]).__eq__([1]) is NotImplemented
    with pytest.raises(TypeError, match=N(r"^'<' not supported between instances of 'containers.IntList' and "
                                          r"'containers.IntList'$")):
        IntList() < IntList()
    with pytest.raises(TypeError, match=N(r"^unhashable type: 'containers.IntList'$")):
        hash(IntList())


def test_intlist_ne(IntList):
    assert not (IntList([1, 2]) != IntList([1, 2]))
    assert IntList([1, 2]) != IntList([1, 3])


# ---- IntList: re-entrancy (map_in_place calls Python while the list is mutably borrowed) ----

def test_intlist_map_in_place(IntList):
    lst = IntList([1, 2, 3])
    assert lst.map_in_place(lambda x: x * 10) is None
    assert lst.to_list() == [10, 20, 30]


@pytest.mark.reenters
def test_intlist_map_in_place_reading_another_intlist(IntList):
    lst = IntList([10, 20, 30])
    other = IntList([5])
    lst.map_in_place(lambda x: x + other[0])  # another IntList may be used freely
    assert lst.to_list() == [15, 25, 35]


@pytest.mark.reenters
@pytest.mark.parametrize("touch, message", [
    (lambda lst: len(lst), "IntList object is already mutably borrowed"),
    (lambda lst: lst[0], "IntList object is already mutably borrowed"),
    (lambda lst: list(lst), "IntList object is already mutably borrowed"),
    (lambda lst: 1 in lst, "IntList object is already mutably borrowed"),
    (lambda lst: repr(lst), "IntList object is already mutably borrowed"),
    (lambda lst: lst == lst, "IntList object is already mutably borrowed"),
    (lambda lst: lst.to_list(), "IntList object is already mutably borrowed"),
    (lambda lst: lst.append(1), "IntList object is already borrowed"),
    (lambda lst: lst.__setitem__(0, 1), "IntList object is already borrowed"),
    (lambda lst: lst.__delitem__(0), "IntList object is already borrowed"),
    (lambda lst: lst.__iadd__([1]), "IntList object is already borrowed"),
    (lambda lst: lst.map_in_place(abs), "IntList object is already borrowed"),
], ids=["len", "getitem", "iterate", "contains", "repr", "eq", "to_list", "append", "setitem", "delitem",
        "iadd", "map_in_place"])
def test_intlist_reentrant_access_raises_runtime_error(IntList, touch, message):
    lst = IntList([1, 2])
    seen = []

    def func(x):
        seen.append(x)
        touch(lst)
        return x

    with pytest.raises(RuntimeError, match="^%s$" % message):
        lst.map_in_place(func)
    assert seen == [1]
    # the failed call released its borrow: the list works, unchanged
    assert lst.to_list() == [1, 2]
    lst.map_in_place(lambda x: -x)
    assert lst.to_list() == [-1, -2]


def test_intlist_map_in_place_bad_callbacks(IntList):
    lst = IntList([1, 2])
    with pytest.raises(TypeError, match=r"^cannot convert to i64: expected int, got str$"):
        lst.map_in_place(lambda x: "a")
    with pytest.raises(OverflowError, match=r"^cannot convert to i64: int out of range for i64$"):
        lst.map_in_place(lambda x: 2**64)
    with pytest.raises(TypeError, match=r"^'int' object is not callable$"):
        lst.map_in_place(5)
    with pytest.raises(TypeError, match=r"^(IntList\.)?map_in_place\(\) takes exactly one argument \(0 given\)$"):
        lst.map_in_place()
    assert lst.to_list() == [1, 2]
    # items before the failing one keep their new value
    with pytest.raises(ZeroDivisionError):
        lst.map_in_place(lambda x: x * 10 if x == 1 else 1 // 0)
    assert lst.to_list() == [10, 2]


# ---- IntList: Python subclasses ----

def test_intlist_python_subclass(IntList):
    if refuses_python_subclass(IntList):
        return
    class Doubled(IntList):
        def __getitem__(self, index):
            return super().__getitem__(index) * 2

        def total(self):
            return sum(self.to_list())

    d = Doubled([1, 2, 3])
    assert isinstance(d, IntList) and type(d) is Doubled
    assert d[0] == 2 and d[-1] == 6
    assert list(d) == [2, 4, 6]  # iteration uses the Python override
    assert len(d) == 3 and 2 in d and 6 not in d
    d.append(4)
    d += [5]
    assert d.to_list() == [1, 2, 3, 4, 5] and type(d) is Doubled
    assert d.total() == 15
    assert d == IntList([1, 2, 3, 4, 5]) and IntList([1, 2, 3, 4, 5]) == d
    assert repr(d) == "IntList([1, 2, 3, 4, 5])"  # the Rust repr names the Rust class
    d.tag = "x"
    assert d.__dict__ == {"tag": "x"}


# ---- lifetime: live_objects() counts the Rust values ----

def test_values_are_dropped(co, IntList, StrMap, Counter):
    live = co.live_objects
    gc.collect()
    before = live()
    objs = [IntList([1]), StrMap({"a": "b"}), Counter()]
    assert live() == before + 3
    del objs
    assert freed(live) == before
    many = [IntList([i] * 10) for i in range(1000)]
    assert live() == before + 1000
    del many
    assert freed(live) == before


def test_temporaries_are_dropped(co, IntList, StrMap, Counter):
    live = co.live_objects
    gc.collect()
    before = live()
    for i in range(100):
        IntList([i]).to_list()
        repr(StrMap({"k": str(i)}))
        Counter(i)(1)
        IntList([1]) == IntList([1])
        try:
            IntList([1])[5]
        except IndexError:
            pass
    assert freed(live) == before


def test_python_subclass_values_are_dropped(co, IntList):
    if refuses_python_subclass(IntList):
        return
    live = co.live_objects

    class Sub(IntList):
        pass

    class Slotted(IntList):
        __slots__ = ()

    gc.collect()
    before = live()
    s = Sub([1, 2])
    t = Slotted([3])
    assert live() == before + 2
    r = weakref.ref(s)
    del s, t
    assert live() == before
    assert r() is None
    # a cycle through the instance dict: dropped by the garbage collector
    c = Sub()
    c.me = c
    del c
    gc.collect()
    assert live() == before
    subs = [Sub([i]) for i in range(1000)]
    assert live() == before + 1000
    del subs
    gc.collect()
    assert live() == before


def test_python_subclass_del_and_resurrection(co, IntList):
    if refuses_python_subclass(IntList):
        return
    live = co.live_objects
    seen = []
    keep = []

    class Finalized(IntList):
        def __del__(self):
            seen.append(list(self))  # the Rust value is still there in __del__

    class Resurrected(IntList):
        def __del__(self):
            keep.append(self)

    gc.collect()
    before = live()
    f = Finalized([1, 2])
    del f
    gc.collect()
    assert seen == [[1, 2]] and live() == before
    r = Resurrected([3, 4])
    del r
    gc.collect()
    # __del__ saved the object: its Rust value must survive, usable
    assert live() == before + 1
    assert keep[0].to_list() == [3, 4]
    keep[0].append(5)
    assert list(keep[0]) == [3, 4, 5]
    keep.clear()  # __del__ runs once (PEP 442): now it is freed
    gc.collect()
    assert live() == before


def test_no_weak_references(IntList, StrMap, Counter):
    for cls in (IntList, StrMap, Counter):
        obj = cls()
        if PYPY:
            # on PyPy the instances of HPy types take weak references, whatever the type spec says
            ref = weakref.ref(obj)
            assert ref() is obj
            del obj
            collect()
            assert ref() is None
            continue
        with pytest.raises(TypeError, match=r"^cannot create weak reference to 'containers\.\w+' object$"):
            weakref.ref(obj)


# ---- StrMap ----

def test_strmap_construction(StrMap):
    assert StrMap().keys() == []
    assert StrMap(None).keys() == []
    m = StrMap({"b": "2", "a": "1"})
    assert m.items() == [("a", "1"), ("b", "2")]
    assert StrMap(items={"k": "v"}).items() == [("k", "v")]


def test_strmap_construction_bad_input(StrMap):
    with pytest.raises(TypeError, match=r"^StrMap\(\) argument 'items': value for key 'a': expected str, got int$"):
        StrMap({"a": 1})
    with pytest.raises(TypeError, match=r"^StrMap\(\) argument 'items': key: expected str, got int$"):
        StrMap({1: "a"})
    with pytest.raises(TypeError, match=r"^StrMap\(\) argument 'items' must be dict, not list$"):
        StrMap([("a", "b")])
    with pytest.raises(TypeError, match=r"^StrMap\(\) takes from 0 to 1 positional arguments but 2 were given$"):
        StrMap({}, {})
    with pytest.raises(TypeError, match=r"^StrMap\(\) got an unexpected keyword argument 'a'$"):
        StrMap(a="b")


def test_strmap_getitem(StrMap):
    m = StrMap({"a": "1", "é🐍": "snake", "nul\0key": "nul\0value"})
    assert m["a"] == "1"
    assert m["é🐍"] == "snake"
    assert m["nul\0key"] == "nul\0value"


def test_strmap_getitem_bad_input(StrMap):
    m = StrMap({"a": "1"})
    with pytest.raises(KeyError) as e:
        m["z"]
    assert e.value.args == ("z",)
    with pytest.raises(KeyError) as e:
        m["A"]
    assert e.value.args == ("A",)
    with pytest.raises(TypeError, match=r"^StrMap.__getitem__\(\) argument 'key' must be str, not int$"):
        m[1]
    with pytest.raises(TypeError, match=r"^StrMap.__getitem__\(\) argument 'key' must be str, not NoneType$"):
        m[None]
    with pytest.raises(TypeError, match=r"^StrMap.__getitem__\(\) argument 'key' must be str, not bytes$"):
        m[b"a"]
    with pytest.raises(UnicodeEncodeError):
        m["\ud800"]  # a lone surrogate has no UTF-8


def test_strmap_setitem(StrMap):
    m = StrMap()
    m["a"] = "1"
    m["b"] = "2"
    m["a"] = "3"
    m[""] = ""
    assert m.items() == [("", ""), ("a", "3"), ("b", "2")]
    assert len(m) == 3


def test_strmap_setitem_bad_input(StrMap):
    m = StrMap()
    with pytest.raises(TypeError, match=r"^StrMap.__setitem__\(\) argument 'key' must be str, not int$"):
        m[1] = "1"
    with pytest.raises(TypeError, match=r"^StrMap.__setitem__\(\) argument 'value' must be str, not int$"):
        m["a"] = 1
    with pytest.raises(TypeError, match=r"^StrMap.__setitem__\(\) argument 'value' must be str, not NoneType$"):
        m["a"] = None
    with pytest.raises(UnicodeEncodeError):
        m["\ud800"] = "x"
    with pytest.raises(UnicodeEncodeError):
        m["x"] = "\udfff"
    assert len(m) == 0


def test_strmap_delitem(StrMap):
    m = StrMap({"a": "1", "b": "2"})
    del m["a"]
    assert m.keys() == ["b"]
    with pytest.raises(KeyError) as e:
        del m["a"]  # deleting a missing key
    assert e.value.args == ("a",)
    with pytest.raises(TypeError, match=r"^StrMap.__delitem__\(\) argument 'key' must be str, not int$"):
        del m[1]
    assert m.keys() == ["b"]


def test_strmap_len_contains_bool(StrMap):
    m = StrMap({"a": "1"})
    assert len(m) == 1
    assert "a" in m and "b" not in m
    assert bool(m) is True and bool(StrMap()) is False
    # the keys are str: other key types are a TypeError (not False, as in dict)
    with pytest.raises(TypeError, match=r"^StrMap.__contains__\(\) argument 'key' must be str, not int$"):
        1 in m


def test_strmap_keys_items(StrMap):
    m = StrMap({"b": "2", "a": "1", "c": "3"})
    assert m.keys() == ["a", "b", "c"]
    assert m.items() == [("a", "1"), ("b", "2"), ("c", "3")]
    keys = m.keys()
    keys.append("d")  # a new list each time
    assert m.keys() == ["a", "b", "c"]


def test_strmap_get(StrMap):
    m = StrMap({"a": "1"})
    assert m.get("a") == "1"
    assert m.get("z") is None
    assert m.get("z", 5) == 5
    sentinel = object()
    assert m.get("z", sentinel) is sentinel
    assert m.get("a", sentinel) == "1"
    assert m.get(key="a") == "1"
    assert m.get("z", default=[1]) == [1]
    assert m.get(default=0, key="z") == 0
    if PYPY:
        # PyPy's method descriptors keep the text signature in __doc__ (conftest.method_doc), where
        # inspect.signature does not look
        assert m.get.__doc__.startswith("get($self, key, default=None)\n--\n\n")
    else:
        assert str(inspect.signature(m.get)) == "(key, default=None)"


def test_strmap_get_bad_input(StrMap):
    m = StrMap({"a": "1"})
    with pytest.raises(TypeError, match=r"^get\(\) missing 1 required positional argument: 'key'$"):
        m.get()
    with pytest.raises(TypeError, match=r"^get\(\) argument 'key' must be str, not int$"):
        m.get(1)
    with pytest.raises(TypeError, match=r"^get\(\) takes from 1 to 2 positional arguments but 3 were given$"):
        m.get("a", 1, 2)
    with pytest.raises(TypeError, match=r"^get\(\) got an unexpected keyword argument 'dflt'$"):
        m.get("a", dflt=1)
    with pytest.raises(TypeError, match=r"^get\(\) got multiple values for argument 'key'$"):
        m.get("a", key="a")


def test_strmap_get_keyword_layouts(StrMap):
    # Methods remember their last keyword layout too: same names, other positional arguments.
    ns = run_call_sites("""
outcomes = []
for _ in range(3):
    outcomes.append(m.get(key="a"))
    try:
        m.get("a", key="a")
    except TypeError as e:
        outcomes.append(str(e))
    outcomes.append(m.get("zz", default="d"))
    outcomes.append(m.get(default="d", key="zz"))
    outcomes.append(m.get(key="zz", default="d"))
""", m=StrMap({"a": "1"}))
    assert ns["outcomes"] == 3 * ["1", "get() got multiple values for argument 'key'", "d", "d", "d"]


def test_strmap_repr(StrMap):
    assert repr(StrMap()) == "StrMap({})"
    assert repr(StrMap({"b": "2", "a": "1"})) == "StrMap({'a': '1', 'b': '2'})"
    # quoted by Python's own repr
    assert repr(StrMap({"it's": 'say "hi"', "nul": "\0"})) == \
        "StrMap({%r: %r, 'nul': '\\x00'})" % ("it's", 'say "hi"')


def test_strmap_is_not_iterable(StrMap):
    # HPy 0.9 has no tp_iter slot and the key is not an integer: no iteration. CPython's iter()
    # refuses a mapping (mp_subscript only); PyPy's iter() takes any object with __getitem__ (it
    # has no separate sequence and mapping item slots) and the iteration fails at its first key, 0
    if PYPY:
        it = iter(StrMap({"a": "1"}))
        with pytest.raises(TypeError, match=r"^StrMap.__getitem__\(\) argument 'key' must be str, not int$"):
            next(it)
    else:
        with pytest.raises(TypeError, match=r"^'containers.StrMap' object is not iterable$"):
            iter(StrMap({"a": "1"}))
    with pytest.raises(TypeError, match=expect(r"^'containers.StrMap' object is not iterable$",
                                               r"^StrMap.__getitem__\(\) argument 'key' must be str, not int$")):
        list(StrMap())
    assert [k for k in StrMap({"a": "1"}).keys()] == ["a"]


def test_strmap_is_not_subclassable(StrMap):
    with pytest.raises(TypeError, match=r"^type 'containers.StrMap' is not an acceptable base type$"):
        type("Sub", (StrMap,), {})


# ---- Counter ----

def test_counter(Counter):
    c = Counter()
    assert callable(c)
    assert (c.calls, c.total) == (0, 0)
    assert bool(c) is False
    assert c(1) == 1
    assert c(2) == 3
    assert c(-10) == -7
    assert c(True) == -6
    assert (c.calls, c.total) == (4, -6)
    assert bool(c) is True
    assert repr(c) == "Counter(calls=4, total=-6)"
    assert c.reset() is None
    assert repr(c) == "Counter(calls=0, total=0)" and not c


def test_counter_construction(Counter):
    assert Counter(5).total == 5
    assert Counter(start=-5).total == -5
    assert Counter(I64_MIN).total == I64_MIN
    with pytest.raises(TypeError, match=r"^Counter\(\) argument 'start' must be int, not str$"):
        Counter("a")
    with pytest.raises(OverflowError, match=r"^Counter\(\) argument 'start': int out of range for i64$"):
        Counter(2**63)
    with pytest.raises(TypeError, match=r"^Counter\(\) takes from 0 to 1 positional arguments but 2 were given$"):
        Counter(1, 2)


def test_counter_call_keyword_layouts(Counter):
    # `__call__` remembers its last keyword layout too: same names, other positional arguments.
    ns = run_call_sites("""
outcomes = []
for _ in range(3):
    outcomes.append(c(by=2))
    try:
        c(1, by=2)
    except TypeError as e:
        outcomes.append(str(e))
    outcomes.append(c(by=-1))
""", c=Counter())
    assert ns["outcomes"] == [
        2, "Counter.__call__() got multiple values for argument 'by'", 1,
        3, "Counter.__call__() got multiple values for argument 'by'", 2,
        4, "Counter.__call__() got multiple values for argument 'by'", 3,
    ]


def test_counter_call_signature(Counter):
    c = Counter()
    assert c() == 1  # by = 1
    assert c(5) == 6
    assert c(by=-2) == 4
    assert c(**{"by": 10}) == 14
    assert (c.calls, c.total) == (4, 14)


def test_counter_call_bad_input(Counter):
    c = Counter()
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) takes from 0 to 1 positional arguments but 2 were "
                                        r"given$"):
        c(1, 2)
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) got an unexpected keyword argument 'step'$"):
        c(1, step=2)
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) got multiple values for argument 'by'$"):
        c(1, by=2)
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) argument 'by' must be int, not str$"):
        c("a")
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) argument 'by' must be int, not float$"):
        c(by=1.5)
    with pytest.raises(TypeError, match=r"^Counter.__call__\(\) argument 'by' must be int, not NoneType$"):
        c(None)
    with pytest.raises(OverflowError, match=r"^Counter.__call__\(\) argument 'by': int out of range for i64$"):
        c(2**63)
    assert (c.calls, c.total) == (0, 0)  # failed calls are not counted


def test_counter_overflow_leaves_it_unchanged(Counter):
    c = Counter(I64_MAX)
    with pytest.raises(OverflowError, match=r"^Counter total overflows 64 bits$"):
        c(1)
    assert (c.calls, c.total) == (0, I64_MAX)
    c = Counter(I64_MIN)
    with pytest.raises(OverflowError, match=r"^Counter total overflows 64 bits$"):
        c(-1)
    assert c(0) == I64_MIN and c.calls == 1


def test_counter_properties_are_read_only(Counter):
    c = Counter()
    # on PyPy, hpy-rs makes properties Python `property` objects (hpy::impl_::slots::PropertyMethods),
    # which refuse with their own words
    with pytest.raises(AttributeError, match=expect(r"^attribute 'calls' of 'containers.Counter' objects is not writable$",
                                                    r"^property of 'Counter' object has no setter$")):
        c.calls = 5
    with pytest.raises(AttributeError, match=expect(r"^attribute 'total' of 'containers.Counter' objects is not writable$",
                                                    r"^property of 'Counter' object has no deleter$")):
        del c.total
    if PYPY:
        # PyPy gives every instance of an HPy type a __dict__ (of a type in C on HPy as well,
        # test_geometry.py's test_instances_have_no_dict): new attributes are allowed there
        c.other = 1
        assert c.__dict__ == {"other": 1} and c.calls == 0
    else:
        with pytest.raises(AttributeError):
            c.other = 1


def test_counter_methods_on_the_wrong_receiver(Counter, IntList):
    with pytest.raises(TypeError, match=N(r"^descriptor '__call__' requires a 'containers.Counter' object but "
                                          r"received a 'containers.IntList'$")):
        Counter.__call__(IntList(), 1)
    # (PyPy's method descriptors word the check as its slot wrappers do)
    with pytest.raises(TypeError, match=expect(r"^descriptor 'reset' for 'containers.Counter' objects doesn't apply "
                                               r"to a 'containers.IntList' object$",
                                               r"^descriptor 'reset' requires a 'Counter' object but received a "
                                               r"'IntList'$")):
        Counter.reset(IntList())
    with pytest.raises(TypeError, match=N(r"^descriptor '__len__' requires a 'containers.IntList' object")):
        IntList.__len__(Counter())


def test_slots_taken_unchecked_still_refuse_foreign_receivers(IntList, StrMap, Counter):
    """hpy-rs takes `self` unchecked in methods and in the slots that every HPy implementation
    checks (len, item, repr, comparisons, call): the runtime must still refuse a foreign object."""
    m = StrMap()
    for call in [lambda: IntList.__len__(m), lambda: IntList.__getitem__(m, 0), lambda: IntList.__repr__(m),
                 lambda: IntList.__eq__(m, IntList()), lambda: IntList.__lt__(m, IntList()),
                 lambda: Counter.__call__(m, 1), lambda: IntList.__len__(1), lambda: IntList.__getitem__(None, 0)]:
        with pytest.raises(TypeError, match=N(r"^descriptor '__\w+__' requires a 'containers\.\w+' object but received")):
            call()

    # A slot wrapper copied into an unrelated class is not installed as that class's C slot:
    # Python calls it through the (checking) wrapper.
    class Foreign:
        __len__ = IntList.__len__
        __getitem__ = IntList.__getitem__
        __repr__ = IntList.__repr__
        __eq__ = IntList.__eq__
        __call__ = Counter.__call__
        append = IntList.append
    f = Foreign()
    for call in [lambda: len(f), lambda: f[0], lambda: repr(f), lambda: f == IntList(), lambda: f(1), lambda: f.append(1)]:
        with pytest.raises(TypeError, match=N(r"^descriptor '\w+' (requires a|for) 'containers\.\w+' object")):
            call()
    # Comparisons with the instance on the right are reflected onto the instance's own slot.
    assert (IntList([1]) == IntList([1])) is True
    assert ([1] == IntList([1])) is False


def test_counter_from_python_code(Counter):
    c = Counter()
    assert list(map(c, [1, 2, 3])) == [1, 3, 6]
    assert sorted([3, 1, 2], key=c) == [3, 1, 2]  # the keys grow with every call
    assert c.calls == 6
    assert [c() for _ in range(3)] == [13, 14, 15]


def test_unbound_keywords_method_without_receiver(StrMap):
    # CPython gh-131998 calls the method with a stale receiver and nargs == -1 (see conftest)
    error = call_unbound_without_receiver(StrMap({"a": "b"}), "get")
    assert isinstance(error, TypeError) and "needs an argument" in str(error), error
