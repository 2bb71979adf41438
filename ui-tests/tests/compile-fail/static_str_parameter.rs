//! A `&str` parameter borrows the argument object's buffer for the call only: it cannot be
//! `&'static str` (which could be stashed in a static and read after the object is freed).
#[hpy::module]
mod m {
    #[hpy::function]
    fn keep(s: &'static str) -> usize {
        s.len()
    }
}

fn main() {}
