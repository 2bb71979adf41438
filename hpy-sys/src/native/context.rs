//! The native [`HPyContext`]: a token, plus the constant handles the safe layer reads from it.
//!
//! HPy's CPython ABI keeps one static context whose handle members are the interpreter's own
//! objects (`h_None` is `Py_None`, `h_TypeError` is `PyExc_TypeError`). The members are filled
//! by [`init_context`] from the module's `PyInit_<name>`, before any other code of the module
//! runs; every trampoline then passes [`native_context`] to its implementation.
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int};

use super::{py, py2h};
use crate::{HPy, HPy_NULL};

macro_rules! native_context {
    ($($field:ident = $value:expr;)*) => {
        /// The native build's context: the name, the ABI version and the constant handles of
        /// HPy 0.9.0's context, under the universal names. No function pointers: a native call
        /// is a direct call.
        #[repr(C)]
        pub struct HPyContext {
            /// `"HPy CPython ABI"`.
            pub name: *const c_char,
            /// 0, as HPy 0.9.0's.
            pub abi_version: c_int,
            $(
                #[doc = concat!("`", stringify!($value), "`.")]
                pub $field: HPy,
            )*
        }

        const EMPTY: HPyContext = HPyContext {
            name: c"HPy CPython ABI".as_ptr(),
            abi_version: 0,
            $($field: HPy_NULL,)*
        };

        /// Fill the constant handles (idempotent: they are the same objects every time).
        ///
        /// # Safety
        /// Called with the GIL held, from module initialisation.
        pub unsafe fn init_context() {
            let ctx = CONTEXT.0.get();
            // SAFETY: the GIL serialises the writers; readers only run after the module's
            // initialisation, and every writer writes the same values.
            unsafe {
                $((*ctx).$field = py2h($value);)*
            }
        }
    };
}

/// Wraps the static so that it can be shared; see [`init_context`] for why that is sound.
struct Shared(UnsafeCell<HPyContext>);
// SAFETY: written only by `init_context` under the GIL, before any reader can run.
unsafe impl Sync for Shared {}

static CONTEXT: Shared = Shared(UnsafeCell::new(EMPTY));

/// The context every native call receives.
#[inline(always)]
pub fn native_context() -> *mut HPyContext {
    CONTEXT.0.get()
}

/// A type object as an object pointer.
macro_rules! ty {
    ($t:ident) => {
        core::ptr::addr_of_mut!(py::$t).cast::<py::PyObject>()
    };
}

native_context! {
    h_None = py::Py_None();
    h_True = py::Py_True();
    h_False = py::Py_False();
    h_NotImplemented = py::Py_NotImplemented();
    h_Ellipsis = py::Py_Ellipsis();
    h_BaseException = py::PyExc_BaseException;
    h_Exception = py::PyExc_Exception;
    h_StopAsyncIteration = py::PyExc_StopAsyncIteration;
    h_StopIteration = py::PyExc_StopIteration;
    h_GeneratorExit = py::PyExc_GeneratorExit;
    h_ArithmeticError = py::PyExc_ArithmeticError;
    h_LookupError = py::PyExc_LookupError;
    h_AssertionError = py::PyExc_AssertionError;
    h_AttributeError = py::PyExc_AttributeError;
    h_BufferError = py::PyExc_BufferError;
    h_EOFError = py::PyExc_EOFError;
    h_FloatingPointError = py::PyExc_FloatingPointError;
    h_OSError = py::PyExc_OSError;
    h_ImportError = py::PyExc_ImportError;
    h_ModuleNotFoundError = py::PyExc_ModuleNotFoundError;
    h_IndexError = py::PyExc_IndexError;
    h_KeyError = py::PyExc_KeyError;
    h_KeyboardInterrupt = py::PyExc_KeyboardInterrupt;
    h_MemoryError = py::PyExc_MemoryError;
    h_NameError = py::PyExc_NameError;
    h_OverflowError = py::PyExc_OverflowError;
    h_RuntimeError = py::PyExc_RuntimeError;
    h_RecursionError = py::PyExc_RecursionError;
    h_NotImplementedError = py::PyExc_NotImplementedError;
    h_SyntaxError = py::PyExc_SyntaxError;
    h_IndentationError = py::PyExc_IndentationError;
    h_TabError = py::PyExc_TabError;
    h_ReferenceError = py::PyExc_ReferenceError;
    h_SystemError = py::PyExc_SystemError;
    h_SystemExit = py::PyExc_SystemExit;
    h_TypeError = py::PyExc_TypeError;
    h_UnboundLocalError = py::PyExc_UnboundLocalError;
    h_UnicodeError = py::PyExc_UnicodeError;
    h_UnicodeEncodeError = py::PyExc_UnicodeEncodeError;
    h_UnicodeDecodeError = py::PyExc_UnicodeDecodeError;
    h_UnicodeTranslateError = py::PyExc_UnicodeTranslateError;
    h_ValueError = py::PyExc_ValueError;
    h_ZeroDivisionError = py::PyExc_ZeroDivisionError;
    h_BlockingIOError = py::PyExc_BlockingIOError;
    h_BrokenPipeError = py::PyExc_BrokenPipeError;
    h_ChildProcessError = py::PyExc_ChildProcessError;
    h_ConnectionError = py::PyExc_ConnectionError;
    h_ConnectionAbortedError = py::PyExc_ConnectionAbortedError;
    h_ConnectionRefusedError = py::PyExc_ConnectionRefusedError;
    h_ConnectionResetError = py::PyExc_ConnectionResetError;
    h_FileExistsError = py::PyExc_FileExistsError;
    h_FileNotFoundError = py::PyExc_FileNotFoundError;
    h_InterruptedError = py::PyExc_InterruptedError;
    h_IsADirectoryError = py::PyExc_IsADirectoryError;
    h_NotADirectoryError = py::PyExc_NotADirectoryError;
    h_PermissionError = py::PyExc_PermissionError;
    h_ProcessLookupError = py::PyExc_ProcessLookupError;
    h_TimeoutError = py::PyExc_TimeoutError;
    h_Warning = py::PyExc_Warning;
    h_UserWarning = py::PyExc_UserWarning;
    h_DeprecationWarning = py::PyExc_DeprecationWarning;
    h_PendingDeprecationWarning = py::PyExc_PendingDeprecationWarning;
    h_SyntaxWarning = py::PyExc_SyntaxWarning;
    h_RuntimeWarning = py::PyExc_RuntimeWarning;
    h_FutureWarning = py::PyExc_FutureWarning;
    h_ImportWarning = py::PyExc_ImportWarning;
    h_UnicodeWarning = py::PyExc_UnicodeWarning;
    h_BytesWarning = py::PyExc_BytesWarning;
    h_ResourceWarning = py::PyExc_ResourceWarning;
    h_BaseObjectType = ty!(PyBaseObject_Type);
    h_TypeType = ty!(PyType_Type);
    h_BoolType = ty!(PyBool_Type);
    h_LongType = ty!(PyLong_Type);
    h_FloatType = ty!(PyFloat_Type);
    h_UnicodeType = ty!(PyUnicode_Type);
    h_TupleType = ty!(PyTuple_Type);
    h_ListType = ty!(PyList_Type);
    h_ComplexType = ty!(PyComplex_Type);
    h_BytesType = ty!(PyBytes_Type);
    h_MemoryViewType = ty!(PyMemoryView_Type);
    h_CapsuleType = ty!(PyCapsule_Type);
    h_SliceType = ty!(PySlice_Type);
    h_Builtins = py::PyEval_GetBuiltins();
}
