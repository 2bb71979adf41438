//! Safe Rust bindings for [HPy](https://hpyproject.org), the "better C API for Python".
//!
//! Write a Python extension in Rust once, build it once, and load the same `<name>.hpy0.so` on
//! every CPython that has the `hpy` runtime, on PyPy and on GraalPy, in HPy's universal, debug
//! (leak and misuse detection) or trace mode.
//!
//! ```
//! #![forbid(unsafe_code)]
//! #[hpy::module]
//! mod hello {
//!     use hpy::Result;
//!
//!     /// Add two integers.
//!     #[hpy::function]
//!     fn add(a: i64, b: i64) -> Result<i64> {
//!         a.checked_add(b).ok_or_else(|| hpy::exceptions::OverflowError::new_err("too big"))
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! The pieces:
//! * [`Context`]: the per-call token; every handle borrows it, so no handle outlives its call.
//! * [`Handle`] (owned, closed on drop) and [`Borrowed`] (arguments, constants), typed by a
//!   [kind](kinds) (`Handle<'ctx, Long>`, `Handle<'ctx, Unicode>`, ...), with checked downcasts.
//! * [`Result`] and [`Error`] everywhere; Python's exceptions as [`exceptions`]`::ValueError` etc.
//! * [`FromHPy`] / [`IntoHPy`] conversions for Rust's numbers, strings, bytes, options,
//!   vectors, tuples, maps, sets, paths and [`Complex`]; [`SliceOrIndex`] for `__getitem__`.
//! * [`Handle::iter`]: iterate any Python iterable.
//! * exceptions with arguments and causes, caught exceptions as objects ([`Error::into_value`]).
//! * [`Global`] for module-level state; [`Context::allow_threads`] to release the interpreter.
//! * the macros `#[hpy::module]`, `#[hpy::function]`, `#[hpy::class]`, `#[hpy::methods]`,
//!   `#[hpy::exception]`, `#[hpy::constant]`, `#[hpy::submodule]` that generate HPy's
//!   definitions, the exported entry points and the CPython trampolines.
//!
//! The same source also builds as an ordinary CPython extension (`PyInit_<name>`, no `hpy`
//! runtime): the feature `native` compiles it against CPython's C API for one version, `abi3` for
//! the stable ABI of CPython 3.12 and newer. Nothing in the code changes; what differs between
//! the builds is in `impl_::abi` here and in `hpy_sys::native`. The native build has no debug or
//! trace mode.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod bytearray;
pub mod class;
pub mod complex;
pub mod context;
pub mod conversion;
pub mod err;
pub mod exception_class;
pub mod exceptions;
pub mod global;
pub mod handle;
pub mod iter;
#[doc(hidden)]
pub mod impl_;
pub mod kinds;
pub mod object;
pub mod path;
pub mod set;
pub mod slice;
pub mod submodule;
pub mod types;

pub use class::{Class, ClassRef, ClassRefMut, Field, Init};
pub use context::Context;
pub use conversion::{FromHPy, FromHPyOwned, IntoHPy};
pub use complex::Complex;
pub use err::{Error, ExceptionArgs, ExceptionType, Result};
pub use exception_class::ExceptionClass;
pub use global::Global;
pub use handle::{Borrowed, Handle};
pub use iter::Iter;
pub use kinds::{
    Any, Bool, ByteArray, Bytes, Capsule, Dict, Float, FrozenSet, Kind, List, Long, Module, NoneType, Set, Slice, Tuple, Type,
    Unicode,
};
pub use object::{CallArgs, CompareOp};
pub use slice::{SliceBounds, SliceIndices, SliceOrIndex};
pub use types::{DictItems, ListBuilder, Tracker, TupleBuilder};

pub use hpy_macros::{class, constant, exception, function, init, methods, module, submodule};

/// The raw HPy 0.9.0 universal ABI, re-exported from `hpy-sys`.
pub use hpy_sys as ffi;
