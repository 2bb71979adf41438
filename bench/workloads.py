"""The realistic workloads of `make bench`: small programs, not single calls, run on the same
module written four ways (bench/c/bench_capi.c, bench/c/bench_chpy.c, bench/hpyrs, bench/pyo3).

This file is the one definition of what each variant implements, of the Python code that drives
it (the same for every variant), and of the check that all variants behave alike (`check`: same
results, bit for bit, and the same exception types for bad input). bench/run.py measures
WORKLOADS as it measures its micro-operations; `make test` runs `check` (bench/check.sh).

(a) `Array`: an immutable 1-D array of C doubles, the shape of HPy's showcase ports.
    Array(seq)        seq a list or a tuple (anything else: TypeError); each item converted as
                      float() would for a float or an int (PyFloat_AsDouble / HPyFloat_AsDouble;
                      a str: TypeError). Array([]) is an empty array.
    len(a)            the number of elements
    a[i]              the element as a float; i an int, negative counts from the end (a[-1] is
                      the last); out of range: IndexError; a non-int index: TypeError
    for v in a        iterates the elements through the sequence protocol (sq_item and
                      sq_length in C: no __iter__ of its own)
    a + b, a - b, a * b
                      element-wise, a new Array. Each operand is an Array, a float or an int
                      (at least one is an Array: reflected forms 2.0 * a, 1 + a, 1 - a too).
                      Two arrays of different lengths: ValueError. Any other operand (a str,
                      None, a list): NotImplemented, so Python raises its TypeError.
    a.sum()           the elements added left to right from 0.0, a float
    Not subclassable, no other attributes needed. No __eq__ (identity), no __repr__ needed.

(b) A binary codec, the shape of a decoder and an encoder (msgpack-like, little-endian):
      b"N" None   b"T" True   b"F" False
      b"i" + 8 bytes: an int, a signed 64-bit integer
      b"d" + 8 bytes: a float, an IEEE double
      b"s" + u32 n + n bytes: a str, n bytes of UTF-8
      b"l" + u32 n + n values: a list
      b"m" + u32 n + n (key, value) pairs: a dict, keys str values (written as b"s" values)
    decode(buf)       buf a bytes object (anything else: TypeError) holding exactly one value;
                      returns it built from dicts, lists, strs, floats, ints, bools and None.
                      Truncated input, an unknown tag, bytes left over after the value, a dict
                      key that is not a str, a list or dict inside 100 others (MAX_DEPTH), invalid
                      UTF-8: ValueError (UnicodeDecodeError is one). A count is never trusted
                      for an allocation before the bytes left can hold it (every value takes
                      at least one byte): b"l\xff\xff\xff\xff" is truncated, not 4 G items.
    encode(obj)       the bytes of obj, so that decode(encode(obj)) == obj. True and False and
                      None as their tags; int (any subclass but bool) as b"i" (outside the
                      64-bit range: OverflowError); float as b"d"; str as b"s"; list and tuple
                      as b"l"; dict as b"m" with its items in the dict's order (a key that is not
                      a str: TypeError). Any other type: TypeError. A list, tuple or dict inside 100
                      others (a list that contains itself, say): ValueError.
    The order of the checks in encode: None, True, False (by identity), then int, float, str,
    list, tuple, dict (each accepting subclasses, as PyLong_Check etc. do).
"""

import math
import struct

# A list, tuple or dict inside this many others is refused (ValueError), by encode and decode.
MAX_DEPTH = 100

# op name -> (statement, setup), as run.py's OPS: in the setup, `m` is the module and `w` this
# file. Sizes are those of a small real program: a few bodies, a record list of a few KB.
WORKLOADS = {
    "array a + b": ("a + b", "a = m.Array(w.numbers(8)); b = m.Array(w.numbers(8, 1))"),
    "array a * 2.0": ("a * 2.0", "a = m.Array(w.numbers(8))"),
    "array 2.0 * a": ("2.0 * a", "a = m.Array(w.numbers(8))"),
    "array a + 'x' (error)": ("w.type_error(a)", "a = m.Array(w.numbers(8))"),
    "array a[i], a[-1]": ("a[3]; a[-1]", "a = m.Array(w.numbers(8))"),
    "array sum(iter(a))": ("sum(a)", "a = m.Array(w.numbers(64))"),
    "array rk4 (4 bodies)": ("w.rk4(m.Array, 4, 10)", ""),
    "decode (40 records)": ("decode(buf)", "decode = m.decode; buf = w.document_bytes()"),
    "encode (40 records)": ("encode(doc)", "encode = m.encode; doc = w.document()"),
}


def numbers(n, offset=0):
    """n floats, not all integral, the same on every run."""
    return [((i + offset) * 7 % 11) / 4.0 - 1.0 for i in range(n)]


def type_error(a):
    """a + 'x': the operator's NotImplemented path, ending in Python's TypeError."""
    try:
        a + "x"
    except TypeError:
        return
    raise AssertionError("a + 'x' did not raise TypeError")


def rk4(Array, bodies, steps, dt=0.01):
    """A classical Runge-Kutta integration of `bodies` damped oscillators (x'' = -k x - c x'),
    positions and velocities as Arrays: array-array, array-scalar and reflected arithmetic in
    the shape of a numerical code. Returns the final (positions, velocities) as lists."""
    k, c = 4.0, 0.1
    x = Array([1.0 + 0.5 * i for i in range(bodies)])
    v = Array([0.0] * bodies)

    def accel(x, v):
        return -k * x - c * v

    for _ in range(steps):
        k1x, k1v = v, accel(x, v)
        k2x = v + 0.5 * dt * k1v
        k2v = accel(x + 0.5 * dt * k1x, k2x)
        k3x = v + 0.5 * dt * k2v
        k3v = accel(x + 0.5 * dt * k2x, k3x)
        k4x = v + dt * k3v
        k4v = accel(x + dt * k3x, k4x)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return list(x), list(v)


def document(records=40):
    """A list of records as a decoder would build them: dicts of str, int, float, bool, None,
    lists of str and of float, and a nested dict (40 records: 8.9 KB encoded)."""
    out = []
    for i in range(records):
        out.append({
            "id": i * 7919 - 100000,
            "name": "record-%d-%s" % (i, "é" if i % 3 == 0 else "e"),
            "score": i / 7.0,
            "active": i % 2 == 0,
            "parent": None if i % 5 else i // 5,
            "tags": ["t%d" % (i % 4), "shared", "ünïcode"][: 1 + i % 3],
            "position": [i * 0.5, -i * 0.25, 1e-3 * i],
            "meta": {"created": 1700000000 + i, "ratio": 1.0 / (i + 1)},
        })
    return out


def reference_encode(obj, depth=0):
    """The format in plain Python: what every variant's encode must give, bit for bit. `depth`:
    the lists, tuples and dicts around obj."""
    if obj is None:
        return b"N"
    if obj is True:
        return b"T"
    if obj is False:
        return b"F"
    if isinstance(obj, int):
        if not -2**63 <= obj < 2**63:
            raise OverflowError("int out of the 64-bit range")
        return b"i" + struct.pack("<q", obj)
    if isinstance(obj, float):
        return b"d" + struct.pack("<d", obj)
    if isinstance(obj, str):
        data = obj.encode("utf-8")
        return b"s" + struct.pack("<I", len(data)) + data
    if isinstance(obj, (list, tuple, dict)) and depth >= MAX_DEPTH:
        raise ValueError("nested too deeply")
    if isinstance(obj, (list, tuple)):
        return b"l" + struct.pack("<I", len(obj)) + b"".join(reference_encode(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        parts = [b"m", struct.pack("<I", len(obj))]
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError("dict key not a str")
            parts += [reference_encode(key, depth + 1), reference_encode(value, depth + 1)]
        return b"".join(parts)
    raise TypeError("cannot encode %s" % type(obj).__name__)


_DOCUMENT_BYTES = None


def document_bytes():
    global _DOCUMENT_BYTES
    if _DOCUMENT_BYTES is None:
        _DOCUMENT_BYTES = reference_encode(document())
    return _DOCUMENT_BYTES


def reference_decode(buf):
    """decode in plain Python (the specification's, for `check` to test itself)."""
    if not isinstance(buf, bytes):
        raise TypeError("decode() argument must be bytes")

    def take(pos, n):
        if len(buf) - pos < n:
            raise ValueError("truncated")
        return buf[pos:pos + n], pos + n

    def value(pos, depth):
        tag, pos = take(pos, 1)
        if tag in b"NTF":
            return {b"N": None, b"T": True, b"F": False}[tag], pos
        if tag == b"i":
            raw, pos = take(pos, 8)
            return struct.unpack("<q", raw)[0], pos
        if tag == b"d":
            raw, pos = take(pos, 8)
            return struct.unpack("<d", raw)[0], pos
        if tag == b"s":
            raw, pos = take(pos, 4)
            raw, pos = take(pos, struct.unpack("<I", raw)[0])
            return raw.decode("utf-8"), pos
        if tag in b"lm":
            if depth >= MAX_DEPTH:
                raise ValueError("nested too deeply")
            raw, pos = take(pos, 4)
            n = struct.unpack("<I", raw)[0]
            if n > len(buf) - pos:
                raise ValueError("truncated")
            if tag == b"l":
                out = []
                for _ in range(n):
                    item, pos = value(pos, depth + 1)
                    out.append(item)
                return out, pos
            out = {}
            for _ in range(n):
                key, pos = value(pos, depth + 1)
                if not isinstance(key, str):
                    raise ValueError("dict key not a str")
                out[key], pos = value(pos, depth + 1)
            return out, pos
        raise ValueError("unknown tag %r" % tag)

    result, end = value(0, 0)
    if end != len(buf):
        raise ValueError("bytes left over")
    return result


class PythonArray:
    """Array in plain Python (the specification's, for `check` to test itself)."""

    def __init__(self, seq):
        if not isinstance(seq, (list, tuple)):
            raise TypeError("Array() argument must be a list or a tuple")
        self._v = [float(x) if isinstance(x, (int, float)) else _not_a_number(x) for x in seq]

    def __len__(self):
        return len(self._v)

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError("index must be an int")
        if not -len(self._v) <= i < len(self._v):
            raise IndexError("Array index out of range")
        return self._v[i]

    def _zip(self, other, op, reflected=False):
        if isinstance(other, PythonArray):
            if len(other._v) != len(self._v):
                raise ValueError("Array lengths differ")
            ys = other._v
        elif isinstance(other, (int, float)):
            ys = [float(other)] * len(self._v)
        else:
            return NotImplemented
        pairs = zip(ys, self._v) if reflected else zip(self._v, ys)
        out = PythonArray([])
        out._v = [op(x, y) for x, y in pairs]
        return out

    def __add__(self, o): return self._zip(o, lambda x, y: x + y)  # noqa: E704
    def __sub__(self, o): return self._zip(o, lambda x, y: x - y)  # noqa: E704
    def __mul__(self, o): return self._zip(o, lambda x, y: x * y)  # noqa: E704
    def __radd__(self, o): return self._zip(o, lambda x, y: x + y, True)  # noqa: E704
    def __rsub__(self, o): return self._zip(o, lambda x, y: x - y, True)  # noqa: E704
    def __rmul__(self, o): return self._zip(o, lambda x, y: x * y, True)  # noqa: E704

    def sum(self):
        total = 0.0
        for x in self._v:
            total += x
        return total


def _not_a_number(x):
    raise TypeError("must be real number, not %s" % type(x).__name__)


class PythonModule:
    """The specification as a module: `check({"python": PythonModule, ...})` tests check itself."""
    Array = PythonArray
    decode = staticmethod(reference_decode)
    encode = staticmethod(reference_encode)


def _same(a, b):
    """Equal, and floats bit for bit (NaN == NaN, 0.0 != -0.0), with equal types throughout."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _raises(f, *args):
    """The kind of exception f(*args) raises: the first of these classes it is an instance of
    (a UnicodeDecodeError is a ValueError), else its own type; None if it returns."""
    try:
        f(*args)
    except Exception as e:  # noqa: BLE001 - the type is the result
        return next((kind for kind in (IndexError, OverflowError, TypeError, ValueError) if isinstance(e, kind)),
                    type(e))
    return None


def _nested(depth):
    """`depth` lists, each inside the one before."""
    obj = []
    for _ in range(depth - 1):
        obj = [obj]
    return obj


def behaviour(m):
    """What a variant does, as plain data: results of every workload and of bad input. `check`
    compares it between variants and with the reference in plain Python."""
    A = m.Array
    a, b = A(numbers(8)), A(numbers(8, 1))
    out = {
        "len": len(a), "empty": len(A([])), "list": list(a), "tuple ctor": list(A(tuple(numbers(3)))),
        "ints": list(A([1, 2, -3])),
        "a+b": list(a + b), "a-b": list(a - b), "a*b": list(a * b),
        "a*2.0": list(a * 2.0), "2.0*a": list(2.0 * a), "a+1": list(a + 1), "1+a": list(1 + a),
        "1-a": list(1 - a), "a-1": list(a - 1),
        "a[3]": a[3], "a[-1]": a[-1], "a[-8]": a[-8], "sum": a.sum(), "sum(iter)": sum(a),
        "iter": [v for v in a], "rk4": rk4(A, 4, 25),
        "errors": [_raises(A, "abc"), _raises(A, [1.0, "x"]), _raises(A, 3), _raises(A, {1.0}),
                   _raises(lambda: a[8]), _raises(lambda: a[-9]), _raises(lambda: a["1"]),
                   _raises(lambda: a[1.0]), _raises(lambda: a + A([1.0])), _raises(lambda: a * A([])),
                   _raises(lambda: a + "x"), _raises(lambda: "x" + a), _raises(lambda: a * None),
                   _raises(lambda: [1.0] - a), _raises(lambda: a + [1.0] * 8)],
        "NotImplemented": [a.__add__("x"), a.__mul__(None), a.__sub__([1.0])],
    }
    doc = document()
    buf = document_bytes()
    bad_values = [object(), {1: 2}, 2**63, -2**63 - 1, b"bytes", {"k": {1.5}}, _nested(101)]
    self_ref = []
    self_ref.append(self_ref)
    out.update({
        "decode": m.decode(buf),
        "encode": m.encode(doc),
        "round trip": m.decode(m.encode(doc)),
        "scalars": [m.decode(m.encode(x)) for x in (None, True, False, 0, -1, 2**63 - 1, -2**63, 0.0, -0.0,
                                                      math.inf, -math.inf, "", "ünï", [], {}, (1, 2))],
        "nan": math.isnan(m.decode(m.encode(math.nan))),
        "deep ok": m.decode(m.encode(_nested(100))) == _nested(100),
        "encode errors": [_raises(m.encode, v) for v in bad_values] + [_raises(m.encode, self_ref)],
        "decode errors": [_raises(m.decode, x) for x in (
            "str", bytearray(b"N"), b"", b"N!", b"x", b"i\x00", b"d" + b"\x00" * 7, b"s\x05\x00\x00\x00abc",
            b"l\x02\x00\x00\x00N", b"m\x01\x00\x00\x00iAAAAAAAAN", b"s\x02\x00\x00\x00\xff\xfe",
            b"l\x01\x00\x00\x00" * 101 + b"N", b"l\xff\xff\xff\xff")],
    })
    return out


def reference():
    """`behaviour` of the specification in plain Python, where it can be written down without an
    Array: the codec's results and the exception types every variant must raise."""
    doc = document()
    return {
        "decode": doc, "encode": document_bytes(), "round trip": doc,
        "encode errors": [TypeError, TypeError, OverflowError, OverflowError, TypeError, TypeError,
                          ValueError, ValueError],
        "decode errors": [TypeError, TypeError] + [ValueError] * 11,
        "errors": [TypeError, TypeError, TypeError, TypeError, IndexError, IndexError, TypeError,
                   TypeError, ValueError, ValueError, TypeError, TypeError, TypeError, TypeError, TypeError],
        "NotImplemented": [NotImplemented] * 3,
    }


def check(mods):
    """Every variant (name -> module) behaves as the specification says and as every other
    variant does, bit for bit. Raises AssertionError naming the variant and the item."""
    ref = reference()
    results = {v: behaviour(m) for v, m in mods.items()}
    first_name, first = next(iter(results.items()))
    for key, want in ref.items():
        got = first[key]
        if key == "encode":
            ok = got == want
        else:
            ok = _same(got, want) if key in ("decode", "round trip") else got == want
        assert ok, "%s: %s is %r, the specification says %r" % (first_name, key, got, want)
    # the array's arithmetic against plain Python floats (the same IEEE operations)
    xs, ys = numbers(8), numbers(8, 1)
    assert first["a+b"] == [x + y for x, y in zip(xs, ys)], first_name
    assert first["2.0*a"] == [2.0 * x for x in xs] and first["1-a"] == [1 - x for x in xs], first_name
    assert first["a[-1]"] == xs[-1] and first["sum"] == sum(xs, 0.0) == first["sum(iter)"], first_name
    for name, res in results.items():
        for key in first:
            assert _same(res[key], first[key]) if key not in ("errors", "encode errors", "decode errors",
                                                              "NotImplemented") else res[key] == first[key], (
                "%s and %s differ in %r: %r != %r" % (name, first_name, key, res[key], first[key]))
    return sorted(results)
