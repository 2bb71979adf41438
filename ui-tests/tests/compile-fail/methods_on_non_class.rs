//! `#[hpy::methods]` goes on the impl of a `#[hpy::class]` struct of the same module: on a
//! plain struct there is no Python type to put the methods in.
#[hpy::module]
mod m {
    struct Point {
        x: f64,
        y: f64,
    }

    #[hpy::methods]
    impl Point {
        fn norm(&self) -> f64 {
            self.x.hypot(self.y)
        }
    }
}

fn main() {}
