//! The `signature` names the Rust parameters: naming one that does not exist (here `c`, the
//! function has `b`) is an error at that name, not a function that can never be called.
#[hpy::module]
mod m {
    #[hpy::function(signature = (a, c = 2))]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
