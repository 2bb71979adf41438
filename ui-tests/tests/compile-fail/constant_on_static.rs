//! `#[hpy::constant]` goes on a `const`; a `static` is for a `hpy::Global` (mutable module
//! state, not an attribute).
#[hpy::module]
mod m {
    #[hpy::constant]
    static LIMIT: i64 = 3;
}

fn main() {}
