//! `__iter__` takes no arguments besides `self`: Python calls `iter(obj)` with none.
#[hpy::module]
mod m {
    use hpy::Handle;

    #[hpy::class]
    struct Counter {
        n: i64,
    }

    #[hpy::methods]
    impl Counter {
        fn __iter__<'ctx>(slf: &Handle<'ctx, Self>, start: i64) -> Handle<'ctx, Self> {
            let _ = start;
            slf.clone()
        }
    }
}

fn main() {}
