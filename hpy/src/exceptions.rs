//! Python's built-in exception types, as Rust constructors.
//!
//! ```
//! use hpy::exceptions::ValueError;
//!
//! fn check_width(width: i64) -> hpy::Result<i64> {
//!     if width <= 0 {
//!         return Err(ValueError::new_err("width must be positive"));
//!     }
//!     Ok(width)
//! }
//! assert_eq!(check_width(0).unwrap_err().to_string(), "ValueError: width must be positive");
//! ```
//!
//! Each type has `TYPE` (an [`ExceptionType`], e.g. for [`Error::matches`]), `new_err(msg)`
//! and `new_err_args(args)` (`KeyError::new_err_args((key,))`: `KeyError(key)`, see
//! [`Error::with_args`]). Types declared with `#[hpy::exception]` have the same items.

use std::borrow::Cow;
use std::mem::offset_of;

use crate::err::{Error, ExceptionArgs, ExceptionType};
use crate::ffi::HPyContext;

/// A Rust name for a Python exception type: the built-in ones here and the ones declared with
/// `#[hpy::exception]` (what `#[hpy::exception(extends = ...)]` accepts as a base).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Python exception type",
    note = "`extends` takes a built-in exception (`ValueError`, `hpy::exceptions::KeyError`, ...) or an `#[hpy::exception]` type; \
            an exception class holding a Rust value (`#[hpy::class(extends = ...)]`) cannot be extended by a declaration"
)]
pub trait PyException {
    /// The type as an [`ExceptionType`].
    const TYPE: ExceptionType;
}

macro_rules! exceptions {
    ($($name:ident = $field:ident;)*) => {$(
        #[doc = concat!("Python's built-in `", stringify!($name), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            #[doc = concat!("`", stringify!($name), "` as an [`ExceptionType`].")]
            pub const TYPE: ExceptionType =
                ExceptionType::builtin(offset_of!(HPyContext, $field), stringify!($name));

            #[doc = concat!("A new `", stringify!($name), "` with message `msg`, raised when it reaches Python.")]
            #[inline]
            pub fn new_err(msg: impl Into<Cow<'static, str>>) -> Error {
                Error::new(Self::TYPE, msg)
            }

            #[doc = concat!("A new `", stringify!($name), "(*args)`, raised when it reaches Python (see [`Error::with_args`]).")]
            #[inline]
            pub fn new_err_args(args: impl ExceptionArgs) -> Error {
                Error::with_args(Self::TYPE, args)
            }
        }

        impl PyException for $name {
            const TYPE: ExceptionType = $name::TYPE;
        }

        impl From<$name> for ExceptionType {
            fn from(_: $name) -> ExceptionType {
                $name::TYPE
            }
        }
    )*};
}

/// Exceptions whose constructor does not take a message (they are raised by codecs with five
/// arguments): only their `TYPE`, for matching with [`Error::matches`].
macro_rules! match_only_exceptions {
    ($($name:ident = $field:ident;)*) => {$(
        #[doc = concat!("Python's built-in `", stringify!($name), "` (for matching: it cannot be raised from a message).")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            #[doc = concat!("`", stringify!($name), "` as an [`ExceptionType`].")]
            pub const TYPE: ExceptionType =
                ExceptionType::builtin(offset_of!(HPyContext, $field), stringify!($name));
        }

        impl PyException for $name {
            const TYPE: ExceptionType = $name::TYPE;
        }

        impl From<$name> for ExceptionType {
            fn from(_: $name) -> ExceptionType {
                $name::TYPE
            }
        }
    )*};
}

exceptions! {
    BaseException = h_BaseException;
    Exception = h_Exception;
    StopAsyncIteration = h_StopAsyncIteration;
    StopIteration = h_StopIteration;
    GeneratorExit = h_GeneratorExit;
    ArithmeticError = h_ArithmeticError;
    LookupError = h_LookupError;
    AssertionError = h_AssertionError;
    AttributeError = h_AttributeError;
    BufferError = h_BufferError;
    EOFError = h_EOFError;
    FloatingPointError = h_FloatingPointError;
    OSError = h_OSError;
    ImportError = h_ImportError;
    ModuleNotFoundError = h_ModuleNotFoundError;
    IndexError = h_IndexError;
    KeyError = h_KeyError;
    KeyboardInterrupt = h_KeyboardInterrupt;
    MemoryError = h_MemoryError;
    NameError = h_NameError;
    OverflowError = h_OverflowError;
    RuntimeError = h_RuntimeError;
    RecursionError = h_RecursionError;
    NotImplementedError = h_NotImplementedError;
    SyntaxError = h_SyntaxError;
    IndentationError = h_IndentationError;
    TabError = h_TabError;
    ReferenceError = h_ReferenceError;
    SystemError = h_SystemError;
    SystemExit = h_SystemExit;
    TypeError = h_TypeError;
    UnboundLocalError = h_UnboundLocalError;
    UnicodeError = h_UnicodeError;
    ValueError = h_ValueError;
    ZeroDivisionError = h_ZeroDivisionError;
    BlockingIOError = h_BlockingIOError;
    BrokenPipeError = h_BrokenPipeError;
    ChildProcessError = h_ChildProcessError;
    ConnectionError = h_ConnectionError;
    ConnectionAbortedError = h_ConnectionAbortedError;
    ConnectionRefusedError = h_ConnectionRefusedError;
    ConnectionResetError = h_ConnectionResetError;
    FileExistsError = h_FileExistsError;
    FileNotFoundError = h_FileNotFoundError;
    InterruptedError = h_InterruptedError;
    IsADirectoryError = h_IsADirectoryError;
    NotADirectoryError = h_NotADirectoryError;
    PermissionError = h_PermissionError;
    ProcessLookupError = h_ProcessLookupError;
    TimeoutError = h_TimeoutError;
    Warning = h_Warning;
    UserWarning = h_UserWarning;
    DeprecationWarning = h_DeprecationWarning;
    PendingDeprecationWarning = h_PendingDeprecationWarning;
    SyntaxWarning = h_SyntaxWarning;
    RuntimeWarning = h_RuntimeWarning;
    FutureWarning = h_FutureWarning;
    ImportWarning = h_ImportWarning;
    UnicodeWarning = h_UnicodeWarning;
    BytesWarning = h_BytesWarning;
    ResourceWarning = h_ResourceWarning;
}

match_only_exceptions! {
    UnicodeEncodeError = h_UnicodeEncodeError;
    UnicodeDecodeError = h_UnicodeDecodeError;
    UnicodeTranslateError = h_UnicodeTranslateError;
}
