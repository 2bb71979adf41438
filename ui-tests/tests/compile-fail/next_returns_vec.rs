//! A `__next__` return type the macro cannot see through (here a `Vec`) is refused by the type
//! check, with a message saying what `__next__` returns.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Chunks {
        items: Vec<i64>,
    }

    #[hpy::methods]
    impl Chunks {
        fn __next__(&mut self) -> Vec<i64> {
            std::mem::take(&mut self.items)
        }
    }
}

fn main() {}
