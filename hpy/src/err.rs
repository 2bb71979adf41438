//! Errors: [`Error`], [`Result`], and the Python exception types ([`crate::exceptions`]).
//!
//! An [`Error`] is *lazy*: it holds an exception type and a Rust message, and becomes a Python
//! exception only when it reaches the boundary (the generated trampoline calls
//! [`Error::restore`]). It holds no handle, so it is `Send + Sync + 'static` and can cross
//! [`Context::allow_threads`](crate::Context::allow_threads), or be built from any user error
//! type with `From`.
//!
//! When an HPy call itself fails, the Python exception is already set in the interpreter and the
//! error is *pending* ([`Error::pending`]). HPy 0.9 has no way to fetch an exception object, so a
//! pending error stays in the interpreter: propagate it with `?`, or call [`Error::clear`] if you
//! handle it.

use std::borrow::Cow;
use std::ffi::CString;
use std::fmt;

use crate::ffi;
use crate::global::Global;
use crate::handle::Handle;
use crate::kinds::Any;
use crate::Context;

/// `Result<T, hpy::Error>`: what every fallible hpy call returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Python exception type: one of the built-in ones in [`crate::exceptions`], or a
/// user-defined one stored in a [`Global`].
#[derive(Copy, Clone)]
pub struct ExceptionType(ExcRepr);

#[derive(Copy, Clone)]
enum ExcRepr {
    /// A handle constant of the context, by its offset in `HPyContext` and its name.
    Builtin { offset: usize, name: &'static str },
    /// A type stored in a module global.
    Global(&'static Global),
}

impl ExceptionType {
    #[doc(hidden)]
    pub const fn builtin(offset: usize, name: &'static str) -> Self {
        ExceptionType(ExcRepr::Builtin { offset, name })
    }

    /// An exception type created at module init (e.g. with
    /// [`Context::new_exception_type`](crate::Context::new_exception_type)) and stored in `global`.
    pub const fn from_global(global: &'static Global) -> Self {
        ExceptionType(ExcRepr::Global(global))
    }

    /// A new lazy error of this type.
    pub fn new_err(self, msg: impl Into<Cow<'static, str>>) -> Error {
        Error::new(self, msg)
    }

    /// The type's name for messages (built-in types only; "exception" otherwise).
    pub fn name(self) -> &'static str {
        match self.0 {
            ExcRepr::Builtin { name, .. } => name,
            ExcRepr::Global(_) => "exception",
        }
    }

    /// The raw handle of the type. For a built-in it is a context constant (never close it);
    /// for a global it is a new handle that the caller must close.
    pub(crate) fn raw(self, ctx: Context<'_>) -> ffi::HPy {
        match self.0 {
            // SAFETY: `offset` is the offset of an `HPy h_*` field, from `offset_of!`.
            ExcRepr::Builtin { offset, .. } => unsafe {
                *((ctx.as_ptr() as *const u8).add(offset) as *const ffi::HPy)
            },
            ExcRepr::Global(_) => panic!("ExceptionType::raw on a global type"),
        }
    }

    /// Call `f` with the raw type handle, closing it afterwards if it was loaded from a global.
    pub(crate) fn with_raw<R>(self, ctx: Context<'_>, f: impl FnOnce(ffi::HPy) -> R) -> R {
        match self.0 {
            ExcRepr::Builtin { .. } => f(self.raw(ctx)),
            ExcRepr::Global(g) => match g.load(ctx) {
                Some(h) if is_exception_type(&h) => f(h.as_raw()),
                // Not initialised, or not holding an exception type (a module bug): SystemError,
                // the same on every runtime (CPython's HPyErr_SetString would raise SystemError
                // for a type that is not an exception type, PyPy's TypeError).
                _ => f(ctx.raw_ref().h_SystemError),
            },
        }
    }

    /// For a global that holds something other than an exception type: what, for the
    /// SystemError's message.
    fn misused_global(self, ctx: Context<'_>) -> Option<String> {
        let ExcRepr::Global(g) = self.0 else { return None };
        match g.load(ctx) {
            Some(h) if is_exception_type(&h) => None,
            Some(h) => Some(format!("a global holding {}, which is not a BaseException subclass", type_name_of_value(&h))),
            // (documented: SystemError with the message as it is)
            None => None,
        }
    }
}

/// Is `h` a subclass of BaseException?
fn is_exception_type(h: &Handle<'_>) -> bool {
    let ctx = h.ctx();
    // SAFETY: live context, open handles; HPyType_IsSubtype takes two types (checked first).
    h.is_kind::<crate::kinds::Type>()
        && unsafe { ffi::HPyType_IsSubtype(ctx.as_ptr(), h.as_raw(), ctx.raw_ref().h_BaseException) } != 0
}

/// `repr`-like description of a value for an error message: the type's name for types.
fn type_name_of_value(h: &Handle<'_>) -> String {
    match h.downcast::<crate::kinds::Type>() {
        Ok(t) => format!("the type {}", t.name()),
        Err(e) => {
            e.clear(h.ctx());
            format!("a {} object", type_name(h))
        }
    }
}


impl fmt::Debug for ExceptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Python exception waiting to be raised, or already raised and pending in the interpreter.
pub struct Error(Option<Box<Lazy>>);

enum Lazy {
    Message { ty: ExceptionType, msg: Cow<'static, str> },
    /// A failed type check, kept structured so argument extraction can word it like CPython.
    WrongType { expected: &'static str, got: String },
}

impl Error {
    /// A new error of type `ty` with message `msg`.
    pub fn new(ty: ExceptionType, msg: impl Into<Cow<'static, str>>) -> Self {
        Error(Some(Box::new(Lazy::Message { ty, msg: msg.into() })))
    }

    /// The error of an HPy call that failed: its exception is already set in the interpreter.
    #[inline]
    pub fn pending() -> Self {
        Error(None)
    }

    /// Is this the interpreter's pending exception (rather than a lazy Rust-side error)?
    pub fn is_pending(&self) -> bool {
        self.0.is_none()
    }

    /// TypeError "expected `expected`, got `<type of obj>`".
    pub fn wrong_type(expected: &'static str, obj: &Handle<'_, Any>) -> Self {
        Error(Some(Box::new(Lazy::WrongType { expected, got: type_name(obj) })))
    }

    /// Raise this error in the interpreter (what the generated trampolines do on `Err`).
    pub fn restore(self, ctx: Context<'_>) {
        let c = ctx.as_ptr();
        match self.0 {
            None => {
                // SAFETY: live context.
                if unsafe { ffi::HPyErr_Occurred(c) } == 0 {
                    let msg = c"an hpy call failed without setting a Python exception";
                    // SAFETY: live context, NUL-terminated message, context constant.
                    unsafe { ffi::HPyErr_SetString(c, ctx.raw_ref().h_SystemError, msg.as_ptr()) };
                }
            }
            Some(lazy) => {
                let (ty, msg) = lazy.into_message();
                let msg = match ty.misused_global(ctx) {
                    Some(what) => message_cstring(&format!("{msg} (raised as {what})")),
                    None => message_cstring(&msg),
                };
                ty.with_raw(ctx, |raw_ty| {
                    // SAFETY: live context, valid type handle, NUL-terminated message.
                    unsafe { ffi::HPyErr_SetString(c, raw_ty, msg.as_ptr()) };
                });
            }
        }
    }

    /// Discard this error; if it is the interpreter's pending exception, clear it.
    pub fn clear(self, ctx: Context<'_>) {
        if self.0.is_none() {
            ctx.err_clear();
        }
    }

    /// Is this error an instance of `ty` (like `except ty:`)?
    pub fn matches(&self, ctx: Context<'_>, ty: ExceptionType) -> bool {
        match &self.0 {
            None => ctx.err_matches(ty),
            Some(lazy) => {
                let own = lazy.ty();
                ty.with_raw(ctx, |target| {
                    own.with_raw(ctx, |own| {
                        // SAFETY: live context, two type handles.
                        unsafe { ffi::HPyType_IsSubtype(ctx.as_ptr(), own, target) != 0 }
                    })
                })
            }
        }
    }

    /// Prefix the message with where in a value the error happened ("item 2"). Pending errors are
    /// left as they are.
    pub fn in_part(self, part: impl fmt::Display) -> Self {
        match self.0.map(|b| *b) {
            None => Error(None),
            Some(lazy) => {
                let (ty, msg) = lazy.into_message();
                Error::new(ty, format!("{part}: {msg}"))
            }
        }
    }

    /// Word the error as a failure of argument `arg` of function `func`, the way CPython does:
    /// "f() argument 'x' must be int, not str". Pending errors are left as they are.
    #[doc(hidden)]
    pub fn for_argument(self, func: &str, arg: &str) -> Self {
        match self.0.map(|b| *b) {
            None => Error(None),
            Some(Lazy::WrongType { expected, got }) => crate::exceptions::TypeError::new_err(format!(
                "{func}() argument '{arg}' must be {expected}, not {got}"
            )),
            Some(Lazy::Message { ty, msg }) => Error::new(ty, format!("{func}() argument '{arg}': {msg}")),
        }
    }
}

impl Lazy {
    fn ty(&self) -> ExceptionType {
        match self {
            Lazy::Message { ty, .. } => *ty,
            Lazy::WrongType { .. } => crate::exceptions::TypeError::TYPE,
        }
    }

    fn into_message(self) -> (ExceptionType, Cow<'static, str>) {
        match self {
            Lazy::Message { ty, msg } => (ty, msg),
            Lazy::WrongType { expected, got } => {
                (crate::exceptions::TypeError::TYPE, format!("expected {expected}, got {got}").into())
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("<Python exception pending in the interpreter>"),
            Some(lazy) => match &**lazy {
                Lazy::Message { ty, msg } => write!(f, "{}: {msg}", ty.name()),
                Lazy::WrongType { expected, got } => write!(f, "TypeError: expected {expected}, got {got}"),
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hpy::Error({self})")
    }
}

/// The `__name__` of an object's type, for messages.
pub(crate) fn type_name(obj: &Handle<'_, Any>) -> String {
    let c = obj.ctx().as_ptr();
    // SAFETY: live context and open handle; the type handle is closed before returning, after
    // its name (owned by the type object) was copied.
    unsafe {
        let ty = ffi::HPy_Type(c, obj.as_raw());
        if ty._i == 0 {
            ffi::HPyErr_Clear(c);
            return "<unknown type>".into();
        }
        let name = std::ffi::CStr::from_ptr(ffi::HPyType_GetName(c, ty)).to_string_lossy();
        // CPython's tp_name of a heap type is "module.Name": messages use the last part.
        let short = name.rsplit('.').next().unwrap_or(&name).to_string();
        ffi::HPy_Close(c, ty);
        short
    }
}

/// A message as a C string: interior NULs (impossible in a C message) become U+FFFD.
fn message_cstring(msg: &str) -> CString {
    CString::new(msg.replace('\0', "\u{fffd}")).expect("no NUL left")
}

/// A Rust string as a C string for an HPy API, or ValueError("embedded null character").
pub(crate) fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| crate::exceptions::ValueError::new_err("embedded null character"))
}

macro_rules! from_std_errors {
    ($($err:ty => $exc:ident;)*) => {$(
        impl From<$err> for Error {
            fn from(e: $err) -> Self {
                crate::exceptions::$exc::new_err(e.to_string())
            }
        }
    )*};
}

from_std_errors! {
    std::num::TryFromIntError => OverflowError;
    std::num::ParseIntError => ValueError;
    std::num::ParseFloatError => ValueError;
    std::str::Utf8Error => ValueError;
    std::string::FromUtf8Error => ValueError;
    std::ffi::NulError => ValueError;
    std::fmt::Error => RuntimeError;
    Box<dyn std::error::Error + Send + Sync> => RuntimeError;
}

impl From<std::io::Error> for Error {
    /// `OSError` with the OS error message; the specific subclasses (FileNotFoundError, ...)
    /// for the common kinds.
    fn from(e: std::io::Error) -> Self {
        use crate::exceptions as x;
        use std::io::ErrorKind as K;
        let msg = e.to_string();
        match e.kind() {
            K::NotFound => x::FileNotFoundError::new_err(msg),
            K::PermissionDenied => x::PermissionError::new_err(msg),
            K::AlreadyExists => x::FileExistsError::new_err(msg),
            K::TimedOut => x::TimeoutError::new_err(msg),
            K::Interrupted => x::InterruptedError::new_err(msg),
            K::BrokenPipe => x::BrokenPipeError::new_err(msg),
            K::ConnectionRefused => x::ConnectionRefusedError::new_err(msg),
            K::ConnectionReset => x::ConnectionResetError::new_err(msg),
            K::ConnectionAborted => x::ConnectionAbortedError::new_err(msg),
            _ => x::OSError::new_err(msg),
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}
