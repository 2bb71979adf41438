//! The protocols HPy 0.9 has no slot for: iteration (`__iter__`, `__next__`), attribute access
//! (`__getattr__`, `__setattr__`, `__delattr__`) and descriptors (`__get__`, `__set__`,
//! `__delete__`).
//!
//! `#[hpy::methods]` emits each of them as an ordinary method under its Python name. That alone
//! is not enough on CPython: it fills a type's slots (`tp_iter`, `tp_getattro`, ...) from its
//! dunder methods only for classes made by a `class` statement, never for a type made from a
//! spec, whose slots come from the spec's slot entries alone. So [`install`] sets each of these
//! methods on the type once more after `HPyType_FromSpec`: CPython's `type.__setattr__` then runs
//! `update_slot`, which fills the slot with its generic function for a Python-level dunder
//! (`slot_tp_iter`, `slot_tp_iternext`, `slot_tp_getattr_hook`, `slot_tp_setattro`,
//! `slot_tp_descr_get`, `slot_tp_descr_set`): the function that looks the method up on the type
//! and calls it, exactly as for a class written in Python. PyPy has no slots to fill: it looks
//! special methods up on the type at each use, and finds the methods where they are. GraalPy
//! follows CPython's rules for types (its `type.__setattr__` updates the slots too).
//!
//! `__getattr__` keeps Python's meaning: `slot_tp_getattr_hook` (and PyPy) call it only when the
//! normal lookup raises AttributeError. Python subclasses may override each method; the slots
//! they inherit look the method up on the subclass.
//!
//! The native build has CPython's own slots at hand: there `__iter__` and `__next__` are real
//! `tp_iter`/`tp_iternext` slot entries ([`TP_ITER`], [`TP_ITERNEXT`]), without a method call
//! per item, and [`by_abi`] picks which def a class gets (see [`super::abi::HAS_ITER_SLOTS`]).

use crate::ffi;
use crate::handle::Handle;
use crate::{Context, Error, IntoHPy, Result};

/// CPython's `Py_tp_iter` (typeslots.h). HPy 0.9 has no such slot (its own slot numbers are
/// CPython's, but stop short of it); only the native build's `HPyType_FromSpec`, which hands the
/// number to `PyType_FromSpec`, takes it.
pub const TP_ITER: ffi::HPySlot_Slot = 62;

/// CPython's `Py_tp_iternext` (typeslots.h); like [`TP_ITER`], native build only.
pub const TP_ITERNEXT: ffi::HPySlot_Slot = 63;

/// The dunders that [`install`] turns from methods into slots.
pub const SLOTLESS_DUNDERS: [&str; 8] =
    ["__iter__", "__next__", "__getattr__", "__setattr__", "__delattr__", "__get__", "__set__", "__delete__"];

/// The def for `__iter__` or `__next__`: `slot` (a [`TP_ITER`]/[`TP_ITERNEXT`] slot def) where
/// the ABI has those slots, else `method` (a method def under the dunder's name).
pub const fn by_abi(slot: ffi::HPyDef, method: ffi::HPyDef) -> ffi::HPyDef {
    if super::abi::HAS_ITER_SLOTS {
        slot
    } else {
        method
    }
}

/// Make the slotless dunders among `defines` (a class's defs, NULL-terminated or not) work on
/// the new type `ty`: set each such method on the type again (see the module documentation).
pub fn install(ty: &Handle<'_>, defines: &[ffi::HPyDefPtr]) -> Result<()> {
    let mut dict = None;
    for d in defines.iter().take_while(|d| !d.0.is_null()) {
        // SAFETY: the defines of a class are static HPyDefs; `meth` is read only for methods.
        let name = unsafe {
            let def = &*d.0;
            if def.kind != ffi::HPyDef_Kind_Meth {
                continue;
            }
            core::ffi::CStr::from_ptr(def.u.meth.name)
        };
        let Some(name) = name.to_str().ok().filter(|n| SLOTLESS_DUNDERS.contains(n)) else { continue };
        if dict.is_none() {
            dict = Some(ty.getattr("__dict__")?);
        }
        // The type's own entry, not `getattr(ty, name)`, which may run a descriptor's `__get__`.
        let method = dict.as_ref().expect("set above").get_item(name)?;
        ty.setattr(name, method)?;
    }
    Ok(())
}

/// What `__next__` may return: `Option<T>` (`None`: the iterator is exhausted) or
/// `Result<Option<T>, E>`.
#[diagnostic::on_unimplemented(
    message = "`__next__` returns `Option<T>` or `Result<Option<T>, E>`, not `{Self}`",
    note = "return `None` when the iterator is exhausted (Python then sees StopIteration)"
)]
pub trait IterNextReturn<'ctx> {
    /// The next item as a new handle, or `None` at the end.
    fn into_next(self, ctx: Context<'ctx>) -> Result<Option<ffi::HPy>>;
}

impl<'ctx, T: IntoHPy<'ctx>> IterNextReturn<'ctx> for Option<T> {
    #[inline]
    fn into_next(self, ctx: Context<'ctx>) -> Result<Option<ffi::HPy>> {
        match self {
            Some(item) => Ok(Some(item.into_hpy(ctx)?.into_raw())),
            None => Ok(None),
        }
    }
}

impl<'ctx, T: IntoHPy<'ctx>, E: Into<Error>> IterNextReturn<'ctx> for core::result::Result<Option<T>, E> {
    #[inline]
    fn into_next(self, ctx: Context<'ctx>) -> Result<Option<ffi::HPy>> {
        self.map_err(Into::into)?.into_next(ctx)
    }
}

/// `__next__`'s result as the method returns it: the item, or StopIteration at the end.
#[inline]
pub fn next_method<'ctx>(r: impl IterNextReturn<'ctx>, ctx: Context<'ctx>) -> Result<ffi::HPy> {
    match r.into_next(ctx)? {
        Some(item) => Ok(item),
        None => Err(stop_iteration(ctx)),
    }
}

/// Raise a bare `StopIteration()`, as the end of a Python iterator: without arguments, so that
/// `yield from` over the iterator evaluates to `None` (a message would become its value).
#[cold]
fn stop_iteration(ctx: Context<'_>) -> Error {
    let c = ctx.as_ptr();
    // SAFETY: live context; both handles are context constants. A `None` value makes the
    // runtime instantiate the type without arguments.
    unsafe { ffi::HPyErr_SetObject(c, ctx.raw_ref().h_StopIteration, ctx.raw_ref().h_None) };
    Error::pending()
}

/// `__next__`'s result as `tp_iternext` returns it: the item, or NULL with no exception set at
/// the end (CPython's convention for the slot; cheaper than raising StopIteration).
#[inline]
pub fn next_slot<'ctx>(r: impl IterNextReturn<'ctx>, ctx: Context<'ctx>) -> Result<ffi::HPy> {
    Ok(r.into_next(ctx)?.unwrap_or(ffi::HPy_NULL))
}
