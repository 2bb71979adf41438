//! As in Python, a parameter without a default cannot follow one with a default:
//! `signature = (a = 1, b)` is rejected at `b`.
#[hpy::module]
mod m {
    #[hpy::function(signature = (a = 1, b))]
    fn sub(a: i64, b: i64) -> i64 {
        a - b
    }
}

fn main() {}
