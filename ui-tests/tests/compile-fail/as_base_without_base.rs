//! `Handle::as_base` exists only for a class that extends another hpy-rs class.
#[hpy::module]
mod m {
    use hpy::{Handle, Result};

    #[hpy::class]
    struct Alone {
        n: i64,
    }

    #[hpy::methods]
    impl Alone {
        fn base_n(slf: &Handle<'_, Self>) -> Result<i64> {
            Ok(slf.as_base().borrow()?.n)
        }
    }
}

fn main() {}
