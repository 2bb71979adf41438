//! Type object and tuple access, full API or stable ABI.
//!
//! With the feature `abi3`, `pyo3-ffi` declares only CPython's limited API (`Py_LIMITED_API`
//! 3.12: one binary for CPython 3.12, 3.13, 3.14, ...). What the limited API hides from the
//! native build is read here and nowhere else: the fields of a type object, the items of a
//! tuple, the unchecked setters of fresh tuples and lists, context variables and the finalizer
//! call of a deallocator. Each function has two variants with the same signature:
//!
//! * `#[cfg(not(feature = "abi3"))]`: the full C API, exactly what the native build did before
//!   this file existed: a field read or the C API macro, inlined;
//! * `#[cfg(feature = "abi3")]`: the stable ABI: `PyType_GetSlot` (which reads static types'
//!   slots too from 3.10), the checked functions behind the macros, the `contextvars` module,
//!   and, for what no function gives (a type's basic size, weak-list and vectorcall offsets,
//!   name), the value cached at `HPyType_FromSpec` time in the type's `TypeExtra`
//!   (`TypeCache`), or the type attribute for types made elsewhere (a slow path).
//!
//! The rest of `native/` calls only these functions.
#![allow(clippy::missing_safety_doc)]

use core::ffi::{c_char, c_int, CStr};

use super::py;
use crate::HPy;
#[cfg(feature = "abi3")]
use super::{py2h, types::registered};
#[cfg(feature = "abi3")]
use crate::HPy_NULL;
#[cfg(feature = "abi3")]
use core::{cell::UnsafeCell, ptr::null_mut};

// ---- what HPyType_FromSpec remembers of a type ----

/// What the stable ABI cannot read from a type that `HPyType_FromSpec` made, read once when the
/// type is made and kept in its `TypeExtra`. Empty in the full API build, which reads the type.
#[derive(Clone, Copy)]
pub(crate) struct TypeCache {
    /// `tp_basicsize`.
    #[cfg(feature = "abi3")]
    basicsize: py::Py_ssize_t,
    /// `tp_weaklistoffset` (`__weakrefoffset__`).
    #[cfg(feature = "abi3")]
    weaklistoffset: py::Py_ssize_t,
    /// `tp_vectorcall_offset`: the hidden field `HPy_tp_call` added (0 without one).
    #[cfg(feature = "abi3")]
    vectorcall_offset: py::Py_ssize_t,
    /// The `__name__` part of the spec's name (the static `HPyType_Spec` owns it).
    #[cfg(feature = "abi3")]
    name: *const c_char,
}

impl TypeCache {
    /// Nothing to remember: the full API reads the type itself.
    #[cfg(not(feature = "abi3"))]
    #[inline(always)]
    pub(crate) unsafe fn new(_tp: *mut py::PyTypeObject, _spec_name: *const c_char, _vectorcall_offset: usize) -> Option<Self> {
        Some(TypeCache {})
    }

    /// Read the type `tp` just made from the spec named `spec_name`; `None` with an exception
    /// set if its attributes cannot be read.
    ///
    /// # Safety
    /// `tp` is a live type; `spec_name` is NUL-terminated and static; the GIL is held.
    #[cfg(feature = "abi3")]
    pub(crate) unsafe fn new(tp: *mut py::PyTypeObject, spec_name: *const c_char, vectorcall_offset: usize) -> Option<Self> {
        // SAFETY: per the contract.
        unsafe {
            let full = CStr::from_ptr(spec_name).to_bytes();
            let name = match full.iter().rposition(|&c| c == b'.') {
                Some(i) => spec_name.add(i + 1),
                None => spec_name,
            };
            Some(TypeCache {
                basicsize: type_attr_ssize(tp, c"__basicsize__")?,
                weaklistoffset: type_attr_ssize(tp, c"__weakrefoffset__")?,
                vectorcall_offset: vectorcall_offset as py::Py_ssize_t,
                name,
            })
        }
    }
}

/// The integer attribute `name` of the type `tp` (`__basicsize__`, ...); `None` with the
/// exception set on failure.
#[cfg(feature = "abi3")]
unsafe fn type_attr_ssize(tp: *mut py::PyTypeObject, name: &CStr) -> Option<py::Py_ssize_t> {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe {
        let v = py::PyObject_GetAttrString(tp.cast(), name.as_ptr());
        if v.is_null() {
            return None;
        }
        let n = py::PyLong_AsSsize_t(v);
        py::Py_DECREF(v);
        if n == -1 && !py::PyErr_Occurred().is_null() {
            None
        } else {
            Some(n)
        }
    }
}

/// The cache of `tp` or of its nearest base that `HPyType_FromSpec` made and for which `pick`
/// holds.
#[cfg(feature = "abi3")]
unsafe fn nearest_cache(mut tp: *mut py::PyTypeObject, pick: impl Fn(&super::types::TypeExtra) -> bool) -> Option<TypeCache> {
    while !tp.is_null() {
        // SAFETY: the caller's live type and its bases; the GIL is held.
        unsafe {
            if let Some(extra) = registered(tp) {
                if pick(extra) {
                    return Some(extra.cache);
                }
            }
            tp = type_base(tp);
        }
    }
    None
}

// ---- type objects ----

/// `tp_base` (borrowed; NULL for `object`).
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_base(tp: *mut py::PyTypeObject) -> *mut py::PyTypeObject {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_base }
}

/// `tp_base` (borrowed; NULL for `object`).
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_base(tp: *mut py::PyTypeObject) -> *mut py::PyTypeObject {
    // SAFETY: `tp` is a live type; `Py_tp_base` is readable for static types from 3.10.
    unsafe { py::PyType_GetSlot(tp, py::Py_tp_base).cast() }
}

/// `tp_methods`: the method table the type was made with (NULL for most types not made from a
/// spec with methods).
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_methods(tp: *mut py::PyTypeObject) -> *const py::PyMethodDef {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_methods }
}

/// `tp_methods`.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_methods(tp: *mut py::PyTypeObject) -> *const py::PyMethodDef {
    // SAFETY: the slot holds the type's method table or NULL.
    unsafe { py::PyType_GetSlot(tp, py::Py_tp_methods).cast() }
}

/// `tp_new`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_new(tp: *mut py::PyTypeObject) -> Option<py::newfunc> {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_new }
}

/// `tp_new`.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_new(tp: *mut py::PyTypeObject) -> Option<py::newfunc> {
    // SAFETY: the slot holds a `newfunc` or NULL (`Option` of a function pointer).
    unsafe { core::mem::transmute::<*mut core::ffi::c_void, Option<py::newfunc>>(py::PyType_GetSlot(tp, py::Py_tp_new)) }
}

/// `tp_alloc`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_alloc(tp: *mut py::PyTypeObject) -> Option<py::allocfunc> {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_alloc }
}

/// `tp_alloc`.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_alloc(tp: *mut py::PyTypeObject) -> Option<py::allocfunc> {
    // SAFETY: the slot holds an `allocfunc` or NULL.
    unsafe { core::mem::transmute::<*mut core::ffi::c_void, Option<py::allocfunc>>(py::PyType_GetSlot(tp, py::Py_tp_alloc)) }
}

/// `tp_free`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_free(tp: *mut py::PyTypeObject) -> Option<py::freefunc> {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_free }
}

/// `tp_free`.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_free(tp: *mut py::PyTypeObject) -> Option<py::freefunc> {
    // SAFETY: the slot holds a `freefunc` or NULL.
    unsafe { core::mem::transmute::<*mut core::ffi::c_void, Option<py::freefunc>>(py::PyType_GetSlot(tp, py::Py_tp_free)) }
}

/// `tp_finalize`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_finalize(tp: *mut py::PyTypeObject) -> Option<py::destructor> {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_finalize }
}

/// `tp_finalize`.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_finalize(tp: *mut py::PyTypeObject) -> Option<py::destructor> {
    // SAFETY: the slot holds a `destructor` or NULL.
    unsafe { core::mem::transmute::<*mut core::ffi::c_void, Option<py::destructor>>(py::PyType_GetSlot(tp, py::Py_tp_finalize)) }
}

/// `tp_basicsize`; `None` (with an exception set) only if the stable ABI build cannot read it.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_basicsize(tp: *mut py::PyTypeObject) -> Option<usize> {
    // SAFETY: `tp` is a live type.
    Some(unsafe { (*tp).tp_basicsize } as usize)
}

/// `tp_basicsize`: cached for a type `HPyType_FromSpec` made, else `__basicsize__` (slow: a
/// Python subclass); `None` with the exception set if that cannot be read.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_basicsize(tp: *mut py::PyTypeObject) -> Option<usize> {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe {
        match registered(tp) {
            Some(extra) => Some(extra.cache.basicsize as usize),
            None => type_attr_ssize(tp, c"__basicsize__").map(|n| n as usize),
        }
    }
}

/// `tp_weaklistoffset`, as the deallocator of a type `HPyType_FromSpec` made needs it: is there
/// a weak-reference list for it to clear?
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_weaklistoffset(tp: *mut py::PyTypeObject) -> py::Py_ssize_t {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_weaklistoffset }
}

/// `tp_weaklistoffset` of the nearest type `HPyType_FromSpec` made (cached), without calling
/// into Python in a deallocator. For a Python subclass that is the offset its instance still
/// needs cleared: CPython's `subtype_dealloc` clears the list itself when the subclass added it
/// (`type->tp_weaklistoffset && !base->tp_weaklistoffset`) and leaves it to the base's
/// deallocator (this one) only when the base has it, i.e. at the base's offset.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_weaklistoffset(tp: *mut py::PyTypeObject) -> py::Py_ssize_t {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe { nearest_cache(tp, |_| true).map_or(0, |c| c.weaklistoffset) }
}

/// `tp_vectorcall_offset` of a type with `Py_TPFLAGS_HAVE_VECTORCALL` (0 if it has none).
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn type_vectorcall_offset(tp: *mut py::PyTypeObject) -> py::Py_ssize_t {
    // SAFETY: `tp` is a live type.
    unsafe { (*tp).tp_vectorcall_offset }
}

/// `tp_vectorcall_offset`: that of the nearest type `HPyType_FromSpec` made with `HPy_tp_call`
/// (a subclass inherits the offset with the layout); 0 if there is none.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn type_vectorcall_offset(tp: *mut py::PyTypeObject) -> py::Py_ssize_t {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe { nearest_cache(tp, |e| e.vectorcall_default.is_some()).map_or(0, |c| c.vectorcall_offset) }
}

/// `tp_basicsize + tp_itemsize` of a static built-in type: the size of its instance with one
/// item, which a type of that built-in shape extends.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn builtin_instance_size(tp: *mut py::PyTypeObject) -> usize {
    // SAFETY: reading two fields of a static built-in type object.
    unsafe { ((*tp).tp_basicsize + (*tp).tp_itemsize) as usize }
}

/// `__basicsize__ + __itemsize__` of a static built-in type (their layouts differ between
/// CPython versions), read once per type and process.
#[cfg(feature = "abi3")]
pub unsafe fn builtin_instance_size(tp: *mut py::PyTypeObject) -> usize {
    /// (type, size) of the built-in types read so far: static types live as long as the process.
    static SIZES: GilCell<Vec<(usize, usize)>> = GilCell(UnsafeCell::new(Vec::new()));
    // SAFETY: the GIL is held by every caller, which serialises access to SIZES; `tp` is a
    // static built-in type.
    unsafe {
        let sizes = &mut *SIZES.0.get();
        if let Some(&(_, size)) = sizes.iter().find(|&&(t, _)| t == tp as usize) {
            return size;
        }
        let saved = py::PyErr_GetRaisedException();
        let size = match (type_attr_ssize(tp, c"__basicsize__"), type_attr_ssize(tp, c"__itemsize__")) {
            (Some(b), Some(i)) => (b + i) as usize,
            _ => py::Py_FatalError(c"hpy-rs abi3 build: cannot read the size of a built-in type".as_ptr()),
        };
        py::PyErr_SetRaisedException(saved);
        sizes.push((tp as usize, size));
        size
    }
}

/// C `HPyType_GetName`: the type's `__name__` as UTF-8 owned by the type.
#[cfg(not(feature = "abi3"))]
#[inline]
pub unsafe fn type_name(tp: *mut py::PyTypeObject) -> *const c_char {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe {
        if (*tp).tp_flags & py::Py_TPFLAGS_HEAPTYPE != 0 {
            py::PyUnicode_AsUTF8((*tp.cast::<py::PyHeapTypeObject>()).ht_name)
        } else {
            // A static type's tp_name is "module.Name": its __name__ is the part after the dot.
            let full = CStr::from_ptr((*tp).tp_name).to_bytes();
            match full.iter().rposition(|&c| c == b'.') {
                Some(i) => (*tp).tp_name.add(i + 1),
                None => (*tp).tp_name,
            }
        }
    }
}

/// C `HPyType_GetName`: for a type `HPyType_FromSpec` made, the name it was given (static);
/// for another heap type, its `__name__` str, which the type owns; for a static type, whose
/// `__name__` is a new str each time, the first one, kept for the life of the process (a
/// static type lives as long). NULL with an exception set on failure.
#[cfg(feature = "abi3")]
pub unsafe fn type_name(tp: *mut py::PyTypeObject) -> *const c_char {
    /// (type, `__name__`) of the static types asked so far; the strs are never released.
    static STATIC_NAMES: GilCell<Vec<(usize, usize)>> = GilCell(UnsafeCell::new(Vec::new()));
    // SAFETY: `tp` is a live type; the GIL is held, which serialises access to STATIC_NAMES.
    unsafe {
        if let Some(extra) = registered(tp) {
            return extra.cache.name;
        }
        let heap = py::PyType_GetFlags(tp) & py::Py_TPFLAGS_HEAPTYPE != 0;
        let names = &mut *STATIC_NAMES.0.get();
        let name = match names.iter().find(|&&(t, _)| t == tp as usize) {
            Some(&(_, s)) if !heap => s as *mut py::PyObject,
            _ => {
                let s = py::PyType_GetName(tp);
                if s.is_null() {
                    return core::ptr::null();
                }
                if heap {
                    // The type holds `ht_name`, the same str: ours may go.
                    py::Py_DECREF(s);
                } else {
                    names.push((tp as usize, s as usize));
                }
                s
            }
        };
        py::PyUnicode_AsUTF8AndSize(name, null_mut())
    }
}

/// The type's name for debugging output (`_HPy_Dump`): `tp_name`.
#[cfg(not(feature = "abi3"))]
pub unsafe fn type_display_name(tp: *mut py::PyTypeObject) -> String {
    // SAFETY: `tp` is a live type.
    unsafe { CStr::from_ptr((*tp).tp_name).to_string_lossy().into_owned() }
}

/// The type's name for debugging output (`_HPy_Dump`): its `__qualname__`. Any exception is
/// cleared: the caller saved its own.
#[cfg(feature = "abi3")]
pub unsafe fn type_display_name(tp: *mut py::PyTypeObject) -> String {
    // SAFETY: `tp` is a live type; the GIL is held.
    unsafe {
        let s = py::PyType_GetQualName(tp);
        let mut len: py::Py_ssize_t = 0;
        let utf8 = if s.is_null() { core::ptr::null() } else { py::PyUnicode_AsUTF8AndSize(s, &mut len) };
        let name = if utf8.is_null() {
            py::PyErr_Clear();
            String::from("<unknown>")
        } else {
            String::from_utf8_lossy(core::slice::from_raw_parts(utf8.cast::<u8>(), len as usize)).into_owned()
        };
        py::Py_XDECREF(s);
        name
    }
}

// ---- deallocation ----

/// `PyObject_CallFinalizerFromDealloc`: call `obj`'s `tp_finalize` from its deallocator; -1 if
/// the finalizer resurrected it (the deallocator must stop), else 0.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn call_finalizer_from_dealloc(obj: *mut py::PyObject) -> c_int {
    // SAFETY: per the contract of the C function (a dying object, the GIL held).
    unsafe { py::PyObject_CallFinalizerFromDealloc(obj) }
}

/// `PyObject_CallFinalizerFromDealloc` on the stable ABI, which lacks it: what CPython's does
/// (3.12 to 3.14, default build), with the limited API's pieces. The object, at reference count
/// 0, is resurrected to 1 for the call (`Py_SET_REFCNT`, as the 3.12 limited API's inline
/// function writes it), then given back its count minus one: 0 is the normal way out, more means
/// that the finalizer resurrected it, and the original decref is undone (-1).
///
/// Its limit: CPython marks a GC object as finalized (`_PyGC_SET_FINALIZED`) so that its
/// finalizer runs once in its life (PEP 442). The stable ABI can read that mark
/// (`PyObject_GC_IsFinalized`, so a finalizer that already ran, in a GC collection or from a
/// Python subclass's `subtype_dealloc`, is not run again) but not set it: if a GC object's
/// finalizer, run from here, resurrects it, the finalizer runs again when the object dies again
/// (from its next deallocation or a collection), where the full API build would not. For a
/// non-GC object CPython keeps no mark either, so nothing differs. Besides, CPython 3.12 tells
/// `tracemalloc` about a resurrection (`_Py_NewReferenceNoTotal`); this does not.
#[cfg(feature = "abi3")]
pub unsafe fn call_finalizer_from_dealloc(obj: *mut py::PyObject) -> c_int {
    // SAFETY: a dying object (reference count 0, not immortal, default build: `ob_refcnt` is
    // the whole count) and the GIL held, as for the C function.
    unsafe {
        let tp = py::Py_TYPE(obj);
        let Some(finalize) = type_finalize(tp) else { return 0 };
        if py::PyType_IS_GC(tp) != 0 && py::PyObject_GC_IsFinalized(obj) != 0 {
            return 0;
        }
        (*obj).ob_refcnt.ob_refcnt = 1;
        finalize(obj);
        let refcnt = py::Py_REFCNT(obj) - 1;
        (*obj).ob_refcnt.ob_refcnt = refcnt;
        if refcnt == 0 {
            0
        } else {
            -1
        }
    }
}

// ---- tuples, lists, bytes ----

/// Call `f` with the items of the tuple `t` as HPy's `const HPy *args, HPy_ssize_t nargs`
/// (borrowed handles, valid during the call): the tuple's own item array.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn with_tuple_items<R>(t: *mut py::PyObject, f: impl FnOnce(*const HPy, py::Py_ssize_t) -> R) -> R {
    let t = t.cast::<py::PyTupleObject>();
    // SAFETY: `t` is a tuple; its items lie inline, each a `PyObject*` (= a handle).
    let (items, n) = unsafe { ((*t).ob_item.as_ptr().cast::<HPy>(), py::PyTuple_GET_SIZE(t.cast())) };
    f(items, n)
}

/// Call `f` with the items of the tuple `t` as HPy's `const HPy *args, HPy_ssize_t nargs`
/// (borrowed handles, valid during the call). The limited API has no pointer to a tuple's
/// items: they are copied (`PyTuple_GetItem`, borrowed) into an array on the stack, or into a
/// vector beyond [`STACK_ITEMS`] items.
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn with_tuple_items<R>(t: *mut py::PyObject, f: impl FnOnce(*const HPy, py::Py_ssize_t) -> R) -> R {
    // SAFETY: `t` is a tuple, alive (and unchanged, tuples are immutable) during the call, so
    // its borrowed items are too.
    unsafe {
        let n = py::PyTuple_Size(t).max(0);
        let item = |i: usize| py2h(py::PyTuple_GetItem(t, i as py::Py_ssize_t));
        if n as usize <= STACK_ITEMS {
            let mut items = [HPy_NULL; STACK_ITEMS];
            for (i, slot) in items.iter_mut().enumerate().take(n as usize) {
                *slot = item(i);
            }
            f(items.as_ptr(), n)
        } else {
            let items: Vec<HPy> = (0..n as usize).map(item).collect();
            f(items.as_ptr(), n)
        }
    }
}

/// How many items of a `tp_new`/`tp_init` argument tuple the stable ABI build copies on the stack.
#[cfg(feature = "abi3")]
pub const STACK_ITEMS: usize = 8;

/// `PyTuple_SET_ITEM`: fill slot `i` of a fresh tuple, stealing `o`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn tuple_set_item(t: *mut py::PyObject, i: py::Py_ssize_t, o: *mut py::PyObject) {
    // SAFETY: a fresh tuple, `i` in range and not yet set.
    unsafe { py::PyTuple_SET_ITEM(t, i, o) }
}

/// `PyTuple_SetItem`: fill slot `i` of a fresh tuple, stealing `o` (as the macro does; it
/// cannot fail for a fresh tuple and an index in range).
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn tuple_set_item(t: *mut py::PyObject, i: py::Py_ssize_t, o: *mut py::PyObject) {
    // SAFETY: a fresh tuple (reference count 1), `i` in range.
    unsafe { py::PyTuple_SetItem(t, i, o) };
}

/// `PyList_SET_ITEM`: fill slot `i` of a fresh list, stealing `o`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn list_set_item(l: *mut py::PyObject, i: py::Py_ssize_t, o: *mut py::PyObject) {
    // SAFETY: a fresh list, `i` in range and not yet set.
    unsafe { py::PyList_SET_ITEM(l, i, o) }
}

/// `PyList_SetItem`: fill slot `i` of a fresh list, stealing `o` (its empty slot holds NULL,
/// which the function's release of the old item skips).
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn list_set_item(l: *mut py::PyObject, i: py::Py_ssize_t, o: *mut py::PyObject) {
    // SAFETY: a fresh list, `i` in range.
    unsafe { py::PyList_SetItem(l, i, o) };
}

/// `PyBytes_AS_STRING`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn bytes_as_string(o: *mut py::PyObject) -> *const c_char {
    // SAFETY: `o` is a bytes object.
    unsafe { py::PyBytes_AS_STRING(o) }
}

/// `PyBytes_AsString` (checked: NULL with TypeError for another object).
#[cfg(feature = "abi3")]
#[inline]
pub unsafe fn bytes_as_string(o: *mut py::PyObject) -> *const c_char {
    // SAFETY: a live object; the GIL is held.
    unsafe { py::PyBytes_AsString(o) }
}

// ---- context variables ----

/// `PyContextVar_New`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn context_var_new(name: *const c_char, default_value: *mut py::PyObject) -> *mut py::PyObject {
    // SAFETY: NUL-terminated name, live object or NULL; the GIL is held.
    unsafe { py::PyContextVar_New(name, default_value) }
}

/// `PyContextVar_Get`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn context_var_get(var: *mut py::PyObject, default_value: *mut py::PyObject, value: *mut *mut py::PyObject) -> c_int {
    // SAFETY: live objects (the default may be NULL), writable `value`; the GIL is held.
    unsafe { py::PyContextVar_Get(var, default_value, value) }
}

/// `PyContextVar_Set`.
#[cfg(not(feature = "abi3"))]
#[inline(always)]
pub unsafe fn context_var_set(var: *mut py::PyObject, value: *mut py::PyObject) -> *mut py::PyObject {
    // SAFETY: live objects; the GIL is held.
    unsafe { py::PyContextVar_Set(var, value) }
}

/// `contextvars.ContextVar` (a static type, the same in every interpreter), imported once.
#[cfg(feature = "abi3")]
unsafe fn context_var_type() -> *mut py::PyObject {
    static TYPE: core::sync::atomic::AtomicPtr<py::PyObject> = core::sync::atomic::AtomicPtr::new(null_mut());
    let t = TYPE.load(core::sync::atomic::Ordering::Acquire);
    if !t.is_null() {
        return t;
    }
    // SAFETY: the GIL is held; the reference is kept for the life of the process.
    unsafe {
        let m = py::PyImport_ImportModule(c"contextvars".as_ptr());
        if m.is_null() {
            return null_mut();
        }
        let t = py::PyObject_GetAttrString(m, c"ContextVar".as_ptr());
        py::Py_DECREF(m);
        if !t.is_null() {
            TYPE.store(t, core::sync::atomic::Ordering::Release);
        }
        t
    }
}

/// TypeError unless `var` is a `ContextVar` (the check of `PyContextVar_Get`/`Set`).
#[cfg(feature = "abi3")]
unsafe fn check_context_var(var: *mut py::PyObject) -> bool {
    // SAFETY: live object; the GIL is held.
    unsafe {
        let t = context_var_type();
        if t.is_null() {
            return false;
        }
        if py::Py_TYPE(var).cast() != t {
            py::PyErr_SetString(py::PyExc_TypeError, c"an instance of ContextVar was expected".as_ptr());
            return false;
        }
        true
    }
}

/// `obj.<name>(*args)`: a new reference, or NULL with an exception set.
#[cfg(feature = "abi3")]
unsafe fn call_method(obj: *mut py::PyObject, name: &CStr, args: &[*mut py::PyObject]) -> *mut py::PyObject {
    // SAFETY: live objects; the GIL is held.
    unsafe {
        let m = py::PyObject_GetAttrString(obj, name.as_ptr());
        if m.is_null() {
            return null_mut();
        }
        let r = py::PyObject_Vectorcall(m, args.as_ptr(), args.len(), null_mut());
        py::Py_DECREF(m);
        r
    }
}

/// `PyContextVar_New` as `contextvars.ContextVar(name)`, or `ContextVar(name, default=...)` if
/// `default_value` is not NULL.
#[cfg(feature = "abi3")]
pub unsafe fn context_var_new(name: *const c_char, default_value: *mut py::PyObject) -> *mut py::PyObject {
    // SAFETY: NUL-terminated name, live object or NULL; the GIL is held.
    unsafe {
        let t = context_var_type();
        if t.is_null() {
            return null_mut();
        }
        let name = py::PyUnicode_FromString(name);
        if name.is_null() {
            return null_mut();
        }
        let var = if default_value.is_null() {
            py::PyObject_Vectorcall(t, &name, 1, null_mut())
        } else {
            // The keyword names: ("default",).
            let kwnames = py::PyTuple_New(1);
            let key = py::PyUnicode_FromString(c"default".as_ptr());
            let var = if kwnames.is_null() || key.is_null() {
                py::Py_XDECREF(key);
                null_mut()
            } else {
                tuple_set_item(kwnames, 0, key);
                let args = [name, default_value];
                py::PyObject_Vectorcall(t, args.as_ptr(), 1, kwnames)
            };
            py::Py_XDECREF(kwnames);
            var
        };
        py::Py_DECREF(name);
        var
    }
}

/// `PyContextVar_Get` as `var.get(default_value)`, or `var.get()` for a NULL default: the
/// variable's value in the current context, else `default_value`, else the variable's default
/// (the same order); 0 and `*value` NULL, not LookupError, if there is none of them. -1 and
/// `*value` NULL on error.
#[cfg(feature = "abi3")]
pub unsafe fn context_var_get(var: *mut py::PyObject, default_value: *mut py::PyObject, value: *mut *mut py::PyObject) -> c_int {
    // SAFETY: live objects (the default may be NULL), writable `value`; the GIL is held.
    unsafe {
        *value = null_mut();
        if !check_context_var(var) {
            return -1;
        }
        let args: &[*mut py::PyObject] = if default_value.is_null() { &[] } else { core::slice::from_ref(&default_value) };
        let v = call_method(var, c"get", args);
        if v.is_null() {
            // `ContextVar.get` runs no user code: LookupError means "no value".
            if py::PyErr_ExceptionMatches(py::PyExc_LookupError) != 0 {
                py::PyErr_Clear();
                return 0;
            }
            return -1;
        }
        *value = v;
        0
    }
}

/// `PyContextVar_Set` as `var.set(value)`: the token.
#[cfg(feature = "abi3")]
pub unsafe fn context_var_set(var: *mut py::PyObject, value: *mut py::PyObject) -> *mut py::PyObject {
    // SAFETY: live objects; the GIL is held.
    unsafe {
        if !check_context_var(var) {
            return null_mut();
        }
        call_method(var, c"set", &[value])
    }
}

/// A static used only with the GIL held.
#[cfg(feature = "abi3")]
struct GilCell<T>(UnsafeCell<T>);
// SAFETY: every access happens with the GIL held, which serialises them.
#[cfg(feature = "abi3")]
unsafe impl<T> Sync for GilCell<T> {}
