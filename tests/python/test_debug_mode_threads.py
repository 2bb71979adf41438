"""HPy 0.9's debug mode with threads and callbacks: what aborts in C on HPy, and that hpy-rs
does not abort in the same situations.

HPy 0.9's debug mode (hpy/debug/src/debug_ctx.c, debug_ctx_cpython.c) gives every call a
context from a cache of 16 shared by all threads, and marks the module's global debug context
invalid while any HPy call runs. Two consequences, shown here with a C module
(tests/python/c/debug_threads.c, built at test time against this interpreter's hpy package):

1. Releasing the interpreter inside a call (HPy_LeavePythonExecution) while another thread makes
   16 or more HPy calls: those calls reuse, then invalidate, the sleeping call's context, and
   HPy_ReenterPythonExecution aborts with "Error: Wrong HPy Context!".
2. Releasing a buffer inside a callback of an HPy call (or on another thread meanwhile): the
   bf_releasebuffer trampoline converts the view with the global context before the call, finds
   it invalid, and aborts.

hpy-rs avoids both: in debug mode `Context::allow_threads` keeps the interpreter, and its buffer
release does not enter HPy (hpy/src/impl_/slots.rs, `Export`). Each scenario runs in a child
process, since an abort must not take pytest down; each runs in universal mode as a control.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import built_module, skip_module_if_types_crash, universal_only

universal_only("HPy's debug mode and a C module built with hpy.devel; the native build has neither")

import hpy.devel  # noqa: E402 - after the skip: the native build has no hpy

HERE = os.path.dirname(os.path.abspath(__file__))

# Loads `so` as module `name` in `mode` in the child, each from its own directory (see
# conftest.load for why).
CHILD_PRELUDE = textwrap.dedent("""
    import importlib.util, os, shutil, sys, tempfile, threading
    import hpy.universal

    def load(name, so, mode):
        directory = tempfile.mkdtemp()
        target = os.path.join(directory, os.path.basename(so))
        shutil.copy(so, target)
        spec = importlib.util.spec_from_file_location(name, target)
        modes = {"universal": hpy.universal.MODE_UNIVERSAL, "debug": hpy.universal.MODE_DEBUG}
        return hpy.universal.load(name, target, spec, mode=modes[sys.argv[1]])
""")

# Scenario 1: one thread sleeps with the interpreter released; the main thread makes 100 calls
# meanwhile (more than the 16 contexts of debug mode's cache).
LEAVE_C = """
m = load("debug_threads", os.environ["C_SO"], sys.argv[1])
t = threading.Thread(target=m.leave_and_sleep, args=(300,))
t.start()
import time; time.sleep(0.05)
for _ in range(100):
    m.noop()
t.join()
print("survived")
"""
LEAVE_HPYRS = """
api = load("apitest", os.environ["HPYRS_APITEST_SO"], sys.argv[1])
results = []
t = threading.Thread(target=lambda: results.append(api.sleep_nogil(300)))
t.start()
import time; time.sleep(0.05)
for _ in range(100):
    assert api.still_alive() == "alive"
t.join()
assert results == [300], results
print("survived")
"""

# Scenario 2: a buffer released inside a callback of an HPy call; single-threaded.
RELEASE_C = """
m = load("debug_threads", os.environ["C_SO"], sys.argv[1])
view = memoryview(m.Exporter())
assert bytes(view) == b"hpy!"
m.call(view.release)
print("survived")
"""
RELEASE_HPYRS = """
g = load("geometry", os.environ["HPYRS_GEOMETRY_SO"], sys.argv[1])
poly = g.Polyline()
poly.append(1.0, 2.0)
pt = g.Point(3.0, 4.0)
view = memoryview(poly)
assert view.tolist() == [1.0, 2.0]

def release_then_double(x):
    view.release()
    return 2 * x

pt.update_x(release_then_double)
assert pt.x == 6.0
# the export's borrow ended with the release: the polyline can change again
poly.append(5.0, 6.0)
assert len(poly) == 2
try:
    view.tolist()
except ValueError:
    pass
else:
    raise AssertionError("a released memoryview must refuse to be read")
print("survived")
"""


@pytest.fixture(scope="module")
def c_module(tmp_path_factory):
    """tests/python/c/debug_threads.c built for HPy's universal ABI with this interpreter's hpy
    package (as hpy.devel's build_ext would)."""
    include = os.path.join(os.path.dirname(hpy.devel.__file__), "include")
    out = str(tmp_path_factory.mktemp("cbuild") / "debug_threads.hpy0.so")
    cc = os.environ.get("CC", "gcc")
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-DHPY", "-DHPY_ABI_UNIVERSAL",
           "-I", os.path.join(include, "hpy", "forbid_python_h"), "-I", include,
           os.path.join(HERE, "c", "debug_threads.c"), "-o", out]
    subprocess.run(cmd, check=True)
    return out


def run_child(body, mode, **so_paths):
    env = dict(os.environ, **so_paths)
    return subprocess.run([sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(body), mode],
                          env=env, capture_output=True, text=True, timeout=120)


def assert_survives(proc):
    assert proc.returncode == 0 and proc.stdout.strip() == "survived", proc.stderr[-3000:]


def assert_aborts_with_wrong_context(proc):
    assert proc.returncode == -6, "expected HPy's debug mode to abort (SIGABRT), got %s\n%s" % (
        proc.returncode, proc.stderr[-3000:])
    assert "Error: Wrong HPy Context!" in proc.stderr


def check_c_aborts_where_hpyrs_survives(c_body, c_so, hpyrs_body, mode, hpyrs_module):
    """In CPython's debug mode the C scenario aborts (HPy's own limit) and the hpy-rs one
    survives; in universal mode both survive. PyPy's debug mode (its own implementation of HPy's
    debug context handling) takes both C scenarios."""
    c = run_child(c_body, mode, C_SO=c_so)
    if mode == "debug" and sys.implementation.name != "pypy":
        assert_aborts_with_wrong_context(c)
    else:
        assert_survives(c)
    env_var = "HPYRS_%s_SO" % hpyrs_module.upper()
    assert_survives(run_child(hpyrs_body, mode, **{env_var: built_module(env_var)}))


@pytest.mark.parametrize("mode", ["universal", "debug"])
def test_interpreter_released_while_other_threads_call(c_module, mode):
    check_c_aborts_where_hpyrs_survives(LEAVE_C, c_module, LEAVE_HPYRS, mode, "apitest")


@pytest.mark.parametrize("mode", ["universal", "debug"])
def test_buffer_released_inside_a_callback(c_module, mode):
    # both the C type and geometry's classes hit hpy 0.9.0's type bug on CPython 3.13
    skip_module_if_types_crash()
    check_c_aborts_where_hpyrs_survives(RELEASE_C, c_module, RELEASE_HPYRS, mode, "geometry")


# Scenario 3: an HPy function called again from Python code it calls; single-threaded.
REENTER_C = """
m = load("debug_threads", os.environ["C_SO"], sys.argv[1])
assert m.call(lambda: m.call(lambda: 42)) == 42
print("survived")
"""


@pytest.mark.parametrize("mode", ["universal", "debug"])
def test_reentry_from_a_callback(c_module, mode):
    """CPython's debug mode gives the inner call a context of its own; PyPy 7.3.19's debug mode
    aborts when the outer call goes on. This is why tests marked `reenters` are skipped in PyPy's
    debug mode (conftest.PYPY_DEBUG_REENTRY); once PyPy fixes it, this fails, and the skip goes."""
    proc = run_child(REENTER_C, mode, C_SO=c_module)
    if mode == "debug" and sys.implementation.name == "pypy":
        assert_aborts_with_wrong_context(proc)
    else:
        assert_survives(proc)


# Scenario 4: one thread calls the module while another thread's call runs a Python callback.
CALL_DURING_CALLBACK_C = """
import time
m = load("debug_threads", os.environ["C_SO"], sys.argv[1])

def spin():
    start = time.time()
    while time.time() - start < 0.3:  # Python code: the interpreter switches threads meanwhile
        pass
    return 1

t = threading.Thread(target=lambda: m.call(spin))
t.start()
while t.is_alive():
    m.noop()
t.join()
print("survived")
"""


@pytest.mark.parametrize("mode", ["universal", "debug"])
def test_call_while_another_thread_runs_a_callback(c_module, mode):
    """The threaded form of test_reentry_from_a_callback: why test_threads skips its scenarios
    with callbacks in PyPy's debug mode."""
    proc = run_child(CALL_DURING_CALLBACK_C, mode, C_SO=c_module)
    if mode == "debug" and sys.implementation.name == "pypy":
        assert_aborts_with_wrong_context(proc)
    else:
        assert_survives(proc)
