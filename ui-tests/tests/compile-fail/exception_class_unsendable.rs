//! Raising an exception class's value from Rust moves it into an `hpy::Error`, which is `Send`:
//! an exception class cannot be `unsendable`.
#[hpy::module]
mod m {
    #[hpy::class(extends = ValueError, unsendable)]
    pub struct ParseError {
        line: std::rc::Rc<usize>,
    }
}

fn main() {}
