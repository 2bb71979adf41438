//! `#[hpy::function]` registers nothing by itself: the `#[hpy::module]` around it does. One
//! outside the module would never reach Python (an `AttributeError` at run time), so it is an
//! error at the attribute.
#[hpy::module]
mod m {}

#[hpy::function]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
