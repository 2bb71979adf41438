//! A `#[new]` constructor returns the class's value (`Self`, or `Result<Self>`): returning
//! anything else is a type error at the return type.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Meters {
        value: f64,
    }

    #[hpy::methods]
    impl Meters {
        #[new]
        fn new(value: f64) -> f64 {
            value
        }
    }
}

fn main() {}
