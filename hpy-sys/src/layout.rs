//! Where the runtime keeps the members of [`HPyContext`] that come after `h_Builtins`.
//!
//! Every runtime that reports ABI 0.0 is meant to lay the context out as HPy 0.9.0 does, and
//! CPython's `hpy` runtime and PyPy 3.9/3.10 do. PyPy 3.11 does not: its HPy (a snapshot of HPy
//! master, `0.9.1.dev61`) has one more handle, `h_DictType`, and PyPy commit 7fb9977fde8
//! ("implement missing hpy interfaces", first released in PyPy 7.3.19, unchanged through 7.3.23)
//! put it right after `h_Builtins` instead of after the last 0.9.0 member, still as ABI 0.0. So
//! on PyPy 3.11 each of the 19 functions after `h_Builtins` (`ctx_Capsule_New` ...
//! `ctx_CallMethod`) sits one handle further on: read at its 0.9.0 offset, `ctx_Call` is
//! `ctx_SetCallFunction` and `ctx_Type_GetName` is `ctx_ContextVar_Set`. The members before it
//! are where 0.9.0 has them in every mode (universal, debug and trace contexts are all built from
//! the same struct), so only that tail needs a second look.
//!
//! The wrappers of those 19 functions in [`crate::api`] find them through [`tail`](crate::layout::tail), which applies
//! the offset of the runtime this process runs on. The layout is a fact about the process, not
//! about one context, so it is kept in a static; the context itself is never stored.
//! [`detect`](crate::layout::detect) decides it from the first context it is given: the generated module-exec
//! function of every `hpy` module calls it, so it is settled before any module code runs, and
//! [`tail`](crate::layout::tail) calls it itself if nobody did.
use crate::{HPy, HPyContext, HPyContextTail};
use core::ffi::CStr;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU8, Ordering};

/// The context tail is where HPy 0.9.0 has it.
const HPY_0_9: u8 = 1;
/// PyPy 3.11: one `HPy` (`h_DictType`) between `h_Builtins` and the tail.
const PYPY_3_11: u8 = 2;

/// 0 until [`detect`] has run.
static LAYOUT: AtomicU8 = AtomicU8::new(0);

// The tail struct is exactly the end of the 0.9.0 context.
const _: () = assert!(
    offset_of!(HPyContext, ctx_Capsule_New) + size_of::<HPyContextTail>() == size_of::<HPyContext>()
);
const _: () = assert!(
    offset_of!(HPyContext, ctx_CallMethod)
        == offset_of!(HPyContext, ctx_Capsule_New) + offset_of!(HPyContextTail, ctx_CallMethod)
);

/// The members after `h_Builtins` of `ctx`, wherever this runtime puts them.
///
/// # Safety
/// `ctx` must be the context passed to the current call.
#[inline(always)]
pub unsafe fn tail(ctx: *mut HPyContext) -> *const HPyContextTail {
    let mut layout = LAYOUT.load(Ordering::Relaxed);
    if layout == 0 {
        // SAFETY: forwarded from the caller.
        layout = unsafe { detect(ctx) };
    }
    // SAFETY: the caller guarantees `ctx` points to a live context; the field is in bounds.
    let start = unsafe { core::ptr::addr_of!((*ctx).ctx_Capsule_New) }.cast::<u8>();
    let shift = if layout == PYPY_3_11 { size_of::<HPy>() } else { 0 };
    // SAFETY: PyPy 3.11's context is one `HPy` longer than 0.9.0's, so the shifted tail is
    // still inside it.
    unsafe { start.add(shift).cast::<HPyContextTail>() }
}

/// Decides where this runtime keeps the context tail (see the module docs) and remembers it
/// for the process. Returns the layout; cheap after the first call. Calls Python (`sys`) only
/// when the context's name says PyPy. Must not be called with an exception set.
///
/// # Safety
/// `ctx` must be the context passed to the current call.
#[cold]
#[inline(never)]
pub unsafe fn detect(ctx: *mut HPyContext) -> u8 {
    let known = LAYOUT.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    // SAFETY: forwarded from the caller.
    let layout = if unsafe { is_pypy(ctx) && python_minor_version(ctx) >= Some(11) } {
        PYPY_3_11
    } else {
        HPY_0_9
    };
    LAYOUT.store(layout, Ordering::Relaxed);
    layout
}

/// Whether the tail is shifted (PyPy 3.11), once [`detect`] has run.
pub fn is_shifted() -> bool {
    LAYOUT.load(Ordering::Relaxed) == PYPY_3_11
}

/// PyPy names its contexts "HPy Universal ABI (PyPy backend)", "HPy Debug Mode ABI (PyPy
/// backend)", ...; CPython's runtime "HPy Universal ABI (CPython backend)", "HPy Debug Mode ABI".
unsafe fn is_pypy(ctx: *mut HPyContext) -> bool {
    // SAFETY: `name` is a NUL-terminated static string in every runtime.
    let name = unsafe { (*ctx).name };
    // SAFETY: as above.
    !name.is_null() && unsafe { CStr::from_ptr(name) }.to_bytes().windows(4).any(|w| w == b"PyPy")
}

/// `sys.version_info[1]`, or `None` (with no exception left set) if it cannot be read.
unsafe fn python_minor_version(ctx: *mut HPyContext) -> Option<i64> {
    use crate::api::*;
    // SAFETY: only 0.9.0 members before `h_Builtins` are used; every handle made is closed.
    unsafe {
        let sys = HPyImport_ImportModule(ctx, c"sys".as_ptr());
        let mut minor = None;
        if !crate::HPy_IsNull(sys) {
            let info = HPy_GetAttr_s(ctx, sys, c"version_info".as_ptr());
            if !crate::HPy_IsNull(info) {
                let item = HPy_GetItem_i(ctx, info, 1);
                if !crate::HPy_IsNull(item) {
                    let value = HPyLong_AsInt64_t(ctx, item);
                    if HPyErr_Occurred(ctx) == 0 {
                        minor = Some(value);
                    }
                    HPy_Close(ctx, item);
                }
                HPy_Close(ctx, info);
            }
            HPy_Close(ctx, sys);
        }
        if HPyErr_Occurred(ctx) != 0 {
            HPyErr_Clear(ctx);
        }
        minor
    }
}
