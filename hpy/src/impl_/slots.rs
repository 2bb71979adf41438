//! Type slots for `#[hpy::class]` / `#[hpy::methods]`: the implementation side of each HPy slot
//! signature (`call_*`), the matching CPython trampolines (in `__hpy_slot_def!`), and the defs
//! every class gets (`tp_destroy`, `tp_traverse`).

use core::ffi::{c_int, c_void};

use super::args::{Args, FunctionDescription};
use super::ffi;
use super::trampoline::run;
use crate::class::{Class, ClassCell, Init, NoBase};
use crate::handle::{Borrowed, Handle};
use crate::object::CompareOp;
use crate::{Context, Error, IntoHPy, Result};

/// Let the runtime call `impl_` with the arguments packed in `args` (for the CPython side).
///
/// # Safety
/// `args` is the `_HPyFunc_args_*` struct of `sig`, and `impl_` has the signature of `sig`.
#[inline]
pub unsafe fn call_real<A>(sig: ffi::HPyFunc_Signature, impl_: ffi::HPyCFunction, args: &mut A) {
    // SAFETY: the stored context is the one the runtime gave this module at load time.
    unsafe {
        ffi::_HPy_CallRealFunctionFromTrampoline(super::trampoline_context(), sig, impl_, (args as *mut A).cast())
    }
}

/// The kind of a slot's first argument (`self`): [`Any`](crate::Any) when the slot may be
/// called with any object there (binary operators: `1 + obj` passes the int first), or the
/// class, for the slots in [`runtime_checks_receiver`].
pub trait SlotSelf {
    /// `true` for `Any`: nothing is assumed about the first argument.
    const UNCHECKED: bool;
}
impl SlotSelf for crate::Any {
    const UNCHECKED: bool = true;
}
impl<T: Class> SlotSelf for T {
    const UNCHECKED: bool = false;
}

/// Does every HPy implementation guarantee that `slot`'s first argument is an instance of the
/// type that defines it? Then the generated code takes it as the class without a check.
///
/// For these slots, Python reaches the function only through the object's own type
/// (`type(obj)->slot(obj, ...)`, also for the reflected comparison), or through a slot wrapper
/// that checks the receiver first: CPython's `wrapperdescr_call` ("descriptor '__len__'
/// requires a 'C' object but received a 'int'"), PyPy's `W_SlotWrapper.descr_call`
/// (`isinstance_w(w_instance, w_objclass)`), GraalPy's HPy slot roots built with
/// `checkEnclosingType = true`. CPython's `update_one_slot` copies the function into another
/// type only for subtypes. Left out on purpose: the numeric slots (called with the instance on
/// either side), getters and setters (PyPy's getset descriptor does not check), `__bool__` and
/// `__hash__` (GraalPy's wrappers do not check), and every slot where this was not verified.
pub const fn runtime_checks_receiver(slot: ffi::HPySlot_Slot) -> bool {
    matches!(
        slot,
        ffi::HPy_sq_length
            | ffi::HPy_mp_length
            | ffi::HPy_mp_subscript
            | ffi::HPy_sq_item
            | ffi::HPy_tp_repr
            | ffi::HPy_tp_richcompare
            | ffi::HPy_tp_call
    )
}

macro_rules! impl_side {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty, on_error = $err:expr,
            f: ($($fty:ty),*) -> $fret:ty, |$ctx:ident| $call:expr;
    )*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// Called by HPy: `ctx` is live for the call and every handle is borrowed for it; the
        /// first one is of kind `S`.
        #[inline]
        pub unsafe fn $name<S>(
            ctx: *mut ffi::HPyContext,
            $($arg: $ty,)*
            f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, $($fty),*) -> Result<$fret>,
        ) -> $ret {
            // SAFETY: per the contract.
            let ctx = unsafe { Context::from_raw(ctx) };
            run(ctx, $err, |$ctx| $call(f))
        }
    )*};
}

/// A borrowed handle for a slot argument.
#[inline]
fn b<'a, 'ctx>(ctx: Context<'ctx>, h: ffi::HPy) -> Borrowed<'a, 'ctx> {
    // SAFETY: slot arguments are borrowed for the call.
    unsafe { Borrowed::from_raw(ctx, h) }
}

/// The first argument of a slot, as a borrowed `S`.
///
/// # Safety
/// `h` is borrowed for the call and of kind `S` (the contract of the `call_*` functions).
#[inline]
unsafe fn recv<'a, 'ctx, S>(ctx: Context<'ctx>, h: ffi::HPy) -> Borrowed<'a, 'ctx, S> {
    // SAFETY: per the contract.
    unsafe { Borrowed::from_raw(ctx, h) }
}

/// `None` for the NULL that CPython passes for "delete".
#[inline]
fn opt<'a, 'ctx>(ctx: Context<'ctx>, h: ffi::HPy) -> Option<Borrowed<'a, 'ctx>> {
    if h._i == 0 {
        None
    } else {
        Some(b(ctx, h))
    }
}

// SAFETY (every `recv` below): the first argument is an `S`, per the contract of `call_*`.
impl_side! {
    /// `HPyFunc_UNARYFUNC` / `REPRFUNC` (and `GETITERFUNC`-shaped).
    fn call_unary(a: ffi::HPy) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>) -> ffi::HPy, |ctx| (|f: _| f_apply1(f, ctx, unsafe { recv(ctx, a) }));
    /// `HPyFunc_BINARYFUNC`.
    fn call_binary(a: ffi::HPy, c: ffi::HPy) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>) -> ffi::HPy, |ctx| (|f: _| f_apply2(f, ctx, unsafe { recv(ctx, a) }, b(ctx, c)));
    /// `HPyFunc_TERNARYFUNC` (the third argument is `None` when absent).
    fn call_ternary(a: ffi::HPy, c: ffi::HPy, d: ffi::HPy) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>, Borrowed<'a, 'ctx>) -> ffi::HPy,
        |ctx| (|f: _| f_apply3(f, ctx, unsafe { recv(ctx, a) }, b(ctx, c), b(ctx, d)));
    /// `HPyFunc_INQUIRY` (`__bool__`).
    fn call_inquiry(a: ffi::HPy) -> c_int, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>) -> c_int, |ctx| (|f: _| f_apply1(f, ctx, unsafe { recv(ctx, a) }));
    /// `HPyFunc_LENFUNC`.
    fn call_len(a: ffi::HPy) -> ffi::HPy_ssize_t, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>) -> ffi::HPy_ssize_t, |ctx| (|f: _| f_apply1(f, ctx, unsafe { recv(ctx, a) }));
    /// `HPyFunc_HASHFUNC`.
    fn call_hash(a: ffi::HPy) -> ffi::HPy_hash_t, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>) -> ffi::HPy_hash_t, |ctx| (|f: _| f_apply1(f, ctx, unsafe { recv(ctx, a) }));
    /// `HPyFunc_RICHCMPFUNC`.
    fn call_richcmp(a: ffi::HPy, c: ffi::HPy, op: ffi::HPy_RichCmpOp) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>, CompareOp) -> ffi::HPy,
        |ctx| (|f: _| match CompareOp::from_raw(op) {
            Some(op) => f_apply3(f, ctx, unsafe { recv(ctx, a) }, b(ctx, c), op),
            None => Err(crate::exceptions::SystemError::new_err("invalid comparison operator")),
        });
    /// `HPyFunc_SSIZEARGFUNC`.
    fn call_ssizearg(a: ffi::HPy, i: ffi::HPy_ssize_t) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>, isize) -> ffi::HPy, |ctx| (|f: _| f_apply2(f, ctx, unsafe { recv(ctx, a) }, i));
    /// `HPyFunc_OBJOBJARGPROC` (`__setitem__`, or `__delitem__` when the value is NULL).
    fn call_objobjarg(a: ffi::HPy, k: ffi::HPy, v: ffi::HPy) -> c_int, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>, Option<Borrowed<'a, 'ctx>>) -> c_int,
        |ctx| (|f: _| f_apply3(f, ctx, unsafe { recv(ctx, a) }, b(ctx, k), opt(ctx, v)));
    /// `HPyFunc_OBJOBJPROC` (`__contains__`).
    fn call_objobj(a: ffi::HPy, k: ffi::HPy) -> c_int, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>, Borrowed<'a, 'ctx>) -> c_int, |ctx| (|f: _| f_apply2(f, ctx, unsafe { recv(ctx, a) }, b(ctx, k)));
    /// `HPyFunc_GETTER`.
    fn call_getter(a: ffi::HPy) -> ffi::HPy, on_error = ffi::HPy_NULL,
        f: (Borrowed<'a, 'ctx, S>) -> ffi::HPy, |ctx| (|f: _| f_apply1(f, ctx, unsafe { recv(ctx, a) }));
    /// `HPyFunc_SETTER` (the value is NULL for `del obj.attr`).
    fn call_setter(a: ffi::HPy, v: ffi::HPy) -> c_int, on_error = -1,
        f: (Borrowed<'a, 'ctx, S>, Option<Borrowed<'a, 'ctx>>) -> c_int, |ctx| (|f: _| f_apply2(f, ctx, unsafe { recv(ctx, a) }, opt(ctx, v)));
}

#[inline(always)]
fn f_apply1<'ctx, A, R>(f: impl FnOnce(Context<'ctx>, A) -> Result<R>, ctx: Context<'ctx>, a: A) -> Result<R> {
    f(ctx, a)
}
#[inline(always)]
fn f_apply2<'ctx, A, B, R>(f: impl FnOnce(Context<'ctx>, A, B) -> Result<R>, ctx: Context<'ctx>, a: A, b: B) -> Result<R> {
    f(ctx, a, b)
}
#[inline(always)]
fn f_apply3<'ctx, A, B, C, R>(
    f: impl FnOnce(Context<'ctx>, A, B, C) -> Result<R>,
    ctx: Context<'ctx>,
    a: A,
    b: B,
    c: C,
) -> Result<R> {
    f(ctx, a, b, c)
}

/// `HPyFunc_DESTRUCTOR` (`__del__`, run as `tp_finalize`): errors cannot propagate, so they are
/// reported as "unraisable", as CPython does for `__del__`.
///
/// # Safety
/// Called by HPy: `ctx` is live for the call and `a` borrowed.
pub unsafe fn call_finalize(
    ctx: *mut ffi::HPyContext,
    a: ffi::HPy,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>) -> Result<()>,
) {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    let failed = run(ctx, true, |ctx| f(ctx, b(ctx, a)).map(|()| false));
    if failed {
        // SAFETY: live context; the exception set by `run` is reported against the object.
        unsafe { ffi::HPyErr_WriteUnraisable(ctx.as_ptr(), a) };
    }
}

/// `HPyFunc_NEWFUNC` (`#[new]`): `args` is an array, `kw` a dict or NULL (CPython's old-style
/// keywords); both are matched against `desc` like a function's.
///
/// # Safety
/// Called by HPy: `ctx` is live; `args` holds `nargs` borrowed handles; `kw` is a dict or NULL.
pub unsafe fn call_new<const N: usize>(
    ctx: *mut ffi::HPyContext,
    ty: ffi::HPy,
    args: *const ffi::HPy,
    nargs: ffi::HPy_ssize_t,
    kw: ffi::HPy,
    desc: &'static FunctionDescription,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>, &Args<'a, 'ctx, N>) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, ffi::HPy_NULL, |ctx| {
        let mut parsed = Args::new(desc);
        // SAFETY: per the contract.
        unsafe { desc.parse_with_dict::<N>(&mut parsed, ctx, args, nargs.max(0) as usize, kw)? };
        f(ctx, b(ctx, ty), &parsed)
    })
}

/// [`call_new`] for a `#[new]` whose parameters are exactly its required positional-only ones:
/// a call with that many arguments and no keyword dict uses the argument handles where they lie,
/// as [`call_exact`](super::call_exact) does for functions. Any other call goes through the
/// general parser, which accepts an empty keyword dict and raises the right TypeError otherwise.
///
/// # Safety
/// As [`call_new`]; `desc` has exactly `N` required positional-only parameters.
#[inline]
pub unsafe fn call_new_exact<const N: usize>(
    ctx: *mut ffi::HPyContext,
    ty: ffi::HPy,
    args: *const ffi::HPy,
    nargs: ffi::HPy_ssize_t,
    kw: ffi::HPy,
    desc: &'static FunctionDescription,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>, &[Borrowed<'a, 'ctx>; N]) -> Result<ffi::HPy>,
) -> ffi::HPy {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, ffi::HPy_NULL, |ctx| {
        let nargs = nargs.max(0) as usize;
        if nargs != N || kw._i != 0 {
            // SAFETY: per the contract.
            unsafe { check_new_arguments::<N>(ctx, args, nargs, kw, desc)? };
        }
        // SAFETY: `args` holds `nargs == N` handles, borrowed for the call.
        let args = unsafe { super::args::borrow_array::<N>(ctx, args) };
        f(ctx, b(ctx, ty), &args)
    })
}

/// The uncommon calls of [`call_new_exact`] (a keyword dict, or a wrong count), out of line:
/// the general parser accepts them if the dict is empty and the count right, else raises.
///
/// # Safety
/// As [`call_new`].
#[cold]
#[inline(never)]
unsafe fn check_new_arguments<const N: usize>(
    ctx: Context<'_>,
    args: *const ffi::HPy,
    nargs: usize,
    kw: ffi::HPy,
    desc: &'static FunctionDescription,
) -> Result<()> {
    // SAFETY: per the contract.
    unsafe { desc.parse_with_dict::<N>(&mut Args::new(desc), ctx, args, nargs, kw)? };
    match nargs == N {
        true => Ok(()),
        false => Err(desc.wrong_count(nargs)),
    }
}

/// The `tp_new` of a class without `#[new]`: Python code cannot create instances (they would
/// have no Rust value); Rust code still can, with [`Context::instance`].
unsafe extern "C" fn no_constructor<T: Class>(
    ctx: *mut ffi::HPyContext,
    _ty: ffi::HPy,
    _args: *const ffi::HPy,
    _nargs: ffi::HPy_ssize_t,
    _kw: ffi::HPy,
) -> ffi::HPy {
    // SAFETY: called by the HPy runtime as a tp_new, with a live context.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, ffi::HPy_NULL, |_| {
        Err(crate::exceptions::TypeError::new_err(format!(
            "cannot create '{}' instances: the class defines no constructor",
            T::NAME
        )))
    })
}

/// CPython trampoline of [`no_constructor`].
unsafe extern "C" fn cpy_no_constructor<T: Class>(
    slf: *mut ffi::cpy_PyObject,
    args: *mut ffi::cpy_PyObject,
    kw: *mut ffi::cpy_PyObject,
) -> *mut ffi::cpy_PyObject {
    // SAFETY: called by CPython through the tp_new slot, for this implementation.
    unsafe { cpy_newfunc(slf, args, kw, super::cast::newfunc(no_constructor::<T>)) }
}

/// The CPython side of a `tp_new` slot: run the HPy implementation `impl_`.
///
/// # Safety
/// Called by CPython through a `tp_new` slot whose HPy implementation is `impl_`.
#[inline]
pub unsafe fn cpy_newfunc(
    slf: *mut ffi::cpy_PyObject,
    args: *mut ffi::cpy_PyObject,
    kw: *mut ffi::cpy_PyObject,
    impl_: ffi::HPyCFunction,
) -> *mut ffi::cpy_PyObject {
    let mut a = ffi::_HPyFunc_args_NEWFUNC { self_: slf, args, kw, result: core::ptr::null_mut() };
    // SAFETY: per the contract; `a` matches HPyFunc_NEWFUNC.
    unsafe { call_real(ffi::HPyFunc_NEWFUNC, impl_, &mut a) };
    a.result
}

/// The `HPy_tp_new` def of a class without `#[new]`: calling the class raises `TypeError`.
pub const fn no_constructor_def<T: Class>() -> ffi::HPyDef {
    super::slot_def(ffi::HPy_tp_new, super::cast::newfunc(no_constructor::<T>), super::cast::cpy_newfunc(cpy_no_constructor::<T>))
}

/// What `#[new]` may return: the value of a class that extends no other hpy-rs class, an
/// [`Init`] (values of the class and its bases, fields to fill), `(Self, Base)` for a class that
/// extends `Base`, or a `Result` of one of these.
#[diagnostic::on_unimplemented(
    message = "`#[new]` of `{T}` cannot return `{Self}`",
    label = "this does not build a `{T}`",
    note = "`#[new]` returns `Self`, `hpy::Init<'_, Self>` (to fill `Field`s, or for a class that extends another), \
            `(Self, Base)` for a class that `extends = Base`, or a `Result` of one of these; a class that extends \
            another must build the base's value too"
)]
pub trait IntoNew<'ctx, T: Class> {
    /// What to build the instance from, as an hpy `Result`.
    fn into_initializer(self) -> Result<Init<'ctx, T>>;

    /// A new instance of `ty` built from the value(s), as a raw handle for HPy (`tp_new`).
    fn into_new(self, ctx: Context<'ctx>, ty: &Handle<'ctx>) -> Result<ffi::HPy>
    where
        Self: Sized,
    {
        Ok(crate::class::new_instance(ctx, ty, self.into_initializer()?)?.into_raw())
    }

    /// Store the value in `slf`, just created by the built-in base type's `__new__` (`tp_init`
    /// of a class that extends a built-in type).
    fn into_init(self, slf: &Handle<'ctx>) -> Result<c_int>
    where
        Self: Sized,
    {
        crate::class::init_instance::<T>(slf.clone(), self.into_initializer()?)?;
        Ok(0)
    }
}

impl<'ctx, T: Class<Base = NoBase>> IntoNew<'ctx, T> for T {
    fn into_initializer(self) -> Result<Init<'ctx, T>> {
        Ok(Init::new(self))
    }

    fn into_new(self, ctx: Context<'ctx>, ty: &Handle<'ctx>) -> Result<ffi::HPy> {
        Ok(crate::class::new_instance_of_value(ctx, ty, self)?.into_raw())
    }
}

impl<'ctx, T: Class> IntoNew<'ctx, T> for Init<'ctx, T> {
    fn into_initializer(self) -> Result<Init<'ctx, T>> {
        Ok(self)
    }
}

impl<'ctx, D: Class<Base = B>, B: Class<Base = NoBase>> IntoNew<'ctx, D> for (D, B) {
    fn into_initializer(self) -> Result<Init<'ctx, D>> {
        Ok(self.into())
    }
}

impl<'ctx, T: Class, V: IntoNew<'ctx, T>, E: Into<Error>> IntoNew<'ctx, T> for core::result::Result<V, E> {
    fn into_initializer(self) -> Result<Init<'ctx, T>> {
        self.map_err(Into::into)?.into_initializer()
    }
}

/// `HPyFunc_INITPROC` (`tp_init`): the constructor of a class that extends a built-in type. The
/// base type's `tp_new` made the object (with the built-in value); this stores the Rust value.
///
/// # Safety
/// Called by HPy: `ctx` is live; `args` holds `nargs` borrowed handles; `kw` is a dict or NULL.
pub unsafe fn call_init<const N: usize>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    args: *const ffi::HPy,
    nargs: ffi::HPy_ssize_t,
    kw: ffi::HPy,
    desc: &'static FunctionDescription,
    f: impl for<'a, 'ctx> FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>, &Args<'a, 'ctx, N>) -> Result<c_int>,
) -> c_int {
    // SAFETY: per the contract.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, -1, |ctx| {
        let mut parsed = Args::new(desc);
        // SAFETY: per the contract.
        unsafe { desc.parse_with_dict::<N>(&mut parsed, ctx, args, nargs.max(0) as usize, kw)? };
        f(ctx, b(ctx, slf), &parsed)
    })
}

/// Convert a slot's Rust result to what the slot returns.
pub trait SlotReturn<'ctx, R> {
    /// Convert.
    fn slot_return(self, ctx: Context<'ctx>) -> Result<R>;
}

// Through `into_raw_return`, as functions return: a conversion that is one HPy call hands its
// result (NULL with an exception set) straight back to the runtime.
impl<'ctx, T: IntoHPy<'ctx>> SlotReturn<'ctx, ffi::HPy> for T {
    #[inline]
    fn slot_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        self.into_raw_return(ctx)
    }
}
impl<'ctx, T: IntoHPy<'ctx>, E: Into<Error>> SlotReturn<'ctx, ffi::HPy> for core::result::Result<T, E> {
    #[inline]
    fn slot_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        self.map_err(Into::into)?.into_raw_return(ctx)
    }
}

/// `__len__` results.
pub fn len_return<E: Into<Error>>(r: core::result::Result<usize, E>) -> Result<ffi::HPy_ssize_t> {
    let n = r.map_err(Into::into)?;
    isize::try_from(n).map_err(|_| crate::exceptions::OverflowError::new_err("__len__() should return a value < sys.maxsize"))
}

/// `__hash__` results: -1 means "error" to CPython, so a hash of -1 becomes -2 (as CPython does).
pub fn hash_return<E: Into<Error>>(r: core::result::Result<isize, E>) -> Result<ffi::HPy_hash_t> {
    let h = r.map_err(Into::into)?;
    Ok(if h == -1 { -2 } else { h })
}

/// `__bool__` / `__contains__` results.
pub fn bool_return<E: Into<Error>>(r: core::result::Result<bool, E>) -> Result<c_int> {
    Ok(r.map_err(Into::into)? as c_int)
}

/// `()` results of setters (`0` for success).
pub fn unit_return<E: Into<Error>>(r: core::result::Result<(), E>) -> Result<c_int> {
    r.map_err(Into::into)?;
    Ok(0)
}

/// The index a generated `sq_item` passes on for a negative `i`: the runtimes add `len(obj)` to a
/// negative index before `sq_item` when the type has `__len__`, so one still negative was out
/// of range and is given back as written (`i - len`), for the function to refuse it as `obj[i]`
/// would. Out of line: iteration only passes indices from 0 up, and the slot's fast path keeps
/// fewer registers without this.
#[cold]
#[inline(never)]
pub fn sq_item_negative_index<K>(obj: Borrowed<'_, '_, K>, i: ffi::HPy_ssize_t) -> Result<ffi::HPy_ssize_t> {
    Ok(if obj.get_type().hasattr("__len__")? { i.saturating_sub(obj.len()? as ffi::HPy_ssize_t) } else { i })
}

/// A result that may be a plain value or a `Result`, as a `Result`.
pub trait IntoResult<T> {
    /// As a `Result` with hpy's error.
    fn into_result(self) -> Result<T>;
}
impl<T> IntoResult<T> for T {
    fn into_result(self) -> Result<T> {
        Ok(self)
    }
}
impl<T, E: Into<Error>> IntoResult<T> for core::result::Result<T, E> {
    fn into_result(self) -> Result<T> {
        self.map_err(Into::into)
    }
}

/// `not result` for a `__ne__` derived from `__eq__` (NotImplemented stays NotImplemented).
pub fn negate(ctx: Context<'_>, result: ffi::HPy) -> Result<ffi::HPy> {
    // SAFETY: `result` is the new handle the `__eq__` call returned; we own it.
    let result: Handle<'_> = unsafe { Handle::from_raw(ctx, result) };
    if result.is(&ctx.not_implemented()) {
        return Ok(result.into_raw());
    }
    let truth = result.is_true()?;
    Ok((!truth).into_hpy(ctx)?.into_raw())
}

/// `obj` as an instance of `T`, or `None`: the operand check of a binary operator, where a
/// foreign operand means NotImplemented rather than an error, so none is built (no message, no
/// type name lookup, no allocation on this path).
#[inline]
pub fn instance_of<'a, 'ctx, T: Class>(obj: &'a Handle<'ctx>) -> Option<&'a Handle<'ctx, T>> {
    // SAFETY: just checked.
    obj.is_kind::<T>().then(|| unsafe { obj.cast_unchecked::<T>() })
}

/// The other operand of a binary operator (or comparison), converted to the method's parameter
/// type `T`, or `None` (then the slot returns NotImplemented). Generated code calls
/// `(&operand_as::<T>()).operand(obj)` with both [`CheckedOperand`] and [`AnyOperand`] in
/// scope: method resolution picks `CheckedOperand` where `T` has one, i.e. where a type check
/// decides the conversion (handles of a kind, classes taken by value), so a foreign operand
/// builds no error; for other types, `AnyOperand` converts and discards the error.
pub struct Operand<T>(core::marker::PhantomData<fn() -> T>);

/// The [`Operand`] selector for parameter type `T`.
#[inline(always)]
pub fn operand_as<T>() -> Operand<T> {
    Operand(core::marker::PhantomData)
}

/// Conversion of an operand whose type a check decides (see [`Operand`]).
pub trait CheckedOperand<'a, 'ctx> {
    /// The parameter type.
    type Out;
    /// `obj` converted, or `None` without building an error.
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<Self::Out>;
}

impl<'a, 'ctx, K: crate::kinds::Kind> CheckedOperand<'a, 'ctx> for Operand<&'a Handle<'ctx, K>> {
    type Out = &'a Handle<'ctx, K>;
    #[inline]
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<Self::Out> {
        // SAFETY: just checked.
        obj.is_kind::<K>().then(|| unsafe { obj.cast_unchecked::<K>() })
    }
}

impl<'a, 'ctx, K: crate::kinds::Kind> CheckedOperand<'a, 'ctx> for Operand<Handle<'ctx, K>> {
    type Out = Handle<'ctx, K>;
    #[inline]
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<Self::Out> {
        // SAFETY: just checked.
        obj.is_kind::<K>().then(|| unsafe { obj.cast_unchecked::<K>() }.clone())
    }
}

/// A class whose instances convert to its value by cloning it (`#[hpy::class]` implements it
/// for the classes that derive `Clone`, except exception classes, whose Python object is not
/// an instance of the Rust class).
#[doc(hidden)]
pub trait CloneOperand: Class + Clone {}

impl<'a, 'ctx, T: CloneOperand> CheckedOperand<'a, 'ctx> for Operand<T> {
    type Out = T;
    #[inline]
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<T> {
        let value = instance_of::<T>(obj)?.borrow();
        match value {
            Ok(v) => Some(v.clone()),
            // Mutably borrowed (the operand is `self` of a running `&mut self` method): as
            // before, NotImplemented, so Python raises the operator's TypeError.
            Err(e) => {
                e.clear(obj.ctx());
                None
            }
        }
    }
}

/// Conversion of any other operand (see [`Operand`]): `FromHPy::operand_from_hpy`, which
/// discards the conversion's error (the numbers build none). (The bound is on the method, so
/// that a parameter type that does not convert is one error naming `FromHPy`.)
pub trait AnyOperand<'a, 'ctx, T> {
    /// `obj` converted, or `None`.
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<T>
    where
        T: crate::FromHPy<'a, 'ctx>;
}

impl<'a, 'ctx, T> AnyOperand<'a, 'ctx, T> for &Operand<T> {
    #[inline]
    fn operand(&self, obj: &'a Handle<'ctx>) -> Option<T>
    where
        T: crate::FromHPy<'a, 'ctx>,
    {
        T::operand_from_hpy(obj)
    }
}

/// `NotImplemented`, as a new raw handle (binary operators return it for foreign operands).
pub fn not_implemented(ctx: Context<'_>) -> ffi::HPy {
    ctx.not_implemented().to_owned().into_raw()
}

/// `HPy_tp_destroy`: drop the Rust value.
unsafe extern "C" fn destroy<T: Class>(data: *mut c_void) {
    // SAFETY: HPy calls destroy with the object's data once, when it dies.
    unsafe { ClassCell::<T>::destroy(data) }
}

/// `HPy_tp_traverse`: visit the fields.
unsafe extern "C" fn traverse<T: Class>(object: *mut c_void, visit: ffi::HPyFunc_visitproc, arg: *mut c_void) -> c_int {
    // SAFETY: HPy passes the object's data and its visitor.
    unsafe { ClassCell::<T>::traverse(object, visit, arg) }
}

unsafe extern "C" fn cpy_traverse<T: Class>(slf: *mut ffi::cpy_PyObject, visit: ffi::cpy_visitproc, arg: *mut c_void) -> c_int {
    let mut a = ffi::_HPyFunc_args_TRAVERSEPROC { self_: slf, visit, arg, result: 0 };
    // SAFETY: `a` matches HPyFunc_TRAVERSEPROC.
    unsafe { call_real(ffi::HPyFunc_TRAVERSEPROC, super::cast::traverseproc(traverse::<T>), &mut a) };
    a.result
}

unsafe extern "C" fn destroy_never_called() {
    // HPy runs tp_destroy from its own deallocator and never through this pointer.
    std::process::abort()
}

/// The `HPy_tp_destroy` def of `T` (`add_class` adds it to types whose value needs dropping).
const fn destroy_def<T: Class>() -> ffi::HPyDef {
    super::slot_def(ffi::HPy_tp_destroy, super::cast::destroyfunc(destroy::<T>), super::cast::cpy_never_called(destroy_never_called))
}

/// The `HPy_tp_traverse` def of `T` (classes with `Field`s; they also get `HAVE_GC`).
pub const fn traverse_def<T: Class>() -> ffi::HPyDef {
    super::slot_def(ffi::HPy_tp_traverse, super::cast::traverseproc(traverse::<T>), super::cast::cpy_traverseproc(cpy_traverse::<T>))
}

/// The getter and setter of a property again, as methods (`get(self)`, `set(self, value)`),
/// for runtimes whose getset descriptors cannot be used: PyPy 7.3.19 ignores a setter's error
/// result (`_getset_set` in its `interp_descr.py`: the exception stays pending and surfaces in
/// some later call), aborts the process ("Fatal RPython error: NotImplementedError") when a
/// get-only property is assigned (`readonly_attribute`), and in debug mode calls getters with
/// its global debug context, which aborts ("Wrong HPy Context") while any HPy call is running.
/// The same C on HPy meets each of these. There, `add_class` makes each property a Python
/// `property` over these methods, which PyPy calls as it calls any method. Kept in the getset
/// def's `closure`, which HPy hands to the getter and setter only (they ignore it).
pub struct PropertyMethods {
    /// `HPyFunc_NOARGS` def of the getter (no name yet).
    pub get: ffi::HPyDef,
    /// `HPyFunc_O` def of the setter (no name yet).
    pub set: Option<ffi::HPyDef>,
}

/// The reflected binary operators (`__radd__` ...). `#[hpy::methods]` emits each that a class
/// supports as a method too, next to the binary slot: PyPy 7.3.19 maps a binary slot to the
/// forward method only (`3 * v` is a TypeError there, and C on HPy meets the same), so on PyPy
/// the method makes `3 * v` work; where the runtime reflects the slot itself, `add_class` leaves
/// the methods out.
pub const REFLECTED_OPERATORS: [&str; 13] = [
    "__radd__", "__rsub__", "__rmul__", "__rmatmul__", "__rtruediv__", "__rfloordiv__", "__rmod__",
    "__rdivmod__", "__rlshift__", "__rrshift__", "__rand__", "__ror__", "__rxor__",
];

fn is_reflected_operator(name: &str) -> bool {
    REFLECTED_OPERATORS.contains(&name)
}

/// Run the binary-slot body `f` as the method `__rOP__(self, other)`: `other OP self`.
#[inline]
pub fn reflected_operator<'a, 'ctx>(
    ctx: Context<'ctx>,
    slf: Borrowed<'a, 'ctx>,
    other: Borrowed<'a, 'ctx>,
    f: impl FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>, Borrowed<'a, 'ctx>) -> Result<ffi::HPy>,
) -> Result<ffi::HPy> {
    f(ctx, other, slf)
}

/// Run setter `f` as the method `set(self, value)` (see [`PropertyMethods`]): `None` on success.
#[inline]
pub fn setter_as_method<'a, 'ctx>(
    ctx: Context<'ctx>,
    slf: Borrowed<'a, 'ctx>,
    value: Borrowed<'a, 'ctx>,
    f: impl FnOnce(Context<'ctx>, Borrowed<'a, 'ctx>, Option<Borrowed<'a, 'ctx>>) -> Result<c_int>,
) -> Result<ffi::HPy> {
    f(ctx, slf, Some(value))?;
    super::IntoReturn::into_return((), ctx)
}

/// An `HPyDef` of kind `GetSet`.
pub const fn getset_def(
    name: &'static core::ffi::CStr,
    doc: &'static core::ffi::CStr,
    getter_impl: ffi::HPyCFunction,
    setter_impl: ffi::HPyCFunction,
    getter_cpy: ffi::cpy_getter,
    setter_cpy: ffi::cpy_setter,
    methods: &'static PropertyMethods,
) -> ffi::HPyDef {
    ffi::HPyDef {
        kind: ffi::HPyDef_Kind_GetSet,
        u: ffi::HPyDef_Union {
            getset: ffi::HPyGetSet {
                name: name.as_ptr(),
                getter_impl,
                setter_impl,
                getter_cpy_trampoline: getter_cpy,
                setter_cpy_trampoline: setter_cpy,
                doc: doc.as_ptr(),
                closure: methods as *const PropertyMethods as *mut c_void,
            },
        },
    }
}

/// Gives the base type of a class: a built-in type, or the type of the hpy-rs class it extends.
pub type BaseType<'ctx> = fn(Context<'ctx>) -> Result<Handle<'ctx, crate::Type>>;

/// Create the type of `T` from its defines, store it in `T`'s global and add it to `module`.
/// Run by the module's exec slot.
pub fn add_class<'ctx, T: Class>(
    ctx: Context<'ctx>,
    module: &Handle<'ctx, crate::Module>,
    qualified_name: &'static core::ffi::CStr,
    doc: Option<&'static core::ffi::CStr>,
    flags: core::ffi::c_ulong,
    base: Option<BaseType<'ctx>>,
    defines: &[&'static [ffi::HPyDefPtr]],
) -> Result<Handle<'ctx>> {
    // HPy keeps pointers into the spec (the name, the defines) for the type's lifetime, so it
    // is leaked: one small allocation per class per import.
    let mut all: Vec<ffi::HPyDefPtr> = defines.iter().flat_map(|d| d.iter().copied()).collect();
    if crate::class::needs_destroy::<T>() {
        // Only then does the type need `tp_destroy`: without it (and without `Field`s, which
        // bring `tp_traverse`), HPy keeps the interpreter's own deallocator, which is cheaper
        // than its generic one. Nothing else is lost: for a `T` without drop glue, destroying the
        // cell would only reset its flag on memory about to be freed.
        all.push(ffi::HPyDefPtr(&const { destroy_def::<T>() }));
    }

    if crate::impl_::runtime_reflects_binary_slots() {
        all.retain(|d| {
            // SAFETY: the defines of a class are static HPyDefs; `meth` is read only for methods.
            let def = unsafe { &*d.0 };
            !(def.kind == ffi::HPyDef_Kind_Meth
                && is_reflected_operator(&unsafe { core::ffi::CStr::from_ptr(def.u.meth.name) }.to_string_lossy()))
        });
    }
    let properties = if crate::impl_::runtime_calls_getsets_soundly() { Vec::new() } else { property_methods(&mut all) };
    all.push(ffi::HPyDefPtr::NULL);
    let all: &'static [ffi::HPyDefPtr] = Box::leak(all.into_boxed_slice());
    let spec: &'static mut ffi::HPyType_Spec = Box::leak(Box::new(ffi::HPyType_Spec {
        name: qualified_name.as_ptr(),
        basicsize: ClassCell::<T>::BASICSIZE as c_int,
        itemsize: 0,
        flags,
        builtin_shape: T::SHAPE,
        legacy_slots: core::ptr::null_mut(),
        defines: all.as_ptr() as *mut *mut ffi::HPyDef,
        doc: doc.map_or(core::ptr::null(), |d| d.as_ptr()),
    }));
    let base = base.map(|b| b(ctx)).transpose()?;
    let mut params = [
        ffi::HPyType_SpecParam { kind: ffi::HPyType_SpecParam_Base, object: base.as_ref().map_or(ffi::HPy_NULL, |b| b.as_raw()) },
        ffi::HPyType_SpecParam { kind: 0, object: ffi::HPy_NULL },
    ];
    let params_ptr = if base.is_some() { params.as_mut_ptr() } else { core::ptr::null_mut() };
    // SAFETY: live context, a complete spec that outlives the type, a terminated params array.
    let raw = unsafe { ffi::HPyType_FromSpec(ctx.as_ptr(), spec, params_ptr) };
    // SAFETY: a new type handle or NULL.
    let ty: Handle<'ctx> = unsafe { Handle::from_new(ctx, raw)? };
    for p in &properties {
        p.install(&ty)?;
    }
    complete_type_for_runtime::<T>(&ty, qualified_name, all)?;
    super::protocols::install(&ty, all)?;
    T::type_global().store(ctx, &ty);
    module.setattr(T::NAME, &ty)?;
    Ok(ty)
}

/// What a type made from `defines` lacks on PyPy 7.3.19 compared with CPython, added after its
/// creation (each difference is read through a `crate::impl_::runtime_*` function; on CPython's
/// runtime this does nothing). C on HPy meets each of them on PyPy.
fn complete_type_for_runtime<T: Class>(ty: &Handle<'_>, qualified_name: &core::ffi::CStr, defines: &[ffi::HPyDefPtr]) -> Result<()> {
    // Subclassing. PyPy ignores `HPy_TPFLAGS_BASETYPE` (any HPy type can be subclassed), and
    // aborts the process ("Fatal RPython error: AssertionError": its `W_HPyObject._finalize_`
    // asserts that the instance's type is an HPy type) when it collects an instance of a Python
    // subclass of a type with `tp_destroy`, which every class whose value needs dropping has.
    let refusal = if !crate::impl_::runtime_honours_basetype() && !T::SUBCLASSABLE {
        Some(format!("type '{}' is not an acceptable base type", qualified_name.to_string_lossy()))
    } else if crate::class::needs_destroy::<T>() && !crate::impl_::runtime_finalizes_python_subclasses() {
        Some(format!(
            "{} cannot be subclassed in Python on PyPy: PyPy 7.3.19 aborts when it frees an instance of a \
             Python subclass of an HPy type that has a destructor",
            T::NAME
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        install_python(ty, &format!("@classmethod\ndef __init_subclass__(cls, **kwargs):\n    raise TypeError({message:?})\n"), "__init_subclass__")?;
    }
    if !crate::impl_::runtime_types_behave_as_cpython() {
        let has_slot = |wanted: ffi::HPySlot_Slot| {
            defines.iter().take_while(|d| !d.0.is_null()).any(|d| {
                // SAFETY: the defines of a class are static HPyDefs; `slot` is read only for slots.
                let def = unsafe { &*d.0 };
                def.kind == ffi::HPyDef_Kind_Slot && unsafe { def.u.slot.slot } == wanted
            })
        };
        // `__eq__` without `__hash__` makes a type unhashable on CPython (as in Python); PyPy
        // keeps the identity hash, which breaks the hash/eq contract.
        if has_slot(ffi::HPy_tp_richcompare) && !has_slot(ffi::HPy_tp_hash) {
            ty.setattr("__hash__", ())?;
        }
        // Pickling. CPython refuses a type with a C struct and no reduce method; PyPy's default
        // reduce pickles an instance as its `__dict__`, so `Vector(1, 2)` came back as a
        // `Vector` with no value (or a zero one). A class's own `__reduce__` is kept.
        let own = |name: &str| ty.getattr("__dict__").and_then(|d| d.contains(name)).unwrap_or(false);
        if !own("__reduce__") && !own("__reduce_ex__") && !own("__getstate__") {
            install_python(
                ty,
                "def __reduce_ex__(self, protocol):\n    raise TypeError('cannot pickle %r object' % type(self).__name__)\n",
                "__reduce_ex__",
            )?;
        }
    }
    Ok(())
}

/// Run Python `source` (which defines `name`) and set `name` on `ty` to the result: for the
/// few methods hpy-rs adds to a type on PyPy, which HPy 0.9 cannot define from Rust otherwise
/// (classmethods, or methods for any receiver).
fn install_python(ty: &Handle<'_>, source: &str, name: &str) -> Result<()> {
    let ctx = ty.ctx();
    let source = crate::err::cstring(source)?;
    let c = ctx.as_ptr();
    // SAFETY: live context, NUL-terminated source and file name; every result is checked and
    // owned by a Handle.
    let code: Handle<'_> = unsafe { Handle::from_new(ctx, ffi::HPy_Compile_s(c, source.as_ptr(), c"<hpy-rs>".as_ptr(), ffi::HPy_SourceKind_File))? };
    let namespace = ctx.dict()?;
    // Before CPython 3.10, code run in globals without `__builtins__` has no builtins at all.
    namespace.set_item("__builtins__", ctx.builtins())?;
    // SAFETY: as above; the code object and the dict are open handles.
    let _: Handle<'_> = unsafe { Handle::from_new(ctx, ffi::HPy_EvalCode(c, code.as_raw(), namespace.as_raw(), namespace.as_raw()))? };
    ty.setattr(name, namespace.get_item(name)?)
}

/// A property that `add_class` turns into a Python `property` over hidden methods (see
/// [`PropertyMethods`]).
struct PropertyOverMethods {
    name: String,
    doc: String,
    get: String,
    set: Option<String>,
}

/// For each getset def in `defs`, append its methods under hidden names (leaked, like the rest
/// of the spec) and return what to install once the type exists.
fn property_methods(defs: &mut Vec<ffi::HPyDefPtr>) -> Vec<PropertyOverMethods> {
    let mut properties = Vec::new();
    for i in 0..defs.len() {
        // SAFETY: the defines of a class are static HPyDefs; a getset def's closure is the
        // `PropertyMethods` that `getset_def` put there (hpy-rs makes every getset def).
        let (name, doc, methods) = unsafe {
            let def = &*defs[i].0;
            if def.kind != ffi::HPyDef_Kind_GetSet {
                continue;
            }
            let getset = &def.u.getset;
            let methods = &*(getset.closure as *const PropertyMethods);
            let text = |p: *const core::ffi::c_char| core::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
            (text(getset.name), if getset.doc.is_null() { String::new() } else { text(getset.doc) }, methods)
        };
        let mut hidden = |def: &ffi::HPyDef, role: &str| {
            let hidden = format!("__hpy_{role}_{name}");
            let mut def = *def;
            let c_name = std::ffi::CString::new(hidden.clone()).expect("property names have no NUL");
            // (writing a union field: `def` is a method def, made by `__hpy_function_def!`)
            def.u.meth.name = Box::leak(c_name.into_boxed_c_str()).as_ptr();
            defs.push(ffi::HPyDefPtr(Box::leak(Box::new(def))));
            hidden
        };
        let get = hidden(&methods.get, "get");
        let set = methods.set.as_ref().map(|d| hidden(d, "set"));
        properties.push(PropertyOverMethods { name, doc, get, set });
    }
    properties
}

impl PropertyOverMethods {
    /// `ty.<name> = property(ty.<get>, ty.<set>, None, doc)`, and the hidden methods removed.
    fn install(&self, ty: &Handle<'_>) -> Result<()> {
        let ctx = ty.ctx();
        let get = ty.getattr(self.get.as_str())?;
        let set = match &self.set {
            Some(s) => Some(ty.getattr(s.as_str())?),
            None => None,
        };
        let doc = if self.doc.is_empty() { None } else { Some(self.doc.as_str()) };
        let property = ctx.builtins().get_item("property")?;
        ty.setattr(self.name.as_str(), property.call((&get, set.as_ref(), None::<&str>, doc))?)?;
        ty.delattr(self.get.as_str())?;
        if let Some(s) = &self.set {
            ty.delattr(s.as_str())?;
        }
        Ok(())
    }
}

/// An `HPyDef` for a type slot. `$kind` names the HPy signature; the body is a closure taking
/// the matching `call_*` arguments. Expands to a constant expression.
///
/// `new call_new` / `new call_new_exact` name the `call_*` that runs a `#[new]` (the latter for
/// exact signatures, whose body takes the argument array).
///
/// `$kind[Class]` passes the first argument as a `Borrowed<'_, '_, Class>`, unchecked: allowed
/// (at compile time) only for the slots in [`runtime_checks_receiver`], and only in `Class`'s own
/// type spec.
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_slot_def {
    // The first argument is taken as `$S` without a check: only for `Any`, or where every HPy
    // implementation checks it (`runtime_checks_receiver`), which this proves at compile time.
    (@receiver $S:ty, $slot:expr) => {
        const _: () = ::core::assert!(
            <$S as $crate::impl_::slots::SlotSelf>::UNCHECKED || $crate::impl_::slots::runtime_checks_receiver($slot),
            "this slot's first argument is not checked by every HPy implementation: take it as `Any`"
        );
    };
    (@def $slot:expr, $cast:ident, $cpy_cast:ident) => {
        $crate::impl_::slot_def($slot, $crate::impl_::cast::$cast(__impl), $crate::impl_::cast::$cpy_cast(__cpy))
    };
    (unary[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_unary::<$S>(ctx, a, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_UNARYFUNC { arg0, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_UNARYFUNC, $crate::impl_::cast::unary(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, unary, cpy_unary)
    }};
    (binary[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy, b: $crate::ffi::HPy) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_binary::<$S>(ctx, a, b, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject, arg1: *mut $crate::ffi::cpy_PyObject) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_BINARYFUNC { arg0, arg1, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_BINARYFUNC, $crate::impl_::cast::binary(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, binary, cpy_binary)
    }};
    (ternary[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy, b: $crate::ffi::HPy, c: $crate::ffi::HPy) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_ternary::<$S>(ctx, a, b, c, $body) }
        }
        unsafe extern "C" fn __cpy(
            arg0: *mut $crate::ffi::cpy_PyObject,
            arg1: *mut $crate::ffi::cpy_PyObject,
            arg2: *mut $crate::ffi::cpy_PyObject,
        ) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_TERNARYFUNC { arg0, arg1, arg2, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_TERNARYFUNC, $crate::impl_::cast::ternary(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, ternary, cpy_ternary)
    }};
    (inquiry[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_inquiry::<$S>(ctx, a, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject) -> ::core::ffi::c_int {
            let mut a = $crate::ffi::_HPyFunc_args_INQUIRY { arg0, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_INQUIRY, $crate::impl_::cast::inquiry(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, inquiry, cpy_inquiry)
    }};
    (len[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy) -> $crate::ffi::HPy_ssize_t {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_len::<$S>(ctx, a, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject) -> $crate::ffi::HPy_ssize_t {
            let mut a = $crate::ffi::_HPyFunc_args_LENFUNC { arg0, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_LENFUNC, $crate::impl_::cast::lenfunc(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, lenfunc, cpy_lenfunc)
    }};
    (hash[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy) -> $crate::ffi::HPy_hash_t {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_hash::<$S>(ctx, a, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject) -> $crate::ffi::HPy_hash_t {
            let mut a = $crate::ffi::_HPyFunc_args_HASHFUNC { arg0, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_HASHFUNC, $crate::impl_::cast::hashfunc(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, hashfunc, cpy_hashfunc)
    }};
    (richcmp[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            a: $crate::ffi::HPy,
            b: $crate::ffi::HPy,
            op: $crate::ffi::HPy_RichCmpOp,
        ) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_richcmp::<$S>(ctx, a, b, op, $body) }
        }
        unsafe extern "C" fn __cpy(
            arg0: *mut $crate::ffi::cpy_PyObject,
            arg1: *mut $crate::ffi::cpy_PyObject,
            op: ::core::ffi::c_int,
        ) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_RICHCMPFUNC { arg0, arg1, arg2: op, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_RICHCMPFUNC, $crate::impl_::cast::richcmp(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, richcmp, cpy_richcmp)
    }};
    (ssizearg[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy, i: $crate::ffi::HPy_ssize_t) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_ssizearg::<$S>(ctx, a, i, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject, arg1: $crate::ffi::HPy_ssize_t) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_SSIZEARGFUNC { arg0, arg1, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_SSIZEARGFUNC, $crate::impl_::cast::ssizearg(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, ssizearg, cpy_ssizearg)
    }};
    (objobjarg[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy, b: $crate::ffi::HPy, c: $crate::ffi::HPy) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_objobjarg::<$S>(ctx, a, b, c, $body) }
        }
        unsafe extern "C" fn __cpy(
            arg0: *mut $crate::ffi::cpy_PyObject,
            arg1: *mut $crate::ffi::cpy_PyObject,
            arg2: *mut $crate::ffi::cpy_PyObject,
        ) -> ::core::ffi::c_int {
            let mut a = $crate::ffi::_HPyFunc_args_OBJOBJARGPROC { arg0, arg1, arg2, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_OBJOBJARGPROC, $crate::impl_::cast::objobjarg(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, objobjarg, cpy_objobjarg)
    }};
    (objobj[$S:ty], $slot:expr, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy, b: $crate::ffi::HPy) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime with this slot's signature; the first argument
            // is a `$S` (`Any`, or a class for a slot the runtimes check: see `@receiver`).
            unsafe { $crate::impl_::slots::call_objobj::<$S>(ctx, a, b, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject, arg1: *mut $crate::ffi::cpy_PyObject) -> ::core::ffi::c_int {
            let mut a = $crate::ffi::_HPyFunc_args_OBJOBJPROC { arg0, arg1, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_OBJOBJPROC, $crate::impl_::cast::objobj(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, objobj, cpy_objobj)
    }};
    (finalize, $slot:expr, $body:expr) => {{
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, a: $crate::ffi::HPy) {
            // SAFETY: called by the HPy runtime with this slot's signature.
            unsafe { $crate::impl_::slots::call_finalize(ctx, a, $body) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject) {
            let mut a = $crate::ffi::_HPyFunc_args_DESTRUCTOR { arg0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_DESTRUCTOR, $crate::impl_::cast::destructor(__impl), &mut a) };
        }
        $crate::__hpy_slot_def!(@def $slot, destructor, cpy_destructor)
    }};
    (new $call:ident, $slot:expr, $desc:expr, $n:literal, $body:expr) => {{
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            ty: $crate::ffi::HPy,
            args: *const $crate::ffi::HPy,
            nargs: $crate::ffi::HPy_ssize_t,
            kw: $crate::ffi::HPy,
        ) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime with this slot's signature (and, for
            // `call_new_exact`, an exact `$desc`).
            unsafe { $crate::impl_::slots::$call::<$n>(ctx, ty, args, nargs, kw, $desc, $body) }
        }
        unsafe extern "C" fn __cpy(
            slf: *mut $crate::ffi::cpy_PyObject,
            args: *mut $crate::ffi::cpy_PyObject,
            kw: *mut $crate::ffi::cpy_PyObject,
        ) -> *mut $crate::ffi::cpy_PyObject {
            // SAFETY: called by CPython through this slot, whose implementation is `__impl`.
            unsafe { $crate::impl_::slots::cpy_newfunc(slf, args, kw, $crate::impl_::cast::newfunc(__impl)) }
        }
        $crate::__hpy_slot_def!(@def $slot, newfunc, cpy_newfunc)
    }};
    (init, $slot:expr, $desc:expr, $n:literal, $body:expr) => {{
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            slf: $crate::ffi::HPy,
            args: *const $crate::ffi::HPy,
            nargs: $crate::ffi::HPy_ssize_t,
            kw: $crate::ffi::HPy,
        ) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime with this slot's signature.
            unsafe { $crate::impl_::slots::call_init::<$n>(ctx, slf, args, nargs, kw, $desc, $body) }
        }
        unsafe extern "C" fn __cpy(
            slf: *mut $crate::ffi::cpy_PyObject,
            args: *mut $crate::ffi::cpy_PyObject,
            kw: *mut $crate::ffi::cpy_PyObject,
        ) -> ::core::ffi::c_int {
            let mut a = $crate::ffi::_HPyFunc_args_INITPROC { self_: slf, args, kw, result: 0 };
            // SAFETY: called by CPython through this slot; `a` matches the signature.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_INITPROC, $crate::impl_::cast::initproc(__impl), &mut a) };
            a.result
        }
        $crate::__hpy_slot_def!(@def $slot, initproc, cpy_initproc)
    }};
    (call[$S:ty], $slot:expr, $desc:expr, $n:literal, $body:expr) => {{
        $crate::__hpy_slot_def!(@receiver $S, $slot);
        $crate::__hpy_keywords_fns!($S, $n, $desc, $body);
        $crate::__hpy_slot_def!(@def $slot, keywords, cpy_keywords)
    }};
    // A slot whose first argument may be any object.
    ($kind:ident, $($rest:tt)*) => {
        $crate::__hpy_slot_def!($kind[$crate::Any], $($rest)*)
    };
}

/// An `HPyDef` of kind `GetSet`: `$get` is a getter closure (`|ctx, slf| -> Result<HPy>`),
/// `$set` a setter closure (`|ctx, slf, Option<value>| -> Result<c_int>`) or `none`.
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_getset_def {
    (@getter $get:expr) => {{
        unsafe extern "C" fn __impl(ctx: *mut $crate::ffi::HPyContext, slf: $crate::ffi::HPy, _: *mut ::core::ffi::c_void) -> $crate::ffi::HPy {
            // SAFETY: called by the HPy runtime as a getter.
            unsafe { $crate::impl_::slots::call_getter(ctx, slf, $get) }
        }
        unsafe extern "C" fn __cpy(arg0: *mut $crate::ffi::cpy_PyObject, arg1: *mut ::core::ffi::c_void) -> *mut $crate::ffi::cpy_PyObject {
            let mut a = $crate::ffi::_HPyFunc_args_GETTER { arg0, arg1, result: ::core::ptr::null_mut() };
            // SAFETY: called by CPython as a getter; `a` matches HPyFunc_GETTER.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_GETTER, $crate::impl_::cast::getter(__impl), &mut a) };
            a.result
        }
        ($crate::impl_::cast::getter(__impl), ::core::option::Option::Some(__cpy as unsafe extern "C" fn(_, _) -> _))
    }};
    (@setter $set:expr) => {{
        unsafe extern "C" fn __impl(
            ctx: *mut $crate::ffi::HPyContext,
            slf: $crate::ffi::HPy,
            value: $crate::ffi::HPy,
            _: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: called by the HPy runtime as a setter.
            unsafe { $crate::impl_::slots::call_setter(ctx, slf, value, $set) }
        }
        unsafe extern "C" fn __cpy(
            arg0: *mut $crate::ffi::cpy_PyObject,
            arg1: *mut $crate::ffi::cpy_PyObject,
            arg2: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            let mut a = $crate::ffi::_HPyFunc_args_SETTER { arg0, arg1, arg2, result: 0 };
            // SAFETY: called by CPython as a setter; `a` matches HPyFunc_SETTER.
            unsafe { $crate::impl_::slots::call_real($crate::ffi::HPyFunc_SETTER, $crate::impl_::cast::setter(__impl), &mut a) };
            a.result
        }
        ($crate::impl_::cast::setter(__impl), ::core::option::Option::Some(__cpy as unsafe extern "C" fn(_, _, _) -> _))
    }};
    // The property's functions again as methods (see `PropertyMethods`).
    (@get_method $get:expr) => {
        $crate::__hpy_function_def!(noargs, c"", c"", $get)
    };
    (@set_method $set:expr) => {
        $crate::__hpy_function_def!(o, c"", c"", |__hpy_ctx, __hpy_slf, __hpy_value| {
            $crate::impl_::slots::setter_as_method(__hpy_ctx, __hpy_slf, __hpy_value, $set)
        })
    };
    ($name:expr, $doc:expr, get = $get:expr) => {{
        const GET: ($crate::ffi::HPyCFunction, $crate::ffi::cpy_getter) = $crate::__hpy_getset_def!(@getter $get);
        static METHODS: $crate::impl_::slots::PropertyMethods = $crate::impl_::slots::PropertyMethods {
            get: $crate::__hpy_getset_def!(@get_method $get),
            set: ::core::option::Option::None,
        };
        $crate::impl_::slots::getset_def($name, $doc, GET.0, ::core::option::Option::None, GET.1, ::core::option::Option::None, &METHODS)
    }};
    ($name:expr, $doc:expr, get = $get:expr, set = $set:expr) => {{
        const GET: ($crate::ffi::HPyCFunction, $crate::ffi::cpy_getter) = $crate::__hpy_getset_def!(@getter $get);
        const SET: ($crate::ffi::HPyCFunction, $crate::ffi::cpy_setter) = $crate::__hpy_getset_def!(@setter $set);
        static METHODS: $crate::impl_::slots::PropertyMethods = $crate::impl_::slots::PropertyMethods {
            get: $crate::__hpy_getset_def!(@get_method $get),
            set: ::core::option::Option::Some($crate::__hpy_getset_def!(@set_method $set)),
        };
        $crate::impl_::slots::getset_def($name, $doc, GET.0, SET.0, GET.1, SET.1, &METHODS)
    }};
}

/// `unsafe impl Class` for a `#[hpy::class]` struct (here, so the user's crate has no `unsafe`).
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_impl_class {
    (
        type = $ty:ident, name = $name:expr, frozen = $frozen:expr, unsendable = $unsendable:expr,
        subclass = $subclass:expr, shape = $shape:ident, base = $base:ty, global = $global:ident, fields = [$($member:tt),*]
    ) => {
        // SAFETY: generated by #[hpy::class] from the struct definition and options: the global
        // is this type's, the shape, subclassability and base are the type's (the module creates
        // the type with the base's type as its base), every `Field` is visited.
        unsafe impl $crate::Class for $ty {
            const NAME: &'static str = $name;
            const FROZEN: bool = $frozen;
            const UNSENDABLE: bool = $unsendable;
            const SHAPE: $crate::ffi::HPyType_BuiltinShape = $crate::ffi::$shape;
            const SUBCLASSABLE: bool = $subclass;
            type Base = $base;
            fn type_global() -> &'static $crate::Global {
                &$global
            }
            #[allow(unused_variables)]
            unsafe fn visit_fields(
                value: *const Self,
                visit: &mut dyn FnMut(*mut $crate::ffi::HPyField) -> ::core::ffi::c_int,
            ) -> ::core::ffi::c_int {
                $(
                    // SAFETY: `value` is initialised (caller's contract); the field is read in place.
                    let r = visit($crate::Field::raw_ptr(unsafe { ::core::ptr::addr_of!((*value).$member) }));
                    if r != 0 {
                        return r;
                    }
                )*
                0
            }
        }
    };
}

/// Move module function `hidden` onto class `ty` as `name`, wrapped in `staticmethod` or
/// `classmethod` (HPy 0.9 types cannot hold static or class methods directly).
pub fn attach_module_function<'ctx>(
    module: &Handle<'ctx, crate::Module>,
    ty: &Handle<'ctx>,
    hidden: &str,
    name: &str,
    classmethod: bool,
) -> Result<()> {
    let ctx = module.ctx();
    let function = module.getattr(hidden)?;
    let wrapper = ctx.builtins().get_item(if classmethod { "classmethod" } else { "staticmethod" })?;
    ty.setattr(name, wrapper.call1(&function)?)?;
    module.delattr(hidden)
}

// ---- the buffer protocol: `fn __buffer__(&self) -> &[T]` exports a read-only buffer ----

/// Element types a class can export as a buffer, with their `struct` format character.
pub trait BufferElement: Copy + 'static {
    /// The format string (`"B"`, `"q"`, `"d"`, ...).
    const FORMAT: &'static core::ffi::CStr;
}

macro_rules! buffer_elements {
    ($($t:ty => $f:literal),*) => {$(
        impl BufferElement for $t {
            const FORMAT: &'static core::ffi::CStr = $f;
        }
    )*};
}
buffer_elements!(u8 => c"B", i8 => c"b", u16 => c"H", i16 => c"h", u32 => c"I", i32 => c"i",
                 u64 => c"Q", i64 => c"q", f32 => c"f", f64 => c"d");

/// A class with `fn __buffer__(&self) -> &[T]` (implemented by `#[hpy::methods]`).
pub trait ClassBuffer: Class {
    /// The element type.
    type Element: BufferElement;
    /// The exported elements.
    fn buffer(&self) -> &[Self::Element];
}

/// What a buffer export keeps until the consumer releases it: the shape and strides the view
/// points to, and the shared borrow that keeps the data unchanged meanwhile (a consumer such as
/// memoryview or numpy reads it at any time).
///
/// Releasing it needs no HPy context, only the view's `internal` pointer. That matters in HPy
/// 0.9's debug mode on CPython: its trampoline for `bf_releasebuffer` checks the module's global
/// debug context before the call, and that context is marked invalid whenever any HPy call is
/// running — so a buffer released inside a callback of an HPy function (or on another thread
/// meanwhile) aborted the process with "Error: Wrong HPy Context!". hpy-rs's CPython trampoline
/// therefore releases the export itself, without entering HPy.
struct Export<T: Class> {
    shape: [ffi::HPy_ssize_t; 1],
    strides: [ffi::HPy_ssize_t; 1],
    _borrow: crate::class::ClassRef<'static, T>,
}

/// The exports of runtimes that do not hand the view back to `bf_releasebuffer` (PyPy, whose
/// `HPyBuffer.releasebuffer` passes a new `HPy_buffer` with only `buf`, `len` and `ndim` set and
/// `internal` uninitialised; C code that keeps state in `internal`, as CPython allows, fails
/// there in the same way). The view keeps its instance alive until it is released, so a cell
/// address identifies one live instance. Any export of an instance stands for any other: each
/// holds one shared borrow of the same value, and PyPy copies a view's shape and strides as soon
/// as `bf_getbuffer` returns.
static UNRETURNED_EXPORTS: std::sync::Mutex<Vec<UnreturnedExport>> = std::sync::Mutex::new(Vec::new());

struct UnreturnedExport {
    /// The instance's cell address.
    cell: usize,
    /// The view's `buf`.
    buf: usize,
    /// The `Box<Export<T>>`.
    export: usize,
}

/// Remove and return an export of the instance whose view with `buf` is released. When every
/// export with that `buf` is of one instance, that is the one (a view is released only while its
/// export exists), found without entering HPy: PyPy's debug mode aborts on a context call from
/// `bf_releasebuffer` run inside another HPy call. Otherwise (several instances export the same
/// memory, e.g. empty or static data) `cell_of` says which instance it is.
fn take_unreturned_export(buf: usize, cell_of: impl FnOnce() -> usize) -> Option<usize> {
    let lock = || UNRETURNED_EXPORTS.lock().unwrap_or_else(|e| e.into_inner());
    let cell = {
        let exports = lock();
        let mut cells = exports.iter().filter(|e| e.buf == buf).map(|e| e.cell);
        match cells.next() {
            None => return None,
            Some(first) if cells.all(|c| c == first) => Some(first),
            Some(_) => None,
        }
    };
    let cell = cell.unwrap_or_else(cell_of);
    let mut exports = lock();
    let i = exports.iter().position(|e| e.cell == cell && e.buf == buf)?;
    Some(exports.swap_remove(i).export)
}

/// End the export whose `internal` pointer is `internal`.
///
/// # Safety
/// `internal` is the pointer `getbuffer::<T>` stored in a view, released once.
unsafe fn release_export<T: Class>(internal: *mut c_void) {
    // SAFETY: per the contract, a `Box<Export<T>>` leaked by `getbuffer`; dropping it ends the
    // borrow (no user code runs: ending a borrow is a counter update).
    drop(unsafe { Box::from_raw(internal.cast::<Export<T>>()) });
}

const PYBUF_WRITABLE: c_int = 0x0001;

unsafe extern "C" fn getbuffer<T: ClassBuffer>(
    ctx: *mut ffi::HPyContext,
    slf: ffi::HPy,
    view: *mut ffi::HPy_buffer,
    flags: c_int,
) -> c_int {
    // SAFETY: called by HPy with the live context, a borrowed `self` and a view to fill.
    let ctx = unsafe { Context::from_raw(ctx) };
    run(ctx, -1, |ctx| {
        if flags & PYBUF_WRITABLE != 0 {
            return Err(crate::exceptions::BufferError::new_err(format!("{} exports a read-only buffer", T::NAME)));
        }
        let obj = b(ctx, slf);
        let cls = obj.downcast::<T>()?;
        // SAFETY: the view gets its own reference to the instance (`obj` below), which the
        // consumer drops only after releasing the buffer, so the instance outlives the borrow.
        let borrow = unsafe { cls.borrow()?.detach() };
        let data = borrow.buffer();
        let (buf, len) = (data.as_ptr() as *mut c_void, core::mem::size_of_val(data));
        let cell = borrow.cell_address();
        let export = Box::into_raw(Box::new(Export {
            shape: [data.len() as ffi::HPy_ssize_t],
            strides: [core::mem::size_of::<T::Element>() as ffi::HPy_ssize_t],
            _borrow: borrow,
        }));
        if !super::runtime_returns_buffer_views() {
            UNRETURNED_EXPORTS.lock().unwrap_or_else(|e| e.into_inner()).push(UnreturnedExport {
                cell,
                buf: buf as usize,
                export: export as usize,
            });
        }
        // SAFETY: HPy passes a view for us to fill; the data (borrowed), shape and strides stay
        // valid until the export is released.
        unsafe {
            *view = ffi::HPy_buffer {
                buf,
                obj: ffi::HPy_Dup(ctx.as_ptr(), slf),
                len: len as ffi::HPy_ssize_t,
                itemsize: core::mem::size_of::<T::Element>() as ffi::HPy_ssize_t,
                readonly: 1,
                ndim: 1,
                format: T::Element::FORMAT.as_ptr() as *mut core::ffi::c_char,
                shape: (*export).shape.as_mut_ptr(),
                strides: (*export).strides.as_mut_ptr(),
                suboffsets: core::ptr::null_mut(),
                internal: export.cast(),
            };
        }
        Ok(0)
    })
}

/// `bf_releasebuffer` as HPy calls it (PyPy; any runtime that calls HPy slots directly).
unsafe extern "C" fn releasebuffer<T: ClassBuffer>(ctx: *mut ffi::HPyContext, slf: ffi::HPy, view: *mut ffi::HPy_buffer) {
    if super::runtime_returns_buffer_views() {
        // SAFETY: this runtime passes the view `getbuffer` filled, released once.
        return unsafe { release_export::<T>((*view).internal) };
    }
    // SAFETY: the view PyPy passes has `buf` set.
    let buf = unsafe { (*view).buf } as usize;
    let export = take_unreturned_export(buf, || {
        // SAFETY: called by HPy with the live context and the exporting instance (borrowed).
        unsafe { crate::class::cell_address::<T>(&b(Context::from_raw(ctx), slf)) }
    });
    // (None: a release without an export; the runtime's mistake, nothing of ours to end.)
    if let Some(export) = export {
        // SAFETY: a `Box<Export<T>>` of this instance registered by `getbuffer`, removed from the
        // table above, so released once.
        unsafe { release_export::<T>(export as *mut c_void) }
    }
}

unsafe extern "C" fn cpy_getbuffer<T: ClassBuffer>(slf: *mut ffi::cpy_PyObject, view: *mut ffi::cpy_Py_buffer, flags: c_int) -> c_int {
    let mut a = ffi::_HPyFunc_args_GETBUFFERPROC { self_: slf, view, flags, result: 0 };
    // SAFETY: `a` matches HPyFunc_GETBUFFERPROC.
    unsafe { call_real(ffi::HPyFunc_GETBUFFERPROC, getbuffer_cast::<T>(), &mut a) };
    a.result
}

/// `bf_releasebuffer` as CPython calls it. It does not enter HPy (see [`Export`]): it reads the
/// `internal` pointer from CPython's `Py_buffer`, whose layout `HPy_buffer` mirrors field for
/// field (checked against `Python.h` by hpy-sys's layout test).
unsafe extern "C" fn cpy_releasebuffer<T: ClassBuffer>(_slf: *mut ffi::cpy_PyObject, view: *mut ffi::cpy_Py_buffer) {
    // SAFETY: CPython passes the view that `getbuffer` filled (through HPy's trampoline, which
    // copied `internal` over unchanged), released once; `Py_buffer` and `HPy_buffer` have the
    // same layout.
    unsafe { release_export::<T>((*view.cast::<ffi::HPy_buffer>()).internal) }
}

type GetBufferImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy, *mut ffi::HPy_buffer, c_int) -> c_int;
type ReleaseBufferImpl = unsafe extern "C" fn(*mut ffi::HPyContext, ffi::HPy, *mut ffi::HPy_buffer);
type CpyGetBuffer = unsafe extern "C" fn(*mut ffi::cpy_PyObject, *mut ffi::cpy_Py_buffer, c_int) -> c_int;
type CpyReleaseBuffer = unsafe extern "C" fn(*mut ffi::cpy_PyObject, *mut ffi::cpy_Py_buffer);

const fn getbuffer_cast<T: ClassBuffer>() -> ffi::HPyCFunction {
    // SAFETY: a function pointer cast; HPy calls it back as HPyFunc_GETBUFFERPROC.
    Some(unsafe { core::mem::transmute::<GetBufferImpl, unsafe extern "C" fn() -> *mut c_void>(getbuffer::<T>) })
}

const fn releasebuffer_cast<T: ClassBuffer>() -> ffi::HPyCFunction {
    // SAFETY: a function pointer cast; HPy calls it back as HPyFunc_RELEASEBUFFERPROC.
    Some(unsafe { core::mem::transmute::<ReleaseBufferImpl, unsafe extern "C" fn() -> *mut c_void>(releasebuffer::<T>) })
}

/// The `HPy_bf_getbuffer` def of `T`.
pub const fn getbuffer_def<T: ClassBuffer>() -> ffi::HPyDef {
    // SAFETY: a function pointer cast; CPython calls it as the type's bf_getbuffer.
    let cpy = unsafe { core::mem::transmute::<CpyGetBuffer, super::CpyFastcall>(cpy_getbuffer::<T>) };
    super::slot_def(ffi::HPy_bf_getbuffer, getbuffer_cast::<T>(), Some(cpy))
}

/// The `HPy_bf_releasebuffer` def of `T`.
pub const fn releasebuffer_def<T: ClassBuffer>() -> ffi::HPyDef {
    // SAFETY: a function pointer cast; CPython calls it as the type's bf_releasebuffer.
    let cpy = unsafe { core::mem::transmute::<CpyReleaseBuffer, super::CpyFastcall>(cpy_releasebuffer::<T>) };
    super::slot_def(ffi::HPy_bf_releasebuffer, releasebuffer_cast::<T>(), Some(cpy))
}
