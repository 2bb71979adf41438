//! `#[hpy::module]` knows only `name = "..."`: a misspelt option is an error, not a module
//! silently exported under the wrong name.
#[hpy::module(nmae = "other")]
mod m {}

fn main() {}
