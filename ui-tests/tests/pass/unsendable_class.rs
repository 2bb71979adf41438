//! A class holding a non-`Send` value (an `Rc`, a `Cell`) compiles when it is marked
//! `unsendable`: every access then checks that it happens on the thread that created the
//! object, and the value is leaked rather than dropped on another thread.
#![forbid(unsafe_code)]

#[hpy::module]
mod shared {
    use std::cell::Cell;
    use std::rc::Rc;

    #[hpy::class(unsendable)]
    struct Shared {
        value: Rc<i32>,
        hits: Cell<u32>,
    }

    #[hpy::methods]
    impl Shared {
        #[new]
        fn new(value: i32) -> Self {
            Shared { value: Rc::new(value), hits: Cell::new(0) }
        }

        fn get(&self) -> i32 {
            self.hits.set(self.hits.get() + 1);
            *self.value
        }

        fn share(&self) -> Shared {
            Shared { value: Rc::clone(&self.value), hits: Cell::new(0) }
        }

        fn __repr__(&self) -> String {
            format!("Shared({}, refs={})", self.value, Rc::strong_count(&self.value))
        }
    }
}

fn main() {}
