//! Safe Rust bindings for [HPy](https://hpyproject.org), the "better C API for Python".
//!
//! **Status: skeleton.** This crate will hold the safe layer (`Context<'ctx>`, owned and borrowed
//! handles, typed handles, `Result`-based errors, conversions). Until then, the raw universal ABI
//! is available as [`ffi`] (the `hpy-sys` crate).

/// The raw HPy 0.9.0 universal ABI, re-exported from `hpy-sys`.
pub use hpy_sys as ffi;
