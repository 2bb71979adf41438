//! [`Global`]: a module-level reference to a Python object (HPy's `HPyGlobal`).

use core::cell::UnsafeCell;

use crate::ffi;
use crate::handle::Handle;
use crate::Context;

/// A Python object kept between calls, in a `static` (HPy's `HPyGlobal`).
///
/// Handles die with their call; a `Global` is how a module keeps an object (a cache, a counter,
/// a custom exception type) for later calls. It is declared as a `static` inside the
/// `#[hpy::module]` module, which registers it in the module definition, and it is only read
/// and written through a [`Context`]:
///
/// ```
/// #[hpy::module]
/// mod counter {
///     use hpy::{Context, Global, Result};
///     static COUNT: Global = Global::new();
///
///     #[hpy::function]
///     fn bump(ctx: Context<'_>) -> Result<i64> {
///         let n: i64 = match COUNT.load(ctx) { Some(h) => h.extract()?, None => 0 } + 1;
///         COUNT.store(ctx, &ctx.object(n)?);
///         Ok(n)
///     }
/// }
/// # fn main() {}
/// ```
#[repr(transparent)]
pub struct Global {
    cell: UnsafeCell<ffi::HPyGlobal>,
}

// SAFETY: the cell is only read or written through a `Context`, i.e. while the calling thread
// is inside an HPy call (holding the GIL on CPython), which serialises all access.
unsafe impl Sync for Global {}

impl Global {
    /// An empty global; `load` gives `None` until the first `store`.
    #[allow(clippy::new_without_default)] // used in `static` initialisers: must be const
    pub const fn new() -> Self {
        Global { cell: UnsafeCell::new(ffi::HPyGlobal_NULL) }
    }

    /// Make the global refer to `value` (it keeps its own reference; `value` stays yours).
    pub fn store<K>(&'static self, ctx: Context<'_>, value: &Handle<'_, K>) {
        // SAFETY: live context, open handle; the runtime writes the cell under the GIL.
        unsafe { ffi::HPyGlobal_Store(ctx.as_ptr(), self.cell.get(), value.as_raw()) }
    }

    /// A new handle to the stored object, or `None` if nothing was stored yet.
    #[inline]
    pub fn load<'ctx>(&'static self, ctx: Context<'ctx>) -> Option<Handle<'ctx>> {
        // SAFETY: reads under the GIL (we hold a context); a stored global is never zero.
        let raw = unsafe { *self.cell.get() };
        if raw._i == 0 {
            return None;
        }
        // SAFETY: live context, a stored global; Load returns a new handle.
        Some(unsafe { Handle::from_raw(ctx, ffi::HPyGlobal_Load(ctx.as_ptr(), raw)) })
    }

    /// Is the stored object `h` itself? (`false` if nothing was stored.)
    #[inline]
    pub(crate) fn holds(&'static self, ctx: Context<'_>, h: ffi::HPy) -> bool {
        // SAFETY: reads under the GIL (we hold a context).
        let raw = unsafe { *self.cell.get() };
        raw._i != 0 && crate::impl_::abi::global_is(ctx, raw, h)
    }

    /// Is `h` an instance of the type stored here? (`false` if nothing was stored.) The stored
    /// object must be a type.
    #[inline]
    pub(crate) fn type_check(&'static self, ctx: Context<'_>, h: ffi::HPy) -> bool {
        // SAFETY: reads under the GIL (we hold a context).
        let raw = unsafe { *self.cell.get() };
        raw._i != 0 && crate::impl_::abi::global_type_check(ctx, raw, h)
    }

    /// Has anything been stored?
    pub fn is_set(&'static self, _ctx: Context<'_>) -> bool {
        // SAFETY: as in `load`.
        unsafe { (*self.cell.get())._i != 0 }
    }

    /// The address HPy needs in `HPyModuleDef.globals`.
    #[doc(hidden)]
    pub const fn as_raw_ptr(&'static self) -> *mut ffi::HPyGlobal {
        self.cell.get()
    }
}
