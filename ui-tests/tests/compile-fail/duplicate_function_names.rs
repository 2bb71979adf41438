//! Two functions exported under one Python name: the second would silently replace the first
//! in the module, so it is an error at its `name`.
#[hpy::module]
mod m {
    #[hpy::function]
    fn area(r: f64) -> f64 {
        3.14 * r * r
    }

    #[hpy::function(name = "area")]
    fn square_area(side: f64) -> f64 {
        side * side
    }
}

fn main() {}
