"""8 threads on shared hpy-rs objects, in universal, debug (leak-checked) and trace mode.

Each scenario of thread_scenarios.py runs in a fresh interpreter: an abort or a segfault (HPy's
debug mode aborts with "Wrong HPy Context!" when it loses track of which thread holds its
context) then fails one test instead of ending the whole pytest run. The scenarios check that the
results are consistent: every successful call counted exactly once, racing borrows refused with
"already borrowed" and without effect, results equal to Python's.

Two scenarios are the reproductions of HPy 0.9 debug-mode aborts found by the attack of issue 12:
`allow_threads_against_calls` (a thread inside `Context::allow_threads` while another calls into
the module) and `point_and_buffer_loops` (8 threads mixing callbacks and buffer releases);
`allow_threads` (4 threads releasing the GIL, 4 calling) aborts for the same reason as the first.
They fail in debug mode until hpy-rs stops depending on the debug context's per-thread state
there.
"""
import os
import signal
import subprocess
import sys

import pytest

import thread_scenarios
from conftest import PYPY_DEBUG_REENTRY, built_module, skip_module_if_types_crash

HERE = os.path.dirname(os.path.abspath(__file__))
# generous: the slowest scenario takes about 2 s in debug mode; a hang must still end the test
TIMEOUT = 180


def run_scenario(name, mode):
    function = thread_scenarios.BY_NAME[name]
    module = thread_scenarios.SCENARIOS[function]
    built_module("HPYRS_%s_SO" % module.upper())  # fails clearly when run outside `make test`
    if module != "quickstart":
        skip_module_if_types_crash()  # its classes cannot be instantiated on CPython 3.13
    try:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "thread_scenarios.py"), name, mode],
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s in %s mode did not finish in %d s (deadlock?)\n%s" % (name, mode, TIMEOUT, e.stderr))
    if proc.returncode < 0:
        how = signal.Signals(-proc.returncode).name
        lines = [line for line in proc.stderr.splitlines() if not line.startswith(("/", " "))]
        pytest.fail("%s in %s mode: the interpreter died with %s\n%s" % (name, mode, how, "\n".join(lines[-20:])))
    assert proc.returncode == 0, "%s in %s mode failed:\n%s" % (name, mode, proc.stderr[-4000:])
    assert proc.stdout.split() == ["ok", name, mode]


# The scenarios in which one thread calls the module while another thread's call runs Python code
# (a callback): PyPy's debug mode aborts on that, as it does on re-entry, in C as well
# (test_debug_mode_threads.py shows both with a C module).
CALL_DURING_A_CALLBACK = {"intlist", "module_functions", "point_and_buffer_loops", "point_callbacks", "tree_nodes"}


@pytest.mark.parametrize("scenario", sorted(thread_scenarios.BY_NAME))
def test_threads(scenario, hpy_mode):
    if hpy_mode == "debug" and sys.implementation.name == "pypy" and scenario in CALL_DURING_A_CALLBACK:
        pytest.skip(PYPY_DEBUG_REENTRY)
    run_scenario(scenario, hpy_mode)
