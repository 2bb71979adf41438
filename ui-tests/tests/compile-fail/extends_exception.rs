//! HPy 0.9 has no built-in shape for exceptions: a class cannot extend `Exception` (the error
//! says why and what to raise instead).
#[hpy::module]
mod m {
    #[hpy::class(extends = Exception)]
    struct MyError {
        code: i64,
    }
}

fn main() {}
