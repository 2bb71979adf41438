//! `extends` of an `#[hpy::exception]` must name an exception type: a built-in one or another
//! `#[hpy::exception]`. A class (or any other type) cannot be the base of an exception class.
#[hpy::module]
mod m {
    #[hpy::class]
    pub struct Point;

    #[hpy::exception(extends = Point)]
    pub struct BadPoint;
}

fn main() {}
