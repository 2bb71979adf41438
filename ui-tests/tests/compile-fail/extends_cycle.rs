//! Two classes cannot extend each other.
#[hpy::module]
mod m {
    #[hpy::class(subclass, extends = B)]
    struct A;

    #[hpy::class(subclass, extends = A)]
    struct B;
}

fn main() {}
