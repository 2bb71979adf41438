//! `bench_pyo3`: the PyO3 variant of the call-overhead benchmark. Its Python API is the same as
//! the C and HPy variants: see `smoke.py` beside this crate for every item it must provide.

// Parameters are named like their Python arguments (a, b, x) and deliberately unused.
#![allow(unused_variables)]

use std::ffi::{c_int, c_uint};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

#[pyfunction]
fn noargs() {}

#[pyfunction]
fn onearg(x: &Bound<'_, PyAny>) {}

#[pyfunction]
#[pyo3(signature = (a, b, /))]
fn varargs(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) {}

#[pyfunction]
#[pyo3(signature = (a, b))]
fn keywords(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) {}

#[pyfunction]
#[pyo3(signature = (a, b, /))]
fn add_ints(a: i64, b: i64) -> i64 {
    a + b
}

#[pyfunction]
fn call_with_tuple<'py>(
    f: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    f.call1(args)
}

#[pyfunction]
fn call_with_tuple_and_dict<'py>(
    f: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    f.call(args, Some(kwargs))
}

#[pyfunction]
fn allocate_int(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // 2048 is outside CPython's small-int cache (-5..=256): a new int object on every call.
    Ok(2048i64.into_pyobject(py)?.into_any())
}

#[pyfunction]
fn allocate_tuple(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    PyTuple::new(py, [2048i64, 2049i64])
}

/// `PyType_Spec` and its slot array hold raw pointers, so they are not `Sync` and cannot be
/// plain statics. They are immutable and CPython only reads them, so sharing them is sound.
#[repr(transparent)]
struct SyncCell<T>(T);
unsafe impl<T> Sync for SyncCell<T> {}

static MAKE_TYPE_SLOTS: SyncCell<[pyo3::ffi::PyType_Slot; 1]> = SyncCell([pyo3::ffi::PyType_Slot {
    slot: 0,
    pfunc: std::ptr::null_mut(),
}]);

static MAKE_TYPE_SPEC: SyncCell<pyo3::ffi::PyType_Spec> = SyncCell(pyo3::ffi::PyType_Spec {
    // Static: on CPython < 3.12 the new type's tp_name points into this string.
    name: c"bench_pyo3.DynamicType".as_ptr(),
    basicsize: std::mem::size_of::<pyo3::ffi::PyObject>() as c_int,
    itemsize: 0,
    flags: pyo3::ffi::Py_TPFLAGS_DEFAULT as c_uint,
    slots: &MAKE_TYPE_SLOTS.0 as *const [pyo3::ffi::PyType_Slot; 1] as *mut pyo3::ffi::PyType_Slot,
});

/// A new heap type on every call (PyO3 has no safe API for this).
#[pyfunction]
fn make_type(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: the spec is a valid, 'static, zero-terminated-slots spec; PyType_FromSpec does not
    // write to it. It returns a new reference or NULL with an exception set, which
    // from_owned_ptr_or_err turns into Ok(owned) or Err(PyErr) respectively.
    unsafe {
        let spec = &MAKE_TYPE_SPEC.0 as *const pyo3::ffi::PyType_Spec as *mut pyo3::ffi::PyType_Spec;
        Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyType_FromSpec(spec))
    }
}

/// The benchmark class: immutable, like the C ones (`frozen`: no borrow checking).
#[pyclass(frozen)]
struct Foo {
    #[pyo3(get)]
    value: i64,
}

#[pymethods]
impl Foo {
    #[new]
    fn new() -> Self {
        Foo { value: 42 }
    }

    fn noargs(&self) {}

    fn onearg(&self, x: &Bound<'_, PyAny>) {}

    #[pyo3(signature = (a, b, /))]
    fn varargs(&self, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) {}

    fn field(&self) -> i64 {
        self.value
    }

    fn __len__(&self) -> usize {
        42
    }

    fn __getitem__(&self, i: isize) -> isize {
        i
    }
}

#[pymodule]
fn bench_pyo3(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(noargs, m)?)?;
    m.add_function(wrap_pyfunction!(onearg, m)?)?;
    m.add_function(wrap_pyfunction!(varargs, m)?)?;
    m.add_function(wrap_pyfunction!(keywords, m)?)?;
    m.add_function(wrap_pyfunction!(add_ints, m)?)?;
    m.add_function(wrap_pyfunction!(call_with_tuple, m)?)?;
    m.add_function(wrap_pyfunction!(call_with_tuple_and_dict, m)?)?;
    m.add_function(wrap_pyfunction!(allocate_int, m)?)?;
    m.add_function(wrap_pyfunction!(allocate_tuple, m)?)?;
    m.add_function(wrap_pyfunction!(make_type, m)?)?;
    m.add_class::<Foo>()?;
    Ok(())
}
