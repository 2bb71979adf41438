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
//! | a global's object as a handle | borrowed in CPython's universal mode, else load … close | borrowed: the global's pointer |
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

    /// The context of CPython's `hpy` universal mode, once [`detect_direct_context`] verified
    /// it: there a handle is its object's address plus one, and so is a global (`handles.h` of
    /// `hpy` 0.9), so a global's number is a valid handle to its object while the global holds
    /// it, and an object's handles are all the same number. Null until then; never a debug or
    /// trace context (their handles are allocated per handle) nor PyPy's (handle tables). One
    /// process can load a module in several modes, so each call compares its own context.
    static DIRECT_CONTEXT: AtomicPtr<ffi::HPyContext> = AtomicPtr::new(core::ptr::null_mut());

    #[inline(always)]
    pub(super) fn direct_context() -> *mut ffi::HPyContext {
        DIRECT_CONTEXT.load(Ordering::Relaxed)
    }

    /// At module exec: remember `ctx` as the direct context if it is CPython's universal one,
    /// by its name and by what its handles and globals do (a global of `None` loads as the
    /// global's own number, which is `h_None`'s; the same for `True`), so that a runtime with
    /// another encoding under the same name is never taken for it.
    ///
    /// # Safety
    /// `ctx` is the context of the current call (module exec), with no exception set.
    pub unsafe fn detect_direct_context(ctx: *mut ffi::HPyContext) {
        // SAFETY: `name` is a NUL-terminated static string in every runtime.
        let name = unsafe { (*ctx).name };
        // SAFETY: as above.
        if name.is_null() || unsafe { core::ffi::CStr::from_ptr(name) } != c"HPy Universal ABI (CPython backend)" {
            return;
        }
        // SAFETY: live context; the local global is filled, loaded and emptied again (in this
        // runtime a global needs no registration); every loaded handle is closed.
        let verified = unsafe {
            [(*ctx).h_None, (*ctx).h_True].into_iter().all(|object| {
                let mut global = ffi::HPyGlobal_NULL;
                ffi::HPyGlobal_Store(ctx, &mut global, object);
                let loaded = ffi::HPyGlobal_Load(ctx, global);
                let same = loaded._i == global._i && loaded._i == object._i;
                ffi::HPy_Close(ctx, loaded);
                ffi::HPyGlobal_Store(ctx, &mut global, ffi::HPy_NULL);
                same
            })
        };
        if verified {
            DIRECT_CONTEXT.store(ctx, Ordering::Relaxed);
        }
    }
}
#[cfg(not(feature = "native"))]
pub use universal::*;

/// A handle to the object a set global holds, valid while the global keeps it (borrowed: never
/// closed), where the context can give one without a call: in the native build always (globals
/// and handles are both the object's address); in the universal build only for the context
/// [`universal::detect_direct_context`] verified, CPython's universal mode. Elsewhere (HPy's
/// debug and trace modes, PyPy) `None`: the global must be loaded and the handle closed.
#[cfg(not(feature = "native"))]
#[inline(always)]
pub(crate) fn borrowed_global(ctx: crate::Context<'_>, global: ffi::HPyGlobal) -> Option<ffi::HPy> {
    (ctx.as_ptr() == universal::direct_context()).then_some(ffi::HPy { _i: global._i })
}

/// Native: the global is the object's pointer, kept alive by the global's reference.
#[cfg(feature = "native")]
#[inline(always)]
pub(crate) fn borrowed_global(_ctx: crate::Context<'_>, global: ffi::HPyGlobal) -> Option<ffi::HPy> {
    Some(ffi::HPy { _i: global._i })
}

/// Does this call's context lend globals as handles (`borrowed_global`)? For the tests: the
/// detection must hold exactly where handles are addresses.
pub fn lends_globals(ctx: crate::Context<'_>) -> bool {
    borrowed_global(ctx, ffi::HPyGlobal { _i: 1 }).is_some()
}

/// `f` of a new handle to the object a set global holds, closed after it (`f` is a context
/// call, which does not unwind).
#[inline(always)]
fn with_loaded_global<R>(ctx: crate::Context<'_>, global: ffi::HPyGlobal, f: impl FnOnce(ffi::HPy) -> R) -> R {
    // SAFETY: live context, a set global; Load returns a new handle, closed here.
    unsafe {
        let loaded = ffi::HPyGlobal_Load(ctx.as_ptr(), global);
        let result = f(loaded);
        ffi::HPy_Close(ctx.as_ptr(), loaded);
        result
    }
}

/// Is the object a global holds (`global`, set) the object of handle `h`?
#[inline]
pub(crate) fn global_is(ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    match borrowed_global(ctx, global) {
        // Where globals can be borrowed, all handles of an object are the same number.
        Some(object) => object._i == h._i,
        // SAFETY: live context, open handles.
        None => with_loaded_global(ctx, global, |object| unsafe { ffi::HPy_Is(ctx.as_ptr(), object, h) != 0 }),
    }
}

/// Is `h`'s object an instance of the type a global holds (`global`, set)?
#[inline]
pub(crate) fn global_type_check(ctx: crate::Context<'_>, global: ffi::HPyGlobal, h: ffi::HPy) -> bool {
    // SAFETY: live context, open handles, `ty` a type; `PyObject_TypeCheck` runs no Python code
    // that could store another object in the global (and drop the type) meanwhile.
    let check = |ty| unsafe { ffi::HPy_TypeCheck(ctx.as_ptr(), h, ty) != 0 };
    match borrowed_global(ctx, global) {
        Some(ty) => check(ty),
        None => with_loaded_global(ctx, global, check),
    }
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

/// Native: nothing to detect (every global can be borrowed, `borrowed_global`).
///
/// # Safety
/// None needed; `unsafe` only to match the universal build's signature.
#[cfg(feature = "native")]
#[inline(always)]
pub unsafe fn detect_direct_context(_ctx: *mut ffi::HPyContext) {}

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
