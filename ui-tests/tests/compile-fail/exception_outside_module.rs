//! `#[hpy::exception]` works only inside an `#[hpy::module] mod`, which creates the class when
//! it is imported.
#[hpy::exception]
pub struct ParseError;

fn main() {}
