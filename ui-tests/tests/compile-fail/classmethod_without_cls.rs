//! A `#[classmethod]` receives the class as its first parameter
//! (`cls: &Handle<'_, Type>`); one without it is an error rather than a function whose first
//! Python argument silently becomes the class.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Point {
        x: f64,
    }

    #[hpy::methods]
    impl Point {
        #[classmethod]
        fn origin() -> Point {
            Point { x: 0.0 }
        }
    }
}

fn main() {}
