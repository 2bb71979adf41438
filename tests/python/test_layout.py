"""tests/fixtures/layout in universal, debug (leak-checked) and trace mode, and natively.

Module constants (`#[hpy::constant]`) and submodules (`#[hpy::submodule]`): attributes of the
parent, importable as `layout.geometry` once the parent is imported, with their own functions,
constants, exception classes and globals; and the `.pyi` that describes them.
"""
import importlib
import os
import pickle
import sys

import pytest

from conftest import PYPY, built_module, load

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "pep517"))
from hpy_build import stubs  # noqa: E402


@pytest.fixture(scope="session")
def layout_so():
    return built_module("HPYRS_LAYOUT_SO")


@pytest.fixture(scope="session")
def lay(layout_so, hpy_mode, tmp_path_factory):
    return load("layout", layout_so, hpy_mode, tmp_path_factory)


@pytest.fixture
def imported(lay, monkeypatch):
    """The module as `import layout` finds it (the loader puts it in sys.modules), with its
    submodules as they registered themselves when it was loaded."""
    monkeypatch.setitem(sys.modules, "layout", lay)
    monkeypatch.setitem(sys.modules, "layout.geometry", lay.geometry)
    monkeypatch.setitem(sys.modules, "layout.text", lay.text)
    return lay


# ---- constants ----

def test_constants(lay):
    assert lay.VERSION == "1.0"
    assert lay.MAX == 10 and type(lay.MAX) is int
    assert lay.ratio == 0.5  # renamed with `name = "ratio"`
    assert not hasattr(lay, "RATIO")
    assert lay.NOTHING is None
    assert lay.PAIR == (3, True)
    assert lay.twice_max() == 20  # the Rust const is still usable from Rust


def test_module_attributes(lay):
    names = {n for n in dir(lay) if not n.startswith("__")}
    if PYPY:
        names.discard("spec")  # PyPy 7.3.19's HPy loader sets `spec` on every HPy module
    assert names == {"MAX", "NOTHING", "PAIR", "VERSION", "f", "geometry", "ratio", "text", "twice_max"}


# ---- submodules ----

def test_submodule_is_an_attribute(lay):
    g = lay.geometry
    assert type(g) is type(sys)
    assert g.__name__ == "layout.geometry"
    assert g.__doc__ == "Geometry helpers: a submodule."
    assert g.SCALE == 100
    assert lay.text.__name__ == "layout.text"  # `name = "text"` on `mod strings`
    assert lay.text.__doc__ is None


def test_submodule_is_in_sys_modules(lay):
    # registered when the parent was loaded (the last load of the module in this process)
    assert sys.modules["layout.geometry"].__name__ == "layout.geometry"
    assert sys.modules["layout.text"].__name__ == "layout.text"


def test_import_forms(imported):
    import layout.geometry
    assert layout.geometry is imported.geometry
    from layout.text import shout
    assert shout("abc") == "ABC"
    from layout import geometry
    assert geometry.f() == "layout.geometry.f"
    assert importlib.import_module("layout.text") is imported.text
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("layout.nothing_here")


def test_same_function_name_in_each_module(lay):
    assert lay.f() == "layout.f"
    assert lay.geometry.f() == "layout.geometry.f"
    assert lay.text.f() == "layout.text.f"
    assert not hasattr(lay, "geometry.f")  # moved, not copied


def test_submodule_function(lay):
    scale = lay.geometry.scale
    assert scale(2) == 200
    assert scale(2, factor=3) == 600
    assert scale.__name__ == scale.__qualname__ == "geometry.scale"
    assert scale.__text_signature__ == "(length, *, factor=1)"
    assert scale.__doc__ == "Scale a length; negative lengths raise RangeError."
    with pytest.raises(TypeError, match=r"^geometry\.scale\(\) argument 'length' must be int, not str$"):
        scale("x")
    with pytest.raises(TypeError):
        scale(1, 2)  # factor is keyword-only


def test_submodule_exception(lay):
    RangeError = lay.geometry.RangeError
    assert issubclass(RangeError, ValueError)
    assert RangeError.__module__ == "layout.geometry"
    assert RangeError.__qualname__ == "RangeError"
    assert RangeError.__doc__ == "Out of range."
    with pytest.raises(RangeError, match="^negative length -1$"):
        lay.geometry.scale(-1)


def test_submodule_exception_pickles(imported):
    exc = imported.geometry.RangeError("far")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and copy.args == ("far",)


def test_submodule_function_pickles_like_a_top_level_one(imported):
    def roundtrip(f):
        try:
            return pickle.loads(pickle.dumps(f)) is f
        except pickle.PicklingError:
            return "unpicklable"

    # CPython pickles a module function by `__module__` and `__qualname__`; PyPy 7.3.19's HPy
    # functions have no `__module__`, top-level ones too: the same answer for both.
    expected = "unpicklable" if PYPY else True
    assert roundtrip(imported.f) == expected
    assert roundtrip(imported.geometry.scale) == expected


def test_submodule_global(lay):
    first = lay.geometry.count()
    assert lay.geometry.count() == first + 1


# ---- the .pyi ----

def test_stub(layout_so):
    with open(layout_so, "rb") as f:
        text = stubs.extract(f.read())
    assert "VERSION: str\nMAX: int\nratio: float\nNOTHING: int | None\nPAIR: tuple[int, bool]\n" in text
    assert "geometry: types.ModuleType\n" in text
    assert "text: types.ModuleType\n" in text
    assert "# The submodule `layout.geometry` (`import layout.geometry`), whose stub is:\n" in text
    assert "#   SCALE: int\n" in text
    assert "#   def scale(length: int, *, factor: int = 1) -> int:\n" in text
    assert "#   class RangeError(ValueError):\n" in text
    compile(text, "layout.pyi", "exec")
