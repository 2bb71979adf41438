//! An exception class (`extends = Exception`) is always subclassable in Python and no
//! `#[hpy::class]` can extend it: the `subclass` option makes no sense there.
#[hpy::module]
mod m {
    #[hpy::class(extends = Exception, subclass)]
    struct MyError {
        code: i64,
    }
}

fn main() {}
