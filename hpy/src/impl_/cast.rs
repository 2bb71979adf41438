//! Function-pointer casts for `HPyDef`s, as C's `(HPyCFunction)impl` casts.
//!
//! Each function takes exactly one function-pointer type, so only a function of the right
//! signature can be cast: the cast itself is then sound, and HPy calls the function back with
//! the signature stated next to it in the def.

use core::ffi::{c_int, c_void};

use crate::ffi::{self, cpy_PyObject, HPyContext, HPy, HPy_ssize_t};

type Erased = unsafe extern "C" fn() -> *mut c_void;

macro_rules! casts {
    ($($(#[$doc:meta])* $name:ident: [$ty:ty] => $target:ty;)*) => {$(
        $(#[$doc])*
        #[inline]
        #[allow(clippy::useless_transmute)] // `cpy_fastcall` already has the target type
        pub const fn $name(f: $ty) -> Option<$target> {
            // SAFETY: a function pointer to a function pointer of another signature (same size);
            // the runtime calls it back with its real signature.
            Some(unsafe { core::mem::transmute::<$ty, $target>(f) })
        }
    )*};
}

casts! {
    /// `HPyFunc_NOARGS`
    noargs: [unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy] => Erased;
    /// `HPyFunc_O`
    o: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy) -> HPy] => Erased;
    /// `HPyFunc_VARARGS`
    varargs: [unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, usize) -> HPy] => Erased;
    /// `HPyFunc_KEYWORDS`
    keywords: [unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, usize, HPy) -> HPy] => Erased;
    /// `HPyFunc_INQUIRY`
    inquiry: [unsafe extern "C" fn(*mut HPyContext, HPy) -> c_int] => Erased;
    /// `HPyFunc_UNARYFUNC` / `REPRFUNC`
    unary: [unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy] => Erased;
    /// `HPyFunc_BINARYFUNC`
    binary: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy) -> HPy] => Erased;
    /// `HPyFunc_TERNARYFUNC`
    ternary: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy, HPy) -> HPy] => Erased;
    /// `HPyFunc_LENFUNC`
    lenfunc: [unsafe extern "C" fn(*mut HPyContext, HPy) -> HPy_ssize_t] => Erased;
    /// `HPyFunc_HASHFUNC`
    hashfunc: [unsafe extern "C" fn(*mut HPyContext, HPy) -> ffi::HPy_hash_t] => Erased;
    /// `HPyFunc_RICHCMPFUNC`
    richcmp: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy, ffi::HPy_RichCmpOp) -> HPy] => Erased;
    /// `HPyFunc_SSIZEARGFUNC`
    ssizearg: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy_ssize_t) -> HPy] => Erased;
    /// `HPyFunc_OBJOBJARGPROC`
    objobjarg: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy, HPy) -> c_int] => Erased;
    /// `HPyFunc_OBJOBJPROC`
    objobj: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy) -> c_int] => Erased;
    /// `HPyFunc_GETTER`
    getter: [unsafe extern "C" fn(*mut HPyContext, HPy, *mut c_void) -> HPy] => Erased;
    /// `HPyFunc_SETTER`
    setter: [unsafe extern "C" fn(*mut HPyContext, HPy, HPy, *mut c_void) -> c_int] => Erased;
    /// `HPyFunc_DESTRUCTOR` (`tp_finalize`)
    destructor: [unsafe extern "C" fn(*mut HPyContext, HPy)] => Erased;
    /// `HPyFunc_NEWFUNC`
    newfunc: [unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, HPy_ssize_t, HPy) -> HPy] => Erased;
    /// `HPyFunc_INITPROC`
    initproc: [unsafe extern "C" fn(*mut HPyContext, HPy, *const HPy, HPy_ssize_t, HPy) -> c_int] => Erased;
    /// `HPyFunc_DESTROYFUNC` (`tp_destroy`)
    destroyfunc: [unsafe extern "C" fn(*mut c_void)] => Erased;
    /// `HPyFunc_TRAVERSEPROC`
    traverseproc: [unsafe extern "C" fn(*mut c_void, ffi::HPyFunc_visitproc, *mut c_void) -> c_int] => Erased;

    /// CPython METH_FASTCALL trampoline (already the `cpy_PyCFunction` type).
    cpy_fastcall: [unsafe extern "C" fn(*mut cpy_PyObject, *const *mut cpy_PyObject, HPy_ssize_t) -> *mut cpy_PyObject]
        => super::CpyFastcall;
    /// CPython METH_NOARGS / METH_O trampoline.
    cpy_two_args: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject] => super::CpyFastcall;
    /// CPython METH_FASTCALL|METH_KEYWORDS (and vectorcall) trampoline.
    cpy_keywords: [unsafe extern "C" fn(*mut cpy_PyObject, *const *mut cpy_PyObject, usize, *mut cpy_PyObject) -> *mut cpy_PyObject]
        => super::CpyFastcall;
    /// CPython `inquiry` slot trampoline.
    cpy_inquiry: [unsafe extern "C" fn(*mut cpy_PyObject) -> c_int] => super::CpyFastcall;
    /// CPython `unaryfunc`/`reprfunc` slot trampoline.
    cpy_unary: [unsafe extern "C" fn(*mut cpy_PyObject) -> *mut cpy_PyObject] => super::CpyFastcall;
    /// CPython `binaryfunc` slot trampoline.
    cpy_binary: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject] => super::CpyFastcall;
    /// CPython `ternaryfunc` slot trampoline.
    cpy_ternary: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject]
        => super::CpyFastcall;
    /// CPython `lenfunc` slot trampoline.
    cpy_lenfunc: [unsafe extern "C" fn(*mut cpy_PyObject) -> HPy_ssize_t] => super::CpyFastcall;
    /// CPython `hashfunc` slot trampoline.
    cpy_hashfunc: [unsafe extern "C" fn(*mut cpy_PyObject) -> ffi::HPy_hash_t] => super::CpyFastcall;
    /// CPython `richcmpfunc` slot trampoline.
    cpy_richcmp: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject, c_int) -> *mut cpy_PyObject] => super::CpyFastcall;
    /// CPython `ssizeargfunc` slot trampoline.
    cpy_ssizearg: [unsafe extern "C" fn(*mut cpy_PyObject, HPy_ssize_t) -> *mut cpy_PyObject] => super::CpyFastcall;
    /// CPython `objobjargproc` slot trampoline.
    cpy_objobjarg: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject, *mut cpy_PyObject) -> c_int] => super::CpyFastcall;
    /// CPython `objobjproc` slot trampoline.
    cpy_objobj: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> c_int] => super::CpyFastcall;
    /// CPython `destructor` (`tp_finalize`) slot trampoline.
    cpy_destructor: [unsafe extern "C" fn(*mut cpy_PyObject)] => super::CpyFastcall;
    /// CPython `newfunc` slot trampoline.
    cpy_newfunc: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject]
        => super::CpyFastcall;
    /// CPython `initproc` slot trampoline.
    cpy_initproc: [unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject, *mut cpy_PyObject) -> c_int] => super::CpyFastcall;
    /// CPython `traverseproc` slot trampoline.
    cpy_traverseproc: [unsafe extern "C" fn(*mut cpy_PyObject, ffi::cpy_visitproc, *mut c_void) -> c_int] => super::CpyFastcall;
    /// The `tp_destroy` "trampoline": HPy never calls it (destroy runs from HPy's own dealloc).
    cpy_never_called: [unsafe extern "C" fn()] => super::CpyFastcall;
}
