//! Owned handles ([`Handle`]) and borrowed handles ([`Borrowed`]).
//!
//! HPy's rules, enforced by the types:
//! * a handle returned by the API is *owned*: it must be closed exactly once. [`Handle`] closes
//!   on `Drop`; `Clone` duplicates (`HPy_Dup`).
//! * a handle passed to a function is *borrowed*: the caller closes it. [`Borrowed`] never
//!   closes; it derefs to `&Handle`, so it has every method of a handle.
//! * both carry the lifetime `'ctx` of the call's [`Context`], so neither can outlive the call.

use core::marker::PhantomData;
use core::ops::Deref;

use crate::ffi;
use crate::kinds::{Any, Kind, Unicode};
use crate::{Context, Error, Result};

/// An owned handle to a Python object, of kind `K` (see [`crate::kinds`]).
///
/// Closed when dropped; `clone()` duplicates it. Cannot outlive the call it was made in.
#[repr(C)]
pub struct Handle<'ctx, K = Any> {
    raw: ffi::HPy,
    ctx: Context<'ctx>,
    _kind: PhantomData<K>,
}

/// A borrowed handle: a function argument, `self`, or a context constant such as `None`.
///
/// It is never closed by Rust. It derefs to [`Handle`], so all object methods are available;
/// `to_owned()` (or `clone()` on the deref'd handle) gives an owned duplicate. `'a` bounds how
/// long the borrow lasts; `'ctx` is the call.
#[repr(C)]
pub struct Borrowed<'a, 'ctx, K = Any> {
    raw: ffi::HPy,
    ctx: Context<'ctx>,
    _borrow: PhantomData<(&'a (), K)>,
}

impl<K> Copy for Borrowed<'_, '_, K> {}
impl<K> Clone for Borrowed<'_, '_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'ctx, K> Handle<'ctx, K> {
    /// Take ownership of a raw handle.
    ///
    /// # Safety
    /// `raw` is a valid, open handle of `ctx`, owned by the caller, and of kind `K`.
    #[inline]
    pub unsafe fn from_raw(ctx: Context<'ctx>, raw: ffi::HPy) -> Self {
        Handle { raw, ctx, _kind: PhantomData }
    }

    /// Take ownership of the result of an HPy call that returns a new handle, or NULL with an
    /// exception set (which becomes `Err(Error::pending())`).
    ///
    /// # Safety
    /// A non-NULL `raw` is a new handle of `ctx` of kind `K`.
    #[inline]
    pub unsafe fn from_new(ctx: Context<'ctx>, raw: ffi::HPy) -> Result<Self> {
        if raw._i == 0 {
            Err(Error::pending())
        } else {
            // SAFETY: per the contract.
            Ok(unsafe { Self::from_raw(ctx, raw) })
        }
    }

    /// The raw handle, still owned by `self`.
    #[inline]
    pub fn as_raw(&self) -> ffi::HPy {
        self.raw
    }

    /// Give up ownership: the caller must close the returned raw handle (or return it to HPy).
    #[inline]
    pub fn into_raw(self) -> ffi::HPy {
        let raw = self.raw;
        core::mem::forget(self);
        raw
    }

    /// The context this handle belongs to.
    #[inline]
    pub fn ctx(&self) -> Context<'ctx> {
        self.ctx
    }

    /// This handle as a handle of any kind.
    #[inline]
    pub fn as_any(&self) -> &Handle<'ctx, Any> {
        // SAFETY: the kind is a zero-sized marker; the layout is identical.
        unsafe { &*(self as *const Self as *const Handle<'ctx, Any>) }
    }

    /// Forget the kind.
    #[inline]
    pub fn into_any(self) -> Handle<'ctx, Any> {
        // SAFETY: the same open handle, re-labelled.
        unsafe { Handle::from_raw(self.ctx, self.into_raw()) }
    }

    /// Borrow this handle (for APIs that take a [`Borrowed`]).
    #[inline]
    pub fn as_borrowed(&self) -> Borrowed<'_, 'ctx, K> {
        // SAFETY: the borrow is bounded by `&self`.
        unsafe { Borrowed::from_raw(self.ctx, self.raw) }
    }

    /// Relabel the kind without a check.
    ///
    /// # Safety
    /// The object is of kind `K2`.
    #[inline]
    pub unsafe fn cast_unchecked<K2>(&self) -> &Handle<'ctx, K2> {
        // SAFETY: zero-sized marker; the caller vouches for the kind.
        unsafe { &*(self as *const Self as *const Handle<'ctx, K2>) }
    }

    /// Relabel the kind without a check, by value.
    ///
    /// # Safety
    /// The object is of kind `K2`.
    #[inline]
    pub unsafe fn cast_into_unchecked<K2>(self) -> Handle<'ctx, K2> {
        // SAFETY: the same open handle; the caller vouches for the kind.
        unsafe { Handle::from_raw(self.ctx, self.into_raw()) }
    }

    /// Check the kind: `Ok(&Handle<K2>)`, or a TypeError naming the expected and actual types.
    pub fn downcast<K2: Kind>(&self) -> Result<&Handle<'ctx, K2>> {
        if K2::check(self.as_any()) {
            // SAFETY: just checked.
            Ok(unsafe { self.cast_unchecked() })
        } else {
            // SAFETY: our own open handle.
            Err(unsafe { wrong_kind(K2::NAME, self.ctx, self.raw) })
        }
    }

    /// Check the kind, by value; see [`downcast`](Self::downcast).
    pub fn downcast_into<K2: Kind>(self) -> Result<Handle<'ctx, K2>> {
        if K2::check(self.as_any()) {
            // SAFETY: just checked.
            Ok(unsafe { self.cast_into_unchecked() })
        } else {
            // SAFETY: our own open handle.
            Err(unsafe { wrong_kind(K2::NAME, self.ctx, self.raw) })
        }
    }

    /// Is the object of kind `K2` (`isinstance(obj, int)` for [`crate::kinds::Long`], ...)?
    pub fn is_kind<K2: Kind>(&self) -> bool {
        K2::check(self.as_any())
    }

    /// The handle as kind `K2` if the object is one, else `None`: one check, and no error built
    /// on failure (an operator that takes several operand types tries each kind in turn;
    /// [`downcast`](Self::downcast) builds a TypeError naming the type, and `is_kind` then
    /// `downcast` checks twice).
    pub fn as_kind<K2: Kind>(&self) -> Option<&Handle<'ctx, K2>> {
        if K2::check(self.as_any()) {
            // SAFETY: just checked.
            Some(unsafe { self.cast_unchecked() })
        } else {
            None
        }
    }
}

impl<K> Drop for Handle<'_, K> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: an owned, open handle of a live context, closed exactly once.
        unsafe { ffi::HPy_Close(self.ctx.as_ptr(), self.raw) }
    }
}

impl<K> Clone for Handle<'_, K> {
    /// `HPy_Dup`: a new handle to the same object.
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: an open handle of a live context; Dup returns a new one.
        unsafe { Handle::from_raw(self.ctx, ffi::HPy_Dup(self.ctx.as_ptr(), self.raw)) }
    }
}

impl<'a, 'ctx, K> Borrowed<'a, 'ctx, K> {
    /// Borrow a raw handle owned by someone else.
    ///
    /// # Safety
    /// `raw` is an open handle of `ctx`, of kind `K`, that stays open for `'a`.
    #[inline]
    pub unsafe fn from_raw(ctx: Context<'ctx>, raw: ffi::HPy) -> Self {
        Borrowed { raw, ctx, _borrow: PhantomData }
    }

    /// An owned duplicate (`HPy_Dup`).
    #[inline]
    pub fn to_owned(self) -> Handle<'ctx, K> {
        (*self).clone()
    }
}

impl<'ctx, K> Deref for Borrowed<'_, 'ctx, K> {
    type Target = Handle<'ctx, K>;
    #[inline]
    fn deref(&self) -> &Handle<'ctx, K> {
        // SAFETY: `Borrowed` and `Handle` are both repr(C) {HPy, Context, ZST}. The `&Handle`
        // cannot be moved out of (Handle is not Copy), so its Drop never runs on a borrowed handle.
        unsafe { &*(self as *const Self as *const Handle<'ctx, K>) }
    }
}

/// Write `text` (the result of `repr` or `str` of `obj`) or a placeholder if it raised (that
/// exception is cleared). With an exception already pending, Python code cannot run: a
/// placeholder, and the exception stays.
fn write_text<'ctx, K>(
    f: &mut core::fmt::Formatter<'_>,
    obj: &Handle<'ctx, K>,
    text: impl FnOnce(&Handle<'ctx, Any>) -> Result<Handle<'ctx, Unicode>>,
    what: &str,
) -> core::fmt::Result {
    let ctx = obj.ctx;
    if ctx.err_occurred() {
        return f.write_str("<object (not shown: a Python exception is pending)>");
    }
    match text(obj.as_any()) {
        Ok(s) => match s.to_str() {
            Ok(s) => f.write_str(s),
            Err(e) => {
                e.clear(ctx);
                f.write_str("<unprintable object>")
            }
        },
        Err(e) => {
            e.clear(ctx);
            write!(f, "<object whose {what}() raised>")
        }
    }
}

impl<K> core::fmt::Debug for Handle<'_, K> {
    /// `repr(obj)`, or a placeholder if that is impossible (see `write_text`).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_text(f, self, |o| o.repr(), "repr")
    }
}

impl<K> core::fmt::Display for Handle<'_, K> {
    /// `str(obj)`, or a placeholder if that is impossible (see `write_text`).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_text(f, self, |o| o.str_(), "str")
    }
}

impl<K> core::fmt::Debug for Borrowed<'_, '_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

/// The error of a failed `downcast`: [`Error::wrong_type`], out of line and given the handle by
/// value, so that a successful check (argument extraction, mostly) keeps the handle in a register.
///
/// # Safety
/// `raw` is an open handle of `ctx`, valid for the call.
#[cold]
#[inline(never)]
unsafe fn wrong_kind(expected: &'static str, ctx: Context<'_>, raw: ffi::HPy) -> Error {
    // SAFETY: per the contract.
    let obj = unsafe { Borrowed::<Any>::from_raw(ctx, raw) };
    Error::wrong_type(expected, &obj)
}
