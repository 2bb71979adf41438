//! In a `frozen` class, protocol methods cannot take `&mut self` either (here
//! `__setitem__`): frozen objects are never borrowed mutably.
#[hpy::module]
mod m {
    #[hpy::class(frozen)]
    struct Table {
        cells: Vec<i64>,
    }

    #[hpy::methods]
    impl Table {
        fn __setitem__(&mut self, i: usize, v: i64) {
            self.cells[i] = v;
        }
    }
}

fn main() {}
