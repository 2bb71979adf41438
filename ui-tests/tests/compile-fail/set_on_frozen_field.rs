//! `#[hpy(set)]` makes a field writable from Python, which contradicts `frozen` (instances
//! never change): rejected at the field.
#[hpy::module]
mod m {
    #[hpy::class(frozen)]
    struct Vector {
        #[hpy(get, set)]
        x: f64,
        #[hpy(get)]
        y: f64,
    }
}

fn main() {}
