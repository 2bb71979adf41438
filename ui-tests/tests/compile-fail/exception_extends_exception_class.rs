//! An `#[hpy::exception]` declaration cannot extend an exception class that holds a Rust value
//! (its constructor makes the value): `extends` of a declaration takes data-less exceptions.
#[hpy::module]
mod m {
    #[hpy::class(extends = ValueError)]
    pub struct ParseError {
        line: usize,
    }

    #[hpy::exception(extends = ParseError)]
    pub struct DeepError;
}

fn main() {}
