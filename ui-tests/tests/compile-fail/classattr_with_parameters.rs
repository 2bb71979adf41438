//! A `#[classattr]` is computed once, when the type is created: it takes no parameters (the
//! context at most).
#[hpy::module]
mod m {
    #[hpy::class]
    struct Circle {
        r: f64,
    }

    #[hpy::methods]
    impl Circle {
        #[classattr]
        fn unit(scale: f64) -> f64 {
            scale
        }
    }
}

fn main() {}
