//! A `BTreeSet<f64>` cannot be extracted: `f64` is not `Ord` (NaN), so Rust cannot keep floats
//! in a sorted set, although Python's `set` holds them. Take a `Vec<f64>` (or keep the
//! `&Handle<'_, Set>` and read it yourself).
#[hpy::module]
mod m {
    #[hpy::function]
    fn count(values: std::collections::BTreeSet<f64>) -> usize {
        values.len()
    }
}

fn main() {}
