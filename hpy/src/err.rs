//! Errors: [`Error`], [`Result`], and the Python exception types ([`crate::exceptions`]).
//!
//! An [`Error`] is *lazy*: it holds an exception type and what to build the exception from (a
//! message, [arguments](ExceptionArgs), an OS error), and becomes a Python exception only when
//! it reaches the boundary (the generated trampoline calls [`Error::restore`]). It holds no
//! handle, so it is `Send + Sync + 'static`: it can cross
//! [`Context::allow_threads`](crate::Context::allow_threads), or be built from any user error
//! type with `From`. Arguments that are Rust values ([`Error::with_args`]) are converted when
//! the exception is raised; an exception built from live handles is raised at once
//! ([`Error::from_value`]) and the `Error` is then *pending*.
//!
//! When an HPy call itself fails, the Python exception is already set in the interpreter and the
//! error is *pending* ([`Error::pending`]). Propagate it with `?`, [`Error::clear`] it, test it
//! with [`Error::matches`], or take its exception object out of the interpreter with
//! [`Error::into_value`] (its type, `args`, attributes, to raise again with
//! [`Error::from_value`]). While an exception is pending no other hpy call may be made: each of
//! these ends the pending state first.
//!
//! [`Error::with_cause`] chains errors like `raise new from cause`: a lazy error wrapping a
//! pending one keeps the Python exception as its `__cause__`.
//!
//! HPy 0.9 has no call that takes the pending exception out of the interpreter. hpy-rs takes it
//! the way the interpreter hands an exception to Python code without raising it: through
//! `sys.unraisablehook`. [`Error::into_value`] sets a private hook for the duration of one
//! `HPyErr_WriteUnraisable` (no Python code runs in between on CPython), which delivers the
//! normalized exception object, traceback attached, and puts the previous hook back; anything
//! else that reached the private hook meanwhile is passed on to the previous hook. The native
//! build takes it directly (`PyErr_Fetch`).

use std::borrow::Cow;
use std::ffi::CString;
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::ffi;
use crate::global::Global;
use crate::handle::Handle;
use crate::kinds::{Any, Tuple};
use crate::{Context, IntoHPy};

/// `Result<T, hpy::Error>`: what every fallible hpy call returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Python exception type: one of the built-in ones in [`crate::exceptions`], one declared with
/// `#[hpy::exception]`, or a user-defined one stored in a [`Global`].
#[derive(Copy, Clone)]
pub struct ExceptionType(ExcRepr);

#[derive(Copy, Clone)]
enum ExcRepr {
    /// A handle constant of the context, by its offset in `HPyContext` and its name.
    Builtin { offset: usize, name: &'static str },
    /// A type stored in a module global.
    Global(&'static Global),
    /// A type declared with `#[hpy::exception]`: its global (behind a function, so that the
    /// declaration's `TYPE` is a constant on Rust 1.82, which cannot refer to a static in a
    /// constant) and its Python name.
    Declared { global: fn() -> &'static Global, name: &'static str },
}

impl ExceptionType {
    #[doc(hidden)]
    pub const fn builtin(offset: usize, name: &'static str) -> Self {
        ExceptionType(ExcRepr::Builtin { offset, name })
    }

    /// An exception type created at module init (e.g. with
    /// [`Context::new_exception_type`](crate::Context::new_exception_type)) and stored in `global`.
    /// (`#[hpy::exception]` declares one in one item.)
    pub const fn from_global(global: &'static Global) -> Self {
        ExceptionType(ExcRepr::Global(global))
    }

    /// The type of an `#[hpy::exception]` declaration (what its `TYPE` is).
    #[doc(hidden)]
    pub const fn declared(global: fn() -> &'static Global, name: &'static str) -> Self {
        ExceptionType(ExcRepr::Declared { global, name })
    }

    /// A new lazy error of this type.
    #[inline]
    pub fn new_err(self, msg: impl Into<Cow<'static, str>>) -> Error {
        Error::new(self, msg)
    }

    /// A new lazy error of this type, constructed with `args` (`KeyError(key)`,
    /// `OSError(errno, strerror)`); see [`Error::with_args`].
    #[inline]
    pub fn new_err_args(self, args: impl ExceptionArgs) -> Error {
        Error::with_args(self, args)
    }

    /// The type's name for messages: its Python name for the built-in and declared types,
    /// "exception" for one from [`ExceptionType::from_global`].
    pub fn name(self) -> &'static str {
        match self.0 {
            ExcRepr::Builtin { name, .. } | ExcRepr::Declared { name, .. } => name,
            ExcRepr::Global(_) => "exception",
        }
    }

    /// The global of a type that lives in one.
    fn global(self) -> Option<&'static Global> {
        match self.0 {
            ExcRepr::Builtin { .. } => None,
            ExcRepr::Global(g) => Some(g),
            ExcRepr::Declared { global, .. } => Some(global()),
        }
    }

    /// The raw handle of a built-in type: a context constant (never close it).
    pub(crate) fn raw(self, ctx: Context<'_>) -> ffi::HPy {
        match self.0 {
            // SAFETY: `offset` is the offset of an `HPy h_*` field, from `offset_of!`.
            ExcRepr::Builtin { offset, .. } => unsafe {
                *((ctx.as_ptr() as *const u8).add(offset) as *const ffi::HPy)
            },
            ExcRepr::Global(_) | ExcRepr::Declared { .. } => panic!("ExceptionType::raw on a global type"),
        }
    }

    /// Call `f` with the raw type handle, closing it afterwards if it was loaded from a global.
    pub(crate) fn with_raw<R>(self, ctx: Context<'_>, f: impl FnOnce(ffi::HPy) -> R) -> R {
        match self.global() {
            None => f(self.raw(ctx)),
            Some(g) => match g.load(ctx) {
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
        let g = self.global()?;
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

/// The arguments of an exception, as Rust values converted when it is raised: `()` or a tuple of
/// up to 8 values that convert with [`IntoHPy`] and can be kept in an [`Error`] (`Send + Sync +
/// 'static`, and `Debug` for the error's `Display`): `(key,)`, `(errno, "message")`.
///
/// Arguments that are Python objects (handles) cannot wait in an `Error`: build the exception
/// object and raise it with [`Error::from_value`].
pub trait ExceptionArgs: Send + Sync + fmt::Debug + 'static {
    /// The arguments as a Python tuple.
    #[doc(hidden)]
    fn into_args<'ctx>(self: Box<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx, Tuple>>;
}

impl ExceptionArgs for () {
    fn into_args<'ctx>(self: Box<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx, Tuple>> {
        crate::types::tuple_from_raw(ctx, &[])
    }
}

macro_rules! exception_args {
    ($(($($name:ident $idx:tt),+);)*) => {$(
        impl<$($name),+> ExceptionArgs for ($($name,)+)
        where
            $($name: for<'ctx> IntoHPy<'ctx> + Send + Sync + fmt::Debug + 'static),+
        {
            fn into_args<'ctx>(self: Box<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx, Tuple>> {
                let items = [$( self.$idx.into_hpy(ctx)? ),+];
                let raw = items.each_ref().map(|h| h.as_raw());
                crate::types::tuple_from_raw(ctx, &raw)
            }
        }
    )*};
}

exception_args! {
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
}

/// A Python exception waiting to be raised, or already raised and pending in the interpreter.
pub struct Error(Option<Box<Lazy>>);

enum Lazy {
    Message { ty: ExceptionType, msg: Cow<'static, str> },
    /// A failed type check, kept structured so argument extraction can word it like CPython.
    WrongType { expected: &'static str, got: String },
    /// `ty(*args)`.
    Args { ty: ExceptionType, args: Box<dyn ExceptionArgs> },
    /// `OSError(errno, strerror[, filename])`: Python picks the subclass from `errno`.
    Os { errno: i32, strerror: String, filename: Option<FileName> },
    /// An error without an OS error number (an `io::Error` made in Rust) with a file name:
    /// `ty(msg)` with `filename` set.
    WithFileName { ty: ExceptionType, msg: String, filename: FileName },
    /// `error` raised `from cause`.
    Caused { error: Error, cause: Error },
    /// An exception of an `#[hpy::class(extends = SomeException)]` class, holding a Rust value.
    Carried(Box<dyn crate::exception_class::CarriedValue>),
}

/// One freed [`Lazy`] block kept for the next error: raising errors from Rust over and over
/// (the `IndexError` that ends an iteration, a `StopIteration` per generator) then allocates
/// nothing after the first, as C's `HPyErr_SetString` allocates nothing. Taken and given back
/// atomically, so any thread may make or raise errors.
static SPARE: AtomicPtr<Lazy> = AtomicPtr::new(null_mut());

/// `Box::new(lazy)`, in the spare block when there is one.
#[inline]
fn boxed(lazy: Lazy) -> Box<Lazy> {
    let spare = SPARE.swap(null_mut(), Ordering::Acquire);
    if spare.is_null() {
        return Box::new(lazy);
    }
    // SAFETY: a block of `Box<Lazy>` whose value `unbox` moved out, now only this thread's (it
    // swapped the pointer out); writing initialises it, so it is a `Box<Lazy>` again.
    unsafe {
        spare.write(lazy);
        Box::from_raw(spare)
    }
}

/// `*lazy`, keeping its block as the spare one (freed if there is one already).
#[inline]
fn unbox(lazy: Box<Lazy>) -> Lazy {
    let block = Box::into_raw(lazy);
    // SAFETY: `block` holds an initialised `Lazy`, moved out here exactly once; from then on
    // the block is uninitialised memory of `Lazy`'s layout and nothing reads it.
    let value = unsafe { block.read() };
    if SPARE.compare_exchange(null_mut(), block, Ordering::Release, Ordering::Relaxed).is_err() {
        // SAFETY: the allocation of a `Box<Lazy>`, freed as the same layout without dropping
        // the value already moved out.
        drop(unsafe { Box::from_raw(block.cast::<MaybeUninit<Lazy>>()) });
    }
    value
}

/// A file name as the OS gave it: bytes on Unix (decoded like `os.fsdecode` when raised).
#[derive(Clone)]
struct FileName(std::ffi::OsString);

impl FileName {
    fn to_python<'ctx>(&self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let bytes = self.0.as_bytes();
            // SAFETY: live context; the pointer and length describe `bytes`, which the runtime
            // copies (it reads no NUL terminator with an explicit size).
            let raw = unsafe {
                ffi::HPyUnicode_DecodeFSDefaultAndSize(ctx.as_ptr(), bytes.as_ptr().cast(), bytes.len() as ffi::HPy_ssize_t)
            };
            // SAFETY: a new str or NULL.
            unsafe { Handle::from_new(ctx, raw) }
        }
        #[cfg(not(unix))]
        {
            ctx.object(self.0.to_string_lossy())
        }
    }
}

impl Error {
    /// A new error of type `ty` with message `msg`.
    // Cold and out of line (also `with_args`): an error is the unlikely path of the function
    // making it, whose fast path then keeps fewer registers and no inlined allocation.
    #[cold]
    #[inline(never)]
    pub fn new(ty: ExceptionType, msg: impl Into<Cow<'static, str>>) -> Self {
        Error(Some(boxed(Lazy::Message { ty, msg: msg.into() })))
    }

    /// A new error of type `ty`, constructed with `args` when it is raised: `ty(*args)`, as
    /// Python's `raise ty(*args)`. So `KeyError(key)` has `str(e) == repr(key)`,
    /// `StopIteration(value)` has `e.value`, `OSError(errno, strerror)` is the subclass that
    /// `errno` selects with `.errno` and `.strerror` set.
    ///
    /// ```
    /// use hpy::exceptions::{KeyError, OSError};
    /// let e = KeyError::new_err_args(("missing",));
    /// assert_eq!(e.to_string(), r#"KeyError("missing",)"#);
    /// let e = hpy::Error::with_args(OSError::TYPE, (2, "No such file or directory"));
    /// assert_eq!(e.to_string(), r#"OSError(2, "No such file or directory")"#);
    /// ```
    #[cold]
    #[inline(never)]
    pub fn with_args(ty: ExceptionType, args: impl ExceptionArgs) -> Self {
        Error(Some(boxed(Lazy::Args { ty, args: Box::new(args) })))
    }

    /// A lazy error raising an exception that holds a Rust value (see [`Error::with_value`]).
    pub(crate) fn carrying(value: Box<dyn crate::exception_class::CarriedValue>) -> Self {
        Error(Some(boxed(Lazy::Carried(value))))
    }

    /// The error of an HPy call that failed: its exception is already set in the interpreter.
    #[inline]
    pub fn pending() -> Self {
        Error(None)
    }

    /// Raise the exception object `value` now (Python's `raise value`) and return the pending
    /// error: how an exception built from handles, or taken with [`Error::into_value`], is
    /// raised. A `value` that is not an exception raises `TypeError`, as `raise` does.
    pub fn from_value(value: &Handle<'_>) -> Self {
        raise_value(value);
        Error(None)
    }

    /// Is this the interpreter's pending exception (or a lazy error raised `from` it), rather
    /// than an error that exists only on the Rust side?
    pub fn is_pending(&self) -> bool {
        match &self.0 {
            None => true,
            Some(lazy) => match &**lazy {
                Lazy::Caused { error, cause } => error.is_pending() || cause.is_pending(),
                _ => false,
            },
        }
    }

    /// This error, raised `from cause` (Python's `raise self from cause`): the exception's
    /// `__cause__` is `cause`'s exception. Either may be pending: a lazy error wrapping the
    /// pending exception of a failed call keeps that exception as its `__cause__`.
    ///
    /// ```
    /// # use hpy::{exceptions::ValueError, Context, Handle, Result};
    /// fn parse<'ctx>(ctx: Context<'ctx>, f: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    ///     f.call0().map_err(|e| ValueError::new_err("the parser failed").with_cause(e))
    /// }
    /// ```
    pub fn with_cause(self, cause: impl Into<Error>) -> Self {
        let cause = cause.into();
        if self.is_pending() && cause.is_pending() {
            // Both are the one exception in the interpreter: it cannot be its own cause.
            return self;
        }
        Error(Some(boxed(Lazy::Caused { error: self, cause })))
    }

    /// TypeError "expected `expected`, got `<type of obj>`".
    pub fn wrong_type(expected: &'static str, obj: &Handle<'_, Any>) -> Self {
        Error(Some(boxed(Lazy::WrongType { expected, got: type_name(obj) })))
    }

    /// An `OSError` from an I/O error, with the file name it is about: `.filename` is `path`,
    /// `str(e)` is Python's `[Errno 2] No such file or directory: 'path'`.
    ///
    /// ```
    /// fn read(path: &str) -> hpy::Result<String> {
    ///     std::fs::read_to_string(path).map_err(|e| hpy::Error::from_io_with_path(e, path))
    /// }
    /// ```
    pub fn from_io_with_path(err: std::io::Error, path: impl AsRef<std::path::Path>) -> Self {
        let filename = FileName(path.as_ref().as_os_str().to_owned());
        match err.raw_os_error() {
            Some(errno) => Error(Some(boxed(Lazy::Os { errno, strerror: strerror(&err), filename: Some(filename) }))),
            None => Error(Some(boxed(Lazy::WithFileName { ty: io_kind_type(err.kind()), msg: err.to_string(), filename }))),
        }
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
            Some(lazy) if matches!(*lazy, Lazy::Message { .. } | Lazy::WrongType { .. }) => {
                let (ty, msg) = unbox(lazy).into_message();
                let msg = ty.message_for(ctx, msg);
                with_message_cstr(&msg, |msg| {
                    ty.with_raw(ctx, |raw_ty| {
                        // SAFETY: live context, valid type handle, NUL-terminated message.
                        unsafe { ffi::HPyErr_SetString(c, raw_ty, msg) };
                    })
                });
            }
            // Raised as an object: built here, then raised (or the error building it is).
            Some(lazy) => match Error(Some(lazy)).into_value(ctx) {
                Ok(value) => raise_value(&value),
                Err(e) => e.restore(ctx),
            },
        }
    }

    /// Discard this error; if it is the interpreter's pending exception, clear it.
    pub fn clear(self, ctx: Context<'_>) {
        if self.is_pending() {
            ctx.err_clear();
        }
    }

    /// The exception object of this error, as Python code catching it would see it (`except
    /// BaseException as e`): its type, `args`, attributes, `__cause__`, traceback. A pending
    /// error is taken out of the interpreter (no exception is pending afterwards); a lazy one is
    /// built, not raised. Raise it again with [`Error::from_value`].
    ///
    /// An `Err` here is the error that building the exception raised (a constructor that
    /// fails), or, for a pending error, that taking it failed (out of memory); the original
    /// exception is then lost.
    ///
    /// ```
    /// # use hpy::{exceptions::KeyError, Context, Handle, Result};
    /// fn lookup<'ctx>(ctx: Context<'ctx>, d: &Handle<'ctx>, key: &str) -> Result<Option<Handle<'ctx>>> {
    ///     match d.get_item(key) {
    ///         Ok(v) => Ok(Some(v)),
    ///         Err(e) if e.matches(ctx, KeyError::TYPE) => {
    ///             let exc = e.into_value(ctx)?;       // nothing is pending now
    ///             let args = exc.getattr("args")?;    // ('key',)
    ///             let _ = args;
    ///             Ok(None)
    ///         }
    ///         Err(e) => Err(e),
    ///     }
    /// }
    /// ```
    pub fn into_value<'ctx>(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        let Some(lazy) = self.0 else { return take_raised(ctx) };
        match unbox(lazy) {
            lazy @ (Lazy::Message { .. } | Lazy::WrongType { .. }) => {
                let (ty, msg) = lazy.into_message();
                let msg = ty.message_for(ctx, msg);
                ctx.exception(ty).call1(msg)
            }
            Lazy::Args { ty, args } => {
                let args = args.into_args(ctx)?;
                ctx.exception(ty).call_tuple_dict(&args, None)
            }
            Lazy::Os { errno, strerror, filename } => {
                let ty = ctx.exception(crate::exceptions::OSError::TYPE);
                match filename {
                    None => ty.call((errno, strerror)),
                    Some(f) => ty.call((errno, strerror, f.to_python(ctx)?)),
                }
            }
            Lazy::WithFileName { ty, msg, filename } => {
                let value = ctx.exception(ty).call1(msg)?;
                value.setattr("filename", filename.to_python(ctx)?)?;
                Ok(value)
            }
            Lazy::Caused { error, cause } => {
                // The pending one first: nothing else may run while it is pending.
                let (value, cause) = if cause.is_pending() {
                    let cause = cause.into_value(ctx)?;
                    (error.into_value(ctx)?, cause)
                } else {
                    let value = error.into_value(ctx)?;
                    (value, cause.into_value(ctx)?)
                };
                // Also sets `__suppress_context__`, as `raise ... from ...` does.
                value.setattr("__cause__", &cause)?;
                Ok(value)
            }
            Lazy::Carried(carried) => carried.into_exception(ctx),
        }
    }

    /// Is this error an instance of `ty` (like `except ty:`)?
    pub fn matches(&self, ctx: Context<'_>, ty: ExceptionType) -> bool {
        match &self.0 {
            None => ctx.err_matches(ty),
            Some(lazy) => {
                let own = match &**lazy {
                    Lazy::Caused { error, .. } => return error.matches(ctx, ty),
                    lazy => lazy.ty(),
                };
                ty.with_raw(ctx, |target| {
                    own.with_raw(ctx, |own| {
                        // SAFETY: live context, two type handles.
                        unsafe { ffi::HPyType_IsSubtype(ctx.as_ptr(), own, target) != 0 }
                    })
                })
            }
        }
    }

    /// Prefix the message with where in a value the error happened ("item 2"). Pending errors,
    /// and errors not made from a message, are left as they are.
    pub fn in_part(self, part: impl fmt::Display) -> Self {
        match self.0.map(|b| *b) {
            None => Error(None),
            Some(lazy @ (Lazy::Message { .. } | Lazy::WrongType { .. })) => {
                let (ty, msg) = lazy.into_message();
                Error::new(ty, format!("{part}: {msg}"))
            }
            Some(other) => Error(Some(Box::new(other))),
        }
    }

    /// Word the error as a failure of argument `arg` of function `func`, the way CPython does:
    /// "f() argument 'x' must be int, not str". Pending errors, and errors not made from a
    /// message, are left as they are.
    #[doc(hidden)]
    pub fn for_argument(self, func: &str, arg: &str) -> Self {
        match self.0.map(|b| *b) {
            None => Error(None),
            Some(Lazy::WrongType { expected, got }) => crate::exceptions::TypeError::new_err(format!(
                "{func}() argument '{arg}' must be {expected}, not {got}"
            )),
            Some(Lazy::Message { ty, msg }) => Error::new(ty, format!("{func}() argument '{arg}': {msg}")),
            Some(other) => Error(Some(Box::new(other))),
        }
    }
}

impl ExceptionType {
    /// SystemError unless the type exists: a declared one is created at import, before `what`,
    /// which is to extend it.
    pub(crate) fn check_created(self, ctx: Context<'_>, what: &str) -> Result<()> {
        if self.global().is_some_and(|g| !g.is_set(ctx)) {
            return Err(crate::exceptions::SystemError::new_err(format!(
                "the base of {what} ({}) is not created yet",
                self.name()
            )));
        }
        Ok(())
    }

    /// The message to raise `self` with: `msg`, or for a misused global, `msg` and what the
    /// global holds (it is raised as SystemError).
    fn message_for(self, ctx: Context<'_>, msg: Cow<'static, str>) -> Cow<'static, str> {
        match self.misused_global(ctx) {
            Some(what) => format!("{msg} (raised as {what})").into(),
            None => msg,
        }
    }
}

impl Lazy {
    /// The type of the exception (for `matches`). An OS error's is the subclass Python picks
    /// for its errno (the common ones; OSError otherwise).
    fn ty(&self) -> ExceptionType {
        match self {
            Lazy::Message { ty, .. } | Lazy::Args { ty, .. } | Lazy::WithFileName { ty, .. } => *ty,
            Lazy::WrongType { .. } => crate::exceptions::TypeError::TYPE,
            Lazy::Os { errno, .. } => io_kind_type(std::io::Error::from_raw_os_error(*errno).kind()),
            Lazy::Caused { error, .. } => match &error.0 {
                Some(lazy) => lazy.ty(),
                None => crate::exceptions::BaseException::TYPE,
            },
            Lazy::Carried(carried) => carried.ty(),
        }
    }

    /// Only for `Message` and `WrongType`.
    fn into_message(self) -> (ExceptionType, Cow<'static, str>) {
        match self {
            Lazy::Message { ty, msg } => (ty, msg),
            Lazy::WrongType { expected, got } => {
                (crate::exceptions::TypeError::TYPE, format!("expected {expected}, got {got}").into())
            }
            _ => unreachable!("into_message on an error not made from a message"),
        }
    }
}

/// Create the class of an `#[hpy::exception]` declaration: `qualified` ("module.Name"), subclass
/// of `base`, stored in `global` and set as `module.<name>` (called by `#[hpy::module]`'s exec,
/// bases first).
#[doc(hidden)]
pub fn add_exception_type(
    ctx: Context<'_>,
    module: &Handle<'_, crate::kinds::Module>,
    global: &'static Global,
    qualified: &str,
    name: &str,
    doc: Option<&str>,
    base: ExceptionType,
) -> Result<()> {
    base.check_created(ctx, qualified)?;
    let ty = ctx.new_exception_type(qualified, Some(&ctx.exception(base)), doc)?;
    global.store(ctx, &ty);
    module.setattr(name, &ty)
}

/// `raise value`: set `value` as the pending exception (TypeError if it is not an exception).
fn raise_value(value: &Handle<'_>) {
    let ctx = value.ctx();
    let c = ctx.as_ptr();
    let ty = value.get_type();
    // SAFETY: live context, open handles; HPyType_IsSubtype takes two types.
    if unsafe { ffi::HPyType_IsSubtype(c, ty.as_raw(), ctx.raw_ref().h_BaseException) } == 0 {
        let msg = message_cstring(&format!("exceptions must derive from BaseException, not {}", type_name(value)));
        // SAFETY: live context, context constant, NUL-terminated message.
        unsafe { ffi::HPyErr_SetString(c, ctx.raw_ref().h_TypeError, msg.as_ptr()) };
        return;
    }
    // SAFETY: live context; an exception instance of its own type (used as it is, with its
    // traceback).
    unsafe { ffi::HPyErr_SetObject(c, ty.as_raw(), value.as_raw()) };
}

/// Take the pending exception out of the interpreter: its (normalized) exception object.
/// `Err` if none is pending (SystemError, as for a failed call that set none).
fn take_raised<'ctx>(ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
    if !ctx.err_occurred() {
        return Err(crate::exceptions::SystemError::new_err(
            "an hpy call failed without setting a Python exception",
        ));
    }
    match crate::impl_::abi::fetch_raised(ctx) {
        Some(raw) => {
            // SAFETY: `fetch_raised` returns a new handle, with no exception pending any more.
            Ok(unsafe { Handle::from_raw(ctx, raw) })
        }
        None => take_raised_through_hook(ctx),
    }
}

/// `sys.__dict__`, for [`take_raised_through_hook`], which runs while an exception is pending
/// (when `import sys` or an attribute lookup could run Python code). Registered and stored by
/// every `#[hpy::module]`, as are the three below.
#[doc(hidden)]
pub static SYS_DICT: Global = Global::new();
/// The private `sys.unraisablehook` (see [`dispatch_unraisable`]).
#[doc(hidden)]
pub static HOOK_DISPATCH: Global = Global::new();
/// Its `targets` dict.
#[doc(hidden)]
pub static HOOK_TARGETS: Global = Global::new();
/// Its `saved` list: `[the hook it replaced, or None]`.
#[doc(hidden)]
pub static HOOK_SAVED: Global = Global::new();

/// The module attribute under which the module definition creates the private hook (no Python
/// or Rust identifier: it clashes with no function, nor a submodule's `child.f`); `prepare_fetch`
/// takes it away again at exec.
const HOOK_NAME: &core::ffi::CStr = c"hpy-rs.unraisablehook";

/// The private hook's definition: a function of every `#[hpy::module]` (in its definitions), so
/// that the hook is made with the module, without compiling Python source at import.
#[doc(hidden)]
pub static HOOK_DISPATCH_DEF: ffi::HPyDef = crate::__hpy_function_def!(
    o,
    HOOK_NAME,
    c"hpy-rs's private sys.unraisablehook, installed while a pending exception is taken.",
    |ctx, _module, args| Ok(dispatch_unraisable(ctx, &args)?.into_raw())
);

/// The private hook: the unraisable exceptions of the calls taking one (named by a marker
/// string: CPython passes it as `object`, PyPy, whose `HPyErr_WriteUnraisable` passes only its
/// repr, in `err_msg`) go to that call's target; any other to the hook it replaced. While any
/// call of this module is taking an exception, it stays installed: on PyPy another thread may
/// run in the middle of one (PyPy builds the hook's argument in Python code). In Python, as
/// [`HOOK_SOURCE`] (the hook of PyPy's debug mode):
///
/// ```python
/// def dispatch(args):
///     for key in (args.object, args.err_msg):
///         if type(key) is str:
///             target = targets.get(key)
///             if target is not None:
///                 return target(args)
///     hook = saved[0]
///     return (sys.__unraisablehook__ if hook is None else hook)(args)
/// ```
fn dispatch_unraisable<'ctx>(ctx: Context<'ctx>, args: &Handle<'ctx>) -> Result<Handle<'ctx>> {
    let (Some(sys_dict), Some(targets), Some(saved)) = (SYS_DICT.load(ctx), HOOK_TARGETS.load(ctx), HOOK_SAVED.load(ctx))
    else {
        return Err(crate::exceptions::SystemError::new_err("hpy-rs's unraisable hook called before its module's exec"));
    };
    let str_type = ctx.str_type();
    for attr in ["object", "err_msg"] {
        let key = args.getattr(attr)?;
        // An exact str: its hash and comparison run no Python code.
        if key.get_type().is(&str_type) && targets.contains(&key)? {
            return targets.get_item(&key)?.call1(args);
        }
    }
    let hook = saved.get_index(0)?;
    let hook = if hook.is_none() { sys_dict.get_item("__unraisablehook__")? } else { hook };
    hook.call1(args)
}

/// [`dispatch_unraisable`] in Python, for PyPy's debug mode, which aborts ("Wrong HPy
/// Context!") when an HPy function is called while another HPy call runs Python code: the hook
/// runs inside the taking call's `HPyErr_WriteUnraisable`. CPython's debug mode gives every call
/// a context of its own. Compiled only there: compiling costs ~100 µs at import.
const HOOK_SOURCE: &core::ffi::CStr = c"import sys
targets = {}
saved = [None]
def dispatch(args):
    for key in (args.object, args.err_msg):
        if type(key) is str:
            target = targets.get(key)
            if target is not None:
                return target(args)
    hook = saved[0]
    return (sys.__unraisablehook__ if hook is None else hook)(args)
";

/// Store what taking a pending exception needs (called by `#[hpy::module]`'s exec, with the
/// module, which holds the private hook until now). Cheap but in PyPy's debug mode: it runs at
/// every import.
#[doc(hidden)]
pub fn prepare_fetch(ctx: Context<'_>, module: &Handle<'_, crate::kinds::Module>) -> Result<()> {
    let name = HOOK_NAME.to_str().expect("ASCII");
    let hook = module.getattr(name)?;
    module.delattr(name)?;
    SYS_DICT.store(ctx, &ctx.import("sys")?.getattr("__dict__")?);
    if ctx.is_debug() && !crate::impl_::runtime_gives_nested_calls_their_context() {
        let namespace = exec_python(ctx, HOOK_SOURCE)?;
        HOOK_DISPATCH.store(ctx, &namespace.get_item("dispatch")?);
        HOOK_TARGETS.store(ctx, &namespace.get_item("targets")?);
        HOOK_SAVED.store(ctx, &namespace.get_item("saved")?);
        return Ok(());
    }
    HOOK_DISPATCH.store(ctx, &hook);
    HOOK_TARGETS.store(ctx, &ctx.dict()?);
    let saved = ctx.list()?;
    saved.append(())?;
    HOOK_SAVED.store(ctx, &saved);
    Ok(())
}

/// Run the Python module source `source` in a new namespace and return the namespace: for what
/// HPy 0.9 has no API for but Python code (exception classes with Rust values). Compiling is
/// slow (~100 µs): not for what every module's import runs.
pub(crate) fn exec_python<'ctx>(ctx: Context<'ctx>, source: &core::ffi::CStr) -> Result<Handle<'ctx, crate::kinds::Dict>> {
    let c = ctx.as_ptr();
    // SAFETY: live context, NUL-terminated source and file name; every result is checked and
    // owned by a Handle.
    let code: Handle<'_> =
        unsafe { Handle::from_new(ctx, ffi::HPy_Compile_s(c, source.as_ptr(), c"<hpy-rs>".as_ptr(), ffi::HPy_SourceKind_File))? };
    let namespace = ctx.dict()?;
    // Before CPython 3.10, code run in globals without `__builtins__` has no builtins at all
    // (not even `__import__`, which `import sys` needs).
    namespace.set_item("__builtins__", ctx.builtins())?;
    // SAFETY: as above; the code object and the dict are open handles.
    let _: Handle<'_> = unsafe { Handle::from_new(ctx, ffi::HPy_EvalCode(c, code.as_raw(), namespace.as_raw(), namespace.as_raw()))? };
    Ok(namespace)
}

/// The universal build's [`take_raised`]: `HPyErr_WriteUnraisable(marker)` with the private
/// `sys.unraisablehook` installed (see [`dispatch_unraisable`]), which hands the exception object
/// to a list's bound `append`.
#[cold]
fn take_raised_through_hook<'ctx>(ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
    use core::sync::atomic::{AtomicU64, Ordering};
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    let c = ctx.as_ptr();
    let (Some(sys_dict), Some(dispatch), Some(targets), Some(saved)) =
        (SYS_DICT.load(ctx), HOOK_DISPATCH.load(ctx), HOOK_TARGETS.load(ctx), HOOK_SAVED.load(ctx))
    else {
        return Err(Error::pending()); // unreachable: every module's exec stores them first
    };
    let marker = format!("hpy-rs: taking the pending exception ({})", TAKEN.fetch_add(1, Ordering::Relaxed));
    let named = CString::new(format!("Exception ignored in: '{marker}'")).expect("no NUL");
    let marker = CString::new(marker).expect("no NUL");
    let key = c"unraisablehook";
    // While the exception is pending only calls that run no Python code and cannot fail for
    // these arguments are made: new lists and strs, a bound method, dict and list stores with
    // str and int keys (a failure would replace the pending exception; it is reported instead).
    // SAFETY: live context; every new handle is owned by a `Handle` at once; NULL results are
    // checked (`from_new`).
    let (captured, marker, named) = unsafe {
        let captured: Handle<'ctx, crate::kinds::List> = Handle::from_new(ctx, ffi::HPyList_New(c, 0))?;
        let append: Handle<'ctx> = Handle::from_new(ctx, ffi::HPy_GetAttr_s(c, captured.as_raw(), c"append".as_ptr()))?;
        let marker: Handle<'ctx> = Handle::from_new(ctx, ffi::HPyUnicode_FromString(c, marker.as_ptr()))?;
        let named: Handle<'ctx> = Handle::from_new(ctx, ffi::HPyUnicode_FromString(c, named.as_ptr()))?;
        let key_obj: Handle<'ctx> = Handle::from_new(ctx, ffi::HPyUnicode_FromString(c, key.as_ptr()))?;
        let first = ffi::HPy_Length(c, targets.as_raw()) == 0;
        if ffi::HPy_SetItem(c, targets.as_raw(), marker.as_raw(), append.as_raw()) < 0
            || ffi::HPy_SetItem(c, targets.as_raw(), named.as_raw(), append.as_raw()) < 0
        {
            return Err(Error::pending());
        }
        let current = if ffi::HPy_Contains(c, sys_dict.as_raw(), key_obj.as_raw()) == 1 {
            Some(Handle::<'ctx, Any>::from_new(ctx, ffi::HPy_GetItem_s(c, sys_dict.as_raw(), key.as_ptr()))?)
        } else {
            None
        };
        if !current.as_ref().is_some_and(|h| h.is(&dispatch)) {
            if first {
                let replaced = current.as_ref().map_or(ctx.raw_ref().h_None, |h| h.as_raw());
                if ffi::HPy_SetItem_i(c, saved.as_raw(), 0, replaced) < 0 {
                    return Err(Error::pending());
                }
            }
            if ffi::HPy_SetItem_s(c, sys_dict.as_raw(), key.as_ptr(), dispatch.as_raw()) < 0 {
                return Err(Error::pending());
            }
        }
        // Clears the exception and hands it to the hook.
        ffi::HPyErr_WriteUnraisable(c, marker.as_raw());
        (captured, marker, named)
    };
    // Nothing is pending now: ordinary calls again. The last call out puts the hook back.
    targets.del_item(&marker)?;
    targets.del_item(&named)?;
    if targets.len()? == 0 && sys_dict.get_item("unraisablehook").is_ok_and(|h| h.is(&dispatch)) {
        let replaced = saved.get_index(0)?;
        if replaced.is_none() {
            sys_dict.del_item("unraisablehook")?;
        } else {
            sys_dict.set_item("unraisablehook", &replaced)?;
        }
        saved.set_item(0, ())?;
    }
    let value = match captured.len()? {
        1 => captured.get_index(0)?.getattr("exc_value")?,
        _ => return Err(crate::exceptions::SystemError::new_err("hpy-rs could not take the pending exception")),
    };
    if value.is_none() {
        return Err(crate::exceptions::SystemError::new_err("hpy-rs could not take the pending exception"));
    }
    // CPython gives an exception raised without a traceback (by C code) one of the current
    // frame, which the frame adds again when the exception leaves it: take that one away. (No
    // exception raised inside the calling frame can be pending in a call it is still making.)
    let tb = value.getattr("__traceback__")?;
    if !tb.is_none() && tb.getattr("tb_next")?.is_none() {
        let frame = ctx.import("sys")?.getattr("_getframe")?.call1(0)?;
        if tb.getattr("tb_frame")?.is(&frame) {
            value.setattr("__traceback__", ())?;
        }
    }
    Ok(value)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("<Python exception pending in the interpreter>"),
            Some(lazy) => match &**lazy {
                Lazy::Message { ty, msg } => write!(f, "{}: {msg}", ty.name()),
                Lazy::WrongType { expected, got } => write!(f, "TypeError: expected {expected}, got {got}"),
                Lazy::Args { ty, args } => write!(f, "{}{args:?}", ty.name()),
                Lazy::Os { errno, strerror, filename: None } => write!(f, "{}: [Errno {errno}] {strerror}", lazy.ty().name()),
                Lazy::Os { errno, strerror, filename: Some(n) } => {
                    write!(f, "{}: [Errno {errno}] {strerror}: {:?}", lazy.ty().name(), n.0)
                }
                Lazy::WithFileName { ty, msg, filename } => write!(f, "{}: {msg}: {:?}", ty.name(), filename.0),
                Lazy::Caused { error, cause } => write!(f, "{error} (caused by {cause})"),
                Lazy::Carried(carried) => write!(f, "{}{:?} with its Rust value", carried.ty().name(), carried.args()),
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

/// Run `f` with `msg` as a NUL-terminated C string (each NUL inside replaced, as
/// [`message_cstring`] does): copied to the stack when short and free of NULs, so raising an
/// error with a short message makes no allocation on this path.
fn with_message_cstr<R>(msg: &str, f: impl FnOnce(*const core::ffi::c_char) -> R) -> R {
    let mut stack = [0u8; 256];
    if msg.len() < stack.len() && !msg.as_bytes().contains(&0) {
        stack[..msg.len()].copy_from_slice(msg.as_bytes());
        f(stack.as_ptr().cast())
    } else {
        let owned = message_cstring(msg);
        f(owned.as_ptr())
    }
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
    /// An OS error (one with an error number) becomes `OSError(errno, strerror)`, which Python
    /// turns into the subclass for `errno` (FileNotFoundError for ENOENT, ...) with `.errno`
    /// and `.strerror` set; [`Error::from_io_with_path`] adds `.filename`. An error made in Rust
    /// (`io::Error::new(kind, ...)`) becomes the subclass for its kind, with its message.
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(errno) => Error(Some(boxed(Lazy::Os { errno, strerror: strerror(&e), filename: None }))),
            None => Error::new(io_kind_type(e.kind()), e.to_string()),
        }
    }
}

/// The OS's message for an OS error, without the " (os error N)" Rust appends.
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

/// The OSError subclass Python uses for an I/O error kind (OSError itself for the others).
fn io_kind_type(kind: std::io::ErrorKind) -> ExceptionType {
    use crate::exceptions as x;
    use std::io::ErrorKind as K;
    match kind {
        K::NotFound => x::FileNotFoundError::TYPE,
        K::PermissionDenied => x::PermissionError::TYPE,
        K::AlreadyExists => x::FileExistsError::TYPE,
        K::TimedOut => x::TimeoutError::TYPE,
        K::Interrupted => x::InterruptedError::TYPE,
        K::BrokenPipe => x::BrokenPipeError::TYPE,
        K::ConnectionRefused => x::ConnectionRefusedError::TYPE,
        K::ConnectionReset => x::ConnectionResetError::TYPE,
        K::ConnectionAborted => x::ConnectionAbortedError::TYPE,
        K::WouldBlock => x::BlockingIOError::TYPE,
        _ => x::OSError::TYPE,
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exceptions::ValueError;

    fn message(lazy: Lazy) -> String {
        match lazy {
            Lazy::Message { msg, .. } => msg.into_owned(),
            _ => panic!("not a message"),
        }
    }

    #[test]
    fn the_block_of_a_raised_error_is_used_again() {
        // Other tests may take the spare block meanwhile: it must come back at least once.
        let reused = (0..100).any(|i| {
            let first = boxed(Lazy::Message { ty: ValueError::TYPE, msg: format!("first {i}").into() });
            let block = &*first as *const Lazy;
            assert_eq!(message(unbox(first)), format!("first {i}"));
            let second = boxed(Lazy::Message { ty: ValueError::TYPE, msg: "second".into() });
            let same = std::ptr::eq(&*second, block);
            assert_eq!(message(unbox(second)), "second");
            same
        });
        assert!(reused);
    }

    #[test]
    fn errors_made_and_raised_on_many_threads_keep_their_own_values() {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let text = format!("{t}/{i}");
                        let lazy = boxed(Lazy::Message { ty: ValueError::TYPE, msg: text.clone().into() });
                        assert_eq!(message(unbox(lazy)), text);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
    }
}
