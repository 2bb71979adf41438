//! `#[hpy::methods]` works only inside the `#[hpy::module] mod` that defines the class: the
//! module puts the methods into the type it creates. Outside one they would never reach Python.
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

fn main() {}
