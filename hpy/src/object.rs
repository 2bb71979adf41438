//! The object protocol: methods every [`Handle`] has (attributes, items, calls, comparison,
//! hashing, numeric operators, ...). Each returns `Result`: any of them can raise in Python.

use crate::conversion::IntoHPy;
use crate::ffi;
use crate::handle::Handle;
use crate::kinds::{Type, Unicode};
use crate::{Error, Result};

/// A rich comparison operator (`<`, `<=`, `==`, `!=`, `>`, `>=`), as HPy numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// HPy's `HPy_RichCmpOp` value.
    pub fn to_raw(self) -> ffi::HPy_RichCmpOp {
        match self {
            CompareOp::Lt => ffi::HPy_LT,
            CompareOp::Le => ffi::HPy_LE,
            CompareOp::Eq => ffi::HPy_EQ,
            CompareOp::Ne => ffi::HPy_NE,
            CompareOp::Gt => ffi::HPy_GT,
            CompareOp::Ge => ffi::HPy_GE,
        }
    }

    /// From HPy's `HPy_RichCmpOp`; `None` for a value HPy never passes.
    pub fn from_raw(op: ffi::HPy_RichCmpOp) -> Option<Self> {
        Some(match op {
            ffi::HPy_LT => CompareOp::Lt,
            ffi::HPy_LE => CompareOp::Le,
            ffi::HPy_EQ => CompareOp::Eq,
            ffi::HPy_NE => CompareOp::Ne,
            ffi::HPy_GT => CompareOp::Gt,
            ffi::HPy_GE => CompareOp::Ge,
            _ => return None,
        })
    }
}

/// Run `f` with `name` as a NUL-terminated C string, on the stack when short.
pub(crate) fn with_cstr<R>(name: &str, f: impl FnOnce(*const core::ffi::c_char) -> R) -> Result<R> {
    if name.as_bytes().contains(&0) {
        return Err(crate::exceptions::ValueError::new_err("embedded null character"));
    }
    let mut stack = [0u8; 128];
    if name.len() < stack.len() {
        stack[..name.len()].copy_from_slice(name.as_bytes());
        Ok(f(stack.as_ptr().cast()))
    } else {
        let owned = std::ffi::CString::new(name).expect("checked above");
        Ok(f(owned.as_ptr()))
    }
}

/// Arguments of a call: a Rust tuple of convertible values (`()`, `(a,)`, `(a, b)`, ...).
pub trait CallArgs<'ctx> {
    /// Convert the arguments and call `f` with them as a slice of raw handles.
    #[doc(hidden)]
    fn with_args<R>(self, ctx: crate::Context<'ctx>, f: impl FnOnce(&[ffi::HPy]) -> R) -> Result<R>;
}

impl<'ctx> CallArgs<'ctx> for () {
    fn with_args<R>(self, _ctx: crate::Context<'ctx>, f: impl FnOnce(&[ffi::HPy]) -> R) -> Result<R> {
        Ok(f(&[]))
    }
}

macro_rules! call_args {
    ($($name:ident $idx:tt),+) => {
        impl<'ctx, $($name: IntoHPy<'ctx>),+> CallArgs<'ctx> for ($($name,)+) {
            fn with_args<R>(self, ctx: crate::Context<'ctx>, f: impl FnOnce(&[ffi::HPy]) -> R) -> Result<R> {
                let owned = [$( self.$idx.into_hpy(ctx)? ),+];
                let raw = owned.each_ref().map(|h| h.as_raw());
                Ok(f(&raw))
            }
        }
    };
}
call_args!(A 0);
call_args!(A 0, B 1);
call_args!(A 0, B 1, C 2);
call_args!(A 0, B 1, C 2, D 3);
call_args!(A 0, B 1, C 2, D 3, E 4);
call_args!(A 0, B 1, C 2, D 3, E 4, F 5);
call_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
call_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => $f:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self, other: impl IntoHPy<'ctx>) -> Result<Handle<'ctx>> {
            let c = self.ctx().as_ptr();
            // SAFETY: live context, open handles; returns a new handle or NULL.
            let raw = other.with_raw(self.ctx(), |o| unsafe { ffi::$f(c, self.as_raw(), o) })?;
            // SAFETY: a new handle or NULL with an exception.
            unsafe { Handle::from_new(self.ctx(), raw) }
        }
    )*};
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident => $f:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Result<Handle<'ctx>> {
            // SAFETY: live context, open handle; returns a new handle or NULL.
            unsafe { Handle::from_new(self.ctx(), ffi::$f(self.ctx().as_ptr(), self.as_raw())) }
        }
    )*};
}

impl<'ctx, K> Handle<'ctx, K> {
    #[inline]
    fn c(&self) -> *mut ffi::HPyContext {
        self.ctx().as_ptr()
    }

    #[inline]
    fn new_result<K2>(&self, raw: ffi::HPy) -> Result<Handle<'ctx, K2>> {
        // SAFETY: `raw` comes from an HPy call returning a new handle (or NULL + exception).
        unsafe { Handle::from_new(self.ctx(), raw) }
    }

    #[inline]
    fn check_int(rc: core::ffi::c_int) -> Result<()> {
        if rc < 0 {
            Err(Error::pending())
        } else {
            Ok(())
        }
    }

    /// `obj.name`.
    pub fn getattr(&self, name: &str) -> Result<Handle<'ctx>> {
        // SAFETY: live context, open handle, NUL-terminated name.
        let raw = with_cstr(name, |n| unsafe { ffi::HPy_GetAttr_s(self.c(), self.as_raw(), n) })?;
        self.new_result(raw)
    }

    /// `getattr(obj, name)` with `name` an object.
    pub fn getattr_obj(&self, name: impl IntoHPy<'ctx>) -> Result<Handle<'ctx>> {
        // SAFETY: live context, open handles.
        let raw = name.with_raw(self.ctx(), |n| unsafe { ffi::HPy_GetAttr(self.c(), self.as_raw(), n) })?;
        self.new_result(raw)
    }

    /// `hasattr(obj, name)`: `false` when the lookup raises AttributeError; any other exception
    /// propagates, as in Python.
    pub fn hasattr(&self, name: &str) -> Result<bool> {
        match self.getattr(name) {
            Ok(_) => Ok(true),
            Err(e) if e.matches(self.ctx(), crate::exceptions::AttributeError::TYPE) => {
                e.clear(self.ctx());
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// `obj.name = value`.
    pub fn setattr(&self, name: &str, value: impl IntoHPy<'ctx>) -> Result<()> {
        let rc = value.with_raw(self.ctx(), |v| {
            // SAFETY: live context, open handles, NUL-terminated name.
            with_cstr(name, |n| unsafe { ffi::HPy_SetAttr_s(self.c(), self.as_raw(), n, v) })
        })??;
        Self::check_int(rc)
    }

    /// `del obj.name`.
    pub fn delattr(&self, name: &str) -> Result<()> {
        // SAFETY: live context, open handle; a NULL value deletes (HPy_DelAttr_s in C).
        let rc = with_cstr(name, |n| unsafe { ffi::HPy_SetAttr_s(self.c(), self.as_raw(), n, ffi::HPy_NULL) })?;
        Self::check_int(rc)
    }

    /// `obj[key]`.
    pub fn get_item(&self, key: impl IntoHPy<'ctx>) -> Result<Handle<'ctx>> {
        // SAFETY: live context, open handles.
        let raw = key.with_raw(self.ctx(), |k| unsafe { ffi::HPy_GetItem(self.c(), self.as_raw(), k) })?;
        self.new_result(raw)
    }

    /// `obj[index]` for a sequence.
    pub fn get_index(&self, index: usize) -> Result<Handle<'ctx>> {
        let index = isize::try_from(index).map_err(|_| crate::exceptions::IndexError::new_err("index out of range"))?;
        // SAFETY: live context, open handle.
        self.new_result(unsafe { ffi::HPy_GetItem_i(self.c(), self.as_raw(), index) })
    }

    /// `obj[key] = value`.
    pub fn set_item(&self, key: impl IntoHPy<'ctx>, value: impl IntoHPy<'ctx>) -> Result<()> {
        let ctx = self.ctx();
        let rc = key.with_raw(ctx, |k| {
            // SAFETY: live context, open handles.
            value.with_raw(ctx, |v| unsafe { ffi::HPy_SetItem(self.c(), self.as_raw(), k, v) })
        })??;
        Self::check_int(rc)
    }

    /// `del obj[key]`.
    pub fn del_item(&self, key: impl IntoHPy<'ctx>) -> Result<()> {
        // SAFETY: live context, open handles.
        let rc = key.with_raw(self.ctx(), |k| unsafe { ffi::HPy_DelItem(self.c(), self.as_raw(), k) })?;
        Self::check_int(rc)
    }

    /// `key in obj`.
    pub fn contains(&self, key: impl IntoHPy<'ctx>) -> Result<bool> {
        // SAFETY: live context, open handles.
        let rc = key.with_raw(self.ctx(), |k| unsafe { ffi::HPy_Contains(self.c(), self.as_raw(), k) })?;
        Self::check_int(rc)?;
        Ok(rc != 0)
    }

    /// `len(obj)`.
    pub fn len(&self) -> Result<usize> {
        // SAFETY: live context, open handle.
        let n = unsafe { ffi::HPy_Length(self.c(), self.as_raw()) };
        if n < 0 {
            Err(Error::pending())
        } else {
            Ok(n as usize)
        }
    }

    /// `len(obj) == 0`.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// `obj(*args)`, e.g. `f.call((1, "two"))`.
    pub fn call(&self, args: impl CallArgs<'ctx>) -> Result<Handle<'ctx>> {
        let raw = args.with_args(self.ctx(), |a| {
            // SAFETY: live context; `a` holds `len` open handles; no keywords.
            unsafe { ffi::HPy_Call(self.c(), self.as_raw(), a.as_ptr(), a.len(), ffi::HPy_NULL) }
        })?;
        self.new_result(raw)
    }

    /// `obj()`.
    pub fn call0(&self) -> Result<Handle<'ctx>> {
        self.call(())
    }

    /// `obj(arg)`.
    pub fn call1(&self, arg: impl IntoHPy<'ctx>) -> Result<Handle<'ctx>> {
        self.call((arg,))
    }

    /// `obj(*args, **kwargs)` with a tuple and an optional dict (`HPy_CallTupleDict`).
    #[inline]
    pub fn call_tuple_dict(
        &self,
        args: &Handle<'ctx, crate::kinds::Tuple>,
        kwargs: Option<&Handle<'ctx, crate::kinds::Dict>>,
    ) -> Result<Handle<'ctx>> {
        // The runtime passes the dict on as the callee's `**kwargs`, which C callees may assume
        // is exactly a `dict` (CPython 3.10's `_PyArg_NoKeywords` raises SystemError for a
        // subclass). Python's own `f(**m)` copies `m` into a plain dict; so does this.
        let copy;
        let kwargs = match kwargs {
            Some(k) if !crate::conversion::is_exact_dict(k) => {
                copy = crate::conversion::plain_dict(k)?;
                Some(&copy)
            }
            other => other,
        };
        let kw = kwargs.map_or(ffi::HPy_NULL, |k| k.as_raw());
        // SAFETY: live context, open handles (or NULL for no keywords).
        self.new_result(unsafe { ffi::HPy_CallTupleDict(self.c(), self.as_raw(), args.as_raw(), kw) })
    }

    /// `obj(*args, **kwargs)`, e.g. `f.call_with_kwargs((1,), &kw)`.
    pub fn call_with_kwargs(
        &self,
        args: impl CallArgs<'ctx>,
        kwargs: &Handle<'ctx, crate::kinds::Dict>,
    ) -> Result<Handle<'ctx>> {
        let ctx = self.ctx();
        let tuple = args.with_args(ctx, |a| crate::types::tuple_from_raw(ctx, a))??;
        self.call_tuple_dict(&tuple, Some(kwargs))
    }

    /// `obj.name(*args)`.
    pub fn call_method(&self, name: &str, args: impl CallArgs<'ctx>) -> Result<Handle<'ctx>> {
        let ctx = self.ctx();
        let name = crate::conversion::new_str(ctx, name)?;
        let raw = args.with_args(ctx, |a| {
            // HPy_CallMethod takes the receiver as the first argument.
            let mut all = Vec::with_capacity(a.len() + 1);
            all.push(self.as_raw());
            all.extend_from_slice(a);
            // SAFETY: live context, open handles.
            unsafe { ffi::HPy_CallMethod(self.c(), name.as_raw(), all.as_ptr(), all.len(), ffi::HPy_NULL) }
        })?;
        self.new_result(raw)
    }

    /// `obj.name(*args, **kwargs)`, e.g. `obj.call_method_kw("sort", (), &kw)` with
    /// `kw = {"reverse": True}`.
    pub fn call_method_kw(
        &self,
        name: &str,
        args: impl CallArgs<'ctx>,
        kwargs: &Handle<'ctx, crate::kinds::Dict>,
    ) -> Result<Handle<'ctx>> {
        self.getattr(name)?.call_with_kwargs(args, kwargs)
    }

    /// `repr(obj)`.
    pub fn repr(&self) -> Result<Handle<'ctx, Unicode>> {
        // SAFETY: live context, open handle.
        self.new_result(unsafe { ffi::HPy_Repr(self.c(), self.as_raw()) })
    }

    /// `str(obj)`.
    pub fn str_(&self) -> Result<Handle<'ctx, Unicode>> {
        // SAFETY: live context, open handle.
        self.new_result(unsafe { ffi::HPy_Str(self.c(), self.as_raw()) })
    }

    /// `ascii(obj)`.
    pub fn ascii(&self) -> Result<Handle<'ctx, Unicode>> {
        // SAFETY: live context, open handle.
        self.new_result(unsafe { ffi::HPy_ASCII(self.c(), self.as_raw()) })
    }

    /// `hash(obj)`.
    pub fn hash(&self) -> Result<isize> {
        // SAFETY: live context, open handle.
        let h = unsafe { ffi::HPy_Hash(self.c(), self.as_raw()) };
        if h == -1 && self.ctx().err_occurred() {
            Err(Error::pending())
        } else {
            Ok(h)
        }
    }

    /// `obj is other`. (Handles are not identities: never compare raw handles.)
    pub fn is<K2>(&self, other: &Handle<'ctx, K2>) -> bool {
        // SAFETY: live context, open handles.
        unsafe { ffi::HPy_Is(self.c(), self.as_raw(), other.as_raw()) != 0 }
    }

    /// `obj is None`.
    pub fn is_none(&self) -> bool {
        // SAFETY: live context, open handle, context constant.
        unsafe { ffi::HPy_Is(self.c(), self.as_raw(), self.ctx().raw_ref().h_None) != 0 }
    }

    /// `bool(obj)`.
    pub fn is_true(&self) -> Result<bool> {
        // SAFETY: live context, open handle.
        let rc = unsafe { ffi::HPy_IsTrue(self.c(), self.as_raw()) };
        Self::check_int(rc)?;
        Ok(rc != 0)
    }

    /// `callable(obj)`.
    pub fn is_callable(&self) -> bool {
        // SAFETY: live context, open handle.
        unsafe { ffi::HPyCallable_Check(self.c(), self.as_raw()) != 0 }
    }

    /// `type(obj)`.
    pub fn get_type(&self) -> Handle<'ctx, Type> {
        // SAFETY: live context, open handle; HPy_Type never fails for a valid object.
        unsafe { Handle::from_raw(self.ctx(), ffi::HPy_Type(self.c(), self.as_raw())) }
    }

    /// Is `obj` an instance of `ty` or of a subclass? (`isinstance` for real classes: it does
    /// not consult `__instancecheck__`, so abstract base classes such as
    /// `collections.abc.Sequence` only match real subclasses.)
    pub fn is_instance(&self, ty: &Handle<'ctx, Type>) -> bool {
        // SAFETY: live context, open handles.
        unsafe { ffi::HPy_TypeCheck(self.c(), self.as_raw(), ty.as_raw()) != 0 }
    }

    /// `obj <op> other`, the result as an object.
    pub fn rich_compare(&self, other: impl IntoHPy<'ctx>, op: CompareOp) -> Result<Handle<'ctx>> {
        // SAFETY: live context, open handles.
        let raw = other.with_raw(self.ctx(), |o| unsafe {
            ffi::HPy_RichCompare(self.c(), self.as_raw(), o, op.to_raw())
        })?;
        self.new_result(raw)
    }

    /// `bool(obj <op> other)`, with Python's container rule: an object is always `==` to itself
    /// (`PyObject_RichCompareBool`, as `in` and `list.__eq__` use), even a NaN.
    pub fn compare(&self, other: impl IntoHPy<'ctx>, op: CompareOp) -> Result<bool> {
        // SAFETY: live context, open handles.
        let rc = other.with_raw(self.ctx(), |o| unsafe {
            ffi::HPy_RichCompareBool(self.c(), self.as_raw(), o, op.to_raw())
        })?;
        Self::check_int(rc)?;
        Ok(rc != 0)
    }

    /// `obj == other` (identical objects are equal: see [`compare`](Self::compare)).
    pub fn eq(&self, other: impl IntoHPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Eq)
    }

    /// `obj < other`.
    pub fn lt(&self, other: impl IntoHPy<'ctx>) -> Result<bool> {
        self.compare(other, CompareOp::Lt)
    }

    /// `pow(obj, exp)` (or `pow(obj, exp, modulo)`).
    pub fn pow(&self, exp: impl IntoHPy<'ctx>, modulo: Option<&Handle<'ctx>>) -> Result<Handle<'ctx>> {
        let m = modulo.map_or(self.ctx().raw_ref().h_None, |m| m.as_raw());
        // SAFETY: live context, open handles.
        let raw = exp.with_raw(self.ctx(), |e| unsafe { ffi::HPy_Power(self.c(), self.as_raw(), e, m) })?;
        self.new_result(raw)
    }

    binary_ops! {
        /// `obj + other`.
        add => HPy_Add;
        /// `obj - other`.
        sub => HPy_Subtract;
        /// `obj * other`.
        mul => HPy_Multiply;
        /// `obj @ other`.
        matmul => HPy_MatrixMultiply;
        /// `obj // other`.
        floor_div => HPy_FloorDivide;
        /// `obj / other`.
        true_div => HPy_TrueDivide;
        /// `obj % other`.
        rem => HPy_Remainder;
        /// `divmod(obj, other)`.
        divmod => HPy_Divmod;
        /// `obj << other`.
        lshift => HPy_Lshift;
        /// `obj >> other`.
        rshift => HPy_Rshift;
        /// `obj & other`.
        bitand => HPy_And;
        /// `obj ^ other`.
        bitxor => HPy_Xor;
        /// `obj | other`.
        bitor => HPy_Or;
    }

    /// `obj **= exp` (or `pow(obj, exp, modulo)` in place); see [`iadd`](Self::iadd).
    pub fn ipow(&self, exp: impl IntoHPy<'ctx>, modulo: Option<&Handle<'ctx>>) -> Result<Handle<'ctx>> {
        let m = modulo.map_or(self.ctx().raw_ref().h_None, |m| m.as_raw());
        // SAFETY: live context, open handles.
        let raw = exp.with_raw(self.ctx(), |e| unsafe { ffi::HPy_InPlacePower(self.c(), self.as_raw(), e, m) })?;
        self.new_result(raw)
    }

    // In-place operators: `x += y` is `x = x.iadd(y)?`. The result is the object to use from now
    // on: a mutable object (a list) changes in place and returns itself; an immutable one (an
    // int, a tuple) leaves `obj` unchanged and returns a new object.
    binary_ops! {
        /// `obj += other`: the result replaces `obj` (for a list, `obj` itself, extended; for
        /// an int, a new int).
        iadd => HPy_InPlaceAdd;
        /// `obj -= other`; see [`iadd`](Self::iadd).
        isub => HPy_InPlaceSubtract;
        /// `obj *= other`; see [`iadd`](Self::iadd).
        imul => HPy_InPlaceMultiply;
        /// `obj @= other`; see [`iadd`](Self::iadd).
        imatmul => HPy_InPlaceMatrixMultiply;
        /// `obj //= other`; see [`iadd`](Self::iadd).
        ifloor_div => HPy_InPlaceFloorDivide;
        /// `obj /= other`; see [`iadd`](Self::iadd).
        itrue_div => HPy_InPlaceTrueDivide;
        /// `obj %= other`; see [`iadd`](Self::iadd).
        irem => HPy_InPlaceRemainder;
        /// `obj <<= other`; see [`iadd`](Self::iadd).
        ilshift => HPy_InPlaceLshift;
        /// `obj >>= other`; see [`iadd`](Self::iadd).
        irshift => HPy_InPlaceRshift;
        /// `obj &= other`; see [`iadd`](Self::iadd).
        ibitand => HPy_InPlaceAnd;
        /// `obj ^= other`; see [`iadd`](Self::iadd).
        ibitxor => HPy_InPlaceXor;
        /// `obj |= other`; see [`iadd`](Self::iadd).
        ibitor => HPy_InPlaceOr;
    }

    unary_ops! {
        /// `-obj`.
        neg => HPy_Negative;
        /// `+obj`.
        pos => HPy_Positive;
        /// `abs(obj)`.
        abs => HPy_Absolute;
        /// `~obj`.
        invert => HPy_Invert;
        /// `operator.index(obj)`.
        index => HPy_Index;
        /// `int(obj)`.
        to_int => HPy_Long;
        /// `float(obj)`.
        to_float => HPy_Float;
    }
}
