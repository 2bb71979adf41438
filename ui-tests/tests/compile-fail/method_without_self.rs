//! A plain fn in `#[hpy::methods]` is a method and needs a receiver (`&self`, `&mut self` or
//! `slf: &Handle<'_, Self>`); one without `self` must be marked `#[staticmethod]` rather than
//! be silently turned into something Python calls with the instance as first argument.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
        y: f64,
    }

    #[hpy::methods]
    impl Point {
        fn origin() -> Point {
            Point { x: 0.0, y: 0.0 }
        }
    }
}

fn main() {}
