//! A type has one `__new__`: a second `#[new]` constructor is an error, not a silent override.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
        y: f64,
    }

    #[hpy::methods]
    impl Point {
        #[new]
        fn new(x: f64, y: f64) -> Self {
            Point { x, y }
        }

        #[new]
        fn origin() -> Self {
            Point { x: 0.0, y: 0.0 }
        }
    }
}

fn main() {}
