//! A `#[staticmethod]` gets no instance: one taking `self` is a contradiction, reported at
//! the receiver.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
    }

    #[hpy::methods]
    impl Point {
        #[staticmethod]
        fn norm(&self) -> f64 {
            self.x.abs()
        }
    }
}

fn main() {}
