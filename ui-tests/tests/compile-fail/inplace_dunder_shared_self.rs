//! An in-place operator (`a += b`) modifies the object and returns it, so it takes
//! `&mut self`: `__iadd__(&self, ...)` cannot do what Python expects and is rejected with the
//! expected signature.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Total {
        sum: i64,
    }

    #[hpy::methods]
    impl Total {
        fn __iadd__(&self, other: i64) -> i64 {
            self.sum + other
        }
    }
}

fn main() {}
