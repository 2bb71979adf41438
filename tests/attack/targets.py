"""What the attack knows about each module: how to build receivers, the allowlists (each entry with
its reason), and the Python references of the differential tests.

Allowlists name targets by id (`module.function`, `module.Class.member`). An entry that names no
existing target is a coverage failure too, so the lists cannot go stale silently.
"""
import collections
import ctypes
import functools
import math
import operator
import os
import re

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------
# allowlists
# ---------------------------------------------------------------------------------------------

# never called: only what would stop the attack itself
EXCLUDED = {
}

# attacked with constrained arguments: {target: ({parameter: strategy factory(S)}, reason)}
# a count that a function loops over: small, or not a valid count at all (negative, past u64)
_LOOP_COUNT = lambda S: st.one_of(st.integers(0, 300).map(str), st.sampled_from(  # noqa: E731
    ["-1", "2**64", "10**400", "None", "1.5", "'3'", "Hostile(index=4)", "Hostile(index=RAISE)", "Sub(int, 2, index=RAISE)"]))
# a size allocated before anything else: small, or too large to allocate (a MemoryError at once)
_ALLOC_SIZE = lambda S: st.one_of(_LOOP_COUNT(S), st.sampled_from(["2**40", "2**61", "2**64 - 1"]))  # noqa: E731
# operands of Python's own operators: up to 2**20 and past 2**62 (see apitest.binop below)
_ARITH = lambda S: st.one_of(  # noqa: E731
    st.integers(-(2**20), 2**20).map(str), st.sampled_from(
        ["0", "-1", "2**63", "-2**63 - 1", "2**64", "2**127", "10**30", "1.5", "float('nan')", "-0.0", "float('inf')",
         "'ab'", "b'xy'", "[1, 2]", "(3,)", "None", "Reflector()", "Hostile(index=3)", "Hostile(float=RAISE)",
         "Sub(int, 5, index=RAISE)", "Sub(float, 2.5)", "True", "{1: 2}", "{1}", "object()", "Hostile(eq=RAISE)"]))
_EXPONENT = lambda S: st.one_of(st.integers(-70, 70).map(str), st.sampled_from(  # noqa: E731
    ["0.5", "-1.5", "float('nan')", "None", "'2'", "Reflector()", "Hostile(index=2)", "Sub(int, 3)", "True"]))
# the files a function that reads any file is given (prepare_files makes them)
_FILES = lambda S: st.sampled_from(  # noqa: E731
    ["TMP + '/utf8.txt'", "TMP + '/latin1.txt'", "TMP + '/empty.txt'", "TMP", "TMP + '/missing'", "''", "'\\x00'",
     "'\\ud800'", "TMP + '/utf8.txt\\x00x'", "Sub(str, TMP + '/utf8.txt', eq=RAISE)", "None", "b'/'", "3",
     "TMP.encode() + b'/latin1.txt'", "b'\\xff'"])
# the operators of stdtypes.inplace, and names it refuses
_INPLACE_OP = lambda S: st.one_of(  # noqa: E731
    st.sampled_from(["'+'", "'-'", "'*'", "'@'", "'//'", "'/'", "'%'", "'<<'", "'>>'", "'&'", "'^'", "'|'", "'**'"]),
    st.sampled_from(["''", "'+='", "'\\ud800'", "None", "b'+'", "Sub(str, '+', eq=RAISE, hash=RAISE)"]))
# its right operand: small (`2**20 ** 2**62` never ends), and the usual suspects
_SMALL_OPERAND = lambda S: st.one_of(st.integers(-70, 70).map(str), st.sampled_from(  # noqa: E731
    ["0.5", "-1.5", "float('nan')", "0.0", "None", "'ab'", "b'x'", "[1]", "(2,)", "{3}", "Reflector()",
     "Hostile(index=2)", "Hostile(index=RAISE)", "Sub(int, 3, index=RAISE)", "True", "object()"]))
# method names for stdtypes.call_method_kw: ones the attack values have (random text names none)
# and text edges; no method whose argument sizes an allocation (`'ab'.center(2**40)`)
_METHOD_NAMES = lambda S: S.weighted((3, st.sampled_from(  # noqa: E731
    ["'append'", "'pop'", "'clear'", "'get'", "'keys'", "'items'", "'update'", "'count'", "'index'", "'split'",
     "'encode'", "'decode'", "'format'", "'bit_length'", "'to_bytes'", "'conjugate'", "'__len__'", "'__getitem__'",
     "'__eq__'", "'__repr__'", "'__init__'", "'__class__'", "'to_list'", "'__next__'", "'__iter__'", "'nope'"])),
    (1, S.texts()))
ARGUMENTS = {
    "apitest.sleep_nogil": ({"ms": lambda S: st.sampled_from(["0", "1", "2", "-1", "2**64", "None", "1.5", "Hostile(index=1)"])},
                            "sleeps `ms` milliseconds: a valid huge value would block the attack for years"),
    "apitest.sum_nogil": ({"n": _LOOP_COUNT}, "loops n times: a valid huge n would run for years"),
    "apitest.builder_new": ({"n": _ALLOC_SIZE}, "allocates n slots: n = 10**9 allocates gigabytes for real"),
    "apitest.list_of_nones": ({"n": _ALLOC_SIZE}, "allocates n slots, then fills them: as builder_new"),
    "apitest.make_tuple": ({"n": _LOOP_COUNT}, "makes n ints one by one first: as sum_nogil"),
    "apitest.list_builder": ({"n": _ALLOC_SIZE}, "allocates n slots: as builder_new"),
    "apitest.tuple_builder": ({"n": _ALLOC_SIZE}, "allocates n slots: as builder_new"),
    "apitest.builder_in_order": ({"n": _ALLOC_SIZE}, "allocates n slots: as builder_new"),
    "apitest.panics_holding_handles": ({"n": _LOOP_COUNT}, "opens n handles one by one first: as sum_nogil"),
    "apitest.tracker": ({"capacity": _ALLOC_SIZE, "n": _LOOP_COUNT}, "allocates capacity, then opens n handles"),
    "apitest.leak_bytes_on_purpose": ({"n": lambda S: st.sampled_from(["0", "1", "3", "-1", "None", "'3'", "2**64"])},
                                      "leaks n bytes on purpose, and a huge n aborts by design (Rust's "
                                      "allocation failure); the leak is for tools/soak.py"),
    "apitest.read_file": ({"path": _FILES}, "reads any file: /dev/zero or a fifo would never end; reads prepared files instead"),
    "apitest.import": ({"name": lambda S: st.sampled_from(
        ["'math'", "'json'", "'os.path'", "'no_such_module_hpyrs'", "'math.nope'", "''", "'.'", "'..x'", "'\\ud800'",
         "'a\\x00b'", "Sub(str, 'math', eq=RAISE, hash=RAISE)", "None", "b'math'", "3"])},
                       "imports any module: some have effects on import (antigravity opens a browser)"),
    "apitest.binop": ({"a": _ARITH, "b": _ARITH}, "Python's own operators on huge operands allocate "
                      "gigabytes (`'ab' * 2**33`, `1 << 2**35`): operands up to 2**20 and past 2**62"),
    "apitest.binop_i64": ({"a": _ARITH, "b": _ARITH}, "as binop"),
    "apitest.pow": ({"a": _ARITH, "b": _EXPONENT}, "pow(10**400, 10**400) never ends: small exponents"),
    "apitest.pow_i64": ({"a": _ARITH, "b": _EXPONENT}, "as pow"),
    "apitest.unop": ({"a": _ARITH}, "as binop"),
    "errors.read": ({"path": _FILES}, "reads any file: as apitest.read_file"),
    "errors.drop_unraised": ({"n": _LOOP_COUNT}, "makes and drops n errors: a valid huge n would run for hours"),
    "errors.read_named": ({"path": _FILES}, "reads any file: as apitest.read_file"),
    "stdtypes.range_set": ({"n": _LOOP_COUNT}, "makes n ints: a valid huge n would run for years (or abort on the "
                           "allocation Rust makes for it)"),
    "stdtypes.slice_positions": ({"length": _LOOP_COUNT}, "collects up to `length` positions into a Vec: a huge "
                                 "length is a huge allocation (Rust aborts when it fails)"),
    "stdtypes.inplace": ({"a": _ARITH, "op": _INPLACE_OP, "b": _SMALL_OPERAND},
                         "Python's own in-place operators on huge operands never end or allocate gigabytes "
                         "(`x **= 2**62`, `s *= 2**33`): as apitest.binop, with the right operand small"),
    "stdtypes.call_method_kw": ({"name": _METHOD_NAMES}, "calls any method of any object by name: some allocate "
                                "by their argument ('ab'.center(2**40)); names the attack values have instead"),
}

# may panic (the panic must arrive as RuntimeError "Rust panic: ..."): {target: (regex, reason)}
PANICS = {
    "quickstart.panics": (r"^Rust panic: this is a Rust panic$", "panics on purpose: the example of a caught panic"),
    "apitest.panics": (r"^Rust panic: ", "panics on purpose with the given message"),
    "apitest.panics_static": (r"^Rust panic: a static panic$", "panics on purpose"),
    "apitest.panics_any": (r"^Rust panic: Box<dyn Any>$", "panics on purpose with a non-string payload"),
    "apitest.panics_holding_handles": (r"^Rust panic: panicking with \d+ open handles$", "panics on purpose"),
    "apitest.panic_nogil": (r"^Rust panic: panic without the GIL$", "panics on purpose inside allow_threads"),
    "apitest.list_builder": (r"^Rust panic: ListBuilder index \d+ out of range for length \d+$",
                             "documented: items beyond n panic in ListBuilder::set"),
    "apitest.tuple_builder": (r"^Rust panic: TupleBuilder index \d+ out of range for length \d+$",
                              "documented: items beyond n panic in TupleBuilder::set"),
    "apitest.builder_in_order": (r"^Rust panic: (List|Tuple)Builder index \d+ out of range for length \d+$",
                                 "documented: an index of `order` past n panics in ListBuilder/TupleBuilder::set"),
}

# raise SystemError on purpose: {target: (regex, reason)}
SYSTEM_ERRORS = {
    "apitest.list_builder": (r"^ListBuilder item \d+ was never set$", "documented: fewer items than n"),
    "apitest.tuple_builder": (r"^TupleBuilder item \d+ was never set$", "documented: fewer items than n"),
    "apitest.builder_in_order": (r"^(List|Tuple)Builder item \d+ was never set$", "documented: `order` misses an index below n"),
    "apitest.pending_without_exception": (r"", "returns Error::pending() with nothing pending on purpose"),
    "apitest.exception_from_misused_global": (r"", "documented: a global holding a non-type used as an exception type"),
    "apitest.restore_then_pending": (r"", "raises the exception type it is given by name, SystemError included"),
    "apitest.raise_error": (r"", "raises the exception type it is given by name, SystemError included"),
    "apitest.raise_new": (r"", "raises the exception type it is given by name, SystemError included"),
    "apitest.exception_type": (r"", "the 'NeverSet' global: an exception type never stored"),
    "errors.into_value_without_exception": (r"without setting a Python exception",
                                            "documented: taking the exception when none is pending"),
}

# may raise a BaseException that is not an Exception: {target: (types, reason)}
BASE_EXCEPTIONS = {
    "apitest.raise_error": (BaseException, "raises the exception type it is given by name (BaseException, SystemExit)"),
    "apitest.raise_new": (BaseException, "as raise_error"),
    "apitest.restore_then_pending": (BaseException, "as raise_error"),
    "apitest.exception_from_misused_global": (BaseException, "raises the type stored in its global"),
    "errors.raise_value": (BaseException, "raises the object it is given (the class BaseException among them)"),
}

# leak handles on purpose (debug mode would see them)
LEAKS = {
    "rawadd.leak": "leaks one handle on purpose: the proof that the leak detector works",
    "apitest.leak_one": "leaks one handle on purpose (mem::forget)",
}

# may report unraisable exceptions of their own
UNRAISABLE = {
    "apitest.make_panicky_capsule": "its capsule's payload panics on purpose when the capsule is freed",
}

# make an instance of one of the module's HPy classes that their stub's return type does not
# name (they raise it, drop it, or compare it): skipped where instantiating one crashes (worker.TYPES_CRASH)
INSTANTIATES = {
    "errors.raise_line_error": "raises a LineError (an exception holding an HPy class instance)",
    "errors.raise_line_error_with_args": "raises a LineError",
    "errors.line_error_from_thread": "raises a LineError",
    "errors.line_error_with_cause": "raises a LineError",
    "errors.drop_unraised": "makes LineErrors and drops them",
    "errors.line_error_rust_side": "makes LineErrors and a Fault",
    "errors.raise_fault": "raises a Fault",
    "errors.fault": "returns a Fault (the class renamed from RustFault, the name its stub gives the return type)",
}

# not called from inside callbacks (re-entry actions): they panic, leak or block on purpose
NOT_REENTERED = set(PANICS) | set(LEAKS) | set(ARGUMENTS) | set(SYSTEM_ERRORS) | set(BASE_EXCEPTIONS) | {
    "apitest.make_panicky_capsule", "quickstart.sum_of_squares", "apitest.warn",
}

# ---------------------------------------------------------------------------------------------
# receivers: how to build an instance of each class (source strategies)
# ---------------------------------------------------------------------------------------------


def filled(obj, method, calls):
    """`obj` after `getattr(obj, method)(*args)` for each args tuple of `calls`."""
    for args in calls:
        getattr(obj, method)(*args)
    return obj


def node_tree(Node, depth, width, prefix="n"):
    root = Node(prefix)
    if depth > 0:
        for i in range(width):
            root.add_child(node_tree(Node, depth - 1, width, "%s.%d" % (prefix, i)))
    return root


def node_chain(Node, length):
    """A root with a chain of `length` descendants (deep recursion in size())."""
    root = node = Node("chain")
    for i in range(length):
        child = Node("c%d" % i)
        node.add_child(child)
        node = child
    return root


def node_cycle(Node, length):
    """`length` nodes, each the child of the previous, and an attempt to make the first the child
    of the last (a cycle): the tree may refuse it with ValueError, and then it is a chain."""
    nodes = [Node("cycle%d" % i) for i in range(length)]
    for parent, child in zip(nodes, nodes[1:]):
        parent.add_child(child)
    try:
        nodes[-1].add_child(nodes[0])
    except ValueError:
        pass
    return nodes[0]


def valued(node, value):
    node.value = value
    return node


def with_self(obj, method):
    """`obj` after `getattr(obj, method)(obj)`: an object that holds itself (a reference cycle
    through a Field, which the GC must see)."""
    getattr(obj, method)(obj)
    return obj


def calling_itself(EventBus):
    """A bus whose fallback emits on the same bus: unbounded recursion through Rust frames (a
    RecursionError), and a cycle bus -> fallback -> bus."""
    holder = []
    bus = EventBus(fallback=lambda event: holder[0].emit(event))
    holder.append(bus)
    return bus


def advanced(iterator, n):
    """`iterator` after `n` calls of its own `__next__`."""
    for _ in range(n):
        type(iterator).__next__(iterator)
    return iterator


HELPERS = {"filled": filled, "node_tree": node_tree, "node_chain": node_chain, "node_cycle": node_cycle,
           "valued": valued, "operator": operator, "with_self": with_self, "calling_itself": calling_itself,
           "advanced": advanced, "functools": functools}


def _clean_floats():
    return st.floats(allow_nan=True, allow_infinity=True).map(lambda f: _float_source(f))


def _float_source(f):
    if math.isnan(f):
        return "float('nan')"
    if math.isinf(f):
        return "float('inf')" if f > 0 else "-float('inf')"
    return repr(f)


_I64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([-(2**63), 2**63 - 1, 0, -1]))
_TEXT = st.text(max_size=12).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))

RECEIVERS = {
    "Vector": lambda S: st.one_of(
        st.tuples(_clean_floats(), _clean_floats()).map(lambda xy: "m.Vector(%s, %s)" % xy),
        st.sampled_from(["m.Vector.UNIT_X", "m.Vector.zero()", "m.Vector()", "m.Vector.from_tuple((1.0, -2.0))"])),
    "Point": lambda S: st.one_of(
        st.tuples(_clean_floats(), _clean_floats()).map(lambda xy: "m.Point(%s, %s)" % xy),
        st.tuples(_clean_floats(), _clean_floats()).map(lambda xy: "subclass(m.Point)(%s, %s)" % xy),
        st.just("subclass(m.Point, repr=RAISE, eq=RAISE, len=RAISE)(1.0, 2.0)")),
    "Polyline": lambda S: st.lists(st.tuples(_clean_floats(), _clean_floats()), max_size=5).map(
        lambda pts: "filled(m.Polyline(), 'append', [%s])" % ", ".join("(%s, %s)" % p for p in pts)),
    "Meters": lambda S: st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(lambda f: "m.Meters(%r)" % f),
                                  st.just("m.Meters(-0.0)")),
    "IntList": lambda S: st.one_of(
        st.lists(_I64, max_size=8).map(lambda xs: "m.IntList(%r)" % xs),
        st.lists(_I64, max_size=4).map(lambda xs: "subclass(m.IntList)(%r)" % xs),
        st.just("subclass(m.IntList, len=RAISE, getitem=RAISE, eq=RAISE)([1, 2])"),
        st.just("m.IntList()")),
    "StrMap": lambda S: st.dictionaries(_TEXT, _TEXT, max_size=5).map(lambda d: "m.StrMap(%r)" % d),
    "F64Array": lambda S: st.one_of(
        st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=6).map(lambda xs: "m.F64Array(%r)" % xs),
        st.just("m.F64Array([])"), st.just("m.F64Array([float('nan'), float('inf'), -0.0])")),
    "Counter": lambda S: st.one_of(_I64.map(lambda n: "m.Counter(%r)" % n),
                                   st.just("filled(m.Counter(0), '__call__', [(1,), (2,)])")),
    "Node": lambda S: st.one_of(
        _TEXT.filter(bool).map(lambda n: "m.Node(%r)" % n),
        st.tuples(st.integers(0, 3), st.integers(1, 3)).map(lambda dw: "node_tree(m.Node, %d, %d)" % dw),
        st.sampled_from(["subclass(m.Node)('sub')", "subclass(m.Node, len=RAISE, repr=RAISE)('hooked')",
                         "node_chain(m.Node, 50)", "node_chain(m.Node, 20000)", "node_cycle(m.Node, 2)",
                         "node_cycle(m.Node, 3)", "valued(m.Node('v'), Hostile(eq=RAISE, hash=RAISE, repr=RAISE))",
                         "valued(m.Node('self'), None)"])),
    "Extremes": lambda S: st.sampled_from(["m.Extremes(True)", "m.Extremes(False)", "subclass(m.Extremes)(True)"]),
    "Token": lambda S: st.one_of(_I64.map(lambda n: "m.make_token(%r)" % n)),
    "FrozenBytes": lambda S: st.binary(max_size=16).map(lambda b: "m.FrozenBytes(%r)" % b),
    # protocols: every iterator finite (`list(obj)` and the functions that iterate their argument
    # run it to its end); empty ranges with extreme bounds reach `remaining`'s arithmetic
    "Range": lambda S: st.one_of(
        st.tuples(_I64, st.integers(-3, 12)).map(lambda sk: "m.Range(%d, %d)" % (sk[0], min(sk[0] + sk[1], 2**63 - 1))),
        st.tuples(_I64, _I64).map(lambda ab: "m.Range(%d, %d)" % (max(ab), min(ab))),  # empty
        st.sampled_from(["subclass(m.Range)(0, 4)", "advanced(m.Range(-2, 3), 2)", "m.Range(2**63 - 3, 2**63 - 1)",
                         "subclass(m.Range, len=RAISE, repr=RAISE)(1, 2)"])),
    "Bag": lambda S: st.lists(_TEXT, max_size=5).map(lambda xs: "m.Bag(%r)" % xs),
    "BagIter": lambda S: st.one_of(st.lists(_TEXT, max_size=4).map(lambda xs: "iter(m.Bag(%r))" % xs),
                                   st.just("advanced(iter(m.Bag(['a', 'b'])), 1)")),
    "Failing": lambda S: st.one_of(st.integers(0, 8).map(lambda n: "m.Failing(%d)" % n),
                                   st.sampled_from(["subclass(m.Failing)(2)", "advanced(m.Failing(3), 2)"])),
    "NotAnIterator": lambda S: st.just("m.NotAnIterator()"),
    "Parser": lambda S: st.lists(st.one_of(st.integers(-300, 300).map(str), _TEXT, st.sampled_from(
        ["9223372036854775808", "-9223372036854775809", " 1", "+5", "-0", "1_000", "\u0661"])), max_size=5).map(
        lambda xs: "m.Parser(%r)" % xs),
    "Record": lambda S: st.one_of(
        st.dictionaries(_TEXT, _I64, max_size=4).map(lambda d: "filled(m.Record(), '__setattr__', %r)" % (sorted(d.items()),)),
        st.sampled_from(["m.Record()", "subclass(m.Record)()", "filled(subclass(m.Record)(), '__setattr__', [('a', 1)])",
                         "filled(m.Record(), '__setattr__', [('a', 2**63 - 1), ('b', -2**63)])"])),
    "Shouter": lambda S: st.just("m.Shouter()"),
    "Scaled": lambda S: st.one_of(_I64.map(lambda n: "m.Scaled(%d)" % n), st.sampled_from(["m.Scaled(0)", "m.Scaled(-1)"])),
    "Default": lambda S: _I64.map(lambda n: "m.Default(%d)" % n),
    # errors: exception classes holding a Rust value (Fault has no constructor: made in Rust)
    "LineError": lambda S: st.one_of(
        st.tuples(st.integers(0, 2**64 - 1), _TEXT).map(lambda lm: "m.LineError(%d, %r)" % lm),
        st.sampled_from(["subclass(m.LineError)(1, 'sub')", "m.LineError.at_start('start')",
                         "m.LineError(1, 'x').at_line(2)", "subclass(m.LineError, repr=RAISE, str=RAISE)(3, 'hooked')"])),
    "Fault": lambda S: st.one_of(
        _I64.map(lambda n: "m.fault(%d)" % n),
        st.sampled_from(["with_self(m.fault(1), 'attach')",
                         "filled(m.fault(2), 'attach', [(Hostile(eq=RAISE, hash=RAISE, repr=RAISE),)])"])),
    "Code": lambda S: st.one_of(_I64.map(lambda n: "m.Code(%d)" % n), st.just("subclass(m.Code)(3)")),
    # stdtypes
    "Seq": lambda S: st.one_of(st.lists(_I64, max_size=8).map(lambda xs: "m.Seq(%r)" % xs), st.just("m.Seq([])")),
    # inherit: an instance of a class may be one of its subclasses; fields holding anything,
    # the object itself included (a cycle through a Field)
    "Named": lambda S: st.one_of(
        _TEXT.map(lambda n: "m.Named(%r)" % n),
        _TEXT.map(lambda n: "subclass(m.Named)(%r)" % n),
        st.sampled_from(["m.Circle('c', 1.5)", "m.Ring('r', 2.0, 1.0)", "with_self(m.Named('me'), 'set_tag')",
                         "filled(m.Named('t'), 'set_tag', [(Hostile(eq=RAISE, hash=RAISE, repr=RAISE),)])",
                         "subclass(m.Named, len=RAISE, repr=RAISE)('hooked')"])),
    "Circle": lambda S: st.one_of(
        st.tuples(_TEXT, _clean_floats()).map(lambda nr: "m.Circle(%r, abs(%s))" % nr),
        st.sampled_from(["subclass(m.Circle)('s', 2.0)", "m.Ring('r', 3.0, 0.5)", "m.Circle.tagged('t', 1, None)",
                         "with_self(m.Circle('me', 1.0), 'set_extra')", "with_self(m.Circle('me', 1.0), 'set_tag')",
                         "m.Circle('inf', float('inf'))", "m.Circle('z', -0.0)"])),
    "Ring": lambda S: st.one_of(
        st.tuples(_TEXT, st.floats(0, 1e300), st.floats(0, 1)).map(lambda n_o_f: "m.Ring(%r, %r, %r)" % (
            n_o_f[0], n_o_f[1], n_o_f[1] * n_o_f[2])),
        st.sampled_from(["m.Ring('inf', float('inf'), 1.0)", "with_self(m.Ring('me', 2.0, 1.0), 'set_extra')"])),
    "EventBus": lambda S: st.sampled_from([
        "m.EventBus()", "m.EventBus(fallback=(lambda e: e))", "m.EventBus(None)", "m.EventBus(fallback=m.live_values)",
        "m.EventBus(fallback=Hostile(call=RAISE))", "m.EventBus(fallback=Hostile(call=ESCAPE))",
        "m.EventBus(fallback=str)", "calling_itself(m.EventBus)", "m.EventBus(fallback=3)"]),
}

# a plain valid instance of each class (re-entry actions, buffer detection)
SIMPLE = {
    "Vector": "m.Vector(1.0, 2.0)", "Point": "m.Point(1.0, 2.0)", "Polyline": "filled(m.Polyline(), 'append', [(0.0, 1.0)])",
    "Meters": "m.Meters(2.0)", "IntList": "m.IntList([1, 2])", "StrMap": "m.StrMap({'a': 'b'})",
    "F64Array": "m.F64Array([1.0, 2.0])",
    "Counter": "m.Counter(1)", "Node": "m.Node('x')", "Extremes": "m.Extremes(True)", "Token": "m.make_token(1)",
    "FrozenBytes": "m.FrozenBytes(b'ab')",
    "Range": "m.Range(0, 3)", "Bag": "m.Bag(['a'])", "BagIter": "iter(m.Bag(['a']))", "Failing": "m.Failing(2)",
    "NotAnIterator": "m.NotAnIterator()", "Parser": "m.Parser(['1'])", "Record": "m.Record()", "Shouter": "m.Shouter()",
    "Scaled": "m.Scaled(2)", "Default": "m.Default(1)", "Seq": "m.Seq([1, 2])", "Named": "m.Named('n')",
    "Circle": "m.Circle('c', 1.0)", "Ring": "m.Ring('r', 2.0, 1.0)", "EventBus": "m.EventBus()",
    "LineError": "m.LineError(1, 'x')", "Fault": "m.fault(1)", "Code": "m.Code(1)",
}
SIMPLE_BY_TYPE = {"int": "1", "float": "1.5", "str": "'a'", "bytes": "b'a'", "bool": "True", "list": "[]",
                  "tuple": "()", "dict": "{}", "type": "int", "None": "None", "Any": "1", "set": "{1}",
                  "frozenset": "frozenset()", "slice": "slice(1)", "complex": "1j", "bytearray": "bytearray(b'a')"}

# parameter types of functions without a stub entry: {target: {parameter: annotation}}
ANNOTATIONS = {
    "rawadd.add": ({"a": "int", "b": "int"}, "rawadd is written on hpy-sys alone (no stub); its docstring says "
                   "it adds two 64-bit integers"),
}

# more values any `Any` parameter may get, per module
EXTRA_ANYTHING = {
    "apitest": lambda S: [st.sampled_from(["m.make_capsule(3)", "m.make_string_capsule('s')", "m.ApiError('e')",
                                           "m.ApiError", "m.make_token(2)"])],
    "quickstart": lambda S: [st.sampled_from(["m.QuickstartError('e')", "m.QuickstartError"])],
    "errors": lambda S: [st.sampled_from(["m.ParseError('e')", "m.DeepError('d', 42)", "m.Renamed()", "m.ParseError",
                                          "KeyError('k')", "StopIteration(3)", "OSError(2, 'x')",
                                          "functools.partial(int, 'x')", "(lambda: {}['k'])", "BaseException"])],
    "layout": lambda S: [st.sampled_from(["m.geometry", "m.geometry.RangeError('r')", "m.text"])],
}


def prepare_files(directory):
    """The files apitest.read_file is given (see ARGUMENTS)."""
    with open(os.path.join(directory, "utf8.txt"), "w", encoding="utf-8") as f:
        f.write("héllo\n")
    with open(os.path.join(directory, "latin1.txt"), "wb") as f:
        f.write(b"h\xe9llo\n")
    open(os.path.join(directory, "empty.txt"), "w").close()


# ---------------------------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------------------------

def coverage_problems(module_name, targets, stub):
    """Allowlist entries naming no target of this module, and classes without a receiver."""
    ids = {t.id for t in targets}
    problems = []
    for table_name in ("EXCLUDED", "ARGUMENTS", "ANNOTATIONS", "PANICS", "SYSTEM_ERRORS", "BASE_EXCEPTIONS", "LEAKS", "UNRAISABLE",
                       "REFERENCES", "INSTANTIATES"):
        for target_id in globals()[table_name]:
            if target_id.split(".")[0] == module_name and target_id not in ids:
                problems.append("%s names %s, which the module does not have" % (table_name, target_id))
    for target_id, (params, _) in ARGUMENTS.items():
        for t in targets:
            if t.id == target_id and t.signature is not None:
                missing = set(params) - {p.name for p in t.signature.params}
                if missing:
                    problems.append("ARGUMENTS of %s names parameters it does not have: %s" % (target_id, sorted(missing)))
    for cls in {t.cls for t in targets if t.cls is not None}:
        if cls.__name__ not in RECEIVERS or cls.__name__ not in SIMPLE:
            problems.append("class %s.%s has no receiver in targets.RECEIVERS/SIMPLE: its methods cannot be attacked"
                            % (module_name, cls.__name__))
    return problems


# ---------------------------------------------------------------------------------------------
# differential references
# ---------------------------------------------------------------------------------------------

class NoReference(Exception):
    """Raised by a reference: Python has no answer for these inputs."""


class Context:
    def __init__(self, module, obj, mode, variant):
        self.m, self.obj, self.mode, self.variant = module, obj, mode, variant


class Expect:
    """A reference's answer for a call that changes its receiver: the result and the state the
    receiver must then be in (compared with STATE[class](obj))."""

    def __init__(self, result, state):
        self.result, self.state = result, state


class Reference:
    """`function(context, *args, **kwargs)` answers like the target would; `clean_only`: only for
    clean inputs; `binds`: a call that does not bind to the target's signature is a TypeError
    before the function is asked."""

    def __init__(self, function, clean_only=True, variants=("call", "syntax", "construct", "get", "set", "inplace",
                                                            "delete", "reflected", "tolist"), binds=True):
        self.function, self.clean_only, self.variants, self.binds = function, clean_only, variants, binds


def clean(value, classes=(), depth=0):
    """A value of an exact built-in type (or an exact class of the module), all the way down:
    Python's answer is then unambiguous."""
    t = type(value)
    if t in (int, float, str, bytes, bool, type(None)) or t in classes:
        return True
    if t in (list, tuple) and depth < 4:
        return all(clean(v, classes, depth + 1) for v in value)
    if t is dict and depth < 4:
        return all(clean(k, classes, depth + 1) and clean(v, classes, depth + 1) for k, v in value.items())
    return False


_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def same(a, b):
    """Equal results: same type and value, nan equal to nan, -0.0 distinct from 0.0, addresses in
    reprs ignored; objects of other types compare by type (a fresh copy is never the same object)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, str):
        return _ADDRESS.sub("0x?", a) == _ADDRESS.sub("0x?", b)
    if isinstance(a, (int, bytes, bool, type(None))):
        return a == b
    if isinstance(a, type):
        return a is b or a.__name__ == b.__name__
    return True


def close(a, b):
    """Floats equal to within a few ulps (libm's hypot and Python's math.hypot may differ)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
            return same(a, b)
        return math.isclose(a, b, rel_tol=1e-13, abs_tol=1e-300)
    if isinstance(a, (tuple, list)) and type(a) is type(b) and len(a) == len(b):
        return all(close(x, y) for x, y in zip(a, b))
    return same(a, b)


def _safe(f, value):
    try:
        return f(value)
    except BaseException as e:  # noqa: B902
        return "<%s raised %s>" % (f.__name__, type(e).__name__)


def compare(target, actual, expected, obj, context, reference):
    """Problems (list of str) if `actual` differs from the reference's `expected` Outcome."""
    equal = getattr(reference, "equal", same)
    if expected.error is not None:
        accepted = ACCEPTED_ERRORS.get(type(expected.error), type(expected.error))
        if actual.error is None:
            return ["differs from Python: returned %r where Python raises %s: %s" % (
                actual.value, type(expected.error).__name__, expected.error)]
        if not isinstance(actual.error, accepted):
            return ["differs from Python: raised %s where Python raises %s: %s" % (
                type(actual.error).__name__, type(expected.error).__name__, expected.error)]
        return []
    if actual.error is not None:
        value = expected.value.result if isinstance(expected.value, Expect) else expected.value
        return ["differs from Python: raised %s where Python returns %r" % (type(actual.error).__name__, value)]
    if isinstance(expected.value, Expect):
        problems = []
        if not equal(actual.value, expected.value.result):
            problems.append("differs from Python: returned %r, Python %r" % (actual.value, expected.value.result))
        state = STATE[target.cls.__name__]
        got = _safe(state, obj)
        if not equal(got, expected.value.state):
            problems.append("differs from Python: the object is now %r, Python's model %r" % (got, expected.value.state))
        return problems
    if not equal(actual.value, expected.value):
        return ["differs from Python: returned %r, Python %r" % (actual.value, expected.value)]
    return []


# Error kinds accepted in place of a model's (exception type -> the accepted type or tuple);
# none at present: an integer key out of range is IndexError in hpy-rs and in the models, as
# for a list (see _position)
ACCEPTED_ERRORS = {}

I64 = (-(2**63), 2**63 - 1)
I32 = (-(2**31), 2**31 - 1)
U64 = (0, 2**64 - 1)


def _int_param(value, bounds=I64, what="i64"):
    """What hpy-rs's integer extraction does with a clean value: bool and int convert, others
    raise TypeError, out of range OverflowError."""
    if type(value) not in (int, bool):
        raise TypeError("not an int")
    if not bounds[0] <= value <= bounds[1]:
        raise OverflowError("out of range for %s" % what)
    return int(value)


def _float_param(value):
    if type(value) not in (int, bool, float):
        raise TypeError("not a float")
    return float(value)


def _str_param(value):
    """&str / String extraction: a str or a subclass (read as the plain str it holds, no hook
    runs); lone surrogates cannot be UTF-8: UnicodeEncodeError, as PyUnicode_AsUTF8AndSize."""
    if not isinstance(value, str):
        raise TypeError("not a str")
    value = str.__str__(value)
    value.encode("utf-8")
    return value


def _c_name(value):
    """A name hpy-rs passes to HPy as a C string: documented ValueError for an embedded NUL."""
    value = _str_param(value)
    if "\0" in value:
        raise ValueError("embedded null character")
    return value


def _vec(value, item):
    """Vec<T> extraction of a clean value: hpy-rs takes any sequence but a str or a dict (an
    object with __len__ and __getitem__), bytes as its ints; an instance of the module's classes
    that is a sequence (IntList) has no reference."""
    if type(value) is bytes:
        value = list(value)
    if type(value) not in (list, tuple):
        if type(value) not in (str, dict) and hasattr(value, "__len__") and hasattr(value, "__getitem__"):
            raise NoReference
        raise TypeError("not a sequence")
    return [item(v) for v in value]


# ---- quickstart ----

def q_add(c, a, b):
    return _int_param(_int_param(a) + _int_param(b))


def q_divide(c, a, b):
    a, b = _float_param(a), _float_param(b)
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def q_greet(c, name, greeting="Hello", *, punctuation="!"):
    name, greeting, punctuation = _str_param(name), _str_param(greeting), _str_param(punctuation)  # in order
    return "%s, %s%s" % (greeting, name, punctuation)


def q_stats(c, values):
    values = _vec(values, _float_param)
    if not values:
        raise ValueError("empty")
    return ("stats", values)


def q_stats_equal(actual, expected):
    """The mean is a left-to-right sum over the count; min and max are the data's. With a nan in
    the data the mean is nan, and min/max are nan or the extremes of the other values: never a
    value that is not in the data."""
    if expected[0] != "stats":
        return same(actual, expected)
    values = expected[1]
    if type(actual) is not tuple or len(actual) != 3 or not all(type(v) is float for v in actual):
        return False
    mean = functools.reduce(operator.add, values, 0.0) / len(values)
    numbers = [v for v in values if not math.isnan(v)]
    if not (actual[0] == mean or (math.isnan(actual[0]) and math.isnan(mean))):
        return False
    for got, pick in ((actual[1], min), (actual[2], max)):
        if math.isnan(got):
            if len(numbers) == len(values):
                return False
        elif not numbers or got != pick(numbers):
            return False
    return True


def q_word_counts(c, text):
    return dict(collections.Counter(_str_param(text).lower().split()))


def q_word_counts_equal(actual, expected):
    return type(actual) is dict and actual == expected and list(actual) == sorted(actual)


def q_reverse_bytes(c, data):
    if type(data) is not bytes:
        raise NoReference  # bytearray/memoryview: which the example accepts is its choice
    return data[::-1]


def q_maybe_double(c, x):
    if x is None:
        return None
    return _int_param(_int_param(x) * 2)


def q_sum_of_squares(c, n):
    n = _int_param(n, U64, "u64")
    total = (n - 1) * n * (2 * n - 1) // 6 if n > 0 else 0
    return _int_param(total, U64, "u64")


def q_fail(c, message):
    raise c.m.QuickstartError(_str_param(message))


CONTEXT_NAMES = {"universal": "HPy Universal ABI (CPython backend)", "debug": "HPy Debug Mode ABI",
                 "trace": "HPy Trace Mode ABI", "native": "HPy CPython ABI"}

# ---- containers ----


def _position(items, index):
    """An index key: an int beyond the isize range is IndexError, as for a list (hpy-rs's
    integer keys of __getitem__/__setitem__/__delitem__)."""
    try:
        index = _int_param(index, (-(2**63), 2**63 - 1), "isize")
    except OverflowError:
        raise IndexError("index out of range") from None
    i = index + len(items) if index < 0 else index
    if not 0 <= i < len(items):
        raise IndexError("IntList index out of range")
    return i


def il_state(obj):
    return STATE_BASE["IntList"](obj)


def il_new(c, values=None):
    items = [] if values is None else _vec(values, _int_param)
    return ("IntList", items)


def il_append(c, value):
    items = c.obj.to_list()
    items.append(_int_param(value))
    return Expect(None, items)


def il_getitem(c, index):
    items = c.obj.to_list()
    return items[_position(items, index)]


def il_setitem(c, index, value):
    items = c.obj.to_list()
    i = _position(items, index)
    items[i] = _int_param(value)
    return Expect(None, items)


def il_delitem(c, index):
    items = c.obj.to_list()
    del items[_position(items, index)]
    return Expect(None, items)


def il_contains(c, item):
    items = c.obj.to_list()
    if type(item) not in (int, bool):
        return False  # documented: anything that is not a 64-bit int is simply not there
    return item in items


def il_iadd(c, values):
    items = c.obj.to_list()
    try:
        items.extend(_vec(values, _int_param))
    except (TypeError, OverflowError):
        # an operand that does not convert is NotImplemented (as geometry's documented
        # `Vector * 2**1024`), and list has no __radd__ for it: TypeError
        raise TypeError("unsupported operand type(s) for +=")
    return Expect(c.obj, items)


def il_eq(c, other):
    if type(other) is type(c.obj):
        return c.obj.to_list() == other.to_list()
    return False  # NotImplemented, then Python's identity fallback


def sm_getitem(c, key):
    items = dict(c.obj.items())
    key = _str_param(key)
    if key not in items:
        raise KeyError(key)
    return items[key]


def sm_setitem(c, key, value):
    items = dict(c.obj.items())
    items[_str_param(key)] = _str_param(value)
    return Expect(None, sorted(items.items()))


def sm_delitem(c, key):
    items = dict(c.obj.items())
    key = _str_param(key)
    if key not in items:
        raise KeyError(key)
    del items[key]
    return Expect(None, sorted(items.items()))


def sm_get(c, key, default=None):
    items = dict(c.obj.items())
    return items.get(_str_param(key), default)


def sm_contains(c, key):
    return _str_param(key) in dict(c.obj.items())


def counter_call(c, by=1):
    total = _int_param(c.obj.total + _int_param(by))
    return Expect(total, (c.obj.calls + 1, total))


# ---- geometry ----

def v_binary(op):
    def reference(c, other):
        if type(other) is not type(c.obj):
            # NotImplemented, and a clean operand has no reflected method: TypeError
            raise TypeError("unsupported operand")
        return ("Vector", op(c.obj.x, other.x), op(c.obj.y, other.y))
    return reference


def v_scale(op):
    def reference(c, k):
        try:
            k = _float_param(k)
        except (TypeError, OverflowError):
            raise TypeError("unsupported operand")  # not a factor: NotImplemented, then TypeError
        if op is operator.truediv and k == 0:
            raise ZeroDivisionError("cannot divide a Vector by zero")
        return ("Vector", op(c.obj.x, k), op(c.obj.y, k))
    return reference


def vector_equal(actual, expected):
    if isinstance(expected, tuple) and expected and expected[0] == "Vector":
        return type(actual).__name__ == "Vector" and same(actual.x, expected[1]) and same(actual.y, expected[2])
    return same(actual, expected)


def point_set(attr):
    def reference(c, value):
        x, y = c.obj.x, c.obj.y
        value = _float_param(value)
        return Expect(None, (value, y) if attr == "x" else (x, value))
    return reference


def polyline_append(c, x, y):
    coords = memoryview(c.obj).tolist()
    coords += [_float_param(x), _float_param(y)]
    return Expect(None, coords)


def polyline_length(c):
    coords = memoryview(c.obj).tolist()
    points = list(zip(coords[::2], coords[1::2]))
    return functools.reduce(operator.add, (math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])), 0.0)


def meters_new(c, *args, **kwargs):
    """`Meters(value)`: float.__new__ gets the argument first (so Meters('') is float('')'s
    ValueError), then #[new] extracts it as f64 and refuses what is not finite."""
    if kwargs or len(args) != 1:
        raise NoReference  # which of float.__new__ and #[new] objects first is not specified
    value = args[0]
    float(value)
    value = _float_param(value)
    if not math.isfinite(value):
        raise ValueError("a length must be finite")
    return ("Meters", value)


def meters_equal(actual, expected):
    if isinstance(expected, tuple) and expected and expected[0] == "Meters":
        return type(actual).__name__ == "Meters" and same(float(actual), expected[1])
    return same(actual, expected)


# ---- apitest ----

def rt_int(bits, signed):
    bounds = (-(2**(bits - 1)), 2**(bits - 1) - 1) if signed else (0, 2**bits - 1)
    return lambda c, x: _int_param(x, bounds, "%s%d" % ("i" if signed else "u", bits))


def rt_f32(c, x):
    return ctypes.c_float(_float_param(x)).value


def rt_char(c, x):
    x = _str_param(x)
    if len(x) != 1:
        raise ValueError("expected a single character")
    return x


def rt_bytes(c, x):
    if type(x) is not bytes:
        raise NoReference
    return x


def rt_vec_u8(c, x):
    if type(x) is bytes:
        return x
    return bytes(_vec(x, lambda v: _int_param(v, (0, 255), "u8")))


def rt_vec_read(item):
    """Vec<T> from a list or a tuple, subclasses included, against what `list(x)` reads: an
    exact list live by index (a conversion that shortens it ends the loop), a subclass through
    iter() whatever its __len__ claims (which only gives a hint, whose errors other than
    TypeError propagate, as list() does). Compared only when the items read are clean: their
    own conversion is what the clean references check."""
    def reference(c, x):
        if not isinstance(x, (list, tuple)):
            raise NoReference  # other sequences: which ones convert is hpy-rs's choice
        if type(x) not in (list, tuple):
            operator.length_hint(x)
        items = []
        for v in x:
            if not clean(v):
                raise NoReference
            items.append(v)
        return [item(v) for v in items]
    return Reference(reference, clean_only=False)


def c_string_len(c, s):
    data = _str_param(s).encode("utf-8")
    if b"\0" in data:
        raise ValueError("nul byte found")
    return len(data)


def parse_int(c, s):
    """Rust's `str::parse::<i64>`: an optional sign and ASCII digits, nothing else."""
    s = _str_param(s)
    if not re.fullmatch(r"[+-]?[0-9]+", s, flags=re.ASCII) or not I64[0] <= int(s) <= I64[1]:
        raise ValueError("invalid digit or number too large")
    return int(s)


def _raise(e):
    raise e


def _has_nan(x, depth=0):
    if isinstance(x, float):
        return math.isnan(x)
    if isinstance(x, (tuple, frozenset)) and depth < 4:
        return any(_has_nan(v, depth + 1) for v in x)
    return False


def narrow(c, x):
    x = _int_param(x)
    if not 0 <= x <= 255:
        raise OverflowError("out of range integral type conversion attempted")
    return x


def utf8(c, b):
    if type(b) is not bytes:
        raise NoReference
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid utf-8")  # From<Utf8Error>: a ValueError (see test_api.py)


def protocol(function, arity=1):
    """A mirror of a Python protocol function of `arity` arguments: same answer for any input,
    hostile ones too."""
    if arity == 1:
        return Reference(lambda c, x: function(x), clean_only=False, variants=("call",))
    return Reference(lambda c, a, b: function(a, b), clean_only=False, variants=("call",))


BINOPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "matmul": operator.matmul,
          "floor_div": operator.floordiv, "true_div": operator.truediv, "rem": operator.mod, "divmod": divmod,
          "lshift": operator.lshift, "rshift": operator.rshift, "bitand": operator.and_, "bitxor": operator.xor,
          "bitor": operator.or_}
BINOPS_I64 = ("add", "sub", "mul", "floor_div", "true_div", "rem", "lshift")
UNOPS = {"neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert, "index": operator.index,
         "to_int": int, "to_float": float}
COMPARISONS = {"lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne, "gt": operator.gt,
               "ge": operator.ge}


def api_binop(c, name, a, b):
    if type(name) is not str or name not in BINOPS:
        raise NoReference
    return BINOPS[name](a, b)


def api_binop_i64(c, name, a, b):
    if type(name) is not str or name not in BINOPS_I64 or type(b) not in (int, bool) or not I64[0] <= b <= I64[1]:
        raise NoReference
    return BINOPS[name](a, int(b))


def api_unop(c, name, a):
    if type(name) is not str or name not in UNOPS:
        raise NoReference
    return UNOPS[name](a)


def api_compare(rich):
    def reference(c, a, b, op):
        if type(op) is not str or op not in COMPARISONS:
            raise NoReference
        result = COMPARISONS[op](a, b)
        return result if rich else bool(result)
    return reference


def api_pow(c, a, b, modulo=None):
    return pow(a, b, modulo) if modulo is not None else pow(a, b)


# ---- layout, errors, stdtypes, protocols, inherit ----

def geometry_scale(c, length, factor=1):
    length, factor = _int_param(length), _int_param(factor)
    if length < 0:
        raise c.m.geometry.RangeError("negative length %d" % length)
    result = length * factor * 100
    if not I64[0] <= result <= I64[1]:
        raise NoReference  # past i64: no documented answer
    return result


def shout(c, s):
    s = _str_param(s)
    if any(ord(ch) > 0x24F for ch in s):
        raise NoReference  # case mappings beyond Latin: Python's and Rust's Unicode versions differ
    return s.upper()


# Rust's char::is_whitespace (Unicode White_Space), what str::trim strips; Python's str.strip()
# also strips \x1c-\x1f
_RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"


def parse_number(c, text):
    """Rust's `text.trim().parse::<i64>()`; its error is the declared ParseError."""
    text = _str_param(text)
    trimmed = text.strip(_RUST_WHITESPACE)
    if not re.fullmatch(r"[+-]?[0-9]+", trimmed, flags=re.ASCII) or not I64[0] <= int(trimmed) <= I64[1]:
        raise c.m.ParseError("not a number: %r" % text)
    return int(trimmed)


def os_error(c, errno, strerror):
    raise OSError(_int_param(errno, I32, "i32"), _str_param(strerror))  # Python picks the subclass


def io_errno(c, errno):
    raise OSError(_int_param(errno, I32, "i32"), "the OS's message")


INPLACE = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "@": operator.imatmul, "//": operator.ifloordiv,
           "/": operator.itruediv, "%": operator.imod, "<<": operator.ilshift, ">>": operator.irshift,
           "&": operator.iand, "^": operator.ixor, "|": operator.ior, "**": operator.ipow}


def st_inplace(c, a, op, b):
    op = _str_param(op)
    if op not in INPLACE:
        raise ValueError("unknown operator %r" % op)
    return INPLACE[op](a, b)


def complex_parts(c, z):
    if isinstance(z, (str, bytes)) or z is None:
        raise TypeError("not a number")
    z = complex(z)
    return (z.real, z.imag)


def complex_equal(a, e):
    if type(e) is complex:
        return type(a) is complex and same(a.real, e.real) and same(a.imag, e.imag)
    return same(a, e)


def key_kind(c, key):
    if type(key) in (int, bool):
        if not I64[0] <= key <= I64[1]:
            raise NoReference  # past isize: which error is not specified
        return "index %d" % key
    raise TypeError("not an index or a slice")


def sum_of_ints(c, xs):
    total = sum(_vec(xs, _int_param))
    if not I64[0] <= total <= I64[1]:
        raise NoReference  # past i64: no documented answer
    return total


def circle_new(c, name, radius):
    name, radius = _str_param(name), _float_param(radius)
    if math.isnan(radius) or radius < 0:
        raise ValueError("the radius must be >= 0")
    return ("Circle", name, radius)


def ring_new(c, name, outer, inner):
    name, outer, inner = _str_param(name), _float_param(outer), _float_param(inner)
    if not 0.0 <= inner <= outer or math.isnan(outer):
        raise ValueError("the hole must fit in the ring")
    return ("Ring", name, outer, inner)


def shape_equal(actual, expected):
    if isinstance(expected, tuple) and expected[:1] in (("Circle",), ("Ring",)):
        parts = (type(actual).__name__, actual.name, actual.radius) + ((actual.inner,) if expected[0] == "Ring" else ())
        return same(parts, expected)
    return same(actual, expected)


REFERENCES = {
    # quickstart: each function against the Python it stands for
    "quickstart.add": Reference(q_add),
    "quickstart.divide": Reference(q_divide),
    "quickstart.hello": Reference(lambda c, name: "Hello, %s!" % _str_param(name)),
    "quickstart.greet": Reference(q_greet),
    # the context arrives as the first positional argument: a keyword named like it is counted
    "quickstart.count_args": Reference(lambda *a, **k: (len(a) - 1, len(k)), clean_only=False),
    "quickstart.stats": Reference(q_stats),
    "quickstart.word_counts": Reference(q_word_counts),
    "quickstart.reverse_bytes": Reference(q_reverse_bytes),
    "quickstart.maybe_double": Reference(q_maybe_double),
    "quickstart.sum_of_squares": Reference(q_sum_of_squares),
    "quickstart.fail": Reference(q_fail),
    "quickstart.context_name": Reference(lambda c: CONTEXT_NAMES[c.mode]),
    "rawadd.add": Reference(q_add),
    "rawadd.ctx_name": Reference(lambda c: CONTEXT_NAMES[c.mode]),
    # containers: each operation against a Python list / dict model of the object
    "containers.IntList.__new__": Reference(il_new),
    "containers.IntList.append": Reference(il_append),
    "containers.IntList.to_list": Reference(lambda c: c.obj.to_list()),
    "containers.IntList.__len__": Reference(lambda c: len(c.obj.to_list())),
    "containers.IntList.__getitem__": Reference(il_getitem),
    "containers.IntList.__setitem__": Reference(il_setitem, variants=("syntax",)),
    "containers.IntList.__delitem__": Reference(il_delitem, variants=("delete",)),
    "containers.IntList.__contains__": Reference(il_contains),
    "containers.IntList.__iadd__": Reference(il_iadd, variants=("inplace",)),
    "containers.IntList.__eq__": Reference(il_eq, variants=("syntax", "reflected")),
    "containers.IntList.__repr__": Reference(lambda c: "IntList(%r)" % (c.obj.to_list(),), variants=("syntax",)),
    "containers.StrMap.__getitem__": Reference(sm_getitem),
    "containers.StrMap.__setitem__": Reference(sm_setitem, variants=("syntax",)),
    "containers.StrMap.__delitem__": Reference(sm_delitem, variants=("delete",)),
    "containers.StrMap.__contains__": Reference(sm_contains),
    "containers.StrMap.__len__": Reference(lambda c: len(c.obj.items())),
    "containers.StrMap.get": Reference(sm_get),
    "containers.StrMap.keys": Reference(lambda c: [k for k, _ in c.obj.items()]),
    "containers.Counter.__call__": Reference(counter_call),
    "containers.Counter.__bool__": Reference(lambda c: c.obj.calls > 0, variants=("syntax",)),
    "containers.Counter.reset": Reference(lambda c: Expect(None, (0, 0))),
    # geometry: the arithmetic in Python floats
    "geometry.Vector.__add__": Reference(v_binary(operator.add)),
    "geometry.Vector.__sub__": Reference(v_binary(operator.sub)),
    "geometry.Vector.__mul__": Reference(v_scale(operator.mul)),
    "geometry.Vector.__truediv__": Reference(v_scale(operator.truediv)),
    "geometry.Vector.__neg__": Reference(lambda c: ("Vector", -c.obj.x, -c.obj.y), variants=("syntax",)),
    "geometry.Vector.__bool__": Reference(lambda c: c.obj.x != 0 or c.obj.y != 0, variants=("syntax",)),
    "geometry.Vector.norm": Reference(lambda c: math.hypot(c.obj.x, c.obj.y)),
    "geometry.Vector.__abs__": Reference(lambda c: math.hypot(c.obj.x, c.obj.y), variants=("syntax",)),
    "geometry.Point.x": Reference(point_set("x"), variants=("set",)),
    "geometry.Point.y": Reference(point_set("y"), variants=("set",)),
    "geometry.Polyline.append": Reference(polyline_append),
    "geometry.Polyline.length": Reference(polyline_length),
    "geometry.Polyline.__len__": Reference(lambda c: len(memoryview(c.obj).tolist()) // 2, variants=("syntax",)),
    "geometry.Meters.__init__": Reference(meters_new, variants=("construct",), binds=False),
    "geometry.Meters.feet": Reference(lambda c: float(c.obj) / 0.3048),
    # apitest: conversions both ways, and the object protocol against Python's builtins
    "apitest.rt_i8": Reference(rt_int(8, True)), "apitest.rt_i16": Reference(rt_int(16, True)),
    "apitest.rt_i32": Reference(rt_int(32, True)), "apitest.rt_i64": Reference(rt_int(64, True)),
    "apitest.rt_i128": Reference(rt_int(128, True)), "apitest.rt_isize": Reference(rt_int(64, True)),
    "apitest.rt_u8": Reference(rt_int(8, False)), "apitest.rt_u16": Reference(rt_int(16, False)),
    "apitest.rt_u32": Reference(rt_int(32, False)), "apitest.rt_u64": Reference(rt_int(64, False)),
    "apitest.rt_u128": Reference(rt_int(128, False)), "apitest.rt_usize": Reference(rt_int(64, False)),
    "apitest.rt_f64": Reference(lambda c, x: _float_param(x)),
    "apitest.rt_f32": Reference(rt_f32),
    "apitest.rt_bool": Reference(lambda c, x: _raise(TypeError("not a bool")) if type(x) is not bool else x),
    "apitest.rt_char": Reference(rt_char),
    "apitest.rt_string": Reference(lambda c, x: _str_param(x)),
    "apitest.rt_str": Reference(lambda c, x: _str_param(x)),
    "apitest.rt_bytes": Reference(rt_bytes),
    "apitest.rt_vec_u8": Reference(rt_vec_u8),
    "apitest.rt_option": Reference(lambda c, x: None if x is None else _int_param(x)),
    "apitest.rt_option_string": Reference(lambda c, x: None if x is None else _str_param(x)),
    "apitest.rt_vec_i64": rt_vec_read(_int_param),
    "apitest.rt_vec_f64": rt_vec_read(_float_param),
    "apitest.rt_vec_string": rt_vec_read(_str_param),
    "apitest.rt_vec_vec": Reference(lambda c, x: _vec(x, lambda v: _vec(v, _int_param))),
    "apitest.make_str": Reference(lambda c, s: _str_param(s)),
    "apitest.unicode_to_str": Reference(lambda c, s: (_str_param(s), len(s.encode("utf-8")))),
    "apitest.c_string_len": Reference(c_string_len),
    "apitest.parse_int": Reference(parse_int),
    "apitest.narrow": Reference(narrow),
    "apitest.utf8": Reference(utf8),
    "apitest.len": protocol(len),
    "apitest.is_true": protocol(bool),
    "apitest.is_callable": protocol(callable),
    "apitest.is_none": protocol(lambda x: x is None),
    "apitest.repr_string": protocol(repr),
    "apitest.repr": protocol(repr),
    "apitest.str_": protocol(str),
    "apitest.ascii": protocol(ascii),
    # an identity hash (object.__hash__, and nan's since Python 3.10) differs between two fresh copies
    "apitest.hash": Reference(lambda c, x: hash(x) if type(x).__hash__ is not object.__hash__ and not _has_nan(x)
                              else _raise(NoReference()), clean_only=False),
    "apitest.get_type": protocol(type),
    "apitest.eq": protocol(lambda a, b: bool(a == b), 2),
    "apitest.lt": protocol(lambda a, b: bool(a < b), 2),
    "apitest.contains": protocol(lambda obj, key: key in obj, 2),
    "apitest.get_item": protocol(lambda obj, key: obj[key], 2),
    "apitest.getattr": Reference(lambda c, obj, name: getattr(obj, _c_name(name)), clean_only=False),
    "apitest.hasattr": Reference(lambda c, obj, name: hasattr(obj, _c_name(name)), clean_only=False),
    "apitest.binop": Reference(api_binop, clean_only=False),
    "apitest.binop_i64": Reference(api_binop_i64, clean_only=False),
    "apitest.unop": Reference(api_unop, clean_only=False),
    "apitest.rich_compare": Reference(api_compare(True), clean_only=False),
    "apitest.compare": Reference(api_compare(False), clean_only=False),
    "apitest.pow": Reference(api_pow, clean_only=False),
}
REFERENCES["quickstart.stats"].equal = lambda a, e: q_stats_equal(a, e)
REFERENCES["quickstart.word_counts"].equal = q_word_counts_equal
for _name in ("geometry.Vector.__add__", "geometry.Vector.__sub__", "geometry.Vector.__mul__",
              "geometry.Vector.__truediv__", "geometry.Vector.__neg__"):
    REFERENCES[_name].equal = vector_equal
for _name in ("geometry.Vector.norm", "geometry.Vector.__abs__", "geometry.Polyline.length"):
    REFERENCES[_name].equal = close
REFERENCES["geometry.Meters.__init__"].equal = meters_equal
REFERENCES.update({
    # layout: each `f` is its own module's (the submodules have one each)
    "layout.f": Reference(lambda c: "layout.f"),
    "layout.geometry.f": Reference(lambda c: "layout.geometry.f"),
    "layout.text.f": Reference(lambda c: "layout.text.f"),
    "layout.twice_max": Reference(lambda c: 20),
    "layout.geometry.scale": Reference(geometry_scale),
    "layout.text.shout": Reference(shout),
    # errors: the exception type Python would raise (compared by type)
    "errors.parse_number": Reference(parse_number),
    "errors.key_error": Reference(lambda c, key: _raise(KeyError(_str_param(key)))),
    "errors.stop_iteration": Reference(lambda c, value: _raise(StopIteration(_int_param(value)))),
    "errors.os_error": Reference(os_error),
    "errors.io_errno": Reference(io_errno),
    "errors.lazy_cause": Reference(lambda c, key: (_str_param(key), _raise(RuntimeError("outer")))),
    # stdtypes
    "stdtypes.inplace": Reference(st_inplace),
    "stdtypes.make_complex": Reference(lambda c, re_, im: complex(_float_param(re_), _float_param(im))),
    "stdtypes.complex_parts": Reference(complex_parts),
    "stdtypes.key_kind": Reference(key_kind),
    # protocols: Vec<T> from a clean sequence
    "protocols.total": Reference(sum_of_ints),
    "protocols.strings": Reference(lambda c, xs: _vec(xs, _str_param)),
    "protocols.byte_values": Reference(rt_vec_u8),
    "protocols.nested": Reference(lambda c, xs: _vec(xs, lambda v: _vec(v, _int_param))),
    # inherit: constructors that check their values, and what each level reads
    "inherit.Circle.__new__": Reference(circle_new),
    "inherit.Ring.__new__": Reference(ring_new),
    "inherit.Named.greet": Reference(lambda c: "hello, %s" % c.obj.name),
    "inherit.Named.__len__": Reference(lambda c: len(c.obj.name), variants=("syntax",)),
    "inherit.Named.__repr__": Reference(lambda c: "<%s>" % c.obj.name, variants=("syntax",)),
    "inherit.Circle.area": Reference(lambda c: math.pi * c.obj.radius * c.obj.radius),
    "inherit.Ring.area": Reference(lambda c: math.pi * (c.obj.radius * c.obj.radius - c.obj.inner * c.obj.inner)),
    "inherit.Ring.root_name": Reference(lambda c: c.obj.name),
})
for _name in ("stdtypes.make_complex", "stdtypes.complex_parts"):
    REFERENCES[_name].equal = complex_equal
for _name in ("inherit.Circle.__new__", "inherit.Ring.__new__"):
    REFERENCES[_name].equal = shape_equal
for _name in ("inherit.Circle.area", "inherit.Ring.area"):
    REFERENCES[_name].equal = close
REFERENCES["containers.IntList.__new__"].equal = lambda a, e: (
    type(a).__name__ == "IntList" and a.to_list() == e[1]) if isinstance(e, tuple) and e[:1] == ("IntList",) else same(a, e)

# the state a mutating reference's Expect is compared with, read through the class itself
STATE_BASE = {
    "IntList": lambda obj: type(obj).__mro__[[c.__name__ for c in type(obj).__mro__].index("IntList")].to_list(obj),
}
STATE = {
    "IntList": lambda obj: STATE_BASE["IntList"](obj),
    "StrMap": lambda obj: obj.items(),
    "Counter": lambda obj: (obj.calls, obj.total),
    "Point": lambda obj: (obj.x, obj.y),
    "Polyline": lambda obj: memoryview(obj).tolist(),
}


def plant_selftest():
    """For `run.py --selftest`: remove the allowances of rawadd.leak and quickstart.panics and
    give rawadd.add a wrong reference, so that the attack must report a leak, a panic and a
    wrong result (worker.py adds a crash: rawadd.ctx_name aborts the process)."""
    del LEAKS["rawadd.leak"]
    del PANICS["quickstart.panics"]
    REFERENCES["rawadd.add"] = Reference(lambda c, a, b: q_add(c, a, b) + 1)
