//! Procedural macros for the `hpy` crate.
//!
//! **Status: skeleton.** `#[hpy::module]`, `#[hpy::function]`, `#[hpy::class]` and
//! `#[hpy::methods]` will live here, as thin wrappers over a plain, unit-tested code generator.
