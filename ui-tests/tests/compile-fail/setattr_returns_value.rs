//! `__setattr__` returns nothing (or `Result<()>`): Python discards what it returns, so a value
//! there is a mistake.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Record {
        value: i64,
    }

    #[hpy::methods]
    impl Record {
        fn __setattr__(&mut self, name: &str, value: i64) -> bool {
            let _ = name;
            self.value = value;
            true
        }
    }
}

fn main() {}
