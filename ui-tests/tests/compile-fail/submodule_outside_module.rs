//! `#[hpy::submodule]` marks a submodule of an `#[hpy::module] mod`; a crate-level `mod` is not
//! one.
#[hpy::submodule]
mod child {}

fn main() {}
