//! A string default converts into the parameter's type with `From<&str>` (`String`, `&str`,
//! `Option<String>` ...): on an `i64` parameter it is a type error at the default.
#[hpy::module]
mod m {
    #[hpy::function(signature = (n = "10"))]
    fn repeat(n: i64) -> i64 {
        n
    }
}

fn main() {}
