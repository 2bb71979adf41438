//! The native build: HPy's API implemented on CPython's own C API (HPy calls this the *CPython
//! ABI*). Everything here has the name and signature of its universal counterpart in
//! [`api`](../api/index.html) and [`ctx`](../ctx/index.html), so the safe layer and the macro
//! output compile unchanged against either; `lib.rs` picks one.
//!
//! What differs from the universal ABI, all of it in this folder:
//!
//! * **Handles are object pointers.** `HPy`, `HPyField` and `HPyGlobal` hold a `PyObject*`;
//!   `HPy_Dup`/`HPy_Close` are `Py_INCREF`/`Py_DECREF`, a field or global holds a strong
//!   reference ([`calls`]).
//! * **The context is a token.** [`HPyContext`] holds only the constant handles (`h_None`,
//!   `h_TypeError`, ...), filled once when the module is initialised ([`context`]); no function
//!   is called through it. Every function ignores its `ctx` argument.
//! * **No runtime.** Types are made from `HPyType_Spec` here ([`types`]), the module from
//!   `HPyModuleDef` ([`module`], exported as `PyInit_<name>` by the `hpy` crate), and a CPython
//!   trampoline calls its implementation directly ([`trampolines`]).
//!
//! The C API's declarations come from `pyo3-ffi` (re-exported as [`py`]): it knows the object
//! layouts and inline functions (`Py_INCREF`, `PyTuple_GET_ITEM`, ...) of every CPython version.
//!
//! With the feature `abi3` the same code targets CPython's stable ABI instead (limited API 3.12:
//! one binary for 3.12 and later), and `pyo3-ffi` declares only the limited API. What that hides
//! (type object fields, a tuple's item array, context variables, the finalizer call of a
//! deallocator) is read through [`limited`] alone, whose functions have a full API variant (the
//! field read or macro, inlined) and a stable ABI one.
#![allow(clippy::missing_safety_doc)]

pub use pyo3_ffi as py;

pub mod calls;
pub mod context;
pub mod limited;
pub mod module;
pub mod trampolines;
pub mod types;

pub use calls::*;
pub use context::*;
pub use module::*;
pub use trampolines::*;
pub use types::*;

use crate::HPy;

/// The object a handle stands for (borrowed, as the handle is).
#[inline(always)]
pub fn h2py(h: HPy) -> *mut py::PyObject {
    h._i as *mut py::PyObject
}

/// The handle of an object: the same pointer, and the same reference (new or borrowed).
#[inline(always)]
pub fn py2h(o: *mut py::PyObject) -> HPy {
    HPy { _i: o as isize }
}

/// An `hpy-sys` object pointer (`cpy_PyObject`, opaque) as a `pyo3-ffi` one.
#[inline(always)]
pub fn cpy2py(o: *mut crate::cpy_PyObject) -> *mut py::PyObject {
    o.cast()
}

/// A `pyo3-ffi` object pointer as an `hpy-sys` one.
#[inline(always)]
pub fn py2cpy(o: *mut py::PyObject) -> *mut crate::cpy_PyObject {
    o.cast()
}

/// The universal build's context-layout detection ([`crate::layout`] there); the native context
/// has one layout, so there is nothing to detect.
pub mod layout {
    /// Does nothing: the native context has one layout.
    ///
    /// # Safety
    /// None; `unsafe` only to match the universal signature.
    #[inline]
    pub unsafe fn detect(_ctx: *mut crate::HPyContext) {}
}
