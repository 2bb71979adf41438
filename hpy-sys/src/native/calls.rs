//! Every context function of the universal [`api`](../../api/index.html), under the same name
//! and signature, implemented on the CPython C API as HPy's CPython ABI does
//! (`hpy/cpython/autogen_api_impl.h`, `hpy/cpython/misc.h` and the `ctx_*.c` runtime helpers).
//!
//! A handle is the `PyObject*` itself and carries the same reference (new or borrowed) that the
//! C API call returned or received, so most functions are the C call between [`h2py`] and
//! [`py2h`]. The `ctx` argument is ignored. The functions on types, object structs and
//! trampolines live in [`types`](super::types) and [`trampolines`](super::trampolines).
use core::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::{cpy2py, h2py, limited, py, py2cpy, py2h};
use crate::types::*;
use crate::{HPyContext, HPy_NULL};

// ---- families: one C API call between handle conversions ----

/// Functions whose arguments are all handles and whose result is the new reference the C call
/// returns (NULL, i.e. `HPy_NULL`, with an exception set on failure).
macro_rules! objects {
    ($($name:ident($($arg:ident),+) => $cfn:ident;)*) => {$(
        #[doc = concat!("C `", stringify!($name), "`: `", stringify!($cfn), "`, a new handle.")]
        #[inline]
        pub unsafe fn $name(_ctx: *mut HPyContext, $($arg: HPy),+) -> HPy {
            // SAFETY: the caller passes live handles, i.e. valid object pointers (or NULL
            // where the C function accepts it), and holds the GIL.
            unsafe { py2h(py::$cfn($(h2py($arg)),+)) }
        }
    )*};
}

/// Functions whose arguments are all handles and whose result is a plain value, returned
/// unchanged (the C call's error value with an exception set on failure).
macro_rules! values {
    ($($name:ident($($arg:ident),+) -> $ret:ty => $cfn:ident;)*) => {$(
        #[doc = concat!("C `", stringify!($name), "`: `", stringify!($cfn), "`.")]
        #[inline]
        pub unsafe fn $name(_ctx: *mut HPyContext, $($arg: HPy),+) -> $ret {
            // SAFETY: the caller passes live handles, i.e. valid object pointers, and holds
            // the GIL.
            unsafe { py::$cfn($(h2py($arg)),+) }
        }
    )*};
}

/// Functions of one C string that return a new reference.
macro_rules! from_cstr {
    ($($name:ident($arg:ident) => $cfn:ident;)*) => {$(
        #[doc = concat!("C `", stringify!($name), "`: `", stringify!($cfn), "`, a new handle.")]
        #[inline]
        pub unsafe fn $name(_ctx: *mut HPyContext, $arg: *const c_char) -> HPy {
            // SAFETY: the caller passes a NUL-terminated string and holds the GIL.
            unsafe { py2h(py::$cfn($arg)) }
        }
    )*};
}

objects! {
    HPy_Add(h1, h2) => PyNumber_Add;
    HPy_Subtract(h1, h2) => PyNumber_Subtract;
    HPy_Multiply(h1, h2) => PyNumber_Multiply;
    HPy_MatrixMultiply(h1, h2) => PyNumber_MatrixMultiply;
    HPy_FloorDivide(h1, h2) => PyNumber_FloorDivide;
    HPy_TrueDivide(h1, h2) => PyNumber_TrueDivide;
    HPy_Remainder(h1, h2) => PyNumber_Remainder;
    HPy_Divmod(h1, h2) => PyNumber_Divmod;
    HPy_Power(h1, h2, h3) => PyNumber_Power;
    HPy_Lshift(h1, h2) => PyNumber_Lshift;
    HPy_Rshift(h1, h2) => PyNumber_Rshift;
    HPy_And(h1, h2) => PyNumber_And;
    HPy_Xor(h1, h2) => PyNumber_Xor;
    HPy_Or(h1, h2) => PyNumber_Or;

    HPy_InPlaceAdd(h1, h2) => PyNumber_InPlaceAdd;
    HPy_InPlaceSubtract(h1, h2) => PyNumber_InPlaceSubtract;
    HPy_InPlaceMultiply(h1, h2) => PyNumber_InPlaceMultiply;
    HPy_InPlaceMatrixMultiply(h1, h2) => PyNumber_InPlaceMatrixMultiply;
    HPy_InPlaceFloorDivide(h1, h2) => PyNumber_InPlaceFloorDivide;
    HPy_InPlaceTrueDivide(h1, h2) => PyNumber_InPlaceTrueDivide;
    HPy_InPlaceRemainder(h1, h2) => PyNumber_InPlaceRemainder;
    HPy_InPlacePower(h1, h2, h3) => PyNumber_InPlacePower;
    HPy_InPlaceLshift(h1, h2) => PyNumber_InPlaceLshift;
    HPy_InPlaceRshift(h1, h2) => PyNumber_InPlaceRshift;
    HPy_InPlaceAnd(h1, h2) => PyNumber_InPlaceAnd;
    HPy_InPlaceXor(h1, h2) => PyNumber_InPlaceXor;
    HPy_InPlaceOr(h1, h2) => PyNumber_InPlaceOr;

    HPy_Negative(h1) => PyNumber_Negative;
    HPy_Positive(h1) => PyNumber_Positive;
    HPy_Absolute(h1) => PyNumber_Absolute;
    HPy_Invert(h1) => PyNumber_Invert;
    HPy_Index(h1) => PyNumber_Index;
    HPy_Long(h1) => PyNumber_Long;
    HPy_Float(h1) => PyNumber_Float;

    HPy_GetAttr(obj, name) => PyObject_GetAttr;
    HPy_GetItem(obj, key) => PyObject_GetItem;
    // `PyObject_Type` is `Py_TYPE` plus a new reference, as HPy_Type's result must be.
    HPy_Type(obj) => PyObject_Type;
    HPy_Repr(obj) => PyObject_Repr;
    HPy_Str(obj) => PyObject_Str;
    HPy_ASCII(obj) => PyObject_ASCII;
    HPy_Bytes(obj) => PyObject_Bytes;
    HPy_EvalCode(code, globals, locals) => PyEval_EvalCode;

    HPyUnicode_AsASCIIString(h) => PyUnicode_AsASCIIString;
    HPyUnicode_AsLatin1String(h) => PyUnicode_AsLatin1String;
    HPyUnicode_AsUTF8String(h) => PyUnicode_AsUTF8String;
    HPyUnicode_EncodeFSDefault(h) => PyUnicode_EncodeFSDefault;
    HPyDict_Keys(h) => PyDict_Keys;
    HPyDict_Copy(h) => PyDict_Copy;
}

values! {
    HPyLong_AsSize_t(h) -> usize => PyLong_AsSize_t;
    HPyLong_AsSsize_t(h) -> HPy_ssize_t => PyLong_AsSsize_t;
    HPyLong_AsVoidPtr(h) -> *mut c_void => PyLong_AsVoidPtr;
    HPyLong_AsDouble(h) -> f64 => PyLong_AsDouble;
    HPyLong_AsInt64_t(h) -> i64 => PyLong_AsLongLong;
    HPyLong_AsUInt64_t(h) -> u64 => PyLong_AsUnsignedLongLong;
    HPyLong_AsUInt64_tMask(h) -> u64 => PyLong_AsUnsignedLongLongMask;
    HPyFloat_AsDouble(h) -> f64 => PyFloat_AsDouble;
    HPy_Length(h) -> HPy_ssize_t => PyObject_Length;
    HPy_Hash(obj) -> HPy_hash_t => PyObject_Hash;
    HPy_IsTrue(h) -> c_int => PyObject_IsTrue;
    HPyBytes_Size(h) -> HPy_ssize_t => PyBytes_Size;
    HPyBytes_AsString(h) -> *const c_char => PyBytes_AsString;
    // pyo3-ffi has no `PyBytes_GET_SIZE`: that macro is `Py_SIZE` of a bytes object (the
    // `PyVarObject` header, part of the stable ABI).
    HPyBytes_GET_SIZE(h) -> HPy_ssize_t => Py_SIZE;

    HPyNumber_Check(h) -> c_int => PyNumber_Check;
    HPyCallable_Check(h) -> c_int => PyCallable_Check;
    HPyBytes_Check(h) -> c_int => PyBytes_Check;
    HPyUnicode_Check(h) -> c_int => PyUnicode_Check;
    HPyList_Check(h) -> c_int => PyList_Check;
    HPyDict_Check(h) -> c_int => PyDict_Check;
    HPyTuple_Check(h) -> c_int => PyTuple_Check;

    HPy_HasAttr(obj, name) -> c_int => PyObject_HasAttr;
    HPy_SetAttr(obj, name, value) -> c_int => PyObject_SetAttr;
    HPy_SetItem(obj, key, value) -> c_int => PyObject_SetItem;
    HPy_DelItem(obj, key) -> c_int => PyObject_DelItem;
    HPy_Contains(container, key) -> c_int => PySequence_Contains;
    HPyList_Append(h_list, h_item) -> c_int => PyList_Append;
    HPyErr_ExceptionMatches(exc) -> c_int => PyErr_ExceptionMatches;
}

from_cstr! {
    HPyBytes_FromString(bytes) => PyBytes_FromString;
    HPyUnicode_FromString(utf8) => PyUnicode_FromString;
    HPyUnicode_DecodeFSDefault(v) => PyUnicode_DecodeFSDefault;
    HPyImport_ImportModule(utf8_name) => PyImport_ImportModule;
}

/// C `HPyBytes_AS_STRING`: the `PyBytes_AS_STRING` macro (`PyBytes_AsString` in the stable
/// ABI build, [`limited::bytes_as_string`]).
#[inline]
pub unsafe fn HPyBytes_AS_STRING(_ctx: *mut HPyContext, h: HPy) -> *const c_char {
    // SAFETY: `h` is a live bytes object; the GIL is held.
    unsafe { limited::bytes_as_string(h2py(h)) }
}

// ---- handles ----

/// C `HPy_Dup`: `Py_XINCREF`; the duplicate is the same pointer.
#[inline]
pub unsafe fn HPy_Dup(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: `h` is a live handle or HPy_NULL; the caller holds the GIL.
    unsafe { py::Py_XINCREF(h2py(h)) };
    h
}

/// C `HPy_Close`: `Py_XDECREF`.
#[inline]
pub unsafe fn HPy_Close(_ctx: *mut HPyContext, h: HPy) {
    // SAFETY: `h` is a live handle the caller owns (or HPy_NULL); the caller holds the GIL.
    unsafe { py::Py_XDECREF(h2py(h)) }
}

/// C `HPy_Is`: pointer equality (a handle is the object pointer).
#[inline]
pub unsafe fn HPy_Is(_ctx: *mut HPyContext, obj: HPy, other: HPy) -> c_int {
    c_int::from(obj._i == other._i)
}

/// C `HPy_TypeCheck`: `PyObject_TypeCheck`.
#[inline]
pub unsafe fn HPy_TypeCheck(_ctx: *mut HPyContext, obj: HPy, r#type: HPy) -> c_int {
    // SAFETY: live handles; `type` is a type object, as HPy requires.
    unsafe { py::PyObject_TypeCheck(h2py(obj), h2py(r#type).cast()) }
}

/// C `HPyType_IsSubtype`: `PyType_IsSubtype`.
#[inline]
pub unsafe fn HPyType_IsSubtype(_ctx: *mut HPyContext, sub: HPy, r#type: HPy) -> c_int {
    // SAFETY: both handles are live type objects, as HPy requires.
    unsafe { py::PyType_IsSubtype(h2py(sub).cast(), h2py(r#type).cast()) }
}

/// C `HPy_FromPyObject`: the same pointer, with a new reference (`Py_XINCREF`).
#[inline]
pub unsafe fn HPy_FromPyObject(_ctx: *mut HPyContext, obj: *mut cpy_PyObject) -> HPy {
    let o = cpy2py(obj);
    // SAFETY: `obj` is a valid object pointer or NULL; the caller holds the GIL.
    unsafe { py::Py_XINCREF(o) };
    py2h(o)
}

/// C `HPy_AsPyObject`: the same pointer, with a new reference (`Py_XINCREF`).
#[inline]
pub unsafe fn HPy_AsPyObject(_ctx: *mut HPyContext, h: HPy) -> *mut cpy_PyObject {
    let o = h2py(h);
    // SAFETY: `h` is a live handle or HPy_NULL; the caller holds the GIL.
    unsafe { py::Py_XINCREF(o) };
    py2cpy(o)
}

/// C `HPyField_Store`: the field holds a strong reference; the old one is released after the
/// new one is stored.
#[inline]
pub unsafe fn HPyField_Store(_ctx: *mut HPyContext, _target_object: HPy, target_field: *mut HPyField, h: HPy) {
    let new = h2py(h);
    // SAFETY: `target_field` points to a field of a live object; `h` is live or HPy_NULL.
    // The old value is released last, so code its deallocation runs sees the new value.
    unsafe {
        let old = (*target_field)._i as *mut py::PyObject;
        py::Py_XINCREF(new);
        (*target_field)._i = new as isize;
        py::Py_XDECREF(old);
    }
}

/// C `HPyField_Load`: a new reference to the field's object. HPy's `Py_INCREF` is a
/// `Py_XINCREF` here, so an empty field gives `HPy_NULL` instead of a crash.
#[inline]
pub unsafe fn HPyField_Load(_ctx: *mut HPyContext, _source_object: HPy, source_field: HPyField) -> HPy {
    let o = source_field._i as *mut py::PyObject;
    // SAFETY: a stored field holds a strong reference, so `o` is live (or NULL).
    unsafe { py::Py_XINCREF(o) };
    py2h(o)
}

/// C `HPyGlobal_Store`: the global holds a strong reference. HPy releases the old reference
/// before it stores the new one; here it is released last, as in [`HPyField_Store`], so that
/// the old object's deallocation never sees a dangling global.
#[inline]
pub unsafe fn HPyGlobal_Store(_ctx: *mut HPyContext, global: *mut HPyGlobal, h: HPy) {
    let new = h2py(h);
    // SAFETY: `global` points to the module's global; `h` is live or HPy_NULL.
    unsafe {
        let old = (*global)._i as *mut py::PyObject;
        py::Py_XINCREF(new);
        (*global)._i = new as isize;
        py::Py_XDECREF(old);
    }
}

/// C `HPyGlobal_Load`: a new reference to the global's object (`HPy_NULL` if it holds none).
#[inline]
pub unsafe fn HPyGlobal_Load(_ctx: *mut HPyContext, global: HPyGlobal) -> HPy {
    let o = global._i as *mut py::PyObject;
    // SAFETY: a stored global holds a strong reference, so `o` is live (or NULL).
    unsafe { py::Py_XINCREF(o) };
    py2h(o)
}

// ---- numbers ----

/// C `HPyLong_FromInt32_t`: `PyLong_FromLong` (a C `long` holds every `int32_t`).
#[inline]
pub unsafe fn HPyLong_FromInt32_t(_ctx: *mut HPyContext, value: i32) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromLong(c_long::from(value))) }
}

/// C `HPyLong_FromUInt32_t`: `PyLong_FromUnsignedLong`.
#[inline]
pub unsafe fn HPyLong_FromUInt32_t(_ctx: *mut HPyContext, value: u32) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromUnsignedLong(c_ulong::from(value))) }
}

/// C `HPyLong_FromInt64_t`: `PyLong_FromLongLong`.
#[inline]
pub unsafe fn HPyLong_FromInt64_t(_ctx: *mut HPyContext, v: i64) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromLongLong(v)) }
}

/// C `HPyLong_FromUInt64_t`: `PyLong_FromUnsignedLongLong`.
#[inline]
pub unsafe fn HPyLong_FromUInt64_t(_ctx: *mut HPyContext, v: u64) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromUnsignedLongLong(v)) }
}

/// C `HPyLong_FromSize_t`: `PyLong_FromSize_t`.
#[inline]
pub unsafe fn HPyLong_FromSize_t(_ctx: *mut HPyContext, value: usize) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromSize_t(value)) }
}

/// C `HPyLong_FromSsize_t`: `PyLong_FromSsize_t`.
#[inline]
pub unsafe fn HPyLong_FromSsize_t(_ctx: *mut HPyContext, value: HPy_ssize_t) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyLong_FromSsize_t(value)) }
}

/// C `HPyLong_AsInt32_t`: `PyLong_AsLong`, then, where `long` is wider than 32 bits, HPy's
/// range check (`ctx_long.c`): a value outside `int32_t` raises OverflowError and gives -1.
#[inline]
pub unsafe fn HPyLong_AsInt32_t(_ctx: *mut HPyContext, h: HPy) -> i32 {
    // SAFETY: `h` is a live handle; the caller holds the GIL.
    let v = unsafe { py::PyLong_AsLong(h2py(h)) };
    // The error value -1 (exception already set) fits, and passes through.
    match i32::try_from(v) {
        Ok(v) => v,
        Err(_) => {
            // SAFETY: static message, live exception type; the GIL is held.
            unsafe {
                py::PyErr_SetString(py::PyExc_OverflowError, c"Python int too large to convert to C int32_t".as_ptr())
            };
            -1
        }
    }
}

/// C `HPyLong_AsUInt32_t`: `PyLong_AsUnsignedLong`, then HPy's range check (OverflowError and
/// `(uint32_t)-1` outside `uint32_t`). Unlike `ctx_long.c`, an error `PyLong_AsUnsignedLong`
/// already raised (negative value, not an int) is kept rather than replaced by "too large":
/// its error value `(unsigned long)-1` does not fit `uint32_t`. That is what HPy gives where
/// `long` is 32 bits.
#[inline]
pub unsafe fn HPyLong_AsUInt32_t(_ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: `h` is a live handle; the caller holds the GIL.
    let v = unsafe { py::PyLong_AsUnsignedLong(h2py(h)) };
    if let Ok(v) = u32::try_from(v) {
        return v;
    }
    // SAFETY: the GIL is held; static message, live exception type.
    unsafe {
        if v != c_ulong::MAX || py::PyErr_Occurred().is_null() {
            py::PyErr_SetString(py::PyExc_OverflowError, c"Python int too large to convert to C uint32_t".as_ptr());
        }
    }
    u32::MAX
}

/// C `HPyLong_AsUInt32_tMask`: `PyLong_AsUnsignedLongMask`, truncated to 32 bits (modular, as
/// the `Mask` functions are).
#[inline]
pub unsafe fn HPyLong_AsUInt32_tMask(_ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: `h` is a live handle; the caller holds the GIL.
    unsafe { py::PyLong_AsUnsignedLongMask(h2py(h)) as u32 }
}

/// C `HPyFloat_FromDouble`: `PyFloat_FromDouble`.
#[inline]
pub unsafe fn HPyFloat_FromDouble(_ctx: *mut HPyContext, v: f64) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyFloat_FromDouble(v)) }
}

/// C `HPyBool_FromBool`: `PyBool_FromLong` (a new reference to `True` or `False`).
#[inline]
pub unsafe fn HPyBool_FromBool(_ctx: *mut HPyContext, v: bool) -> HPy {
    // SAFETY: plain value; the caller holds the GIL.
    unsafe { py2h(py::PyBool_FromLong(c_long::from(v))) }
}

// ---- calls ----

/// C `HPy_CallTupleDict`: HPy's `ctx_CallTupleDict`: `args` must be a tuple or `HPy_NULL`, `kw` a
/// dict or `HPy_NULL` (TypeError otherwise); `PyObject_CallObject` without `kw`, else
/// `PyObject_Call` (with an empty tuple for a NULL `args`).
#[inline]
pub unsafe fn HPy_CallTupleDict(_ctx: *mut HPyContext, callable: HPy, args: HPy, kw: HPy) -> HPy {
    let (f, a, k) = (h2py(callable), h2py(args), h2py(kw));
    // SAFETY: live handles (or NULL for `args`/`kw`, checked before use); the GIL is held.
    unsafe {
        if !a.is_null() && py::PyTuple_Check(a) == 0 {
            return type_error(c"HPy_CallTupleDict requires args to be a tuple or null handle");
        }
        if !k.is_null() && py::PyDict_Check(k) == 0 {
            return type_error(c"HPy_CallTupleDict requires kw to be a dict or null handle");
        }
        if !a.is_null() {
            // `PyObject_Call` takes NULL for no keywords
            return py2h(py::PyObject_Call(f, a, k));
        }
        if k.is_null() {
            return py2h(py::PyObject_CallObject(f, a));
        }
        let empty = py::PyTuple_New(0);
        if empty.is_null() {
            return HPy_NULL;
        }
        let res = py::PyObject_Call(f, empty, k);
        py::Py_DECREF(empty);
        py2h(res)
    }
}

/// Raise TypeError with `msg`; `HPy_NULL`.
unsafe fn type_error(msg: &core::ffi::CStr) -> HPy {
    // SAFETY: static message, live exception type; the caller holds the GIL.
    unsafe { py::PyErr_SetString(py::PyExc_TypeError, msg.as_ptr()) };
    HPy_NULL
}

/// C `HPy_Call`: `PyObject_Vectorcall`. An array of handles is an array of `PyObject*`
/// (`HPy` is `repr(C)` around one pointer-sized integer), the keyword names follow the
/// positional arguments, and `kwnames` is a tuple or `HPy_NULL` (NULL).
#[inline]
pub unsafe fn HPy_Call(_ctx: *mut HPyContext, callable: HPy, args: *const HPy, nargs: usize, kwnames: HPy) -> HPy {
    // SAFETY: `args` holds `nargs` + len(kwnames) live handles, with the layout of `PyObject*`.
    unsafe { py2h(py::PyObject_Vectorcall(h2py(callable), args.cast(), nargs, h2py(kwnames))) }
}

/// C `HPy_CallMethod`: `PyObject_VectorcallMethod`; `args[0]` is the receiver, so `nargs >= 1`.
#[inline]
pub unsafe fn HPy_CallMethod(_ctx: *mut HPyContext, name: HPy, args: *const HPy, nargs: usize, kwnames: HPy) -> HPy {
    // SAFETY: as for `HPy_Call`; the caller passes the receiver in `args[0]`.
    unsafe { py2h(py::PyObject_VectorcallMethod(h2py(name), args.cast(), nargs, h2py(kwnames))) }
}

// ---- errors ----

/// C `HPy_FatalError`: `Py_FatalError` (does not return).
#[inline]
pub unsafe fn HPy_FatalError(_ctx: *mut HPyContext, message: *const c_char) -> ! {
    // SAFETY: `message` is NUL-terminated.
    unsafe { py::Py_FatalError(message) }
}

/// C `HPyErr_SetString`: `PyErr_SetString`; `HPy_NULL`.
#[inline]
pub unsafe fn HPyErr_SetString(_ctx: *mut HPyContext, h_type: HPy, utf8_message: *const c_char) -> HPy {
    // SAFETY: live exception type, NUL-terminated message; the GIL is held.
    unsafe { py::PyErr_SetString(h2py(h_type), utf8_message) };
    HPy_NULL
}

/// C `HPyErr_SetObject`: `PyErr_SetObject`; `HPy_NULL`.
#[inline]
pub unsafe fn HPyErr_SetObject(_ctx: *mut HPyContext, h_type: HPy, h_value: HPy) -> HPy {
    // SAFETY: live handles; the GIL is held.
    unsafe { py::PyErr_SetObject(h2py(h_type), h2py(h_value)) };
    HPy_NULL
}

/// C `HPyErr_SetFromErrnoWithFilename`: `PyErr_SetFromErrnoWithFilename` (always NULL).
#[inline]
pub unsafe fn HPyErr_SetFromErrnoWithFilename(_ctx: *mut HPyContext, h_type: HPy, filename_fsencoded: *const c_char) -> HPy {
    // SAFETY: live exception type; `filename_fsencoded` is NUL-terminated or NULL.
    unsafe { py2h(py::PyErr_SetFromErrnoWithFilename(h2py(h_type), filename_fsencoded)) }
}

/// C `HPyErr_SetFromErrnoWithFilenameObjects`: `PyErr_SetFromErrnoWithFilenameObjects`;
/// `HPy_NULL`.
#[inline]
pub unsafe fn HPyErr_SetFromErrnoWithFilenameObjects(_ctx: *mut HPyContext, h_type: HPy, filename1: HPy, filename2: HPy) -> HPy {
    // SAFETY: live handles (the file names may be NULL); the GIL is held.
    unsafe { py::PyErr_SetFromErrnoWithFilenameObjects(h2py(h_type), h2py(filename1), h2py(filename2)) };
    HPy_NULL
}

/// C `HPyErr_Occurred`: 1 if `PyErr_Occurred()` is set, else 0.
#[inline]
pub unsafe fn HPyErr_Occurred(_ctx: *mut HPyContext) -> c_int {
    // SAFETY: the GIL is held.
    c_int::from(unsafe { !py::PyErr_Occurred().is_null() })
}

/// C `HPyErr_NoMemory`: `PyErr_NoMemory`; `HPy_NULL`.
#[inline]
pub unsafe fn HPyErr_NoMemory(_ctx: *mut HPyContext) -> HPy {
    // SAFETY: the GIL is held.
    unsafe { py::PyErr_NoMemory() };
    HPy_NULL
}

/// C `HPyErr_Clear`: `PyErr_Clear`.
#[inline]
pub unsafe fn HPyErr_Clear(_ctx: *mut HPyContext) {
    // SAFETY: the GIL is held.
    unsafe { py::PyErr_Clear() }
}

/// C `HPyErr_NewException`: `PyErr_NewException`.
#[inline]
pub unsafe fn HPyErr_NewException(_ctx: *mut HPyContext, utf8_name: *const c_char, base: HPy, dict: HPy) -> HPy {
    // SAFETY: NUL-terminated name; live handles or NULL; the GIL is held.
    unsafe { py2h(py::PyErr_NewException(utf8_name, h2py(base), h2py(dict))) }
}

/// C `HPyErr_NewExceptionWithDoc`: `PyErr_NewExceptionWithDoc`.
#[inline]
pub unsafe fn HPyErr_NewExceptionWithDoc(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
    utf8_doc: *const c_char,
    base: HPy,
    dict: HPy,
) -> HPy {
    // SAFETY: NUL-terminated strings (the doc may be NULL); live handles or NULL.
    unsafe { py2h(py::PyErr_NewExceptionWithDoc(utf8_name, utf8_doc, h2py(base), h2py(dict))) }
}

/// C `HPyErr_WarnEx`: `PyErr_WarnEx`.
#[inline]
pub unsafe fn HPyErr_WarnEx(_ctx: *mut HPyContext, category: HPy, utf8_message: *const c_char, stack_level: HPy_ssize_t) -> c_int {
    // SAFETY: live category (or NULL), NUL-terminated message; the GIL is held.
    unsafe { py::PyErr_WarnEx(h2py(category), utf8_message, stack_level) }
}

/// C `HPyErr_WriteUnraisable`: `PyErr_WriteUnraisable`.
#[inline]
pub unsafe fn HPyErr_WriteUnraisable(_ctx: *mut HPyContext, obj: HPy) {
    // SAFETY: live handle or NULL; the GIL is held.
    unsafe { py::PyErr_WriteUnraisable(h2py(obj)) }
}

/// Not in HPy 0.9: take the pending exception out of the interpreter, as its normalized
/// exception object with its traceback attached (a new handle), or `HPy_NULL` if none is
/// pending. (`PyErr_Fetch` rather than 3.12's `PyErr_GetRaisedException`: this crate does not
/// know the CPython version it is compiled for; both exist in every version it supports.)
#[inline]
#[allow(deprecated)] // PyErr_Fetch and PyErr_NormalizeException are deprecated from 3.12, not removed
pub unsafe fn hpyrs_Err_Fetch(_ctx: *mut HPyContext) -> HPy {
    let (mut ty, mut value, mut tb) = (core::ptr::null_mut(), core::ptr::null_mut(), core::ptr::null_mut());
    // SAFETY: the GIL is held; the three out-pointers receive new references (or NULL), each
    // released below except the value, which is returned.
    unsafe {
        py::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        if ty.is_null() {
            return HPy_NULL;
        }
        py::PyErr_NormalizeException(&mut ty, &mut value, &mut tb);
        if !tb.is_null() && !value.is_null() {
            py::PyException_SetTraceback(value, tb);
        }
        py::Py_XDECREF(ty);
        py::Py_XDECREF(tb);
        py2h(value)
    }
}

// ---- attributes and items ----

/// C `HPy_GetAttr_s`: `PyObject_GetAttrString`.
#[inline]
pub unsafe fn HPy_GetAttr_s(_ctx: *mut HPyContext, obj: HPy, utf8_name: *const c_char) -> HPy {
    // SAFETY: live handle, NUL-terminated name; the GIL is held.
    unsafe { py2h(py::PyObject_GetAttrString(h2py(obj), utf8_name)) }
}

/// C `HPy_HasAttr_s`: `PyObject_HasAttrString`.
#[inline]
pub unsafe fn HPy_HasAttr_s(_ctx: *mut HPyContext, obj: HPy, utf8_name: *const c_char) -> c_int {
    // SAFETY: live handle, NUL-terminated name; the GIL is held.
    unsafe { py::PyObject_HasAttrString(h2py(obj), utf8_name) }
}

/// C `HPy_SetAttr_s`: `PyObject_SetAttrString`.
#[inline]
pub unsafe fn HPy_SetAttr_s(_ctx: *mut HPyContext, obj: HPy, utf8_name: *const c_char, value: HPy) -> c_int {
    // SAFETY: live handles, NUL-terminated name; the GIL is held.
    unsafe { py::PyObject_SetAttrString(h2py(obj), utf8_name, h2py(value)) }
}

/// Call `f` with `key`, a new reference the caller just made, then release it; `err` (with the
/// exception set) if making the key failed. The `_i`/`_s` item functions build their key so.
#[inline]
unsafe fn with_key<R>(key: *mut py::PyObject, err: R, f: impl FnOnce(*mut py::PyObject) -> R) -> R {
    if key.is_null() {
        return err;
    }
    let r = f(key);
    // SAFETY: `key` is the new reference handed to us; the GIL is held.
    unsafe { py::Py_DECREF(key) };
    r
}

/// C `HPy_GetItem_i`: `PyObject_GetItem` with the key `PyLong_FromSsize_t(idx)`.
#[inline]
pub unsafe fn HPy_GetItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> HPy {
    // SAFETY: live handle; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyLong_FromSsize_t(idx), HPy_NULL, |k| py2h(py::PyObject_GetItem(h2py(obj), k))) }
}

/// C `HPy_GetItem_s`: `PyObject_GetItem` with the key `PyUnicode_FromString(utf8_key)`.
#[inline]
pub unsafe fn HPy_GetItem_s(_ctx: *mut HPyContext, obj: HPy, utf8_key: *const c_char) -> HPy {
    // SAFETY: live handle, NUL-terminated key; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyUnicode_FromString(utf8_key), HPy_NULL, |k| py2h(py::PyObject_GetItem(h2py(obj), k))) }
}

/// C `HPy_SetItem_i`: `PyObject_SetItem` with the key `PyLong_FromSsize_t(idx)`.
#[inline]
pub unsafe fn HPy_SetItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t, value: HPy) -> c_int {
    // SAFETY: live handles; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyLong_FromSsize_t(idx), -1, |k| py::PyObject_SetItem(h2py(obj), k, h2py(value))) }
}

/// C `HPy_SetItem_s`: `PyObject_SetItem` with the key `PyUnicode_FromString(utf8_key)`.
#[inline]
pub unsafe fn HPy_SetItem_s(_ctx: *mut HPyContext, obj: HPy, utf8_key: *const c_char, value: HPy) -> c_int {
    // SAFETY: live handles, NUL-terminated key; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyUnicode_FromString(utf8_key), -1, |k| py::PyObject_SetItem(h2py(obj), k, h2py(value))) }
}

/// C `HPy_DelItem_i`: `PyObject_DelItem` with the key `PyLong_FromSsize_t(idx)`.
#[inline]
pub unsafe fn HPy_DelItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> c_int {
    // SAFETY: live handle; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyLong_FromSsize_t(idx), -1, |k| py::PyObject_DelItem(h2py(obj), k)) }
}

/// C `HPy_DelItem_s`: `PyObject_DelItem` with the key `PyUnicode_FromString(utf8_key)`.
#[inline]
pub unsafe fn HPy_DelItem_s(_ctx: *mut HPyContext, obj: HPy, utf8_key: *const c_char) -> c_int {
    // SAFETY: live handle, NUL-terminated key; the key is a fresh object; the GIL is held.
    unsafe { with_key(py::PyUnicode_FromString(utf8_key), -1, |k| py::PyObject_DelItem(h2py(obj), k)) }
}

/// C `HPy_RichCompare`: `PyObject_RichCompare`.
#[inline]
pub unsafe fn HPy_RichCompare(_ctx: *mut HPyContext, v: HPy, w: HPy, op: c_int) -> HPy {
    // SAFETY: live handles; the GIL is held.
    unsafe { py2h(py::PyObject_RichCompare(h2py(v), h2py(w), op)) }
}

/// C `HPy_RichCompareBool`: `PyObject_RichCompareBool`.
#[inline]
pub unsafe fn HPy_RichCompareBool(_ctx: *mut HPyContext, v: HPy, w: HPy, op: c_int) -> c_int {
    // SAFETY: live handles; the GIL is held.
    unsafe { py::PyObject_RichCompareBool(h2py(v), h2py(w), op) }
}

// ---- bytes and str ----

/// C `HPyBytes_FromStringAndSize`: `PyBytes_FromStringAndSize`, but a NULL `bytes` raises
/// ValueError (HPy's `ctx_bytes.c`: the uninitialised buffer CPython would return cannot be
/// filled through HPy).
#[inline]
pub unsafe fn HPyBytes_FromStringAndSize(_ctx: *mut HPyContext, bytes: *const c_char, len: HPy_ssize_t) -> HPy {
    // SAFETY: `bytes` (checked non-NULL) holds `len` bytes; the GIL is held.
    unsafe {
        if bytes.is_null() {
            py::PyErr_SetString(py::PyExc_ValueError, c"NULL char * passed to HPyBytes_FromStringAndSize".as_ptr());
            return HPy_NULL;
        }
        py2h(py::PyBytes_FromStringAndSize(bytes, len))
    }
}

/// C `HPyUnicode_AsUTF8AndSize`: `PyUnicode_AsUTF8AndSize`.
#[inline]
pub unsafe fn HPyUnicode_AsUTF8AndSize(_ctx: *mut HPyContext, h: HPy, size: *mut HPy_ssize_t) -> *const c_char {
    // SAFETY: live handle; `size` is writable or NULL; the GIL is held.
    unsafe { py::PyUnicode_AsUTF8AndSize(h2py(h), size) }
}

/// C `HPyUnicode_FromWideChar`: `PyUnicode_FromWideChar`. HPy's `wchar_t` and pyo3-ffi's
/// (`libc::wchar_t`) are the platform's C `wchar_t`; the cast only names it.
#[inline]
pub unsafe fn HPyUnicode_FromWideChar(_ctx: *mut HPyContext, w: *const wchar_t, size: HPy_ssize_t) -> HPy {
    // SAFETY: `w` holds `size` wide characters (or is NUL-terminated when `size` is -1).
    unsafe { py2h(py::PyUnicode_FromWideChar(w.cast(), size)) }
}

/// C `HPyUnicode_DecodeFSDefaultAndSize`: `PyUnicode_DecodeFSDefaultAndSize`.
#[inline]
pub unsafe fn HPyUnicode_DecodeFSDefaultAndSize(_ctx: *mut HPyContext, v: *const c_char, size: HPy_ssize_t) -> HPy {
    // SAFETY: `v` holds `size` bytes; the GIL is held.
    unsafe { py2h(py::PyUnicode_DecodeFSDefaultAndSize(v, size)) }
}

/// C `HPyUnicode_ReadChar`: `PyUnicode_ReadChar`.
#[inline]
pub unsafe fn HPyUnicode_ReadChar(_ctx: *mut HPyContext, h: HPy, index: HPy_ssize_t) -> HPy_UCS4 {
    // SAFETY: live handle; the GIL is held.
    unsafe { py::PyUnicode_ReadChar(h2py(h), index) }
}

/// C `HPyUnicode_DecodeASCII`: `PyUnicode_DecodeASCII`.
#[inline]
pub unsafe fn HPyUnicode_DecodeASCII(_ctx: *mut HPyContext, ascii: *const c_char, size: HPy_ssize_t, errors: *const c_char) -> HPy {
    // SAFETY: `ascii` holds `size` bytes; `errors` is NUL-terminated or NULL.
    unsafe { py2h(py::PyUnicode_DecodeASCII(ascii, size, errors)) }
}

/// C `HPyUnicode_DecodeLatin1`: `PyUnicode_DecodeLatin1`.
#[inline]
pub unsafe fn HPyUnicode_DecodeLatin1(_ctx: *mut HPyContext, latin1: *const c_char, size: HPy_ssize_t, errors: *const c_char) -> HPy {
    // SAFETY: `latin1` holds `size` bytes; `errors` is NUL-terminated or NULL.
    unsafe { py2h(py::PyUnicode_DecodeLatin1(latin1, size, errors)) }
}

/// C `HPyUnicode_FromEncodedObject`: `PyUnicode_FromEncodedObject`.
#[inline]
pub unsafe fn HPyUnicode_FromEncodedObject(_ctx: *mut HPyContext, obj: HPy, encoding: *const c_char, errors: *const c_char) -> HPy {
    // SAFETY: live handle; the strings are NUL-terminated or NULL; the GIL is held.
    unsafe { py2h(py::PyUnicode_FromEncodedObject(h2py(obj), encoding, errors)) }
}

/// C `HPyUnicode_Substring`: `PyUnicode_Substring`.
#[inline]
pub unsafe fn HPyUnicode_Substring(_ctx: *mut HPyContext, str: HPy, start: HPy_ssize_t, end: HPy_ssize_t) -> HPy {
    // SAFETY: live handle; the GIL is held.
    unsafe { py2h(py::PyUnicode_Substring(h2py(str), start, end)) }
}

// ---- containers ----

/// C `HPyList_New`: `PyList_New`.
#[inline]
pub unsafe fn HPyList_New(_ctx: *mut HPyContext, len: HPy_ssize_t) -> HPy {
    // SAFETY: plain value; the GIL is held.
    unsafe { py2h(py::PyList_New(len)) }
}

/// C `HPyDict_New`: `PyDict_New`.
#[inline]
pub unsafe fn HPyDict_New(_ctx: *mut HPyContext) -> HPy {
    // SAFETY: the GIL is held.
    unsafe { py2h(py::PyDict_New()) }
}

/// C `HPyTuple_FromArray`: a new tuple of `n` new references to `items`.
#[inline]
pub unsafe fn HPyTuple_FromArray(_ctx: *mut HPyContext, items: *mut HPy, n: HPy_ssize_t) -> HPy {
    // SAFETY: `items` holds `n` live handles; each slot of the fresh tuple is filled once with
    // a new reference, as `PyTuple_SET_ITEM` (which steals it) requires.
    unsafe {
        let tuple = py::PyTuple_New(n);
        if tuple.is_null() {
            return HPy_NULL;
        }
        for i in 0..n {
            let item = h2py(*items.offset(i));
            py::Py_INCREF(item);
            limited::tuple_set_item(tuple, i, item);
        }
        py2h(tuple)
    }
}

/// C `HPySlice_Unpack`: `PySlice_Unpack`.
#[inline]
pub unsafe fn HPySlice_Unpack(
    _ctx: *mut HPyContext,
    slice: HPy,
    start: *mut HPy_ssize_t,
    stop: *mut HPy_ssize_t,
    step: *mut HPy_ssize_t,
) -> c_int {
    // SAFETY: live handle, writable out-pointers; the GIL is held.
    unsafe { py::PySlice_Unpack(h2py(slice), start, stop, step) }
}

// ---- builders (HPy's ctx_listbuilder.c / ctx_tuplebuilder.c) ----
//
// The builder is the list or tuple under construction. If it cannot be allocated, `New` clears
// the error and returns a 0 builder; `Set` then does nothing and `Build` raises MemoryError, so
// a caller checks only the result of `Build`. `Set` does not steal the caller's handle: it
// stores a new reference.

macro_rules! builder {
    ($ty:ident { $field:ident }, $what:literal, $new:ident, $set_item:ident,
     $new_fn:ident, $set_fn:ident, $build_fn:ident, $cancel_fn:ident) => {
        #[doc = concat!("C `", stringify!($new_fn), "`: `", stringify!($new), "(size)`; on failure a 0 builder and no exception.")]
        #[inline]
        pub unsafe fn $new_fn(_ctx: *mut HPyContext, size: HPy_ssize_t) -> $ty {
            // SAFETY: the GIL is held.
            let obj = unsafe { py::$new(size) };
            if obj.is_null() {
                // SAFETY: the GIL is held. The error is raised again (as MemoryError) by `Build`.
                unsafe { py::PyErr_Clear() };
            }
            $ty { $field: obj as isize }
        }

        #[doc = concat!("C `", stringify!($set_fn), "`: store a new reference to `h_item` at `index` (nothing for a 0 builder).")]
        #[inline]
        pub unsafe fn $set_fn(_ctx: *mut HPyContext, builder: $ty, index: HPy_ssize_t, h_item: HPy) {
            let obj = builder.$field as *mut py::PyObject;
            if !obj.is_null() {
                let item = h2py(h_item);
                // SAFETY: `obj` is the builder's fresh object; `index` is in range and not yet
                // set, as HPy requires; the setter steals the new reference.
                unsafe {
                    py::Py_INCREF(item);
                    limited::$set_item(obj, index, item);
                }
            }
        }

        #[doc = concat!("C `", stringify!($build_fn), "`: the ", $what, " (the builder's reference), or MemoryError for a 0 builder.")]
        #[inline]
        pub unsafe fn $build_fn(_ctx: *mut HPyContext, builder: $ty) -> HPy {
            if builder.$field == 0 {
                // SAFETY: the GIL is held.
                unsafe { py::PyErr_NoMemory() };
                return HPy_NULL;
            }
            HPy { _i: builder.$field }
        }

        #[doc = concat!("C `", stringify!($cancel_fn), "`: release the ", $what, " (nothing for a 0 builder).")]
        #[inline]
        pub unsafe fn $cancel_fn(_ctx: *mut HPyContext, builder: $ty) {
            // SAFETY: the builder owns its object (or is 0); the GIL is held.
            unsafe { py::Py_XDECREF(builder.$field as *mut py::PyObject) }
        }
    };
}

builder!(HPyListBuilder { _lst }, "list", PyList_New, list_set_item,
    HPyListBuilder_New, HPyListBuilder_Set, HPyListBuilder_Build, HPyListBuilder_Cancel);
builder!(HPyTupleBuilder { _tup }, "tuple", PyTuple_New, tuple_set_item,
    HPyTupleBuilder_New, HPyTupleBuilder_Set, HPyTupleBuilder_Build, HPyTupleBuilder_Cancel);

// ---- tracker (HPy's ctx_tracker.c) ----
//
// A tracker is a boxed `Vec<HPy>` (`HPyTracker { _i }` is the `Box` pointer). As in HPy, the
// vector always has room for one more handle, so `Add` stores its handle before it grows: if
// growing fails, the handle is still tracked and `Close` releases it.

/// The vector behind a live tracker.
///
/// # Safety
/// `ht` comes from [`HPyTracker_New`] and is not closed; no other reference to it is live.
#[inline]
unsafe fn tracked<'a>(ht: HPyTracker) -> &'a mut Vec<HPy> {
    // SAFETY: per the contract, `_i` is the pointer `Box::into_raw` returned.
    unsafe { &mut *(ht._i as *mut Vec<HPy>) }
}

/// C `HPyTracker_New`: room for `size` handles (HPy's default of 5 for 0), plus the spare
/// slot. A size that cannot be allocated raises MemoryError and gives a 0 tracker.
#[inline]
pub unsafe fn HPyTracker_New(_ctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let size = if size == 0 { 5 } else { size };
    let mut handles: Vec<HPy> = Vec::new();
    match usize::try_from(size).ok().and_then(|n| n.checked_add(1)) {
        Some(n) if handles.try_reserve_exact(n).is_ok() => HPyTracker { _i: Box::into_raw(Box::new(handles)) as isize },
        _ => {
            // SAFETY: the GIL is held.
            unsafe { py::PyErr_NoMemory() };
            HPyTracker { _i: 0 }
        }
    }
}

/// C `HPyTracker_Add`: track `h` (0), or -1 with MemoryError if the room for the next handle
/// cannot be allocated (`h` is tracked all the same).
#[inline]
pub unsafe fn HPyTracker_Add(_ctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> c_int {
    // SAFETY: `ht` is a live tracker.
    let handles = unsafe { tracked(ht) };
    handles.push(h); // never reallocates: there is always a spare slot
    if handles.len() == handles.capacity() && handles.try_reserve(handles.len()).is_err() {
        // SAFETY: the GIL is held.
        unsafe { py::PyErr_NoMemory() };
        return -1;
    }
    0
}

/// C `HPyTracker_ForgetAll`: untrack every handle without closing it.
#[inline]
pub unsafe fn HPyTracker_ForgetAll(_ctx: *mut HPyContext, ht: HPyTracker) {
    // SAFETY: `ht` is a live tracker.
    unsafe { tracked(ht) }.clear();
}

/// C `HPyTracker_Close`: close every tracked handle and free the tracker (nothing for a 0
/// tracker).
#[inline]
pub unsafe fn HPyTracker_Close(_ctx: *mut HPyContext, ht: HPyTracker) {
    if ht._i == 0 {
        return;
    }
    // SAFETY: `ht` is a live tracker, closed once: its box is taken back here. The tracked
    // handles are owned by the tracker; the GIL is held.
    unsafe {
        let handles = Box::from_raw(ht._i as *mut Vec<HPy>);
        for h in handles.iter() {
            py::Py_XDECREF(h2py(*h));
        }
    }
}

// ---- threads ----

/// C `HPy_LeavePythonExecution`: `PyEval_SaveThread`; the state is the `PyThreadState*`.
#[inline]
pub unsafe fn HPy_LeavePythonExecution(_ctx: *mut HPyContext) -> HPyThreadState {
    // SAFETY: the GIL is held (and released here).
    HPyThreadState { _i: unsafe { py::PyEval_SaveThread() } as isize }
}

/// C `HPy_ReenterPythonExecution`: `PyEval_RestoreThread`.
#[inline]
pub unsafe fn HPy_ReenterPythonExecution(_ctx: *mut HPyContext, state: HPyThreadState) {
    // SAFETY: `state` comes from `HPy_LeavePythonExecution` on this thread.
    unsafe { py::PyEval_RestoreThread(state._i as *mut py::PyThreadState) }
}

// ---- debugging ----

/// C `_HPy_Dump`: HPy calls CPython's private `_PyObject_Dump`, which pyo3-ffi does not declare;
/// this prints the same facts (address, reference count, type name, repr) to stderr. The
/// pending exception, if any, is kept.
pub unsafe fn _HPy_Dump(_ctx: *mut HPyContext, h: HPy) {
    let o = h2py(h);
    if o.is_null() {
        eprintln!("<object at NULL>");
        return;
    }
    // SAFETY: live handle; the GIL is held. The pending exception is fetched first and
    // restored last, so the repr call neither sees nor loses it. `PyErr_Fetch` is deprecated
    // from 3.12 but exists in every supported version.
    #[allow(deprecated)]
    unsafe {
        let (mut t, mut v, mut tb) = (core::ptr::null_mut(), core::ptr::null_mut(), core::ptr::null_mut());
        py::PyErr_Fetch(&mut t, &mut v, &mut tb);
        let ty = py::Py_TYPE(o);
        let name = limited::type_display_name(ty);
        eprintln!("object address  : {o:p}");
        eprintln!("object refcount : {}", py::Py_REFCNT(o));
        eprintln!("object type     : {ty:p}");
        eprintln!("object type name: {name}");
        let repr = py::PyObject_Repr(o);
        let mut len: py::Py_ssize_t = 0;
        let utf8 = if repr.is_null() { core::ptr::null() } else { py::PyUnicode_AsUTF8AndSize(repr, &mut len) };
        if utf8.is_null() {
            eprintln!("object repr     : <repr failed>");
            py::PyErr_Clear();
        } else {
            let bytes = core::slice::from_raw_parts(utf8.cast::<u8>(), len as usize);
            eprintln!("object repr     : {}", String::from_utf8_lossy(bytes));
        }
        py::Py_XDECREF(repr);
        py::PyErr_Restore(t, v, tb);
    }
}

// ---- capsules (HPy's ctx_capsule.c) ----

/// A destructor's C trampoline as the C API's `PyCapsule_Destructor`. HPy requires both of its
/// functions when a destructor is given: `Err` with ValueError set otherwise.
unsafe fn capsule_destructor(d: *mut HPyCapsule_Destructor) -> Result<Option<py::PyCapsule_Destructor>, ()> {
    if d.is_null() {
        return Ok(None);
    }
    // SAFETY: `d` points to a live (static) destructor blueprint.
    let d = unsafe { &*d };
    match (d.cpy_trampoline, d.r#impl) {
        (Some(f), Some(_)) => {
            // SAFETY: the same C function type; `cpy_PyObject` is the opaque name of `PyObject`.
            Ok(Some(unsafe { core::mem::transmute::<unsafe extern "C" fn(*mut cpy_PyObject), py::PyCapsule_Destructor>(f) }))
        }
        _ => {
            // SAFETY: static message, live exception type; the GIL is held.
            unsafe { py::PyErr_SetString(py::PyExc_ValueError, c"Invalid HPyCapsule destructor".as_ptr()) };
            Err(())
        }
    }
}

/// Raise SystemError for a key that is none of `_HPyCapsule_key` (HPy asserts instead).
unsafe fn bad_capsule_key() {
    // SAFETY: static message, live exception type; the GIL is held.
    unsafe { py::PyErr_SetString(py::PyExc_SystemError, c"invalid _HPyCapsule_key".as_ptr()) };
}

/// C `HPyCapsule_New`: `PyCapsule_New` with the destructor's C trampoline (`cpy_trampoline`,
/// which calls its `impl`), as the CPython ABI does.
#[inline]
pub unsafe fn HPyCapsule_New(
    _ctx: *mut HPyContext,
    pointer: *mut c_void,
    utf8_name: *const c_char,
    destructor: *mut HPyCapsule_Destructor,
) -> HPy {
    // SAFETY: `destructor` is NULL or a live blueprint; `utf8_name` outlives the capsule.
    unsafe {
        match capsule_destructor(destructor) {
            Ok(d) => py2h(py::PyCapsule_New(pointer, utf8_name, d)),
            Err(()) => HPy_NULL,
        }
    }
}

/// C `ctx_Capsule_Get` (behind `HPyCapsule_GetPointer`/`GetName`/`GetContext`): the
/// `PyCapsule_Get*` function of `key`; the destructor cannot be read (ValueError).
#[inline]
pub unsafe fn HPyCapsule_Get(_ctx: *mut HPyContext, capsule: HPy, key: _HPyCapsule_key, utf8_name: *const c_char) -> *mut c_void {
    let c = h2py(capsule);
    // SAFETY: live handle; `utf8_name` is NUL-terminated or NULL; the GIL is held.
    unsafe {
        match key {
            HPyCapsule_key_Pointer => py::PyCapsule_GetPointer(c, utf8_name),
            HPyCapsule_key_Name => py::PyCapsule_GetName(c) as *mut c_void,
            HPyCapsule_key_Context => py::PyCapsule_GetContext(c),
            HPyCapsule_key_Destructor => {
                py::PyErr_SetString(py::PyExc_ValueError, c"Invalid operation: get HPyCapsule_key_Destructor".as_ptr());
                core::ptr::null_mut()
            }
            _ => {
                bad_capsule_key();
                core::ptr::null_mut()
            }
        }
    }
}

/// C `ctx_Capsule_Set` (behind `HPyCapsule_SetPointer`/`SetName`/`SetContext`/`SetDestructor`):
/// the `PyCapsule_Set*` function of `key`; a destructor is installed as its C trampoline.
#[inline]
pub unsafe fn HPyCapsule_Set(_ctx: *mut HPyContext, capsule: HPy, key: _HPyCapsule_key, value: *mut c_void) -> c_int {
    let c = h2py(capsule);
    // SAFETY: live handle; `value` is what `key` asks for (a name that outlives the capsule, a
    // destructor blueprint or NULL, ...); the GIL is held.
    unsafe {
        match key {
            HPyCapsule_key_Pointer => py::PyCapsule_SetPointer(c, value),
            HPyCapsule_key_Name => py::PyCapsule_SetName(c, value as *const c_char),
            HPyCapsule_key_Context => py::PyCapsule_SetContext(c, value),
            HPyCapsule_key_Destructor => match capsule_destructor(value.cast()) {
                Ok(d) => py::PyCapsule_SetDestructor(c, d),
                Err(()) => -1,
            },
            _ => {
                bad_capsule_key();
                -1
            }
        }
    }
}

/// C `HPyCapsule_IsValid`: `PyCapsule_IsValid`.
#[inline]
pub unsafe fn HPyCapsule_IsValid(_ctx: *mut HPyContext, capsule: HPy, utf8_name: *const c_char) -> c_int {
    // SAFETY: live handle; `utf8_name` is NUL-terminated or NULL; the GIL is held.
    unsafe { py::PyCapsule_IsValid(h2py(capsule), utf8_name) }
}

// ---- evaluation and context variables ----

/// C `HPy_Compile_s`: `Py_CompileString` with the start symbol of `kind` (HPy's `ctx_eval.c`;
/// an unknown kind raises SystemError).
#[inline]
pub unsafe fn HPy_Compile_s(_ctx: *mut HPyContext, utf8_source: *const c_char, utf8_filename: *const c_char, kind: HPy_SourceKind) -> HPy {
    let start = match kind {
        HPy_SourceKind_Expr => py::Py_eval_input,
        HPy_SourceKind_File => py::Py_file_input,
        HPy_SourceKind_Single => py::Py_single_input,
        _ => {
            // SAFETY: static message, live exception type; the GIL is held.
            unsafe { py::PyErr_SetString(py::PyExc_SystemError, c"invalid source kind".as_ptr()) };
            return HPy_NULL;
        }
    };
    // SAFETY: NUL-terminated strings; the GIL is held.
    unsafe { py2h(py::Py_CompileString(utf8_source, utf8_filename, start)) }
}

// The context variable functions are not in the stable ABI: the abi3 build calls the
// `contextvars` module instead ([`limited::context_var_get`]).

/// C `HPyContextVar_New`: `PyContextVar_New`.
#[inline]
pub unsafe fn HPyContextVar_New(_ctx: *mut HPyContext, name: *const c_char, default_value: HPy) -> HPy {
    // SAFETY: NUL-terminated name; live handle or NULL; the GIL is held.
    unsafe { py2h(limited::context_var_new(name, h2py(default_value))) }
}

/// C `HPyContextVar_Get`: `PyContextVar_Get`; `*result` is the new reference it returns (NULL
/// if the variable has no value, or on error).
#[inline]
pub unsafe fn HPyContextVar_Get(_ctx: *mut HPyContext, context_var: HPy, default_value: HPy, result: *mut HPy) -> i32 {
    let mut value = core::ptr::null_mut();
    // SAFETY: live handles (the default may be NULL); `result` is writable; the GIL is held.
    unsafe {
        let ret = limited::context_var_get(h2py(context_var), h2py(default_value), &mut value);
        *result = py2h(value);
        ret
    }
}

/// C `HPyContextVar_Set`: `PyContextVar_Set`, a new handle to the token.
#[inline]
pub unsafe fn HPyContextVar_Set(_ctx: *mut HPyContext, context_var: HPy, value: HPy) -> HPy {
    // SAFETY: live handles; the GIL is held.
    unsafe { py2h(limited::context_var_set(h2py(context_var), h2py(value))) }
}
