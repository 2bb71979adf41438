//! `__getattr__` takes the attribute's name: Python calls it as `__getattr__(self, name)`.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Record {
        value: i64,
    }

    #[hpy::methods]
    impl Record {
        fn __getattr__(&self) -> i64 {
            self.value
        }
    }
}

fn main() {}
