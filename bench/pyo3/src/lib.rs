//! `bench_pyo3`: the PyO3 variant of the call-overhead benchmark. Its Python API is the same as
//! the C and HPy variants: see `smoke.py` beside this crate for every item it must provide, and
//! bench/workloads.py for the workloads (`Array`, `decode`, `encode`) and their semantics.

// Parameters are named like their Python arguments (a, b, x) and deliberately unused.
#![allow(unused_variables)]

use std::ffi::{c_int, c_uint};

use pyo3::exceptions::{PyIndexError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

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

// ---- Workloads (bench/workloads.py) ----

/// An immutable 1-D array of doubles. `sequence`: `__len__` fills sq_length (with the sq_item PyO3
/// derives from `__getitem__`, iteration uses the sequence protocol, as the spec asks).
#[pyclass(frozen, sequence)]
struct Array {
    data: Vec<f64>,
}

/// The items of the list or tuple given to `Array()`, as float() converts them.
fn to_f64s<'py>(items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>) -> PyResult<Vec<f64>> {
    let mut data = Vec::with_capacity(items.len());
    for item in items {
        data.push(item.extract()?);
    }
    Ok(data)
}

impl Array {
    /// `self op other` element-wise (`op` gets an element of self, then the element or number
    /// of other), or NotImplemented for an operand that is not an Array, a float or an int.
    ///
    /// `other` is taken untyped: for an operator's argument PyO3 also turns a failed extraction
    /// into NotImplemented, but only after building the TypeError and adding a note to it, which
    /// is most of the cost of `a + "x"`. An int's conversion error (OverflowError, as float()
    /// raises) is raised, not made NotImplemented.
    fn zip<'py>(
        &self,
        other: &Bound<'py, PyAny>,
        op: impl Fn(f64, f64) -> f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = other.py();
        let data = if let Ok(other) = other.cast::<Array>() {
            let other = &other.get().data;
            if other.len() != self.data.len() {
                return Err(PyValueError::new_err("Array lengths differ"));
            }
            let pairs = self.data.iter().zip(other);
            pairs.map(|(&x, &y)| op(x, y)).collect()
        } else {
            let y = if let Ok(float) = other.cast::<PyFloat>() {
                float.value()
            } else if let Ok(int) = other.cast::<PyInt>() {
                int.extract()?
            } else {
                return Ok(py.NotImplemented().into_bound(py));
            };
            self.data.iter().map(|&x| op(x, y)).collect()
        };
        Ok(Bound::new(py, Array { data })?.into_any())
    }
}

#[pymethods]
impl Array {
    #[new]
    fn new(seq: &Bound<'_, PyAny>) -> PyResult<Self> {
        let data = if let Ok(list) = seq.cast::<PyList>() {
            to_f64s(list.iter())?
        } else if let Ok(tuple) = seq.cast::<PyTuple>() {
            to_f64s(tuple.iter())?
        } else {
            return Err(PyTypeError::new_err(
                "Array() argument must be a list or a tuple",
            ));
        };
        Ok(Array { data })
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }

    /// A non-int index is refused by PyO3's isize extraction (TypeError), as is an int beyond
    /// isize (OverflowError, where a list raises IndexError).
    fn __getitem__(&self, i: isize) -> PyResult<f64> {
        // Negative indices count from the end (a[-1] is the last). No overflow: i < 0 <= len.
        let len = self.data.len() as isize;
        let index = if i < 0 { i + len } else { i };
        usize::try_from(index)
            .ok()
            .and_then(|index| self.data.get(index).copied())
            .ok_or_else(|| PyIndexError::new_err("Array index out of range"))
    }

    // The reflected forms compute `other op self`, hence the swapped closures.
    fn __add__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| x + y)
    }

    fn __radd__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| y + x)
    }

    fn __sub__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| x - y)
    }

    fn __rsub__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| y - x)
    }

    fn __mul__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| x * y)
    }

    fn __rmul__<'py>(&self, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.zip(other, |x, y| y * x)
    }

    fn sum(&self) -> f64 {
        // Left to right from 0.0, as specified: `Iterator::sum` for floats starts from -0.0.
        self.data.iter().fold(0.0, |total, &x| total + x)
    }
}

/// A list, tuple or dict inside this many others is refused, by `encode` and `decode`.
const MAX_DEPTH: usize = 100;

/// The unread rest of `decode`'s input.
struct Decoder<'py, 'b> {
    py: Python<'py>,
    rest: &'b [u8],
}

impl<'py, 'b> Decoder<'py, 'b> {
    fn take(&mut self, n: usize) -> PyResult<&'b [u8]> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(PyValueError::new_err("truncated")),
        }
    }

    fn take_array<const N: usize>(&mut self) -> PyResult<[u8; N]> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(PyValueError::new_err("truncated")),
        }
    }

    fn tag(&mut self) -> PyResult<u8> {
        Ok(self.take_array::<1>()?[0])
    }

    fn length(&mut self) -> PyResult<usize> {
        Ok(u32::from_le_bytes(self.take_array()?) as usize)
    }

    /// A str's bytes, after its tag. CPython checks the UTF-8 (UnicodeDecodeError, a ValueError),
    /// so the bytes are validated once, not by Rust first.
    fn string(&mut self) -> PyResult<Bound<'py, PyString>> {
        let n = self.length()?;
        PyString::from_bytes(self.py, self.take(n)?)
    }

    /// The item count of a list or dict inside `depth` others, after its tag.
    fn count(&mut self, depth: usize) -> PyResult<usize> {
        if depth >= MAX_DEPTH {
            return Err(PyValueError::new_err("nested too deeply"));
        }
        let n = self.length()?;
        // Every value takes at least a byte: a larger count is truncated input (and the loops
        // below do not preallocate from it anyway).
        if n > self.rest.len() {
            return Err(PyValueError::new_err("truncated"));
        }
        Ok(n)
    }

    /// One value inside `depth` lists or dicts.
    fn value(&mut self, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match self.tag()? {
            b'N' => py.None().into_bound(py),
            b'T' => PyBool::new(py, true).to_owned().into_any(),
            b'F' => PyBool::new(py, false).to_owned().into_any(),
            b'i' => PyInt::new(py, i64::from_le_bytes(self.take_array()?)).into_any(),
            b'd' => PyFloat::new(py, f64::from_le_bytes(self.take_array()?)).into_any(),
            b's' => self.string()?.into_any(),
            b'l' => {
                let n = self.count(depth)?;
                let list = PyList::empty(py);
                for _ in 0..n {
                    list.append(self.value(depth + 1)?)?;
                }
                list.into_any()
            }
            b'm' => {
                let n = self.count(depth)?;
                let dict = PyDict::new(py);
                for _ in 0..n {
                    // A key must be a str: checked on its tag rather than after building it.
                    if self.tag()? != b's' {
                        return Err(PyValueError::new_err("dict key not a str"));
                    }
                    let key = self.string()?;
                    dict.set_item(key, self.value(depth + 1)?)?;
                }
                dict.into_any()
            }
            _ => return Err(PyValueError::new_err("unknown tag")),
        })
    }
}

/// The one value `buf` holds (the format is in bench/workloads.py).
#[pyfunction]
fn decode<'py>(buf: &Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyAny>> {
    let mut decoder = Decoder {
        py: buf.py(),
        rest: buf.as_bytes(),
    };
    let value = decoder.value(0)?;
    if !decoder.rest.is_empty() {
        return Err(PyValueError::new_err("bytes left over"));
    }
    Ok(value)
}

/// A u32 length or count.
fn write_len(out: &mut Vec<u8>, n: usize) -> PyResult<()> {
    let n = u32::try_from(n).map_err(|_| PyOverflowError::new_err("too long for a u32 length"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &Bound<'_, PyString>) -> PyResult<()> {
    // The UTF-8 CPython caches in the str (or its ASCII data): no copy before this one.
    let s = s.to_str()?;
    out.push(b's');
    write_len(out, s.len())?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// The tag and count of a list, tuple or dict inside `depth` others.
fn write_container(out: &mut Vec<u8>, tag: u8, n: usize, depth: usize) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(PyValueError::new_err("nested too deeply"));
    }
    out.push(tag);
    write_len(out, n)
}

/// Appends `obj`, inside `depth` lists, tuples or dicts, to `out`. The checks are in the spec's
/// order: None, the bools (a bool is also an int), int, float, str, list, tuple, dict.
fn write_value(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
    if obj.is_none() {
        out.push(b'N');
    } else if let Ok(b) = obj.cast::<PyBool>() {
        // bool cannot be subclassed: this is the identity check with True and False.
        out.push(if b.is_true() { b'T' } else { b'F' });
    } else if let Ok(int) = obj.cast::<PyInt>() {
        // OverflowError outside the 64-bit range.
        let v: i64 = int.extract()?;
        out.push(b'i');
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(float) = obj.cast::<PyFloat>() {
        out.push(b'd');
        out.extend_from_slice(&float.value().to_le_bytes());
    } else if let Ok(s) = obj.cast::<PyString>() {
        write_str(out, s)?;
    } else if let Ok(list) = obj.cast::<PyList>() {
        write_container(out, b'l', list.len(), depth)?;
        for item in list.iter() {
            write_value(out, &item, depth + 1)?;
        }
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        write_container(out, b'l', tuple.len(), depth)?;
        for item in tuple.iter_borrowed() {
            write_value(out, &item, depth + 1)?;
        }
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        write_container(out, b'm', dict.len(), depth)?;
        for (key, value) in dict.iter() {
            let key = key
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("dict key not a str"))?;
            write_str(out, key)?;
            write_value(out, &value, depth + 1)?;
        }
    } else {
        return Err(PyTypeError::new_err(format!(
            "cannot encode {}",
            obj.get_type().name()?
        )));
    }
    Ok(())
}

/// The bytes of `obj`, so that `decode(encode(obj)) == obj`.
#[pyfunction]
fn encode<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    // Room for a small value; a larger one grows by doubling.
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, obj, 0)?;
    Ok(PyBytes::new(obj.py(), &out))
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
    m.add_class::<Array>()?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    Ok(())
}
