//! `__len__` fills the `sq_length`/`mp_length` slots, which return a size: returning anything
//! but `usize` (or `Result<usize>`) is an error naming the expected signature.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Bag {
        items: Vec<i64>,
    }

    #[hpy::methods]
    impl Bag {
        fn __len__(&self) -> String {
            self.items.len().to_string()
        }
    }
}

fn main() {}
