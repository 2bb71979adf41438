//! Two members of a class with the same Python name (here `area`, once by renaming, once in a
//! second `#[hpy::methods]` block) would silently replace one another in the type: an error.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Rect {
        w: f64,
        h: f64,
    }

    #[hpy::methods]
    impl Rect {
        #[hpy(name = "area")]
        fn compute_area(&self) -> f64 {
            self.w * self.h
        }
    }

    #[hpy::methods]
    impl Rect {
        fn area(&self) -> f64 {
            self.w * self.h
        }
    }
}

fn main() {}
