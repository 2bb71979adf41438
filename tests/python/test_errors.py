"""tests/fixtures/errors in universal, debug (leak-checked) and trace mode, and natively.

Exceptions raised with any arguments (`KeyError(key)`, `StopIteration(value)`, `OSError(errno,
strerror)`), `std::io::Error` as the OSError subclass with `.errno`, `.strerror`, `.filename`,
`raise ... from ...` (`Error::with_cause`), the exception object of a failed call taken out of
the interpreter (`Error::into_value`) and raised again (`Error::from_value`), exception
classes declared with `#[hpy::exception]`, and exception classes holding a Rust value
(`#[hpy::class(extends = ValueError)]`).
"""
import copy
import errno
import functools
import gc
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


# ---- exception classes holding a Rust value: #[hpy::class(extends = SomeException)] ----

# Instances of these classes hold an HPy class instance (their Rust value).
needs_types = pytest.mark.skipif(
    sys.version_info >= (3, 13) and not NATIVE,
    reason="hpy 0.9.0's runtime crashes instantiating HPy types on CPython 3.13 "
           "(hpy PR #490/#494: its type flag bit clashes with Py_TPFLAGS_INLINE_VALUES)")


@pytest.fixture
def live(m):
    """Checks that every Rust value made during the test is dropped exactly once by its end."""
    gc.collect()
    before = m.live_values()
    yield
    for _ in range(3):
        gc.collect()
    assert m.live_values() == before


def raiser(make):
    """A function raising `make()`."""
    def raise_it():
        raise make()
    return raise_it


def test_value_classes_are_exception_classes(m):
    assert issubclass(m.LineError, ValueError)
    assert m.Fault.__mro__[1:4] == (m.ParseError, ValueError, Exception)
    assert issubclass(m.Code, Exception) and not issubclass(m.Code, ValueError)
    for cls, name in [(m.LineError, "LineError"), (m.Fault, "Fault"), (m.Code, "Code")]:
        assert cls.__module__ == "errors"
        assert cls.__name__ == cls.__qualname__ == name
    assert m.LineError.__doc__ == "A syntax error at a line: an exception holding a Rust value."
    assert not hasattr(m, "RustFault")


@needs_types
def test_constructed_from_python(m, live):
    e = m.LineError(3, "bad")
    assert isinstance(e, ValueError)
    assert e.args == (3, "bad")
    assert e.line == 3
    assert e.message == "bad"
    assert str(e) == "line 3: bad"
    assert repr(e) == "LineError(3, 'bad')"
    assert e.describe("oops: ") == "oops: bad at line 3"
    e.message = "worse"
    assert str(e) == "line 3: worse"
    with pytest.raises(AttributeError):
        e.line = 4  # read-only
    with pytest.raises(TypeError):
        e.message = 5
    with pytest.raises(TypeError):
        m.LineError("three", "bad")
    with pytest.raises(TypeError):
        m.LineError(3)
    # methods returning the value, or the receiver
    moved = e.at_line(9)
    assert type(moved) is m.LineError and moved.line == 9 and str(moved) == "line 9: worse"
    assert e.itself() is e
    # static and class methods, class attributes
    assert m.LineError.count_lines("a\nb\nc") == 3
    assert m.LineError.KIND == "syntax"
    # a Rust function changing the value of an exception object
    m.set_message_of(e, "from rust")
    assert e.message == "from rust"


@needs_types
def test_raised_and_caught_in_python(m, live):
    def parse():
        try:
            {}["k"]
        except KeyError as cause:
            raise m.LineError(7, "no key") from cause

    with pytest.raises(ValueError) as info:
        parse()
    e = info.value
    assert type(e) is m.LineError and e.line == 7
    assert type(e.__cause__) is KeyError
    assert frames(e)[-1] == "parse"
    report = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    assert "errors.LineError: line 7: no key" in report
    assert "The above exception was the direct cause" in report
    try:
        raise m.LineError(8, "x")
    except m.LineError as caught:
        assert caught.line == 8


@needs_types
def test_raised_from_rust_lazily(m, live):
    with pytest.raises(m.LineError) as info:
        m.raise_line_error(4, "from rust")
    e = info.value
    assert e.line == 4 and e.message == "from rust"
    assert str(e) == "line 4: from rust"
    assert e.args == ()
    with pytest.raises(ValueError) as info:
        m.raise_line_error_with_args(5, "with args")
    assert info.value.args == (5, "with args") and info.value.line == 5
    with pytest.raises(m.LineError) as info:
        m.line_error_from_thread(6)
    assert info.value.line == 6 and info.value.message == "from a thread"
    with pytest.raises(m.LineError) as info:
        m.line_error_with_cause("key")
    assert info.value.line == 1
    assert type(info.value.__cause__) is KeyError and info.value.__cause__.args == ("key",)
    with pytest.raises(m.ParseError) as info:
        m.raise_fault(42)
    assert type(info.value) is m.Fault and info.value.code == 42 and info.value.payload is None


@needs_types
def test_rust_side_of_a_lazy_value_error(m, live):
    plain, with_args, matches = m.line_error_rust_side()
    assert plain == "LineError() with its Rust value"
    assert with_args == 'LineError(2, "y") with its Rust value'
    assert matches == [True, True, False, True, False]


@needs_types
def test_caught_in_rust(m, live):
    # (made beforehand: a function called by the module does not call it again, see `reenters`)
    eleven, thirteen = m.LineError(11, "x"), m.LineError(13, "x")
    assert m.line_of(raiser(lambda: eleven)) == 11
    assert m.line_of(lambda: None) is None
    with pytest.raises(KeyError):
        m.line_of(raise_key_error)
    assert m.value_as_line_error(raiser(lambda: thirteen)) == 13
    with pytest.raises(KeyError) as info:  # not a LineError: raised again as it was
        m.value_as_line_error(raise_key_error)
    if not PYPY:  # PyPy's HPyErr_SetObject starts a new traceback for a raised object
        assert "raise_key_error" in frames(info.value)
    assert m.line_of_exception(m.LineError(14, "x")) == 14
    with pytest.raises(TypeError, match="^expected LineError, got ValueError$"):
        m.line_of_exception(ValueError(1))
    with pytest.raises(TypeError, match="^expected LineError, got Fault$"):
        m.line_of_exception(m.fault(1))
    # extracted by value (#[derive(Clone)]) from the exception object
    assert m.code_value(m.Code(7)) == 7
    with pytest.raises(TypeError):
        m.code_value(7)


@needs_types
def test_python_subclass(m, live):
    class Sub(m.LineError):
        def hint(self):
            return "see line %d" % self.line

    class Fixed(m.LineError):
        def __init__(self, line, message):
            super().__init__(line, message.upper())

    e = Sub(2, "sub")
    assert isinstance(e, m.LineError) and isinstance(e, ValueError)
    assert e.line == 2 and e.hint() == "see line 2" and str(e) == "line 2: sub"
    three = Sub(3, "x")
    assert m.line_of(raiser(lambda: three)) == 3
    assert m.line_of_exception(e) == 2
    f = Fixed(4, "low")
    assert f.args == (4, "LOW") and f.message == "low"  # the value is made by __new__


@needs_types
@pytest.mark.reenters
def test_constructed_from_rust_through_the_class(m, live):
    start = m.LineError.at_start("empty")  # a Rust class method calling the class
    assert type(start) is m.LineError and start.line == 0 and start.args == (0, "empty")

    class Sub(m.LineError):
        pass

    start = Sub.at_start("s")  # the class method gets the subclass
    assert type(start) is Sub and start.line == 0
    assert m.line_of(lambda: m.raise_line_error(12, "r")) == 12
    assert m.line_of(raiser(lambda: Sub(3, "x"))) == 3


@needs_types
def test_pickling(m, live, monkeypatch):
    monkeypatch.setitem(sys.modules, "errors", m)
    e = m.LineError(3, "bad")
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is m.LineError and copy is not e
    assert (copy.line, copy.message, copy.args, str(copy)) == (3, "bad", (3, "bad"), "line 3: bad")
    with pytest.raises(ValueError) as info:
        m.raise_line_error_with_args(5, "with args")
    assert pickle.loads(pickle.dumps(info.value)).line == 5
    # raised from Rust without the constructor's arguments: unpickling cannot rebuild it
    with pytest.raises(m.LineError) as info:
        m.raise_line_error(4, "no args")
    data = pickle.dumps(info.value)
    with pytest.raises(TypeError):
        pickle.loads(data)
    # without a constructor: refused when pickled
    with pytest.raises(TypeError, match="cannot pickle 'Fault' object"):
        pickle.dumps(m.fault(1))


@needs_types
def test_no_constructor(m, live):
    with pytest.raises(TypeError, match="^cannot create 'Fault' instances: the class defines no constructor$"):
        m.Fault(1)
    with pytest.raises(TypeError, match="cannot create 'Fault' instances"):
        m.Fault.__new__(m.Fault)
    e = m.fault(5)
    assert type(e) is m.Fault and e.code == 5 and e.args == ()
    with pytest.raises(AttributeError):
        e.code = 6  # read-only


@needs_types
def test_exceptions_without_a_value(m, live):
    message = "^this LineError exception holds no Rust value"
    bare = ValueError.__new__(m.LineError)  # the base's __new__: no value made
    with pytest.raises(TypeError, match=message):
        bare.line
    with pytest.raises(TypeError, match=message):
        bare.describe("")
    with pytest.raises(TypeError, match=message):
        str(bare)
    with pytest.raises(TypeError, match=message):
        m.line_of_exception(bare)
    with pytest.raises(TypeError, match=message):
        m.value_as_line_error(raiser(lambda: bare))
    bare_code = Exception.__new__(m.Code)
    with pytest.raises(TypeError, match="^code_value\\(\\) argument 'code': this Code exception holds no Rust value"):
        m.code_value(bare_code)
    with pytest.raises(TypeError, match="^this Fault exception holds no Rust value"):
        m.ParseError.__new__(m.Fault).code

    # a forwarded method or property called on another object
    with pytest.raises(TypeError):
        m.LineError.describe(ValueError("v"), "")
    with pytest.raises(TypeError):
        m.LineError.line.__get__(5)

    e = m.LineError(1, "x")
    del e.__hpy_value__
    with pytest.raises(TypeError, match=message):
        e.line
    with pytest.raises(TypeError, match=message):
        m.line_of_exception(e)
    for hostile in (5, "text", m.Code(1), ValueError("v"), m.fault(2)):
        e.__hpy_value__ = hostile
        with pytest.raises(TypeError, match=message):
            e.line
        with pytest.raises(TypeError, match=message):
            m.set_message_of(e, "y")
    # another LineError's value is a LineError value: both share it
    other = m.LineError(2, "other")
    e.__hpy_value__ = other.__hpy_value__
    assert e.line == 2
    m.set_message_of(e, "shared")
    assert other.message == "shared"


@needs_types
def test_values_are_dropped_once(m):
    gc.collect()
    before = m.live_values()
    made = [m.LineError(i, "x") for i in range(50)]
    assert m.live_values() == before + 50
    del made
    gc.collect()
    assert m.live_values() == before
    for i in range(50):
        with pytest.raises(m.LineError):
            m.raise_line_error(i, "x")
        with pytest.raises(m.Fault):
            m.raise_fault(i)
    m.drop_unraised(20)
    e = m.LineError(1, "x")
    assert copy.copy(e).line == 1  # a copy is made from the args, with a value of its own
    e.__hpy_value__ = m.LineError(2, "y").__hpy_value__  # the replaced value dies
    del e
    # a Python object referring back to the exception: a cycle through the Rust value's field
    for _ in range(20):
        f = m.fault(3)
        f.attach(f)
        assert f.payload is f
        holder = [f]
        f2 = m.fault(4)
        f2.attach(holder)
        holder.append(f2)
    del f, f2, holder
    for _ in range(3):
        gc.collect()
    assert m.live_values() == before


@needs_types
def test_protocol_methods_are_forwarded(m, live):
    c = m.Code(7)
    assert repr(c) == "Code(7)" and str(c) == "7"  # str: Exception's, from the args
    assert c == 7 and c != 8 and c < 8 and c <= 7 and c > 6 and c >= 7
    assert not (c == 6)
    assert hash(c) == 7 and len(c) == 7 and len(m.Code(-3)) == 3
    with pytest.raises(TypeError):
        c < "x"  # the argument does not convert


@needs_types
def test_weak_references(m, live):
    import weakref
    e = m.LineError(1, "x")
    r = weakref.ref(e)
    assert r() is e
    del e
    gc.collect()
    assert r() is None


def test_stub_declares_the_value_exceptions(errors_so):
    with open(errors_so, "rb") as f:
        text = stubs.extract(f.read())
    assert 'class LineError(ValueError):\n    """A syntax error at a line: an exception holding a Rust value."""\n' in text
    assert "class Fault(ParseError):\n" in text
    assert "class Code(Exception):\n" in text
    assert "    def __new__(cls, line: int, message: str, /) -> LineError:\n" in text
    assert "    @property\n    def line(self) -> int:\n" in text
    assert "    def describe(self, prefix: str, /) -> str:\n" in text
    assert "    @classmethod\n    def at_start(cls: type, message: str, /)" in text
    assert text.index("class ParseError(") < text.index("class Fault(")  # a base before its subclasses
    compile(text, "errors.pyi", "exec")
