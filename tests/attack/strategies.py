"""Hypothesis strategies of attack values, as Python source strings (see hostile.py).

`for_annotation(annotation)` follows the type in the module's stub (`int`, `list[float]`,
`dict[str, int] | None`, a class of the module, ...): mostly values of that type at their edges
(integer boundaries of every width, nan, -0.0, lone surrogates, NUL, odd whitespace), wrapped in
lying subclasses and containers; and, one time in four, anything at all from `HOSTILE`.
"""
import ast
import functools
import math
import string

from hypothesis import strategies as st


def int_source(value):
    # hexadecimal: big ints have no decimal-digit limit there (CPython 3.11+ limits str <-> int)
    if abs(value) > 10**18:
        return ("-" if value < 0 else "") + hex(abs(value))
    return repr(value)


def float_source(value):
    if math.isnan(value):
        return "float('nan')" if math.copysign(1, value) > 0 else "-float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value)


# the boundaries of every integer width, and one past them
_EDGES = sorted({sign * (2**bits) + delta for bits in (7, 8, 15, 16, 31, 32, 63, 64, 127, 128)
                 for sign in (1, -1) for delta in (-1, 0, 1)} | {0, 1, -1, 2, 255, 10**400, -(10**400)})
INT_EDGES = [int_source(v) for v in _EDGES]

FLOAT_EDGES = ["0.0", "-0.0", "float('nan')", "-float('nan')", "float('inf')", "-float('inf')", "5e-324",
               "-5e-324", "2.2250738585072014e-308", "1.7976931348623157e+308", "-1.7976931348623157e+308",
               "3.4028235e+38", "3.4028236e+38", "1e-46", "0.1", "1.5", "-1.0", "9007199254740993.0"]

# strings that break text handling: lone surrogates, NUL, astral characters, case mappings that
# change the length, and the characters Python and Rust disagree about as whitespace
STR_EDGES = [repr(s) for s in [
    "", "a", " ", "\0", "a\0b", "\ud800", "\udfff", "a\udcffb", "\U0001f600", "\U0010ffff", "é", "e\u0301",
    "İ", "ß", "ﬁ", "ΣΑΣ", "ǅ", "\u0130\u0130", "x\x1cy\x1dz\x1ey\x1fz", "a\u2028b\u2029c", "a\x85b",
    "a\u00a0b", "a\u3000b", "a\u200bb", "a\u180eb", "\ufeff", "\t\n\v\f\r", "  many   spaces  ",
    "Word word WORD", "x" * 5000, "héllo wörld", "\u1680a\u2000b\u205fc",
]]

BYTES_EDGES = ["b''", "b'\\x00'", "b'\\xff\\xfe'", "b'abc'", "bytearray(b'ab')", "bytearray()",
               "memoryview(b'abcd')", "memoryview(b'abcdef')[::2]", "memoryview(bytearray(b'xy'))",
               "array.array('d', [1.0, 2.0])", "array.array('b', [-1, 2])", "b'\\x80' * 3000",
               "Sub(bytes, b'abc', len=RAISE)", "Sub(bytes, b'xyz', eq=RAISE, hash=RAISE)"]

# whatever the annotation: the values every parameter must survive
HOSTILE = [
    "None", "NotImplemented", "...", "True", "False", "0", "-1", "0x8000000000000000", "10**400",
    "Sub(int, 7, index=RAISE, int=RAISE, float=RAISE)", "Sub(int, -2, eq=RAISE, hash=RAISE)",
"float('nan')", "-0.0", "float('inf')",
    "Sub(float, 2.5, float=RAISE, eq=RAISE)", "''", "'\\ud800'", "'a\\x00b'", "Sub(str, 'abc', eq=RAISE, hash=RAISE)",
    "Sub(str, 'word', len=10**6)", "b'\\xff'", "bytearray(b'ab')", "memoryview(b'abc')", "object()", "int",
    "type", "Exception", "HostileError('x')", "[]", "()", "{}", "set()", "frozenset({1})", "range(3)",
    "iter([1, 2])", "(x for x in [1.0])", "lambda *a, **k: None", "print", "CAPSULE",
    "fresh_module()", "Reflector()",
    "Hostile(index=RAISE)", "Hostile(index=ESCAPE)", "Hostile(index=0x100000000000000000)", "Hostile(index='7')",
    "Hostile(index=Sub(int, 3, index=RAISE))", "Hostile(index=Do(gc.collect, then=3))",
    "Hostile(int=5)", "Hostile(int=RAISE)", "Hostile(float=RAISE)", "Hostile(float='x')", "Hostile(float=1.5)",
    "Hostile(float=ESCAPE)", "Hostile(float=Sub(float, 1.0))", "Hostile(bool=RAISE)", "Hostile(bool=2)",
    "Hostile(eq=RAISE, hash=RAISE)", "Hostile(hash=RAISE)", "Hostile(hash=2**100)", "Hostile(eq=RAISE)",
    "Hostile(len=RAISE, getitem=RAISE)", "Hostile(len=-1, getitem=[1])", "Hostile(len=2**63, getitem=[1])",
    "Hostile(len=0x7fffffffffffffff, getitem=[1])", "Hostile(len=10**6, getitem=[1.0, 2.0])",
    "Hostile(len=3, getitem=RAISE)", "Hostile(len=2, getitem=ESCAPE)", "Hostile(len='2', getitem=[1, 2])",
    "Hostile(iter=RAISE)", "Hostile(iter=[1, 2], len=RAISE)", "Hostile(repr=RAISE, str=RAISE)",
    "Hostile(repr=5, str=None)", "Hostile(call=RAISE)", "Hostile(call=ESCAPE)", "Hostile(del_=RAISE)",
    "Hostile(getattr=RAISE)", "Hostile(contains=RAISE, len=1, getitem=[1])",
    "LyingSeq([1, 2], 5)", "LyingSeq([1.0], 10**6)", "LyingSeq([], 2**40)", "LyingSeq([1, 2], 1)",
    "Sub(list, [1, 2], len=10**6)", "Sub(list, [1.0, 2.0], len=RAISE, getitem=RAISE, iter=RAISE)",
    "Sub(list, [1, 2, 3], len=1)", "Sub(tuple, (1, 2), len=5, getitem=RAISE)", "Sub(tuple, ('a', 'b'), len=-1)",
    "Sub(dict, {'a': 1}, keys=RAISE, items=RAISE, iter=RAISE, getitem=RAISE, len=5)",
    "Sub(dict, {1: 'x'}, len=0)", "SelfClearing.list(1)", "SelfClearing.list(1.5)", "SelfClearing.dict(1)",
    "SelfClearing.list(2, 5)",
    "[0x7fffffffffffffff, 1]", "{-0x8000000000000000, -1}", "cyclic_list(1, 2)", "cyclic_dict(a=1)", "nested(2000)", "nested(20, 'x')", "[[1, 2], [3]]",
    "[Hostile(index=RAISE)] * 3", "[1, 'a', None, 2.5]", "{'a': Hostile(index=RAISE)}", "{Hostile(eq=RAISE): 1}",
    "[SelfClearing(1), 2]", "(SelfClearing('x'), 'y')",
]


def weighted(*pairs):
    """one_of with integer weights: `weighted((3, a), (1, b))`."""
    options = []
    for weight, strategy in pairs:
        options.extend([strategy] * weight)
    return st.one_of(*options)


@functools.lru_cache(maxsize=None)
def ints():
    return weighted((2, st.sampled_from(INT_EDGES)),
                    (2, st.integers(min_value=-(2**70), max_value=2**70).map(int_source)),
                    (1, st.integers(min_value=-1000, max_value=1000).map(int_source)),
                    (1, st.sampled_from(["True", "False", "Sub(int, 3)", "Sub(int, 2**64)", "Sub(int, -1)",
                                         "Hostile(index=5)", "Hostile(index=2**64)", "Hostile(index=RAISE)",
                                         "Hostile(int=7)", "Sub(int, 9, index=RAISE, int=RAISE)", "3.0", "'5'"])))


@functools.lru_cache(maxsize=None)
def floats():
    return weighted((2, st.sampled_from(FLOAT_EDGES)),
                    (2, st.floats(allow_nan=True, allow_infinity=True).map(float_source)),
                    (1, st.integers(min_value=-(2**60), max_value=2**60).map(int_source)),
                    (1, st.sampled_from(["Sub(float, 1.25)", "Sub(float, float('nan'), float=RAISE)", "Hostile(float=2.5)",
                                         "Hostile(float=RAISE)", "Hostile(index=3)", "2**1024", "True", "'1.5'",
                                         "Hostile(float=Do(gc.collect, then=0.5))"])))


@functools.lru_cache(maxsize=None)
def texts():
    return weighted((2, st.sampled_from(STR_EDGES)),
                    (3, st.text(max_size=40).map(repr)),
                    (1, st.lists(st.sampled_from(list(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000"
                                                      "\u200baAzZ0İßΣ\ud800")), max_size=20).map(lambda cs: repr("".join(cs)))),
                    (1, st.sampled_from(["Sub(str, 'abc')", "Sub(str, 'a b', eq=RAISE, hash=RAISE, len=RAISE)",
                                         "b'abc'", "Hostile(str='x', repr='x')"])))


@functools.lru_cache(maxsize=None)
def bytes_values():
    return weighted((2, st.sampled_from(BYTES_EDGES)), (2, st.binary(max_size=64).map(repr)),
                    (1, st.lists(st.integers(0, 255), max_size=8).map(repr)))


@functools.lru_cache(maxsize=None)
def bools():
    return st.sampled_from(["True", "False", "0", "1", "2", "Sub(int, 1)", "None", "Hostile(bool=RAISE)",
                            "Hostile(index=1)", "[]", "1.0"])


_IDENTIFIER = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8)
KEYWORD_NAMES = weighted((3, _IDENTIFIER), (1, st.sampled_from(["", "\ud800", "a b", "1x", "self", "args", "kwargs", "é"])))


def containers_of(item, kind):
    """Containers of `item` sources, honest and lying: for `list[T]` parameters."""
    items = st.lists(item, max_size=6)
    honest = items.map(lambda xs: ("[%s]" if kind == "list" else "(%s,)" if len(xs) == 1 else "(%s)") % ", ".join(xs))
    return weighted(
        (4, honest),
        (1, items.map(lambda xs: "(%s)" % "".join(x + ", " for x in xs))),  # a tuple where a list is expected
        (1, items.map(lambda xs: "Sub(list, [%s], len=%d)" % (", ".join(xs), len(xs) + 3))),
        (1, items.map(lambda xs: "Sub(list, [%s], len=%d)" % (", ".join(xs), max(len(xs) - 1, 0)))),
        (1, items.map(lambda xs: "Sub(tuple, (%s), getitem=RAISE, iter=RAISE)" % "".join(x + ", " for x in xs))),
        (1, items.map(lambda xs: "LyingSeq([%s], %d)" % (", ".join(xs), len(xs) * 1000 + 1))),
        (1, items.map(lambda xs: "Hostile(len=%d, getitem=[%s])" % (len(xs), ", ".join(xs)))),
        (1, item.map(lambda x: "SelfClearing.list(%s)" % x)),
        (1, item.map(lambda x: "iter([%s])" % x)),
        # an honest sequence longer than the capacity hpy-rs reserves from len() (4096)
        (1, st.just("range(5000)")),
    )


def sets_of(item, kind):
    """Sets (or frozensets, `kind`) of `item` sources, honest and lying: for `set[T]` parameters.
    Unhashable items make the argument itself raise TypeError, before the call: harmless."""
    items = st.lists(item, max_size=6)
    other = "frozenset" if kind == "set" else "set"
    return weighted(
        (4, items.map(lambda xs: "%s([%s])" % (kind, ", ".join(xs)))),
        (1, items.map(lambda xs: "%s([%s])" % (other, ", ".join(xs)))),  # the other kind of set
        (1, items.map(lambda xs: "Sub(%s, [%s], len=%d, iter=RAISE, contains=RAISE)" % (kind, ", ".join(xs), len(xs) + 3))),
        (1, items.map(lambda xs: "[%s]" % ", ".join(xs))),  # a list where a set is expected
        (1, items.map(lambda xs: "{%s}" % ", ".join("%s: 1" % x for x in xs))),  # a dict: iterable, hashable keys
        (1, item.map(lambda x: "SelfClearing.list(%s, container=set)" % x)),  # a frozenset cannot clear
        (1, st.just("%s(range(5000))" % kind)),
    )


@functools.lru_cache(maxsize=None)
def slices():
    """slice objects with bounds at every edge (None, huge, hostile __index__, step 0), and the
    values a slice parameter must refuse."""
    bound = weighted((2, st.just("None")), (3, ints()), (1, st.integers(-10, 10).map(repr)))
    return weighted(
        (6, st.tuples(bound, bound, bound).map(lambda b: "slice(%s, %s, %s)" % b)),
        (1, st.tuples(bound, bound).map(lambda b: "slice(%s, %s)" % b)),
        (1, st.sampled_from(["slice(None)", "slice(0, 0, 0)", "slice(None, None, -1)", "slice(-2**63, 2**63, 2**63)",
                             "slice('a', 'b', 'c')", "slice(1.5, 2)", "slice(Hostile(index=RAISE), None)",
                             "slice(0, 10, Hostile(index=Do(gc.collect, then=2)))", "range(3)", "(1, 2)"])),
    )


@functools.lru_cache(maxsize=None)
def complexes():
    """complex numbers (nan, inf, -0.0 parts), what complex() converts (floats, ints,
    __complex__, __float__, __index__), and what it refuses (str, lying hooks)."""
    return weighted(
        (3, st.tuples(floats(), floats()).map(lambda ri: "complex(%s, %s)" % ri)),
        (1, floats()),
        (1, st.sampled_from(["1j", "-0j", "complex('nan+infj')", "Sub(complex, 1+2j)", "Hostile(complex=2j)",
                             "Hostile(complex=RAISE)", "Hostile(complex=ESCAPE)", "Hostile(complex=1.5)",
                             "Hostile(complex=Sub(complex, 3j))", "Hostile(complex=RAISE, float=2.5)",
                             "Hostile(float=2.5)", "Hostile(index=2)", "'1+2j'", "2**1024", "None"])),
    )


@functools.lru_cache(maxsize=None)
def bytearrays():
    return weighted(
        (3, st.binary(max_size=32).map(lambda b: "bytearray(%r)" % b)),
        (1, st.sampled_from(["bytearray()", "Sub(bytearray, b'abc', len=RAISE, getitem=RAISE, iter=RAISE)",
                             "bytearray(b'\\x00' * 5000)", "b'abc'", "memoryview(bytearray(b'xy'))",
                             "array.array('b', [1])", "[1, 2]"])),
    )


def dicts_of(key, value):
    pairs = st.lists(st.tuples(key, value), max_size=5)
    honest = pairs.map(lambda kvs: "{%s}" % ", ".join("%s: %s" % kv for kv in kvs))
    return weighted(
        (4, honest),
        (1, pairs.map(lambda kvs: "Sub(dict, {%s}, len=%d)" % (", ".join("%s: %s" % kv for kv in kvs), len(kvs) + 2))),
        (1, pairs.map(lambda kvs: "Sub(dict, {%s}, items=RAISE, keys=RAISE, iter=RAISE)" % ", ".join("%s: %s" % kv for kv in kvs))),
        (1, pairs.map(lambda kvs: "[%s]" % ", ".join("(%s, %s)" % kv for kv in kvs))),  # pairs, not a dict
        (1, value.map(lambda v: "SelfClearing.dict(%s)" % v)),
    )


class Types:
    """What the stub's annotations name: the module's classes, as source-string strategies for
    their instances (filled in by the worker from targets.py's receivers)."""

    def __init__(self, instances=None, anything=None):
        self.instances = instances or {}
        self.anything = anything  # extra sources every `Any` may be (instances of the module's classes)
        self.cache = {}


@functools.lru_cache(maxsize=None)
def hostile():
    return st.sampled_from(HOSTILE)


# ints that each fit in 64 bits but whose sum (or product) does not: Rust arithmetic on them
# must not panic ("attempt to add with overflow" in a debug build)
INT_SUMS = ["0x7fffffffffffffff, 1", "-0x8000000000000000, -1", "0x4000000000000000, 0x4000000000000000",
            "0xffffffff, 0xffffffff, 0xffffffff", "-0x8000000000000000, 0x7fffffffffffffff, -1"]


def with_int_sums(item, template, strategy):
    """`strategy`, and for containers of int (`item`, an annotation node) also INT_SUMS in one
    (`template` % items)."""
    if isinstance(item, ast.Name) and item.id == "int":
        return weighted((6, strategy), (1, st.sampled_from([template % items for items in INT_SUMS])))
    return strategy


def typed(node, types):
    """Strategy for a parsed annotation (an ast expression node)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return st.one_of(typed(node.left, types), typed(node.right, types))
    if isinstance(node, ast.Constant) and node.value is None:
        return st.just("None")
    if isinstance(node, ast.Subscript):
        base = node.value.id if isinstance(node.value, ast.Name) else None
        index = node.slice.value if isinstance(node.slice, getattr(ast, "Index", ())) else node.slice  # 3.8
        args = index.elts if isinstance(index, ast.Tuple) else [index]
        if base == "list":
            return with_int_sums(args[0], "[%s]", containers_of(for_node(args[0], types), "list"))
        if base == "tuple":
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                return containers_of(for_node(args[0], types), "tuple")
            fixed = st.tuples(*[for_node(a, types) for a in args])
            return weighted(
                (4, fixed.map(lambda xs: "(%s)" % "".join(x + ", " for x in xs))),
                (1, fixed.map(lambda xs: "[%s]" % ", ".join(xs))),
                (1, fixed.map(lambda xs: "(%s)" % "".join(x + ", " for x in xs[:-1]))),  # one item short
                (1, fixed.map(lambda xs: "(%s)" % "".join(x + ", " for x in xs + (xs[0],)))),  # one too many
                (1, fixed.map(lambda xs: "Sub(tuple, (%s), len=%d)" % ("".join(x + ", " for x in xs), len(xs) + 1))),
            )
        if base == "dict":
            return dicts_of(for_node(args[0], types), for_node(args[1], types))
        if base in ("set", "frozenset"):
            return with_int_sums(args[0], base + "([%s])", sets_of(for_node(args[0], types), base))
        return hostile()
    name = node.id if isinstance(node, ast.Name) else \
        "%s.%s" % (node.value.id, node.attr) if isinstance(node, ast.Attribute) else None
    if name == "int":
        return ints()
    if name == "float":
        return floats()
    if name == "str":
        return texts()
    if name == "bytes":
        return bytes_values()
    if name == "bool":
        return bools()
    if name == "None":
        return st.just("None")
    if name == "slice":
        return slices()
    if name == "complex":
        return complexes()
    if name == "bytearray":
        return bytearrays()
    if name in ("set", "frozenset"):
        return sets_of(anything(types), name)
    if name == "type":
        return st.sampled_from(["int", "object", "type", "Exception", "ValueError", "bool", "HostileError",
                                "Escape", "type('T', (), {})", "type(gc)"])
    if name == "types.ModuleType":
        return st.sampled_from(["fresh_module()", "fresh_module('')", "gc", "math"])
    if name in types.instances:
        return types.instances[name]
    return anything(types)


def anything(types):
    if "<anything>" in types.cache:
        return types.cache["<anything>"]
    options = [(3, hostile()), (1, ints()), (1, floats()), (1, texts()), (1, bytes_values())]
    if types.anything is not None:
        options.append((2, types.anything))
    types.cache["<anything>"] = weighted(*options)
    return types.cache["<anything>"]


def for_node(node, types):
    """An argument for a parameter annotated `node`: typed values mostly, anything sometimes."""
    return weighted((3, typed(node, types)), (1, hostile()))


def for_annotation(text, types):
    """for_node of an annotation given as text ('list[float]'); None or '' means Any (cached
    per types: hypothesis validates a strategy once, not on every draw)."""
    key = text or ""
    cached = types.cache.get(key)
    if cached is None:
        cached = types.cache[key] = anything(types) if not text else for_node(ast.parse(text, mode="eval").body, types)
    return cached
