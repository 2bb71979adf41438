//! The module registers only the functions directly inside it: one in a nested `mod` would be
//! silently missing from Python, so it is an error.
#[hpy::module]
mod m {
    mod helpers {
        #[hpy::function]
        pub fn twice(x: i64) -> i64 {
            2 * x
        }
    }
}

fn main() {}
