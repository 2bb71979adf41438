//! A class can extend another only if that one is marked `subclass`.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Base {
        name: String,
    }

    #[hpy::class(extends = Base)]
    struct Derived {
        size: f64,
    }
}

fn main() {}
