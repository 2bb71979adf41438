//! `__next__` returns `Option<T>`: a plain `i64` could never say "exhausted", so the iterator
//! would never end.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Counter {
        n: i64,
    }

    #[hpy::methods]
    impl Counter {
        fn __next__(&mut self) -> i64 {
            self.n += 1;
            self.n
        }
    }
}

fn main() {}
