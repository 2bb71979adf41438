//! `__richcmp__` and the individual comparisons (`__eq__`, ...) fill the same slot: defining
//! both would make one silently win, so it is an error.
#[hpy::module]
mod m {
    use hpy::CompareOp;

    #[hpy::class]
    struct Version {
        n: u32,
    }

    #[hpy::methods]
    impl Version {
        fn __eq__(&self, other: u32) -> bool {
            self.n == other
        }

        fn __richcmp__(&self, other: u32, op: CompareOp) -> bool {
            let _ = op;
            self.n < other
        }
    }
}

fn main() {}
