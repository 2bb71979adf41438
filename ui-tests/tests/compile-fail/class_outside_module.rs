//! `#[hpy::class]` works only inside an `#[hpy::module] mod`: the module creates the Python
//! type when it is imported. On its own, the attribute would make a plain struct that Python
//! never sees.
#[hpy::class]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
