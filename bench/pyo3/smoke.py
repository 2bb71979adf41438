"""Smoke test of the bench_pyo3 extension: checks every item of the benchmark's Python API, and
the workloads against their specification (bench/workloads.py's `check`).

Usage: python bench/pyo3/smoke.py <outdir>   (the directory build.sh copied the module to)
"""

import os
import sys


def expect_type_error(f, *args, **kwargs):
    try:
        f(*args, **kwargs)
    except TypeError:
        return
    raise AssertionError(f"{f!r}(*{args!r}, **{kwargs!r}) did not raise TypeError")


def main(outdir):
    sys.path.insert(0, outdir)
    import bench_pyo3 as m

    # The module under test, not some other bench_pyo3 on sys.path.
    assert os.path.samefile(os.path.dirname(m.__file__), outdir), m.__file__

    # Module functions.
    assert m.noargs() is None
    expect_type_error(m.noargs, 1)

    assert m.onearg(object()) is None
    assert m.onearg(1) is None
    expect_type_error(m.onearg)

    assert m.varargs(1, 2) is None
    expect_type_error(m.varargs, 1)
    expect_type_error(m.varargs, a=1, b=2)  # positional-only

    assert m.keywords(a=1, b=2) is None
    assert m.keywords(b=2, a=1) is None
    assert m.keywords(1, 2) is None
    assert m.keywords(1, b=2) is None
    expect_type_error(m.keywords, a=1)  # both required
    expect_type_error(m.keywords, b=2)

    assert m.add_ints(1, 2) == 3
    assert m.add_ints(-5, 2**40) == 2**40 - 5
    assert type(m.add_ints(1, 2)) is int
    expect_type_error(m.add_ints, a=1, b=2)  # positional-only
    expect_type_error(m.add_ints, 1.5, 2)

    def f(*args, **kwargs):
        return args, kwargs

    assert m.call_with_tuple(f, (1, 2)) == ((1, 2), {})
    assert m.call_with_tuple(f, ()) == ((), {})
    assert m.call_with_tuple(len, ("abc",)) == 3
    expect_type_error(m.call_with_tuple, f, [1, 2])  # args must be a tuple

    assert m.call_with_tuple_and_dict(f, (1,), {"x": 2}) == ((1,), {"x": 2})
    assert m.call_with_tuple_and_dict(f, (), {}) == ((), {})
    expect_type_error(m.call_with_tuple_and_dict, f, (), [])  # kwargs must be a dict

    class Boom(Exception):
        pass

    def raiser(*args, **kwargs):
        raise Boom

    for call in (lambda: m.call_with_tuple(raiser, ()),
                 lambda: m.call_with_tuple_and_dict(raiser, (), {})):
        try:
            call()
        except Boom:
            pass
        else:
            raise AssertionError("exception from the callee was not propagated")

    i1, i2 = m.allocate_int(), m.allocate_int()
    assert i1 == 2048 and type(i1) is int
    assert i1 is not i2  # a new object each call (outside the small-int cache)

    t = m.allocate_tuple()
    assert t == (2048, 2049) and type(t) is tuple

    T1, T2 = m.make_type(), m.make_type()
    assert isinstance(T1, type) and isinstance(T2, type)
    assert T1 is not T2  # a new heap type on every call
    assert T1.__name__ == "DynamicType", T1.__name__
    assert T1.__module__ == "bench_pyo3", T1.__module__
    assert T1.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE
    assert T1.__mro__ == (T1, object)
    del T1, T2
    for _ in range(1000):  # created and freed repeatedly without trouble
        m.make_type()

    # Class Foo.
    Foo = m.Foo
    assert isinstance(Foo, type) and Foo.__name__ == "Foo"
    foo = Foo()
    expect_type_error(Foo, 1)
    assert foo.noargs() is None
    assert foo.onearg(object()) is None
    assert foo.varargs(1, 2) is None
    expect_type_error(foo.varargs, a=1, b=2)  # positional-only
    assert foo.field() == 42 and type(foo.field()) is int
    assert foo.value == 42 and type(foo.value) is int
    try:
        foo.value = 1
    except AttributeError:
        pass
    else:
        raise AssertionError("Foo.value is writable")
    assert foo.value == 42
    assert len(foo) == 42
    assert foo[0] == 0 and foo[7] == 7 and foo[-3] == -3
    assert foo[2**40] == 2**40

    # The workloads (Array, decode, encode): the specification's own check, against the plain
    # Python reference.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import workloads

    workloads.check({"python": workloads.PythonModule, "pyo3": m})

    print(f"bench_pyo3 smoke test passed ({m.__file__})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <outdir>")
    main(sys.argv[1])
