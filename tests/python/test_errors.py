"""tests/fixtures/errors in universal, debug (leak-checked) and trace mode, and natively.

Exceptions raised with any arguments (`KeyError(key)`, `StopIteration(value)`, `OSError(errno,
strerror)`), `std::io::Error` as the OSError subclass with `.errno`, `.strerror`, `.filename`,
`raise ... from ...` (`Error::with_cause`), the exception object of a failed call taken out of
the interpreter (`Error::into_value`) and raised again (`Error::from_value`), and exception
classes declared with `#[hpy::exception]`.
"""
import errno
import functools
import os
import pickle
import sys
import threading
import traceback

import pytest

from conftest import PYPY, built_module, load
from hpyrs_abi import NATIVE

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "pep517"))
from hpy_build import stubs  # noqa: E402


@pytest.fixture(scope="session")
def errors_so():
    return built_module("HPYRS_ERRORS_SO")


@pytest.fixture(scope="session")
def m(errors_so, hpy_mode, tmp_path_factory):
    return load("errors", errors_so, hpy_mode, tmp_path_factory)


def frames(exc):
    """The function names of an exception's traceback, outermost first."""
    return [frame.f_code.co_name for frame, _ in traceback.walk_tb(exc.__traceback__)]


def raise_key_error():
    raise KeyError("k")


# ---- raising with arguments ----

def test_key_error_with_a_key(m):
    with pytest.raises(KeyError) as info:
        m.key_error("abc")
    assert info.value.args == ("abc",)
    assert str(info.value) == "'abc'"  # repr(key), as Python's own KeyError(key)
    with pytest.raises(KeyError) as info:
        m.key_error_of((1, 2))
    assert info.value.args == ((1, 2),)
    assert str(info.value) == "(1, 2)"


def test_stop_iteration_value(m):
    with pytest.raises(StopIteration) as info:
        m.stop_iteration(5)
    assert info.value.value == 5
    assert info.value.args == (5,)


@pytest.mark.parametrize("number, cls", [(errno.ENOENT, FileNotFoundError), (errno.EACCES, PermissionError),
                                         (errno.EEXIST, FileExistsError), (errno.EISDIR, IsADirectoryError),
                                         (99999, OSError)])
def test_os_error_subclass_from_errno(m, number, cls):
    with pytest.raises(OSError) as info:
        m.os_error(number, "the message")
    assert type(info.value) is cls
    assert info.value.errno == number
    assert info.value.strerror == "the message"
    assert str(info.value) == "[Errno %d] the message" % number


def test_no_and_several_arguments(m):
    with pytest.raises(ValueError) as info:
        m.value_error_args(0)
    assert info.value.args == ()
    with pytest.raises(ValueError) as info:
        m.value_error_args(3)
    assert info.value.args == (1, "two", 3.5)


def test_error_made_on_another_thread(m):
    with pytest.raises(KeyError) as info:
        m.error_from_thread("t")
    assert info.value.args == ("t",)


def test_raise_value_must_be_an_exception(m):
    exc = ValueError("mine")
    with pytest.raises(ValueError) as info:
        m.raise_value(exc)
    assert info.value is exc
    with pytest.raises(TypeError, match="^exceptions must derive from BaseException, not int$"):
        m.raise_value(3)
    with pytest.raises(TypeError, match="^exceptions must derive from BaseException, not type$"):
        m.raise_value(ValueError)  # a class, not an instance


def test_failing_constructor_raises_its_own_error(m):
    # UnicodeDecodeError takes five arguments: calling it with one raises TypeError.
    with pytest.raises(TypeError):
        m.unicode_error_args()


# ---- std::io::Error ----

def test_io_error_from_the_os(m, tmp_path):
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError) as info:
        m.read(missing)
    assert info.value.errno == errno.ENOENT
    assert info.value.strerror == os.strerror(errno.ENOENT)
    assert info.value.filename is None
    with pytest.raises(IsADirectoryError) as info:
        m.read(str(tmp_path))
    assert info.value.errno == errno.EISDIR
    (tmp_path / "ok.txt").write_text("content")
    assert m.read(str(tmp_path / "ok.txt")) == "content"


def test_io_error_with_file_name(m, tmp_path):
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError) as info:
        m.read_named(missing)
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == missing
    assert str(info.value) == "[Errno %d] %s: %r" % (errno.ENOENT, os.strerror(errno.ENOENT), missing)
    # a name that is not UTF-8 comes back as os.fsdecode gives it
    odd = os.fsdecode(os.path.join(os.fsencode(str(tmp_path)), b"\xff-missing"))
    with pytest.raises(FileNotFoundError) as info:
        m.read_named(odd)
    assert info.value.filename == odd


def test_io_error_from_errno_number(m):
    with pytest.raises(PermissionError) as info:
        m.io_errno(errno.EPERM)
    assert info.value.errno == errno.EPERM
    assert info.value.strerror == os.strerror(errno.EPERM)


def test_io_error_made_in_rust(m):
    with pytest.raises(FileNotFoundError) as info:
        m.io_custom("not_found", False)
    assert info.value.args == ("made in Rust",)
    assert info.value.errno is None
    with pytest.raises(PermissionError) as info:
        m.io_custom("permission", True)
    assert info.value.filename == "some/file"
    with pytest.raises(OSError) as info:
        m.io_custom("other", False)
    assert type(info.value) is OSError


# ---- causes ----

def test_lazy_error_wrapping_a_python_error_keeps_it_as_cause(m):
    with pytest.raises(ValueError, match="^calling f failed$") as info:
        m.wrap_call(raise_key_error)
    cause = info.value.__cause__
    assert type(cause) is KeyError and cause.args == ("k",)
    assert info.value.__suppress_context__ is True
    assert "raise_key_error" in frames(cause)
    assert m.wrap_call(lambda: 7) == 7


def test_lazy_cause(m):
    with pytest.raises(RuntimeError, match="^outer$") as info:
        m.lazy_cause("q")
    assert type(info.value.__cause__) is KeyError
    assert info.value.__cause__.args == ("q",)


def test_pending_error_with_a_lazy_cause(m):
    with pytest.raises(KeyError) as info:
        m.pending_with_cause(raise_key_error)
    assert info.value.args == ("k",)
    assert type(info.value.__cause__) is RuntimeError
    assert info.value.__cause__.args == ("the cause",)


def test_cause_chain(m):
    with pytest.raises(m.ParseError, match="^top$") as info:
        m.cause_chain(raise_key_error)
    middle = info.value.__cause__
    assert type(middle) is ValueError and middle.args == ("middle",)
    assert type(middle.__cause__) is KeyError


def test_pending_error_is_not_its_own_cause(m):
    with pytest.raises(KeyError) as info:
        m.self_cause(raise_key_error)
    assert info.value.__cause__ is None


def test_cause_and_context_as_python_reports_them(m):
    try:
        try:
            raise IndexError("handled")
        except IndexError:
            m.wrap_call(raise_key_error)
    except ValueError as e:
        report = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    assert "The above exception was the direct cause of the following exception" in report
    assert "KeyError: 'k'" in report


# ---- inspecting a caught exception ----

def test_catch_gives_the_raised_object(m):
    exc = KeyError("mine")

    def raise_it():
        raise exc

    assert m.catch(raise_it) is exc
    assert frames(exc)[-1] == "raise_it"  # its traceback came along
    assert m.catch(lambda: 1) is None


def test_catch_exception_raised_by_c_code(m):
    exc = m.catch(functools.partial(int, "x"))
    assert type(exc) is ValueError
    assert "invalid literal" in str(exc)
    # raised by C code: no traceback (CPython makes one for the unraisable hook: removed)
    assert exc.__traceback__ is None


def test_caught_exception_can_be_raised_again(m):
    exc = KeyError("again")

    def raise_it():
        raise exc

    with pytest.raises(KeyError) as info:
        m.catch_and_reraise(raise_it)
    assert info.value is exc
    if PYPY:
        # PyPy's HPyErr_SetObject starts a new traceback for a raised object
        assert frames(info.value)[0] == "test_caught_exception_can_be_raised_again"
    else:
        assert frames(info.value) == ["test_caught_exception_can_be_raised_again", "raise_it"]

    def caller():
        m.catch_and_reraise(functools.partial(int, "x"))

    with pytest.raises(ValueError) as info:
        caller()
    # each frame once: the one CPython adds for the unraisable hook is not doubled
    assert frames(info.value) == ["test_caught_exception_can_be_raised_again", "caller"]


def test_matches_then_inspects(m):
    assert m.key_error_args(lambda: {}["zz"]) == ("zz",)
    with pytest.raises(ValueError):
        m.key_error_args(functools.partial(int, "x"))
    assert m.key_error_args(lambda: "fine") == "fine"


def test_each_caught_exception_is_its_own(m):
    counter = iter(range(10))

    def raise_numbered():
        raise KeyError(next(counter))

    first, second = m.catch_twice(raise_numbered)
    assert (first.args, second.args) == ((0,), (1,))


def test_catching_leaves_the_unraisable_hook_alone(m, monkeypatch):
    seen = []
    hook = seen.append
    monkeypatch.setattr(sys, "unraisablehook", hook)
    assert type(m.catch(raise_key_error)) is KeyError
    assert sys.unraisablehook is hook
    assert seen == []
    monkeypatch.delattr(sys, "unraisablehook")
    assert type(m.catch(raise_key_error)) is KeyError
    assert not hasattr(sys, "unraisablehook")


@pytest.mark.reenters
def test_catching_on_many_threads(m):
    results = []

    def work(n):
        def raise_n():
            raise KeyError(n)
        results.extend(m.catch(raise_n).args[0] == n for _ in range(200))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 800


def test_lazy_error_objects(m):
    parse = m.lazy_value("message")
    assert type(parse) is m.ParseError and parse.args == ("bad",)
    assert m.lazy_value("args").args == ("k",)
    os_error = m.lazy_value("os")
    assert type(os_error) is FileNotFoundError and os_error.errno == errno.ENOENT
    caused = m.lazy_value("cause")
    assert type(caused) is ValueError and type(caused.__cause__) is TypeError
    wrong = m.lazy_value("wrong type")
    assert type(wrong) is TypeError and wrong.args == ("expected int, got str",)


def test_taking_without_exception_is_a_system_error(m):
    with pytest.raises(SystemError, match="without setting a Python exception"):
        m.into_value_without_exception()


def test_lazy_matches(m):
    assert m.lazy_matches() == [True, True, True, False, False, True, True, True]


def test_rust_side_display(m):
    enoent = os.strerror(errno.ENOENT)
    assert m.displays() == [
        "ParseError: bad",
        "ParseError",
        "Renamed",
        'KeyError("k",)',
        "FileNotFoundError: [Errno 2] %s" % enoent,
        'FileNotFoundError: [Errno 2] %s: "f.txt"' % enoent,
        "RuntimeError: outer (caused by KeyError: inner)",
    ]


# ---- declared exceptions ----

def test_declared_classes(m):
    assert issubclass(m.ParseError, ValueError)
    assert m.DeepError.__mro__[:3] == (m.DeepError, m.ParseError, ValueError)
    assert issubclass(m.Renamed, Exception) and not issubclass(m.Renamed, ValueError)
    for cls, name in [(m.ParseError, "ParseError"), (m.DeepError, "DeepError"), (m.Renamed, "Renamed")]:
        assert cls.__module__ == "errors"
        assert cls.__name__ == cls.__qualname__ == name
    assert m.ParseError.__doc__ == "A value could not be parsed."
    assert not hasattr(m, "RustName")


def test_raise_declared(m):
    with pytest.raises(m.ParseError, match="^oops$"):
        m.raise_declared("parse", "oops")
    with pytest.raises(m.ParseError) as info:  # a subclass
        m.raise_declared("deep", "x")
    assert type(info.value) is m.DeepError and info.value.args == ("x", 42)
    with pytest.raises(m.Renamed, match="^r$"):
        m.raise_declared("renamed", "r")
    with pytest.raises(m.ParseError, match='^not a number: "x"$'):
        m.parse_number("x")
    assert m.parse_number(" 12 ") == 12


def test_declared_matches(m):
    def raise_deep():
        raise m.DeepError("d")

    assert m.matches_parse_error(raise_deep) is True
    assert m.matches_parse_error(raise_key_error) is False
    assert m.matches_parse_error(lambda: None) is False


def test_declared_pickles_by_name(m, monkeypatch):
    monkeypatch.setitem(sys.modules, "errors", m)  # pickle finds the class by its module's name
    for exc in (m.ParseError("p"), m.DeepError("d", 1), m.Renamed()):
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is type(exc)
        assert copy.args == exc.args


def test_stub_declares_the_exceptions(errors_so):
    with open(errors_so, "rb") as f:
        text = stubs.extract(f.read())
    assert 'class ParseError(ValueError):\n    """A value could not be parsed."""\n' in text
    assert "class DeepError(ParseError):\n" in text
    assert "class Renamed(Exception):\n    ...\n" in text
    compile(text, "errors.pyi", "exec")
