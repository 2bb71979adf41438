//! Conversions between Rust values and Python objects: [`FromHPy`] and [`IntoHPy`].
//!
//! | Rust | from Python | to Python |
//! |---|---|---|
//! | `i8`..`i128`, `u8`..`u128`, `isize`, `usize` | `int` (OverflowError if out of range) | `int` |
//! | `f32`, `f64` | `float` or `int` | `float` |
//! | `bool` | `bool` | `bool` |
//! | `&str` (borrows the handle), `String`, `char` | `str` | `str` |
//! | `&[u8]` (borrows the handle), `Vec<u8>` | `bytes` | `bytes` |
//! | `Option<T>` | `None` or `T` | `None` or `T` |
//! | `Vec<T>` | any iterable but `str` and `dict`: the items `list(obj)` holds | `list` |
//! | `(A, B, ...)` up to 12 | `tuple` of that length (a subclass: the items it unpacks to) | `tuple` |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | `dict` (a subclass: what `dict(obj)` holds) | `dict` |
//! | `HashSet<T, S>`, `BTreeSet<T>` ([`crate::set`]) | `set` or `frozenset` (a subclass: the items it iterates) | `set` |
//! | [`Complex`](crate::Complex) | `complex`, `float`, `int`, `__complex__`/`__float__`/`__index__` (not `str`) | `complex` |
//! | `PathBuf`, `OsString` ([`crate::path`]) | `str`, `bytes`, any `os.PathLike` (`os.fsencode`) | |
//! | `PathBuf`, `&Path`, `OsString`, `&OsStr` | | `str` (`os.fsdecode`) |
//! | [`SliceBounds`](crate::SliceBounds) | `slice` | |
//! | [`SliceOrIndex`](crate::SliceOrIndex) | `int` (or `__index__`) or `slice` | |
//! | `Handle<K>`, `&Handle<K>` | an object of kind `K` | the object |
//! | `()` | | `None` |

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use crate::exceptions::{OverflowError, TypeError};
use crate::ffi;
use crate::handle::{Borrowed, Handle};
use crate::kinds::{Bytes, Dict, Kind, Long, Tuple, Unicode};
use crate::{Context, Error, Result};

/// Extract a Rust value from a Python object.
///
/// `'a` is how long the value may borrow from the object (for `&'a str`, `&'a [u8]`); `'ctx`
/// is the call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted from a Python object",
    note = "implement `hpy::FromHPy` for `{Self}`, or take a `&hpy::Handle<'_>` and convert it yourself"
)]
pub trait FromHPy<'a, 'ctx>: Sized {
    /// Convert `obj`, or fail with a Python exception (TypeError, OverflowError, ...).
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self>;

    /// `Vec<Self>` from `obj`, when `Self` has a faster way than item by item (`u8` from bytes).
    #[doc(hidden)]
    fn vec_from_hpy(_obj: &'a Handle<'ctx>) -> Option<Result<Vec<Self>>> {
        None
    }

    /// `obj` converted, or `None` with no exception pending: the other operand of a binary
    /// operator, which becomes NotImplemented when it does not convert. The numbers override
    /// it to fail without building the TypeError `from_hpy` would return (whose message names
    /// the operand's type, a lookup that HPy's debug mode makes expensive).
    #[doc(hidden)]
    #[inline]
    fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
        match Self::from_hpy(obj) {
            Ok(v) => Some(v),
            Err(e) => {
                e.clear(obj.ctx());
                None
            }
        }
    }
}

/// [`FromHPy::operand_from_hpy`] of the integer types: an `int` converts (out of its range:
/// `None`); anything else through `__index__`, and is `None` without one.
#[inline]
fn int_operand<'ctx, T: for<'a> FromHPy<'a, 'ctx>>(obj: &Handle<'ctx>) -> Option<T> {
    let converted = if obj.is_kind::<Long>() {
        T::from_hpy(obj)
    } else {
        let Some(index) = index_or_pending(obj) else {
            obj.ctx().err_clear();
            return None;
        };
        T::from_hpy(index.as_any())
    };
    converted.map_err(|e| e.clear(obj.ctx())).ok()
}

/// Convert a Rust value into a new Python object.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted to a Python object",
    note = "implement `hpy::IntoHPy` for `{Self}`, or return an `hpy::Handle<'ctx>`"
)]
pub trait IntoHPy<'ctx> {
    /// Make the Python object.
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>>;

    /// Call `f` with a raw handle to the value, valid during the call: handles lend themselves
    /// without a `Dup`, other values are converted to a temporary object.
    #[doc(hidden)]
    #[inline]
    fn with_raw<R>(self, ctx: Context<'ctx>, f: impl FnOnce(ffi::HPy) -> R) -> Result<R>
    where
        Self: Sized,
    {
        let h = self.into_hpy(ctx)?;
        Ok(f(h.as_raw()))
    }

    /// The value as a new raw handle for a trampoline to return: `Ok(NULL)` only with an
    /// exception set, which is how HPy functions report errors. Conversions that are a single HPy
    /// call override this to hand its result through, with no `Result` round trip.
    #[doc(hidden)]
    #[inline]
    fn into_raw_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy>
    where
        Self: Sized,
    {
        Ok(self.into_hpy(ctx)?.into_raw())
    }

    /// `Vec<Self>` as a Python object, when `Self` has a better form than a list (`u8`: bytes).
    #[doc(hidden)]
    fn vec_into_hpy(v: Vec<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>>
    where
        Self: Sized,
    {
        Ok(crate::types::list_from_exact_iter(ctx, v.into_iter().map(|item| item.into_hpy(ctx)))?.into_any())
    }

    /// `&[Self]` as a Python object: a list, unless `Self` has a better form (`u8`: bytes).
    #[doc(hidden)]
    fn slice_into_hpy(items: &[Self], ctx: Context<'ctx>) -> Result<Handle<'ctx>>
    where
        Self: Copy,
    {
        Ok(crate::types::list_from_exact_iter(ctx, items.iter().map(|&item| item.into_hpy(ctx)))?.into_any())
    }
}

impl<'ctx> Handle<'ctx> {
    /// Convert to a Rust value: `let n: i64 = obj.extract()?;`.
    ///
    /// An error names the Rust type: `TypeError: cannot convert to f64: expected float, got
    /// str`. (A conversion that is part of a bigger one, such as an item of a `Vec`, or a
    /// function's argument, is reported without it, "f() argument 'x': item 1: expected int,
    /// got str": such conversions call `FromHPy::from_hpy`.) A pending error is left as it is.
    #[inline]
    pub fn extract<'a, T: FromHPy<'a, 'ctx>>(&'a self) -> Result<T> {
        T::from_hpy(self).map_err(|e| e.in_part(format_args!("cannot convert to {}", rust_type_name::<T>())))
    }
}

/// `T`'s name as written in code, without module paths and lifetimes: `Vec<String>`, not
/// `alloc::vec::Vec<alloc::string::String>`; `Handle<Float>`, not `hpy::handle::Handle<'_, ...>`.
#[cold]
fn rust_type_name<T>() -> String {
    let full = core::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            // `segment` was a module path: drop it.
            chars.next();
            segment.clear();
        } else if c == '\'' {
            // A lifetime (`'_`, `'a`), with the `, ` or ` ` after it.
            while chars.next_if(|c| c.is_alphanumeric() || *c == '_').is_some() {}
            chars.next_if_eq(&',');
            chars.next_if_eq(&' ');
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out.replace("<>", "")
}

#[inline]
fn new_handle<'ctx>(ctx: Context<'ctx>, raw: ffi::HPy) -> Result<Handle<'ctx>> {
    // SAFETY: `raw` is the result of an HPy call returning a new handle.
    unsafe { Handle::from_new(ctx, raw) }
}

// ---- integers ----

/// Turn the pending error of a failed integer conversion into a lazy one that names the Rust type.
#[cold]
fn int_error(obj: &Handle<'_>, rust: &str) -> Error {
    let ctx = obj.ctx();
    if ctx.err_matches(OverflowError::TYPE) {
        ctx.err_clear();
        OverflowError::new_err(format!("int out of range for {rust}"))
    } else if ctx.err_matches(TypeError::TYPE) {
        ctx.err_clear();
        Error::wrong_type("int", obj)
    } else {
        Error::pending()
    }
}

/// `operator.index(obj)` for an object that is not an `int`, or `None` for an `int`.
///
/// HPy's integer conversions are CPython's `PyLong_As*`: the unsigned ones accept only `int`,
/// and before CPython 3.10 the signed ones fall back to `__int__` (truncating floats and
/// `Decimal`s). Going through `__index__` first gives every interpreter 3.10's rules.
fn index_of<'ctx>(obj: &Handle<'ctx>) -> Result<Option<Handle<'ctx, Long>>> {
    if obj.is_kind::<Long>() {
        return Ok(None);
    }
    match index_or_pending(obj) {
        Some(index) => Ok(Some(index)),
        None => {
            let ctx = obj.ctx();
            if ctx.err_matches(TypeError::TYPE) {
                ctx.err_clear();
                return Err(Error::wrong_type("int", obj));
            }
            Err(Error::pending())
        }
    }
}

/// `operator.index(obj)`, or `None` with the exception it raised pending.
#[inline]
fn index_or_pending<'ctx>(obj: &Handle<'ctx>) -> Option<Handle<'ctx, Long>> {
    let ctx = obj.ctx();
    // SAFETY: live context, open handle; Index returns a new handle or NULL.
    let raw = unsafe { ffi::HPy_Index(ctx.as_ptr(), obj.as_raw()) };
    // SAFETY: a new handle to an int.
    (raw._i != 0).then(|| unsafe { Handle::from_raw(ctx, raw) })
}

#[inline]
fn extract_i64(obj: &Handle<'_>, rust: &str) -> Result<i64> {
    // The handle goes by value to what is out of line, so the common path keeps it in a register.
    let (ctx, raw) = (obj.ctx(), obj.as_raw());
    if crate::impl_::int_conversion_uses_int() {
        // SAFETY: `raw` is `obj`'s handle, open for the call.
        return unsafe { extract_i64_by_index(ctx, raw, rust) };
    }
    // SAFETY: as above.
    unsafe { long_as_i64(ctx, raw, rust) }
}

/// [`extract_i64`] where the interpreter's own conversion would also take `__int__` (before
/// Python 3.10): convert with `__index__` first. Out of line, so the common path stays small.
///
/// # Safety
/// `raw` is an open handle of `ctx`, valid for the call.
#[inline(never)]
unsafe fn extract_i64_by_index(ctx: Context<'_>, raw: ffi::HPy, rust: &str) -> Result<i64> {
    // SAFETY: per the contract.
    let obj = unsafe { Borrowed::<crate::Any>::from_raw(ctx, raw) };
    let index = index_of(&obj)?;
    // SAFETY: `obj`, or the new int `index`, open until the end of this function.
    unsafe { long_as_i64(ctx, index.as_ref().map_or(raw, |i| i.as_raw()), rust) }
}

/// `HPyLong_AsInt64_t`, with its error mapped for the Rust type `rust`.
///
/// # Safety
/// `raw` is an open handle of `ctx`, valid for the call.
#[inline]
unsafe fn long_as_i64(ctx: Context<'_>, raw: ffi::HPy, rust: &str) -> Result<i64> {
    // SAFETY: live context, open handle.
    let v = unsafe { ffi::HPyLong_AsInt64_t(ctx.as_ptr(), raw) };
    if v == -1 {
        // SAFETY: per the contract.
        return unsafe { minus_one_or_error(ctx, raw, rust) };
    }
    Ok(v)
}

/// `HPyLong_AsInt64_t` returned -1: the value -1, or the error it reports, mapped for `rust`.
/// Out of line and given the handle by value, so that the common path keeps it in a register.
///
/// # Safety
/// `raw` is an open handle of `ctx`, valid for the call.
#[cold]
#[inline(never)]
unsafe fn minus_one_or_error(ctx: Context<'_>, raw: ffi::HPy, rust: &str) -> Result<i64> {
    if !ctx.err_occurred() {
        return Ok(-1);
    }
    // SAFETY: per the contract.
    let obj = unsafe { Borrowed::<crate::Any>::from_raw(ctx, raw) };
    Err(int_error(&obj, rust))
}

#[inline]
fn extract_u64(obj: &Handle<'_>, rust: &str) -> Result<u64> {
    // As in `extract_i64`: what is out of line takes the handle by value.
    let (ctx, raw) = (obj.ctx(), obj.as_raw());
    // SAFETY: live context, open handle.
    let v = unsafe { ffi::HPyLong_AsUInt64_t(ctx.as_ptr(), raw) };
    if v == u64::MAX {
        // SAFETY: `raw` is `obj`'s handle, open for the call.
        return unsafe { max_or_error(ctx, raw, rust) };
    }
    Ok(v)
}

/// `HPyLong_AsUInt64_t` returned `u64::MAX`: that value, or the error it reports, mapped for
/// `rust`; an object that is not an int is converted through its `__index__` (numpy integers).
///
/// # Safety
/// `raw` is an open handle of `ctx`, valid for the call.
#[cold]
#[inline(never)]
unsafe fn max_or_error(ctx: Context<'_>, raw: ffi::HPy, rust: &str) -> Result<u64> {
    if !ctx.err_occurred() {
        return Ok(u64::MAX);
    }
    // SAFETY: per the contract.
    let obj = unsafe { Borrowed::<crate::Any>::from_raw(ctx, raw) };
    if ctx.err_matches(TypeError::TYPE) {
        ctx.err_clear();
        if let Some(index) = index_of(&obj)? {
            return extract_u64(index.as_any(), rust);
        }
        return Err(Error::wrong_type("int", &obj));
    }
    Err(int_error(&obj, rust))
}

/// Integer conversions through the 64-bit ones: `$extract` reads the Python int as `$wide`,
/// `$from` makes one from a `$wide`.
macro_rules! ints {
    ($extract:ident, $wide:ty, $from:ident: $($t:ty),*) => {$(
        impl<'a, 'ctx> FromHPy<'a, 'ctx> for $t {
            #[inline]
            fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
                let v = $extract(obj, stringify!($t))?;
                <$t>::try_from(v).map_err(|_| OverflowError::new_err(concat!("int out of range for ", stringify!($t))))
            }
            #[inline]
            fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
                int_operand(obj)
            }
        }
        impl<'ctx> IntoHPy<'ctx> for $t {
            #[inline]
            fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
                // SAFETY: live context.
                new_handle(ctx, unsafe { ffi::$from(ctx.as_ptr(), self as $wide) })
            }
            #[inline]
            fn into_raw_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
                // SAFETY: live context. A new handle, or NULL with an exception set.
                Ok(unsafe { ffi::$from(ctx.as_ptr(), self as $wide) })
            }
        }
    )*};
}

ints!(extract_i64, i64, HPyLong_FromInt64_t: i8, i16, i32, i64, isize);
ints!(extract_u64, u64, HPyLong_FromUInt64_t: u16, u32, u64, usize);

impl<'a, 'ctx> FromHPy<'a, 'ctx> for u8 {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        let v = extract_u64(obj, "u8")?;
        u8::try_from(v).map_err(|_| OverflowError::new_err("int out of range for u8"))
    }

    #[inline]
    fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
        int_operand(obj)
    }

    fn vec_from_hpy(obj: &'a Handle<'ctx>) -> Option<Result<Vec<u8>>> {
        obj.downcast::<Bytes>().ok().map(|b| Ok(b.as_bytes().to_vec()))
    }
}

impl<'ctx> IntoHPy<'ctx> for u8 {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        (self as u64).into_hpy(ctx)
    }

    /// `Vec<u8>` becomes `bytes`.
    fn vec_into_hpy(v: Vec<u8>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        v.as_slice().into_hpy(ctx)
    }

    /// `&[u8]` becomes `bytes`.
    fn slice_into_hpy(items: &[u8], ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        // SAFETY: live context; `items` is valid for `len` bytes.
        new_handle(ctx, unsafe {
            ffi::HPyBytes_FromStringAndSize(ctx.as_ptr(), items.as_ptr().cast(), items.len() as isize)
        })
    }
}

/// 128-bit integers go through the decimal string of the (index of the) int: rare and slow.
macro_rules! wide_ints {
    ($($t:ty => $bits:literal),*) => {$(
        impl<'a, 'ctx> FromHPy<'a, 'ctx> for $t {
            fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
                let ctx = obj.ctx();
                let index = index_of(obj)?;
                let int = index.as_ref().map_or(obj, |i| i.as_any());
                // An exact int (not a subclass with its own __str__, not a bool).
                // SAFETY: live context, an int handle; returns a new handle or NULL.
                let exact: Handle<'ctx> = unsafe { Handle::from_new(ctx, ffi::HPy_Long(ctx.as_ptr(), int.as_raw()))? };
                // Check the size before printing: huge ints hit the str() digit limit.
                let bits: u64 = exact.call_method("bit_length", ())?.extract()?;
                let out_of_range = || OverflowError::new_err(concat!("int out of range for ", stringify!($t)));
                if bits > $bits {
                    return Err(out_of_range());
                }
                let text = exact.str_()?;
                text.to_str()?.parse::<$t>().map_err(|_| out_of_range())
            }
        }
        impl<'ctx> IntoHPy<'ctx> for $t {
            fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
                if let Ok(small) = i64::try_from(self) {
                    return small.into_hpy(ctx);
                }
                let text = ctx.str(&self.to_string())?;
                ctx.int_type().call1(&text)
            }
        }
    )*};
}

wide_ints!(i128 => 128, u128 => 128);

// ---- floats, bool ----

impl<'a, 'ctx> FromHPy<'a, 'ctx> for f64 {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        float_or_pending(obj).ok_or_else(|| {
            let ctx = obj.ctx();
            if ctx.err_matches(TypeError::TYPE) {
                ctx.err_clear();
                return Error::wrong_type("float", obj);
            }
            Error::pending()
        })
    }

    #[inline]
    fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
        float_or_pending(obj).or_else(|| {
            obj.ctx().err_clear();
            None
        })
    }
}

/// `HPyFloat_AsDouble(obj)`, or `None` with the exception it raised pending.
#[inline]
fn float_or_pending(obj: &Handle<'_>) -> Option<f64> {
    // SAFETY: live context, open handle.
    let v = unsafe { ffi::HPyFloat_AsDouble(obj.ctx().as_ptr(), obj.as_raw()) };
    (v != -1.0 || !obj.ctx().err_occurred()).then_some(v)
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for f32 {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(f64::from_hpy(obj)? as f32)
    }

    #[inline]
    fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
        f64::operand_from_hpy(obj).map(|v| v as f32)
    }
}

impl<'ctx> IntoHPy<'ctx> for f64 {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        // SAFETY: live context.
        new_handle(ctx, unsafe { ffi::HPyFloat_FromDouble(ctx.as_ptr(), self) })
    }
    #[inline]
    fn into_raw_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        // SAFETY: live context. A new handle, or NULL with an exception set.
        Ok(unsafe { ffi::HPyFloat_FromDouble(ctx.as_ptr(), self) })
    }
}

impl<'ctx> IntoHPy<'ctx> for f32 {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        (self as f64).into_hpy(ctx)
    }
    #[inline]
    fn into_raw_return(self, ctx: Context<'ctx>) -> Result<ffi::HPy> {
        (self as f64).into_raw_return(ctx)
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for bool {
    /// Only `True` and `False` (not truthiness: use [`Handle::is_true`] for that).
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        bool::operand_from_hpy(obj).ok_or_else(|| Error::wrong_type("bool", obj))
    }

    /// `True` or `False`, else `None`.
    #[inline]
    fn operand_from_hpy(obj: &'a Handle<'ctx>) -> Option<Self> {
        let ctx = obj.ctx();
        if obj.is(&ctx.true_()) {
            Some(true)
        } else if obj.is(&ctx.false_()) {
            Some(false)
        } else {
            None
        }
    }
}

impl<'ctx> IntoHPy<'ctx> for bool {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        // SAFETY: live context.
        new_handle(ctx, unsafe { ffi::HPyBool_FromBool(ctx.as_ptr(), self) })
    }
}

// ---- strings and bytes ----

impl<'a, 'ctx> FromHPy<'a, 'ctx> for &'a str {
    /// Borrows the string's UTF-8 buffer: valid as long as the handle.
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        obj.downcast::<Unicode>()?.to_str()
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for String {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        <&str>::from_hpy(obj).map(str::to_owned)
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for char {
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        let s = <&str>::from_hpy(obj)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(crate::exceptions::ValueError::new_err(format!(
                "expected a string of length 1, got length {}",
                s.chars().count()
            ))),
        }
    }
}

/// A new `str` from UTF-8 (HPy 0.9 has no "from UTF-8 and size": choose the cheapest route).
pub(crate) fn new_str<'ctx>(ctx: Context<'ctx>, s: &str) -> Result<Handle<'ctx, Unicode>> {
    new_str_from_bytes(ctx, s.as_bytes(), true)
}

/// A new `str` from `bytes`, UTF-8 (`checked`: a `&str`'s bytes) or to be checked by the
/// interpreter (UnicodeDecodeError). HPy 0.9 has no "decode UTF-8 of this length": ASCII (the
/// common case) is decoded in place by `HPyUnicode_DecodeASCII`; other text with no NUL is copied
/// NUL-terminated (on the stack when short) for `HPyUnicode_FromString`, which decodes strictly
/// on CPython; the rest (a NUL inside, or unchecked bytes on PyPy, whose `FromString` fails
/// invalid UTF-8 with a SystemError) goes through a bytes object and `FromEncodedObject`.
pub(crate) fn new_str_from_bytes<'ctx>(ctx: Context<'ctx>, bytes: &[u8], checked: bool) -> Result<Handle<'ctx, Unicode>> {
    let c = ctx.as_ptr();
    let raw = if bytes.is_ascii() {
        // SAFETY: live context; `bytes` is valid for `len` bytes; ASCII decodes exactly.
        unsafe { ffi::HPyUnicode_DecodeASCII(c, bytes.as_ptr().cast(), bytes.len() as isize, c"strict".as_ptr()) }
    } else if !bytes.contains(&0) && (checked || crate::impl_::runtime_decodes_utf8_strictly()) {
        // A NUL-terminated copy, on the stack when short.
        let mut stack = [0u8; 256];
        let heap;
        let buf: &[u8] = if bytes.len() < stack.len() {
            stack[..bytes.len()].copy_from_slice(bytes);
            &stack[..=bytes.len()]
        } else {
            heap = [bytes, &[0]].concat();
            &heap
        };
        // SAFETY: live context; `buf` is NUL-terminated.
        unsafe { ffi::HPyUnicode_FromString(c, buf.as_ptr().cast()) }
    } else {
        let bytes = bytes.into_hpy(ctx)?;
        // SAFETY: live context, a bytes handle, static encoding names.
        unsafe { ffi::HPyUnicode_FromEncodedObject(c, bytes.as_raw(), c"utf-8".as_ptr(), c"strict".as_ptr()) }
    };
    // SAFETY: a new str handle, or NULL with an exception.
    unsafe { Handle::from_new(ctx, raw) }
}

impl<'ctx> IntoHPy<'ctx> for &str {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(new_str(ctx, self)?.into_any())
    }
}

impl<'ctx> IntoHPy<'ctx> for String {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        self.as_str().into_hpy(ctx)
    }
}

impl<'ctx> IntoHPy<'ctx> for &String {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        self.as_str().into_hpy(ctx)
    }
}

impl<'ctx> IntoHPy<'ctx> for std::borrow::Cow<'_, str> {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        (*self).into_hpy(ctx)
    }
}

impl<'ctx> IntoHPy<'ctx> for char {
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        self.encode_utf8(&mut [0; 4]).into_hpy(ctx)
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for &'a [u8] {
    /// Borrows the bytes object's buffer: valid as long as the handle.
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        Ok(obj.downcast::<Bytes>()?.as_bytes())
    }
}

impl<'ctx, T: Copy + IntoHPy<'ctx>> IntoHPy<'ctx> for &[T] {
    /// A `list` of the items, each converted from a copy as it is put in the list (the slice is
    /// not copied into a `Vec` first); `bytes` for `&[u8]`.
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        T::slice_into_hpy(self, ctx)
    }
}

// ---- Option, (), handles ----

impl<'a, 'ctx, T: FromHPy<'a, 'ctx>> FromHPy<'a, 'ctx> for Option<T> {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        if obj.is_none() {
            Ok(None)
        } else {
            T::from_hpy(obj).map(Some)
        }
    }
}

impl<'ctx, T: IntoHPy<'ctx>> IntoHPy<'ctx> for Option<T> {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        match self {
            Some(v) => v.into_hpy(ctx),
            None => Ok(ctx.none().to_owned().into_any()),
        }
    }
}

impl<'ctx> IntoHPy<'ctx> for () {
    #[inline]
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(ctx.none().to_owned().into_any())
    }
}

impl<'a, 'ctx, K: Kind> FromHPy<'a, 'ctx> for &'a Handle<'ctx, K> {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        obj.downcast::<K>()
    }
}

impl<'a, 'ctx, K: Kind> FromHPy<'a, 'ctx> for Handle<'ctx, K> {
    #[inline]
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        obj.downcast::<K>().cloned()
    }
}

impl<'ctx, K> IntoHPy<'ctx> for Handle<'ctx, K> {
    #[inline]
    fn into_hpy(self, _ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(self.into_any())
    }
}

impl<'ctx, K> IntoHPy<'ctx> for &Handle<'ctx, K> {
    #[inline]
    fn into_hpy(self, _ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(self.as_any().clone())
    }

    #[inline]
    fn with_raw<R>(self, _ctx: Context<'ctx>, f: impl FnOnce(ffi::HPy) -> R) -> Result<R> {
        Ok(f(self.as_raw()))
    }
}

impl<'ctx, K> IntoHPy<'ctx> for Borrowed<'_, 'ctx, K> {
    #[inline]
    fn into_hpy(self, _ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(self.as_any().clone())
    }

    #[inline]
    fn with_raw<R>(self, _ctx: Context<'ctx>, f: impl FnOnce(ffi::HPy) -> R) -> Result<R> {
        Ok(f(self.as_raw()))
    }
}

// ---- collections ----

/// A [`FromHPy`] type that does not borrow from the object it is extracted from, so it can be
/// extracted from temporary handles (the items of a collection).
pub trait FromHPyOwned<'ctx>: for<'a> FromHPy<'a, 'ctx> {}
impl<'ctx, T: for<'a> FromHPy<'a, 'ctx>> FromHPyOwned<'ctx> for T {}

/// What `type(obj)` is exactly, among the sequences whose items conversions read by index. A
/// subclass is `Other`: it may override `__len__`, `__getitem__` or `__iter__`, so its items are
/// read the way `list(obj)` reads them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExactType {
    List,
    Tuple,
    Other,
}

#[inline]
fn exact_type(obj: &Handle<'_>) -> ExactType {
    let ctx = obj.ctx();
    let ty = obj.get_type();
    if ty.is(&ctx.list_type()) {
        ExactType::List
    } else if ty.is(&ctx.tuple_type()) {
        ExactType::Tuple
    } else {
        ExactType::Other
    }
}

/// At most this many items are reserved up front for a sequence whose length only `__len__`
/// tells: that is a hint, which may lie (in either direction); the `Vec` grows as the items come.
const MAX_ITEMS_RESERVED_FROM_LEN: usize = 4096;

#[cold]
fn cannot_allocate() -> Error {
    crate::exceptions::MemoryError::new_err("cannot allocate the Vec")
}

/// The capacity to reserve for the items of `obj`, from `len(obj)` as `list(obj)` takes it:
/// a TypeError from `__len__` means "no hint", other errors propagate; then capped.
fn capacity_hint(obj: &Handle<'_>) -> Result<usize> {
    match obj.len() {
        Ok(len) => Ok(len.min(MAX_ITEMS_RESERVED_FROM_LEN)),
        Err(e) if e.matches(obj.ctx(), TypeError::TYPE) => {
            e.clear(obj.ctx());
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// The items of an exact `list` or `tuple`, read by index: their length is their true size.
///
/// Converting an item may run Python code (`__index__`, `__float__`, ...) that changes the list
/// being read. The items are then the ones a `for` loop over the list would see: it ends where
/// the list ends now, and goes on to items appended meanwhile. Checking the length again only
/// when the known items are done, or when an index turns out to be past the end, costs nothing
/// per item.
fn vec_by_index<'ctx, T: FromHPyOwned<'ctx>>(obj: &Handle<'ctx>, exact: ExactType) -> Result<Vec<T>> {
    let ctx = obj.ctx();
    let mut len = obj.len()?;
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| cannot_allocate())?;
    loop {
        // `out.len() < len <= out.capacity()` in this loop: `push` never reallocates.
        while out.len() < len {
            let i = out.len();
            let item = match obj.get_index(i) {
                Ok(item) => item,
                Err(e) => {
                    past_the_end(ctx, e, exact)?;
                    return Ok(out);
                }
            };
            out.push(T::from_hpy(&item).map_err(|e| e.in_part(format_args!("item {i}")))?);
        }
        if exact == ExactType::Tuple {
            return Ok(out);
        }
        len = obj.len()?;
        if len <= out.len() {
            return Ok(out);
        }
        out.try_reserve(len - out.len()).map_err(|_| cannot_allocate())?;
    }
}

/// `Ok` if `error`, raised by reading an item of an exact list, says that the index is past the
/// end: the list shrank while its items were read (a tuple cannot). The error is cleared then.
#[cold]
#[inline(never)]
fn past_the_end(ctx: Context<'_>, error: Error, exact: ExactType) -> Result<()> {
    if exact == ExactType::List && error.matches(ctx, crate::exceptions::IndexError::TYPE) {
        error.clear(ctx);
        Ok(())
    } else {
        Err(error)
    }
}

/// Can `iter(obj)` work: has `obj` an `__iter__` or a `__getitem__` (Python's sequence
/// iteration)? Asked before iterating, because a TypeError from `iter(obj)` could as well come
/// from the object's own `__iter__`, and a pending exception cannot be inspected.
fn is_iterable(obj: &Handle<'_>) -> Result<bool> {
    Ok(obj.hasattr("__iter__")? || obj.hasattr("__getitem__")?)
}

/// The items `iter(obj)` yields, each converted by `convert`: what `list(obj)` and a `for` loop
/// see, whatever `__len__` says (see [`crate::iter`]).
fn vec_by_iteration<'ctx, T>(
    obj: &Handle<'ctx>,
    mut convert: impl FnMut(Handle<'ctx>, usize) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(capacity_hint(obj)?).map_err(|_| cannot_allocate())?;
    for item in obj.iter()? {
        let value = convert(item?, out.len())?;
        // Not `push`'s own growth, which aborts the process when memory runs out.
        out.try_reserve(1).map_err(|_| cannot_allocate())?;
        out.push(value);
    }
    Ok(out)
}

impl<'a, 'ctx, T: FromHPyOwned<'ctx>> FromHPy<'a, 'ctx> for Vec<T> {
    /// From any iterable but `str` and `dict`: the items `list(obj)` would hold. An exact `list`
    /// or `tuple` is read by index, anything else (subclasses, sets, generators, iterators,
    /// objects with `__iter__` or an integer `__getitem__`) by iteration, with `len(obj)` only
    /// as a capacity hint. `Vec<u8>` also takes `bytes` directly.
    ///
    /// A `str` (its items are one-character strings, rarely what a `Vec` means) and a `dict`
    /// (its items are only its keys, so `{0: 5, 1: 6}` would quietly give `[0, 1]`) are refused
    /// with a message saying what to pass instead; their `list(...)`, `.keys()`, `.values()` or
    /// `.items()` are accepted.
    fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
        if let Some(fast) = T::vec_from_hpy(obj) {
            return fast;
        }
        let exact = exact_type(obj);
        if exact != ExactType::Other {
            return vec_by_index(obj, exact);
        }
        if obj.is_kind::<Unicode>() {
            return Err(TypeError::new_err("can't extract a str to a Vec"));
        }
        if obj.is_kind::<Dict>() {
            return Err(TypeError::new_err("can't extract a dict to a Vec: pass its .keys(), .values() or .items()"));
        }
        if !is_iterable(obj)? {
            return Err(Error::wrong_type("iterable", obj));
        }
        vec_by_iteration(obj, |item, i| T::from_hpy(&item).map_err(|e| e.in_part(format_args!("item {i}"))))
    }
}

impl<'ctx, T: IntoHPy<'ctx>> IntoHPy<'ctx> for Vec<T> {
    /// A `list` (`bytes` for `Vec<u8>`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        T::vec_into_hpy(self, ctx)
    }
}

/// Is `dict` exactly a `dict`, not a subclass? (HPy 0.9 has no `dict` type constant; the
/// builtins namespace is a plain `dict`.)
pub(crate) fn is_exact_dict(dict: &Handle<'_, Dict>) -> bool {
    dict.get_type().is(&dict.ctx().builtins().get_type())
}

/// `dict(obj)` for a `dict` subclass: the keys and values `dict(obj)` reads, which are not
/// always what the subclass's own `keys()` and `__getitem__` say.
pub(crate) fn plain_dict<'ctx>(obj: &Handle<'ctx, Dict>) -> Result<Handle<'ctx, Dict>> {
    let dict_type = obj.ctx().builtins().get_type();
    dict_type.call1(obj)?.downcast_into()
}

macro_rules! maps {
    ($($map:ident < K: [$($kb:tt)+], V $(, $s:ident : $sb:path)? >;)*) => {$(
        impl<'a, 'ctx, K, V $(, $s)?> FromHPy<'a, 'ctx> for $map<K, V $(, $s)?>
        where
            K: FromHPyOwned<'ctx> + $($kb)+,
            V: FromHPyOwned<'ctx>,
            $($s: $sb + Default,)?
        {
            fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
                let dict = obj.downcast::<Dict>()?;
                let copy;
                let dict = if is_exact_dict(dict) {
                    dict
                } else {
                    copy = plain_dict(dict)?;
                    &copy
                };
                let keys = dict.keys()?;
                let mut out = Self::default();
                for i in 0..keys.len()? {
                    let key = keys.get_index(i)?;
                    let value = dict.get_item(&key)?;
                    let k = K::from_hpy(&key).map_err(|e| e.in_part("key"))?;
                    let v = V::from_hpy(&value).map_err(|e| e.in_part(format_args!("value for key {key:?}")))?;
                    out.insert(k, v);
                }
                Ok(out)
            }
        }

        impl<'ctx, K, V $(, $s)?> IntoHPy<'ctx> for $map<K, V $(, $s)?>
        where
            K: IntoHPy<'ctx>,
            V: IntoHPy<'ctx>,
        {
            /// A `dict`.
            fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
                let dict = ctx.dict()?;
                for (k, v) in self {
                    dict.set_item(k, v)?;
                }
                Ok(dict.into_any())
            }
        }
    )*};
}

maps! {
    HashMap<K: [Hash + Eq], V, S: BuildHasher>;
    BTreeMap<K: [Ord], V>;
}

macro_rules! tuples {
    ($($len:literal => ($($name:ident $idx:tt),+);)*) => {$(
        impl<'a, 'ctx, $($name: FromHPyOwned<'ctx>),+> FromHPy<'a, 'ctx> for ($($name,)+) {
            fn from_hpy(obj: &'a Handle<'ctx>) -> Result<Self> {
                let wrong_length = |len: usize| TypeError::new_err(format!(
                    "expected a tuple of length {}, got a tuple of length {len}", $len
                ));
                if exact_type(obj) == ExactType::Tuple {
                    let len = obj.len()?;
                    if len != $len {
                        return Err(wrong_length(len));
                    }
                    return Ok(($( $name::from_hpy(&obj.get_index($idx)?).map_err(|e| e.in_part(concat!("item ", $idx)))?, )+));
                }
                // A subclass: its items are the ones unpacking (`a, b = obj`) takes, iteration's.
                obj.downcast::<Tuple>()?;
                let items = vec_by_iteration(obj, |item, _| Ok(item))?;
                if items.len() != $len {
                    return Err(wrong_length(items.len()));
                }
                Ok(($( $name::from_hpy(&items[$idx]).map_err(|e| e.in_part(concat!("item ", $idx)))?, )+))
            }
        }

        impl<'ctx, $($name: IntoHPy<'ctx>),+> IntoHPy<'ctx> for ($($name,)+) {
            /// A `tuple`.
            fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
                let items = [$( self.$idx.into_hpy(ctx)? ),+];
                let raw = items.each_ref().map(|h| h.as_raw());
                Ok(crate::types::tuple_from_raw(ctx, &raw)?.into_any())
            }
        }
    )*};
}

tuples! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
    7 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    11 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    12 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
}

/// `Long` handles convert to Rust integers directly.
impl Handle<'_, Long> {
    /// The value as `i64` (OverflowError if it does not fit).
    pub fn to_i64(&self) -> Result<i64> {
        extract_i64(self.as_any(), "i64")
    }
}
