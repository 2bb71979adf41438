"""Shared pytest machinery for hpy-rs: load a built `.hpy0.so` in each HPy mode.

Every module test runs three times, in universal, debug and trace mode. In debug mode each test
is wrapped in HPy's LeakDetector, so a handle leaked by the Rust side fails the test.

With HPYRS_ABI=native (hpyrs_abi.py) the suite tests the native build instead: the same Rust
source compiled against CPython's C API, imported as ordinary extension modules, in the one mode
"native". Tests of what only the universal build has skip there (`universal_only`).

The built modules come from the test driver (tools/test.sh) through environment variables:
`HPYRS_RAWADD_SO` is the path of `rawadd.hpy0.so`.
"""
import gc
import os
import sys

import pytest

import hpyrs_abi
from hpyrs_abi import MODES, NATIVE

# The suite runs on CPython (with the hpy 0.9.0 package) and on PyPy (whose HPy is built in, as
# `hpy.universal`). Where the two interpreters legitimately differ, a test expects each one's own
# behaviour through the helpers below; what PyPy does differently is named where it is used.
PYPY = sys.implementation.name == "pypy"

# What `ctx->name` says in each mode: hpy 0.9.0's CPython backend names itself only in universal
# mode; PyPy's names its backend in every mode; the native build's context is named as HPy's own
# CPython ABI names it.
if NATIVE:
    CONTEXT_NAMES = {"native": "HPy CPython ABI"}
elif PYPY:
    CONTEXT_NAMES = {
        "universal": "HPy Universal ABI (PyPy backend)",
        "debug": "HPy Debug Mode ABI (PyPy backend)",
        "trace": "HPy Trace Mode ABI (PyPy backend)",
    }
else:
    CONTEXT_NAMES = {
        "universal": "HPy Universal ABI (CPython backend)",
        "debug": "HPy Debug Mode ABI",
        "trace": "HPy Trace Mode ABI",
    }


def expect(cpython, pypy):
    """What a test expects where the interpreters legitimately differ (each use says how)."""
    return pypy if PYPY else cpython


def type_name(dotted):
    """How the interpreter's own messages ("unsupported operand type(s)", "object is not
    iterable", ...) name an HPy type whose spec name is `dotted` ("geometry.Vector"): CPython
    prints the type's tp_name, which is the spec name; PyPy prints the type's __name__
    ("Vector"), for a type written in C on HPy as well. Messages written by hpy-rs itself name the
    type as hpy-rs decides, the same on both."""
    return dotted.rpartition(".")[2] if PYPY else dotted


def method_doc(signature, doc):
    """`__doc__` of a method of an HPy type documented `doc`, with the text signature `signature`
    ("norm($self)"). CPython's method descriptors split hpy's "signature\\n--\\n\\n" header off
    into `__text_signature__`; PyPy's keep it in `__doc__` and have no `__text_signature__`, for
    a type written in C on HPy as well (module functions are split on both)."""
    return "%s\n--\n\n%s" % (signature, doc) if PYPY else doc


def collect():
    """Free what is unreachable now. CPython frees an object when its last reference goes and
    the collector only finds cycles; PyPy has no reference counts: everything waits for a
    collection. One `gc.collect()` does both."""
    gc.collect()


# Why tests marked `reenters` cannot run in PyPy's debug mode (test_debug_mode_threads.py shows
# the same with a C module, so that it notices when PyPy fixes it).
PYPY_DEBUG_REENTRY = (
    "PyPy 7.3.19's HPy debug mode aborts the process ('Error: Wrong HPy Context!') when an HPy "
    "function is called while another HPy call runs Python code (a callback calling the module "
    "again, or another thread meanwhile); C on HPy aborts the same")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "leaks_on_purpose: the test leaks a handle deliberately; no automatic leak check")
    config.addinivalue_line(
        "markers", "reenters: Python code called by the module calls the module again (not run in "
                   "PyPy's debug mode: " + PYPY_DEBUG_REENTRY + ")")
    impl = sys.implementation
    print("hpy-rs tests on %s %s, %s" % (
        impl.name, ".".join(map(str, sys.version_info[:3])), hpyrs_abi.runtime()))


def universal_only(why):
    """Skip the calling test (or, called at module level, test module) in the native build,
    which has no HPy runtime: `why` says what the test needs of the universal build."""
    if NATIVE:
        pytest.skip("universal-build only: " + why, allow_module_level=True)


def skip_module_if_types_crash():
    """Skip the calling test module on CPython 3.13+, where hpy 0.9.0's runtime crashes when an
    HPy type is instantiated (an upstream bug, not ours). The native build has no HPy runtime:
    it runs them there."""
    if sys.version_info >= (3, 13) and not NATIVE:
        pytest.skip("hpy 0.9.0's runtime crashes instantiating HPy types on CPython 3.13 "
                    "(hpy PR #490/#494: its type flag bit clashes with Py_TPFLAGS_INLINE_VALUES)",
                    allow_module_level=True)


def run_call_sites(source, **names):
    """Run `source` as one compiled unit, in a namespace holding `names`; returns the namespace.

    CPython passes the keyword names of a call site as one constant tuple, and equal tuples in one
    unit are one object: call sites compiled together share them (checked here), which is what
    the tests of keyword-layout caching need.
    """
    code = compile(source, "<call sites>", "exec")
    tuples = [c for c in code.co_consts if isinstance(c, tuple)]
    assert len(tuples) == len(set(tuples)), "equal keyword-name tuples are expected to be one constant"
    namespace = dict(names)
    exec(code, namespace)
    return namespace


def call_unbound_without_receiver(obj, name):
    """`type(obj).<name>()` at a call site first specialized for `obj.<name>()`, with `obj` left
    in the stack slot where the receiver would be; returns the TypeError raised.

    CPython's specializing interpreter (gh-131998: 3.11 to 3.13.2; 3.12 was never fixed) then
    calls the METH_FASTCALL method with the stale `obj` as receiver and `nargs == -1`. The HPy
    runtime converts that many arguments and crashes unless the trampoline refuses the count.
    PyPy has no such specialization: there it is a plain unbound call without a receiver.
    """
    if sys.version_info[:2] == (3, 11) and not PYPY:
        pytest.skip("CPython 3.11's specialized call then also decrefs the stale stack slot itself "
                    "(gh-131998 as 3.11 has it), which corrupts the interpreter whatever the method does")
    source = (
        "def call(x, o):\n"
        "    stale = (o, o, o, o, o, o)  # leaves `o` in the stack slots above the call\n"
        "    try:\n"
        "        return x.%s()\n"
        "    except TypeError as e:\n"
        "        return e\n" % name)
    namespace = {}
    exec(compile(source, "<unbound call site>", "exec"), namespace)
    call = namespace["call"]
    for _ in range(200):
        call(obj, obj)  # the bound call, missing arguments: TypeError, but the site specializes
    return call(type(obj), obj)


def built_module(env_var):
    path = os.environ.get(env_var)
    if not path or not os.path.exists(path):
        pytest.fail("%s is not set to a built module (run the tests through `make test`)" % env_var)
    return path


# load(name, so_path, mode, tmp_path_factory): `so_path` as module `name` in `mode`, from a copy
load = hpyrs_abi.load


@pytest.fixture(scope="session", params=list(MODES))
def hpy_mode(request):
    return request.param


@pytest.fixture(autouse=True)
def reentry_on_pypy_debug(request):
    """Skip a `reenters` test in PyPy's debug mode, naming why."""
    if request.node.get_closest_marker("reenters") and sys.implementation.name == "pypy" \
            and "hpy_mode" in request.fixturenames and request.getfixturevalue("hpy_mode") == "debug":
        pytest.skip(PYPY_DEBUG_REENTRY)


@pytest.fixture(autouse=True)
def leak_check(request):
    """In debug mode, fail any test that leaves a handle open."""
    if "hpy_mode" not in request.fixturenames or request.getfixturevalue("hpy_mode") != "debug" \
            or request.node.get_closest_marker("leaks_on_purpose"):
        request.node.leak_checked = False
        yield
        return
    request.node.leak_checked = True
    from hpy.debug import LeakDetector
    with LeakDetector():
        yield


class ListClaiming(list):
    """A list whose `__len__` says `claimed`, whatever it holds."""

    def __init__(self, items, claimed):
        super().__init__(items)
        self.claimed = claimed

    def __len__(self):
        return self.claimed


def refuses_python_subclass(cls):
    """True (after checking it) where `cls` cannot be subclassed in Python: on PyPy 7.3.19 for a
    class whose Rust value needs dropping. PyPy aborts the process when it collects an instance
    of a Python subclass of an HPy type with `tp_destroy` (its `W_HPyObject._finalize_` asserts
    that the instance's type is an HPy type), so hpy-rs refuses such subclasses there."""
    if sys.implementation.name != "pypy":
        return False
    with pytest.raises(TypeError, match="cannot be subclassed in Python on PyPy: PyPy 7.3.19 aborts"):
        type("Sub", (cls,), {})
    return True
