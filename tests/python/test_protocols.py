"""tests/fixtures/protocols in universal, debug (leak-checked) and trace mode, and natively.

Iterating any iterable from Rust (`Handle::iter`), `Vec<T>` from any iterable, and the protocols
HPy 0.9 has no slot for: iterator classes (`__iter__`, `__next__`), attribute hooks
(`__getattr__`, `__setattr__`, `__delattr__`) and descriptors (`__get__`, `__set__`,
`__delete__`). Each gets good input and bad input.
"""
import itertools

import pytest

from conftest import (PYPY, built_module, collect, expect, load, refuses_python_subclass, skip_module_if_types_crash)
from hpyrs_abi import NATIVE

skip_module_if_types_crash()


@pytest.fixture(scope="session")
def protocols_so():
    return built_module("HPYRS_PROTOCOLS_SO")


@pytest.fixture(scope="session")
def pr(protocols_so, hpy_mode, tmp_path_factory):
    return load("protocols", protocols_so, hpy_mode, tmp_path_factory)


def gen(*items):
    yield from items


class WithIter:
    """A Python class iterable through `__iter__`."""

    def __init__(self, *items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


class OldSequence:
    """Iterable through the sequence protocol only (`__getitem__` until IndexError)."""

    def __getitem__(self, i):
        if i >= 3:
            raise IndexError(i)
        return i * 10


def raising_midway():
    yield 1
    yield 2
    raise ValueError("boom")


# ---- Handle::iter ----

def test_iter_over_any_iterable(pr):
    assert pr.items([1, 2, 3]) == [1, 2, 3]
    assert pr.items((4, 5)) == [4, 5]
    assert sorted(pr.items({3, 1, 2})) == [1, 2, 3]
    assert pr.items({"a": 1, "b": 2}) == ["a", "b"]  # a dict iterates its keys
    assert pr.items({"a": 1}.items()) == [("a", 1)]
    assert pr.items(gen(7, 8)) == [7, 8]
    assert pr.items(WithIter("x", "y")) == ["x", "y"]
    assert pr.items(OldSequence()) == [0, 10, 20]
    assert pr.items(iter([1])) == [1]
    assert pr.items("ab") == ["a", "b"]
    assert pr.items(range(0)) == []
    assert pr.items(b"\x01\x02") == [1, 2]


def test_iter_error_midway_propagates_and_ends(pr):
    with pytest.raises(ValueError, match="^boom$"):
        pr.sum_iter(raising_midway())
    with pytest.raises(ValueError, match="^boom$"):
        pr.items(raising_midway())
    # The error is yielded once; the Rust iterator ends after it.
    assert pr.items_before_error(raising_midway()) == ([1, 2], True, True)
    assert pr.items_before_error([1]) == ([1], False, True)


def test_iter_not_iterable(pr):
    with pytest.raises(TypeError, match="^'int' object is not iterable$"):
        pr.items(5)
    with pytest.raises(TypeError, match="^'NoneType' object is not iterable$"):
        pr.items(None)

    class IterRaises:
        def __iter__(self):
            raise KeyError("from __iter__")

    with pytest.raises(KeyError, match="from __iter__"):
        pr.items(IterRaises())


def test_iter_item_errors(pr):
    with pytest.raises(TypeError):
        pr.sum_iter([1, "2"])


# ---- Vec<T> from any iterable ----

def test_vec_from_any_iterable(pr):
    assert pr.total([1, 2, 3]) == 6
    assert pr.total((1, 2)) == 3
    assert pr.total(x for x in [1, 2, 3]) == 6
    assert pr.total({1, 2, 3}) == 6
    assert pr.total(frozenset({4})) == 4
    assert pr.total(iter([5, 6])) == 11
    assert pr.total(WithIter(1, 2)) == 3
    assert pr.total(OldSequence()) == 30
    assert pr.total(range(5)) == 10
    assert pr.total({"a": 1, "b": 2}.values()) == 3
    assert pr.total(map(abs, [-1, -2])) == 3
    assert pr.strings(gen("a", "b")) == ["a", "b"]
    assert pr.strings({"k": 1}.keys()) == ["k"]
    assert pr.nested([(1, 2), {3}, gen(4)]) == [[1, 2], [3], [4]]
    assert pr.byte_values(b"ab") == b"ab"
    assert pr.byte_values(gen(1, 2)) == b"\x01\x02"
    assert pr.byte_values(bytearray(b"xy")) == b"xy"


def test_vec_an_iterator_is_consumed(pr):
    it = iter([1, 2, 3])
    assert pr.total(it) == 6
    assert list(it) == []


def test_vec_refuses_str_and_dict(pr):
    with pytest.raises(TypeError, match=r"^strings\(\) argument 'xs': can't extract a str to a Vec$"):
        pr.strings("abc")
    with pytest.raises(TypeError, match=r"^total\(\) argument 'xs': can't extract a dict to a Vec: "
                                        r"pass its \.keys\(\), \.values\(\) or \.items\(\)$"):
        pr.total({1: 2})

    class D(dict):
        pass

    with pytest.raises(TypeError, match=r"can't extract a dict to a Vec"):
        pr.total(D(a=1))
    with pytest.raises(TypeError, match=r"^nested\(\) argument 'xs': item 0: .*can't extract a str to a Vec$"):
        pr.nested(["ab"])


def test_vec_bad_input(pr):
    # (Item errors name the argument and the item; the rest of their wording is the conversion's.)
    with pytest.raises(TypeError, match=r"^total\(\) argument 'xs' must be iterable, not int$"):
        pr.total(5)
    with pytest.raises(TypeError, match=r"^total\(\) argument 'xs' must be iterable, not NoneType$"):
        pr.total(None)
    with pytest.raises(TypeError, match=r"^total\(\) argument 'xs': item 1: .*\bstr\b"):
        pr.total(gen(1, "2"))
    with pytest.raises(TypeError, match=r"^total\(\) argument 'xs': item 0: .*\bstr\b"):
        pr.total({"a"})
    with pytest.raises(OverflowError, match=r"^byte_values\(\) argument 'xs': item 1: .*\bu8\b"):
        pr.byte_values(gen(1, 256))
    with pytest.raises(ValueError, match="^boom$"):
        pr.total(raising_midway())

    class IterRaises:
        def __iter__(self):
            raise TypeError("my own TypeError")

    # A TypeError of the object's own __iter__ is not mistaken for "not iterable".
    with pytest.raises(TypeError, match="^my own TypeError$"):
        pr.total(IterRaises())

    class IterNone:
        __iter__ = None

    with pytest.raises(TypeError, match="object is not iterable"):
        pr.total(IterNone())


# ---- iterator classes: __iter__ and __next__ ----

def test_range_iterator(pr):
    r = pr.Range(0, 3)
    assert iter(r) is r
    assert next(r) == 0
    assert r.remaining() == 2
    assert list(r) == [1, 2]
    assert list(pr.Range(2, 5)) == [2, 3, 4]
    assert [x for x in pr.Range(0, 4)] == [0, 1, 2, 3]
    assert sum(pr.Range(1, 101)) == 5050
    assert list(zip(pr.Range(0, 3), "abc")) == [(0, "a"), (1, "b"), (2, "c")]
    assert list(itertools.islice(pr.Range(0, 10**9), 3)) == [0, 1, 2]
    assert next(pr.Range(0, 0), "default") == "default"
    assert sorted(pr.Range(0, 3), reverse=True) == [2, 1, 0]
    assert 2 in pr.Range(0, 3)  # `in` iterates
    a, b = pr.Range(5, 7)
    assert (a, b) == (5, 6)


@pytest.mark.reenters
def test_rust_iterators_iterated_from_rust(pr):
    assert pr.items(pr.Range(0, 2)) == [0, 1]  # Handle::iter over a Rust iterator
    assert pr.total(pr.Range(0, 4)) == 6  # and Vec<T>
    assert pr.strings(pr.Bag(["a", "b"])) == ["a", "b"]
    with pytest.raises(ValueError, match="^failed at 3$"):
        pr.total(pr.Failing(3))
    assert pr.items_before_error(pr.Failing(2)) == ([0, 1], True, True)
    with pytest.raises(TypeError, match="non-iterator"):
        pr.total(pr.NotAnIterator())


def test_exhaustion_is_repeated(pr):
    r = pr.Range(0, 1)
    assert next(r) == 0
    for _ in range(3):
        with pytest.raises(StopIteration) as info:
            next(r)
        assert info.value.args == ()  # a bare StopIteration: `yield from` gives None
    assert list(r) == []
    assert next(r, None) is None


def test_yield_from_a_rust_iterator(pr):
    def delegate():
        result = yield from pr.Range(0, 2)
        yield ("result", result)

    assert list(delegate()) == [0, 1, ("result", None)]


def test_container_with_separate_iterator(pr):
    bag = pr.Bag(["a", "b", "c"])
    it = iter(bag)
    assert type(it) is pr.BagIter
    assert it is not iter(bag)
    assert iter(it) is it
    assert next(it) == "a"
    assert list(it) == ["b", "c"]
    assert list(it) == []
    assert list(bag) == ["a", "b", "c"]  # a fresh iterator each time
    assert list(bag) == ["a", "b", "c"]
    assert ",".join(bag) == "a,b,c"
    assert dict(zip(bag, pr.Range(0, 3))) == {"a": 0, "b": 1, "c": 2}
    assert list(pr.Bag([])) == []


def test_error_in_next_propagates(pr):
    f = pr.Failing(2)
    assert next(f) == 0
    assert next(f) == 1
    with pytest.raises(ValueError, match="^failed at 2$"):
        next(f)
    assert next(f) == 3  # an iterator may go on after an error: Python leaves that to it
    with pytest.raises(ValueError, match="^failed at 1$"):
        list(pr.Failing(1))
    with pytest.raises(ValueError, match="^failed at 0$"):
        for _ in pr.Failing(0):
            pass


def test_iter_returning_a_non_iterator(pr):
    obj = pr.NotAnIterator()
    # (PyPy's message does not name the type, for a Python class as well.)
    with pytest.raises(TypeError, match=expect(r"^iter\(\) returned non-iterator of type 'int'$",
                                               r"^iter\(\) returned non-iterator$")):
        iter(obj)
    with pytest.raises(TypeError, match="non-iterator"):
        list(obj)


def test_next_item_errors(pr):
    assert list(pr.Parser(["1", "2"])) == [1, 2]
    with pytest.raises(ValueError, match="^not an int: \"x\"$"):
        list(pr.Parser(["1", "x"]))
    with pytest.raises(OverflowError, match="int out of range for u8$"):
        list(pr.Parser(["300"]))


def test_next_on_a_non_iterator_object(pr):
    with pytest.raises(TypeError, match="object is not an iterator"):
        next(pr.Bag(["a"]))
    with pytest.raises(TypeError):
        next(pr.NotAnIterator())


def test_native_build_uses_the_real_slots(pr):
    # Natively, `__iter__`/`__next__` are tp_iter/tp_iternext slots (CPython adds their slot
    # wrappers); in the universal build, methods that class creation made slots.
    kind = type(pr.Range.__dict__["__next__"]).__name__
    if NATIVE:
        assert kind == "wrapper_descriptor"
    elif not PYPY:
        assert kind == "method_descriptor"
    assert type(pr.Range.__dict__["__iter__"]).__name__ == type(pr.Range.__dict__["__next__"]).__name__


def test_dunders_are_methods_with_checked_receivers(pr):
    r = pr.Range(0, 2)
    assert pr.Range.__next__(r) == 0
    assert pr.Range.__iter__(r) is r
    with pytest.raises(TypeError):
        pr.Range.__next__(pr.Bag([]))
    with pytest.raises(TypeError):
        pr.Range.__next__()
    with pytest.raises(TypeError):
        r.__next__(1)


def test_python_subclass_overrides_next(pr):
    # (`Range` holds only ints: no destructor, so PyPy may subclass it too.)
    class Doubled(pr.Range):
        def __next__(self):
            return 2 * super().__next__()

    d = Doubled(0, 3)
    assert iter(d) is d
    assert list(d) == [0, 2, 4]
    assert list(Doubled(1, 3)) == [2, 4]

    class Plain(pr.Range):
        pass

    assert list(Plain(0, 3)) == [0, 1, 2]
    assert next(Plain(4, 5)) == 4


def test_iterators_are_freed(pr):
    import weakref

    class R(pr.Range):
        pass

    r = R(0, 3)
    ref = weakref.ref(r)
    assert list(r) == [0, 1, 2]
    del r
    collect()
    assert ref() is None


def test_borrow_conflict_is_an_error(pr):
    it = iter(pr.Bag(["a"]))
    # BagIter.__next__ takes `slf: &Handle<Self>` and borrows inside; a plain call works.
    assert next(it) == "a"


# ---- attribute hooks ----

def test_getattr_is_called_only_when_lookup_fails(pr):
    s = pr.Shouter()
    assert s.anything == "ANYTHING"
    assert getattr(s, "x") == "X"
    assert s.hello() == "hello"  # normal lookup first
    assert hasattr(s, "hello")
    assert not hasattr(s, "_private")
    assert getattr(s, "_private", 5) == 5
    with pytest.raises(AttributeError, match="^_private$"):
        s._private
    assert type(s).__name__ == "Shouter"


def test_getattr_setattr_delattr(pr):
    r = pr.Record()
    assert r.size == 0
    r.x = 5
    r.y = -1
    assert r.x == 5 and r.y == -1
    assert r.size == 2
    assert r.names() == ["x", "y"]
    setattr(r, "z", 7)
    assert getattr(r, "z") == 7
    del r.x
    assert r.names() == ["y", "z"]
    with pytest.raises(AttributeError, match="^'Record' object has no attribute 'x'$"):
        r.x
    with pytest.raises(AttributeError, match="^'Record' object has no attribute 'x'$"):
        del r.x
    assert getattr(r, "missing", None) is None
    assert not hasattr(r, "missing")
    with pytest.raises(AttributeError, match="^'size' is read-only$"):
        r.size = 3


def test_setattr_bad_input(pr):
    r = pr.Record()
    with pytest.raises(TypeError, match=r"^__setattr__\(\) argument 'value' must be int, not str$"):
        r.x = "five"
    with pytest.raises(OverflowError):
        r.x = 2**64
    with pytest.raises(TypeError):
        setattr(r, 5, 1)  # attribute names are strings
    assert r.names() == []
    with pytest.raises(TypeError):
        pr.Record.__setattr__(pr.Shouter(), "x", 1)
    with pytest.raises(TypeError):
        pr.Record.__getattr__(r)


def test_getattr_in_a_python_subclass(pr):
    if refuses_python_subclass(pr.Record):
        return

    class Sub(pr.Record):
        def __getattr__(self, name):
            return "sub:" + name

    s = Sub()
    assert s.foo == "sub:foo"
    s.a = 1  # the Rust __setattr__ is inherited
    assert s.names() == ["a"]
    assert s.a == "sub:a"  # the Python override answers


# ---- descriptors ----

def test_data_descriptor(pr):
    class Host:
        x = pr.Scaled(10)

        def __init__(self, base):
            self.base = base

    h = Host(2)
    assert h.x == 20
    h.x = 55
    assert h.base == 5
    assert h.x == 50
    assert isinstance(Host.x, pr.Scaled)  # from the class: the descriptor itself
    assert Host.__dict__["x"].factor == 10
    h.__dict__["x"] = 99  # a data descriptor wins over the instance's dict
    assert h.x == 50
    del h.x
    assert not hasattr(h, "base")
    with pytest.raises(AttributeError):
        h.x  # no base
    with pytest.raises(TypeError, match=r"^__set__\(\) argument 'value' must be int, not str$"):
        h.x = "many"


def test_non_data_descriptor(pr):
    class Host:
        d = pr.Default(7)

    h = Host()
    assert h.d == (True, 7)
    assert Host.d == (False, 7)
    h.d = "own"  # no __set__: the instance's dict takes it and wins
    assert h.d == "own"
    del h.d
    assert h.d == (True, 7)


def test_descriptor_dunders_called_directly(pr):
    s = pr.Scaled(3)

    class O:
        base = 4

    assert s.__get__(O(), O) == 12
    assert s.__get__(None, O) is s
    with pytest.raises(TypeError):
        s.__get__()


# ---- stubs and docs ----

def test_dunder_docs(pr):
    if not PYPY:
        assert pr.Range.__next__.__text_signature__ == "($self, /)"
