//! A `#[getter]` is called by attribute access with no arguments: one taking a parameter can
//! never be called, so it is an error.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
    }

    #[hpy::methods]
    impl Point {
        #[getter]
        fn scaled(&self, k: f64) -> f64 {
            self.x * k
        }
    }
}

fn main() {}
