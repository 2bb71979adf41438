//! The macro generates the C entry points itself: a function declared `extern "C"` is an
//! error at the ABI.
#[hpy::module]
mod m {
    #[hpy::function]
    extern "C" fn add(a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
