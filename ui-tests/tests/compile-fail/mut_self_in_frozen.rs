//! A `frozen` class is never borrowed mutably (that is what lets it be shared freely), so a
//! method taking `&mut self` is rejected at compile time instead of failing at every call.
#[hpy::module]
mod m {
    #[hpy::class(frozen)]
    struct Counter {
        n: u64,
    }

    #[hpy::methods]
    impl Counter {
        fn increment(&mut self) {
            self.n += 1;
        }
    }
}

fn main() {}
