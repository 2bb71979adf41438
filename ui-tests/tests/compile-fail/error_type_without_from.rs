//! An `#[hpy::function]` may return `Result<T, E>` only when `E` converts into `hpy::Error`
//! (so it can be raised as a Python exception); `MyError` has no `From<MyError> for hpy::Error`.
#[hpy::module]
mod m {
    pub struct MyError;

    #[hpy::function]
    fn parse(text: &str) -> Result<i64, MyError> {
        text.parse().map_err(|_| MyError)
    }
}

fn main() {}
