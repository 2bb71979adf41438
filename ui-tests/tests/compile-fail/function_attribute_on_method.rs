//! The methods of an `#[hpy::methods]` impl are exported as they are: `#[hpy::function]` on
//! one is a mistake, reported with what to do.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
    }

    #[hpy::methods]
    impl Point {
        #[hpy::function]
        fn x(&self) -> f64 {
            self.x
        }
    }
}

fn main() {}
