"""The suite's one ABI switch: which build of the modules under test is loaded, and how.

`HPYRS_ABI=universal` (the default): the universal build, `<name>.hpy0.so`, loaded by the hpy
package (`hpy.universal.load`, or PyPy's built-in one) in universal, debug or trace mode.

`HPYRS_ABI=native`: the same Rust source built against CPython's own C API (cargo feature
`hpy/native`, `tools/build-module.sh --native`), `<name><EXT_SUFFIX>`, imported as an ordinary
extension module (`PyInit_<name>`). Its one mode is "native": HPy's debug and trace modes do not
exist there, and nothing on this path imports the hpy package (an import of it fails, below).

Used by conftest.py and by the scripts the tests run in child processes (thread_scenarios.py,
the deep-tree and out-of-memory scripts), which inherit HPYRS_ABI.
"""
import importlib.machinery
import importlib.util
import os
import shutil
import sys

ABI = os.environ.get("HPYRS_ABI", "universal")
if ABI not in ("universal", "native"):
    raise RuntimeError("HPYRS_ABI=%r: expected 'universal' or 'native'" % ABI)
NATIVE = ABI == "native"

if NATIVE:
    MODES = {"native": None}
    # The native build must not need hpy: any `import hpy` on this path fails loudly (it would
    # otherwise succeed in the venvs, which have hpy for the universal runs).
    sys.modules["hpy"] = None
else:
    import hpy.universal

    MODES = {
        "universal": hpy.universal.MODE_UNIVERSAL,
        "debug": hpy.universal.MODE_DEBUG,
        "trace": hpy.universal.MODE_TRACE,
    }


def runtime():
    """What the modules run on, for the header of a test run."""
    if NATIVE:
        return "native build (CPython's C API, no hpy)"
    return "hpy %s" % hpy.universal.get_version()[0]


def entry_points(name):
    """The symbols a built module `name` exports (and nothing else)."""
    if NATIVE:
        return ["PyInit_%s" % name]
    return sorted(["HPyInitGlobalContext_%s" % name, "HPyInit_%s" % name,
                   "get_required_hpy_major_version_%s" % name,
                   "get_required_hpy_minor_version_%s" % name])


def load_file(name, path, mode):
    """Load the built module at `path` as module `name` in `mode` (not added to sys.modules)."""
    if NATIVE:
        assert mode == "native", mode
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    return hpy.universal.load(name, path, spec, mode=MODES[mode])


def load(name, so_path, mode, tmp_path_factory):
    """load_file on a copy of `so_path` in a fresh temporary directory, keeping its file name
    (a native module's must end in EXT_SUFFIX).

    Each load needs its own copy: dlopen returns the same library for the same file, and a
    universal library's stored trampoline context would then be shared between the modes.
    """
    directory = tmp_path_factory.mktemp(mode)
    assert ".hpy" not in str(directory), "hpy.universal reads the ABI tag from the first '.hpy' in the path"
    target = str(directory / os.path.basename(so_path))
    shutil.copy(so_path, target)
    return load_file(name, target, mode)
