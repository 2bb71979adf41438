//! Parameters become Python parameter names, so they must be plain identifiers, not patterns.
#[hpy::module]
mod m {
    #[hpy::function]
    fn add((a, b): (i64, i64)) -> i64 {
        a + b
    }
}

fn main() {}
