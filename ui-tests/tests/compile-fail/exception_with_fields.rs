//! An `#[hpy::exception]` is a unit struct: an exception's data are its Python arguments
//! (`Name::new_err_args((a, b))`), not Rust fields, which nothing would ever read.
#[hpy::module]
mod m {
    #[hpy::exception]
    pub struct ParseError {
        line: usize,
    }
}

fn main() {}
