//! Compile-fail and pass tests for the `hpy` crate's ownership rules; see `tests/ui.rs`.
