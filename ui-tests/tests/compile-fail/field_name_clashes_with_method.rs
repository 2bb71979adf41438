//! `#[hpy(get)] x` already defines the Python attribute `x`: a method of the same name would
//! silently shadow it (or be shadowed), so it is an error.
#[hpy::module]
mod m {
    #[hpy::class]
    struct P {
        #[hpy(get)]
        x: f64,
    }

    #[hpy::methods]
    impl P {
        fn x(&self) -> f64 {
            self.x
        }
    }
}

fn main() {}
