//! `__getattribute__` replaces the normal attribute lookup, and HPy 0.9 has no generic lookup to
//! fall back on; defining it must be an error that says so and points to `__getattr__`, not a
//! method Python never calls for `obj.attr`.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Record {
        value: i64,
    }

    #[hpy::methods]
    impl Record {
        fn __getattribute__(&self, name: &str) -> i64 {
            let _ = name;
            self.value
        }
    }
}

fn main() {}
