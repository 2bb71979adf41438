//! What differs between the universal and the native build, in the `hpy` crate: the context the
//! CPython trampolines pass on, and the entry points a module exports. Everything else in
//! `hpy` is the same code for both: the difference in the context functions themselves lives in
//! `hpy-sys` (`api` against `native`).
//!
//! | | universal (default) | native (feature `native`) |
//! |---|---|---|
//! | loaded by | `hpy.universal` (`<name>.hpy0.so` + loader stub) | CPython's import (`<name>.cpython-3XY-....so`) |
//! | exports | `HPyInit_<name>`, `HPyInitGlobalContext_<name>`, the two version getters | `PyInit_<name>` (multi-phase) |
//! | trampoline context | the one `hpy.universal` hands over at load time | the static native context |
//! | modes | universal, debug, trace | none: the C API itself |
//! | a global's object against a handle | load, compare, close | one pointer comparison |
//! | an instance check against a global's type | load, check, close | the check on the global's pointer |
//! | `__iter__` / `__next__` | methods made slots after creation | `tp_iter` / `tp_iternext` |

use crate::ffi;

/// Does `HPyType_FromSpec` take CPython's `tp_iter`/`tp_iternext` slots
/// ([`super::protocols::TP_ITER`])? HPy 0.9 has none, so the universal build defines
/// `__iter__` and `__next__` as methods and makes them slots after creation
/// ([`super::protocols::install`]); the native build hands the slots to CPython directly.
pub const HAS_ITER_SLOTS: bool = cfg!(feature = "native");

#[cfg(not(feature = "native"))]
mod universal {
    use super::ffi;
    use core::sync::atomic::{AtomicPtr, Ordering};

    /// The context `hpy.universal` handed to the module at load time (`HPyInitGlobalContext_<m>`).
    /// Only the CPython trampolines read it, to call back into the runtime; Rust code always
    /// uses the context of its own call.
    static TRAMPOLINE_CONTEXT: AtomicPtr<ffi::HPyContext> = AtomicPtr::new(core::ptr::null_mut());

    /// Store the load-time context (called by the exported `HPyInitGlobalContext_<m>`).
    ///
    /// # Safety
    /// `ctx` is the context `hpy.universal` passes to `HPyInitGlobalContext_<m>`: valid for as
    /// long as the module is loaded.
    pub unsafe fn set_trampoline_context(ctx: *mut ffi::HPyContext) {
        TRAMPOLINE_CONTEXT.store(ctx, Ordering::Release);
    }

    /// The load-time context, for CPython trampolines only.
    #[inline]
    pub fn trampoline_context() -> *mut ffi::HPyContext {
        TRAMPOLINE_CONTEXT.load(Ordering::Acquire)
    }
}
#[cfg(not(feature = "native"))]
pub use universal::*;

/// Is the object a global holds (`global`, set) the object of handle `h`? Universal: HPy has no
/// such query, so the global is loaded, compared and closed.
#[cfg(not(feature = "native"))]
#[inline]
pub(crate) fn global_is(ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    // SAFETY: live context, a set global; Load returns a new handle, closed here.
    unsafe {
        let loaded = ffi::HPyGlobal_Load(ctx.as_ptr(), global);
        let same = ffi::HPy_Is(ctx.as_ptr(), loaded, h) != 0;
        ffi::HPy_Close(ctx.as_ptr(), loaded);
        same
    }
}

/// Native: a global and a handle are both the object's pointer.
#[cfg(feature = "native")]
#[inline(always)]
pub(crate) fn global_is(_ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    global._i == h._i
}

/// Is `h`'s object an instance of the type a global holds (`global`, set)? Universal: the
/// global is loaded, checked against and closed.
#[cfg(not(feature = "native"))]
#[inline]
pub(crate) fn global_type_check(ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    // SAFETY: live context, a set global holding a type; Load returns a new handle, closed here.
    unsafe {
        let ty = ffi::HPyGlobal_Load(ctx.as_ptr(), global);
        let is = ffi::HPy_TypeCheck(ctx.as_ptr(), h, ty) != 0;
        ffi::HPy_Close(ctx.as_ptr(), ty);
        is
    }
}

/// Native: the global is the type's pointer, used as it is (no new reference). The global
/// keeps the type alive during the check, and `PyObject_TypeCheck` runs no Python code that
/// could store another object in the global meanwhile.
#[cfg(feature = "native")]
#[inline(always)]
pub(crate) fn global_type_check(ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    // SAFETY: live context; the set global holds a strong reference to the type, which stays
    // alive for the duration of the check (see above).
    unsafe { ffi::HPy_TypeCheck(ctx.as_ptr(), h, ffi::HPy { _i: global._i }) != 0 }
}

/// Take the pending exception out of the interpreter, if the build can do it directly (a new
/// handle to the exception object). Universal: HPy 0.9 cannot; `err` takes it another way.
#[cfg(not(feature = "native"))]
#[inline]
pub(crate) fn fetch_raised(_ctx: crate::Context<'_>) -> Option<ffi::HPy> {
    None
}

/// Native: `PyErr_Fetch`, normalized (`None` only if nothing was pending).
#[cfg(feature = "native")]
#[inline]
pub(crate) fn fetch_raised(ctx: crate::Context<'_>) -> Option<ffi::HPy> {
    // SAFETY: live context (the GIL is held).
    let raw = unsafe { ffi::hpyrs_Err_Fetch(ctx.as_ptr()) };
    (raw._i != 0).then_some(raw)
}

/// The context of the native build, for CPython trampolines: a constant.
#[cfg(feature = "native")]
#[inline(always)]
pub fn trampoline_context() -> *mut ffi::HPyContext {
    ffi::native_context()
}

/// `PyInit_<name>` of the native build: the module definition for CPython's multi-phase
/// initialisation, made once per process and cached in `cache`.
#[cfg(feature = "native")]
pub fn module_init(
    def: &'static ffi::HPyModuleDef,
    name: &'static core::ffi::CStr,
    cache: &'static core::sync::atomic::AtomicPtr<ffi::py::PyModuleDef>,
) -> *mut ffi::py::PyObject {
    // SAFETY: called from `PyInit_<name>`, by CPython's import with the GIL held; `def` is the
    // module's static definition.
    unsafe { ffi::HPyModule_Init(def, name, cache) }
}

/// Export the entry points of module `$name`: the four `hpy.universal` looks up, or, in the
/// native build, `PyInit_<name>`. The arguments are the same for both, so the output of
/// `#[hpy::module]` does not depend on the build.
#[cfg(not(feature = "native"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_export_module {
    ($major:literal, $minor:literal, $init_ctx:literal, $init:literal, $pyinit:literal, $name:literal, $def:path, $stubs:path) => {
        const _: () = {
            #[export_name = $major]
            pub extern "C" fn __hpy_required_major_version() -> u32 {
                $crate::ffi::HPY_ABI_VERSION
            }
            #[export_name = $minor]
            pub extern "C" fn __hpy_required_minor_version() -> u32 {
                $crate::ffi::HPY_ABI_VERSION_MINOR
            }
            #[export_name = $init_ctx]
            pub extern "C" fn __hpy_init_global_context(ctx: *mut $crate::ffi::HPyContext) {
                // SAFETY: called by `hpy.universal` with the module's load-time context.
                unsafe { $crate::impl_::abi::set_trampoline_context(ctx) }
            }
            #[export_name = $init]
            pub extern "C" fn __hpy_init() -> *mut $crate::ffi::HPyModuleDef {
                // A use of the stubs, so that the linker keeps their section in the binary.
                ::core::hint::black_box(&$stubs);
                // HPy only reads the definition; `*mut` is C's signature.
                &$def as *const $crate::ffi::HPyModuleDef as *mut $crate::ffi::HPyModuleDef
            }
        };
    };
}

/// See the universal variant above.
#[cfg(feature = "native")]
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_export_module {
    ($major:literal, $minor:literal, $init_ctx:literal, $init:literal, $pyinit:literal, $name:literal, $def:path, $stubs:path) => {
        const _: () = {
            #[export_name = $pyinit]
            pub extern "C" fn __hpy_pyinit() -> *mut $crate::ffi::py::PyObject {
                ::core::hint::black_box(&$stubs);
                static CACHE: ::core::sync::atomic::AtomicPtr<$crate::ffi::py::PyModuleDef> =
                    ::core::sync::atomic::AtomicPtr::new(::core::ptr::null_mut());
                $crate::impl_::abi::module_init(&$def, $name, &CACHE)
            }
        };
    };
}
