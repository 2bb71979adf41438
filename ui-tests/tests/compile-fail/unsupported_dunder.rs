//! HPy 0.9 has no `tp_iter` slot, so `__iter__` cannot be a protocol method; defining it must
//! be an error that says so and shows the workaround, not a method Python never calls for
//! `iter(obj)`.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Bag {
        items: Vec<i64>,
    }

    #[hpy::methods]
    impl Bag {
        fn __iter__(&self) -> Vec<i64> {
            self.items.clone()
        }
    }
}

fn main() {}
