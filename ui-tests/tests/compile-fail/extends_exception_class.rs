//! No `#[hpy::class]` can extend an exception class (one that `extends = SomeException`): its
//! instances are Python exceptions whose Rust value lives in a hidden object.
#[hpy::module]
mod m {
    #[hpy::class(extends = ValueError)]
    pub struct ParseError {
        line: usize,
    }

    #[hpy::class(extends = ParseError)]
    pub struct DeepError {
        depth: usize,
    }
}

fn main() {}
