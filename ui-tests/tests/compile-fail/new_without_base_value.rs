//! `#[new]` of a class that extends another must build the base's value too: returning `Self`
//! alone is refused (return `(Self, Base)` or an `hpy::Init`).
#[hpy::module]
mod m {
    #[hpy::class(subclass)]
    struct Base {
        name: String,
    }

    #[hpy::class(extends = Base)]
    struct Derived {
        size: f64,
    }

    #[hpy::methods]
    impl Derived {
        #[new]
        fn new(size: f64) -> Self {
            Derived { size }
        }
    }
}

fn main() {}
