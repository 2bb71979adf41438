//! A misspelt option must be an error, not silently ignored: `#[hpy::function]` knows only
//! `name = "..."` and `signature = (...)`.
#[hpy::module]
mod m {
    #[hpy::function(nmae = "other")]
    fn f() -> i64 {
        1
    }
}

fn main() {}
