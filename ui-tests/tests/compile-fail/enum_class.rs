//! `#[hpy::class]` makes structs Python classes; an enum is refused with what to do instead.
#[hpy::module]
mod m {
    #[hpy::class]
    enum Color {
        Red,
        Green,
    }
}

fn main() {}
