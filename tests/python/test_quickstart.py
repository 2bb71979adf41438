"""examples/quickstart in universal, debug (leak-checked) and trace mode, plus its loader stub.

Every function gets good input and bad input: wrong types, overflow, wrong argument counts,
unknown keywords. Bad input must raise a clear Python exception, never crash or leak.
"""
import collections
import math
import os
import statistics
import subprocess
import sys
import threading

import pytest

import hpyrs_abi
from conftest import CONTEXT_NAMES, PYPY, built_module, load, universal_only

I64_MAX = 2**63 - 1
I64_MIN = -2**63


@pytest.fixture(scope="session")
def quickstart_so():
    return built_module("HPYRS_QUICKSTART_SO")


@pytest.fixture(scope="session")
def qs(quickstart_so, hpy_mode, tmp_path_factory):
    return load("quickstart", quickstart_so, hpy_mode, tmp_path_factory)


# ---- the module ----

def test_context_of_each_mode(qs, hpy_mode, request):
    assert qs.context_name() == CONTEXT_NAMES[hpy_mode]
    # every test of a debug-mode module runs inside the leak detector (conftest.leak_check)
    assert request.node.leak_checked == (hpy_mode == "debug")


def test_module_attributes(qs):
    assert qs.__version__ == "0.1.0"
    assert qs.__doc__.startswith("The hpy-rs quickstart module")
    assert qs.add.__doc__ == "Add two 64-bit integers."
    assert qs.add.__text_signature__ == "(a, b, /)"
    assert qs.greet.__text_signature__ == "(name, greeting='Hello', *, punctuation='!')"
    assert qs.count_args.__text_signature__ == "(*args, **kwargs)"


def test_exports_only_the_entry_points(quickstart_so):
    out = subprocess.run(["nm", "-D", "--defined-only", quickstart_so], check=True,
                         capture_output=True, text=True).stdout
    exported = sorted(line.split()[-1] for line in out.splitlines() if line.split()[1] in "TDB")
    assert exported == hpyrs_abi.entry_points("quickstart")


# ---- positional functions ----

def test_add(qs):
    assert qs.add(40, 2) == 42
    assert qs.add(I64_MAX, 0) == I64_MAX
    assert qs.add(I64_MIN, 0) == I64_MIN
    assert qs.add(True, 1) == 2  # bool is an int


def test_add_bad_input(qs):
    with pytest.raises(TypeError, match=r"^add\(\) argument 'a' must be int, not str$"):
        qs.add("x", 2)
    with pytest.raises(TypeError, match=r"^add\(\) argument 'b' must be int, not float$"):
        qs.add(1, 2.5)
    with pytest.raises(TypeError, match=r"must be int, not NoneType"):
        qs.add(None, 2)
    with pytest.raises(OverflowError, match=r"^add\(\) argument 'a': int out of range for i64$"):
        qs.add(2**63, 0)
    with pytest.raises(OverflowError, match="does not fit in 64 bits"):
        qs.add(I64_MAX, 1)
    with pytest.raises(TypeError, match=r"^add\(\) missing 1 required positional argument: 'b'$"):
        qs.add(1)
    with pytest.raises(TypeError, match=r"^add\(\) missing 2 required positional arguments: 'a' and 'b'$"):
        qs.add()
    with pytest.raises(TypeError, match=r"^add\(\) takes 2 positional arguments but 3 were given$"):
        qs.add(1, 2, 3)
    with pytest.raises(TypeError, match="keyword arguments"):
        qs.add(a=1, b=2)


def test_divide(qs):
    assert qs.divide(1, 4) == 0.25
    assert qs.divide(1.5, 0.5) == 3.0
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        qs.divide(1, 0)
    with pytest.raises(TypeError, match=r"divide\(\) argument 'b' must be float, not str"):
        qs.divide(1, "2")


def test_hello_strings(qs):
    assert qs.hello("you") == "Hello, you!"
    assert qs.hello("Zoë 🐍") == "Hello, Zoë 🐍!"
    assert qs.hello("a\0b") == "Hello, a\0b!"
    assert qs.hello("é\0" * 200) == "Hello, " + "é\0" * 200 + "!"
    long = "x" * 10_000
    assert qs.hello(long) == "Hello, " + long + "!"


def test_hello_bad_input(qs):
    with pytest.raises(TypeError, match=r"hello\(\) argument 'name' must be str, not int"):
        qs.hello(3)
    with pytest.raises(TypeError, match=r"must be str, not bytes"):
        qs.hello(b"you")
    with pytest.raises(TypeError):
        qs.hello()
    with pytest.raises(TypeError):
        qs.hello("a", "b")
    with pytest.raises(UnicodeEncodeError):
        qs.hello("\ud800")  # a lone surrogate has no UTF-8


# ---- keyword parameters ----

def test_greet_keywords_and_defaults(qs):
    assert qs.greet("Bob") == "Hello, Bob!"
    assert qs.greet("Bob", "Hi") == "Hi, Bob!"
    assert qs.greet(name="Bob", greeting="Hey") == "Hey, Bob!"
    assert qs.greet("Bob", punctuation="?") == "Hello, Bob?"
    assert qs.greet(punctuation=".", name="Ann") == "Hello, Ann."


def test_greet_bad_input(qs):
    with pytest.raises(TypeError, match=r"^greet\(\) missing 1 required positional argument: 'name'$"):
        qs.greet()
    with pytest.raises(TypeError, match=r"^greet\(\) got an unexpected keyword argument 'bogus'$"):
        qs.greet("a", bogus=1)
    with pytest.raises(TypeError, match=r"^greet\(\) got multiple values for argument 'name'$"):
        qs.greet("a", name="b")
    with pytest.raises(TypeError, match=r"^greet\(\) takes from 1 to 2 positional arguments but 3 were given$"):
        qs.greet("a", "b", "c")
    with pytest.raises(TypeError, match=r"greet\(\) argument 'punctuation' must be str, not int"):
        qs.greet("a", punctuation=1)


def test_count_args(qs):
    assert qs.count_args() == (0, 0)
    assert qs.count_args(1, 2, 3) == (3, 0)
    assert qs.count_args(1, x=1, y=2) == (1, 2)
    assert qs.count_args(*range(100), **{"k%d" % i: i for i in range(50)}) == (100, 50)


def test_keyword_names_without_utf8(qs):
    # A lone surrogate is a legal keyword name in Python but has no UTF-8 form.
    assert qs.count_args(**{"\ud800": None}) == (0, 1)
    assert qs.count_args(1, **{"\ud800": None, "x": 2}) == (1, 2)
    with pytest.raises(TypeError, match=r"^greet\(\) got an unexpected keyword argument '\\ud800'$"):
        qs.greet("a", **{"\ud800": 1})
    assert qs.greet("a", **{"greeting": "Hi"}) == "Hi, a!"


# ---- collections ----

def test_stats(qs):
    assert qs.stats([1, 2, 3.5]) == (6.5 / 3, 1.0, 3.5)
    assert qs.stats((4,)) == (4.0, 4.0, 4.0)
    # any iterable: a generator, a set
    assert qs.stats(x for x in [1.0, 3.0]) == (2.0, 1.0, 3.0)
    assert qs.stats({2.0}) == (2.0, 2.0, 2.0)


def test_stats_bad_input(qs):
    with pytest.raises(ValueError, match="empty sequence"):
        qs.stats([])
    with pytest.raises(TypeError, match="str"):
        qs.stats("123")
    with pytest.raises(TypeError, match=r"^stats\(\) argument 'values' must be iterable, not int$"):
        qs.stats(5)
    with pytest.raises(TypeError, match=r"^stats\(\) argument 'values': item 1: expected float, got str$"):
        qs.stats([1.0, "two"])


def test_stats_nan_propagates(qs):
    """NaN policy: a NaN anywhere makes all three results NaN (as numpy's mean, min and max),
    wherever it is; min and max never skip it."""
    nan, inf = float("nan"), float("inf")
    for values in ([nan, 1.0], [1.0, nan], [1.0, nan, 3.0], [nan], [inf, nan, -inf], (2.0, nan)):
        assert [math.isnan(x) for x in qs.stats(values)] == [True] * 3, values
    assert "NaN" in qs.stats.__doc__


def test_stats_infinities(qs):
    inf = float("inf")
    assert qs.stats([inf, 1.0]) == (inf, 1.0, inf)
    assert qs.stats([1.0, -inf]) == (-inf, -inf, 1.0)
    assert qs.stats([inf, inf]) == (inf, inf, inf)
    mean, low, high = qs.stats([inf, -inf, 0.0])
    assert math.isnan(mean) and (low, high) == (-inf, inf)  # inf - inf has no value: NaN


def test_stats_mean_of_large_finite_values(qs):
    # The sum of the values overflows a float; their mean does not.
    big = sys.float_info.max
    assert qs.stats([big, big]) == (big, big, big)
    assert qs.stats([-big, -big, -big]) == (-big, -big, -big)
    mean = qs.stats([1e308, 1e308, -1e308, 1e308])[0]
    assert mean == pytest.approx(float(statistics.mean([1e308, 1e308, -1e308, 1e308])), rel=1e-15)


def test_stats_mean_lies_between_min_and_max(qs):
    # A float sum rounds: 0.1 + 0.1 + 0.1 is 0.30000000000000004, a third of it more than 0.1.
    assert qs.stats([0.1] * 3) == (statistics.mean([0.1] * 3), 0.1, 0.1) == (0.1, 0.1, 0.1)
    assert qs.stats([0.1] * 10)[0] == 0.1


def python_word_counts(text):
    """What `word_counts` promises: Python's own `str.split()` and `str.lower()`.

    `str.split()` splits at whitespace, the characters of `str.isspace()`. PyPy 7.3.19's
    `str.split()` disagrees with its own `str.isspace()` (it does not split at \\x1c-\\x1f, and it
    splits at U+180E, which is not whitespace since Unicode 6.3): a PyPy bug. There the words are
    cut at the `isspace()` characters instead, which is what the language defines and what
    CPython's `str.split()` does (checked on CPython)."""
    if PYPY:
        words = "".join(" " if c.isspace() else c for c in text).split(" ")
    else:
        words = text.split()
    return dict(collections.Counter(word.lower() for word in words if word))


# Every code point that UTF-8 can encode (not the surrogates).
ALL_CHARACTERS = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def test_word_counts(qs):
    assert qs.word_counts("a b A c") == {"a": 2, "b": 1, "c": 1}
    assert list(qs.word_counts("to be or not to be")) == ["be", "not", "or", "to"]
    assert qs.word_counts("") == {}
    assert qs.word_counts("\x1c") == python_word_counts("\x1c") == {}
    assert qs.word_counts("a\x1fb\x1ec\x1dd\x1ca") == {"a": 2, "b": 1, "c": 1, "d": 1}


def test_word_counts_split_and_lower_like_python_for_every_character(qs):
    """Every character between two letters: whitespace splits there, anything else is lowercased
    in a word. Python's whitespace includes \\x1c-\\x1f, which Unicode's does not, and the
    interpreter's Unicode version, not Rust's, decides what lowercases."""
    text = "x".join(ALL_CHARACTERS)
    counts = qs.word_counts(text)
    expected = python_word_counts(text)
    assert counts == expected
    assert sum(counts.values()) == 30  # split at each of Python's 29 whitespace characters
    assert list(counts) == sorted(expected)


def test_word_counts_final_sigma(qs):
    # Lowercasing a capital sigma depends on its neighbours: the same in the text as in its words.
    for text in ["ΟΔΟΣ", "ΟΔΟΣ ΟΔΟΣ", "ΑΣ\x1cΑΣ\x1fΣ", "ΑΣΑ Σ ΑΣ\u2003ΣΑ", "Α\u0345Σ\x1e'Σ"]:
        assert qs.word_counts(text) == python_word_counts(text), text


def test_bytes(qs):
    assert qs.reverse_bytes(b"abc") == b"cba"
    assert qs.reverse_bytes(b"") == b""
    assert qs.reverse_bytes(bytes(range(256))) == bytes(reversed(range(256)))
    with pytest.raises(TypeError, match="must be bytes, not str"):
        qs.reverse_bytes("abc")
    with pytest.raises(TypeError, match="must be bytes, not bytearray"):
        qs.reverse_bytes(bytearray(b"abc"))


def test_optional(qs):
    assert qs.maybe_double(None) is None
    assert qs.maybe_double(21) == 42
    with pytest.raises(OverflowError, match="too large to double"):
        qs.maybe_double(I64_MAX)
    with pytest.raises(TypeError, match="must be int, not str"):
        qs.maybe_double("1")


# ---- calling back into Python ----

def test_apply_calls_back(qs):
    assert qs.apply(len, "abcd") == 4
    assert qs.apply(lambda x: [x, x], 1) == [1, 1]


def test_exception_in_callback_propagates(qs):
    def boom(_):
        raise KeyError("from Python")
    with pytest.raises(KeyError, match="from Python"):
        qs.apply(boom, 1)
    with pytest.raises(TypeError):
        qs.apply(42, 1)  # not callable


def test_call_with_args_and_kwargs(qs):
    assert qs.call_with(max, 3, 9, 4) == 9
    assert qs.call_with(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    assert qs.call_with(dict, a=1) == {"a": 1}


# ---- the GIL, globals, errors, panics ----

def test_sum_of_squares(qs):
    assert qs.sum_of_squares(10) == 285
    assert qs.sum_of_squares(0) == 0
    with pytest.raises(OverflowError, match="overflows 64 bits"):
        qs.sum_of_squares(2**32)
    with pytest.raises(OverflowError, match="out of range for u64"):
        qs.sum_of_squares(-1)


def test_sum_of_squares_from_threads(qs):
    results = []

    def work():
        results.append(qs.sum_of_squares(200_000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [sum(i * i for i in range(200_000))] * 4


def test_counter_keeps_state_in_a_global(qs):
    first = qs.counter()
    assert qs.counter() == first + 1
    assert qs.counter() == first + 2


def test_custom_exception(qs):
    assert issubclass(qs.QuickstartError, Exception)
    assert qs.QuickstartError.__module__ == "quickstart"
    assert qs.QuickstartError.__doc__ == "Raised by quickstart.fail()."
    with pytest.raises(qs.QuickstartError, match="^boom$"):
        qs.fail("boom")
    with pytest.raises(TypeError):
        qs.fail(1)


def test_panic_becomes_runtime_error(qs):
    with pytest.raises(RuntimeError, match="^Rust panic: this is a Rust panic$"):
        qs.panics()
    assert qs.add(1, 1) == 2  # the module still works


def test_noargs_and_o_reject_wrong_counts(qs):
    with pytest.raises(TypeError, match="takes no arguments"):
        qs.context_name(1)
    with pytest.raises(TypeError, match="takes exactly one argument"):
        qs.hello()


# ---- the loader stub: `import quickstart`, mode chosen by HPY ----

@pytest.mark.parametrize("hpy_env, expected", [
    (None, "universal"), ("universal", "universal"), ("debug", "debug"), ("trace", "trace"),
    ("quickstart:debug", "debug"), ("other:trace,quickstart:debug", "debug"),
])
def test_import_through_stub(quickstart_so, hpy_env, expected):
    universal_only("the loader stub quickstart.py loads the .hpy0.so through hpy.universal")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(quickstart_so))
    env.pop("HPY", None)
    if hpy_env is not None:
        env["HPY"] = hpy_env
    code = ("import sys, quickstart; assert 'pkg_resources' not in sys.modules; "
            "print(quickstart.context_name()); print(quickstart.add(1, 2))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [CONTEXT_NAMES[expected], "3"]


def test_stub_without_hpy_says_to_install_it(quickstart_so):
    universal_only("the loader stub quickstart.py loads the .hpy0.so through hpy.universal")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(quickstart_so))
    # as on a CPython without the hpy package: importing it fails
    code = "import sys; sys.modules['hpy'] = None; import quickstart"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: quickstart is a universal HPy module and needs the HPy runtime on "
        "CPython: pip install hpy (PyPy has it built in)")


# ---- import cost: what every import of an hpy-rs module runs ----

# Counts the live functions compiled from Python source by hpy-rs (file name "<hpy-rs>"): the
# private unraisable hook of `hpy::err` was one, compiled at every import (~100 µs on CPython).
COMPILED_BY_HPYRS = (
    "import gc, sys\n"
    "hook = sys.unraisablehook\n"
    "import quickstart\n"
    "def count():\n"
    "    return sum(1 for o in gc.get_objects() if type(o).__name__ == 'function'"
    " and getattr(o.__code__, 'co_filename', None) == '<hpy-rs>')\n"
    "print(count())\n"
    "print(sorted(n for n in vars(quickstart) if 'unraisable' in n or 'hpy-rs' in n))\n"
    "print(sys.unraisablehook is hook)\n"
    # the count sees such a function: one more, compiled here
    "namespace = {}\n"
    "exec(compile('def f(): pass', '<hpy-rs>', 'exec'), namespace)\n"
    "print(count())\n"
)


@pytest.mark.parametrize("mode", ["universal", "debug", "trace"])
def test_import_compiles_no_python_source(quickstart_so, mode):
    universal_only("the loader stub quickstart.py loads the .hpy0.so through hpy.universal")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(quickstart_so), HPY=mode)
    out = subprocess.run([sys.executable, "-c", COMPILED_BY_HPYRS], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    compiled, leftovers, hook_untouched, with_one_more = out.stdout.splitlines()
    # PyPy's debug mode keeps the Python hook: an HPy function as the hook aborts there (see
    # hpy::err::HOOK_SOURCE)
    assert compiled == ("1" if PYPY and mode == "debug" else "0")
    assert int(with_one_more) == int(compiled) + 1
    # the hook the module definition made is taken off the module at exec
    assert leftovers == "[]"
    assert hook_untouched == "True"
