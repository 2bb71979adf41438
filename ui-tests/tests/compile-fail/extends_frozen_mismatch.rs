//! A class and its base are `frozen` alike (as Python's frozen dataclasses): a mutable class
//! cannot extend a frozen one.
#[hpy::module]
mod m {
    #[hpy::class(subclass, frozen)]
    struct Point {
        x: f64,
    }

    #[hpy::class(extends = Point)]
    struct Labelled {
        label: String,
    }
}

fn main() {}
