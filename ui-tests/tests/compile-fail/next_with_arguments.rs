//! `__next__` takes no arguments besides `self`: Python calls `next(it)` with none.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Counter {
        n: i64,
    }

    #[hpy::methods]
    impl Counter {
        fn __next__(&mut self, step: i64) -> Option<i64> {
            self.n += step;
            Some(self.n)
        }
    }
}

fn main() {}
