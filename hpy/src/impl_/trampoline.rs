//! The two halves of every generated function:
//!
//! * the **implementation** (`impl` in `HPyMeth`), called by the HPy runtime with the context of
//!   this call: `call_*` below wrap the user's code, turn `Err` into a raised exception and a
//!   Rust panic into a `RuntimeError`, and never let a panic unwind into C;
//! * the **CPython trampoline** (`cpy_trampoline`), called by CPython with `PyObject*`s:
//!   `cpy_*` below pack the arguments into HPy's `_HPyFunc_args_*` struct and let the runtime
//!   call the implementation.

use core::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::args::{borrow_array, Args, FunctionDescription};
use super::{ffi, trampoline_context};
use crate::handle::{Borrowed, Handle};
use crate::kinds::Module;
use crate::{Context, Error, IntoHPy, Result};

/// What a generated function may return: a convertible value, or `Result` of one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned to Python",
    note = "return a type that implements `hpy::IntoHPy` (or `Result` of one, whose error converts into `hpy::Error`)"
)]
pub trait IntoReturn<'ctx> {
    /// The new handle to return to HPy (NULL only with an exception set).
    fn into_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy>;
}

impl<'ctx, T: IntoHPy<'ctx>> IntoReturn<'ctx> for T {
    #[inline]
    fn into_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        self.into_raw_return(ctx)
    }
}

impl<'ctx, T: IntoHPy<'ctx>, E: Into<Error>> IntoReturn<'ctx> for core::result::Result<T, E> {
    #[inline]
    fn into_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        self.map_err(Into::into)?.into_raw_return(ctx)
    }
}

/// What an init function may return: `()` or `Result<(), E>`.
pub trait IntoInitResult {
    /// As an hpy `Result`.
    fn into_init_result(self) -> Result<()>;
}
impl IntoInitResult for () {
    fn into_init_result(self) -> Result<()> {
        Ok(())
    }
}
impl<E: Into<Error>> IntoInitResult for core::result::Result<(), E> {
    fn into_init_result(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// Run `f`; on `Err` raise it, on panic raise `RuntimeError("Rust panic: ...")`; return
/// `on_error` in both cases.
#[inline]
pub(crate) fn run<'ctx, R>(ctx: Context<'ctx>, on_error: R, f: impl FnOnce(Context<'ctx>) -> Result<R>) -> R {
    match catch_unwind(AssertUnwindSafe(|| f(ctx))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            e.restore(ctx);
            on_error
        }
        Err(payload) => {
            raise_panic(ctx, payload);
            on_error
        }
    }
}

/// Raise `RuntimeError("Rust panic: ...")` for a caught panic. Out of line: the landing pad in
/// every trampoline is then one call, which keeps the trampolines' own code (and the registers
/// they save) as small as C's.
#[cold]
#[inline(never)]
fn raise_panic(ctx: Context<'_>, payload: Box<dyn std::any::Any + Send>) {
    let msg = panic_message(&*payload);
    // Dropping the payload could itself panic: never let that unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    crate::exceptions::RuntimeError::new_err(format!("Rust panic: {msg}")).restore(ctx);
}

/// The implementation side of an `HPyFunc_NOARGS` function.
///
/// `S` is the kind of `self`: [`Any`](crate::Any) for module functions, the class for methods.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call, `slf` is borrowed and of kind `S`.
#[inline]
pub unsafe fn call_noargs<S>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx, S>) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    // SAFETY: per the contract, `slf` is a borrowed `S`.
    run(ctx, ffi::HPy_NULL, |ctx| f(ctx, unsafe { Borrowed::from_raw(ctx, slf) }))
}

/// The implementation side of an `HPyFunc_O` function.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call, `slf` (of kind `S`) and `arg` are borrowed.
#[inline]
pub unsafe fn call_o<S>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    arg: ffi::HPy,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    // SAFETY: both handles are borrowed for the call; `slf` is an `S`.
    run(ctx, ffi::HPy_NULL, |ctx| unsafe { f(ctx, Borrowed::from_raw(ctx, slf), Borrowed::from_raw(ctx, arg)) })
}

/// The implementation side of an `HPyFunc_VARARGS` (`kwnames` NULL) or `HPyFunc_KEYWORDS`
/// function: parse the arguments against `desc`, then run `f`.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call; `slf` is a borrowed `S`; `args` holds `nargs`
/// borrowed handles plus one per name in `kwnames` (a tuple, or NULL).
#[inline]
pub unsafe fn call_with_args<S, const N: usize>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    args: *const ffi::HPy,
    nargs: usize,
    kwnames: ffi::HPy,
    desc: &'static FunctionDescription,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx, S>, &Args<'a, 'ctx, N>) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, ffi::HPy_NULL, |ctx| {
        let mut parsed = Args::new(desc);
        // SAFETY: per the contract.
        unsafe { desc.parse::<N>(&mut parsed, ctx, args, nargs, kwnames)? };
        // SAFETY: `slf` is a borrowed `S`.
        f(ctx, unsafe { Borrowed::from_raw(ctx, slf) }, &parsed)
    })
}

/// The implementation side of an `HPyFunc_VARARGS` function whose parameters are exactly its
/// positional-only ones: after one count check, `f` gets the argument handles as they lie.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call; `slf` is a borrowed `S`; `args` holds `nargs`
/// borrowed handles.
#[inline]
pub unsafe fn call_exact<S, const N: usize>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    args: *const ffi::HPy,
    nargs: usize,
    desc: &'static FunctionDescription,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx, S>, &[Borrowed<'a, 'ctx>; N]) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, ffi::HPy_NULL, |ctx| {
        if nargs != N {
            return Err(desc.wrong_count(nargs));
        }
        // SAFETY: `args` holds `nargs == N` handles, borrowed for the call.
        let args = unsafe { borrow_array::<N>(ctx, args) };
        // SAFETY: `slf` is a borrowed `S`.
        f(ctx, unsafe { Borrowed::from_raw(ctx, slf) }, &args)
    })
}

/// The implementation side of an `HPy_mod_exec` slot: run the module's init code.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call, `module` is borrowed.
pub unsafe fn call_mod_exec(
    ctx: *mut ffi::HPyContext,
    module: ffi::HPy,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, &'a Handle<'ctx, Module>) -> Result<()>,
) -> core::ffi::c_int {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, -1, |ctx| {
        // SAFETY: `module` is borrowed for the call and is a module.
        let module = unsafe { Borrowed::<Module>::from_raw(ctx, module) };
        super::detect_interpreter(ctx)?;
        f(ctx, &module)?;
        Ok(0)
    })
}

/// The `cpy_PyCFunction` type.
pub type CpyFastcall =
    unsafe extern "C" fn(*mut ffi::cpy_PyObject, *const *mut ffi::cpy_PyObject, ffi::HPy_ssize_t) -> *mut ffi::cpy_PyObject;
/// A NOARGS implementation.
pub type NoargsImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy) -> ffi::HPy;
/// An O implementation.
pub type OImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy, ffi::HPy) -> ffi::HPy;
/// A VARARGS implementation.
pub type VarargsImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy, *const ffi::HPy, usize) -> ffi::HPy;
/// A KEYWORDS implementation.
pub type KeywordsImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy, *const ffi::HPy, usize, ffi::HPy) -> ffi::HPy;
/// An INQUIRY implementation (`HPy_mod_exec`).
pub type InquiryImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy) -> core::ffi::c_int;
/// METH_NOARGS / METH_O trampolines (CPython passes `NULL` or the argument second).
pub type CpyTwoArgs = unsafe extern "C" fn(*mut ffi::cpy_PyObject, *mut ffi::cpy_PyObject) -> *mut ffi::cpy_PyObject;
/// METH_FASTCALL|METH_KEYWORDS trampolines.
pub type CpyKeywords = unsafe extern "C" fn(
    *mut ffi::cpy_PyObject,
    *const *mut ffi::cpy_PyObject,
    usize,
    *mut ffi::cpy_PyObject,
) -> *mut ffi::cpy_PyObject;
/// `Py_mod_exec` trampolines.
pub type CpyInquiry = unsafe extern "C" fn(*mut ffi::cpy_PyObject) -> core::ffi::c_int;

/// Let the runtime call `impl_` with the arguments packed in `args`.
///
/// # Safety
/// `args` is the `_HPyFunc_args_*` struct of `sig`, and `impl_` has the signature of `sig`.
#[inline]
unsafe fn call_real(sig: ffi::HPyFunc_Signature, impl_: ffi::HPyCFunction, args: *mut c_void) {
    // SAFETY: the stored context is the one the runtime gave this module at load time.
    unsafe { ffi::_HPy_CallRealFunctionFromTrampoline(trampoline_context(), sig, impl_, args) }
}

/// CPython trampoline of a NOARGS function.
///
/// # Safety
/// Called by CPython as METH_NOARGS; `impl_` is a NOARGS implementation.
#[inline]
pub unsafe fn cpy_noargs(slf: *mut ffi::cpy_PyObject, impl_: ffi::HPyCFunction) -> *mut ffi::cpy_PyObject {
    let mut a = ffi::_HPyFunc_args_NOARGS { self_: slf, result: core::ptr::null_mut() };
    // SAFETY: `a` matches HPyFunc_NOARGS.
    unsafe { call_real(ffi::HPyFunc_NOARGS, impl_, (&mut a as *mut ffi::_HPyFunc_args_NOARGS).cast()) };
    a.result
}

/// CPython trampoline of an O function.
///
/// # Safety
/// Called by CPython as METH_O; `impl_` is an O implementation.
#[inline]
pub unsafe fn cpy_o(slf: *mut ffi::cpy_PyObject, arg: *mut ffi::cpy_PyObject, impl_: ffi::HPyCFunction) -> *mut ffi::cpy_PyObject {
    let mut a = ffi::_HPyFunc_args_O { self_: slf, arg, result: core::ptr::null_mut() };
    // SAFETY: `a` matches HPyFunc_O.
    unsafe { call_real(ffi::HPyFunc_O, impl_, (&mut a as *mut ffi::_HPyFunc_args_O).cast()) };
    a.result
}

/// A positional-argument count no real call can have: more pointers than fit in memory.
///
/// CPython's specializing interpreter (gh-131998; 3.11 to 3.13.2, and 3.12 never got the fix)
/// can call a METH_FASTCALL method with `nargs == -1`: a call site specialized for
/// `obj.method()` that later runs `Type.method()` with no arguments reads a stale stack slot as
/// the receiver. The HPy runtime would then convert "2^63 - 1" argument pointers and crash; C
/// functions that check their count raise instead, and so do these trampolines.
#[inline(always)]
fn impossible_count(nargs: usize) -> bool {
    nargs > isize::MAX as usize / core::mem::size_of::<*mut ffi::cpy_PyObject>()
}

/// CPython's flag in a vectorcall's `nargsf` (the callee may use `args[-1]`); not part of the count.
const PY_VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

const NO_RECEIVER: &core::ffi::CStr = c"unbound method needs an argument (its receiver)";

/// Raises the TypeError CPython itself raises for an unbound method called with no receiver.
unsafe extern "C" fn raise_no_receiver_varargs(ctx: *mut ffi::HPyContext, _: ffi::HPy, _: *const ffi::HPy, _: usize) -> ffi::HPy {
    // SAFETY: called by the runtime with the live context of this call.
    unsafe { ffi::HPyErr_SetString(ctx, (*ctx).h_TypeError, NO_RECEIVER.as_ptr()) }
}

/// [`raise_no_receiver_varargs`] for the KEYWORDS signature.
unsafe extern "C" fn raise_no_receiver_keywords(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    args: *const ffi::HPy,
    nargs: usize,
    _: ffi::HPy,
) -> ffi::HPy {
    // SAFETY: the same call, as VARARGS.
    unsafe { raise_no_receiver_varargs(ctx, slf, args, nargs) }
}

/// CPython trampoline of a VARARGS function (METH_FASTCALL).
///
/// # Safety
/// Called by CPython as METH_FASTCALL; `impl_` is a VARARGS implementation.
#[inline]
pub unsafe fn cpy_varargs(
    slf: *mut ffi::cpy_PyObject,
    args: *const *mut ffi::cpy_PyObject,
    nargs: ffi::HPy_ssize_t,
    impl_: ffi::HPyCFunction,
) -> *mut ffi::cpy_PyObject {
    let (impl_, nargs) =
        if impossible_count(nargs as usize) { (crate::impl_::cast::varargs(raise_no_receiver_varargs), 0) } else { (impl_, nargs) };
    let mut a = ffi::_HPyFunc_args_VARARGS { self_: slf, args, nargs, result: core::ptr::null_mut() };
    // SAFETY: `a` matches HPyFunc_VARARGS.
    unsafe { call_real(ffi::HPyFunc_VARARGS, impl_, (&mut a as *mut ffi::_HPyFunc_args_VARARGS).cast()) };
    a.result
}

/// CPython trampoline of a KEYWORDS function (METH_FASTCALL | METH_KEYWORDS).
///
/// # Safety
/// Called by CPython as METH_FASTCALL|METH_KEYWORDS; `impl_` is a KEYWORDS implementation.
#[inline]
pub unsafe fn cpy_keywords(
    slf: *mut ffi::cpy_PyObject,
    args: *const *mut ffi::cpy_PyObject,
    nargsf: usize,
    kwnames: *mut ffi::cpy_PyObject,
    impl_: ffi::HPyCFunction,
) -> *mut ffi::cpy_PyObject {
    let (impl_, nargsf, kwnames) = if impossible_count(nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET) {
        (crate::impl_::cast::keywords(raise_no_receiver_keywords), 0, core::ptr::null_mut())
    } else {
        (impl_, nargsf, kwnames)
    };
    let mut a = ffi::_HPyFunc_args_KEYWORDS { self_: slf, args, nargsf, kwnames, result: core::ptr::null_mut() };
    // SAFETY: `a` matches HPyFunc_KEYWORDS.
    unsafe { call_real(ffi::HPyFunc_KEYWORDS, impl_, (&mut a as *mut ffi::_HPyFunc_args_KEYWORDS).cast()) };
    a.result
}

/// CPython trampoline of an INQUIRY slot (`Py_mod_exec`).
///
/// # Safety
/// Called by CPython with one object; `impl_` is an INQUIRY implementation.
#[inline]
pub unsafe fn cpy_inquiry(arg0: *mut ffi::cpy_PyObject, impl_: ffi::HPyCFunction) -> core::ffi::c_int {
    let mut a = ffi::_HPyFunc_args_INQUIRY { arg0, result: 0 };
    // SAFETY: `a` matches HPyFunc_INQUIRY.
    unsafe { call_real(ffi::HPyFunc_INQUIRY, impl_, (&mut a as *mut ffi::_HPyFunc_args_INQUIRY).cast()) };
    a.result
}

/// An `HPyDef` for a module function or a method. `$kind` is `noargs`, `o`, `exact`, `varargs` or
/// `keywords`; the body is a closure taking the `call_*` arguments. Expands to a constant
/// expression.
///
/// `$kind[Class]` makes a method of `Class`: `self` reaches the body as a
/// `Borrowed<'_, '_, Class>`, without a type check of its own. That is sound because every HPy
/// implementation checks the receiver of a method descriptor before calling it: CPython's
/// `method_descriptor` (`descr_check`: "descriptor 'f' for 'C' objects doesn't apply to a 'int'
/// object"), PyPy's `W_ExtensionMethod.descr_call` (`isinstance_w(w_instance, w_objclass)`) and
/// GraalPy's `CheckEnclosingTypeNode` (HPy method roots are created with
/// `checkEnclosingType = true`). A def made this way must only go into `Class`'s own type spec.
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_function_def {
    (noargs[$S:ty], $name:expr, $doc:expr, $body:expr) => {{
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, slf: $crate::ffi::HPy) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as an HPyFunc_NOARGS implementation, with a
            // `$S` receiver (see the macro's documentation).
            unsafe { $crate::impl_::call_noargs::<$S>(ctx, slf, $body) }
        }
        unsafe extern "C" fn __cpy(slf: *mut $crate::ffi::cpy_PyObject, _: *mut $crate::ffi::cpy_PyObject) -> *mut $crate::ffi::cpy_PyObject {
            // SAFETY: called by CPython as METH_NOARGS.
            unsafe { $crate::impl_::cpy_noargs(slf, $crate::impl_::cast::noargs(__impl)) }
        }
        $crate::impl_::meth_def(
            $name,
            $doc,
            $crate::ffi::HPyFunc_NOARGS,
            $crate::impl_::cast::noargs(__impl),
            $crate::impl_::cast::cpy_two_args(__cpy),
        )
    }};
    (o[$S:ty], $name:expr, $doc:expr, $body:expr) => {{
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, slf: $crate::ffi::HPy, arg: $crate::ffi::HPy) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as an HPyFunc_O implementation, with a `$S`
            // receiver (see the macro's documentation).
            unsafe { $crate::impl_::call_o::<$S>(ctx, slf, arg, $body) }
        }
        unsafe extern "C" fn __cpy(slf: *mut $crate::ffi::cpy_PyObject, arg: *mut $crate::ffi::cpy_PyObject) -> *mut $crate::ffi::cpy_PyObject {
            // SAFETY: called by CPython as METH_O.
            unsafe { $crate::impl_::cpy_o(slf, arg, $crate::impl_::cast::o(__impl)) }
        }
        $crate::impl_::meth_def(
            $name,
            $doc,
            $crate::ffi::HPyFunc_O,
            $crate::impl_::cast::o(__impl),
            $crate::impl_::cast::cpy_two_args(__cpy),
        )
    }};
    (varargs[$S:ty], $name:expr, $doc:expr, $desc:expr, $n:literal, $body:expr) => {{
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            slf: $crate::ffi::HPy,
            args: *const $crate::ffi::HPy,
            nargs: usize,
        ) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as an HPyFunc_VARARGS implementation, with a
            // `$S` receiver (see the macro's documentation).
            unsafe { $crate::impl_::call_with_args::<$S, $n>(ctx, slf, args, nargs, $crate::ffi::HPy_NULL, $desc, $body) }
        }
        $crate::__hpy_function_def!(@varargs_def, $name, $doc)
    }};
    (exact[$S:ty], $name:expr, $doc:expr, $desc:expr, $n:literal, $body:expr) => {{
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            slf: $crate::ffi::HPy,
            args: *const $crate::ffi::HPy,
            nargs: usize,
        ) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as an HPyFunc_VARARGS implementation, with a
            // `$S` receiver (see the macro's documentation).
            unsafe { $crate::impl_::call_exact::<$S, $n>(ctx, slf, args, nargs, $desc, $body) }
        }
        $crate::__hpy_function_def!(@varargs_def, $name, $doc)
    }};
    (keywords[$S:ty], $name:expr, $doc:expr, $desc:expr, $n:literal, $body:expr) => {{
        $crate::__hpy_keywords_fns!($S, $n, $desc, $body);
        $crate::impl_::meth_def(
            $name,
            $doc,
            $crate::ffi::HPyFunc_KEYWORDS,
            $crate::impl_::cast::keywords(__impl),
            $crate::impl_::cast::cpy_keywords(__cpy),
        )
    }};
    // The CPython trampoline and the def of the VARARGS implementation `__impl` defined by the caller.
    (@varargs_def, $name:expr, $doc:expr) => {{
        unsafe extern "C" fn __cpy(
            slf: *mut $crate::ffi::cpy_PyObject,
            args: *const *mut $crate::ffi::cpy_PyObject,
            nargs: $crate::ffi::HPy_ssize_t,
        ) -> *mut $crate::ffi::cpy_PyObject {
            // SAFETY: called by CPython as METH_FASTCALL.
            unsafe { $crate::impl_::cpy_varargs(slf, args, nargs, $crate::impl_::cast::varargs(__impl)) }
        }
        $crate::impl_::meth_def(
            $name,
            $doc,
            $crate::ffi::HPyFunc_VARARGS,
            $crate::impl_::cast::varargs(__impl),
            $crate::impl_::cast::cpy_fastcall(__cpy),
        )
    }};
    // A module function: `self` is the module (or NULL), of no particular kind.
    ($kind:ident, $($rest:tt)*) => {
        $crate::__hpy_function_def!($kind[$crate::Any], $($rest)*)
    };
}

/// Defines, in the caller's block, `__impl`: an HPyFunc_KEYWORDS implementation parsing up to
/// `$n` arguments per `$desc` and running `$body` with a `$S` receiver, and `__cpy`: its CPython
/// trampoline (METH_FASTCALL|METH_KEYWORDS, which is also the calling convention of a type's
/// vectorcall). Shared by keyword functions and methods and the `__call__` slot; the caller
/// answers for the receiver's kind.
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_keywords_fns {
    ($S:ty, $n:literal, $desc:expr, $body:expr) => {
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            slf: $crate::ffi::HPy,
            args: *const $crate::ffi::HPy,
            nargs: usize,
            kwnames: $crate::ffi::HPy,
        ) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as an HPyFunc_KEYWORDS implementation; the
            // receiver's kind is the caller's promise.
            unsafe { $crate::impl_::call_with_args::<$S, $n>(ctx, slf, args, nargs, kwnames, $desc, $body) }
        }
        unsafe extern "C" fn __cpy(
            slf: *mut $crate::ffi::cpy_PyObject,
            args: *const *mut $crate::ffi::cpy_PyObject,
            nargsf: usize,
            kwnames: *mut $crate::ffi::cpy_PyObject,
        ) -> *mut $crate::ffi::cpy_PyObject {
            // SAFETY: called by CPython with the METH_FASTCALL|METH_KEYWORDS convention.
            unsafe { $crate::impl_::cpy_keywords(slf, args, nargsf, kwnames, $crate::impl_::cast::keywords(__impl)) }
        }
    };
}

/// An `HPy_mod_exec` slot def running `$body: FnOnce(Context, &Handle<Module>) -> Result<()>`.
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_mod_exec_def {
    ($body:expr) => {{
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, module: $crate::ffi::HPy) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime as the module's exec slot.
            unsafe { $crate::impl_::call_mod_exec(ctx, module, $body) }
        }
        unsafe extern "C" fn __cpy(module: *mut $crate::ffi::cpy_PyObject) -> ::core::ffi::c_int {
            // SAFETY: called by CPython as a Py_mod_exec slot.
            unsafe { $crate::impl_::cpy_inquiry(module, $crate::impl_::cast::inquiry(__impl)) }
        }
        $crate::impl_::slot_def(
            $crate::ffi::HPy_mod_exec,
            $crate::impl_::cast::inquiry(__impl),
            $crate::impl_::cast::cpy_inquiry(__cpy),
        )
    }};
}
