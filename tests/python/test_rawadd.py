"""The raw end-to-end proof: `rawadd.hpy0.so`, written on hpy-sys alone, in every HPy mode."""
import subprocess

import pytest

from conftest import CONTEXT_NAMES, built_module, load, universal_only

universal_only("rawadd is written by hand on hpy-sys's universal ABI (HPyInit_rawadd); it has no "
               "native build")


@pytest.fixture(scope="session")
def rawadd_so():
    return built_module("HPYRS_RAWADD_SO")


@pytest.fixture(scope="session")
def rawadd(rawadd_so, hpy_mode, tmp_path_factory):
    return load("rawadd", rawadd_so, hpy_mode, tmp_path_factory)


def test_exports_only_the_hpy_entry_points(rawadd_so):
    out = subprocess.run(["nm", "-D", "--defined-only", rawadd_so], check=True,
                         capture_output=True, text=True).stdout
    exported = sorted(line.split()[-1] for line in out.splitlines() if line.split()[1] == "T")
    assert exported == ["HPyInitGlobalContext_rawadd", "HPyInit_rawadd",
                        "get_required_hpy_major_version_rawadd",
                        "get_required_hpy_minor_version_rawadd"]
    undefined = subprocess.run(["nm", "-D", "--undefined-only", rawadd_so], check=True,
                               capture_output=True, text=True).stdout
    assert "Py" not in undefined, "a universal module must not link against libpython"


def test_runs_with_the_context_of_its_mode(rawadd, hpy_mode):
    assert rawadd.ctx_name() == CONTEXT_NAMES[hpy_mode]


def test_add(rawadd):
    assert rawadd.add(40, 2) == 42
    assert rawadd.add(-5, 3) == -2
    assert rawadd.add(2**63 - 2, 1) == 2**63 - 1
    assert rawadd.add(-2**63, 0) == -2**63


def test_add_rejects_non_integers(rawadd):
    with pytest.raises(TypeError, match=r"add\(\) arguments must be int"):
        rawadd.add("x", 2)
    with pytest.raises(TypeError, match=r"add\(\) arguments must be int"):
        rawadd.add(1, 2.5)
    with pytest.raises(TypeError):
        rawadd.add(None, 1)


def test_add_overflow(rawadd):
    with pytest.raises(OverflowError):
        rawadd.add(2**63, 0)
    # the first argument's error is the one raised: the second is not converted after it
    with pytest.raises(OverflowError):
        rawadd.add(2**63, None)
    with pytest.raises(OverflowError, match="does not fit in a 64-bit integer"):
        rawadd.add(2**62, 2**62)


def test_add_wrong_argument_count(rawadd):
    with pytest.raises(TypeError, match=r"add\(\) takes exactly 2 arguments \(1 given\)"):
        rawadd.add(1)
    with pytest.raises(TypeError, match=r"\(3 given\)"):
        rawadd.add(1, 2, 3)


def test_module_metadata(rawadd):
    assert rawadd.__doc__ == "A universal HPy module written on hpy-sys alone."
    assert rawadd.add.__text_signature__ == "(a, b, /)"  # HPyFunc_VARARGS takes no keywords
    assert rawadd.add.__doc__ == "Return a + b for two 64-bit integers."


# The two tests below check the modes' own machinery, so each loads the one mode it is about.

@pytest.mark.leaks_on_purpose
def test_debug_mode_leak_detector_catches_a_leak(rawadd_so, tmp_path_factory):
    """The detector used around every debug-mode test really sees a leaked handle."""
    from hpy.debug import HPyLeakError, LeakDetector
    debug_mod = load("rawadd", rawadd_so, "debug", tmp_path_factory)
    with pytest.raises(HPyLeakError) as exc:
        with LeakDetector():
            assert debug_mod.leak() is None
    assert [h.obj for h in exc.value.leaks] == [12345]


def test_trace_mode_counts_context_calls(rawadd_so, tmp_path_factory):
    import hpy.trace
    trace_mod = load("rawadd", rawadd_so, "trace", tmp_path_factory)
    before = hpy.trace.get_call_counts()
    assert trace_mod.add(1, 2) == 3
    after = hpy.trace.get_call_counts()
    assert after["ctx_Long_AsInt64_t"] - before["ctx_Long_AsInt64_t"] == 2
    assert after["ctx_Long_FromInt64_t"] - before["ctx_Long_FromInt64_t"] == 1
